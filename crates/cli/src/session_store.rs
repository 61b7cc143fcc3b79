//! Where the signed-in session lives between commands.
//!
//! Two places, chosen once per run by the environment:
//!
//! - **Credential store** (the default): the token goes to the operating system's store
//!   (macOS Keychain, Windows Credential Manager, Secret Service on Linux) under service
//!   `classkeys`, account `<server>|<username>`; the non-secret part, `{server, username}`,
//!   goes to `session.json` in the user's configuration folder so later commands know which
//!   entry to open.
//! - **Token file** (`CLASSKEYS_TOKEN_FILE=PATH`): for servers, containers and CI where no
//!   credential store runs. The whole session, `{server, username, token}`, is one JSON file,
//!   created with mode 0600 from the start and replaced atomically.
//!
//! The token is held in [`Token`], which never prints itself, so neither `{:?}` in an error
//! nor a stray log line can leak it.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

/// The environment variable naming a token file, which replaces the credential store.
pub const TOKEN_FILE_ENV: &str = "CLASSKEYS_TOKEN_FILE";

const KEYRING_SERVICE: &str = "classkeys";

/// A session token. Shows as `<redacted>`; read it with [`Token::expose`] only to send it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token received from the server.
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// The token itself, for the `Authorization` header and the store. Nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A remembered session: which server, as whom, and the token that proves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The server's address, as the client normalised it.
    pub server: String,
    /// The staff username that signed in.
    pub username: String,
    /// The bearer token.
    pub token: Token,
}

impl StoredSession {
    fn keyring_account(&self) -> String {
        keyring_account(&self.server, &self.username)
    }
}

fn keyring_account(server: &str, username: &str) -> String {
    format!("{server}|{username}")
}

/// The token file's contents.
#[derive(Serialize, Deserialize)]
struct TokenFile {
    server: String,
    username: String,
    token: String,
}

/// `session.json` beside the credential store: everything but the secret.
#[derive(Serialize, Deserialize)]
struct SessionPointer {
    server: String,
    username: String,
}

/// Where sessions are kept on this computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStore {
    /// One JSON file holding the whole session, token included.
    File(PathBuf),
    /// The OS credential store for the token, plus a pointer file for the rest.
    Keyring {
        /// The `session.json` path.
        pointer: PathBuf,
    },
}

impl SessionStore {
    /// The store this run uses: the token file if `CLASSKEYS_TOKEN_FILE` is set, otherwise
    /// the credential store with `session.json` in the user's configuration folder.
    pub fn from_env() -> Result<Self> {
        if let Some(path) = std::env::var_os(TOKEN_FILE_ENV).filter(|p| !p.is_empty()) {
            return Ok(Self::File(PathBuf::from(path)));
        }
        let dirs =
            directories::ProjectDirs::from("org", "ClassKeys", "classkeys").ok_or_else(|| {
                anyhow!(
                    "could not find a configuration folder for this user (is HOME set?): \
                     set {TOKEN_FILE_ENV}=PATH to keep the session in a file instead"
                )
            })?;
        Ok(Self::Keyring {
            pointer: dirs.config_dir().join("session.json"),
        })
    }

    /// Remembers `session`, replacing any earlier one.
    pub fn save(&self, session: &StoredSession) -> Result<()> {
        match self {
            SessionStore::File(path) => {
                let json = serde_json::to_vec_pretty(&TokenFile {
                    server: session.server.clone(),
                    username: session.username.clone(),
                    token: session.token.expose().to_owned(),
                })?;
                write_private(path, &json)
                    .with_context(|| format!("could not write the token file {}", path.display()))
            }
            SessionStore::Keyring { pointer } => {
                let previous = read_pointer(pointer).ok().flatten();
                // The secret goes first: if the credential store refuses it, the old
                // session stays fully usable rather than half replaced.
                keyring_entry(&session.keyring_account())?
                    .set_password(session.token.expose())
                    .map_err(|e| credential_store_error("store the session token in", &e))?;
                let json = serde_json::to_vec_pretty(&SessionPointer {
                    server: session.server.clone(),
                    username: session.username.clone(),
                })?;
                write_private(pointer, &json).with_context(|| {
                    format!("could not write the session file {}", pointer.display())
                })?;
                // A token left behind for another account would stay valid on its server
                // with nothing pointing at it; drop it while we still know its name.
                if let Some(old) = previous {
                    let old_account = keyring_account(&old.server, &old.username);
                    if old_account != session.keyring_account()
                        && let Ok(entry) = keyring_entry(&old_account)
                    {
                        let _ = entry.delete_credential();
                    }
                }
                Ok(())
            }
        }
    }

    /// The remembered session, or `None` when nobody is signed in.
    pub fn load(&self) -> Result<Option<StoredSession>> {
        match self {
            SessionStore::File(path) => {
                let Some(bytes) = read_if_exists(path)? else {
                    return Ok(None);
                };
                let file: TokenFile = serde_json::from_slice(&bytes).with_context(|| {
                    format!(
                        "the token file {} is damaged: run classkeys login again",
                        path.display()
                    )
                })?;
                Ok(Some(StoredSession {
                    server: file.server,
                    username: file.username,
                    token: Token::new(file.token),
                }))
            }
            SessionStore::Keyring { pointer } => {
                let Some(p) = read_pointer(pointer)? else {
                    return Ok(None);
                };
                let account = keyring_account(&p.server, &p.username);
                match keyring_entry(&account)?.get_password() {
                    Ok(token) => Ok(Some(StoredSession {
                        server: p.server,
                        username: p.username,
                        token: Token::new(token),
                    })),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(e) => Err(credential_store_error("read the session token from", &e)),
                }
            }
        }
    }

    /// Forgets the session: the token file, or the credential-store entry and `session.json`.
    /// Forgetting what is not there is not an error.
    pub fn clear(&self) -> Result<()> {
        match self {
            SessionStore::File(path) => remove_if_exists(path)
                .with_context(|| format!("could not remove the token file {}", path.display())),
            SessionStore::Keyring { pointer } => {
                if let Some(p) = read_pointer(pointer).ok().flatten() {
                    match keyring_entry(&keyring_account(&p.server, &p.username))?
                        .delete_credential()
                    {
                        Ok(()) | Err(keyring::Error::NoEntry) => {}
                        Err(e) => {
                            return Err(credential_store_error(
                                "remove the session token from",
                                &e,
                            ));
                        }
                    }
                }
                remove_if_exists(pointer).with_context(|| {
                    format!("could not remove the session file {}", pointer.display())
                })
            }
        }
    }
}

fn read_pointer(path: &Path) -> Result<Option<SessionPointer>> {
    let Some(bytes) = read_if_exists(path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).with_context(|| {
        format!(
            "the session file {} is damaged: run classkeys login again",
            path.display()
        )
    })
}

fn keyring_entry(account: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(KEYRING_SERVICE, account).map_err(|e| credential_store_error("open", &e))
}

/// The one wording for every credential-store failure: say plainly that the store failed,
/// and name the way around it, since the usual cause (no Secret Service on a headless Linux
/// box, a locked keychain) is not something the CLI can fix.
fn credential_store_error(doing: &str, e: &keyring::Error) -> anyhow::Error {
    anyhow!(
        "could not {doing} the operating system's credential store ({e}): unlock or start it, \
         or set {TOKEN_FILE_ENV}=PATH to keep the session in a file readable only by you"
    )
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` so that no reader ever sees a partial file and no other user can
/// read it at any moment: a new file in the same folder, created 0600 (not chmod-ed after the
/// fact, which would leave a window), flushed to disk, then renamed over the old one.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.{attempt}.tmp", std::process::id()));
        let tmp = dir.join(tmp_name);
        match create_new_private(&tmp) {
            Ok(file) => break (tmp, file),
            // `create_new` refuses an existing name, including a planted symlink; try another.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(unix)]
fn create_new_private(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// On Windows a new file in the user's own folders inherits an ACL that already excludes
/// other users; there is no mode to set.
#[cfg(not(unix))]
fn create_new_private(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(token: &str) -> StoredSession {
        StoredSession {
            server: "http://127.0.0.1:8080".into(),
            username: "lead".into(),
            token: Token::new(token.into()),
        }
    }

    #[test]
    fn token_file_round_trips_and_clears() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SessionStore::File(dir.path().join("nested").join("token.json"));
        assert_eq!(store.load().expect("load"), None);
        store.save(&session("first")).expect("save");
        store.save(&session("second")).expect("save again");
        assert_eq!(store.load().expect("load"), Some(session("second")));
        store.clear().expect("clear");
        assert_eq!(store.load().expect("load"), None);
        store.clear().expect("clearing twice is fine");
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("nested"))
            .expect("read dir")
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn token_file_is_readable_only_by_its_owner_even_when_replacing_a_loose_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("token.json");
        fs::write(&path, "{}").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        SessionStore::File(path.clone())
            .save(&session("secret"))
            .expect("save");
        let mode = fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn damaged_token_file_says_to_log_in_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("token.json");
        fs::write(&path, "not json").expect("write");
        let err = SessionStore::File(path).load().expect_err("damaged");
        assert!(
            format!("{err:#}").contains("run classkeys login again"),
            "{err:#}"
        );
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        assert!(!format!("{:?}", session("s3cr3t-token")).contains("s3cr3t"));
    }

    #[test]
    fn credential_store_failures_suggest_the_token_file() {
        let e = credential_store_error(
            "store the session token in",
            &keyring::Error::NoStorageAccess("locked".into()),
        );
        let msg = e.to_string();
        assert!(msg.contains("credential store"), "{msg}");
        assert!(msg.contains("CLASSKEYS_TOKEN_FILE"), "{msg}");
    }
}
