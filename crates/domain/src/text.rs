//! Text normalisation. Two different jobs, kept apart on purpose:
//!
//! - [`identity_key`] decides whether two usernames or email addresses are "the same":
//!   Unicode NFC, trimmed, lower-cased. Accents still count (`zoe` and `zoë` are different
//!   addresses).
//! - [`search_fold`] decides whether a query finds a record: accents, case, apostrophes and
//!   punctuation do not count, and Cyrillic and Greek letters are transliterated, so
//!   `lukasz` finds Łukasz and `aleksandr` finds Александр.
//!
//! And [`hex`], the one spelling of digests and fingerprints as text.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Trims, applies Unicode NFC and collapses every run of whitespace to one space.
pub fn tidy(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The comparison key for identities: NFC, trimmed, lower-cased.
pub fn identity_key(s: &str) -> String {
    s.trim().nfc().collect::<String>().to_lowercase()
}

/// The search form of a text: lower-case, without accents or punctuation, transliterated to
/// Latin where a simple table does it, words separated by single spaces.
pub fn search_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            if lower.is_alphanumeric() || lower == '@' {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                match transliterate(lower) {
                    Some(latin) => out.push_str(latin),
                    None => out.push(lower),
                }
            } else if !matches!(lower, '\'' | '’' | 'ʼ' | '‘') {
                // Apostrophes join (O'Brien is found by "obrien"); anything else separates.
                pending_space = true;
            }
        }
    }
    out
}

/// ASCII letters and digits of a name, for building a username suggestion.
pub fn ascii_letters(s: &str) -> String {
    search_fold(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// A SQL `LIKE` pattern matching any text that contains `word`, with `LIKE`'s own
/// wildcards in the word escaped; use it with `ESCAPE '\'`.
pub fn like_contains(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Latin spelling of letters that have no decomposition to a Latin base letter.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        // Latin letters that are not "letter + accent" in Unicode.
        'ł' => "l",
        'đ' | 'ð' => "d",
        'ø' => "o",
        'æ' => "ae",
        'œ' => "oe",
        'ß' => "ss",
        'þ' => "th",
        'ı' => "i",
        'ħ' => "h",
        // Cyrillic (Russian, Ukrainian, Belarusian, Bulgarian, Serbian common letters).
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' | 'э' | 'є' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'і' | 'ї' | 'й' => "i",
        'ј' => "j",
        'к' => "k",
        'л' => "l",
        'љ' => "lj",
        'м' => "m",
        'н' => "n",
        'њ' => "nj",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'ћ' => "c",
        'у' | 'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'џ' => "dz",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ы' => "y",
        'ю' => "iu",
        'я' => "ia",
        // Greek.
        'α' => "a",
        'β' => "v",
        'γ' => "g",
        'δ' => "d",
        'ε' => "e",
        'ζ' => "z",
        'η' => "i",
        'θ' => "th",
        'ι' => "i",
        'κ' => "k",
        'λ' => "l",
        'μ' => "m",
        'ν' => "n",
        'ξ' => "x",
        'ο' => "o",
        'π' => "p",
        'ρ' => "r",
        'σ' | 'ς' => "s",
        'τ' => "t",
        'υ' => "y",
        'φ' => "f",
        'χ' => "ch",
        'ψ' => "ps",
        'ω' => "o",
        _ => return None,
    })
}

/// Bytes as lower-case hexadecimal: how digests, fingerprints and token hashes are stored.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }

    use super::*;

    #[test]
    fn search_ignores_accents_case_and_special_latin_letters() {
        assert_eq!(search_fold("Łukasz"), "lukasz");
        assert_eq!(search_fold("ZOË"), "zoe");
        assert_eq!(search_fold("Nguyễn Văn An"), "nguyen van an");
        assert_eq!(search_fold("Đặng"), "dang");
        assert_eq!(search_fold("Søren Ærø"), "soren aero");
    }

    #[test]
    fn search_joins_apostrophes_and_splits_on_punctuation() {
        assert_eq!(search_fold("Siobhán O'Brien"), "siobhan obrien");
        assert_eq!(search_fold("O’Brien"), "obrien");
        assert_eq!(search_fold("  zoe.adams--x  "), "zoe adams x");
        assert_eq!(search_fold("zoe@example.org"), "zoe@example org");
    }

    #[test]
    fn search_transliterates_cyrillic_and_greek() {
        assert_eq!(search_fold("Александр"), "aleksandr");
        assert_eq!(search_fold("Йосип Ёлкин"), "iosip elkin");
        assert_eq!(search_fold("Σωκράτης"), "sokratis");
    }

    #[test]
    fn identity_key_is_case_insensitive_but_accent_sensitive() {
        assert_eq!(identity_key(" Zoe@Example.ORG "), "zoe@example.org");
        assert_ne!(identity_key("zoe"), identity_key("zoë"));
        // Composed and decomposed forms of the same letter are the same identity.
        assert_eq!(identity_key("zoe\u{308}"), identity_key("zoë"));
    }

    #[test]
    fn like_patterns_treat_wildcards_as_text() {
        assert_eq!(like_contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn tidy_collapses_whitespace_and_composes() {
        assert_eq!(tidy("  Zoe\u{308}   van  der\tBerg "), "Zoë van der Berg");
    }
}
