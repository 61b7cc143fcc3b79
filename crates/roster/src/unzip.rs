//! Taking the wanted files out of a zip, within limits that hold whatever the zip claims.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use zip::ZipArchive;

use crate::error::{Refusal, Result};

/// How much a roster file may hold. The defaults take a large school's export many times
/// over; what is larger is a mistake or an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The file as given (a zip, or a CSV), in bytes.
    pub file_bytes: u64,
    /// One file inside a zip, inflated.
    pub entry_bytes: u64,
    /// All the wanted files inside a zip together, inflated.
    pub total_bytes: u64,
    /// Entries a zip may list.
    pub entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            file_bytes: 64 << 20,
            entry_bytes: 256 << 20,
            total_bytes: 512 << 20,
            entries: 200,
        }
    }
}

impl Limits {
    /// Refuses a file of `len` bytes that is over the limit, before any of it is read.
    pub fn check_size(&self, name: &str, len: u64) -> Result<()> {
        if len > self.file_bytes {
            return Err(Refusal::file(
                name,
                format!(
                    "the file is {}, more than the {} a roster file may be: export one school, \
                     or split the file",
                    megabytes(len),
                    megabytes(self.file_bytes)
                ),
            ));
        }
        Ok(())
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// The entries of the zip `name` whose file names (in any folder, any case) are among
/// `wanted`, by their wanted name. Refused: a file over the limits, one that is not a
/// zip or is cut short or damaged, an entry whose name would leave the zip's folder, an
/// entry that inflates past its limit (whatever size it claims), two entries of one name.
pub fn unzip(
    name: &str,
    bytes: &[u8],
    wanted: &[&str],
    limits: &Limits,
) -> Result<BTreeMap<String, Vec<u8>>> {
    limits.check_size(name, bytes.len() as u64)?;
    let damaged = |e: zip::result::ZipError| {
        Refusal::file(
            name,
            format!(
                "this is not a complete zip file ({e}): export it again, or check that the whole file was copied"
            ),
        )
    };
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    if archive.len() > limits.entries {
        return Err(Refusal::file(
            name,
            format!(
                "the zip lists {} files, more than the {} a roster has",
                archive.len(),
                limits.entries
            ),
        ));
    }
    let mut found = BTreeMap::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(damaged)?;
        let path = entry.name().to_owned();
        if leaves_folder(&path) {
            return Err(Refusal::file(
                name,
                format!(
                    "the zip holds an entry named {path:?}, which points outside the zip: it is refused as unsafe"
                ),
            ));
        }
        if entry.is_dir() || path.starts_with("__MACOSX/") {
            continue;
        }
        let base = path.rsplit('/').next().unwrap_or(&path);
        let Some(wanted) = wanted.iter().find(|w| w.eq_ignore_ascii_case(base)) else {
            continue;
        };
        if found.contains_key(*wanted) {
            return Err(Refusal::file(
                name,
                format!("the zip holds two files named {wanted}: keep one"),
            ));
        }
        let too_big = || {
            Refusal::file(
                name,
                format!(
                    "{wanted} inflates to more than {}: it is refused as unsafe",
                    megabytes(limits.entry_bytes)
                ),
            )
        };
        if entry.size() > limits.entry_bytes {
            return Err(too_big());
        }
        // The size a zip claims is not trusted: at most one byte past the limit is read.
        let mut content = Vec::new();
        entry
            .take(limits.entry_bytes + 1)
            .read_to_end(&mut content)
            .map_err(|e| {
                Refusal::file(
                    name,
                    format!("{wanted} in the zip is damaged ({e}): export it again"),
                )
            })?;
        if content.len() as u64 > limits.entry_bytes {
            return Err(too_big());
        }
        total += content.len() as u64;
        if total > limits.total_bytes {
            return Err(Refusal::file(
                name,
                format!(
                    "the files in the zip inflate to more than {} together: it is refused as unsafe",
                    megabytes(limits.total_bytes)
                ),
            ));
        }
        found.insert((*wanted).to_owned(), content);
    }
    Ok(found)
}

/// Whether an entry's name could write outside the folder it is unpacked into.
fn leaves_folder(path: &str) -> bool {
    let path = path.replace('\\', "/");
    path.starts_with('/')
        || path.split('/').any(|part| part == "..")
        || path.as_bytes().get(1) == Some(&b':')
}
