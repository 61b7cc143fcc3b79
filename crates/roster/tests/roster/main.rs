//! `classkeys-roster` from the outside: roster files as information systems and spreadsheets
//! write them, and the ones built to harm, read or refused with file, line and column; and
//! the plans made from them.

use std::io::Write;

use zip::write::SimpleFileOptions;

mod export;
mod fixtures;
mod oneroster;
mod plain;
mod plan;
mod reading;

/// A zip of `(name, content)` entries, deflated, as an export tool writes one.
pub fn zip_of<C: AsRef<[u8]>>(entries: &[(&str, C)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content.as_ref()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}
