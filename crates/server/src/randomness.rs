//! Randomness, injected like the clock: session and device tokens, sealing nonces, parent
//! access codes and generated passwords all draw from the server's [`Randomness`].
//!
//! In production that is rand's thread-local generator (ChaCha, reseeded from the operating
//! system); a test may give a seeded one and get the same values on every run. The
//! generator is lent to a closure ([`Randomness::with`]) rather than handed out, so it can
//! never be held across an `.await` (the thread-local generator is not `Send`, and a future
//! holding it could not run on the server's threads).

use std::sync::{Arc, Mutex, PoisonError};

use rand::rngs::StdRng;
use rand::{CryptoRng, SeedableRng};

/// Where the server's random values come from.
#[derive(Clone, Default)]
pub struct Randomness {
    seeded: Option<Arc<Mutex<StdRng>>>,
}

impl std::fmt::Debug for Randomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.seeded {
            None => "Randomness::system",
            Some(_) => "Randomness::seeded",
        })
    }
}

impl Randomness {
    /// The operating system's randomness: what the server uses.
    pub fn system() -> Self {
        Self::default()
    }

    /// The same values on every run from `seed`: for tests that need to repeat them.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seeded: Some(Arc::new(Mutex::new(StdRng::seed_from_u64(seed)))),
        }
    }

    /// Runs `f` with a cryptographically secure generator.
    pub fn with<T>(&self, f: impl FnOnce(&mut dyn CryptoRng) -> T) -> T {
        match &self.seeded {
            None => f(&mut rand::rng()),
            Some(rng) => f(&mut *rng.lock().unwrap_or_else(PoisonError::into_inner)),
        }
    }

    /// `N` random bytes.
    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.with(|rng| rng.fill_bytes(&mut bytes));
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_source_repeats_and_the_system_one_does_not() {
        assert_eq!(
            Randomness::seeded(7).bytes::<32>(),
            Randomness::seeded(7).bytes::<32>()
        );
        assert_ne!(
            Randomness::seeded(7).bytes::<32>(),
            Randomness::seeded(8).bytes::<32>()
        );
        let system = Randomness::system();
        assert_ne!(system.bytes::<32>(), system.bytes::<32>());
    }
}
