//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on tokio's
//! blocking pool, never on the async workers, and a semaphore bounds how many hashes run at
//! once (one per core): a burst of sign-ins queues instead of exhausting memory.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use classkeys_domain::secret::Sensitive;
use tokio::sync::Semaphore;

/// Memory cost in KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;

/// Hashes and verifies passwords off the async runtime.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a random password, verified against when the account does not exist, so that a
/// wrong username takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2()
            .hash_password(uuid::Uuid::new_v4().as_bytes(), &salt)
            .expect("hashing a decoy password cannot fail")
            .to_string()
    })
}

impl PasswordHasher {
    /// A hasher running at most one hash per core at a time.
    pub fn new() -> Self {
        // Built now, so the first sign-in with an unknown username takes no longer than
        // later ones.
        decoy_hash();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }

    /// Hashes a password into a PHC string (algorithm, parameters, salt and hash).
    pub async fn hash(&self, password: Sensitive<String>) -> anyhow::Result<String> {
        // The permit moves into the blocking task: if the request is dropped (a deadline,
        // a client gone), the hash still running keeps its slot until it really ends.
        let permit = self.permits.clone().acquire_owned().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            argon2()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
        })
        .await?
    }

    /// Checks a password against a stored hash. With no hash (no such account), checks
    /// against a decoy and answers `false`, taking the same time.
    pub async fn verify(&self, stored: Option<String>, password: Sensitive<String>) -> bool {
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let real = stored.is_some();
            let phc = stored.unwrap_or_else(|| decoy_hash().to_owned());
            let Ok(parsed) = PasswordHash::new(&phc) else {
                return false;
            };
            let ok = argon2()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            ok && real
        })
        .await
        .unwrap_or(false)
    }
}

/// Whether a stored hash was made with weaker settings than today's (an older policy, or
/// another algorithm): then it is replaced at the next successful sign-in, the only moment
/// the password is known.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(p) => p.m_cost() < MEMORY_KIB || p.t_cost() < ITERATIONS || p.p_cost() < PARALLELISM,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hasher = PasswordHasher::new();
        let hash = hasher
            .hash(Sensitive::new("correct horse".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hash.contains("correct horse"));
        assert!(
            hasher
                .verify(Some(hash.clone()), Sensitive::new("correct horse".into()))
                .await
        );
        assert!(
            !hasher
                .verify(Some(hash), Sensitive::new("wrong".into()))
                .await
        );
        assert!(
            !hasher
                .verify(None, Sensitive::new("correct horse".into()))
                .await
        );
    }

    #[tokio::test]
    async fn hashes_from_a_weaker_policy_are_due_for_rehashing() {
        let hasher = PasswordHasher::new();
        let current = hasher.hash(Sensitive::new("pw".into())).await.unwrap();
        assert!(!needs_rehash(&current));
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
        assert!(needs_rehash(&weak));
        assert!(needs_rehash("not a hash"));
    }
}
