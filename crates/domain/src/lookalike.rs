//! Two accounts that may be one person: email addresses that differ only by case, by dots
//! before the `@` or by one mistyped letter. "Why can't they sign in?" looks for them around
//! one learner, and the duplicates list across a whole school.
//!
//! Comparing every pair of a school's addresses grows with its square (50 million pairs for
//! 10,000 learners), so [`EmailIndex`] finds candidates through shared keys instead: an
//! address is filed under its dotless form and under that form with each one letter left
//! out. Two addresses one edit apart always share one of those keys (a substitution: both
//! with that letter left out; an insertion: the longer without it is the shorter), so the
//! index finds every look-alike in one pass, and [`email_likeness`] confirms each.

use std::collections::{HashMap, HashSet};

use crate::text::identity_key;

/// How two different email addresses resemble each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Likeness {
    /// The same letters in other capitals: for mail, one address.
    Case,
    /// The same once the dots before the `@` are left out: for many mail services
    /// (Gmail among them), one mailbox.
    Dots,
    /// One letter added, left out or changed: a typing mistake.
    OneLetter,
}

impl Likeness {
    /// How the two differ, in a few words for a sentence ("differs only by …").
    pub fn describe(self) -> &'static str {
        match self {
            Likeness::Case => "capital letters",
            Likeness::Dots => "dots",
            Likeness::OneLetter => "one letter",
        }
    }
}

/// How address `a` resembles address `b`, if they are different but one may be meant for
/// the other. Identical addresses are not look-alikes: `None`.
pub fn email_likeness(a: &str, b: &str) -> Option<Likeness> {
    Keyed::new(a).likeness(&Keyed::new(b))
}

/// The addresses among `entries` that look like `address` (not those identical to it),
/// with their owners, closest first: one pass, for comparing one address with a school's.
pub fn look_alikes<T>(address: &str, entries: Vec<(String, T)>) -> Vec<(String, T, Likeness)> {
    let wanted = Keyed::new(address);
    let mut found: Vec<(String, T, Likeness)> = entries
        .into_iter()
        .filter_map(|(other, owner)| {
            wanted
                .likeness(&Keyed::new(&other))
                .map(|how| (other, owner, how))
        })
        .collect();
    found.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
    found
}

/// An address with its comparison forms, worked out once.
#[derive(Debug)]
struct Keyed {
    shown: String,
    key: String,
    dotless: String,
}

impl Keyed {
    fn new(address: &str) -> Self {
        let key = identity_key(address);
        Self {
            shown: address.trim().to_owned(),
            dotless: dotless(&key),
            key,
        }
    }

    fn likeness(&self, other: &Keyed) -> Option<Likeness> {
        if self.key == other.key {
            return (self.shown != other.shown).then_some(Likeness::Case);
        }
        if self.dotless == other.dotless {
            return Some(Likeness::Dots);
        }
        one_edit_apart(&self.key, &other.key).then_some(Likeness::OneLetter)
    }
}

/// The comparison key without the dots before the `@`.
fn dotless(key: &str) -> String {
    match key.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.replace('.', "")),
        None => key.replace('.', ""),
    }
}

/// Whether `a` becomes `b` by adding, removing or changing exactly one character.
fn one_edit_apart(a: &str, b: &str) -> bool {
    if a.len().abs_diff(b.len()) > 4 {
        // More than one character apart in any encoding: not one edit.
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let same_start = short.iter().zip(&long).take_while(|(x, y)| x == y).count();
    if same_start == long.len() {
        return false;
    }
    let skip = usize::from(short.len() == long.len());
    short[same_start + skip..] == long[same_start + 1..]
}

/// The keys an address is filed under: its dotless form, and that form with each one
/// character left out.
fn index_keys(dotless: &str) -> impl Iterator<Item = String> {
    let key: Vec<char> = dotless.chars().collect();
    let whole: String = key.iter().collect();
    let without_one: Vec<String> = (0..key.len())
        .map(|skip| {
            key.iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| c)
                .collect()
        })
        .collect();
    std::iter::once(whole).chain(without_one)
}

/// A school's email addresses, each with what it belongs to, filed to find look-alikes.
#[derive(Debug)]
pub struct EmailIndex<T> {
    entries: Vec<(Keyed, T)>,
    by_key: HashMap<String, Vec<usize>>,
}

impl<T> EmailIndex<T> {
    /// Files every `(address, owner)`.
    pub fn new(entries: impl IntoIterator<Item = (String, T)>) -> Self {
        let entries: Vec<(Keyed, T)> = entries
            .into_iter()
            .map(|(address, owner)| (Keyed::new(&address), owner))
            .collect();
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (address, _)) in entries.iter().enumerate() {
            for key in index_keys(&address.dotless) {
                let filed = by_key.entry(key).or_default();
                // An address can reach one key twice ("aab" without either 'a').
                if filed.last() != Some(&i) {
                    filed.push(i);
                }
            }
        }
        Self { entries, by_key }
    }

    /// The filed addresses that look like `address` (not those identical to it), with
    /// their owners, closest first.
    pub fn like(&self, address: &str) -> Vec<(&str, &T, Likeness)> {
        let wanted = Keyed::new(address);
        let candidates: HashSet<usize> = index_keys(&wanted.dotless)
            .filter_map(|key| self.by_key.get(&key))
            .flatten()
            .copied()
            .collect();
        let mut found: Vec<(&str, &T, Likeness)> = candidates
            .into_iter()
            .filter_map(|i| {
                let (other, owner) = &self.entries[i];
                wanted
                    .likeness(other)
                    .map(|how| (other.shown.as_str(), owner, how))
            })
            .collect();
        found.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(b.0)));
        found
    }

    /// Every pair of filed addresses that look alike, each pair once, as indexes in the
    /// order the entries were given (the smaller first).
    pub fn pairs(&self) -> Vec<(usize, usize, Likeness)> {
        let mut pairs = HashSet::new();
        for filed in self.by_key.values() {
            for (n, &i) in filed.iter().enumerate() {
                for &j in &filed[n + 1..] {
                    pairs.insert((i.min(j), i.max(j)));
                }
            }
        }
        let mut found: Vec<(usize, usize, Likeness)> = pairs
            .into_iter()
            .filter_map(|(i, j)| {
                self.entries[i]
                    .0
                    .likeness(&self.entries[j].0)
                    .map(|how| (i, j, how))
            })
            .collect();
        found.sort_unstable();
        found
    }

    /// The address and owner filed at `index`.
    pub fn entry(&self, index: usize) -> (&str, &T) {
        let (address, owner) = &self.entries[index];
        (&address.shown, owner)
    }
}

/// An account as the duplicates search sees it.
#[derive(Debug, Clone)]
pub struct Account<'a> {
    /// The name's comparison form (accents, capitals and punctuation aside).
    pub name_key: &'a str,
    /// The email address on file.
    pub email: Option<&'a str>,
    /// Whether the account is active.
    pub active: bool,
    /// The classes it is in, in any order.
    pub classes: &'a [String],
}

/// Why two accounts are likely one person's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kinship {
    /// Email addresses that differ only as the [`Likeness`] says.
    Email(Likeness),
    /// The same name, and a class in common or one of them deactivated. (Two active
    /// learners of one name in different classes are more often two children.)
    SameName,
}

/// The likely duplicates among `accounts`: each pair once, as indexes (the smaller first),
/// with why, and whether the two share a class. An email resemblance wins over the name.
/// The work grows with the number of accounts, not its square: names are grouped, and
/// addresses go through an [`EmailIndex`]. A name shared by more than `crowd` accounts is
/// a common name, not a sign of duplicates, and is left out.
pub fn likely_duplicates(
    accounts: &[Account<'_>],
    crowd: usize,
) -> Vec<(usize, usize, Kinship, bool)> {
    let shares_class = |i: usize, j: usize| {
        accounts[i]
            .classes
            .iter()
            .any(|c| accounts[j].classes.contains(c))
    };
    let mut found: HashMap<(usize, usize), Kinship> = HashMap::new();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, account) in accounts.iter().enumerate() {
        by_name.entry(account.name_key).or_default().push(i);
    }
    for group in by_name.values().filter(|g| g.len() > 1 && g.len() <= crowd) {
        for (n, &i) in group.iter().enumerate() {
            for &j in &group[n + 1..] {
                if shares_class(i, j) || !accounts[i].active || !accounts[j].active {
                    found.insert((i.min(j), i.max(j)), Kinship::SameName);
                }
            }
        }
    }
    let index = EmailIndex::new(
        accounts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.email.map(|e| (e.to_owned(), i))),
    );
    for (a, b, how) in index.pairs() {
        let (i, j) = (*index.entry(a).1, *index.entry(b).1);
        found.insert((i.min(j), i.max(j)), Kinship::Email(how));
    }
    let mut pairs: Vec<(usize, usize, Kinship, bool)> = found
        .into_iter()
        .map(|((i, j), why)| (i, j, why, shares_class(i, j)))
        .collect();
    pairs.sort_unstable_by_key(|&(i, j, why, _)| (why, i, j));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_that_one_person_may_mean_are_told_apart_by_how_they_differ() {
        let cases = [
            (
                "Sam.Lee@School.org",
                "sam.lee@school.org",
                Some(Likeness::Case),
            ),
            (
                "sam.lee@school.org",
                "samlee@school.org",
                Some(Likeness::Dots),
            ),
            (
                "s.a.m.lee@school.org",
                "sam.lee@school.org",
                Some(Likeness::Dots),
            ),
            (
                "sam.lee@school.org",
                "sam.lea@school.org",
                Some(Likeness::OneLetter),
            ),
            (
                "sam.lee@school.org",
                "sam.le@school.org",
                Some(Likeness::OneLetter),
            ),
            (
                "sam.lee@school.org",
                "sam.leee@school.org",
                Some(Likeness::OneLetter),
            ),
            ("sam@school.org", "sam@schol.org", Some(Likeness::OneLetter)),
            ("sam.lee@school.org", "sam.lee@school.org", None),
            ("sam.lee@school.org", "sam.lie@schol.org", None),
            ("sam@school.org", "pam@schoop.org", None),
            // Dots after the '@' are the domain's: another domain, not one mailbox.
            (
                "sam@sch.ool.org",
                "sam@school.org",
                Some(Likeness::OneLetter),
            ),
            ("sam@s.ch.ool.org", "sam@school.org", None),
        ];
        for (a, b, expected) in cases {
            assert_eq!(email_likeness(a, b), expected, "{a} / {b}");
            assert_eq!(email_likeness(b, a), expected, "{b} / {a}");
        }
    }

    #[test]
    fn the_index_finds_exactly_the_look_alikes_a_pairwise_comparison_finds() {
        let addresses = [
            "sam.lee@school.org",
            "samlee@school.org",
            "sam.lea@school.org",
            "anna@school.org",
            "ana@school.org",
            "hanna@school.org",
            "zoë@school.org",
            "zoe@school.org",
            "aab@x.org",
            "ab@x.org",
            "totally.other@elsewhere.net",
        ];
        let index = EmailIndex::new(addresses.iter().map(|a| (a.to_string(), ())));
        let mut pairwise = Vec::new();
        for i in 0..addresses.len() {
            for j in i + 1..addresses.len() {
                if let Some(how) = email_likeness(addresses[i], addresses[j]) {
                    pairwise.push((i, j, how));
                }
            }
        }
        pairwise.sort_unstable();
        assert_eq!(index.pairs(), pairwise);
        assert!(
            pairwise.len() >= 6,
            "the sample has look-alikes: {pairwise:?}"
        );

        let like: Vec<&str> = index
            .like("sam.lee@school.org")
            .into_iter()
            .map(|(a, _, _)| a)
            .collect();
        assert_eq!(like, ["samlee@school.org", "sam.lea@school.org"]);
        let scanned: Vec<String> = look_alikes(
            "sam.lee@school.org",
            addresses.iter().map(|a| (a.to_string(), ())).collect(),
        )
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
        assert_eq!(scanned, like, "one pass finds what the index finds");
    }

    #[test]
    fn likely_duplicates_are_same_names_sharing_a_class_or_left_behind_and_look_alike_addresses() {
        let owls = ["owls".to_owned()];
        let foxes = ["foxes".to_owned()];
        let account = |name_key, email, active, classes| Account {
            name_key,
            email,
            active,
            classes,
        };
        let accounts = [
            account("okafor sam", Some("sam@home.example"), false, &owls[..]),
            account("okafor sam", None, true, &owls[..]),
            // Two active Mohammed Alis in different classes: two children.
            account("ali mohammed", None, true, &owls[..]),
            account("ali mohammed", None, true, &foxes[..]),
            // One name in two classes, one of them left: likely one child.
            account("lee ana", None, false, &foxes[..]),
            account("lee ana", None, true, &owls[..]),
            account("other", Some("s.am@home.example"), true, &foxes[..]),
            account("crowd", None, true, &owls[..]),
            account("crowd", None, true, &owls[..]),
            account("crowd", None, true, &owls[..]),
        ];
        let pairs = likely_duplicates(&accounts, 2);
        assert_eq!(
            pairs,
            [
                (0, 6, Kinship::Email(Likeness::Dots), false),
                (0, 1, Kinship::SameName, true),
                (4, 5, Kinship::SameName, false),
            ]
        );
    }
}
