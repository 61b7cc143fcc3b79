//! Why a sheet of cards could not be made.

/// Why a sheet of cards could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CardsError {
    /// Nothing to print.
    #[error("there are no learners to make cards for: choose a class with learners in it")]
    NoCards,
    /// A paper size this crate does not know.
    #[error("unknown paper size {0:?}: use a4 or letter")]
    UnknownPaper(String),
    /// The link for the QR code is longer than any QR code holds.
    #[error(
        "the sign-in link is too long for a QR code ({0} bytes): configure a shorter public address"
    )]
    LinkTooLong(usize),
    /// The PDF library refused the document; a bug here rather than bad input.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// A result whose error is a [`CardsError`].
pub type Result<T, E = CardsError> = std::result::Result<T, E>;
