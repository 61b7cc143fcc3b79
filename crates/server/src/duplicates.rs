//! `/api/v1/learners/duplicates`: learners who may be one person with two accounts — the
//! same name in a class or left behind deactivated, or email addresses that differ only by
//! capitals, dots or one letter — among the learners the caller may see. Deciding which
//! pairs those are is `classkeys_domain::lookalike`'s; this reads the school and answers.
//!
//! The work is bounded: one read of the visible learners and their classes, then a pass
//! that grows with their number (not its square), and at most [`MAX_PAIRS`] pairs back.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use classkeys_domain::lookalike::{Account, Kinship, Likeness, likely_duplicates};
use classkeys_domain::policy::Action;
use classkeys_protocol::diagnosis::Resemblance;
use classkeys_protocol::paths;
use classkeys_protocol::roster::{DuplicateList, DuplicatePair};

use crate::access;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::http::ApiJson;
use crate::records::{self, LEARNER_VISIBLE, lead_flag};
use crate::state::AppState;
use crate::stored::{Sql, Status};

/// The most pairs listed.
pub const MAX_PAIRS: usize = 200;
/// Learners of one name past which the name is common, not a sign of duplicates.
const CROWD: usize = 6;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::LEARNER_DUPLICATES, get(learner_duplicates))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    sort_key: String,
    email: Option<String>,
    status: Sql<Status>,
}

/// Lists learners who may be one person with two accounts.
#[utoipa::path(get, path = paths::LEARNER_DUPLICATES, tag = "learners",
    security(("bearer" = [])),
    responses(
        (status = 200, body = DuplicateList, description = "Likely pairs among the learners the caller may see, the most telling first"),
    ))]
pub(crate) async fn learner_duplicates(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<ApiJson<DuplicateList>> {
    access::school(&auth.actor, Action::LearnerView, "learner")?;
    let actor = &auth.actor;
    let mut conn = state.db.pool().acquire().await?;
    let sql = format!(
        "SELECT l.id, l.sort_key, l.email, l.status FROM learner l
         WHERE l.school_id = $1 AND {LEARNER_VISIBLE} ORDER BY l.id"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(actor.school_id.to_string())
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor))
        .fetch_all(&mut *conn)
        .await?;
    let sql = format!(
        "SELECT e.learner_id, e.class_id FROM enrollment e JOIN learner l ON l.id = e.learner_id
         WHERE l.school_id = $1 AND {LEARNER_VISIBLE}"
    );
    let enrolments: Vec<(String, String)> = sqlx::query_as(&sql)
        .bind(actor.school_id.to_string())
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor))
        .fetch_all(&mut *conn)
        .await?;
    let mut classes: HashMap<String, Vec<String>> = HashMap::new();
    for (learner, class) in enrolments {
        classes.entry(learner).or_default().push(class);
    }
    let accounts: Vec<Account<'_>> = rows
        .iter()
        .map(|r| Account {
            name_key: &r.sort_key,
            email: r.email.as_deref(),
            active: r.status.0 == Status::Active,
            classes: classes.get(&r.id).map_or(&[], Vec::as_slice),
        })
        .collect();
    let found = likely_duplicates(&accounts, CROWD);
    let truncated = found.len() > MAX_PAIRS;
    let found = &found[..found.len().min(MAX_PAIRS)];

    let ids: Vec<String> = found
        .iter()
        .flat_map(|&(i, j, _, _)| [rows[i].id.clone(), rows[j].id.clone()])
        .collect();
    let records: HashMap<_, _> = records::learners_by_ids(&mut conn, actor, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id.to_string(), r))
        .collect();
    let pairs = found
        .iter()
        .filter_map(|&(i, j, kinship, shared_class)| {
            let (a, b) = (records.get(&rows[i].id)?, records.get(&rows[j].id)?);
            let (first, second) = if a.email.is_none() && b.email.is_some() {
                (b, a)
            } else {
                (a, b)
            };
            Some(DuplicatePair {
                resemblance: resemblance(kinship),
                shared_class,
                first: first.clone(),
                second: second.clone(),
            })
        })
        .collect();
    Ok(ApiJson(DuplicateList { pairs, truncated }))
}

/// How two accounts resemble each other, as the API says it.
pub fn resemblance(kinship: Kinship) -> Resemblance {
    match kinship {
        Kinship::SameName => Resemblance::SameName,
        Kinship::Email(Likeness::Case) => Resemblance::EmailCase,
        Kinship::Email(Likeness::Dots) => Resemblance::EmailDots,
        Kinship::Email(Likeness::OneLetter) => Resemblance::EmailOneLetter,
    }
}
