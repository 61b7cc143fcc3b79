//! The server's master key and the schools' data keys (envelope encryption).
//!
//! The master key lives outside the database — in `CLASSKEYS_MASTER_KEY` or in a key file —
//! so a stolen database alone opens nothing. Each school gets its own random data key, stored
//! in the database only wrapped (XChaCha20-Poly1305) by the master key, with the school's id
//! as associated data so a wrapped key copied onto another school does not open.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use classkeys_domain::sealing::SealingKey;

const WRAP_VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Base64 of 32 bytes, from the environment.
    Inline(classkeys_domain::secret::Sensitive<String>),
    /// A key file that must exist.
    File(PathBuf),
    /// The embedded default's key file, created (0600) when missing.
    DefaultFile(PathBuf),
}

/// The server's master key. Never printed.
#[derive(Clone)]
pub struct MasterKey(Key);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// Loads the key, creating the embedded default's key file if it does not exist yet.
    pub fn load(source: &KeySource) -> anyhow::Result<Self> {
        match source {
            KeySource::Inline(b64) => {
                Self::decode(b64.expose()).context("reading CLASSKEYS_MASTER_KEY")
            }
            KeySource::File(path) => Self::read_file(path),
            KeySource::DefaultFile(path) => {
                if !path.exists() {
                    create_key_file(path)?;
                    tracing::info!(path = %path.display(), "created a new master key file");
                }
                Self::read_file(path)
            }
        }
    }

    /// A fresh random key (for tests and new installations).
    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    fn read_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the master key file {}", path.display()))?;
        // Whoever can read the key can open every school's secrets: a key others can read is
        // refused, not merely warned about, because a warning scrolls past unread.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                bail!(
                    "the master key file {} can be read by other users (mode {:o}): \
                     run `chmod 600 {}` and start the server again",
                    path.display(),
                    mode & 0o777,
                    path.display()
                );
            }
        }
        Self::decode(text.trim())
            .with_context(|| format!("reading the master key file {}", path.display()))
    }

    fn decode(b64: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(b64.trim())
            .context("the master key is not valid base64")?;
        if bytes.len() != 32 {
            bail!(
                "the master key must be 32 bytes (base64 of 32 random bytes), not {}",
                bytes.len()
            );
        }
        Ok(Self(*Key::from_slice(&bytes)))
    }

    /// Generates a data key for a school and returns it wrapped, for storing.
    pub fn wrap_new_data_key(&self, school_id: &str) -> anyhow::Result<String> {
        let data_key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = XChaCha20Poly1305::new(&self.0)
            .encrypt(
                &nonce,
                Payload {
                    msg: data_key.as_slice(),
                    aad: wrap_aad(school_id).as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("wrapping a data key failed"))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(format!("{WRAP_VERSION}.{}", STANDARD.encode(blob)))
    }

    /// Opens a school's wrapped data key.
    pub fn unwrap_data_key(&self, school_id: &str, wrapped: &str) -> anyhow::Result<Key> {
        let Some(b64) = wrapped.strip_prefix("v1.") else {
            bail!("unknown data key format");
        };
        let blob = STANDARD.decode(b64).context("data key is not base64")?;
        if blob.len() <= NONCE_LEN {
            bail!("data key is truncated");
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let key = XChaCha20Poly1305::new(&self.0)
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: wrap_aad(school_id).as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!("the school's data key does not open with this master key")
            })?;
        Ok(*Key::from_slice(&key))
    }
}

impl MasterKey {
    /// A school's data key, ready for sealing and opening its learners' secrets.
    pub fn school_key(&self, school_id: &str, wrapped: &str) -> anyhow::Result<SealingKey> {
        let key = self.unwrap_data_key(school_id, wrapped)?;
        Ok(SealingKey::from_bytes(key.into()))
    }
}

fn wrap_aad(school_id: &str) -> String {
    format!("classkeys data key {WRAP_VERSION} school {school_id}")
}

/// Writes a new random key file readable only by its owner. The file is created with mode
/// 0600 from the start, never written first and restricted after.
fn create_key_file(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the key folder {}", dir.display()))?;
    }
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the master key file {}", path.display()))?;
    writeln!(file, "{}", STANDARD.encode(key))?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let first = MasterKey::load(&KeySource::DefaultFile(path.clone())).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = MasterKey::load(&KeySource::DefaultFile(path)).unwrap();
        let wrapped = first.wrap_new_data_key("school-a").unwrap();
        assert!(again.unwrap_data_key("school-a", &wrapped).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_what_to_do() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, format!("{}\n", STANDARD.encode([7u8; 32]))).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load(&KeySource::File(path.clone())).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("can be read by other users (mode 644)"),
            "{message}"
        );
        assert!(message.contains("chmod 600"), "{message}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(MasterKey::load(&KeySource::File(path)).is_ok());
    }

    #[test]
    fn an_explicit_key_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let err = MasterKey::load(&KeySource::File(dir.path().join("missing.key"))).unwrap_err();
        assert!(format!("{err:#}").contains("missing.key"));
    }

    #[test]
    fn a_wrapped_key_opens_only_for_its_school_and_master_key() {
        let key = MasterKey::generate();
        let wrapped = key.wrap_new_data_key("school-a").unwrap();
        assert!(key.unwrap_data_key("school-b", &wrapped).is_err());
        assert!(
            MasterKey::generate()
                .unwrap_data_key("school-a", &wrapped)
                .is_err()
        );
    }

    #[test]
    fn inline_keys_must_be_32_bytes() {
        let short = KeySource::Inline(STANDARD.encode([1u8; 16]).into());
        assert!(MasterKey::load(&short).is_err());
        let good = KeySource::Inline(STANDARD.encode([1u8; 32]).into());
        assert!(MasterKey::load(&good).is_ok());
    }
}
