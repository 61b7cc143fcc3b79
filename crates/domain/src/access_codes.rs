//! Access-code rows and their spreadsheet-safe CSV form.
//!
//! Teachers open these files in Excel, LibreOffice or Google Sheets, so the file is written
//! for them: UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the local code
//! page and mangles accented names), RFC 4180 quoting with CRLF line ends, and every cell
//! that a spreadsheet would take for a formula neutralised (see [`neutralise`]). Names come
//! from the school's roster and from imports, so every column is treated as hostile, not
//! just the generated ones.

use std::borrow::Cow;
use std::io::{self, Write};

/// One learner's line in an access-code list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessCodeRow {
    /// The class's name.
    pub class: String,
    /// The learner's given name.
    pub given_name: String,
    /// The learner's family name.
    pub family_name: String,
    /// The username the learner signs in with.
    pub username: String,
    /// The password, or `None` when the learner set their own (it is then not retrievable).
    pub password: Option<String>,
    /// The code a parent uses to link to the learner.
    pub parent_code: String,
    /// The school's sign-in page.
    pub sign_in_url: String,
}

/// The header line, in column order.
pub const HEADER: [&str; 7] = [
    "Class",
    "Given name",
    "Family name",
    "Username",
    "Password",
    "Parent access code",
    "Sign-in URL",
];

/// What the password cell says when the learner set their own password.
pub const SET_BY_LEARNER: &str = "(set by the learner)";

/// The UTF-8 byte-order mark every file starts with; it tells Excel the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Makes a cell safe to open in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, tab,
/// CR or LF gets a leading apostrophe (`'`); any other cell is returned as it is, without
/// copying.
///
/// This is OWASP's advice against CSV injection: spreadsheets treat a cell starting with one
/// of these characters as a formula (`=HYPERLINK(…)` that leaks data when clicked,
/// `@SUM(…)`, `-2+3`, or DDE commands), and tab, CR and LF can hide such a start behind
/// whitespace. The apostrophe is the character spreadsheets themselves use to mean "this is
/// text", so the cell is shown as text and whoever reads it can see it was altered. Quoting
/// alone does not help: quotes are CSV syntax and are gone by the time the spreadsheet
/// looks at the cell.
///
/// A harmless value such as the family name `-Smith` gets the apostrophe too: telling it
/// apart from `-2+3` is not worth the risk of getting it wrong. Generated secrets never start
/// with these characters, so they are never altered.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n') => {
            let mut safe = String::with_capacity(cell.len() + 1);
            safe.push('\'');
            safe.push_str(cell);
            Cow::Owned(safe)
        }
        _ => Cow::Borrowed(cell),
    }
}

/// Writes access-code rows as CSV to any writer, one row at a time, so a whole school's list
/// can be streamed.
///
/// The `csv` writer buffers internally (64 KiB here), so an unbuffered `File` as `W` is
/// fine; wrapping it in a `BufWriter` would only copy every byte twice.
pub struct CsvWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    /// Starts a file: writes the byte-order mark and the header line.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(BOM)?;
        let mut csv = builder().from_writer(out);
        write_cells(&mut csv, HEADER)?;
        Ok(Self { csv })
    }

    /// Writes one row, with the password cell saying [`SET_BY_LEARNER`] when there is no
    /// retrievable password.
    pub fn write_row(&mut self, row: &AccessCodeRow) -> io::Result<()> {
        write_cells(
            &mut self.csv,
            [
                &row.class,
                &row.given_name,
                &row.family_name,
                &row.username,
                row.password.as_deref().unwrap_or(SET_BY_LEARNER),
                &row.parent_code,
                &row.sign_in_url,
            ],
        )
    }

    /// Flushes everything written and hands back the writer.
    pub fn finish(self) -> io::Result<W> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}

/// How many rows follow the header in a file written here: line breaks inside quoted names
/// are not row ends.
pub fn row_count(file: &[u8]) -> usize {
    let body = file.strip_prefix(BOM).unwrap_or(file);
    csv::ReaderBuilder::new()
        .from_reader(body)
        .records()
        .filter(Result::is_ok)
        .count()
}

/// The whole CSV file for `rows`, in memory.
pub fn to_csv<'a>(rows: impl IntoIterator<Item = &'a AccessCodeRow>) -> Vec<u8> {
    let mut writer = CsvWriter::new(Vec::new()).expect("writing to a Vec cannot fail");
    for row in rows {
        writer
            .write_row(row)
            .expect("writing a fixed-width row to a Vec cannot fail");
    }
    writer.finish().expect("flushing a Vec cannot fail")
}

/// Any other table (the school's student database) as a CSV file with the same protections:
/// byte-order mark, CRLF, RFC 4180 quoting and every cell neutralised.
///
/// Fails if a row has a different number of cells from the header.
pub fn table_to_csv<R, C>(header: &[&str], rows: impl IntoIterator<Item = R>) -> io::Result<Vec<u8>>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut out = Vec::new();
    out.extend_from_slice(BOM);
    let mut csv = builder().from_writer(out);
    write_cells(&mut csv, header)?;
    for row in rows {
        write_cells(&mut csv, row)?;
    }
    csv.into_inner().map_err(|e| e.into_error())
}

fn builder() -> csv::WriterBuilder {
    let mut builder = csv::WriterBuilder::new();
    // CRLF is what RFC 4180 prescribes and what Excel itself writes; every reader that
    // accepts LF accepts CRLF, while some older Windows tools show an LF-only file as one
    // long line.
    builder
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .buffer_capacity(64 * 1024);
    builder
}

/// Writes one record, neutralising each cell. Cells are written one by one so that a cell
/// needing no change goes straight from the caller's string into the buffer.
fn write_cells<W: Write, C: AsRef<str>>(
    csv: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = C>,
) -> io::Result<()> {
    for cell in cells {
        csv.write_field(neutralise(cell.as_ref()).as_bytes())?;
    }
    csv.write_record(None::<&[u8]>)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn row() -> AccessCodeRow {
        AccessCodeRow {
            class: "Owls 3B".into(),
            given_name: "Zoë".into(),
            family_name: "Łukasz-Öztürk".into(),
            username: "zoe.oztuerk".into(),
            password: Some("sunny-otter-42".into()),
            parent_code: "ABCD-EFGH".into(),
            sign_in_url: "https://keys.school.example/s/hill/sign-in".into(),
        }
    }

    /// Reads a file back as any CSV reader would, after checking and removing the BOM.
    fn read_back(bytes: &[u8]) -> Vec<Vec<String>> {
        let body = bytes.strip_prefix(BOM).expect("the file starts with a BOM");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body)
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    fn cells(row: &AccessCodeRow) -> Vec<String> {
        vec![
            row.class.clone(),
            row.given_name.clone(),
            row.family_name.clone(),
            row.username.clone(),
            row.password
                .clone()
                .unwrap_or_else(|| SET_BY_LEARNER.into()),
            row.parent_code.clone(),
            row.sign_in_url.clone(),
        ]
    }

    fn header() -> Vec<String> {
        HEADER.map(String::from).to_vec()
    }

    #[test]
    fn the_file_starts_with_the_bom_and_the_header_and_ends_lines_with_crlf() {
        let bytes = to_csv(&[row()]);
        let text = std::str::from_utf8(bytes.strip_prefix(BOM).unwrap()).unwrap();
        assert_eq!(
            text,
            "Class,Given name,Family name,Username,Password,Parent access code,Sign-in URL\r\n\
             Owls 3B,Zoë,Łukasz-Öztürk,zoe.oztuerk,sunny-otter-42,ABCD-EFGH,\
             https://keys.school.example/s/hill/sign-in\r\n"
        );
    }

    #[test]
    fn an_empty_list_is_just_the_header() {
        assert_eq!(read_back(&to_csv([])), [header()]);
    }

    #[test]
    fn formulas_in_any_column_come_back_as_text() {
        let mut hostile = row();
        hostile.class = "-2+3".into();
        hostile.given_name = r#"=HYPERLINK("http://x","click")"#.into();
        hostile.family_name = "@SUM(1)".into();
        hostile.username = "+1".into();
        hostile.parent_code = "\t=1".into();
        hostile.sign_in_url = "\r\n=cmd".into();
        let table = read_back(&to_csv(&[hostile]));
        assert_eq!(
            table[1],
            [
                "'-2+3",
                r#"'=HYPERLINK("http://x","click")"#,
                "'@SUM(1)",
                "'+1",
                "sunny-otter-42",
                "'\t=1",
                "'\r\n=cmd",
            ]
        );
    }

    #[test]
    fn a_password_set_by_the_learner_says_so() {
        let mut own = row();
        own.password = None;
        assert_eq!(read_back(&to_csv(&[own]))[1][4], SET_BY_LEARNER);
    }

    #[test]
    fn quotes_commas_and_line_breaks_inside_names_survive() {
        let mut odd = row();
        odd.given_name = "Anne \"Nan\", Jr.".into();
        odd.family_name = "O'Neil\r\nSmith\nLine\rthree".into();
        odd.class = String::new();
        assert_eq!(read_back(&to_csv(&[odd.clone()])), [header(), cells(&odd)]);
    }

    #[test]
    fn only_cells_that_start_with_a_formula_character_are_changed() {
        for cell in ["=1", "+1", "-1", "-Smith", "@1", "\t1", "\r1", "\n1"] {
            assert_eq!(neutralise(cell), format!("'{cell}"));
        }
        for cell in ["", "Smith-Jones", "a=1", " =1", "'=1", "#1", "ABCD-EFGH"] {
            assert!(matches!(neutralise(cell), Cow::Borrowed(c) if c == cell));
        }
    }

    #[test]
    fn a_streamed_file_is_the_same_as_one_built_in_memory() {
        let rows = [row(), row()];
        let mut writer = CsvWriter::new(Vec::new()).unwrap();
        for row in &rows {
            writer.write_row(row).unwrap();
        }
        assert_eq!(writer.finish().unwrap(), to_csv(&rows));
    }

    #[test]
    fn other_tables_get_the_same_protection_and_must_match_the_header() {
        let bytes = table_to_csv(&["Name", "Note"], [["=cmd", "fine"], ["x", "-y"]]).unwrap();
        assert_eq!(
            read_back(&bytes),
            [["Name", "Note"], ["'=cmd", "fine"], ["x", "'-y"]]
        );
        assert!(table_to_csv(&["Name", "Note"], [vec!["only one"]]).is_err());
    }

    /// Text built to hit the CSV and formula edge cases often, mixed with any Unicode.
    fn hostile_text() -> impl Strategy<Value = String> {
        let special = prop_oneof![
            Just('"'),
            Just(','),
            Just('\r'),
            Just('\n'),
            Just('\t'),
            Just('='),
            Just('+'),
            Just('-'),
            Just('@'),
            Just('\''),
            Just(' '),
            Just('\u{feff}'),
        ];
        prop::collection::vec(prop_oneof![2 => special, 3 => any::<char>()], 0..12)
            .prop_map(String::from_iter)
    }

    /// What the generator makes (words, pronounceable, PIN, look-alike-free random): `-`
    /// inside, never first.
    fn generated_password() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{3,8}-[a-z]{3,8}-[0-9]{2}",
            "[a-z]{2,4}[aeiou][a-z]{2,4}[0-9]{2}",
            "[0-9]{4,6}",
            "[A-HJ-NP-Za-km-z2-9][A-HJ-NP-Za-km-z2-9-]{7,15}",
        ]
    }

    const PARENT_CODE: &str = "[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}";
    const USERNAME: &str = "[a-z][a-z0-9._-]{0,20}";

    fn any_row() -> impl Strategy<Value = AccessCodeRow> {
        (
            hostile_text(),
            hostile_text(),
            hostile_text(),
            prop_oneof![hostile_text(), USERNAME],
            prop_oneof![
                Just(None),
                generated_password().prop_map(Some),
                hostile_text().prop_map(Some),
            ],
            prop_oneof![hostile_text(), PARENT_CODE],
            hostile_text(),
        )
            .prop_map(
                |(class, given_name, family_name, username, password, parent_code, url)| {
                    AccessCodeRow {
                        class,
                        given_name,
                        family_name,
                        username,
                        password,
                        parent_code,
                        sign_in_url: url,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_rows_round_trip_as_the_neutralised_table_with_no_cell_starting_a_formula(
            rows in prop::collection::vec(any_row(), 0..8)
        ) {
            let table = read_back(&to_csv(&rows));

            // (a) Nothing a spreadsheet would run.
            for cell in table.iter().flatten() {
                prop_assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']),
                    "{:?}", cell
                );
            }

            // (b) Exactly the neutralised table comes back: header, then each row.
            let expected: Vec<Vec<String>> = std::iter::once(header())
                .chain(rows.iter().map(|row| {
                    cells(row).iter().map(|c| neutralise(c).into_owned()).collect()
                }))
                .collect();
            prop_assert_eq!(&table, &expected);

            // (c) Cells that needed no neutralising come back byte for byte.
            for (row, back) in rows.iter().zip(&table[1..]) {
                for (cell, back) in cells(row).iter().zip(back) {
                    if matches!(neutralise(cell), Cow::Borrowed(_)) {
                        prop_assert_eq!(cell, back);
                    }
                }
            }
        }

        #[test]
        fn generated_passwords_usernames_and_parent_codes_come_back_unchanged(
            password in generated_password(),
            code in PARENT_CODE,
            username in USERNAME,
        ) {
            let row = AccessCodeRow {
                username: username.clone(),
                password: Some(password.clone()),
                parent_code: code.clone(),
                ..row()
            };
            let table = read_back(&to_csv(&[row]));
            prop_assert_eq!(&table[1][3], &username);
            prop_assert_eq!(&table[1][4], &password);
            prop_assert_eq!(&table[1][5], &code);
        }
    }

    #[test]
    fn rows_are_counted_as_a_spreadsheet_sees_them() {
        let mut names = row();
        names.given_name = "Ann\r\nMarie".into();
        let file = to_csv([&row(), &names]);
        assert_eq!(row_count(&file), 2);
        assert_eq!(row_count(&to_csv([])), 0);
    }
}
