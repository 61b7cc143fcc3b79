//! Validation errors: what was wrong with a value, worded for the person who typed it.

/// Result of validating user input.
pub type Result<T, E = InvalidInput> = std::result::Result<T, E>;

/// A value that cannot be accepted, with the field it came from and a plain reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    /// The field as the API names it (`username`, `email`, `given_name`, …).
    pub field: &'static str,
    /// What is wrong and, where it helps, what to do instead.
    pub reason: String,
}

impl InvalidInput {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
