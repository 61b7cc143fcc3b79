//! The sealed form of retrievable secrets: teacher-set passwords and parent access codes.
//!
//! Teachers of young children need to see a password again, so these secrets are kept
//! encrypted rather than only hashed (sign-in itself checks the argon2id hash, never this).
//! A secret is sealed with XChaCha20-Poly1305 under a per-school data key on the server, and
//! again under a device key in the desktop replica. The associated data binds the secret to
//! its context — who holds the key, the learner, the credential epoch and the field — so a
//! sealed value copied onto another row, another learner or another field, or left over from
//! before a reset (an older epoch), does not open.
//!
//! Stored form: `s1.` followed by standard, padded base64 of `nonce (24 bytes) ||
//! ciphertext || tag (16 bytes)`. The version prefix lets a later format live beside this one.
//!
//! Randomness (keys, nonces) comes from the caller, like everywhere in this crate.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Sensitive;

/// The prefix of the one stored format this version writes and reads.
const PREFIX: &str = "s1.";
/// The format's number, bound into the associated data.
const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;

/// The label from which the fingerprint key is derived, so the AEAD key itself never feeds a
/// second algorithm.
const FINGERPRINT_KEY_LABEL: &[u8] = b"ClassKeys fingerprint key v1";

type HmacSha256 = Hmac<Sha256>;

/// A 32-byte symmetric key: a school's data key on the server, or a device key on the
/// desktop.
///
/// `Debug` shows `SealingKey(<redacted>)`, and the type is neither `Display` nor `Serialize`,
/// so a key cannot reach a log line or a response by accident.
pub struct SealingKey {
    aead: Key,
    /// Derived once here rather than per fingerprint.
    fingerprint: [u8; 32],
}

impl SealingKey {
    /// A key from its raw bytes (for example unwrapped from the database).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let mut mac = new_hmac(&bytes);
        mac.update(FINGERPRINT_KEY_LABEL);
        Self {
            aead: Key::from(bytes),
            fingerprint: mac.finalize().into_bytes().into(),
        }
    }

    /// A fresh random key.
    pub fn generate<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// The key as standard, padded base64, for keeping a device key in the OS credential
    /// store.
    pub fn to_base64(&self) -> Sensitive<String> {
        Sensitive::new(BASE64.encode(self.aead.as_slice()))
    }

    /// Reads a key written by [`SealingKey::to_base64`]. Surrounding whitespace is ignored
    /// (a key pasted from a file often ends in a newline); anything but exactly 32 bytes of
    /// base64 is refused.
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|_| SealError::BadKey("it is not valid base64".into()))?;
        let bytes: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            SealError::BadKey(format!(
                "it holds {} bytes, and a key is exactly {KEY_LEN}",
                bytes.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

/// Which secret of a learner a sealed value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The learner's password, set by a teacher.
    Password,
    /// The parent access code.
    ParentCode,
    /// The body of a queued message (it may hold a sign-in link). The context's `learner`
    /// is the message's id and its epoch 0: the body belongs to that one message.
    MailBody,
}

impl Field {
    /// The field's name: `password` or `parent_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Password => "password",
            Field::ParentCode => "parent_code",
            Field::MailBody => "mail_body",
        }
    }

    /// The byte that stands for the field in the associated data. Never change one: every
    /// stored value depends on it.
    fn tag(self) -> u8 {
        match self {
            Field::Password => b'P',
            Field::ParentCode => b'C',
            Field::MailBody => b'M',
        }
    }
}

/// Who holds the key a value is sealed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A school's data key, on the server; the owner is the school id.
    School,
    /// A desktop's device key, in its local replica; the owner is the device id.
    Device,
}

impl Scope {
    /// As [`Field::tag`]: fixed forever.
    fn tag(self) -> u8 {
        match self {
            Scope::School => b'S',
            Scope::Device => b'D',
        }
    }
}

/// Everything a sealed value is bound to. Opening succeeds only with the same context it was
/// sealed with.
#[derive(Debug, Clone, Copy)]
pub struct SealContext<'a> {
    /// Who holds the key.
    pub scope: Scope,
    /// The school id ([`Scope::School`]) or device id ([`Scope::Device`]).
    pub owner: &'a str,
    /// The learner id.
    pub learner: &'a str,
    /// The learner's credential epoch; a reset bumps it, so older sealed copies stop opening.
    pub epoch: i64,
    /// Which secret this is.
    pub field: Field,
}

/// The start of the associated data: `CK` and the format version. A fixed start keeps these
/// bytes apart from anything else a key might ever authenticate, and a value sealed in a
/// later format never opens as this one.
const AAD_MAGIC: [u8; 3] = [b'C', b'K', FORMAT_VERSION];
/// Room for two UUIDs and more, so the associated data of real ids never touches the heap.
const AAD_STACK_LEN: usize = 160;

/// Calls `f` with the associated data for `ctx`: magic, scope, field, epoch (fixed widths),
/// then owner and learner, each preceded by its length.
///
/// The encoding is injective. Separators would do only if ids could never contain them, and
/// the owner and learner are plain strings here; with length prefixes, `("ab", "c")` and
/// `("a", "bc")` can never give the same bytes, whatever the ids hold. The lengths are
/// LEB128 (one byte below 128, more above, never ambiguous) rather than fixed `u64`s to keep
/// the whole short: Poly1305 pays per 16-byte block of associated data, a school export
/// opens 200,000 values, and with two UUIDs this is 87 bytes, six blocks.
fn with_aad<T>(ctx: &SealContext<'_>, f: impl FnOnce(&[u8]) -> T) -> T {
    let len = AAD_MAGIC.len()
        + 2
        + 8
        + leb128_len(ctx.owner.len())
        + ctx.owner.len()
        + leb128_len(ctx.learner.len())
        + ctx.learner.len();
    let mut stack = [0u8; AAD_STACK_LEN];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if len <= AAD_STACK_LEN {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        &mut heap
    };
    let mut out = Cursor { buf, at: 0 };
    out.put(&AAD_MAGIC);
    out.put(&[ctx.scope.tag(), ctx.field.tag()]);
    out.put(&ctx.epoch.to_be_bytes());
    out.put_prefixed(ctx.owner);
    out.put_prefixed(ctx.learner);
    debug_assert_eq!(out.at, len);
    f(out.buf)
}

fn leb128_len(mut n: usize) -> usize {
    let mut bytes = 1;
    while n >= 0x80 {
        n >>= 7;
        bytes += 1;
    }
    bytes
}

/// Writes into a buffer sized in advance.
struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }

    fn put_prefixed(&mut self, text: &str) {
        let mut n = text.len();
        while n >= 0x80 {
            self.put(&[(n & 0x7f) as u8 | 0x80]);
            n >>= 7;
        }
        self.put(&[n as u8]);
        self.put(text.as_bytes());
    }
}

/// A sealed secret as stored: `s1.` and base64. Only [`open`] with the right key and context
/// reveals the secret.
///
/// `Debug` shows only the length: the text is ciphertext, but there is no reason for it to
/// travel into logs either.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(String);

impl SealedSecret {
    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks stored text: the `s1.` prefix, valid padded base64, and room for a nonce and a
    /// tag. Whether it opens is for [`open`] to say.
    pub fn parse(stored: String) -> Result<Self, SealError> {
        let body = body(&stored)?;
        let len = if body.len() <= PARSE_STACK_LEN / 3 * 4 {
            // Validate into a stack buffer: parsing many rows should not allocate per row.
            let mut scratch = [0u8; PARSE_STACK_LEN];
            BASE64.decode_slice(body, &mut scratch).ok()
        } else {
            BASE64.decode(body).map(|bytes| bytes.len()).ok()
        }
        .ok_or(SealError::Malformed("it is not valid base64"))?;
        check_len(len)?;
        Ok(Self(stored))
    }

    /// The stored text, for writing back to the database.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Values holding secrets of up to 143 bytes are checked without touching the heap.
const PARSE_STACK_LEN: usize = 184;

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret({} chars)", self.0.len())
    }
}

fn body(stored: &str) -> Result<&str, SealError> {
    stored.strip_prefix(PREFIX).ok_or(SealError::Malformed(
        "it does not start with s1. (unknown or missing format version)",
    ))
}

fn check_len(decoded: usize) -> Result<(), SealError> {
    if decoded < NONCE_LEN + TAG_LEN {
        return Err(SealError::Malformed(
            "it is too short to hold a nonce and a tag",
        ));
    }
    Ok(())
}

/// Seals `secret` for `ctx` under `key`, with a fresh 24-byte nonce from `rng`.
///
/// A 24-byte random nonce is why this is XChaCha rather than ChaCha: a school seals many
/// values under one key over the years, and 192-bit nonces can be drawn at random without any
/// realistic chance of a repeat.
pub fn seal<R: rand::CryptoRng + ?Sized>(
    key: &SealingKey,
    ctx: &SealContext<'_>,
    secret: &str,
    rng: &mut R,
) -> SealedSecret {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let mut payload = Vec::with_capacity(NONCE_LEN + secret.len() + TAG_LEN);
    payload.extend_from_slice(&nonce);
    payload.extend_from_slice(secret.as_bytes());
    let cipher = XChaCha20Poly1305::new(&key.aead);
    let tag = with_aad(ctx, |aad| {
        cipher.encrypt_in_place_detached(XNonce::from_slice(&nonce), aad, &mut payload[NONCE_LEN..])
    })
    // Fails only for inputs of hundreds of gigabytes.
    .expect("XChaCha20-Poly1305 seals any secret that fits in memory");
    payload.extend_from_slice(&tag);
    let mut stored = String::with_capacity(PREFIX.len() + payload.len().div_ceil(3) * 4);
    stored.push_str(PREFIX);
    BASE64.encode_string(&payload, &mut stored);
    SealedSecret(stored)
}

/// Opens a sealed value. Fails with [`SealError::WrongKeyOrContext`] if the key is another,
/// if the value was sealed for another owner, learner, epoch, field or scope, or if it was
/// altered.
pub fn open(
    key: &SealingKey,
    ctx: &SealContext<'_>,
    sealed: &SealedSecret,
) -> Result<Sensitive<String>, SealError> {
    let body = body(&sealed.0)?;
    // One allocation per call: the buffer decoded into becomes the returned String, after
    // the nonce and tag are cut off and the ciphertext is decrypted in place.
    let mut buf = BASE64
        .decode(body)
        .map_err(|_| SealError::Malformed("it is not valid base64"))?;
    check_len(buf.len())?;
    let (nonce, rest) = buf.split_at_mut(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
    let cipher = XChaCha20Poly1305::new(&key.aead);
    with_aad(ctx, |aad| {
        cipher.decrypt_in_place_detached(
            XNonce::from_slice(nonce),
            aad,
            ciphertext,
            Tag::from_slice(tag),
        )
    })
    .map_err(|_| SealError::WrongKeyOrContext)?;
    buf.truncate(buf.len() - TAG_LEN);
    buf.drain(..NONCE_LEN);
    // Only `seal` (which takes a &str) can make a value that authenticates, so this holds
    // unless the key was used to seal something else.
    String::from_utf8(buf)
        .map(Sensitive::new)
        .map_err(|_| SealError::Malformed("the opened secret is not UTF-8 text"))
}

/// A keyed fingerprint of `value`: lowercase hex of HMAC-SHA256, for finding a row by a value
/// that is stored only sealed (a parent access code typed by a parent) without storing it in
/// the clear or in an unkeyed, guessable hash.
///
/// The MAC key is derived from the sealing key, and the field is part of the message, so a
/// password and a parent code with the same text have unrelated fingerprints.
pub fn fingerprint(key: &SealingKey, field: Field, value: &str) -> String {
    let mut mac = new_hmac(&key.fingerprint);
    // The field names contain no NUL, so `field \0 value` is unambiguous.
    mac.update(field.as_str().as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    let digest = mac.finalize().into_bytes();
    crate::text::hex(&digest)
}

fn new_hmac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes a key of any length")
}

/// Why a key could not be read or a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The stored text is not a sealed value this version can read: unknown or missing
    /// format prefix, bad base64, or too short.
    #[error("the sealed value is malformed: {0}")]
    Malformed(&'static str),
    /// The value is well formed but does not open: another key, another context (owner,
    /// learner, epoch, field, scope), or altered.
    #[error(
        "the sealed value does not open: it was sealed under another key or for another \
         learner, field or credential epoch, or it was altered"
    )]
    WrongKeyOrContext,
    /// A key in text form could not be read.
    #[error("the key is not usable: {0}")]
    BadKey(String),
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const SCHOOL: &str = "0190f3a0-0000-7000-8000-000000000001";
    const LEARNER: &str = "0190f3a0-0000-7000-8000-0000000000aa";

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    fn key(rng: &mut StdRng) -> SealingKey {
        SealingKey::generate(rng)
    }

    fn ctx() -> SealContext<'static> {
        SealContext {
            scope: Scope::School,
            owner: SCHOOL,
            learner: LEARNER,
            epoch: 3,
            field: Field::Password,
        }
    }

    #[test]
    fn a_sealed_secret_opens_to_the_same_text() {
        let mut rng = rng();
        let key = key(&mut rng);
        for secret in ["sunny-otter-42", "", "Ünïcödé ключ 🔑", &"x".repeat(1000)] {
            let sealed = seal(&key, &ctx(), secret, &mut rng);
            assert!(sealed.as_str().starts_with("s1."));
            let reparsed = SealedSecret::parse(sealed.clone().into_string()).unwrap();
            assert_eq!(reparsed, sealed);
            assert_eq!(open(&key, &ctx(), &reparsed).unwrap().expose(), secret);
        }
    }

    #[test]
    fn long_ids_are_bound_as_well_as_short_ones() {
        let mut rng = rng();
        let key = key(&mut rng);
        let long = "l".repeat(500);
        let ctx = SealContext {
            learner: &long,
            ..ctx()
        };
        let sealed = seal(&key, &ctx, "pw", &mut rng);
        assert_eq!(open(&key, &ctx, &sealed).unwrap().expose(), "pw");
        let other = SealContext {
            learner: &long[1..],
            ..ctx
        };
        assert_eq!(
            open(&key, &other, &sealed),
            Err(SealError::WrongKeyOrContext)
        );

        // Around the point where a length needs a second prefix byte.
        let (a, b) = ("a".repeat(127), "a".repeat(129));
        let (c, d) = ("a".repeat(128), "a".repeat(128));
        let here = SealContext {
            owner: &a,
            learner: &b,
            ..ctx
        };
        let there = SealContext {
            owner: &c,
            learner: &d,
            ..ctx
        };
        let sealed = seal(&key, &here, "pw", &mut rng);
        assert_eq!(open(&key, &here, &sealed).unwrap().expose(), "pw");
        assert_eq!(
            open(&key, &there, &sealed),
            Err(SealError::WrongKeyOrContext)
        );
    }

    #[test]
    fn a_sealed_secret_does_not_open_in_any_other_context_or_under_another_key() {
        let mut rng = rng();
        let key = key(&mut rng);
        let sealed = seal(&key, &ctx(), "sunny-otter-42", &mut rng);
        let others = [
            SealContext {
                scope: Scope::Device,
                ..ctx()
            },
            SealContext {
                owner: "0190f3a0-0000-7000-8000-000000000002",
                ..ctx()
            },
            SealContext {
                learner: "0190f3a0-0000-7000-8000-0000000000ab",
                ..ctx()
            },
            SealContext { epoch: 4, ..ctx() },
            SealContext {
                field: Field::ParentCode,
                ..ctx()
            },
            // Moving bytes between the two ids must not give the same associated data.
            SealContext {
                owner: "0190f3a0-0000-7000-8000-00000000000",
                learner: "10190f3a0-0000-7000-8000-0000000000aa",
                ..ctx()
            },
        ];
        for other in &others {
            assert_eq!(
                open(&key, other, &sealed),
                Err(SealError::WrongKeyOrContext),
                "{other:?}"
            );
        }
        let another_key = SealingKey::generate(&mut rng);
        assert_eq!(
            open(&another_key, &ctx(), &sealed),
            Err(SealError::WrongKeyOrContext)
        );
    }

    #[test]
    fn a_sealed_value_with_any_byte_changed_does_not_open() {
        let mut rng = rng();
        let key = key(&mut rng);
        let sealed = seal(&key, &ctx(), "sunny-otter-42", &mut rng);
        let bytes = BASE64.decode(&sealed.as_str()[3..]).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let text = format!("s1.{}", BASE64.encode(&tampered));
            let tampered = SealedSecret::parse(text).unwrap();
            assert_eq!(
                open(&key, &ctx(), &tampered),
                Err(SealError::WrongKeyOrContext),
                "byte {i}"
            );
        }
    }

    #[test]
    fn malformed_stored_text_is_refused_as_malformed() {
        let mut rng = rng();
        let key = key(&mut rng);
        // 24 + 1 + 16 = 41 bytes, not a multiple of 3, so the text ends in padding.
        let good = seal(&key, &ctx(), "p", &mut rng).into_string();
        let unpadded = good.trim_end_matches('=').to_owned();
        assert_ne!(unpadded, good);
        let cases = [
            String::new(),
            "s1.".to_owned(),
            "s2.AAAA".to_owned(),
            "S1.AAAA".to_owned(),
            good[3..].to_owned(),
            "s1.not base64!".to_owned(),
            format!("s1.{}", BASE64.encode([0u8; 39])),
            unpadded,
            format!("{good} "),
            "s1.".to_owned() + &"A".repeat(4000) + "!",
        ];
        for case in cases {
            assert!(
                matches!(
                    SealedSecret::parse(case.clone()),
                    Err(SealError::Malformed(_))
                ),
                "{case:?}"
            );
        }
        // The shortest well-formed value (an empty secret) is accepted.
        assert!(SealedSecret::parse(format!("s1.{}", BASE64.encode([0u8; 40]))).is_ok());
    }

    #[test]
    fn a_value_sealed_by_an_earlier_build_still_opens() {
        // Pinned, so that a change to the associated data or the stored form, which would
        // make every value already in a database unreadable, cannot go unnoticed.
        let sealed = SealedSecret::parse(
            "s1.qoxMHyYpEMT9wTtt4oCWfDX7px4GsU+dwSS44ZnY/ynKyVaAYCATs73uorIyYC0wSII1Mgr4".into(),
        )
        .unwrap();
        let key = SealingKey::from_bytes([7; 32]);
        assert_eq!(
            open(&key, &ctx(), &sealed).unwrap().expose(),
            "sunny-otter-42"
        );
    }

    #[test]
    fn sealing_the_same_secret_twice_gives_different_text() {
        let mut rng = rng();
        let key = key(&mut rng);
        let a = seal(&key, &ctx(), "sunny-otter-42", &mut rng);
        let b = seal(&key, &ctx(), "sunny-otter-42", &mut rng);
        assert_ne!(a, b);
        assert_eq!(a.as_str()[3..35].len(), 32);
        assert_ne!(a.as_str()[3..35], b.as_str()[3..35], "fresh nonce");
    }

    #[test]
    fn debug_output_never_shows_a_key_or_sealed_text() {
        let mut rng = rng();
        let key = key(&mut rng);
        let sealed = seal(&key, &ctx(), "sunny-otter-42", &mut rng);
        let key_text = key.to_base64().expose().clone();
        let debug = format!("{key:?} {sealed:?} {:?}", key.to_base64());
        assert_eq!(
            format!("{key:?}"),
            "SealingKey(<redacted>)",
            "the key's Debug"
        );
        assert!(!debug.contains(&key_text), "{debug}");
        assert!(!debug.contains(&sealed.as_str()[3..]), "{debug}");
        assert!(!debug.contains("sunny"), "{debug}");
        assert_eq!(
            format!("{sealed:?}"),
            format!("SealedSecret({} chars)", sealed.as_str().len())
        );
    }

    #[test]
    fn fingerprints_are_stable_and_differ_by_key_and_field() {
        let mut rng = rng();
        let key = key(&mut rng);
        let other_key = SealingKey::generate(&mut rng);
        let a = fingerprint(&key, Field::ParentCode, "ABCD-EFGH");
        assert_eq!(a, fingerprint(&key, Field::ParentCode, "ABCD-EFGH"));
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(a, fingerprint(&key, Field::ParentCode, "ABCD-EFGJ"));
        assert_ne!(a, fingerprint(&key, Field::Password, "ABCD-EFGH"));
        assert_ne!(a, fingerprint(&other_key, Field::ParentCode, "ABCD-EFGH"));
        // Pinned, so that a change to the derivation (which would orphan every stored
        // fingerprint) cannot go unnoticed.
        assert_eq!(
            fingerprint(
                &SealingKey::from_bytes([7; 32]),
                Field::ParentCode,
                "ABCD-EFGH"
            ),
            PINNED_FINGERPRINT
        );
    }

    const PINNED_FINGERPRINT: &str =
        "ca99467ae500c6ae8ecad2f896a26df7f0f317635f2f4cf017096d0277f5561f";

    #[test]
    fn a_key_survives_base64_and_wrong_lengths_are_refused() {
        let mut rng = rng();
        let key = key(&mut rng);
        let text = key.to_base64();
        let back = SealingKey::from_base64(text.expose()).unwrap();
        assert_eq!(back.to_base64(), text);
        let sealed = seal(&key, &ctx(), "pw", &mut rng);
        assert_eq!(open(&back, &ctx(), &sealed).unwrap().expose(), "pw");
        assert!(SealingKey::from_base64(&format!("{}\n", text.expose())).is_ok());

        for len in [0, 31, 33] {
            let err = SealingKey::from_base64(&BASE64.encode(vec![1u8; len])).unwrap_err();
            assert!(
                matches!(&err, SealError::BadKey(reason) if reason.contains(&len.to_string())),
                "{err}"
            );
        }
        assert!(matches!(
            SealingKey::from_base64("not a key"),
            Err(SealError::BadKey(_))
        ));
    }
}
