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
//!
//! Each style also has a floor on zxcvbn's score, equal to the default minimum of the band
//! that uses it. The rare draw below it (`123456` as a PIN) is drawn again, and
//! [`PasswordStyle::recognise`] refuses it. So a generated password typed back always meets
//! its default band, and a weak password cannot skip the typed-password check by being sent
//! as "generated".

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
    /// Four consonant–vowel syllables and three digits: `bamoduki472`.
    Pronounceable,
    /// Six digits, for the youngest: `402917`.
    Pin,
    /// Twelve letters and digits without the look-alikes `l 1 I 0 O o`, and no symbols:
    /// `Kp7wRt3mYq2x`.
    Random,
}

/// Consonants for pronounceable passwords: no `l` (looks like `1` and `I`), and none that
/// read ambiguously aloud (`q`, `x`, `y`, `c`).
const CONSONANTS: &[u8] = b"bdfghjkmnprstvwz";
const VOWELS: &[u8] = b"aeiou";
/// Four syllables and three digits: 35.3 bits. With two digits it would have only 31.9; a
/// fifth syllable instead would make it twelve characters, the length of a random password,
/// and a lower-case random password could then not be told apart from a pronounceable one.
const SYLLABLES: usize = 4;
const PRONOUNCEABLE_DIGITS: usize = 3;
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

    /// Parses the stored spelling (ignoring case and surrounding spaces).
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
            PasswordStyle::Pronounceable => "Pronounceable syllables and three digits",
            PasswordStyle::Pin => "Six-digit PIN",
            PasswordStyle::Random => "Random letters and digits",
        }
    }

    /// Bits of entropy of a password of this style: log2 of how many there are, all equally
    /// likely: words ≈ 27.0 (from the list's length), pronounceable ≈ 35.3, PIN ≈ 19.9,
    /// random ≈ 69.7.
    ///
    /// Draws below the style's zxcvbn floor are drawn again (420 of the 10⁶ PINs with
    /// zxcvbn 3.1; fewer than 1 in 2,000 of the others). That takes less than 0.001 bits
    /// off these figures, which is left out.
    pub fn entropy_bits(self) -> f64 {
        let bits = |choices: usize, times: usize| times as f64 * (choices as f64).log2();
        match self {
            PasswordStyle::Words => bits(words().len(), 2) + bits(DIGITS.len(), 2),
            PasswordStyle::Pronounceable => {
                bits(CONSONANTS.len() * VOWELS.len(), SYLLABLES)
                    + bits(DIGITS.len(), PRONOUNCEABLE_DIGITS)
            }
            PasswordStyle::Pin => bits(DIGITS.len(), PIN_LEN),
            PasswordStyle::Random => bits(RANDOM_ALPHABET.len(), RANDOM_LEN),
        }
    }

    /// Whether `password` is one this style generates: exactly its shape (for words, both
    /// from the list) and not below its zxcvbn floor. The server accepts a password sent as
    /// generated only if some style recognises it.
    pub fn recognise(self, password: &str) -> bool {
        self.has_shape(password) && self.above_floor(password)
    }

    fn has_shape(self, password: &str) -> bool {
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
                bytes.len() == SYLLABLES * 2 + PRONOUNCEABLE_DIGITS
                    && bytes[..SYLLABLES * 2]
                        .chunks(2)
                        .all(|s| CONSONANTS.contains(&s[0]) && VOWELS.contains(&s[1]))
                    && all_in(&bytes[SYLLABLES * 2..], DIGITS)
            }
            PasswordStyle::Pin => bytes.len() == PIN_LEN && all_in(bytes, DIGITS),
            PasswordStyle::Random => bytes.len() == RANDOM_LEN && all_in(bytes, RANDOM_ALPHABET),
        }
    }

    /// The lowest zxcvbn score a password of this style may have: the default minimum of the
    /// band that uses the style (`PasswordSettings::default`), 3 for pronounceable so it can
    /// serve secondary learners.
    fn floor(self) -> u8 {
        match self {
            PasswordStyle::Pin => 1,
            PasswordStyle::Words => 2,
            PasswordStyle::Pronounceable | PasswordStyle::Random => 3,
        }
    }

    fn above_floor(self, password: &str) -> bool {
        u8::from(zxcvbn::zxcvbn(password, &[]).score()) >= self.floor()
    }
}

/// The child-safe word list: easy, friendly words of 3–7 lower-case letters, sorted.
///
/// Left out: anything rude, frightening, sad, medical, religious, political, about the body
/// or a brand; sound-alikes and slang senses of rude words; either half of the rude phrases
/// and slurs two random words could make (`monkey`, `jungle`, `cream`); and words spelt
/// more than one way (`cosy`/`cozy`, `yo-yo`), so a child writes what the teacher reads out.
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

/// A new password of `style`, uniform over the passwords the style
/// [recognises](PasswordStyle::recognise).
pub fn generate<R: rand::CryptoRng + ?Sized>(
    style: PasswordStyle,
    rng: &mut R,
) -> Sensitive<String> {
    loop {
        // Drawing again, rather than patching the weak draw, keeps the choice uniform over
        // what remains.
        let candidate = draw(style, rng);
        if style.above_floor(&candidate) {
            return Sensitive::new(candidate);
        }
    }
}

fn draw<R: rand::CryptoRng + ?Sized>(style: PasswordStyle, rng: &mut R) -> String {
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
            pick(DIGITS, PRONOUNCEABLE_DIGITS, rng, &mut out);
        }
        PasswordStyle::Pin => pick(DIGITS, PIN_LEN, rng, &mut out),
        PasswordStyle::Random => pick(RANDOM_ALPHABET, RANDOM_LEN, rng, &mut out),
    }
    out
}

/// A new parent access code: `XXXX-XXXX` from 31 look-alike-free characters (no
/// `I L O 0 1`), 8 × log2 31 ≈ 39.6 bits.
///
/// That is enough because a code alone gives nothing: linking is throttled and needs the
/// child's school as well, so an attacker gets a handful of guesses at a 1-in-10¹² chance
/// each. A code can also be replaced at any time.
pub fn parent_access_code<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Sensitive<String> {
    let mut out = String::with_capacity(CODE_LEN + 1);
    pick(CODE_ALPHABET, CODE_LEN / 2, rng, &mut out);
    out.push('-');
    pick(CODE_ALPHABET, CODE_LEN / 2, rng, &mut out);
    Sensitive::new(out)
}

/// A parent access code as a parent may type it, in its canonical `XXXX-XXXX` form, or
/// `None` if it cannot be one. Case, spaces and hyphens do not matter, and nor do the
/// typographic dashes a word processor or email puts in place of a hyphen.
pub fn normalise_parent_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '‑' | '–' | '—' | '−'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // A non-ASCII character's bytes are all outside the alphabet, so this also refuses
    // them, and slicing below is at character boundaries.
    if code.len() != CODE_LEN || !code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return None;
    }
    Some(format!(
        "{}-{}",
        &code[..CODE_LEN / 2],
        &code[CODE_LEN / 2..]
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    /// Words no child should be given: rude, frightening, sad, medical, religious, political,
    /// about the body, slang or sound-alikes of rude words, and the halves of slurs that two
    /// random words could make. None may be in the list.
    const BLOCKED: &[&str] = &[
        "kill", "dead", "death", "die", "blood", "gun", "knife", "sword", "ghost", "monster",
        "scary", "witch", "skull", "devil", "demon", "hell", "war", "bomb", "drunk", "beer",
        "wine", "fat", "ugly", "stupid", "dumb", "idiot", "butt", "bum", "poo", "poop", "pee",
        "fart", "sex", "nude", "naked", "kiss", "drug", "smoke", "fight", "punch", "hate", "cry",
        "sad", "sick", "ill", "pain", "hurt", "grave", "coffin", "zombie", "vampire", "spider",
        "snake", "shark", "wolf", "rat", "crime", "thief", "jail", "prison", "god", "church",
        "pray", "vote", "nazi", "slave", "gay", "homo", "ass", "damn", "crap", "hoe", "cock",
        "dick", "tit", "boob", "pussy", "bitch", "whore", "virus", "cancer", "wound", "beaver",
        "bush", "nut", "pea", "root", "tart", "stool", "clap", "lush", "horn", "cream", "knob",
        "willy", "fanny", "shag", "hump", "screw", "bang", "balls", "sack", "weed", "pot", "crack",
        "monkey", "ape", "gorilla", "jungle", "coon", "doctor", "nurse", "pill", "clown", "jeep",
        "lego", "dozy", "silly", "loser", "nerd", "pig",
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
        assert!(BLOCKED.len() >= 60);
        for blocked in BLOCKED {
            assert!(!is_word(blocked), "{blocked} is in the word list");
        }
    }

    #[test]
    fn every_style_makes_passwords_of_its_own_shape_only() {
        let mut rng = rng(1);
        for style in PasswordStyle::ALL {
            for _ in 0..200 {
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
            "sunny-otter-423",
            "Sunny-otter-42",
            "sunny-zzzzz-42",
            "sunny otter 42",
            "12345",
            "1234567",
            "bamoduki47",
            "bamodukite47",
            "bamoduki4x2",
            "lamoduki472",
            "Kp7wRt3mYq2",
            "Kp7wRt3mYq2l",
            "Kp7wRt3mYq2x!",
        ] {
            assert!(
                PasswordStyle::ALL.iter().all(|s| !s.recognise(typed)),
                "{typed}"
            );
        }
    }

    #[test]
    fn weak_passwords_of_a_generated_shape_are_not_recognised() {
        // Otherwise a client could send `123456` as "generated" and skip the typed check.
        for pin in ["000000", "123456", "121212", "111111", "654321"] {
            assert!(PasswordStyle::Pin.has_shape(pin));
            assert!(!PasswordStyle::Pin.recognise(pin), "{pin}");
        }
        for random in ["aaaaaaaaaaaa", "abcdefghijkm", "zxcvbnmasdfg"] {
            assert!(PasswordStyle::Random.has_shape(random));
            assert!(!PasswordStyle::Random.recognise(random), "{random}");
        }
        assert!(PasswordStyle::Pronounceable.has_shape("babababa123"));
        assert!(!PasswordStyle::Pronounceable.recognise("babababa123"));
        assert!(PasswordStyle::Pin.recognise("402917"));
    }

    #[test]
    fn no_generated_secret_starts_like_a_spreadsheet_formula() {
        let mut rng = rng(2);
        for style in PasswordStyle::ALL {
            for _ in 0..500 {
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
        let pronounceable_bits = 4.0 * 80f64.log2() + 1000f64.log2();
        assert!((PasswordStyle::Pronounceable.entropy_bits() - pronounceable_bits).abs() < 1e-9);
        assert!((PasswordStyle::Pin.entropy_bits() - 19.93).abs() < 0.01);
        assert!((PasswordStyle::Random.entropy_bits() - 12.0 * 56f64.log2()).abs() < 1e-9);
        assert!(PasswordStyle::Pronounceable.entropy_bits() >= 35.0);
        assert!(PasswordStyle::Words.entropy_bits() > 26.0);
    }

    #[test]
    fn choices_are_spread_over_the_whole_alphabet() {
        let mut rng = rng(3);
        let mut digits = HashSet::new();
        let mut first_words = HashSet::new();
        let mut random_chars = HashSet::new();
        let mut code_chars = HashSet::new();
        for _ in 0..1000 {
            digits.extend(generate(PasswordStyle::Pin, &mut rng).expose().chars());
            code_chars.extend(parent_access_code(&mut rng).expose().chars());
        }
        for _ in 0..300 {
            let words = generate(PasswordStyle::Words, &mut rng);
            first_words.insert(words.expose().split('-').next().unwrap().to_owned());
            random_chars.extend(generate(PasswordStyle::Random, &mut rng).expose().chars());
        }
        assert_eq!(digits.len(), 10);
        // 300 draws from over 1,000 words: about 260 distinct expected.
        assert!(first_words.len() > 200, "{}", first_words.len());
        assert_eq!(random_chars.len(), RANDOM_ALPHABET.len());
        assert_eq!(code_chars.len(), CODE_ALPHABET.len() + 1, "and the hyphen");
    }

    #[test]
    fn look_alikes_are_left_out_of_random_passwords_and_parent_codes() {
        for c in "l1I0Oo".bytes() {
            assert!(!RANDOM_ALPHABET.contains(&c), "{}", char::from(c));
        }
        for c in "ILO01".bytes() {
            assert!(!CODE_ALPHABET.contains(&c), "{}", char::from(c));
        }
        assert!(!CONSONANTS.contains(&b'l'));
    }

    #[test]
    fn parent_codes_are_read_back_however_they_are_typed() {
        let mut rng = rng(4);
        let code = parent_access_code(&mut rng);
        let code = code.expose();
        assert_eq!(code.len(), 9);
        assert_eq!(normalise_parent_code(code).as_deref(), Some(code.as_str()));
        let (a, b) = code.split_once('-').unwrap();
        for typed in [
            format!(" {} ", code.replace('-', " ").to_lowercase()),
            format!("{a}{b}"),
            format!("{a}--{b}"),
            format!("{a}\u{2013}{b}"),
            format!("{}\u{a0}-\u{a0}{}", a.to_lowercase(), b),
            format!("{} {} {}", &a[..2], &a[2..], b),
        ] {
            assert_eq!(
                normalise_parent_code(&typed).as_deref(),
                Some(code.as_str()),
                "{typed:?}"
            );
        }
        for bad in [
            "",
            "ABCD-EFG",
            "ABCD-EFGHJ",
            "ABCD-EFG0",
            "ABCD-EFGI",
            "ABCD=EFGH",
            "ABCD-EFGÉ",
            "ABCD_EFGH",
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
        assert_eq!(err.field, "style");
        assert!(err.reason.contains("words, pronounceable, pin or random"));
    }

    #[test]
    fn styles_travel_as_their_stored_names() {
        for style in PasswordStyle::ALL {
            let json = serde_json::to_string(&style).unwrap();
            assert_eq!(json, format!("\"{}\"", style.as_str()));
            assert_eq!(serde_json::from_str::<PasswordStyle>(&json).unwrap(), style);
        }
    }
}
