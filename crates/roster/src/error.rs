//! The one error of roster reading: what was refused, and where.

use std::fmt;

/// A refused file, or a refused part of one: where, and why, in words for the person who
/// exported the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Refusal {
    /// The file (`users.csv`, or the name of the file given).
    pub file: String,
    /// The line the refused row starts on (1 is the header), if it is about a row.
    pub line: Option<u64>,
    /// The column, by its header name, if it is about one field.
    pub column: Option<String>,
    /// What is wrong, and what to do.
    pub reason: String,
}

impl Refusal {
    /// A refusal of `file` as a whole.
    pub fn file(file: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            reason: reason.into(),
        }
    }

    /// The same refusal, at `line`.
    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// The same refusal, in `column`.
    pub fn in_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Roster reading's result.
pub type Result<T> = std::result::Result<T, Refusal>;
