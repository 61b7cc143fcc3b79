//! A CSV table as exported: its header, and its rows with the line each starts on.

use crate::error::{Refusal, Result};

/// A table read from one file.
#[derive(Debug, Clone)]
pub struct Table {
    file: String,
    headers: Vec<String>,
    keys: Vec<String>,
    rows: Vec<Row>,
}

/// One row, with the line of the file it starts on (1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line the row starts on (a quoted field may run over several).
    pub line: u64,
    fields: Vec<String>,
}

impl Row {
    /// The field in column `column`, trimmed; empty when the row is shorter.
    pub fn get(&self, column: usize) -> &str {
        self.fields.get(column).map_or("", |f| f.trim())
    }
}

/// A header name's comparison form: without case, spaces, dashes, dots or underscores, so
/// `sourcedId`, `SourcedID` and `sourced_id` are one column.
pub fn header_key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\u{feff}'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Table {
    /// Reads `text` (the file `file`): comma- or semicolon-separated, whichever the header
    /// line uses, with a header line naming the columns.
    pub fn parse(file: &str, text: &str) -> Result<Table> {
        let first_line = text.lines().next().unwrap_or_default();
        let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let broken = |e: csv::Error| {
            let line = e.position().map_or(0, csv::Position::line);
            Refusal::file(file, format!("this row cannot be read as CSV ({e})")).at_line(line)
        };
        let Some(header) = records.next().transpose().map_err(broken)? else {
            return Err(Refusal::file(
                file,
                "the file is empty: its first line must name the columns",
            ));
        };
        let headers: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
        let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
        for (i, key) in keys.iter().enumerate() {
            if key.is_empty() && headers.len() > 1 {
                return Err(Refusal::file(
                    file,
                    format!("column {} has no name in the first line", i + 1),
                )
                .at_line(1));
            }
            if keys[..i].contains(key) {
                return Err(Refusal::file(
                    file,
                    format!("two columns are named {}: keep one", headers[i]),
                )
                .at_line(1));
            }
        }
        let mut rows = Vec::new();
        let mut lines = LineCounter::new(text);
        for record in records {
            let record = record.map_err(broken)?;
            let line = lines.line_at(record.position().map_or(0, csv::Position::byte));
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if record.len() > headers.len()
                && record
                    .iter()
                    .skip(headers.len())
                    .any(|f| !f.trim().is_empty())
            {
                return Err(Refusal::file(
                    file,
                    format!(
                        "this row has {} fields, but the first line names {} columns",
                        record.len(),
                        headers.len()
                    ),
                )
                .at_line(line));
            }
            rows.push(Row {
                line,
                fields: record.iter().map(str::to_owned).collect(),
            });
        }
        Ok(Table {
            file: file.to_owned(),
            headers,
            keys,
            rows,
        })
    }

    /// The file the table was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The column named any of `names` (compared by [`header_key`]).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.keys.iter().position(|k| *k == header_key(n)))
    }

    /// The column named `names[0]` (or another of `names`), or a refusal saying it is
    /// missing.
    pub fn require(&self, names: &[&str]) -> Result<usize> {
        self.column(names).ok_or_else(|| {
            Refusal::file(
                &self.file,
                format!(
                    "there is no column named {}",
                    names.first().copied().unwrap_or_default()
                ),
            )
            .at_line(1)
        })
    }

    /// The header name of `column`, as written.
    pub fn header(&self, column: usize) -> &str {
        self.headers.get(column).map_or("", String::as_str)
    }

    /// The columns not among `known`, by their names as written: kept aside, not read.
    pub fn other_columns(&self, known: &[usize]) -> Vec<&str> {
        (0..self.headers.len())
            .filter(|c| !known.contains(c))
            .map(|c| self.headers[c].as_str())
            .collect()
    }

    /// The rows, in file order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// A refusal about `row`'s field in `column`.
    pub fn refuse(&self, row: &Row, column: usize, reason: impl Into<String>) -> Refusal {
        Refusal::file(&self.file, reason)
            .at_line(row.line)
            .in_column(self.header(column))
    }
}

/// Line numbers from byte offsets, counted forward as the rows come. The csv reader's own
/// line numbers drift with CRLF and empty lines, and its offsets may point into the line
/// break before a row, so the row's line is that of its first character.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.at {
            self.line += self.text[self.at..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.at = start;
        }
        self.line
    }
}
