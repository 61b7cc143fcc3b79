//! Signing in, resuming at start and signing out.
//!
//! The replica records whose it is ([`classkeys_store::Account`]: server and member of
//! staff); the session token and device key sit in the [`SecretStore`] under that account's
//! names. So at start, [`App::resume`] reads the account from the replica and the token from
//! the credential store, without asking the teacher for anything and without the network.

use std::sync::Arc;

use classkeys_client::Client;
use classkeys_domain::policy::Actor;
use classkeys_domain::sealing::SealingKey;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::auth::{Me, SignInRequest};
use classkeys_store::Account;

use crate::App;
use crate::error::{AppError, AppErrorCode, Result};
use crate::secrets::{self, DEVICE_KEY, SESSION_TOKEN, SIGN_IN_DEVICE, SecretName, SecretStore};

/// The signed-in session: a client carrying the token, whose it is, and the device key.
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) account: Account,
    /// Seals the secrets the replica keeps (parent access codes): held in the OS
    /// credential store, so the replica file alone opens nothing.
    pub(crate) device_key: SealingKey,
}

impl Session {
    /// The actor the permission policy judges.
    pub(crate) fn actor(&self) -> Actor {
        Actor {
            staff_id: self.account.staff.id,
            school_id: self.account.staff.school_id,
            role: self.account.staff.role,
        }
    }
}

fn secret_name(account: &Account, name: &'static str) -> SecretName {
    SecretName {
        server: account.server.clone(),
        username: account.staff.username.clone(),
        name,
    }
}

impl App {
    /// Signs in to `server` as `username`, keeps the session token in the credential store,
    /// and fetches everything this member of staff may see. `school` is the school's slug,
    /// needed only when the server hosts several schools.
    ///
    /// If the credential store refuses the token, the new session is ended on the server
    /// and the sign-in fails with `credential_store_unavailable`: the app keeps no session
    /// it could not keep safely.
    pub async fn sign_in(
        &self,
        server: &str,
        school: Option<&str>,
        username: &str,
        password: &Sensitive<String>,
    ) -> Result<Me> {
        let client = Client::new(server)?;
        let known_device = SecretName {
            server: client.base_url().to_owned(),
            username: username.trim().to_lowercase(),
            name: SIGN_IN_DEVICE,
        };
        // Best effort: without it the sign-in is throttled like any new device's.
        let name = known_device.clone();
        let device_token = self
            .with_secrets(move |s| s.get(&name))
            .await
            .ok()
            .flatten();
        let request = SignInRequest {
            school: school
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            username: username.trim().to_owned(),
            password: password.expose().clone(),
            device_token: device_token.map(|t| t.expose().clone()),
        };
        let (client, session) = client.sign_in(&request).await?;
        let device_token = Sensitive::new(session.device_token.clone());
        let _ = self
            .with_secrets(move |s| s.set(&known_device, &device_token))
            .await;
        let account = Account {
            server: client.base_url().to_owned(),
            staff: session.staff.clone(),
        };

        // Someone else's session on this computer ends here; leaving their token behind
        // would keep it valid on the server with nothing pointing at it.
        if let Some(previous) = self.store.account().await?
            && (previous.server != account.server
                || previous.staff.username != account.staff.username)
        {
            self.forget(&previous).await?;
        }

        let token = Sensitive::new(session.token.clone());
        let device_key = match self.keep_secrets(&account, token).await {
            Ok(key) => key,
            Err(e) => {
                // Best effort: the session is useless to us, so it should not stay valid.
                let _ = client.sign_out().await;
                return Err(e);
            }
        };
        self.store.set_account(&account).await?;
        self.install(Session {
            client,
            account,
            device_key,
        });
        // The first full pull. Failing it leaves an empty replica and an offline status,
        // not a failed sign-in: the next sync fills it.
        self.sync_quietly().await;
        Ok(session.staff)
    }

    /// Reopens the session kept from last time, if any. `None` when nobody is signed in on
    /// this computer.
    ///
    /// It does not wait for the network: the app starts from the replica, instantly and
    /// offline too, and the caller syncs afterwards ([`App::sync_now`]) without holding up
    /// the first screen on a slow or unreachable server.
    pub async fn resume(&self) -> Result<Option<Me>> {
        let Some(account) = self.store.account().await? else {
            return Ok(None);
        };
        let name = secret_name(&account, SESSION_TOKEN);
        let Some(token) = self.with_secrets(move |s| s.get(&name)).await? else {
            return Ok(None);
        };
        let device_key = self.device_key(&account).await?;
        let client = Client::new(&account.server)?.with_token(token.expose().clone());
        let me = account.staff.clone();
        self.install(Session {
            client,
            account,
            device_key,
        });
        Ok(Some(me))
    }

    /// Signs out: ends the session on the server if it answers, deletes the token and the
    /// device key from the credential store, and wipes the replica. Signing out while
    /// offline still forgets everything here; the server session then ends by expiry.
    pub async fn sign_out(&self) -> Result<()> {
        if let Some(account) = self.store.account().await? {
            self.forget(&account).await?;
        }
        self.store.clear().await?;
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.sync.reset();
        Ok(())
    }

    /// Who is signed in, if anyone.
    pub fn me(&self) -> Option<Me> {
        self.current().map(|s| s.account.staff.clone())
    }

    fn install(&self, session: Session) {
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(session));
        self.sync.reset();
    }

    /// Ends `account`'s server session (best effort) and deletes its secrets.
    async fn forget(&self, account: &Account) -> Result<()> {
        let name = secret_name(account, SESSION_TOKEN);
        let token = self.with_secrets(move |s| s.get(&name)).await?;
        if let Some(token) = token
            && let Ok(client) = Client::new(&account.server)
        {
            // Best effort: offline, the session simply expires on the server.
            let _ = client.with_token(token.expose().clone()).sign_out().await;
        }
        for which in [SESSION_TOKEN, DEVICE_KEY] {
            let name = secret_name(account, which);
            self.with_secrets(move |s| s.delete(&name)).await?;
        }
        Ok(())
    }

    /// Stores the token, and returns the account's device key (created if it has none).
    async fn keep_secrets(
        &self,
        account: &Account,
        token: Sensitive<String>,
    ) -> Result<SealingKey> {
        let name = secret_name(account, SESSION_TOKEN);
        self.with_secrets(move |s| s.set(&name, &token)).await?;
        self.device_key(account).await
    }

    /// The account's device key, created if missing or unreadable (nothing sealed with an
    /// unreadable key can be opened anyway).
    async fn device_key(&self, account: &Account) -> Result<SealingKey> {
        let name = secret_name(account, DEVICE_KEY);
        self.with_secrets(move |s| {
            if let Some(key) = s.get(&name)?.as_ref().and_then(secrets::decode_device_key) {
                return Ok(SealingKey::from_bytes(*key.expose()));
            }
            let stored = secrets::new_device_key();
            s.set(&name, &stored)?;
            secrets::decode_device_key(&stored)
                .map(|key| SealingKey::from_bytes(*key.expose()))
                .ok_or_else(|| {
                    AppError::new(
                        AppErrorCode::Internal,
                        "a new device key could not be read back",
                    )
                })
        })
        .await
    }

    /// Runs a blocking secret-store call off the async runtime (the OS stores block on
    /// D-Bus or system calls, sometimes for seconds while a keyring unlocks).
    async fn with_secrets<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretStore) -> Result<T> + Send + 'static,
    {
        let secrets = Arc::clone(&self.secrets);
        tokio::task::spawn_blocking(move || f(secrets.as_ref()))
            .await
            .map_err(|e| {
                AppError::new(
                    AppErrorCode::CredentialStoreUnavailable,
                    format!("the credential store stopped answering ({e}): try again"),
                )
            })?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::secrets::MemorySecrets;

    #[tokio::test]
    async fn signing_in_to_an_unreachable_server_says_offline_and_keeps_nothing() {
        let dir = tempfile::tempdir().expect("data folder");
        let secrets = Arc::new(MemorySecrets::default());
        let app = App::open(dir.path(), secrets.clone()).await.expect("opens");
        // Port 9 (discard) on loopback: nothing listens there on a test machine.
        let err = app
            .sign_in(
                "http://127.0.0.1:9",
                None,
                "teacher1",
                &Sensitive::new("pw".into()),
            )
            .await
            .expect_err("no server");
        assert_eq!(err.code, AppErrorCode::Offline, "{err}");
        assert!(app.me().is_none());
        assert_eq!(app.resume().await.expect("resume"), None);
        let name = SecretName {
            server: "http://127.0.0.1:9".into(),
            username: "teacher1".into(),
            name: SESSION_TOKEN,
        };
        assert!(secrets.get(&name).expect("get").is_none());
    }

    #[tokio::test]
    async fn nothing_is_read_or_written_without_a_session() {
        let dir = tempfile::tempdir().expect("data folder");
        let app = App::open(dir.path(), Arc::new(MemorySecrets::default()))
            .await
            .expect("opens");
        let read = app.classes().await.expect_err("signed out");
        assert_eq!(read.code, AppErrorCode::Unauthenticated);
        let write = app
            .learner_set_active(classkeys_domain::ids::LearnerId::generate(), false)
            .await
            .expect_err("signed out");
        assert_eq!(write.code, AppErrorCode::Unauthenticated);
        assert_eq!(app.status().await.expect("status").waiting, 0);
    }
}
