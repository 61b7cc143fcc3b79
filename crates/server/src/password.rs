//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on tokio's
//! blocking pool, never on the async workers, and a semaphore bounds how many hashes run at
//! once (one per core): a burst of sign-ins queues instead of exhausting memory. Each
//! blocking thread keeps its 19 MiB work area between hashes: allocating (and the kernel
//! zeroing) a fresh one per hash costs up to twice the hash itself.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("constant argon2 parameters are valid")
}

thread_local! {
    /// This thread's argon2 work area, kept for the next hash.
    static WORK_AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2id with `params` in this thread's work area.
fn argon2_raw(params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> anyhow::Result<()> {
    WORK_AREA.with_borrow_mut(|blocks| {
        let needed = params.block_count();
        if blocks.len() != needed {
            *blocks = vec![Block::default(); needed];
        }
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password, salt, out, &mut blocks[..])
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
    })
}

/// Hashes a password with today's parameters into a PHC string.
pub fn hash_blocking(password: &[u8]) -> anyhow::Result<String> {
    let params = params();
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("argon2 salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_raw(&params, password, salt_raw, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored` (argon2id of any parameters).
fn verify_blocking(stored: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if argon2_raw(&params, password, salt_raw, &mut out).is_err() {
        return false;
    }
    // `Output` compares in constant time.
    Output::new(&out).is_ok_and(|actual| actual == expected)
}

/// A hash of a random password, verified against when the account does not exist, so that a
/// wrong username takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_blocking(uuid::Uuid::new_v4().as_bytes())
            .expect("hashing a decoy password cannot fail")
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
            hash_blocking(password.expose().as_bytes())
        })
        .await?
    }

    /// Hashes many passwords, in parallel up to the hasher's bound, in the order given.
    pub async fn hash_many(
        &self,
        passwords: Vec<Sensitive<String>>,
    ) -> anyhow::Result<Vec<String>> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, password) in passwords.into_iter().enumerate() {
            let hasher = self.clone();
            tasks.spawn(async move { (i, hasher.hash(password).await) });
        }
        let mut hashes = vec![String::new(); tasks.len()];
        while let Some(joined) = tasks.join_next().await {
            let (i, hash) = joined?;
            hashes[i] = hash?;
        }
        Ok(hashes)
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
            verify_blocking(&phc, password.expose().as_bytes()) && real
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
    use argon2::password_hash::PasswordHasher as _;

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
    async fn hashes_made_in_parallel_each_verify_their_own_password_only() {
        let hasher = PasswordHasher::new();
        let passwords: Vec<String> = (0..6).map(|i| format!("pw-{i}")).collect();
        let hashes = hasher
            .hash_many(passwords.iter().cloned().map(Sensitive::new).collect())
            .await
            .unwrap();
        for (i, hash) in hashes.iter().enumerate() {
            let own = Sensitive::new(passwords[i].clone());
            let other = Sensitive::new(passwords[(i + 1) % 6].clone());
            assert!(hasher.verify(Some(hash.clone()), own).await, "{i}");
            assert!(!hasher.verify(Some(hash.clone()), other).await, "{i}");
        }
        // The same password hashed twice gets two salts: equal hashes would tell who shares one.
        let twice = hasher
            .hash_many(vec![
                Sensitive::new("same".into()),
                Sensitive::new("same".into()),
            ])
            .await
            .unwrap();
        assert_ne!(twice[0], twice[1]);
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
        // Hashes of an older policy still verify, so the learner can sign in and be rehashed.
        assert!(
            hasher
                .verify(Some(weak.clone()), Sensitive::new("pw".into()))
                .await
        );
        assert!(!hasher.verify(Some(weak), Sensitive::new("px".into())).await);
        assert!(needs_rehash("not a hash"));
    }
}
