//! Validated identity values. Each type is constructed only through its parser, so a
//! `Username` or `Email` in hand is already normalised and valid.

use std::fmt;

use crate::error::{InvalidInput, Result};
use crate::text::{ascii_letters, identity_key, tidy};

/// A staff member's role within their school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Sees and edits the classes assigned to them and those classes' learners.
    Teacher,
    /// Sees and edits everything in their school, assigns teachers to classes.
    LeadTeacher,
}

impl Role {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Teacher => "teacher",
            Role::LeadTeacher => "lead_teacher",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "teacher" => Ok(Role::Teacher),
            "lead_teacher" => Ok(Role::LeadTeacher),
            other => Err(InvalidInput::new(
                "role",
                format!("unknown role {other:?}: use teacher or lead_teacher"),
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sign-in name: 2–64 characters of `a–z`, `0–9`, `.`, `_`, `-`, starting with a letter or
/// digit. Upper case is accepted and lowered, so `Zoe.Adams` and `zoe.adams` are one username.
///
/// Usernames never contain `@`, so no username can equal any email address — the identity
/// rule "an email may not equal another account's username" holds by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    /// Shortest accepted username.
    pub const MIN_LEN: usize = 2;
    /// Longest accepted username.
    pub const MAX_LEN: usize = 64;

    /// Validates and lower-cases a typed username.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_ascii_lowercase();
        let err = |reason: &str| Err(InvalidInput::new("username", reason.to_owned()));
        if s.len() < Self::MIN_LEN {
            return err("a username needs at least 2 characters");
        }
        if s.len() > Self::MAX_LEN {
            return err("a username can have at most 64 characters");
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return err("a username may contain only letters a–z, digits, '.', '_' and '-'");
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return err("a username must start with a letter or digit");
        }
        Ok(Self(s))
    }

    /// A username suggestion built from a learner's names: `given.family` in ASCII,
    /// transliterated where needed (`Łukasz Nowak` → `lukasz.nowak`). `None` when the names
    /// give too few Latin letters (for example a name written only in Chinese characters).
    pub fn suggest(given: &str, family: &str) -> Option<Self> {
        let given = ascii_letters(given);
        let family = ascii_letters(family);
        let joined = match (given.is_empty(), family.is_empty()) {
            (false, false) => format!("{given}.{family}"),
            (false, true) => given,
            (true, false) => family,
            (true, true) => return None,
        };
        let mut s: String = joined.chars().take(Self::MAX_LEN - 4).collect();
        while s.ends_with('.') {
            s.pop();
        }
        Self::parse(&s).ok()
    }

    /// This username with a number appended, for resolving a suggestion that is taken.
    pub fn numbered(&self, n: u32) -> Self {
        let suffix = n.to_string();
        let keep = Self::MAX_LEN - suffix.len();
        let base: String = self.0.chars().take(keep).collect();
        Self(format!("{base}{suffix}"))
    }

    /// The first of this username, then `2`, `3`, … appended, that `is_taken` refuses.
    /// `taken_count` is how many usernames could be taken at all (those starting like
    /// this one): one of the first `taken_count + 1` candidates is then free, so the search
    /// stops there. `None` only when `is_taken` claims more than `taken_count`.
    pub fn first_free(&self, taken_count: usize, is_taken: impl Fn(&str) -> bool) -> Option<Self> {
        let candidates = u32::try_from(taken_count.saturating_add(1)).unwrap_or(u32::MAX);
        (1..=candidates)
            .map(|n| {
                if n == 1 {
                    self.clone()
                } else {
                    self.numbered(n)
                }
            })
            .find(|candidate| !is_taken(candidate.as_str()))
    }

    /// The username as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and in Unicode NFC, shown as typed; compared by [`Email::key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email {
    shown: String,
    key: String,
}

impl Email {
    /// Longest accepted address (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Validates an address: one `@`, a non-empty local part without spaces or special
    /// characters, and a domain of dot-separated labels.
    pub fn parse(raw: &str) -> Result<Self> {
        let shown = tidy(raw);
        let bad = |reason: String| Err(InvalidInput::new("email", reason));
        if shown.is_empty() {
            return bad("the email address is empty".into());
        }
        if shown.chars().count() > Self::MAX_LEN {
            return bad("an email address can have at most 254 characters".into());
        }
        let Some((local, domain)) = shown.split_once('@') else {
            return bad(format!("{shown:?} is not an email address: it has no '@'"));
        };
        if local.is_empty() || local.chars().count() > 64 {
            return bad(format!(
                "{shown:?} is not an email address: the part before '@' must have 1 to 64 characters"
            ));
        }
        if let Some(c) = shown.chars().find(|c| is_invisible(*c)) {
            return bad(format!(
                "this email address contains the invisible character U+{:04X}",
                c as u32
            ));
        }
        if let Some(c) = local
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || "@<>()[],;:\\\"".contains(*c))
        {
            return bad(format!(
                "{shown:?} is not an email address: {c:?} is not allowed before '@'"
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.chars().count() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return bad(format!(
                "{shown:?} is not an email address: the part after '@' must be a domain such as school.example"
            ));
        }
        let key = identity_key(&shown);
        Ok(Self { shown, key })
    }

    /// The address as typed (tidied).
    pub fn as_str(&self) -> &str {
        &self.shown
    }

    /// The comparison key: two addresses with the same key are the same address.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Checks free text that people type for names: tidied, non-empty, at most `max` characters,
/// and free of control and bidirectional-override characters (which could make a list show
/// something other than what is stored). Anything else, HTML included, is just text.
fn name_text(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let s = tidy(raw);
    if s.is_empty() {
        return Err(InvalidInput::new(field, "this cannot be empty"));
    }
    if s.chars().count() > max {
        return Err(InvalidInput::new(
            field,
            format!("this can have at most {max} characters"),
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() || (is_invisible(*c) && !is_joiner(*c)))
    {
        return Err(InvalidInput::new(
            field,
            format!("the invisible character U+{:04X} is not allowed", c as u32),
        ));
    }
    Ok(s)
}

/// Format characters that show nothing, or reorder what is shown around them: soft hyphen,
/// zero-width spaces and joiners, direction marks, embeddings, overrides and isolates.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Zero-width (non-)joiners, which names in Persian, Indic scripts and others need.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Tidies and validates typed text.
            pub fn parse(raw: &str) -> Result<Self> {
                name_text($field, raw, $max).map(Self)
            }

            /// The text as stored and shown.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A learner's given (first) name.
    GivenName, "given_name", 80
);
text_type!(
    /// A learner's family name (surname).
    FamilyName, "family_name", 80
);
text_type!(
    /// A staff member's name as shown to colleagues.
    DisplayName, "display_name", 80
);
text_type!(
    /// A class name, unique within its school ignoring case (`4B`, `Year 3 Owls`).
    ClassName, "name", 40
);
text_type!(
    /// A year group label (`Reception`, `Year 4`).
    YearGroup, "year_group", 30
);

impl ClassName {
    /// The comparison key: two class names with the same key clash.
    pub fn key(&self) -> String {
        identity_key(&self.0)
    }
}

/// A school's short name used in addresses (`/s/<slug>/sign-in`): 2–40 of `a–z`, `0–9`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchoolSlug(String);

impl SchoolSlug {
    /// Validates a slug.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (2..=40).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s))
        } else {
            Err(InvalidInput::new(
                "slug",
                "a school slug has 2 to 40 characters a–z, 0–9 and '-', not starting or ending with '-'",
            ))
        }
    }

    /// The slug as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_username_is_numbered_from_two_and_gaps_are_reused() {
        let base = Username::parse("zoe.adams").unwrap();
        let free = |taken: &[&str]| {
            base.first_free(taken.len(), |c| taken.contains(&c))
                .map(|u| u.as_str().to_owned())
        };
        assert_eq!(free(&[]).as_deref(), Some("zoe.adams"));
        assert_eq!(free(&["zoe.adams"]).as_deref(), Some("zoe.adams2"));
        assert_eq!(
            free(&["zoe.adams", "zoe.adams3", "zoe.adamsx"]).as_deref(),
            Some("zoe.adams2")
        );
        assert_eq!(
            free(&["zoe.adams", "zoe.adams2", "zoe.adams3"]).as_deref(),
            Some("zoe.adams4")
        );
    }

    #[test]
    fn usernames_are_lowered_and_checked() {
        assert_eq!(
            Username::parse(" Zoe.Adams ").unwrap().as_str(),
            "zoe.adams"
        );
        assert!(Username::parse("z").is_err());
        assert!(Username::parse("zoë").is_err());
        assert!(Username::parse(".hidden").is_err());
        assert!(Username::parse("a@b").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn username_suggestions_transliterate() {
        let s = |g, f| Username::suggest(g, f).map(|u| u.to_string());
        assert_eq!(s("Łukasz", "Nowak").as_deref(), Some("lukasz.nowak"));
        assert_eq!(s("Siobhán", "O'Brien").as_deref(), Some("siobhan.obrien"));
        assert_eq!(
            s("Александр", "Петров").as_deref(),
            Some("aleksandr.petrov")
        );
        assert_eq!(s("Nguyễn Văn", "An").as_deref(), Some("nguyenvan.an"));
        assert_eq!(s("明", "王"), None);
        assert_eq!(
            Username::parse("zoe.adams").unwrap().numbered(2).as_str(),
            "zoe.adams2"
        );
    }

    #[test]
    fn emails_keep_their_spelling_but_compare_without_case() {
        let e = Email::parse("  Zoe.Adams@School.Example ").unwrap();
        assert_eq!(e.as_str(), "Zoe.Adams@School.Example");
        assert_eq!(e.key(), "zoe.adams@school.example");
    }

    #[test]
    fn invalid_emails_say_what_is_wrong() {
        for (input, needle) in [
            ("", "empty"),
            ("zoe", "no '@'"),
            ("@school.example", "before '@'"),
            ("zo e@school.example", "' ' is not allowed"),
            ("zoe@localhost", "domain"),
            ("zoe@-bad.example", "domain"),
            ("zoe@school..example", "domain"),
            ("zoe\u{202E}elpmaxe@school.example", "U+202E"),
            ("\u{200B}zoe@school.example", "U+200B"),
        ] {
            let err = Email::parse(input).unwrap_err();
            assert_eq!(err.field, "email");
            assert!(err.reason.contains(needle), "{input:?}: {}", err.reason);
        }
    }

    #[test]
    fn names_accept_html_as_text_but_refuse_invisible_controls() {
        let n = GivenName::parse("<img src=x onerror=alert(1)>").unwrap();
        assert_eq!(n.as_str(), "<img src=x onerror=alert(1)>");
        assert!(GivenName::parse("evil\u{202E}gnp.exe").is_err());
        assert!(GivenName::parse("zero\u{200B}width").is_err());
        assert!(
            GivenName::parse("\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}").is_ok()
        );
        assert!(GivenName::parse("tab\u{7}bell").is_err());
        assert!(GivenName::parse("   ").is_err());
        assert_eq!(
            FamilyName::parse(" van  der Berg ").unwrap().as_str(),
            "van der Berg"
        );
    }

    #[test]
    fn class_names_clash_ignoring_case() {
        assert_eq!(
            ClassName::parse("4b").unwrap().key(),
            ClassName::parse("4B").unwrap().key()
        );
    }
}
