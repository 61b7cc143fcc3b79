//! Reading roster files as information systems and spreadsheets write them, and refusing,
//! with file, line and column, what would import the wrong thing or is built to harm.

use crate::zip_of;
use classkeys_roster::{Encodings, Limits, Table, decode, unzip};

const WANTED: &[&str] = &["manifest.csv", "users.csv", "classes.csv"];

#[test]
fn the_wanted_files_come_out_of_a_zip_in_any_folder_and_case() {
    let zip = zip_of::<&[u8]>(&[
        ("export/Users.csv", b"sourcedId\nu1\n"),
        ("export/classes.csv", b"sourcedId\nc1\n"),
        ("export/readme.txt", b"ignored"),
        ("__MACOSX/export/._users.csv", b"junk"),
    ]);
    let files = unzip("roster.zip", &zip, WANTED, &Limits::default()).unwrap();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["classes.csv", "users.csv"]
    );
    assert_eq!(files["users.csv"], b"sourcedId\nu1\n");
}

#[test]
fn a_zip_entry_that_points_outside_the_zip_is_refused() {
    for name in [
        "../x",
        "export/../../users.csv",
        "/etc/users.csv",
        "C:\\users.csv",
    ] {
        let zip = zip_of(&[(name, b"sourcedId\n")]);
        let refused = unzip("roster.zip", &zip, WANTED, &Limits::default()).unwrap_err();
        assert!(
            refused.reason.contains("points outside the zip"),
            "{name}: {refused}"
        );
        assert_eq!(refused.file, "roster.zip");
    }
}

#[test]
fn a_zip_bomb_is_refused_by_what_it_inflates_to() {
    let zeros = vec![0u8; 8 << 20];
    let zip = zip_of(&[("users.csv", &zeros)]);
    assert!(zip.len() < 100_000, "deflated, it is small: {}", zip.len());
    let limits = Limits {
        entry_bytes: 1 << 20,
        ..Limits::default()
    };
    let refused = unzip("roster.zip", &zip, WANTED, &limits).unwrap_err();
    assert!(
        refused.reason.contains("inflates to more than"),
        "{refused}"
    );

    let limits = Limits {
        total_bytes: 10 << 20,
        ..Limits::default()
    };
    let two = zip_of(&[("users.csv", &zeros), ("classes.csv", &zeros)]);
    let refused = unzip("roster.zip", &two, WANTED, &limits).unwrap_err();
    assert!(refused.reason.contains("together"), "{refused}");
}

#[test]
fn a_truncated_zip_or_a_file_that_is_no_zip_is_refused() {
    let zip = zip_of(&[("users.csv", b"sourcedId\nu1\n")]);
    for broken in [&zip[..zip.len() / 2], b"sourcedId,name\n".as_slice()] {
        let refused = unzip("roster.zip", broken, WANTED, &Limits::default()).unwrap_err();
        assert!(
            refused.reason.contains("not a complete zip file"),
            "{refused}"
        );
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let limits = Limits::default();
    let refused = limits.check_size("roster.zip", 2 << 30).unwrap_err();
    assert!(
        refused
            .to_string()
            .starts_with("roster.zip: the file is 2147.5 MB"),
        "{refused}"
    );
    assert!(limits.check_size("roster.zip", 1 << 20).is_ok());
}

#[test]
fn two_files_of_one_name_in_a_zip_are_refused() {
    let zip = zip_of(&[("a/users.csv", b"x\n"), ("b/users.csv", b"y\n")]);
    let refused = unzip("roster.zip", &zip, WANTED, &Limits::default()).unwrap_err();
    assert!(
        refused.reason.contains("two files named users.csv"),
        "{refused}"
    );
}

#[test]
fn spreadsheets_encodings_are_read_and_oneroster_must_be_utf8() {
    let text = "given name;family name\nZoë;Ødegård\n";
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let bom: Vec<u8> = b"\xEF\xBB\xBF"
        .iter()
        .copied()
        .chain(text.bytes())
        .collect();
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    for bytes in [text.as_bytes(), &bom, &utf16, &cp1252] {
        assert_eq!(
            decode("class.csv", bytes, Encodings::Spreadsheet).unwrap(),
            text
        );
    }
    assert_eq!(decode("users.csv", &bom, Encodings::Utf8).unwrap(), text);

    let latin = b"sourcedId,givenName\nu1,Zo\xEB\n";
    let refused = decode("users.csv", latin, Encodings::Utf8).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "users.csv, line 2, column 6: the file must be UTF-8, and a character there is in \
         another encoding: export it again as UTF-8"
    );
    let refused = decode("users.csv", &utf16, Encodings::Utf8).unwrap_err();
    assert!(refused.reason.contains("it is UTF-16"), "{refused}");
    let binary = b"PK\x03\x04\x00\x00\xff";
    assert!(decode("class.csv", binary, Encodings::Spreadsheet).is_err());
}

#[test]
fn a_table_reads_as_exported_crlf_quoted_line_breaks_extra_columns_and_header_spellings() {
    let text = "SourcedID,given_name,Family Name,Extra\r\n\
                u1,\"Ann\r\nMarie\",Lee,x\r\n\
                \r\n\
                u2,Bo,\"O'Neil, Jr\",\r\n\
                u3,Cy,Dunn\r\n";
    let table = Table::parse("users.csv", text).unwrap();
    let id = table.require(&["sourcedId"]).unwrap();
    let given = table.require(&["givenName"]).unwrap();
    let family = table.require(&["familyName"]).unwrap();
    assert_eq!(table.other_columns(&[id, given, family]), ["Extra"]);
    let rows = table.rows();
    assert_eq!(rows.len(), 3, "the empty line is skipped");
    assert_eq!(
        (rows[0].line, rows[0].get(given)),
        (2, "Ann\r\nMarie"),
        "a quoted line break stays in its field"
    );
    assert_eq!((rows[1].line, rows[1].get(family)), (5, "O'Neil, Jr"));
    assert_eq!(
        (rows[2].line, rows[2].get(3)),
        (6, ""),
        "a short row is padded"
    );

    let semicolons = Table::parse("class.csv", "Vorname;Nachname\nJürgen;Groß\n").unwrap();
    assert_eq!(semicolons.rows()[0].get(1), "Groß");

    let refused = Table::parse("users.csv", "sourcedId,name\nu1,a,b\n").unwrap_err();
    assert_eq!(
        refused.to_string(),
        "users.csv, line 2: this row has 3 fields, but the first line names 2 columns"
    );
    let refused = Table::parse("users.csv", "sourcedId,SourcedID\n").unwrap_err();
    assert!(
        refused.reason.contains("two columns are named"),
        "{refused}"
    );
    let refused = table.require(&["email"]).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "users.csv, line 1: there is no column named email"
    );
    assert_eq!(
        table.refuse(&rows[1], family, "too long").to_string(),
        "users.csv, line 5, column Family Name: too long"
    );
}
