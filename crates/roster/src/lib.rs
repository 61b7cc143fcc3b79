//! Reading a school's roster files: a OneRoster CSV zip, or a CSV of learners saved from a
//! spreadsheet. No database, no network: bytes in, tables out, or a [`Refusal`] that names
//! the file, line and column and says what to do.
//!
//! Files come from information systems and spreadsheets, and sometimes from an attacker, so
//! everything is bounded before it is read:
//! - [`unzip`]: only the entries it is asked for, each under a size limit checked against
//!   the bytes actually inflated (not the size the zip claims), the whole under a total,
//!   names with `..`, a leading `/` or a drive letter refused, a truncated zip refused;
//! - [`decode`]: UTF-8 (with or without a BOM), UTF-16 with a BOM, and — for a
//!   spreadsheet's CSV only — Windows-1252; OneRoster files must be UTF-8, as its
//!   specification says, and a byte that is not is named by line and column;
//! - [`Table`]: comma- or semicolon-separated, quoted fields with line breaks, header names
//!   compared without case, spaces, dashes or underscores (`sourcedId`, `SourcedID`,
//!   `sourced_id` are one column), extra columns kept aside, and every row with the line it
//!   started on.
//! - [`oneroster`]: a OneRoster 1.1 or 1.2 zip into typed records (orgs, users, classes,
//!   enrolments), each with its line, checked as a whole.
//! - [`plain`]: a spreadsheet's CSV of learners, columns recognised by name or mapped by
//!   hand.
//! - [`plan`]: what importing a file would do to a school, before anything changes.
//! - [`export`]: a school written out as a OneRoster 1.2 zip, which reads back the same.

mod error;
pub mod export;
pub mod oneroster;
pub mod plain;
pub mod plan;
mod table;
mod text;
mod unzip;

pub use error::{Refusal, Result};
pub use table::{Row, Table, header_key};
pub use text::{Encodings, decode};
pub use unzip::{Limits, unzip};
