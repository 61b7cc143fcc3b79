//! `classkeys-roster` from the outside: roster files as information systems and spreadsheets
//! write them, and the ones built to harm, read or refused with file, line and column; and
//! the plans made from them.

use std::io::Write;

use classkeys_roster::plan::{Guards, Incoming, School, SchoolClass, SchoolLearner, plan};
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

/// The school as a first import of `incoming` would leave it (ids `L-<source>`,
/// `C-<source>`), so the next plans run against what an import really leaves.
pub fn school_after(incoming: &Incoming) -> classkeys_roster::plan::School {
    let first = plan(&School::default(), incoming, &Guards::default());
    assert!(first.refused.is_empty(), "{:?}", first.refused);
    School {
        classes: incoming
            .classes
            .iter()
            .map(|c| SchoolClass {
                id: format!("C-{}", c.source_id),
                source_id: Some(c.source_id.clone()),
                name: c.name.clone(),
                version: 1,
            })
            .collect(),
        learners: first
            .added
            .iter()
            .map(|a| SchoolLearner {
                id: format!("L-{}", a.source_id),
                source_id: Some(a.source_id.clone()),
                username: a.username.clone(),
                given_name: a.given_name.clone(),
                family_name: a.family_name.clone(),
                email: a.email.clone(),
                active: true,
                classes: a.classes.iter().map(|c| format!("C-{c}")).collect(),
                version: 1,
            })
            .collect(),
        staff: Vec::new(),
    }
}
