//! Writing files that hold credentials (access-code lists, login cards) so that a crash, a
//! full disk or a power cut never leaves a half-written file or destroys the previous one.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path`, replacing any file there, all or nothing.
///
/// The bytes go into a temporary file in the same directory (a rename is atomic only within
/// one file system), which is synced to disk and then renamed over `path`; on Unix the
/// directory is then synced too, so the rename itself survives a power cut. If anything
/// fails before the rename, the file already at `path` is untouched and the temporary file
/// is removed.
///
/// On Unix the file is private to its owner (mode 0600), because it holds passwords; a file
/// it replaces loses any wider permissions it had.
///
/// A missing directory is reported as [`io::ErrorKind::NotFound`] with the directory named.
/// If only the final directory sync fails, the new file is already in place, and the error
/// says so.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        // A bare file name lives in the current directory.
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    // A leading dot and a recognisable name, so a temporary file left by a killed process is
    // hidden from casual listings yet easy to identify.
    builder.prefix(".classkeys-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created private rather than narrowed later, so the content is never readable by
        // others, not even for a moment. (This is also tempfile's default; saying it here
        // keeps the guarantee from resting on a default.)
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut temp = builder.tempfile_in(dir).map_err(|e| {
        let reason = if e.kind() == io::ErrorKind::NotFound {
            "the folder does not exist".to_owned()
        } else {
            e.to_string()
        };
        io::Error::new(
            e.kind(),
            format!(
                "cannot write {}: no file can be created in the folder {} ({reason})",
                path.display(),
                dir.display()
            ),
        )
    })?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    // On error `persist` hands the temporary file back inside the error; dropping it deletes
    // the file.
    temp.persist(path).map_err(|e| {
        io::Error::new(
            e.error.kind(),
            format!("cannot replace {}: {}", path.display(), e.error),
        )
    })?;
    sync_dir(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "{} was written, but the folder {} could not be synced to disk, so the file \
                 may not survive a power cut: {e}",
                path.display(),
                dir.display()
            ),
        )
    })
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows cannot open a directory to sync it; NTFS journals the rename itself.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_a_new_file_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.csv");
        write_atomically(&path, b"Class,Username\r\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"Class,Username\r\n");
        assert_eq!(names_in(dir.path()), ["codes.csv"]);
    }

    #[test]
    fn replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.csv");
        fs::write(&path, b"old contents, longer than the new ones").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(names_in(dir.path()), ["codes.csv"]);
    }

    #[test]
    fn a_failed_replace_keeps_what_was_there_and_leaves_no_temporary_file() {
        // The target is a non-empty directory, so the final rename fails after the temporary
        // file was written: the cleanup path is exercised, whoever runs the test (a read-only
        // folder would not stop root).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.csv");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep.txt"), b"precious").unwrap();

        let err = write_atomically(&path, b"new").unwrap_err();
        assert!(err.to_string().contains("codes.csv"), "{err}");
        assert_eq!(fs::read(path.join("keep.txt")).unwrap(), b"precious");
        assert_eq!(names_in(dir.path()), ["codes.csv"]);
        assert_eq!(names_in(&path), ["keep.txt"]);
    }

    #[test]
    fn a_missing_folder_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-folder");
        let err = write_atomically(&missing.join("codes.csv"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let message = err.to_string();
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );
        assert!(message.contains("does not exist"), "{message}");
        assert_eq!(names_in(dir.path()), Vec::<String>::new());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private_to_its_owner_even_when_it_replaces_a_public_one() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.csv");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomically(&path, b"secret").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
