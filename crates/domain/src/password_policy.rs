//! A school's password rules per age band, and the check of a password a teacher typed.
//!
//! Generated passwords meet their band's default rules by construction (see
//! [`crate::generator`]). A typed one is checked here, in order, and refused with one plain
//! reason a teacher can act on: empty, spaces at the ends, invisible characters, a
//! spreadsheet-formula first character (so every stored password survives a CSV export
//! unchanged), length, the learner's own names, and last zxcvbn's estimate of how guessable
//! it is. Cheap, certain reasons come before the estimate, so the teacher hears the one that
//! is easiest to fix.

use serde::{Deserialize, Deserializer};

use crate::generator::PasswordStyle;
use crate::text::search_fold;

/// The longest password accepted, in characters.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Who a password is for, by age. Ordered youngest first, so the band of a learner in
/// several classes is the `min` of theirs (the youngest's rules protect them all).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgeBand {
    /// Nursery, reception and the first two school years (about 3–7).
    Early,
    /// The rest of primary school (about 7–11).
    Primary,
    /// Secondary school and beyond.
    Secondary,
    /// Teachers and other staff.
    Staff,
}

/// Words that put a class in the early years wherever they appear.
const EARLY_WORDS: [&str; 12] = [
    "nursery",
    "reception",
    "eyfs",
    "foundation",
    "kindergarten",
    "kindy",
    "preschool",
    "prek",
    "pre",
    "tk",
    "infant",
    "infants",
];
/// Words that put a class in secondary school wherever they appear ("Sixth form",
/// "Form 1", "Sixth-form college", "Seniors").
const SECONDARY_WORDS: [&str; 5] = ["form", "college", "secondary", "senior", "seniors"];
/// Words that come before a year or grade: "Year 4", "Y4", "Yr 4", "Grade 4", "Class 4",
/// "Standard 4".
const GRADE_PREFIXES: [&str; 8] = ["year", "yr", "y", "grade", "gr", "class", "standard", "std"];
/// Year numbers written as words: "Year One", "First grade".
const NUMBER_WORDS: [[&str; 2]; 13] = [
    ["one", "first"],
    ["two", "second"],
    ["three", "third"],
    ["four", "fourth"],
    ["five", "fifth"],
    ["six", "sixth"],
    ["seven", "seventh"],
    ["eight", "eighth"],
    ["nine", "ninth"],
    ["ten", "tenth"],
    ["eleven", "eleventh"],
    ["twelve", "twelfth"],
    ["thirteen", "thirteenth"],
];

impl AgeBand {
    /// The band of a class, from its free-text year group, ignoring case, spaces and
    /// punctuation. Unknown or missing: Primary.
    ///
    /// - Early: "Nursery", "Reception", "Year R", "EYFS", "Pre-K", "K", "Kindergarten",
    ///   "Infants", "KS1", years or grades 0–2 ("Year 1", "Y2", "1", "Grade 1"), Scottish
    ///   P1–P3.
    /// - Primary: years or grades 3–6 ("Year 4", "4th grade", "Grade Six"), "KS2", P4–P7.
    /// - Secondary: 7 and above ("Year 10", "Y13", "Class 10"), "KS3"–"KS5", Scottish S1–S6,
    ///   and any "form" ("Form 1", "Sixth form", "6th form"), "Lower/Upper Sixth", "College".
    ///
    /// A number counts only at the start or after a word like "Year" or "Grade", so
    /// "Room 12" or "Oak Class, Mrs Smith 2" fall back to Primary rather than a wrong guess.
    pub fn for_year_group(year_group: Option<&str>) -> AgeBand {
        let tokens = year_group.map(tokens).unwrap_or_default();
        let words: Vec<&str> = tokens.iter().map(String::as_str).collect();
        band_of(&words).unwrap_or(AgeBand::Primary)
    }
}

/// Lower-case runs of letters or of digits: "Y10/11" → `y`, `10`, `11`.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut last: Option<bool> = None;
    for c in text.chars().flat_map(char::to_lowercase) {
        let digit = c.is_ascii_digit();
        if !c.is_alphanumeric() {
            last = None;
            continue;
        }
        match tokens.last_mut() {
            Some(token) if last == Some(digit) => token.push(c),
            _ => tokens.push(c.to_string()),
        }
        last = Some(digit);
    }
    tokens
}

fn number(token: &str) -> Option<u32> {
    token.parse().ok().or_else(|| {
        let n = NUMBER_WORDS
            .iter()
            .position(|words| words.contains(&token))?;
        u32::try_from(n + 1).ok()
    })
}

fn band_of(t: &[&str]) -> Option<AgeBand> {
    let has = |word: &str| t.contains(&word);
    // "YR" alone is Year R (reception); "Yr 4" is Year 4.
    if t.iter().any(|w| EARLY_WORDS.contains(w)) || t == ["yr"] {
        return Some(AgeBand::Early);
    }
    // English key stages: KS1 is Years 1–2, KS2 Years 3–6, KS3 onwards secondary.
    let key_stage = t
        .windows(2)
        .find(|w| w[0] == "ks" || w[0] == "stage")
        .and_then(|w| number(w[1]));
    if let Some(stage) = key_stage {
        return Some(match stage {
            0 | 1 => AgeBand::Early,
            2 => AgeBand::Primary,
            _ => AgeBand::Secondary,
        });
    }
    if SECONDARY_WORDS.iter().any(|w| has(w))
        || ((has("lower") || has("upper")) && (has("sixth") || has("6")))
    {
        return Some(AgeBand::Secondary);
    }
    // Scottish primary P1–P7 (P1 is about reception's age) and secondary S1–S6.
    match (t.first(), t.get(1).and_then(|w| number(w))) {
        (Some(&"p"), Some(n)) => {
            return Some(if n <= 3 {
                AgeBand::Early
            } else {
                AgeBand::Primary
            });
        }
        (Some(&"s"), Some(_)) => return Some(AgeBand::Secondary),
        _ => {}
    }
    let after_prefix = t
        .windows(2)
        .filter(|w| GRADE_PREFIXES.contains(&w[0]))
        .map(|w| w[1]);
    let grade = t
        .first()
        .copied()
        .into_iter()
        .chain(after_prefix)
        .find_map(|w| match w {
            // Year R (reception) and grade K (kindergarten).
            "r" | "k" => Some(0),
            _ => number(w),
        })?;
    Some(match grade {
        0..=2 => AgeBand::Early,
        3..=6 => AgeBand::Primary,
        _ => AgeBand::Secondary,
    })
}

/// The rules of one age band.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BandPolicy {
    /// The style generated by default.
    pub style: PasswordStyle,
    /// The shortest typed password accepted, in characters.
    pub min_length: usize,
    /// The zxcvbn score (0–4) a typed password needs.
    pub min_score: u8,
}

/// A school's password rules, kept in its settings. A band, or a field of a band, that is
/// missing takes its default; unknown fields are ignored; a `min_score` above 4 or a
/// `min_length` above [`MAX_PASSWORD_CHARS`] is read as the highest that any password can
/// meet, so a stored typo cannot make every password impossible.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordSettings {
    /// Nursery to Year 2.
    #[serde(deserialize_with = "stored_early")]
    pub early: BandPolicy,
    /// Years 3 to 6.
    #[serde(deserialize_with = "stored_primary")]
    pub primary: BandPolicy,
    /// Year 7 and above.
    #[serde(deserialize_with = "stored_secondary")]
    pub secondary: BandPolicy,
    /// Staff.
    #[serde(deserialize_with = "stored_staff")]
    pub staff: BandPolicy,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        let band = |style, min_length, min_score| BandPolicy {
            style,
            min_length,
            min_score,
        };
        Self {
            early: band(PasswordStyle::Pin, 6, 1),
            primary: band(PasswordStyle::Words, 8, 2),
            secondary: band(PasswordStyle::Random, 10, 3),
            staff: band(PasswordStyle::Random, 12, 3),
        }
    }
}

impl PasswordSettings {
    /// The rules of a band.
    pub fn for_band(&self, band: AgeBand) -> &BandPolicy {
        match band {
            AgeBand::Early => &self.early,
            AgeBand::Primary => &self.primary,
            AgeBand::Secondary => &self.secondary,
            AgeBand::Staff => &self.staff,
        }
    }
}

/// A band as stored, where any field may be missing.
#[derive(Deserialize)]
struct StoredBand {
    style: Option<PasswordStyle>,
    min_length: Option<usize>,
    min_score: Option<u8>,
}

fn stored_band<'de, D: Deserializer<'de>>(
    deserializer: D,
    band: AgeBand,
) -> Result<BandPolicy, D::Error> {
    let stored = StoredBand::deserialize(deserializer)?;
    let default = PasswordSettings::default().for_band(band).clone();
    Ok(BandPolicy {
        style: stored.style.unwrap_or(default.style),
        min_length: stored
            .min_length
            .unwrap_or(default.min_length)
            .min(MAX_PASSWORD_CHARS),
        min_score: stored.min_score.unwrap_or(default.min_score).min(4),
    })
}

fn stored_early<'de, D: Deserializer<'de>>(d: D) -> Result<BandPolicy, D::Error> {
    stored_band(d, AgeBand::Early)
}

fn stored_primary<'de, D: Deserializer<'de>>(d: D) -> Result<BandPolicy, D::Error> {
    stored_band(d, AgeBand::Primary)
}

fn stored_secondary<'de, D: Deserializer<'de>>(d: D) -> Result<BandPolicy, D::Error> {
    stored_band(d, AgeBand::Secondary)
}

fn stored_staff<'de, D: Deserializer<'de>>(d: D) -> Result<BandPolicy, D::Error> {
    stored_band(d, AgeBand::Staff)
}

/// Why a password is refused: in words for the teacher who chose it, and for the learner
/// whose password it is (the two differ where the learner is named).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct WeakPassword {
    /// What is wrong and what to do instead, said to the teacher.
    pub reason: String,
    /// The same, said to the learner choosing their own password.
    pub to_owner: String,
}

fn weak(reason: impl Into<String>) -> Result<(), WeakPassword> {
    let reason = reason.into();
    Err(WeakPassword {
        to_owner: reason.clone(),
        reason,
    })
}

/// Checks a password a teacher typed against a band's rules. `user_inputs` are the
/// learner's username, given name and family name: the password may not contain any of
/// them (or any part of three or more letters), whatever the case or accents.
pub fn check_typed(
    password: &str,
    policy: &BandPolicy,
    user_inputs: &[&str],
) -> Result<(), WeakPassword> {
    if password.trim().is_empty() {
        return weak("it is empty or only spaces: type a password");
    }
    if password.trim_matches(is_space) != password {
        return weak(
            "it starts or ends with a space, which is easy to miss when typing: remove it",
        );
    }
    if password.chars().any(is_invisible) {
        return weak(
            "it contains a tab, line break or other invisible character: type it again without it",
        );
    }
    if password.starts_with(['=', '+', '-', '@']) {
        return weak(
            "it starts with = + - or @, which a spreadsheet would treat as a formula: start with a letter or digit",
        );
    }
    let length = password.chars().count();
    if length < policy.min_length {
        return weak(format!(
            "it is too short: use at least {} characters",
            policy.min_length
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        return weak(format!(
            "it is too long: use at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    if contains_a_name(password, user_inputs) {
        return Err(WeakPassword {
            reason: "it contains the learner's name or username: choose something else".into(),
            to_owner: "it contains your name or username: choose something else".into(),
        });
    }
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if u8::from(estimate.score()) < policy.min_score {
        let feedback = estimate.feedback();
        let mut reason = match feedback.and_then(|f| f.warning()) {
            Some(warning) => format!(
                "it is too easy to guess ({})",
                lower_first(&warning.to_string())
            ),
            None => "it is too easy to guess".to_owned(),
        };
        if let Some(suggestion) = feedback.and_then(|f| f.suggestions().first()) {
            reason.push_str(": ");
            reason.push_str(&lower_first(&suggestion.to_string()));
        }
        return weak(reason);
    }
    Ok(())
}

/// Checks a password sent as generated against a band's rules: it must have the shape of a
/// style ClassKeys generates (so a typed `123456` cannot pass as a "generated PIN"), and be
/// as long and as hard to guess as the band asks of any password, so a teacher cannot give
/// an older learner a style meant for the youngest.
pub fn check_generated(password: &str, policy: &BandPolicy) -> Result<(), WeakPassword> {
    let Some(style) = PasswordStyle::ALL
        .into_iter()
        .find(|style| style.recognise(password))
    else {
        return weak("this is not a password ClassKeys generates: send it as typed");
    };
    let too_weak = password.chars().count() < policy.min_length
        || u8::from(zxcvbn::zxcvbn(password, &[]).score()) < policy.min_score;
    if too_weak {
        return weak(format!(
            "a password of the style \"{}\" is too weak for this learner's year group: generate one of the style \"{}\"",
            style.label().to_lowercase(),
            policy.style.label().to_lowercase(),
        ));
    }
    Ok(())
}

/// A space at either end, but not a tab or line break: those get the more precise
/// "invisible character" reason.
fn is_space(c: char) -> bool {
    c.is_whitespace() && !c.is_control()
}

/// Characters that show nothing, so a child could never type what the teacher set: control
/// characters, and the zero-width and text-direction marks that paste in from documents.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
        )
}

/// Whether the password contains one of the learner's names, or a part of one (a
/// double-barrelled surname, the halves of `zoe.adams`), of three letters or more.
/// Compared in search form, so `Zoë` is found in `ZOE-2015` and `Łukasz` in `lukasz99`.
fn contains_a_name(password: &str, user_inputs: &[&str]) -> bool {
    let squeeze = |text: &str| search_fold(text).replace(' ', "");
    let password = squeeze(password);
    user_inputs
        .iter()
        .flat_map(|input| {
            let folded = search_fold(input);
            let whole = folded.replace(' ', "");
            let parts: Vec<String> = folded.split(' ').map(str::to_owned).collect();
            parts.into_iter().chain([whole])
        })
        .any(|name| name.chars().count() >= 3 && password.contains(&name))
}

fn lower_first(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::generator::generate;

    fn primary() -> BandPolicy {
        PasswordSettings::default().primary
    }

    #[test]
    fn year_groups_map_to_age_bands() {
        use AgeBand::{Early, Primary, Secondary};
        for (year, band) in [
            (Some("Nursery"), Early),
            (Some("Reception"), Early),
            (Some("reception class"), Early),
            (Some("Year R"), Early),
            (Some("YR"), Early),
            (Some("EYFS"), Early),
            (Some("Foundation Stage"), Early),
            (Some("Pre-K"), Early),
            (Some("Preschool"), Early),
            (Some("K"), Early),
            (Some("Grade K"), Early),
            (Some("Kindergarten"), Early),
            (Some("Infants"), Early),
            (Some("Year 0"), Early),
            (Some("Year 1"), Early),
            (Some("year 2"), Early),
            (Some("Y1"), Early),
            (Some("Y 2"), Early),
            (Some("1"), Early),
            (Some("2"), Early),
            (Some("Grade 1"), Early),
            (Some("First grade"), Early),
            (Some("Year One"), Early),
            (Some("KS1"), Early),
            (Some("Y1/2"), Early),
            (Some("P1"), Early),
            (Some("P3"), Early),
            (Some("Year 3"), Primary),
            (Some("Yr 4"), Primary),
            (Some("4th grade"), Primary),
            (Some("Grade Six"), Primary),
            (Some("Sixth grade"), Primary),
            (Some(" YEAR   6 "), Primary),
            (Some("Year 5 Oak"), Primary),
            (Some("5B"), Primary),
            (Some("Mixed Y5/6"), Primary),
            (Some("Key Stage 2"), Primary),
            (Some("Lower KS2"), Primary),
            (Some("P4"), Primary),
            (Some("P7"), Primary),
            (Some("Year 7"), Secondary),
            (Some("Year 10"), Secondary),
            (Some("Y10"), Secondary),
            (Some("Y13"), Secondary),
            (Some("Grade 12"), Secondary),
            (Some("Class 10"), Secondary),
            (Some("KS3"), Secondary),
            (Some("S1"), Secondary),
            (Some("Form 1"), Secondary),
            (Some("Sixth form"), Secondary),
            (Some("6th form"), Secondary),
            (Some("Upper Sixth"), Secondary),
            (Some("Lower 6"), Secondary),
            (Some("Sixth-form college"), Secondary),
            (Some("Mixed"), Primary),
            (Some("Oak class"), Primary),
            (Some("Room 12"), Primary),
            (Some(""), Primary),
            (Some("   "), Primary),
            (None, Primary),
        ] {
            assert_eq!(AgeBand::for_year_group(year), band, "{year:?}");
        }
    }

    #[test]
    fn typed_passwords_are_refused_with_a_reason_a_teacher_can_act_on() {
        let inputs = ["zoe.adams", "Zoë", "Adams"];
        for (password, reason) in [
            ("", "empty"),
            ("   ", "empty or only spaces"),
            (" abcdefghij", "starts or ends with a space"),
            ("abcdefghij ", "starts or ends with a space"),
            ("abcdefghij\u{a0}", "starts or ends with a space"),
            ("abc\tdefghij", "invisible"),
            ("abcdefghij\n", "invisible"),
            ("abc\u{200B}defghij", "invisible"),
            ("=HYPERLINK(1)", "formula"),
            ("+4412345678", "formula"),
            ("-abcdefgh", "formula"),
            ("@sum(a1)x", "formula"),
            ("short", "too short: use at least 8 characters"),
            ("zoe.adams-rocks-99", "name or username"),
            ("AdamsFamily1", "name or username"),
            ("password", "too easy to guess"),
            ("qwertyuiop", "too easy to guess"),
        ] {
            let err = check_typed(password, &primary(), &inputs).unwrap_err();
            assert!(err.reason.contains(reason), "{password:?}: {}", err.reason);
        }
        let long = format!("Kp7wRt3m{}", "é".repeat(MAX_PASSWORD_CHARS));
        assert!(
            check_typed(&long, &primary(), &[])
                .unwrap_err()
                .reason
                .contains("too long: use at most 128 characters")
        );
    }

    #[test]
    fn the_first_reason_in_order_is_the_one_given() {
        // A leading space hides the formula character behind it from the teacher.
        let err = check_typed(" =1", &primary(), &[]).unwrap_err();
        assert!(err.reason.contains("space"), "{}", err.reason);
        let err = check_typed("=1", &primary(), &[]).unwrap_err();
        assert!(err.reason.contains("formula"), "{}", err.reason);
        let err = check_typed("zoe", &primary(), &["zoe"]).unwrap_err();
        assert!(err.reason.contains("too short"), "{}", err.reason);
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        // Eight characters, sixteen bytes.
        assert!(check_typed("ŁóżĘćŃśŹ", &primary(), &[]).is_ok());
        let err = check_typed("ŁóżĘćŃś", &primary(), &[]).unwrap_err();
        assert!(err.reason.contains("too short"), "{}", err.reason);
    }

    #[test]
    fn a_name_is_found_whatever_its_case_accents_or_punctuation() {
        let inputs = ["z.adams", "Zoë", "Smith-Jones"];
        for password in [
            "ZOE-likes-kites",
            "jones4ever!!",
            "zA.dams%kite77",
            "kite_SMITH_44",
        ] {
            let err = check_typed(password, &primary(), &inputs).unwrap_err();
            assert!(
                err.reason.contains("learner's name or username"),
                "{password}: {}",
                err.reason
            );
            // Said to the learner choosing it, the learner is "you".
            assert!(
                err.to_owner.contains("your name or username"),
                "{password}: {}",
                err.to_owner
            );
        }
        let err = check_typed("lukasz-trains-42", &primary(), &["Łukasz"]).unwrap_err();
        assert!(err.reason.contains("name"), "{}", err.reason);
    }

    #[test]
    fn names_shorter_than_three_letters_are_not_looked_for() {
        assert!(check_typed("olive-harbour-71", &primary(), &["li", "Li"]).is_ok());
    }

    #[test]
    fn the_most_common_passwords_are_too_easy_to_guess() {
        for password in ["password", "123456", "qwerty", "12345678", "qwertyuiop"] {
            let mut policy = primary();
            policy.min_length = 6;
            let err = check_typed(password, &policy, &[]).unwrap_err();
            assert!(err.reason.contains("too easy to guess"), "{password}");
        }
        let err = check_typed("password", &primary(), &[]).unwrap_err();
        assert!(
            err.reason
                .starts_with("it is too easy to guess (this is a top-10 common password): "),
            "{}",
            err.reason
        );
    }

    #[test]
    fn strong_typed_passwords_pass() {
        assert!(check_typed("Violet-Harbour-Kite-93", &primary(), &["zoe.adams"]).is_ok());
        assert!(
            check_typed(
                "blue tractor sings loudly",
                &PasswordSettings::default().secondary,
                &[]
            )
            .is_ok()
        );
    }

    #[test]
    fn a_generated_password_typed_back_passes_its_band() {
        let settings = PasswordSettings::default();
        let mut rng = StdRng::seed_from_u64(9);
        let mut cases: Vec<(BandPolicy, PasswordStyle)> = [
            AgeBand::Early,
            AgeBand::Primary,
            AgeBand::Secondary,
            AgeBand::Staff,
        ]
        .map(|band| {
            (
                settings.for_band(band).clone(),
                settings.for_band(band).style,
            )
        })
        .into();
        // Pronounceable is no band's default, but a school may choose it for secondary.
        cases.push((settings.secondary.clone(), PasswordStyle::Pronounceable));
        for (policy, style) in cases {
            for _ in 0..200 {
                let password = generate(style, &mut rng);
                let result = check_typed(password.expose(), &policy, &[]);
                assert!(result.is_ok(), "{style:?}: {result:?}");
            }
        }
    }

    #[test]
    fn every_band_has_its_own_rules() {
        let settings = PasswordSettings::default();
        assert_eq!(settings.for_band(AgeBand::Early).style, PasswordStyle::Pin);
        assert_eq!(
            settings.for_band(AgeBand::Primary).style,
            PasswordStyle::Words
        );
        assert_eq!(settings.for_band(AgeBand::Secondary).min_length, 10);
        assert_eq!(settings.for_band(AgeBand::Staff).min_length, 12);
        assert_eq!(settings.for_band(AgeBand::Staff).min_score, 3);
    }

    #[test]
    fn stored_settings_fill_whatever_is_missing_with_defaults() {
        let defaults = PasswordSettings::default();
        let settings: PasswordSettings = serde_json::from_str(
            r#"{"early": {"style": "words"}, "staff": {"min_score": 4, "colour": "red"}, "extra": 1}"#,
        )
        .unwrap();
        assert_eq!(
            settings.early,
            BandPolicy {
                style: PasswordStyle::Words,
                ..defaults.early.clone()
            }
        );
        assert_eq!(settings.primary, defaults.primary);
        assert_eq!(settings.secondary, defaults.secondary);
        assert_eq!(settings.staff.min_score, 4);
        assert_eq!(settings.staff.min_length, defaults.staff.min_length);
        let empty: PasswordSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, defaults);
    }

    #[test]
    fn stored_rules_no_password_could_meet_are_read_as_the_strictest_possible() {
        let settings: PasswordSettings = serde_json::from_str(
            r#"{"primary": {"style": "words", "min_length": 1000, "min_score": 9}}"#,
        )
        .unwrap();
        assert_eq!(settings.primary.min_length, MAX_PASSWORD_CHARS);
        assert_eq!(settings.primary.min_score, 4);
    }

    #[test]
    fn settings_round_trip_through_json() {
        let mut settings = PasswordSettings::default();
        settings.early.style = PasswordStyle::Words;
        settings.staff.min_length = 16;
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(
            serde_json::from_str::<PasswordSettings>(&json).unwrap(),
            settings
        );
    }

    #[test]
    fn a_generated_password_must_meet_the_rules_of_the_learners_own_band() {
        let settings = PasswordSettings::default();
        let mut rng = StdRng::seed_from_u64(12);
        for _ in 0..50 {
            // Every band's own style passes its band, and the strongest style passes all.
            for band in [
                AgeBand::Early,
                AgeBand::Primary,
                AgeBand::Secondary,
                AgeBand::Staff,
            ] {
                let policy = settings.for_band(band);
                let own = generate(policy.style, &mut rng);
                assert_eq!(check_generated(own.expose(), policy), Ok(()), "{band:?}");
                let random = generate(PasswordStyle::Random, &mut rng);
                assert_eq!(check_generated(random.expose(), policy), Ok(()), "{band:?}");
            }
            // A PIN is for the youngest only.
            let pin = generate(PasswordStyle::Pin, &mut rng);
            for band in [AgeBand::Primary, AgeBand::Secondary, AgeBand::Staff] {
                let refused = check_generated(pin.expose(), settings.for_band(band)).unwrap_err();
                assert!(
                    refused.reason.contains("too weak for this learner"),
                    "{refused}"
                );
            }
        }
        let refused = check_generated("123456", &settings.early).unwrap_err();
        assert!(
            refused
                .reason
                .contains("not a password ClassKeys generates")
        );
    }

    #[test]
    fn age_bands_are_ordered_youngest_first() {
        use AgeBand::{Early, Primary, Secondary, Staff};
        assert!(Early < Primary && Primary < Secondary && Secondary < Staff);
        assert_eq!([Secondary, Early, Primary].into_iter().min(), Some(Early));
    }
}
