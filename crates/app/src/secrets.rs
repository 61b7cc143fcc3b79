//! Where the app keeps its secrets: the session token and the device key.
//!
//! [`KeyringSecrets`] is the operating system's credential store (macOS Keychain, Windows
//! Credential Manager, Secret Service on Linux) through `keyring`, under the service
//! `classkeys-desktop` and the account `<server>|<username>|<name>`, so two accounts on one
//! computer never share an entry. There is deliberately no file fallback (DESIGN §4): when
//! no store works, the app says so and keeps no session, rather than leaving a token in a
//! file another program could copy.
//!
//! The device key (32 random bytes) will seal local copies of secrets in the replica; it is
//! created at sign-in and dies at sign-out with the session token.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use classkeys_domain::secret::Sensitive;

use crate::error::{AppError, AppErrorCode, Result};

/// The credential-store service name; the CLI uses `classkeys`, so the two never collide.
pub const SERVICE: &str = "classkeys-desktop";

/// The session token's entry name.
pub(crate) const SESSION_TOKEN: &str = "session-token";
/// The device key's entry name.
pub(crate) const DEVICE_KEY: &str = "device-key";
/// The server's token for this computer, from the last successful sign-in: presented at the
/// next one, so failed sign-ins elsewhere never lock this computer out. Kept across
/// sign-outs (it opens nothing by itself).
pub(crate) const SIGN_IN_DEVICE: &str = "sign-in-device";

/// A secret store, by entry name. Implementations are blocking (the OS stores are), so the
/// app calls them off the async runtime.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// The secret stored under `name`, if any.
    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>>;
    /// Stores `value` under `name`, replacing what was there.
    fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<()>;
    /// Removes `name`; removing what is not there is not an error.
    fn delete(&self, name: &SecretName) -> Result<()>;
}

/// Which secret: of which account on which server, and which of its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretName {
    /// The server address, as the client normalised it.
    pub server: String,
    /// The staff username.
    pub username: String,
    /// The secret's name (`session-token`, `device-key`).
    pub name: &'static str,
}

impl SecretName {
    /// The credential-store account: `<server>|<username>|<name>`.
    pub fn account(&self) -> String {
        format!("{}|{}|{}", self.server, self.username, self.name)
    }
}

/// A fresh device key, base64 in the store (credential stores hold text reliably
/// everywhere; raw bytes not on every platform).
pub(crate) fn new_device_key() -> Sensitive<String> {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    Sensitive::new(BASE64.encode(bytes))
}

/// Reads a stored device key back into its 32 bytes.
pub(crate) fn decode_device_key(stored: &Sensitive<String>) -> Option<Sensitive<[u8; 32]>> {
    let bytes = BASE64.decode(stored.expose()).ok()?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .ok()
        .map(Sensitive::new)
}

/// The operating system's credential store.
#[derive(Debug)]
pub struct KeyringSecrets(());

impl KeyringSecrets {
    /// Opens the credential store after checking that it works: a probe entry is written,
    /// read back and deleted. A store that is missing, locked or silently non-persistent
    /// fails here, at start, instead of at the first sign-in.
    pub fn probe() -> Result<Self> {
        // A name of its own per probe: two windows (or tests) probing at once must not
        // delete each other's entry between its write and its read.
        let nonce: u64 = rand::random();
        let entry = entry(&format!("probe|{}|{nonce:016x}", std::process::id()))?;
        let value = format!("probe-{nonce:016x}");
        entry.set_password(&value).map_err(unavailable)?;
        let read = entry.get_password().map_err(unavailable);
        let deleted = entry.delete_credential().map_err(unavailable);
        if read? != value {
            return Err(unavailable(keyring::Error::NoStorageAccess(
                "the stored value did not read back".into(),
            )));
        }
        deleted?;
        Ok(Self(()))
    }
}

impl SecretStore for KeyringSecrets {
    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>> {
        match entry(&name.account())?.get_password() {
            Ok(value) => Ok(Some(Sensitive::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<()> {
        entry(&name.account())?
            .set_password(value.expose())
            .map_err(unavailable)
    }

    fn delete(&self, name: &SecretName) -> Result<()> {
        match entry(&name.account())?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// The store the app runs with when the OS credential store failed its probe: every call
/// answers with the probe's error, so sign-in says exactly why it cannot keep a session,
/// and nothing secret is ever written anywhere else.
#[derive(Debug)]
pub struct UnavailableSecrets(AppError);

impl UnavailableSecrets {
    /// A store that refuses everything with `why` (the probe's error).
    pub fn new(why: AppError) -> Self {
        Self(why)
    }
}

impl SecretStore for UnavailableSecrets {
    fn get(&self, _: &SecretName) -> Result<Option<Sensitive<String>>> {
        Err(self.0.clone())
    }

    fn set(&self, _: &SecretName, _: &Sensitive<String>) -> Result<()> {
        Err(self.0.clone())
    }

    fn delete(&self, _: &SecretName) -> Result<()> {
        Err(self.0.clone())
    }
}

fn entry(account: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, account).map_err(unavailable)
}

/// The one wording for every credential-store failure. The usual causes (no Secret Service
/// on this Linux desktop, a locked keychain) are outside the app, so the message says what
/// the app will not do and what the teacher can do about it.
fn unavailable(e: keyring::Error) -> AppError {
    AppError::new(
        AppErrorCode::CredentialStoreUnavailable,
        format!(
            "no credential store is available ({e}): ClassKeys will not keep your session on \
             this computer. Unlock or start the system keyring (Keychain, Credential Manager, \
             GNOME Keyring or KWallet) and try again"
        ),
    )
}

/// An in-memory store, **for unit tests only**: it forgets everything when dropped, which
/// is exactly what the real app must never do silently (DESIGN §4), so it is not compiled
/// into the library.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct MemorySecrets(std::sync::Mutex<std::collections::HashMap<String, String>>);

#[cfg(test)]
impl SecretStore for MemorySecrets {
    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Ok(map.get(&name.account()).cloned().map(Sensitive::new))
    }

    fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<()> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(name.account(), value.expose().clone());
        Ok(())
    }

    fn delete(&self, name: &SecretName) -> Result<()> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&name.account());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(which: &'static str) -> SecretName {
        SecretName {
            server: "https://keys.school.example".into(),
            username: "teacher1".into(),
            name: which,
        }
    }

    #[test]
    fn entries_are_named_by_server_username_and_secret() {
        assert_eq!(
            name(SESSION_TOKEN).account(),
            "https://keys.school.example|teacher1|session-token"
        );
    }

    #[test]
    fn device_keys_are_32_random_bytes_that_read_back() {
        let a = new_device_key();
        let b = new_device_key();
        assert_ne!(a, b);
        assert_eq!(decode_device_key(&a).map(|k| k.expose().len()), Some(32));
        assert!(decode_device_key(&Sensitive::new("short".into())).is_none());
    }

    #[test]
    fn the_test_store_forgets_deleted_entries() {
        let store = MemorySecrets::default();
        store
            .set(&name(DEVICE_KEY), &Sensitive::new("k".into()))
            .expect("set");
        assert!(store.get(&name(DEVICE_KEY)).expect("get").is_some());
        store.delete(&name(DEVICE_KEY)).expect("delete");
        store
            .delete(&name(DEVICE_KEY))
            .expect("deleting twice is fine");
        assert!(store.get(&name(DEVICE_KEY)).expect("get").is_none());
    }
}
