//! `/api/v1/sync`: pulling changes into a replica and pushing queued operations.
//!
//! Pull is state-based: every record carries the change number of its latest change, so a
//! pull returns the current state of each record changed after the cursor — never a replay
//! of history. Records are ordered by (change number, kind, id); the cursor is the last
//! position returned, so a page may end in the middle of one large change and the next page
//! continues exactly after it. All of a page's queries read one snapshot.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use classkeys_domain::policy::Actor;
use classkeys_protocol::sync::{
    Change, EntityKind, MAX_PULL_LIMIT, MAX_PUSH_OPERATIONS, OpResult, PullQuery, PullResponse,
    PushRequest, PushResponse, Record, RemovalReason,
};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};
use sqlx::AnyConnection;

use crate::auth::Authenticated;
use crate::db::parse_id;
use crate::error::{Error, Result};
use crate::http::{ApiJson, ApiQuery, page_limit};
use crate::ops;
use crate::records::{self, CLASS_VISIBLE, LEARNER_VISIBLE, lead_flag};
use crate::state::AppState;
use crate::stored::Sql;

/// Default changes per pull page.
const DEFAULT_PULL_LIMIT: u32 = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::SYNC_CHANGES, get(sync_pull))
        .route(paths::SYNC_PUSH, post(sync_push))
}

/// The record sources of a pull, in the order they are merged within one change number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Source {
    Staff = 0,
    Class = 1,
    Learner = 2,
    Removal = 3,
}

impl Source {
    const ALL: [Source; 4] = [
        Source::Staff,
        Source::Class,
        Source::Learner,
        Source::Removal,
    ];

    fn from_rank(rank: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as u8 == rank)
    }
}

/// A position in the change order: after (`seq`, `source`, `id`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Cursor {
    seq: i64,
    /// `None` before the first source: the position is "all of `seq` done".
    source: Option<Source>,
    id: String,
}

impl Cursor {
    const START: Cursor = Cursor {
        seq: 0,
        source: None,
        id: String::new(),
    };

    fn parse(s: &str) -> Result<Self> {
        let bad = || {
            Error::new(
                ErrorCode::BadRequest,
                "the sync cursor is not one this server gave out: pull again without a cursor",
            )
            .with_field("cursor")
        };
        let mut parts = s.splitn(3, '.');
        let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let rank: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id = parts.next().ok_or_else(bad)?.to_owned();
        if seq < 0 || id.len() > 64 {
            return Err(bad());
        }
        Ok(Self {
            seq,
            source: Some(Source::from_rank(rank).ok_or_else(bad)?),
            id,
        })
    }

    fn encode(&self) -> String {
        match self.source {
            Some(source) => format!("{}.{}.{}", self.seq, source as u8, self.id),
            // "all of seq done" is the same position as "after the last source of seq".
            None => format!("{}.{}.~", self.seq, Source::Removal as u8),
        }
    }

    /// SQL condition (over `{alias}.seq` and `{alias}.id`) for rows of `source` after this
    /// position; `$4` is the cursor's change number and `$5` its id.
    fn after(&self, source: Source, alias: &str) -> String {
        match self.source {
            // A row-value comparison, not `seq > $4 OR (seq = $4 AND id > $5)`: both engines
            // answer it with a range scan of the (school, seq, id) index, where the OR form
            // makes SQLite read and sort every row of the school for every page.
            Some(at) if source == at => format!("({alias}.seq, {alias}.id) > ($4, $5)"),
            Some(at) if source > at => format!("{alias}.seq >= $4"),
            _ => format!("{alias}.seq > $4"),
        }
    }
}

/// One entry found by a source query, before it is turned into a change.
struct Found {
    seq: i64,
    source: Source,
    id: String,
    /// For removals: kind, entity id and reason.
    removal: Option<(Sql<EntityKind>, String, Sql<RemovalReason>)>,
}

/// Changes since a cursor: upserts of records the caller may see, and removals.
#[utoipa::path(get, path = paths::SYNC_CHANGES, tag = "sync",
    security(("bearer" = [])),
    params(PullQuery),
    responses(
        (status = 200, body = PullResponse, description = "One page of changes"),
        (status = 400, body = ErrorBody, description = "Unknown cursor or bad limit"),
    ))]
pub(crate) async fn sync_pull(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PullQuery>,
) -> Result<ApiJson<PullResponse>> {
    let limit = page_limit(query.limit, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT)?;
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Cursor::parse(c)?,
        None => Cursor::START,
    };
    let mut tx = state.db.begin_snapshot().await?;
    let page = pull_page(&mut tx, &auth.actor, &cursor, limit as usize).await?;
    tx.commit().await?;
    Ok(ApiJson(page))
}

async fn pull_page(
    conn: &mut AnyConnection,
    actor: &Actor,
    cursor: &Cursor,
    limit: usize,
) -> Result<PullResponse> {
    let mut found = Vec::new();
    for source in Source::ALL {
        if source == Source::Staff && !actor.is_lead() {
            continue;
        }
        found.extend(find(conn, actor, cursor, source, limit + 1).await?);
    }
    found.sort_by(|a, b| (a.seq, a.source, &a.id).cmp(&(b.seq, b.source, &b.id)));
    let more = found.len() > limit;
    found.truncate(limit);

    let next = match found.last() {
        Some(last) => Cursor {
            seq: last.seq,
            source: Some(last.source),
            id: last.id.clone(),
        },
        None => cursor.clone(),
    };
    let ids = |source: Source| -> Vec<String> {
        found
            .iter()
            .filter(|f| f.source == source)
            .map(|f| f.id.clone())
            .collect()
    };
    let mut records: std::collections::HashMap<(Source, String), Record> = Default::default();
    for staff in records::staff(conn, actor, Some(&ids(Source::Staff))).await? {
        records.insert((Source::Staff, staff.id.to_string()), Record::Staff(staff));
    }
    for class in records::classes_by_ids(conn, actor, &ids(Source::Class)).await? {
        records.insert((Source::Class, class.id.to_string()), Record::Class(class));
    }
    for learner in records::learners_by_ids(conn, actor, &ids(Source::Learner)).await? {
        records.insert(
            (Source::Learner, learner.id.to_string()),
            Record::Learner(learner),
        );
    }

    let mut changes = Vec::with_capacity(found.len());
    for f in found {
        match f.removal {
            Some((kind, entity_id, reason)) => changes.push(Change::Remove {
                kind: *kind,
                id: parse_id(&entity_id)?,
                reason: *reason,
            }),
            None => {
                if let Some(record) = records.remove(&(f.source, f.id)) {
                    changes.push(Change::Upsert { record });
                }
            }
        }
    }
    Ok(PullResponse {
        changes,
        cursor: next.encode(),
        more,
    })
}

#[derive(sqlx::FromRow)]
struct FoundRow {
    seq: i64,
    id: String,
    kind: Option<Sql<EntityKind>>,
    entity_id: Option<String>,
    reason: Option<Sql<RemovalReason>>,
}

/// Rows of one source after the cursor, in order, at most `limit`.
async fn find(
    conn: &mut AnyConnection,
    actor: &Actor,
    cursor: &Cursor,
    source: Source,
    limit: usize,
) -> Result<Vec<Found>> {
    // $1 school, $2 staff, $3 lead flag, $4 cursor seq, $5 cursor id, $6 limit.
    let sql = match source {
        Source::Staff => format!(
            "SELECT s.seq, s.id, NULL AS kind, NULL AS entity_id, NULL AS reason FROM staff s
             WHERE s.school_id = $1 AND {} ORDER BY s.seq, s.id LIMIT $6",
            cursor.after(source, "s")
        ),
        Source::Class => format!(
            "SELECT c.seq, c.id, NULL AS kind, NULL AS entity_id, NULL AS reason FROM class c
             WHERE c.school_id = $1 AND {CLASS_VISIBLE} AND {} ORDER BY c.seq, c.id LIMIT $6",
            cursor.after(source, "c")
        ),
        Source::Learner => format!(
            "SELECT l.seq, l.id, NULL AS kind, NULL AS entity_id, NULL AS reason FROM learner l
             WHERE l.school_id = $1 AND {LEARNER_VISIBLE} AND {} ORDER BY l.seq, l.id LIMIT $6",
            cursor.after(source, "l")
        ),
        Source::Removal => format!(
            "SELECT r.seq, r.id, r.kind, r.entity_id, r.reason FROM removal r
             WHERE r.school_id = $1 AND r.audience_id = $2
               AND {} ORDER BY r.seq, r.id LIMIT $6",
            cursor.after(source, "r")
        ),
    };
    let rows: Vec<FoundRow> = sqlx::query_as(&sql)
        .bind(actor.school_id.to_string())
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor))
        .bind(cursor.seq)
        .bind(&cursor.id)
        .bind(limit as i64)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Found {
            seq: row.seq,
            source,
            id: row.id,
            removal: match (row.kind, row.entity_id, row.reason) {
                (Some(kind), Some(entity_id), Some(reason)) => Some((kind, entity_id, reason)),
                _ => None,
            },
        })
        .collect())
}

/// Applies a batch of operations, each atomically and idempotently, in order.
#[utoipa::path(post, path = paths::SYNC_PUSH, tag = "sync",
    security(("bearer" = [])),
    request_body = PushRequest,
    responses(
        (status = 200, body = PushResponse, description = "One result per operation"),
        (status = 400, body = ErrorBody, description = "Too many operations"),
    ))]
pub(crate) async fn sync_push(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<ApiJson<PushResponse>> {
    if request.operations.len() > MAX_PUSH_OPERATIONS {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("push at most {MAX_PUSH_OPERATIONS} operations at a time"),
        )
        .with_field("operations"));
    }
    let mut results = Vec::with_capacity(request.operations.len());
    for operation in &request.operations {
        let outcome = ops::execute(
            &state.db,
            &state.clock,
            &auth.actor,
            &operation.op,
            operation.base_version,
            Some(operation.id),
            &auth.device,
        )
        .await?;
        results.push(OpResult {
            id: operation.id,
            outcome,
        });
    }
    Ok(ApiJson(PushResponse { results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            seq: 42,
            source: Some(Source::Learner),
            id: "0190a0b0-0000-7000-8000-000000000001".into(),
        };
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
        for bad in ["", "x.1.a", "1.9.a", "-1.1.a", "1.1"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
