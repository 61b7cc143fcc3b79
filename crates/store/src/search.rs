//! Learner search: every word typed must appear somewhere in a learner's names, username or
//! email, ignoring case, accents and apostrophes (`lukasz` finds Łukasz, `obrien` finds
//! O'Brien, `aleksandr` finds Александр) — the same rule as the server's search.
//!
//! Both sides are folded with `search_fold`, so matching is plain substring matching. Words
//! of three characters or more go through the FTS5 trigram index, which answers a substring
//! query from the index instead of scanning every learner; shorter words cannot be looked up
//! in a trigram index at all, so they are matched with `LIKE` on the rows that remain.
//!
//! One case turns this around: words so common that thousands of learners match (`smith`,
//! an email domain). Sorting every match to show the first fifty costs more than walking the
//! learners in list order and stopping at the fiftieth match, so above a cap of index hits
//! the query does that instead, with `LIKE` for every word, over a covering index.

use classkeys_domain::text::{like_contains, search_fold};
use classkeys_protocol::roster::LearnerRecord;

use crate::replica::{LEARNER_COLUMNS, LEARNER_ORDER, LearnerRow};
use crate::{Result, Store};

/// How a query is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// An FTS5 MATCH expression over the words of three characters or more, if any.
    pub(crate) fts: Option<String>,
    /// `LIKE` patterns for the shorter words, checked beside the index.
    pub(crate) short: Vec<String>,
    /// `LIKE` patterns for every word, for when the index is not worth it.
    pub(crate) all: Vec<String>,
}

/// Plans a typed query; `None` when it has no words (nothing typed, or only punctuation).
pub(crate) fn plan(query: &str) -> Option<Plan> {
    let folded = search_fold(query);
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.dedup();
    if words.is_empty() {
        return None;
    }
    let long: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| w.chars().count() >= 3)
        .collect();
    let fts = (!long.is_empty()).then(|| {
        long.iter()
            .map(|w| fts_string(w))
            .collect::<Vec<_>>()
            .join(" AND ")
    });
    let short = words
        .iter()
        .filter(|w| w.chars().count() < 3)
        .map(|w| like_contains(w))
        .collect();
    let all = words.iter().map(|w| like_contains(w)).collect();
    Some(Plan { fts, short, all })
}

/// `word` as an FTS5 string. Inside double quotes every character is literal (a doubled
/// quote stands for one), so AND, NEAR, *, ^, : or parentheses in what was typed are
/// searched for, never obeyed. Folding leaves only letters, digits and '@', but the quoting
/// does not rely on that.
fn fts_string(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// When a query's words appear in at least this many learners, walking the learners in list
/// order and stopping at the first `limit` matches beats fetching and sorting every match
/// (measured in `benches/search.rs`: at 100,000 learners a common name matches thousands).
/// Below it, the index's matches are few enough to sort.
const INDEX_HITS_CAP: i64 = 2_000;

impl Store {
    /// Learners matching every word of `query`, by family name then given name, at most
    /// `limit`. A query without words finds nobody.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<LearnerRecord>> {
        let Some(plan) = plan(query) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await?;
        // Counting stops at the cap, so this costs at most INDEX_HITS_CAP index reads.
        let index = match &plan.fts {
            Some(fts) => {
                let hits: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM (SELECT rowid FROM learner_search
                                           WHERE learner_search MATCH ? LIMIT ?)",
                )
                .bind(fts)
                .bind(INDEX_HITS_CAP)
                .fetch_one(&mut *conn)
                .await?;
                (hits < INDEX_HITS_CAP).then_some(fts)
            }
            None => None,
        };
        let likes = if index.is_some() {
            &plan.short
        } else {
            &plan.all
        };
        let mut filter = String::new();
        if index.is_some() {
            filter.push_str(
                " AND l.n IN (SELECT rowid FROM learner_search WHERE learner_search MATCH ?)",
            );
        }
        for _ in likes {
            filter.push_str(" AND l.search_text LIKE ? ESCAPE '\\'");
        }
        // The page is chosen first and only its rows are completed with their classes:
        // computing them for every match before sorting would cost more than the search.
        // CROSS JOIN keeps SQLite from walking every learner in list order to avoid sorting
        // the fifty rows of the page (its own choice with a plain JOIN: 12 ms instead of 0.4).
        let sql = format!(
            "SELECT {LEARNER_COLUMNS}
             FROM (SELECT l.n FROM learner l WHERE 1 = 1{filter} {LEARNER_ORDER} LIMIT ?) hit
             CROSS JOIN learner l ON l.n = hit.n
             {LEARNER_ORDER}"
        );
        let mut q = sqlx::query_as::<_, LearnerRow>(&sql);
        if let Some(fts) = index {
            q = q.bind(fts);
        }
        for like in likes {
            q = q.bind(like);
        }
        q.bind(limit)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(LearnerRow::into_record)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use classkeys_domain::ids::LearnerId;
    use classkeys_protocol::sync::{Change, PullResponse, Record};
    use time::OffsetDateTime;

    use super::*;
    use crate::test_support::store;

    fn learner(given: &str, family: &str, username: &str, email: Option<&str>) -> Change {
        Change::Upsert {
            record: Record::Learner(LearnerRecord {
                id: LearnerId::generate(),
                username: username.into(),
                given_name: given.into(),
                family_name: family.into(),
                email: email.map(Into::into),
                active: true,
                classes: Vec::new(),
                password: Default::default(),
                must_change_password: false,
                version: 1,
                updated_at: OffsetDateTime::UNIX_EPOCH,
            }),
        }
    }

    async fn school() -> (Store, tempfile::TempDir) {
        let (store, dir) = store().await;
        store
            .apply_pull(&PullResponse {
                changes: vec![
                    learner("Łukasz", "Kowalski", "lukasz.kowalski", None),
                    learner(
                        "Siobhán",
                        "O'Brien",
                        "siobhan.obrien",
                        Some("s.obrien@home.example"),
                    ),
                    learner("Александр", "Петров", "aleksandr.petrov", None),
                    learner("Al", "Green", "al.green", None),
                    learner("Zoë", "Adams", "zoe.adams", None),
                ],
                cursor: "1".into(),
                more: false,
            })
            .await
            .unwrap();
        (store, dir)
    }

    async fn names(store: &Store, query: &str) -> Vec<String> {
        store
            .search(query, 50)
            .await
            .unwrap_or_else(|e| panic!("searching {query:?}: {e}"))
            .into_iter()
            .map(|l| format!("{} {}", l.given_name, l.family_name))
            .collect()
    }

    #[tokio::test]
    async fn search_ignores_accents_case_apostrophes_and_script() {
        let (store, _dir) = school().await;
        assert_eq!(names(&store, "lukasz").await, ["Łukasz Kowalski"]);
        assert_eq!(names(&store, "OBRIEN").await, ["Siobhán O'Brien"]);
        assert_eq!(names(&store, "o'brien").await, ["Siobhán O'Brien"]);
        assert_eq!(names(&store, "aleksandr").await, ["Александр Петров"]);
        assert_eq!(names(&store, "Петров").await, ["Александр Петров"]);
        assert_eq!(names(&store, "zoë").await, ["Zoë Adams"]);
    }

    #[tokio::test]
    async fn every_word_must_match_and_short_words_still_count() {
        let (store, _dir) = school().await;
        assert_eq!(names(&store, "kow luk").await, ["Łukasz Kowalski"]);
        assert!(names(&store, "kowalski adams").await.is_empty());
        // "al" is too short for the trigram index; it is matched as a substring anyway.
        assert_eq!(
            names(&store, "al").await,
            ["Al Green", "Łukasz Kowalski", "Александр Петров"]
        );
        assert_eq!(names(&store, "al gre").await, ["Al Green"]);
        assert_eq!(names(&store, "home.example").await, ["Siobhán O'Brien"]);
    }

    #[tokio::test]
    async fn query_syntax_in_what_was_typed_is_searched_for_not_obeyed() {
        let (store, _dir) = school().await;
        for hostile in [
            "\"",
            "\"lukasz",
            "luk*",
            "NEAR(luk kow)",
            "kow AND",
            "OR",
            "-kow",
            "^luk",
            "search_text:luk",
            "{luk}",
            "100%",
            "a_b",
            "\\",
            "'; DROP TABLE learner; --",
        ] {
            // No error; and where letters remain, they are simply words to find.
            store
                .search(hostile, 10)
                .await
                .unwrap_or_else(|e| panic!("searching {hostile:?}: {e}"));
        }
        assert_eq!(names(&store, "luk*").await, ["Łukasz Kowalski"]);
        assert!(
            names(&store, "kow AND").await.is_empty(),
            "AND is a word here"
        );
        assert!(names(&store, "100%").await.is_empty());
        assert_eq!(store.learners(None, 0, 10).await.unwrap().1, 5);
    }

    #[tokio::test]
    async fn a_query_without_words_finds_nobody() {
        let (store, _dir) = school().await;
        assert!(names(&store, "").await.is_empty());
        assert!(names(&store, " ... ").await.is_empty());
    }

    #[tokio::test]
    async fn quoted_words_reach_the_index_as_plain_text() {
        let (store, _dir) = school().await;
        for word in ["kow\" OR \"zzz", "luk*", "NEAR(a b)", "\"", "a:b", "^x"] {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM learner_search WHERE learner_search MATCH ?",
            )
            .bind(fts_string(word))
            .fetch_one(&store.pool)
            .await
            .unwrap_or_else(|e| panic!("matching {word:?}: {e}"));
            assert_eq!(n, 0, "{word:?} matched as a query, not as text");
        }
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM learner_search WHERE learner_search MATCH ?")
                .bind(fts_string("kowal"))
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn long_words_use_the_index_and_short_ones_like() {
        let p = plan("Łukasz al K").unwrap();
        assert_eq!(p.fts.as_deref(), Some("\"lukasz\""));
        assert_eq!(p.short, ["%al%", "%k%"]);
        assert_eq!(p.all, ["%al%", "%k%", "%lukasz%"]);
        let p = plan("kow kow luk").unwrap();
        assert_eq!(p.fts.as_deref(), Some("\"kow\" AND \"luk\""));
        assert!(p.short.is_empty());
    }
}
