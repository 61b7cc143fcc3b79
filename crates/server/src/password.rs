//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on tokio's
//! blocking pool, never on the async workers, and at most one hash per core runs at once.
//! Each blocking thread keeps its 19 MiB work area between hashes: allocating (and the
//! kernel zeroing) a fresh one per hash costs up to twice the hash itself.
//!
//! Work waiting for a slot is bounded, per kind of work ([`Work`]): past the bound the
//! caller gets [`Busy`] at once (the API answers 503 with `Retry-After`), so a flood of
//! sign-ins costs a queue of known length, never unbounded memory or minutes of waiting.
//! Learners' hashes may hold only some of the slots (half, at least one), so however many
//! learners sign in at once, a teacher's reset always finds a slot free or next in line.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use classkeys_domain::secret::Sensitive;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Memory cost in KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;

/// Whose work a hash is: staff work (sign-in, resets, exports) keeps slots that learners'
/// sign-ins cannot take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// A member of staff signing in, or setting passwords.
    Staff,
    /// A learner signing in or choosing a password, or anyone on the public pages.
    Learner,
}

/// Too much hashing is already waiting: try again shortly.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the server is busy checking passwords: try again in a few seconds")]
pub struct Busy;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue for this kind of work is full.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// Hashing itself failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// How many hashes may run and wait.
#[derive(Debug, Clone, Copy)]
pub struct HashSlots {
    /// Hashes running at once (one per core).
    pub running: usize,
    /// Of those, how many learners' hashes may hold (at least one, fewer than `running`
    /// when there is more than one).
    pub learners: usize,
    /// Learners' hashes waiting for a slot before further ones are turned away: about a
    /// second of work per learner slot.
    pub learners_waiting: usize,
    /// Staff hashes waiting: enough for several whole-class resets at once.
    pub staff_waiting: usize,
}

impl HashSlots {
    /// One running hash per core, half of them open to learners.
    pub fn for_this_machine() -> Self {
        let running = std::thread::available_parallelism().map_or(2, |n| n.get());
        let learners = (running / 2).max(1);
        Self {
            running,
            learners,
            learners_waiting: learners * 16,
            staff_waiting: 512,
        }
    }
}

/// Hashes and verifies passwords off the async runtime.
#[derive(Clone)]
pub struct PasswordHasher {
    slots: Arc<Slots>,
}

struct Slots {
    running: Arc<Semaphore>,
    learners: Arc<Semaphore>,
    waiting: [AtomicUsize; 2],
    limits: HashSlots,
}

/// A claim on a running slot, held by the blocking task for as long as its hash runs.
struct Slot {
    _running: OwnedSemaphorePermit,
    _learner: Option<OwnedSemaphorePermit>,
}

/// A place in the hashing queue, taken before any other work on a request, so that a
/// request past the bound costs nothing more than its refusal. Counted as waiting until it
/// becomes a running slot or is dropped (the request ended).
pub struct Ticket {
    slots: Arc<Slots>,
    work: Work,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.slots
            .waiting(self.work)
            .0
            .fetch_sub(1, Ordering::SeqCst);
    }
}

impl Slots {
    /// The waiting count of `work` and its bound.
    fn waiting(&self, work: Work) -> (&AtomicUsize, usize) {
        match work {
            Work::Staff => (&self.waiting[0], self.limits.staff_waiting),
            Work::Learner => (&self.waiting[1], self.limits.learners_waiting),
        }
    }
}

impl Ticket {
    /// Waits for a running slot. A learner first takes one of the learners' slots, then a
    /// running slot; so at most that many learners ever stand in the running slots' queue
    /// ahead of a teacher.
    async fn into_slot(self) -> Result<Slot, Busy> {
        let learner = match self.work {
            Work::Staff => None,
            Work::Learner => Some(
                self.slots
                    .learners
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| Busy)?,
            ),
        };
        let running = self
            .slots
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        Ok(Slot {
            _running: running,
            _learner: learner,
        })
    }
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
    phc_with(|params, salt, out| argon2_raw(params, password, salt, out))
}

/// A hash that no password matches, for an account that has none yet (staff added by an
/// import, who choose theirs through a link). It has today's parameters, so checking a
/// password against it costs what checking a real one does and tells nobody that the
/// account has no password; its output is random bytes, which no input hashes to. Costs
/// no hashing to make.
pub fn unusable_hash() -> anyhow::Result<String> {
    use argon2::password_hash::rand_core::RngCore;
    phc_with(|_, _, out| {
        argon2::password_hash::rand_core::OsRng.fill_bytes(out);
        Ok(())
    })
}

/// A PHC string of today's parameters, a fresh salt, and the output `fill` writes.
fn phc_with(
    fill: impl FnOnce(&Params, &[u8], &mut [u8]) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    let params = params();
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("argon2 salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    fill(&params, salt_raw, &mut out)?;
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
        Self::with_slots(HashSlots::for_this_machine())
    }

    /// A hasher with the given bounds.
    pub fn with_slots(limits: HashSlots) -> Self {
        // Built now, so the first sign-in with an unknown username takes no longer than
        // later ones.
        decoy_hash();
        let running = limits.running.max(1);
        let learners = limits.learners.clamp(1, running);
        Self {
            slots: Arc::new(Slots {
                running: Arc::new(Semaphore::new(running)),
                learners: Arc::new(Semaphore::new(learners)),
                waiting: [AtomicUsize::new(0), AtomicUsize::new(0)],
                limits,
            }),
        }
    }

    /// A place in the queue for `work`, or [`Busy`] at once when too many wait.
    pub fn ticket(&self, work: Work) -> Result<Ticket, Busy> {
        let (waiting, limit) = self.slots.waiting(work);
        // Counted before the check, so parallel arrivals cannot all slip under the bound;
        // the ticket gives it back however it ends.
        let ticket = Ticket {
            slots: self.slots.clone(),
            work,
        };
        if waiting.fetch_add(1, Ordering::SeqCst) >= limit {
            return Err(Busy);
        }
        Ok(ticket)
    }

    /// Hashes a password into a PHC string (algorithm, parameters, salt and hash).
    pub async fn hash(&self, work: Work, password: Sensitive<String>) -> Result<String, HashError> {
        // The slot moves into the blocking task: if the request is dropped (a deadline, a
        // client gone), the hash still running keeps its slot until it really ends.
        let slot = self.ticket(work)?.into_slot().await?;
        let hash = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            hash_blocking(password.expose().as_bytes())
        })
        .await
        .map_err(anyhow::Error::from)??;
        Ok(hash)
    }

    /// Hashes many passwords, in parallel up to the hasher's bound, in the order given.
    /// It keeps only as many in the queue as can run at once, so a list longer than the
    /// queue's bound (a large class, a whole school) is never turned away.
    pub async fn hash_many(
        &self,
        work: Work,
        passwords: Vec<Sensitive<String>>,
    ) -> Result<Vec<String>, HashError> {
        let mut hashes = vec![String::new(); passwords.len()];
        let mut pending = passwords.into_iter().enumerate();
        let mut tasks = tokio::task::JoinSet::new();
        let mut spawn_next = |tasks: &mut tokio::task::JoinSet<_>| {
            if let Some((i, password)) = pending.next() {
                let hasher = self.clone();
                tasks.spawn(async move { (i, hasher.hash(work, password).await) });
            }
        };
        for _ in 0..self.slots.limits.running.max(1) {
            spawn_next(&mut tasks);
        }
        while let Some(joined) = tasks.join_next().await {
            let (i, hash) = joined.map_err(anyhow::Error::from)?;
            hashes[i] = hash?;
            spawn_next(&mut tasks);
        }
        Ok(hashes)
    }

    /// Checks a password against a stored hash. With no hash (no such account), checks
    /// against a decoy and answers `false`, taking the same time.
    pub async fn verify(
        &self,
        work: Work,
        stored: Option<String>,
        password: Sensitive<String>,
    ) -> Result<bool, Busy> {
        self.verify_with(self.ticket(work)?, stored, password).await
    }

    /// [`PasswordHasher::verify`] with a place in the queue taken earlier.
    pub async fn verify_with(
        &self,
        ticket: Ticket,
        stored: Option<String>,
        password: Sensitive<String>,
    ) -> Result<bool, Busy> {
        let slot = ticket.into_slot().await?;
        Ok(tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let real = stored.is_some();
            let phc = stored.unwrap_or_else(|| decoy_hash().to_owned());
            verify_blocking(&phc, password.expose().as_bytes()) && real
        })
        .await
        .unwrap_or(false))
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

    #[test]
    fn an_unusable_hash_is_an_ordinary_hash_that_no_password_matches() {
        let hash = unusable_hash().unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!needs_rehash(&hash), "checked at full cost, like any other");
        assert_ne!(hash, unusable_hash().unwrap());
        for guess in ["", "password", "correct horse"] {
            assert!(!verify_blocking(&hash, guess.as_bytes()), "{guess:?}");
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hasher = PasswordHasher::new();
        let hash = hasher
            .hash(Work::Staff, Sensitive::new("correct horse".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hash.contains("correct horse"));
        assert!(
            hasher
                .verify(
                    Work::Staff,
                    Some(hash.clone()),
                    Sensitive::new("correct horse".into())
                )
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Work::Staff, Some(hash), Sensitive::new("wrong".into()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Work::Learner, None, Sensitive::new("correct horse".into()))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn hashes_made_in_parallel_each_verify_their_own_password_only() {
        let hasher = PasswordHasher::new();
        let passwords: Vec<String> = (0..6).map(|i| format!("pw-{i}")).collect();
        let hashes = hasher
            .hash_many(
                Work::Staff,
                passwords.iter().cloned().map(Sensitive::new).collect(),
            )
            .await
            .unwrap();
        for (i, hash) in hashes.iter().enumerate() {
            let own = Sensitive::new(passwords[i].clone());
            let other = Sensitive::new(passwords[(i + 1) % 6].clone());
            assert!(
                hasher
                    .verify(Work::Staff, Some(hash.clone()), own)
                    .await
                    .unwrap(),
                "{i}"
            );
            assert!(
                !hasher
                    .verify(Work::Staff, Some(hash.clone()), other)
                    .await
                    .unwrap(),
                "{i}"
            );
        }
        // The same password hashed twice gets two salts: equal hashes would tell who shares one.
        let twice = hasher
            .hash_many(
                Work::Staff,
                vec![Sensitive::new("same".into()), Sensitive::new("same".into())],
            )
            .await
            .unwrap();
        assert_ne!(twice[0], twice[1]);
    }

    #[tokio::test]
    async fn hashes_from_a_weaker_policy_are_due_for_rehashing() {
        let hasher = PasswordHasher::new();
        let current = hasher
            .hash(Work::Staff, Sensitive::new("pw".into()))
            .await
            .unwrap();
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
                .verify(Work::Staff, Some(weak.clone()), Sensitive::new("pw".into()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Work::Staff, Some(weak), Sensitive::new("px".into()))
                .await
                .unwrap()
        );
        assert!(needs_rehash("not a hash"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_learner_checks_is_turned_away_past_its_queue_while_staff_work_runs() {
        let hasher = PasswordHasher::with_slots(HashSlots {
            running: 2,
            learners: 1,
            learners_waiting: 4,
            staff_waiting: 64,
        });
        let stored = hasher
            .hash(Work::Staff, Sensitive::new("pw".into()))
            .await
            .unwrap();
        let flood: Vec<_> = (0..60)
            .map(|_| {
                let hasher = hasher.clone();
                let stored = stored.clone();
                tokio::spawn(async move {
                    hasher
                        .verify(Work::Learner, Some(stored), Sensitive::new("guess".into()))
                        .await
                })
            })
            .collect();
        // A teacher's reset of six meanwhile is not turned away.
        let reset = hasher
            .hash_many(
                Work::Staff,
                (0..6).map(|i| Sensitive::new(format!("new-{i}"))).collect(),
            )
            .await
            .unwrap();
        assert_eq!(reset.len(), 6);
        let mut busy = 0;
        for check in flood {
            match check.await.unwrap() {
                Ok(matched) => assert!(!matched),
                Err(Busy) => busy += 1,
            }
        }
        assert!(busy > 0, "some of the flood is turned away at once");
        assert!(busy < 60, "the queue's share is still answered");
        // Nothing stays counted as waiting once the flood is over.
        assert_eq!(hasher.slots.waiting[1].load(Ordering::SeqCst), 0);
        assert!(
            hasher
                .verify(Work::Learner, Some(stored), Sensitive::new("pw".into()))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_list_longer_than_the_queue_is_hashed_whole() {
        let hasher = PasswordHasher::with_slots(HashSlots {
            running: 2,
            learners: 1,
            learners_waiting: 2,
            staff_waiting: 3,
        });
        let passwords: Vec<Sensitive<String>> =
            (0..12).map(|i| Sensitive::new(format!("pw-{i}"))).collect();
        let hashes = hasher
            .hash_many(Work::Staff, passwords.clone())
            .await
            .unwrap();
        assert_eq!(hashes.len(), 12);
        for (hash, password) in hashes.into_iter().zip(passwords) {
            assert!(
                hasher
                    .verify(Work::Staff, Some(hash), password)
                    .await
                    .unwrap()
            );
        }
    }
}
