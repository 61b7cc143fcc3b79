//! Bytes to text: which encodings a roster file may come in.

use crate::error::{Refusal, Result};

/// The encodings accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encodings {
    /// UTF-8 only (a BOM allowed): OneRoster's files, as its specification says.
    Utf8,
    /// What spreadsheets save: UTF-8, UTF-16 with a BOM, or else Windows-1252 (Excel's
    /// "CSV" on Western-European Windows).
    Spreadsheet,
}

/// Decodes `bytes` of the file `name` as `accept` allows.
pub fn decode(name: &str, bytes: &[u8], accept: Encodings) -> Result<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(name, rest);
    }
    for (bom, encoding) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE),
    ] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            if accept == Encodings::Utf8 {
                return Err(not_utf8(name, "it is UTF-16"));
            }
            return encoding
                .decode_without_bom_handling_and_without_replacement(rest)
                .map(|text| text.into_owned())
                .ok_or_else(|| {
                    Refusal::file(
                        name,
                        "the file says it is UTF-16 but is not: save it again as CSV UTF-8",
                    )
                });
        }
    }
    match (std::str::from_utf8(bytes), accept) {
        (Ok(text), _) => Ok(text.to_owned()),
        (Err(_), Encodings::Utf8) => utf8(name, bytes),
        (Err(_), Encodings::Spreadsheet) => {
            if bytes.contains(&0) {
                return Err(Refusal::file(
                    name,
                    "this is not a text file: save the spreadsheet as CSV (UTF-8)",
                ));
            }
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(text.into_owned())
        }
    }
}

fn utf8(name: &str, bytes: &[u8]) -> Result<String> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() as u64 + 1;
            let start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&good[start..]).chars().count() + 1;
            Err(not_utf8(name, "a character there is in another encoding")
                .at_line(line)
                .in_column(column.to_string()))
        }
    }
}

fn not_utf8(name: &str, what: &str) -> Refusal {
    Refusal::file(
        name,
        format!("the file must be UTF-8, and {what}: export it again as UTF-8"),
    )
}
