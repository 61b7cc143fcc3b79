//! Generated passwords and parent access codes.
//!
//! Every choice comes from a caller-supplied CSPRNG (the `CryptoRng` bound makes a weak
//! generator a compile error) and is uniform: `random_range` and `choose` reject samples
//! rather than reduce modulo, so no word or digit is favoured.
//!
//! The styles follow age (DESIGN §4): two easy words and two digits for most primary
//! children, a digits-only PIN for the youngest, pronounceable syllables, and look-alike-free
//! random characters for older learners and staff. No alphabet here contains `= + - @` or a
//! control character at the start of a secret, so no generated secret can be read as a
//! spreadsheet formula.

use std::sync::OnceLock;

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::error::{InvalidInput, Result};
use crate::secret::Sensitive;

/// How a generated password looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PasswordStyle {
    /// Two easy words and two digits: `sunny-otter-42`.
    Words,
    /// Four consonant–vowel syllables and two digits: `bamoduki47`.
    Pronounceable,
    /// Six digits, for the youngest: `402917`.
    Pin,
    /// Twelve letters and digits without look-alikes (no `l 1 I 0 O o`): `Kp7wRt3mYq2x`.
    Random,
}

/// Consonants for pronounceable passwords: no `l` (looks like `1` and `I`), and none that
/// read ambiguously aloud (`q`, `x`, `y`, `c`).
const CONSONANTS: &[u8] = b"bdfghjkmnprstvwz";
const VOWELS: &[u8] = b"aeiou";
const SYLLABLES: usize = 4;
const DIGITS: &[u8] = b"0123456789";
const PIN_LEN: usize = 6;
/// Letters and digits without the look-alikes `l 1 I 0 O o`.
const RANDOM_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const RANDOM_LEN: usize = 12;
/// Parent access codes: upper case and digits without `I L O 0 1`, so a code read aloud or
/// copied from paper is typed right.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;

impl PasswordStyle {
    /// Every style, in the order the app offers them.
    pub const ALL: [PasswordStyle; 4] = [
        PasswordStyle::Words,
        PasswordStyle::Pronounceable,
        PasswordStyle::Pin,
        PasswordStyle::Random,
    ];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordStyle::Words => "words",
            PasswordStyle::Pronounceable => "pronounceable",
            PasswordStyle::Pin => "pin",
            PasswordStyle::Random => "random",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|style| style.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                InvalidInput::new(
                    "style",
                    format!(
                        "unknown password style {s:?}: use words, pronounceable, pin or random"
                    ),
                )
            })
    }

    /// What it looks like, for a teacher choosing.
    pub fn label(self) -> &'static str {
        match self {
            PasswordStyle::Words => "Two words and two digits",
            PasswordStyle::Pronounceable => "Pronounceable syllables",
            PasswordStyle::Pin => "Six-digit PIN",
            PasswordStyle::Random => "Random letters and digits",
        }
    }

    /// Bits of entropy of a password of this style: log2 of how many there are, all
    /// equally likely.
    pub fn entropy_bits(self) -> f64 {
        let bits = |choices: usize, times: usize| times as f64 * (choices as f64).log2();
        match self {
            PasswordStyle::Words => bits(words().len(), 2) + bits(DIGITS.len(), 2),
            PasswordStyle::Pronounceable => {
                bits(CONSONANTS.len() * VOWELS.len(), SYLLABLES) + bits(DIGITS.len(), 2)
            }
            PasswordStyle::Pin => bits(DIGITS.len(), PIN_LEN),
            PasswordStyle::Random => bits(RANDOM_ALPHABET.len(), RANDOM_LEN),
        }
    }

    /// Whether `password` has exactly the shape this style generates. The server accepts a
    /// password sent as generated only if some style recognises it.
    pub fn recognise(self, password: &str) -> bool {
        let bytes = password.as_bytes();
        let all_in = |part: &[u8], alphabet: &[u8]| part.iter().all(|b| alphabet.contains(b));
        match self {
            PasswordStyle::Words => {
                let mut parts = password.split('-');
                let (Some(a), Some(b), Some(n), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return false;
                };
                is_word(a) && is_word(b) && n.len() == 2 && all_in(n.as_bytes(), DIGITS)
            }
            PasswordStyle::Pronounceable => {
                bytes.len() == SYLLABLES * 2 + 2
                    && bytes[..SYLLABLES * 2]
                        .chunks(2)
                        .all(|s| CONSONANTS.contains(&s[0]) && VOWELS.contains(&s[1]))
                    && all_in(&bytes[SYLLABLES * 2..], DIGITS)
            }
            PasswordStyle::Pin => bytes.len() == PIN_LEN && all_in(bytes, DIGITS),
            PasswordStyle::Random => bytes.len() == RANDOM_LEN && all_in(bytes, RANDOM_ALPHABET),
        }
    }
}

/// The child-safe word list: easy, friendly words of 3–7 letters, sorted.
pub fn words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("words.txt")
            .lines()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect()
    })
}

fn is_word(w: &str) -> bool {
    words().binary_search(&w).is_ok()
}

fn pick<R: rand::CryptoRng + ?Sized>(alphabet: &[u8], n: usize, rng: &mut R, out: &mut String) {
    for _ in 0..n {
        out.push(char::from(
            *alphabet.choose(rng).expect("alphabets are not empty"),
        ));
    }
}

/// A new password of `style`.
pub fn generate<R: rand::CryptoRng + ?Sized>(
    style: PasswordStyle,
    rng: &mut R,
) -> Sensitive<String> {
    let mut out = String::with_capacity(24);
    match style {
        PasswordStyle::Words => {
            let list = words();
            out.push_str(list[rng.random_range(0..list.len())]);
            out.push('-');
            out.push_str(list[rng.random_range(0..list.len())]);
            out.push('-');
            pick(DIGITS, 2, rng, &mut out);
        }
        PasswordStyle::Pronounceable => {
            for _ in 0..SYLLABLES {
                pick(CONSONANTS, 1, rng, &mut out);
                pick(VOWELS, 1, rng, &mut out);
            }
            pick(DIGITS, 2, rng, &mut out);
        }
        PasswordStyle::Pin => pick(DIGITS, PIN_LEN, rng, &mut out),
        PasswordStyle::Random => pick(RANDOM_ALPHABET, RANDOM_LEN, rng, &mut out),
    }
    Sensitive::new(out)
}

/// A new parent access code, `XXXX-XXXX` from 31 look-alike-free characters: about 40 bits.
/// Enough because a code alone gives nothing: linking is throttled and needs the child's
/// school, and a code can be replaced at any time.
pub fn parent_access_code<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Sensitive<String> {
    let mut out = String::with_capacity(CODE_LEN + 1);
    pick(CODE_ALPHABET, CODE_LEN / 2, rng, &mut out);
    out.push('-');
    pick(CODE_ALPHABET, CODE_LEN / 2, rng, &mut out);
    Sensitive::new(out)
}

/// A parent access code as a parent may type it (lower case, spaces, with or without the
/// hyphen) in its canonical `XXXX-XXXX` form, or `None` if it cannot be one.
pub fn normalise_parent_code(input: &str) -> Option<String> {
    let chars: Vec<u8> = input
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'-' | b'\t'))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if chars.len() != CODE_LEN || !chars.iter().all(|b| CODE_ALPHABET.contains(b)) {
        return None;
    }
    let text = String::from_utf8(chars).ok()?;
    Some(format!(
        "{}-{}",
        &text[..CODE_LEN / 2],
        &text[CODE_LEN / 2..]
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    /// Words no child should be given; none may be in the list.
    const BLOCKED: &[&str] = &[
        "kill", "dead", "death", "die", "blood", "gun", "knife", "sword", "ghost", "monster",
        "scary", "witch", "skull", "devil", "demon", "hell", "war", "bomb", "drunk", "beer",
        "wine", "fat", "ugly", "stupid", "dumb", "idiot", "butt", "bum", "poo", "poop", "pee",
        "fart", "sex", "nude", "naked", "kiss", "drug", "smoke", "fight", "punch", "hate", "cry",
        "sad", "sick", "ill", "pain", "hurt", "grave", "coffin", "zombie", "vampire", "spider",
        "snake", "shark", "wolf", "rat", "crime", "thief", "jail", "prison", "god", "church",
        "pray", "vote", "nazi", "slave", "gay", "homo", "ass", "damn", "crap", "hoe", "cock",
        "dick", "tit", "boob", "pussy", "bitch", "whore", "virus", "cancer", "wound",
    ];

    fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    #[test]
    fn the_word_list_is_large_unique_sorted_and_easy() {
        let list = words();
        assert!(list.len() >= 1000, "{} words", list.len());
        let unique: HashSet<_> = list.iter().collect();
        assert_eq!(unique.len(), list.len(), "duplicates in the list");
        assert!(
            list.windows(2).all(|w| w[0] < w[1]),
            "the list is not sorted"
        );
        for w in list {
            assert!((3..=7).contains(&w.len()), "{w}");
            assert!(w.bytes().all(|b| b.is_ascii_lowercase()), "{w}");
        }
    }

    #[test]
    fn the_word_list_holds_nothing_rude_or_frightening() {
        for blocked in BLOCKED {
            assert!(!is_word(blocked), "{blocked} is in the word list");
        }
        assert!(BLOCKED.len() >= 60);
    }

    #[test]
    fn every_style_makes_passwords_of_its_own_shape_only() {
        let mut rng = rng(1);
        for style in PasswordStyle::ALL {
            for _ in 0..300 {
                let password = generate(style, &mut rng);
                let password = password.expose();
                assert!(style.recognise(password), "{style:?}: {password}");
                for other in PasswordStyle::ALL.into_iter().filter(|o| *o != style) {
                    assert!(!other.recognise(password), "{other:?} claims {password}");
                }
            }
        }
        for typed in [
            "password",
            "sunny-otter-4",
            "sunny-zzzzz-42",
            "12345",
            "bamoduki4x",
        ] {
            assert!(
                PasswordStyle::ALL.iter().all(|s| !s.recognise(typed)),
                "{typed}"
            );
        }
    }

    #[test]
    fn no_generated_secret_starts_like_a_spreadsheet_formula() {
        let mut rng = rng(2);
        for style in PasswordStyle::ALL {
            for _ in 0..2000 {
                let password = generate(style, &mut rng);
                let first = password.expose().chars().next().unwrap();
                assert!(!"=+-@\t\r\n".contains(first), "{style:?}");
            }
        }
        for _ in 0..2000 {
            let code = parent_access_code(&mut rng);
            assert!(!"=+-@\t\r\n".contains(code.expose().chars().next().unwrap()));
        }
    }

    #[test]
    fn styles_report_their_entropy() {
        let words_bits = 2.0 * (words().len() as f64).log2() + 100f64.log2();
        assert!((PasswordStyle::Words.entropy_bits() - words_bits).abs() < 1e-9);
        assert!((PasswordStyle::Pin.entropy_bits() - 19.93).abs() < 0.01);
        assert!((PasswordStyle::Random.entropy_bits() - 12.0 * 56f64.log2()).abs() < 1e-9);
        assert!(PasswordStyle::Pronounceable.entropy_bits() > 30.0);
        assert!(PasswordStyle::Words.entropy_bits() > 26.0);
    }

    #[test]
    fn choices_are_spread_over_the_whole_alphabet() {
        let mut rng = rng(3);
        let mut digits = HashSet::new();
        let mut first_words = HashSet::new();
        for _ in 0..1000 {
            digits.extend(generate(PasswordStyle::Pin, &mut rng).expose().chars());
            let words = generate(PasswordStyle::Words, &mut rng);
            first_words.insert(words.expose().split('-').next().unwrap().to_owned());
        }
        assert_eq!(digits.len(), 10);
        assert!(first_words.len() > 500, "{}", first_words.len());
    }

    #[test]
    fn parent_codes_are_read_back_however_they_are_typed() {
        let mut rng = rng(4);
        let code = parent_access_code(&mut rng);
        let code = code.expose();
        assert_eq!(code.len(), 9);
        assert_eq!(normalise_parent_code(code).as_deref(), Some(code.as_str()));
        let typed = format!(" {} ", code.replace('-', " ").to_lowercase());
        assert_eq!(
            normalise_parent_code(&typed).as_deref(),
            Some(code.as_str())
        );
        for bad in [
            "",
            "ABCD-EFG",
            "ABCD-EFGHJ",
            "ABCD-EFG0",
            "ABCD-EFGI",
            "ABCD=EFGH",
        ] {
            assert_eq!(normalise_parent_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn styles_parse_from_their_names_only() {
        for style in PasswordStyle::ALL {
            assert_eq!(PasswordStyle::parse(style.as_str()).unwrap(), style);
        }
        assert_eq!(PasswordStyle::parse(" PIN ").unwrap(), PasswordStyle::Pin);
        let err = PasswordStyle::parse("emoji").unwrap_err();
        assert!(err.reason.contains("words, pronounceable, pin or random"));
    }
}
