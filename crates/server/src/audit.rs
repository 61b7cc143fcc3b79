//! The audit log: every reveal, reset, export and card print, written in the same
//! transaction as what it records (or, for reads, committed before the secrets are sent),
//! and `/api/v1/audit` to read it — lead teachers the whole school's, teachers the entries
//! about their classes' learners and their own.

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::get;
use classkeys_domain::ids::LearnerId;
use classkeys_domain::policy::{Action, Actor};
use classkeys_protocol::credentials::{
    AuditAction, AuditActorKind, AuditEntry, AuditLearner, AuditPage, AuditQuery, DEVICE_HEADER,
    MAX_DEVICE_CHARS,
};
use classkeys_protocol::{ErrorBody, paths};
use sqlx::AnyConnection;

use crate::access;
use crate::auth::Authenticated;
use crate::db::{from_ms, parse_id};
use crate::error::Result;
use crate::http::{ApiJson, ApiQuery, page_limit};
use crate::records::lead_flag;
use crate::state::AppState;
use crate::stored::Sql;

/// Learners named per entry in a page of the log; the count says how many there were.
const LEARNERS_SHOWN: usize = 50;
/// Default and largest page sizes.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 500;
/// Subject rows inserted per statement.
const SUBJECT_BATCH: usize = 200;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::AUDIT, get(audit_list))
}

/// The device a request says it comes from (`X-ClassKeys-Device`), cleaned for storing:
/// control characters dropped (no forged log lines), at most 100 characters.
#[derive(Debug, Clone, Default)]
pub struct Device(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Device {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let name = parts
            .headers
            .get(DEVICE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_DEVICE_CHARS)
                    .collect::<String>()
                    .trim()
                    .to_owned()
            })
            .filter(|v| !v.is_empty());
        Ok(Device(name))
    }
}

/// Who makes an entry.
#[derive(Debug, Clone, Copy)]
pub enum AuditActor<'a> {
    /// A member of staff, as the permission policy knows them.
    Staff(&'a Actor),
    /// A learner of `school_id`, on the school's pages.
    Learner {
        school_id: &'a str,
        learner_id: &'a str,
    },
    /// The server itself, for `school_id`.
    Server { school_id: &'a str },
}

impl AuditActor<'_> {
    fn school_id(self) -> String {
        match self {
            AuditActor::Staff(actor) => actor.school_id.to_string(),
            AuditActor::Learner { school_id, .. } | AuditActor::Server { school_id } => {
                school_id.to_owned()
            }
        }
    }

    fn kind_and_id(self) -> (AuditActorKind, Option<String>) {
        match self {
            AuditActor::Staff(actor) => (AuditActorKind::Staff, Some(actor.staff_id.to_string())),
            AuditActor::Learner { learner_id, .. } => {
                (AuditActorKind::Learner, Some(learner_id.to_owned()))
            }
            AuditActor::Server { .. } => (AuditActorKind::Server, None),
        }
    }
}

/// One entry to write.
#[derive(Debug)]
pub struct Entry<'a> {
    /// When, from the server's clock.
    pub at: i64,
    /// What happened.
    pub action: AuditAction,
    /// The class it was about.
    pub class_id: Option<&'a str>,
    /// The learners it touched (empty for whole-school exports, counted in `detail`).
    pub learners: &'a [String],
    /// Choices made (mode, style, kind): never a secret.
    pub detail: serde_json::Value,
}

/// Appends an entry, inside the caller's transaction.
pub async fn record(
    conn: &mut AnyConnection,
    actor: AuditActor<'_>,
    device: &Device,
    entry: Entry<'_>,
) -> sqlx::Result<()> {
    let id = uuid::Uuid::now_v7().to_string();
    let subjects = serde_json::json!({ "learners": entry.learners.len() }).to_string();
    let (actor_kind, actor_id) = actor.kind_and_id();
    sqlx::query(
        "INSERT INTO audit (id, school_id, actor_kind, actor_id, action, subjects, device, at,
                            class_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(actor.school_id())
    .bind(Sql(actor_kind))
    .bind(actor_id)
    .bind(Sql(entry.action))
    .bind(subjects)
    .bind(device.0.as_deref())
    .bind(entry.at)
    .bind(entry.class_id)
    .bind(entry.detail.to_string())
    .execute(&mut *conn)
    .await?;
    for batch in entry.learners.chunks(SUBJECT_BATCH) {
        let values: Vec<String> = (0..batch.len())
            .map(|i| format!("($1, ${})", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO audit_subject (audit_id, learner_id) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(&id);
        for learner in batch {
            query = query.bind(learner);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Appends an entry in its own transaction: for reads, committed before the secrets they
/// record are sent.
pub async fn record_now(
    db: &crate::Db,
    actor: AuditActor<'_>,
    device: &Device,
    entry: Entry<'_>,
) -> sqlx::Result<()> {
    let mut tx = db.pool().begin().await?;
    record(&mut tx, actor, device, entry).await?;
    tx.commit().await
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    at: i64,
    actor_kind: Sql<AuditActorKind>,
    actor_id: Option<String>,
    staff_name: Option<String>,
    learner_given_name: Option<String>,
    learner_family_name: Option<String>,
    action: Sql<AuditAction>,
    class_id: Option<String>,
    class_name: Option<String>,
    subjects: String,
    detail: String,
    device: Option<String>,
}

/// SQL condition: audit entry `a` is one the actor may read (`$2` staff id, `$3` lead flag):
/// their own, or one touching a learner of a class they teach.
const ENTRY_VISIBLE: &str = "($3 = 1 OR a.actor_id = $2 OR EXISTS (
     SELECT 1 FROM audit_subject s
     JOIN enrollment e ON e.learner_id = s.learner_id
     JOIN class_teacher ct ON ct.class_id = e.class_id
     WHERE s.audit_id = a.id AND ct.staff_id = $2))";

/// Reads the audit log, newest first.
#[utoipa::path(get, path = paths::AUDIT, tag = "credentials",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage, description = "Newest first; teachers see entries about their classes' learners and their own"),
        (status = 400, body = ErrorBody, description = "Invalid query"),
    ))]
pub(crate) async fn audit_list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<ApiJson<AuditPage>> {
    access::school(&auth.actor, Action::AuditView, "audit log")?;
    let limit = page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut conn = state.db.pool().acquire().await?;
    let page = read_page(&mut conn, &auth.actor, &query, limit).await?;
    Ok(ApiJson(page))
}

/// One page of the entries the actor may read.
pub async fn read_page(
    conn: &mut AnyConnection,
    actor: &Actor,
    query: &AuditQuery,
    limit: u32,
) -> Result<AuditPage> {
    let mut sql = format!(
        "SELECT a.id, a.at, a.actor_kind, a.actor_id, st.display_name AS staff_name,
                al.given_name AS learner_given_name, al.family_name AS learner_family_name,
                a.action, a.class_id, c.name AS class_name, a.subjects, a.detail, a.device
         FROM audit a
         LEFT JOIN staff st ON st.id = a.actor_id
         LEFT JOIN learner al ON al.id = a.actor_id
         LEFT JOIN class c ON c.id = a.class_id
         WHERE a.school_id = $1 AND {ENTRY_VISIBLE}"
    );
    let mut next_param = 4;
    if query.before.is_some() {
        sql.push_str(&format!(" AND a.id < ${next_param}"));
        next_param += 1;
    }
    if query.learner_id.is_some() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM audit_subject fs WHERE fs.audit_id = a.id AND fs.learner_id = ${next_param})"
        ));
        next_param += 1;
    }
    // Ids are UUIDv7: ordering by id is ordering by time, and ties cannot happen.
    sql.push_str(&format!(" ORDER BY a.id DESC LIMIT ${next_param}"));
    let mut q = sqlx::query_as::<_, EntryRow>(&sql)
        .bind(actor.school_id.to_string())
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor));
    if let Some(before) = &query.before {
        q = q.bind(before);
    }
    if let Some(learner) = query.learner_id {
        q = q.bind(learner.to_string());
    }
    let rows = q.bind(i64::from(limit) + 1).fetch_all(&mut *conn).await?;
    let more = rows.len() > limit as usize;
    let mut items = Vec::with_capacity(rows.len().min(limit as usize));
    for row in rows.into_iter().take(limit as usize) {
        let learners = entry_learners(conn, actor, &row.id).await?;
        let learner_count = serde_json::from_str::<serde_json::Value>(&row.subjects)
            .ok()
            .and_then(|v| v.get("learners").and_then(serde_json::Value::as_i64))
            .unwrap_or(learners.len() as i64);
        let (actor_id, actor_name) = match *row.actor_kind {
            AuditActorKind::Staff => (
                row.actor_id.as_deref().map(parse_id).transpose()?,
                row.staff_name,
            ),
            AuditActorKind::Learner => (
                None,
                row.learner_given_name
                    .zip(row.learner_family_name)
                    .map(|(given, family)| format!("{given} {family}")),
            ),
            AuditActorKind::Server => (None, None),
        };
        items.push(AuditEntry {
            id: row.id,
            at: from_ms(row.at),
            actor: *row.actor_kind,
            actor_id,
            actor_name,
            action: *row.action,
            class_id: row.class_id.as_deref().map(parse_id).transpose()?,
            class_name: row.class_name,
            learner_count,
            learners,
            detail: serde_json::from_str(&row.detail).unwrap_or_default(),
            device: row.device,
        });
    }
    let next = more.then(|| items.last().map(|e| e.id.clone())).flatten();
    Ok(AuditPage { items, next })
}

/// The learners an entry names, as they are called now; for teachers only those they see.
async fn entry_learners(
    conn: &mut AnyConnection,
    actor: &Actor,
    audit_id: &str,
) -> Result<Vec<AuditLearner>> {
    let sql = format!(
        "SELECT l.id, l.username, l.given_name, l.family_name
         FROM audit_subject s JOIN learner l ON l.id = s.learner_id
         WHERE s.audit_id = $1 AND ($3 = 1 OR EXISTS (SELECT 1 FROM enrollment e
               JOIN class_teacher ct ON ct.class_id = e.class_id
               WHERE e.learner_id = l.id AND ct.staff_id = $2))
         ORDER BY l.sort_key, l.id LIMIT {}",
        LEARNERS_SHOWN
    );
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(&sql)
        .bind(audit_id)
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|(id, username, given, family)| {
            Ok(AuditLearner {
                id: parse_id::<LearnerId>(&id)?,
                username,
                name: format!("{given} {family}"),
            })
        })
        .collect()
}
