//! Importing a school's roster from its information system, in two steps. `POST
//! /api/v1/imports/preview` reads an uploaded OneRoster zip or spreadsheet CSV and answers
//! what importing it would do, changing nothing in the school; the plan is kept (for a
//! day) under the preview's id. `POST /api/v1/imports/{id}/apply` applies that plan as one
//! change, leaving out whatever changed since the preview. Lead teachers only, for their
//! own school.
//!
//! Reading and planning are `classkeys-roster`'s (bounded: the file's size, the zip's
//! inflated sizes and entries, all before anything is parsed); writing is `ops::import`'s.
//! This module reads the school as it is, keeps the plan, names the plan's records for the
//! person previewing it, and records the import in the audit log: one entry naming the
//! import and every learner it touched, while the import's row keeps every change.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::post;
use classkeys_domain::ids::ImportId;
use classkeys_domain::policy::{Action, Actor};
use classkeys_domain::text::hex;
use classkeys_protocol::credentials::AuditAction;
use classkeys_protocol::diagnosis::MailKind;
use classkeys_protocol::imports::{
    AddedLearner, AddedStaff, ChangedLearner, ChangedStaff, FieldChange, INVITATION_LIFETIME_DAYS,
    ImportApplied, ImportApply, ImportPreview, ImportQuery, LearnerLine, MAX_IMPORT_BYTES,
    PREVIEW_LIFETIME_HOURS, RefusedRow, Renamed, SkippedChange, StaffInvitation,
};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};
use classkeys_roster::oneroster::{self, Version};
use classkeys_roster::plan::{
    Guards, Incoming, Plan, School, SchoolClass, SchoolLearner, SchoolStaff, plan,
};
use classkeys_roster::{Limits, Refusal, plain};
use sqlx::AnyConnection;

use crate::access;
use crate::audit::{self, AuditActor};
use crate::auth::{Authenticated, Holder};
use crate::db::parse_id;
use crate::error::{Error, Result};
use crate::http::{ApiJson, ApiQuery};
use crate::links::{self, Link};
use crate::mail_queue::{Letter, Sender};
use crate::ops::{self, ChangeCtx};
use crate::state::AppState;
use crate::stored::{Sql, Status, SubjectKind};
use crate::wording;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::IMPORT_PREVIEW, post(import_preview))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
        .route(paths::IMPORT_APPLY.template(), post(import_apply))
}

/// How long a preview can be applied, in milliseconds.
const PREVIEW_LIFETIME_MS: i64 = PREVIEW_LIFETIME_HOURS * 3_600_000;
/// Unapplied previews kept per school: a newer one pushes out the oldest.
const PREVIEWS_KEPT: i64 = 10;

/// What importing the uploaded roster file would do; nothing in the school changes.
#[utoipa::path(post, path = paths::IMPORT_PREVIEW, tag = "imports",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "A OneRoster 1.1 or 1.2 CSV zip, or a CSV of learners"),
    responses(
        (status = 200, body = ImportPreview, description = "What would be added, changed, enrolled, moved and deactivated, and the rows refused"),
        (status = 400, body = ErrorBody, description = "The file cannot be read: the message names the file, line and column"),
        (status = 403, body = ErrorBody, description = "Only lead teachers import"),
        (status = 413, body = ErrorBody, description = "The file is too large"),
    ))]
pub(crate) async fn import_preview(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<ApiJson<ImportPreview>> {
    access::school(&auth.actor, Action::RosterImport, "school roster")?;
    let body = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "the file is larger than the {} MB a roster file may be: export one school, or split the file",
                    MAX_IMPORT_BYTES >> 20
                ),
            )
        } else {
            Error::new(ErrorCode::BadRequest, e.body_text())
        }
    })?;
    let file_name = query.name.clone().unwrap_or_default();
    let (format, incoming, file_sha256) = tokio::task::spawn_blocking(move || {
        use sha2::{Digest, Sha256};
        read(&query, &body)
            .map(|(format, incoming)| (format, incoming, hex(&Sha256::digest(&body))))
    })
    .await
    .map_err(Error::internal)?
    .map_err(|refusal| Error::new(ErrorCode::InvalidInput, refusal.to_string()))?;
    let mut conn = state.db.pool().acquire().await?;
    let school = load_school(&mut conn, &auth.actor).await?;
    let plan = plan(&school, &incoming, &Guards::default());
    let import_id = ImportId::generate();
    let now = state.clock.now_ms();
    let school_id = auth.actor.school_id.to_string();
    // Previews never applied are kept only as long as they may be applied, and only the
    // newest few: each holds a whole plan, and previewing again costs a lead teacher
    // nothing.
    sqlx::query(
        "DELETE FROM roster_import WHERE school_id = $1 AND applied_at IS NULL
           AND (previewed_at < $2
                OR id NOT IN (SELECT id FROM roster_import
                              WHERE school_id = $1 AND applied_at IS NULL
                              ORDER BY previewed_at DESC, id DESC LIMIT $3))",
    )
    .bind(&school_id)
    .bind(now - PREVIEW_LIFETIME_MS)
    .bind(PREVIEWS_KEPT - 1)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO roster_import (id, school_id, previewed_by, previewed_at, format, file_name,
                                    file_sha256, plan)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(import_id.to_string())
    .bind(&school_id)
    .bind(auth.actor.staff_id.to_string())
    .bind(now)
    .bind(&format)
    .bind(&file_name)
    .bind(&file_sha256)
    .bind(serde_json::to_string(&plan).map_err(Error::internal)?)
    .execute(&mut *conn)
    .await?;
    Ok(ApiJson(preview(
        import_id, format, &school, &incoming, &plan,
    )?))
}

#[derive(sqlx::FromRow)]
struct ImportRow {
    previewed_at: i64,
    format: String,
    file_name: String,
    plan: String,
    applied_at: Option<i64>,
}

/// Applies a previewed import as one change.
#[utoipa::path(post, path = paths::IMPORT_APPLY.template(), tag = "imports",
    security(("bearer" = [])),
    params(("id" = ImportId, Path, description = "The preview's import_id")),
    request_body = ImportApply,
    responses(
        (status = 200, body = ImportApplied, description = "Applied: what changed, and what was left out because it changed since the preview"),
        (status = 403, body = ErrorBody, description = "Only lead teachers import"),
        (status = 404, body = ErrorBody, description = "No such preview in this school"),
        (status = 409, body = ErrorBody, description = "Held until confirmed (import_held), or already applied or previewed too long ago (import_stale)"),
    ))]
pub(crate) async fn import_apply(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(import_id): Path<ImportId>,
    ApiJson(request): ApiJson<ImportApply>,
) -> Result<ApiJson<ImportApplied>> {
    access::school(&auth.actor, Action::RosterImport, "school roster")?;
    let school_id = auth.actor.school_id.to_string();
    let (mut tx, seq) = state.db.begin_change(&school_id).await?;
    // Read after the school's write lock: two parallel applies cannot both find it unapplied.
    let row: Option<ImportRow> = sqlx::query_as(
        "SELECT previewed_at, format, file_name, plan, applied_at FROM roster_import
         WHERE id = $1 AND school_id = $2",
    )
    .bind(import_id.to_string())
    .bind(&school_id)
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or_else(|| Error::not_found("import"))?;
    let now = state.clock.now_ms();
    if row.applied_at.is_some() {
        return Err(Error::new(
            ErrorCode::ImportStale,
            "this import was already applied: preview the file again to see what it would change now",
        ));
    }
    if now - row.previewed_at > PREVIEW_LIFETIME_MS {
        return Err(Error::new(
            ErrorCode::ImportStale,
            format!(
                "this preview is more than {PREVIEW_LIFETIME_HOURS} hours old: preview the file again"
            ),
        ));
    }
    let plan: Plan = serde_json::from_str(&row.plan).map_err(Error::internal)?;
    if !plan.held.is_empty() && !request.confirm {
        return Err(Error::new(
            ErrorCode::ImportHeld,
            format!(
                "this import waits for your confirmation: {}",
                plan.held.join("; ")
            ),
        ));
    }
    let cx = ChangeCtx::new(auth.actor, seq, now).from_device(&auth.device);
    let applied = ops::import(&mut tx, &cx, &plan).await?;
    let invitations = invite(&mut tx, &state, &auth, &applied.staff_added).await?;
    let answer = ImportApplied {
        import_id,
        classes_added: applied.classes_added,
        classes_renamed: applied.classes_renamed,
        added: applied.added,
        changed: applied.changed,
        deactivated: applied.deactivated,
        staff_added: applied.staff_added.len(),
        staff_changed: applied.staff_changed,
        invitations,
        skipped: applied
            .skipped
            .into_iter()
            .map(|(who, reason)| SkippedChange { who, reason })
            .collect(),
    };
    audit::record(
        &mut tx,
        AuditActor::Staff(&auth.actor),
        &auth.device,
        audit::Entry {
            at: now,
            action: AuditAction::RosterImported,
            class_id: None,
            learners: &applied.learners,
            detail: serde_json::json!({
                "import": import_id,
                "file": row.file_name,
                "format": row.format,
                "classes_added": answer.classes_added,
                "classes_renamed": answer.classes_renamed,
                "added": answer.added,
                "changed": answer.changed,
                "deactivated": answer.deactivated,
                "staff_added": answer.staff_added,
                "staff_changed": answer.staff_changed,
                "skipped": answer.skipped.len(),
            }),
        },
    )
    .await?;
    sqlx::query(
        "UPDATE roster_import SET applied_by = $1, applied_at = $2, outcome = $3 WHERE id = $4",
    )
    .bind(auth.actor.staff_id.to_string())
    .bind(now)
    .bind(serde_json::to_string(&kept(&answer)).map_err(Error::internal)?)
    .bind(import_id.to_string())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if answer.invitations.iter().any(|i| i.mailed_to.is_some()) {
        state.mail.wake();
    }
    Ok(ApiJson(answer))
}

/// What applying did, as the import's row keeps it: never an invitation's link, which
/// opens an account.
fn kept(answer: &ImportApplied) -> ImportApplied {
    let mut kept = answer.clone();
    for invitation in &mut kept.invitations {
        invitation.link = None;
    }
    kept
}

/// Invites each new member of staff to choose a password, in the import's transaction: a
/// link mailed to their address, or, without one, the link for the lead teacher to hand
/// over, answered this once and kept nowhere but as its hash.
async fn invite(
    tx: &mut AnyConnection,
    state: &AppState,
    auth: &Authenticated,
    added: &[ops::NewStaff],
) -> Result<Vec<StaffInvitation>> {
    if added.is_empty() {
        return Ok(Vec::new());
    }
    let school_id = auth.actor.school_id.to_string();
    let sender = Sender::load(&mut *tx, state, &school_id).await?;
    let lifetime = std::time::Duration::from_secs(INVITATION_LIFETIME_DAYS * 24 * 3600);
    let mut invitations = Vec::with_capacity(added.len());
    for staff in added {
        let holder = Holder {
            kind: SubjectKind::Staff,
            school_id: school_id.clone(),
            subject_id: staff.id.clone(),
            epoch: 0,
        };
        let token = links::issue(&mut *tx, state, Link::Reset, &holder, lifetime).await?;
        let link = Link::Reset.url(state, &auth.me.school_slug, token.expose());
        let mailed_to = match &staff.email {
            Some(address) => {
                let text = wording::staff_invitation(
                    sender.name(),
                    &staff.display_name,
                    &staff.username,
                    &auth.me.display_name,
                    &link,
                    INVITATION_LIFETIME_DAYS,
                );
                sender
                    .queue(
                        &mut *tx,
                        state,
                        Letter {
                            kind: MailKind::StaffInvitation,
                            about: Some((SubjectKind::Staff, &staff.id)),
                            to: address,
                            title: &text.title,
                            body: &text.body,
                            message: None,
                        },
                    )
                    .await?;
                Some(address.to_owned())
            }
            None => None,
        };
        invitations.push(StaffInvitation {
            username: staff.username.clone(),
            name: staff.display_name.clone(),
            link: mailed_to.is_none().then_some(link),
            mailed_to,
        });
    }
    Ok(invitations)
}

/// Reads the file as `query` says, or as its first bytes say.
fn read(query: &ImportQuery, body: &[u8]) -> std::result::Result<(String, Incoming), Refusal> {
    let name = query.name.clone().unwrap_or_else(|| "the file".to_owned());
    let limits = Limits::default();
    let zip = match query.format.as_deref() {
        Some("oneroster") => true,
        Some("csv") => false,
        None => body.starts_with(b"PK"),
        Some(other) => {
            return Err(Refusal::file(
                name,
                format!("{other:?} is not a format: use oneroster or csv"),
            ));
        }
    };
    if !zip {
        let chosen = plain::parse_map(query.map.as_deref().unwrap_or_default())?;
        let learners = plain::read_csv(&name, body, &chosen, &limits)?;
        return Ok(("csv".to_owned(), plain::incoming(&name, &learners)));
    }
    let roster = oneroster::read_zip(&name, body, &limits)?;
    let schools = roster.schools();
    let org = match (&query.org, schools.as_slice()) {
        (Some(org), _) => org.clone(),
        (None, [only]) => only.sourced_id.clone(),
        (None, []) => return Err(Refusal::file(name, "the export names no school (orgs.csv)")),
        (None, several) => {
            let listed: Vec<String> = several
                .iter()
                .map(|o| format!("{} ({})", o.name, o.sourced_id))
                .collect();
            return Err(Refusal::file(
                name,
                format!(
                    "the export holds {} schools: say which one to import (its sourcedId): {}",
                    several.len(),
                    listed.join(", ")
                ),
            ));
        }
    };
    if !roster.orgs.iter().any(|o| o.sourced_id == org) {
        return Err(Refusal::file(name, format!("the export has no org {org}")));
    }
    let format = match roster.version {
        Version::V1_1 => "oneroster 1.1",
        Version::V1_2 => "oneroster 1.2",
    };
    Ok((format.to_owned(), roster.incoming(&org)))
}

#[derive(sqlx::FromRow)]
struct LearnerRow {
    id: String,
    source_id: Option<String>,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: Sql<Status>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: String,
    source_id: Option<String>,
    username: String,
    display_name: String,
    email: Option<String>,
}

/// `(person, class)` pairs as each person's classes.
fn grouped(pairs: Vec<(String, String)>) -> HashMap<String, Vec<String>> {
    let mut grouped: HashMap<String, Vec<String>> = HashMap::new();
    for (person, class) in pairs {
        grouped.entry(person).or_default().push(class);
    }
    grouped
}

/// The school as an import plans against it.
async fn load_school(conn: &mut AnyConnection, actor: &Actor) -> Result<School> {
    let school_id = actor.school_id.to_string();
    let classes: Vec<(String, Option<String>, String, i64)> =
        sqlx::query_as("SELECT id, source_id, name, version FROM class WHERE school_id = $1")
            .bind(&school_id)
            .fetch_all(&mut *conn)
            .await?;
    let rows: Vec<LearnerRow> = sqlx::query_as(
        "SELECT id, source_id, username, given_name, family_name, email, status, version
         FROM learner WHERE school_id = $1",
    )
    .bind(&school_id)
    .fetch_all(&mut *conn)
    .await?;
    let enrolments: Vec<(String, String)> = sqlx::query_as(
        "SELECT e.learner_id, e.class_id FROM enrollment e JOIN learner l ON l.id = e.learner_id
         WHERE l.school_id = $1",
    )
    .bind(&school_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_learner = grouped(enrolments);
    let staff: Vec<StaffRow> = sqlx::query_as(
        "SELECT id, source_id, username, display_name, email FROM staff WHERE school_id = $1",
    )
    .bind(&school_id)
    .fetch_all(&mut *conn)
    .await?;
    let teaching: Vec<(String, String)> = sqlx::query_as(
        "SELECT ct.staff_id, ct.class_id FROM class_teacher ct JOIN staff s ON s.id = ct.staff_id
         WHERE s.school_id = $1",
    )
    .bind(&school_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_staff = grouped(teaching);
    Ok(School {
        classes: classes
            .into_iter()
            .map(|(id, source_id, name, version)| SchoolClass {
                id,
                source_id,
                name,
                version,
            })
            .collect(),
        learners: rows
            .into_iter()
            .map(|r| SchoolLearner {
                classes: by_learner.remove(&r.id).unwrap_or_default(),
                id: r.id,
                source_id: r.source_id,
                username: r.username,
                given_name: r.given_name,
                family_name: r.family_name,
                email: r.email,
                active: r.status.0 == Status::Active,
                version: r.version,
            })
            .collect(),
        staff: staff
            .into_iter()
            .map(|s| SchoolStaff {
                classes: by_staff.remove(&s.id).unwrap_or_default(),
                id: s.id,
                source_id: s.source_id,
                username: s.username,
                name: s.display_name,
                email: s.email,
            })
            .collect(),
    })
}

/// The plan, with every record named as the person previewing it knows it.
fn preview(
    import_id: ImportId,
    format: String,
    school: &School,
    incoming: &Incoming,
    plan: &Plan,
) -> Result<ImportPreview> {
    let class_name: HashMap<&str, &str> = school
        .classes
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .chain(
            incoming
                .classes
                .iter()
                .map(|c| (c.source_id.as_str(), c.name.as_str())),
        )
        .collect();
    let name_of = |id: &str| class_name.get(id).copied().unwrap_or(id).to_owned();
    let learners: HashMap<&str, &SchoolLearner> =
        school.learners.iter().map(|l| (l.id.as_str(), l)).collect();
    let line = |id: &str| -> Result<LearnerLine> {
        let learner = learners.get(id).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("a planned learner is not in the school"))
        })?;
        Ok(LearnerLine {
            learner_id: parse_id(id)?,
            username: learner.username.clone(),
            name: format!("{} {}", learner.given_name, learner.family_name),
        })
    };
    Ok(ImportPreview {
        import_id,
        format,
        classes_added: plan.classes_added.iter().map(|c| c.name.clone()).collect(),
        classes_renamed: plan
            .classes_renamed
            .iter()
            .map(|r| Renamed {
                from: r.from.clone(),
                to: r.to.clone(),
            })
            .collect(),
        added: plan
            .added
            .iter()
            .map(|a| AddedLearner {
                given_name: a.given_name.clone(),
                family_name: a.family_name.clone(),
                username: a.username.clone(),
                username_made: a.username_made,
                email: a.email.clone(),
                classes: a.classes.iter().map(|c| name_of(c)).collect(),
                deactivated: !a.active,
            })
            .collect(),
        staff_added: plan
            .staff_added
            .iter()
            .map(|s| AddedStaff {
                name: s.display_name.clone(),
                username: s.username.clone(),
                username_made: s.username_made,
                email: s.email.clone(),
                lead: s.lead,
                classes: s.classes.iter().map(|c| name_of(c)).collect(),
            })
            .collect(),
        staff_changed: plan
            .staff_changed
            .iter()
            .filter_map(|c| {
                let staff = school.staff.iter().find(|s| s.id == c.staff_id)?;
                Some(ChangedStaff {
                    username: staff.username.clone(),
                    name: staff.name.clone(),
                    teaches: c.teach.iter().map(|id| name_of(id)).collect(),
                    stops_teaching: c.stop_teaching.iter().map(|id| name_of(id)).collect(),
                })
            })
            .collect(),
        changed: plan
            .changed
            .iter()
            .map(|c| {
                Ok(ChangedLearner {
                    learner: line(&c.learner_id)?,
                    fields: c
                        .fields
                        .iter()
                        .map(|f| FieldChange {
                            field: f.field.as_str().to_owned(),
                            from: f.from.clone(),
                            to: f.to.clone(),
                        })
                        .collect(),
                    reactivated: c.reactivate,
                    joins: c.enrol.iter().map(|id| name_of(id)).collect(),
                    leaves: c.unenrol.iter().map(|id| name_of(id)).collect(),
                })
            })
            .collect::<Result<_>>()?,
        deactivated: plan
            .deactivated
            .iter()
            .map(|(id, _)| line(id))
            .collect::<Result<_>>()?,
        unchanged: plan.unchanged,
        refused: plan
            .refused
            .iter()
            .map(|r| RefusedRow {
                file: r.file.clone(),
                line: r.line,
                column: r.column.clone(),
                reason: r.reason.clone(),
            })
            .collect(),
        held: plan.held.clone(),
    })
}
