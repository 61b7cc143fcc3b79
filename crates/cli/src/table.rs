//! Plain, aligned text tables for the terminal.
//!
//! Widths are counted in characters, not bytes, so names such as Łukasz, Nguyễn Văn An or
//! Александр line up with ASCII ones. (Names reach us in NFC from the server, so one accented
//! letter is one character. Double-width scripts such as Chinese would still be off; they are
//! rare in rosters and a width table would be a dependency for little gain.)

use std::borrow::Cow;

/// How a column's cells sit within its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers: padded on the left, so digits line up.
    Right,
}

/// A table: a header row and data rows, rendered with two spaces between columns.
#[derive(Debug)]
pub struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings, all left-aligned.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            align: vec![Align::Left; header.len()],
            rows: Vec::new(),
        }
    }

    /// The same table with one column aligned differently.
    pub fn align(mut self, column: usize, align: Align) -> Self {
        if let Some(a) = self.align.get_mut(column) {
            *a = align;
        }
        self
    }

    /// Adds a row; missing cells are blank and extra cells are dropped.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut row: Vec<String> = cells
            .into_iter()
            .take(self.header.len())
            .map(|c| cell_safe(c.as_ref()).into_owned())
            .collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
    }

    /// The table as lines of text, each ending in a newline, without trailing spaces.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i] - width(cell);
                match self.align[i] {
                    Align::Left => {
                        line.push_str(cell);
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Text as it is safe to print on a terminal: control characters (which could move the
/// cursor, recolour or retitle the terminal) and bidirectional overrides (which could make a
/// name display as something else) become U+FFFD; line breaks stay. The server refuses both
/// in names, but the CLI does not rely on every server — or every field — being that careful.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    neutralise(s, |c| c == '\n')
}

/// As [`terminal_safe`], but a line break would split a table row, so it goes too.
fn cell_safe(s: &str) -> Cow<'_, str> {
    neutralise(s, |_| false)
}

fn neutralise(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let bad = |c: char| {
        !keep(c)
            && (c.is_control()
                || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    };
    if s.chars().any(bad) {
        Cow::Owned(
            s.chars()
                .map(|c| if bad(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The character column at which each cell after the first starts, per line.
    fn column_starts(rendered: &str, cells_per_line: &[&[&str]]) -> Vec<Vec<usize>> {
        rendered
            .lines()
            .zip(cells_per_line)
            .map(|(line, cells)| {
                cells
                    .iter()
                    .skip(1)
                    .map(|cell| {
                        let byte = line.find(cell).expect("cell is on its line");
                        line[..byte].chars().count()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn columns_align_for_accented_and_cyrillic_names() {
        let rows: [&[&str]; 4] = [
            &["GIVEN NAME", "FAMILY NAME", "CLASSES"],
            &["Łukasz", "Wójcik", "4B"],
            &["Nguyễn Văn", "An", "4B, 5C"],
            &["Александр", "Петров", "5C"],
        ];
        let mut t = Table::new(rows[0]);
        for r in &rows[1..] {
            t.row(r.iter());
        }
        let out = t.render();
        let starts = column_starts(&out, &rows);
        assert!(starts.iter().all(|s| s == &starts[0]), "{out}");
        assert_eq!(starts[0], vec![12, 25], "{out}");
    }

    #[test]
    fn lines_have_no_trailing_spaces_and_numbers_align_right() {
        let mut t = Table::new(&["NAME", "LEARNERS", "NOTE"]).align(1, Align::Right);
        t.row(["4B", "7", ""]);
        t.row(["Year 3 Owls", "120", ""]);
        assert_eq!(
            t.render(),
            "NAME         LEARNERS  NOTE\n4B                  7\nYear 3 Owls       120\n"
        );
    }

    #[test]
    fn short_rows_are_padded_and_long_rows_cut() {
        let mut t = Table::new(&["A", "B"]);
        t.row(["1"]);
        t.row(["1", "2", "3"]);
        assert_eq!(t.render(), "A  B\n1\n1  2\n");
    }

    #[test]
    fn terminal_escapes_in_cells_are_neutralised() {
        let mut t = Table::new(&["NAME"]);
        t.row(["\u{1b}[2Jevil\u{202E}gnp"]);
        let out = t.render();
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{202E}'),
            "{out:?}"
        );
        assert!(out.contains("\u{FFFD}[2Jevil\u{FFFD}gnp"));
    }
}
