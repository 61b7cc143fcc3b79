//! Roster operations: the one code path for every change to classes and learners.
//!
//! The REST endpoints and sync push both turn a request into an [`OpKind`] and call
//! [`execute`]; the demo seeder calls [`apply`] inside its own transaction. Each operation
//! runs in one transaction that first takes the school's next change number, then checks
//! permissions and the base version against the state inside that transaction (no window
//! between check and write), then writes, stamping every record it touches with that number
//! so sync pulls pick the change up.

use classkeys_domain::identity::{
    ClassName, Email, FamilyName, GivenName, Role, Username, YearGroup,
};
use classkeys_domain::ids::{ClassId, LearnerId, OperationId, StaffId};
use classkeys_domain::policy::{Action, Actor};
use classkeys_domain::text::{hex, identity_key, search_fold};
use classkeys_protocol::sync::{EntityKind, OpKind, Outcome, Record, RemovalReason};
use classkeys_protocol::{ErrorBody, ErrorCode};
use sqlx::AnyConnection;

use crate::access;
use crate::clock::Clock;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::records;
use crate::stored::{Sql, Status, SubjectKind};

/// The context of one change: who makes it, and the change number and time it is stamped with.
#[derive(Debug, Clone)]
pub struct ChangeCtx {
    /// Who makes the change.
    pub actor: Actor,
    /// The change number every touched record gets.
    pub seq: i64,
    /// The time every touched record gets.
    pub now: i64,
    school: String,
}

impl ChangeCtx {
    /// A context for `actor` at change number `seq`.
    pub fn new(actor: Actor, seq: i64, now: i64) -> Self {
        Self {
            school: actor.school_id.to_string(),
            actor,
            seq,
            now,
        }
    }
}

/// Runs one operation in its own transaction and says what became of it.
///
/// With an operation id, the outcome is stored in the same transaction as the change, and a
/// replay of the same id returns the stored outcome without doing anything again. The stored
/// outcome is looked up after the school's write lock is taken, so two parallel requests
/// with the same id apply it once. `Err` is only for server faults; a refused or conflicting
/// operation is an `Ok` outcome.
pub async fn execute(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    op: &OpKind,
    base_version: Option<i64>,
    op_id: Option<OperationId>,
) -> Result<Outcome> {
    let fingerprint = op_id.map(|_| fingerprint(op, base_version));
    let (mut tx, seq) = db.begin_change(&actor.school_id.to_string()).await?;
    if let (Some(id), Some(fingerprint)) = (op_id, &fingerprint)
        && let Some(stored) = stored_outcome(&mut tx, actor, id, fingerprint).await?
    {
        tx.rollback().await?;
        return Ok(stored);
    }
    let cx = ChangeCtx::new(*actor, seq, clock.now_ms());
    let outcome = match apply(&mut tx, &cx, op, base_version).await {
        Ok(record) => Outcome::Applied { record },
        Err(e) if e.is_internal() => return Err(e),
        Err(mut e) => {
            // Undo whatever the refused operation wrote. Its outcome is stored in a new
            // transaction, which first checks that no parallel request stored one meanwhile.
            tx.rollback().await?;
            let outcome = match e.take_current() {
                Some(current) => Outcome::Conflict { current },
                None => Outcome::Rejected {
                    error: e.into_body(),
                },
            };
            let (Some(id), Some(fingerprint)) = (op_id, &fingerprint) else {
                return Ok(outcome);
            };
            let (again, _) = db.begin_change(&actor.school_id.to_string()).await?;
            tx = again;
            if let Some(stored) = stored_outcome(&mut tx, actor, id, fingerprint).await? {
                tx.rollback().await?;
                return Ok(stored);
            }
            store_outcome(&mut tx, actor, id, fingerprint, &outcome, cx.now).await?;
            tx.commit().await?;
            return Ok(outcome);
        }
    };
    if let (Some(id), Some(fingerprint)) = (op_id, &fingerprint) {
        store_outcome(&mut tx, actor, id, fingerprint, &outcome, cx.now).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// What an operation asks for, so a reused id with a different request is recognised.
fn fingerprint(op: &OpKind, base_version: Option<i64>) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(&(op, base_version)).unwrap_or_default();
    hex(&Sha256::digest(json))
}

async fn stored_outcome(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: OperationId,
    fingerprint: &str,
) -> Result<Option<Outcome>> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT actor_id, request_hash, outcome FROM applied_operation
         WHERE school_id = $1 AND op_id = $2",
    )
    .bind(actor.school_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((actor_id, request_hash, outcome)) = row else {
        return Ok(None);
    };
    if actor_id != actor.staff_id.to_string() || request_hash != fingerprint {
        return Ok(Some(Outcome::Rejected {
            error: ErrorBody::new(
                ErrorCode::OperationIdReused,
                "this operation id was already used for a different change: send the change with a new id",
            ),
        }));
    }
    serde_json::from_str(&outcome)
        .map(Some)
        .map_err(Error::internal)
}

async fn store_outcome(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: OperationId,
    fingerprint: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<()> {
    let json = serde_json::to_string(outcome).map_err(Error::internal)?;
    sqlx::query(
        "INSERT INTO applied_operation (school_id, op_id, actor_id, request_hash, outcome, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(actor.school_id.to_string())
    .bind(id.to_string())
    .bind(actor.staff_id.to_string())
    .bind(fingerprint)
    .bind(json)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Turns an outcome into a REST answer: the record, or the error it carries.
pub fn into_record(outcome: Outcome) -> Result<Option<Record>> {
    match outcome {
        Outcome::Applied { record } => Ok(record),
        Outcome::Conflict { current } => Err(Error::version_conflict(current)),
        Outcome::Rejected { error } => Err(Error::from_body(error)),
    }
}

/// Applies one operation inside the caller's transaction, which must have been started with
/// [`Db::begin_change`] for `cx.seq`. Returns the record afterwards, as the actor sees it.
pub async fn apply(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    op: &OpKind,
    base: Option<i64>,
) -> Result<Option<Record>> {
    match op {
        OpKind::ClassCreate {
            class_id,
            name,
            year_group,
        } => class_create(conn, cx, *class_id, name, year_group.as_deref()).await,
        OpKind::ClassUpdate {
            class_id,
            name,
            year_group,
            archived,
        } => {
            let changes = ClassChanges {
                name: name.as_deref(),
                year_group: year_group.as_ref().map(|y| y.as_deref()),
                archived: *archived,
            };
            class_update(conn, cx, *class_id, base, changes).await
        }
        OpKind::ClassDelete { class_id } => class_delete(conn, cx, *class_id, base).await,
        OpKind::ClassAssignTeacher { class_id, staff_id } => {
            class_assign(conn, cx, *class_id, *staff_id).await
        }
        OpKind::ClassUnassignTeacher { class_id, staff_id } => {
            class_unassign(conn, cx, *class_id, *staff_id).await
        }
        OpKind::LearnerCreate {
            learner_id,
            given_name,
            family_name,
            username,
            email,
            classes,
        } => {
            let new = NewLearnerInput {
                id: *learner_id,
                given_name,
                family_name,
                username: username.as_deref(),
                email: email.as_deref(),
                classes,
            };
            learner_create(conn, cx, new).await
        }
        OpKind::LearnerUpdate {
            learner_id,
            given_name,
            family_name,
            username,
            email,
        } => {
            let patch = LearnerChanges {
                given_name: given_name.as_deref(),
                family_name: family_name.as_deref(),
                username: username.as_deref(),
                email: email.as_ref().map(|e| e.as_deref()),
            };
            learner_update(conn, cx, *learner_id, base, patch).await
        }
        OpKind::LearnerEnrol {
            learner_id,
            class_id,
        } => learner_enrol(conn, cx, *learner_id, base, *class_id).await,
        OpKind::LearnerUnenrol {
            learner_id,
            class_id,
        } => learner_unenrol(conn, cx, *learner_id, base, *class_id).await,
        OpKind::LearnerMove {
            learner_id,
            from,
            to,
        } => learner_move(conn, cx, *learner_id, base, *from, *to).await,
        OpKind::LearnerSetActive { learner_id, active } => {
            learner_set_active(conn, cx, *learner_id, base, *active).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Facts and checks shared by the operations.

#[derive(sqlx::FromRow)]
struct LearnerFacts {
    id: String,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    version: i64,
}

impl access::LearnerColumns for LearnerFacts {
    const COLUMNS: &'static str =
        "l.id, l.username, l.given_name, l.family_name, l.email, l.version";
}

/// Loads a class of the actor's school and checks that the actor may do `action` to it.
async fn class_for(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: ClassId,
    action: Action,
) -> Result<access::Class> {
    access::class(conn, &cx.actor, id, action).await
}

/// Loads a learner of the actor's school and checks that the actor may do `action`.
async fn learner_for(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    action: Action,
) -> Result<LearnerFacts> {
    access::learner(conn, &cx.actor, id, action).await
}

async fn check_learner_version(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    facts: &LearnerFacts,
    base: Option<i64>,
) -> Result<()> {
    match base {
        Some(base) if base != facts.version => {
            let current = learner_record(conn, cx, &facts.id)
                .await?
                .ok_or_else(|| Error::not_found("learner"))?;
            Err(Error::version_conflict(current))
        }
        _ => Ok(()),
    }
}

async fn check_class_version(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    facts: &access::Class,
    base: Option<i64>,
) -> Result<()> {
    match base {
        Some(base) if base != facts.version => {
            let current = class_record(conn, cx, &facts.id)
                .await?
                .ok_or_else(|| Error::not_found("class"))?;
            Err(Error::version_conflict(current))
        }
        _ => Ok(()),
    }
}

async fn learner_record(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: &str,
) -> Result<Option<Record>> {
    Ok(records::learner(conn, &cx.actor, id)
        .await?
        .map(Record::Learner))
}

async fn class_record(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: &str,
) -> Result<Option<Record>> {
    Ok(records::class(conn, &cx.actor, id)
        .await?
        .map(Record::Class))
}

/// Which identity a key is: says which error code and words a clash gets.
#[derive(Clone, Copy)]
enum IdentityField {
    Username,
    Email,
}

/// Reserves a username or email for `owner`, or explains whose it already is.
async fn claim_identity(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    field: IdentityField,
    shown: &str,
    owner: &str,
) -> Result<()> {
    let ident = identity_key(shown);
    let holder: Option<String> =
        sqlx::query_scalar("SELECT owner_id FROM identity_key WHERE school_id = $1 AND ident = $2")
            .bind(&cx.school)
            .bind(&ident)
            .fetch_optional(&mut *conn)
            .await?;
    match holder {
        Some(holder) if holder == owner => Ok(()),
        Some(holder) => Err(identity_taken(conn, cx, field, shown, &holder).await?),
        None => {
            sqlx::query(
                "INSERT INTO identity_key (school_id, ident, owner_id) VALUES ($1, $2, $3)",
            )
            .bind(&cx.school)
            .bind(&ident)
            .bind(owner)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
    }
}

async fn release_identity(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    shown: &str,
    owner: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM identity_key WHERE school_id = $1 AND ident = $2 AND owner_id = $3")
        .bind(&cx.school)
        .bind(identity_key(shown))
        .bind(owner)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The error for a username or email that belongs to someone else. It names the account
/// (and says whether it is deactivated) only to a caller who may see that account: to anyone
/// else, a hidden learner's name and status would leak.
async fn identity_taken(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    field: IdentityField,
    shown: &str,
    holder: &str,
) -> Result<Error> {
    let learner: Option<(String, String, String, Sql<Status>)> = sqlx::query_as(
        "SELECT given_name, family_name, username, status FROM learner WHERE id = $1",
    )
    .bind(holder)
    .fetch_optional(&mut *conn)
    .await?;
    let described = match learner {
        Some((given, family, username, status)) => {
            let visible = access::sees_learner(conn, &cx.actor, holder).await?;
            visible.then(|| (format!("{given} {family} ({username})"), status))
        }
        None if cx.actor.is_lead() => {
            let staff: Option<(String, String, Sql<Status>)> =
                sqlx::query_as("SELECT display_name, username, status FROM staff WHERE id = $1")
                    .bind(holder)
                    .fetch_optional(&mut *conn)
                    .await?;
            staff.map(|(name, username, status)| {
                (format!("the member of staff {name} ({username})"), status)
            })
        }
        None => None,
    };
    let owner = match described {
        Some((who, status)) if *status == Status::Deactivated => {
            format!("the deactivated account of {who}")
        }
        Some((who, _)) => who,
        None => "another account in this school (one you cannot see): choose another, or ask a lead teacher".to_owned(),
    };
    let (code, field_name, word) = match field {
        IdentityField::Username => (ErrorCode::UsernameTaken, "username", "username"),
        IdentityField::Email => (ErrorCode::EmailTaken, "email", "email address"),
    };
    Ok(Error::new(
        code,
        format!("the {word} {shown} already belongs to {owner}"),
    )
    .with_field(field_name))
}

/// The first free username from a suggestion: `zoe.adams`, `zoe.adams2`, `zoe.adams3`, …
async fn free_username(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    base: &Username,
) -> Result<Username> {
    // One query for every taken username that starts like the suggestion, then the first
    // free one of `base`, `base2`, `base3`, … is found here.
    let taken: std::collections::HashSet<String> = sqlx::query_scalar(
        "SELECT ident FROM identity_key WHERE school_id = $1 AND ident LIKE $2 ESCAPE '\\'",
    )
    .bind(&cx.school)
    .bind(format!("{}%", base.as_str().replace('_', "\\_")))
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    base.first_free(taken.len(), |candidate| taken.contains(candidate))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidInput,
                "no free username could be made from these names: choose one",
            )
            .with_field("username")
        })
}

/// Checks an id chosen by a client for a new record: a UUIDv7, and not the id of any
/// class, learner or member of staff. Ids are one namespace because usernames, sync records
/// and (later) sessions refer to accounts by id alone: a learner created with a teacher's id
/// would share that teacher's identity keys.
async fn ensure_new_id(conn: &mut AnyConnection, id: uuid::Uuid) -> Result<()> {
    let refused =
        |reason: &str| Err(Error::new(ErrorCode::InvalidInput, reason.to_owned()).with_field("id"));
    if id.get_version_num() != 7 {
        return refused("a new record's id must be a UUIDv7: leave it out to have one made");
    }
    let id = id.to_string();
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM class WHERE id = $1
         UNION ALL SELECT 1 FROM learner WHERE id = $1
         UNION ALL SELECT 1 FROM staff WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(&mut *conn)
    .await?;
    if taken.is_some() {
        return refused("this id is already in use: choose a new one");
    }
    Ok(())
}

async fn touch_class(conn: &mut AnyConnection, cx: &ChangeCtx, class_id: &str) -> Result<()> {
    // The learner count changed: stamp the class so replicas pull it again.
    sqlx::query("UPDATE class SET seq = $1 WHERE id = $2")
        .bind(cx.seq)
        .bind(class_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stamps every learner of a class with this change number, without a new version, so
/// replicas pull them again after a change in who sees them.
async fn touch_learners_of(conn: &mut AnyConnection, cx: &ChangeCtx, class_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE learner SET seq = $1
         WHERE id IN (SELECT learner_id FROM enrollment WHERE class_id = $2)",
    )
    .bind(cx.seq)
    .bind(class_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn bump_class(conn: &mut AnyConnection, cx: &ChangeCtx, class_id: &str) -> Result<()> {
    sqlx::query("UPDATE class SET version = version + 1, seq = $1, updated_at = $2 WHERE id = $3")
        .bind(cx.seq)
        .bind(cx.now)
        .bind(class_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn bump_learner(conn: &mut AnyConnection, cx: &ChangeCtx, learner_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE learner SET version = version + 1, seq = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(cx.seq)
    .bind(cx.now)
    .bind(learner_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// After a learner left `class_id`: the class's teachers who can no longer see the learner
/// through another class get a "no longer visible" removal.
async fn revoke_learner_for_teachers_of(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    learner_id: &str,
    class_id: &str,
) -> Result<()> {
    let teachers: Vec<String> = sqlx::query_scalar(
        "SELECT ct.staff_id FROM class_teacher ct JOIN staff s ON s.id = ct.staff_id
         WHERE ct.class_id = $1 AND s.role = $3
           AND NOT EXISTS (SELECT 1 FROM enrollment e
                           JOIN class_teacher ct2 ON ct2.class_id = e.class_id
                           WHERE e.learner_id = $2 AND ct2.staff_id = ct.staff_id)",
    )
    .bind(class_id)
    .bind(learner_id)
    .bind(Sql(Role::Teacher))
    .fetch_all(&mut *conn)
    .await?;
    for staff in teachers {
        insert_removal(
            conn,
            cx,
            &staff,
            EntityKind::Learner,
            learner_id,
            RemovalReason::NoLongerVisible,
        )
        .await?;
    }
    Ok(())
}

async fn insert_removal(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    audience: &str,
    kind: EntityKind,
    entity_id: &str,
    reason: RemovalReason,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO removal (id, school_id, seq, audience_id, kind, entity_id, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&cx.school)
    .bind(cx.seq)
    .bind(audience)
    .bind(Sql(kind))
    .bind(entity_id)
    .bind(Sql(reason))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Classes.

async fn ensure_class_name_free(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    name: &ClassName,
    except: Option<&str>,
) -> Result<()> {
    let holder: Option<String> =
        sqlx::query_scalar("SELECT id FROM class WHERE school_id = $1 AND name_key = $2")
            .bind(&cx.school)
            .bind(name.key())
            .fetch_optional(&mut *conn)
            .await?;
    match holder {
        Some(id) if Some(id.as_str()) != except => Err(Error::new(
            ErrorCode::ClassNameTaken,
            format!("there is already a class named {name}: choose another name"),
        )
        .with_field("name")),
        _ => Ok(()),
    }
}

async fn class_create(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: ClassId,
    name: &str,
    year_group: Option<&str>,
) -> Result<Option<Record>> {
    access::school(&cx.actor, Action::ClassCreate, "class")?;
    let name = ClassName::parse(name)?;
    let year_group = year_group
        .filter(|y| !y.trim().is_empty())
        .map(YearGroup::parse)
        .transpose()?;
    ensure_new_id(conn, id.0).await?;
    let id = id.to_string();
    ensure_class_name_free(conn, cx, &name, None).await?;
    sqlx::query(
        "INSERT INTO class (id, school_id, name, name_key, year_group, version, seq, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)",
    )
    .bind(&id)
    .bind(&cx.school)
    .bind(name.as_str())
    .bind(name.key())
    .bind(year_group.as_ref().map(YearGroup::as_str))
    .bind(cx.seq)
    .bind(cx.now)
    .execute(&mut *conn)
    .await?;
    class_record(conn, cx, &id).await
}

/// Changes to a class; `None` leaves a field as it is.
struct ClassChanges<'a> {
    name: Option<&'a str>,
    year_group: Option<Option<&'a str>>,
    archived: Option<bool>,
}

async fn class_update(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: ClassId,
    base: Option<i64>,
    changes: ClassChanges<'_>,
) -> Result<Option<Record>> {
    if changes.name.is_none() && changes.year_group.is_none() && changes.archived.is_none() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "nothing to change: send name, year_group or archived",
        ));
    }
    let facts = class_for(conn, cx, id, Action::ClassRename).await?;
    if changes.archived.is_some() {
        class_for(conn, cx, id, Action::ClassArchive).await?;
    }
    check_class_version(conn, cx, &facts, base).await?;
    if let Some(name) = changes.name {
        let name = ClassName::parse(name)?;
        ensure_class_name_free(conn, cx, &name, Some(&facts.id)).await?;
        sqlx::query("UPDATE class SET name = $1, name_key = $2 WHERE id = $3")
            .bind(name.as_str())
            .bind(name.key())
            .bind(&facts.id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(year_group) = changes.year_group {
        let year_group = year_group
            .filter(|y| !y.trim().is_empty())
            .map(YearGroup::parse)
            .transpose()?;
        sqlx::query("UPDATE class SET year_group = $1 WHERE id = $2")
            .bind(year_group.as_ref().map(YearGroup::as_str))
            .bind(&facts.id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(archived) = changes.archived {
        sqlx::query("UPDATE class SET archived_at = $1 WHERE id = $2")
            .bind(archived.then_some(cx.now))
            .bind(&facts.id)
            .execute(&mut *conn)
            .await?;
    }
    bump_class(conn, cx, &facts.id).await?;
    class_record(conn, cx, &facts.id).await
}

async fn class_delete(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: ClassId,
    base: Option<i64>,
) -> Result<Option<Record>> {
    let facts = class_for(conn, cx, id, Action::ClassDelete).await?;
    check_class_version(conn, cx, &facts, base).await?;
    let learners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enrollment WHERE class_id = $1")
        .bind(&facts.id)
        .fetch_one(&mut *conn)
        .await?;
    if learners > 0 {
        return Err(Error::new(
            ErrorCode::ClassNotEmpty,
            format!(
                "class {} still has {learners} learner(s): move them to another class, or archive the class instead",
                facts.name
            ),
        ));
    }
    // The tombstone goes to those who could see the class: its teachers and the school's
    // lead teachers. Nobody else learns that it existed.
    let audience: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM staff WHERE school_id = $1
           AND (role = $3
                OR id IN (SELECT staff_id FROM class_teacher WHERE class_id = $2))",
    )
    .bind(&cx.school)
    .bind(&facts.id)
    .bind(Sql(Role::LeadTeacher))
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM class_teacher WHERE class_id = $1")
        .bind(&facts.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM class WHERE id = $1")
        .bind(&facts.id)
        .execute(&mut *conn)
        .await?;
    for staff in audience {
        insert_removal(
            conn,
            cx,
            &staff,
            EntityKind::Class,
            &facts.id,
            RemovalReason::Deleted,
        )
        .await?;
    }
    Ok(None)
}

/// Loads a member of staff of the actor's school.
async fn staff_of_school(conn: &mut AnyConnection, cx: &ChangeCtx, id: StaffId) -> Result<String> {
    let row: Option<String> =
        sqlx::query_scalar("SELECT id FROM staff WHERE id = $1 AND school_id = $2 AND status = $3")
            .bind(id.to_string())
            .bind(&cx.school)
            .bind(Sql(Status::Active))
            .fetch_optional(&mut *conn)
            .await?;
    row.ok_or_else(|| Error::not_found("member of staff"))
}

async fn class_assign(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: ClassId,
    staff: StaffId,
) -> Result<Option<Record>> {
    let facts = class_for(conn, cx, id, Action::ClassAssignTeachers).await?;
    let staff_id = staff_of_school(conn, cx, staff).await?;
    let inserted = sqlx::query(
        "INSERT INTO class_teacher (class_id, staff_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(&facts.id)
    .bind(&staff_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted > 0 {
        bump_class(conn, cx, &facts.id).await?;
        // The new teacher's replica needs the class's learners even though they did not
        // change.
        touch_learners_of(conn, cx, &facts.id).await?;
    }
    class_record(conn, cx, &facts.id).await
}

async fn class_unassign(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: ClassId,
    staff: StaffId,
) -> Result<Option<Record>> {
    let facts = class_for(conn, cx, id, Action::ClassAssignTeachers).await?;
    let staff_id = staff.to_string();
    let role: Option<Sql<Role>> =
        sqlx::query_scalar("SELECT role FROM staff WHERE id = $1 AND school_id = $2")
            .bind(&staff_id)
            .bind(&cx.school)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(role) = role else {
        return Err(Error::not_found("member of staff"));
    };
    let deleted = sqlx::query("DELETE FROM class_teacher WHERE class_id = $1 AND staff_id = $2")
        .bind(&facts.id)
        .bind(&staff_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if deleted > 0 {
        bump_class(conn, cx, &facts.id).await?;
        // The class's learners look different to the teacher now: their class lists show
        // only classes the reader sees.
        touch_learners_of(conn, cx, &facts.id).await?;
        // Lead teachers keep seeing everything; a teacher loses the class and the learners
        // they no longer reach through another of their classes.
        if *role == Role::Teacher {
            insert_removal(
                conn,
                cx,
                &staff_id,
                EntityKind::Class,
                &facts.id,
                RemovalReason::NoLongerVisible,
            )
            .await?;
            let gone: Vec<String> = sqlx::query_scalar(
                "SELECT e.learner_id FROM enrollment e WHERE e.class_id = $1
                   AND NOT EXISTS (SELECT 1 FROM enrollment e2
                                   JOIN class_teacher ct ON ct.class_id = e2.class_id
                                   WHERE e2.learner_id = e.learner_id AND ct.staff_id = $2)",
            )
            .bind(&facts.id)
            .bind(&staff_id)
            .fetch_all(&mut *conn)
            .await?;
            for learner in gone {
                insert_removal(
                    conn,
                    cx,
                    &staff_id,
                    EntityKind::Learner,
                    &learner,
                    RemovalReason::NoLongerVisible,
                )
                .await?;
            }
        }
    }
    class_record(conn, cx, &facts.id).await
}

// ---------------------------------------------------------------------------------------
// Learners.

/// A learner to create, as received.
pub struct NewLearnerInput<'a> {
    /// Id chosen by the client.
    pub id: LearnerId,
    /// Given name.
    pub given_name: &'a str,
    /// Family name.
    pub family_name: &'a str,
    /// Username, or `None` to suggest one.
    pub username: Option<&'a str>,
    /// Email.
    pub email: Option<&'a str>,
    /// Classes to enrol in.
    pub classes: &'a [ClassId],
}

fn search_key(given: &str, family: &str, username: &str, email: Option<&str>) -> String {
    search_fold(&format!(
        "{given} {family} {username} {}",
        email.unwrap_or_default()
    ))
}

fn sort_key(given: &str, family: &str) -> String {
    search_fold(&format!("{family} {given}"))
}

async fn learner_create(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    new: NewLearnerInput<'_>,
) -> Result<Option<Record>> {
    let given = GivenName::parse(new.given_name)?;
    let family = FamilyName::parse(new.family_name)?;
    let email = new
        .email
        .filter(|e| !e.trim().is_empty())
        .map(Email::parse)
        .transpose()?;
    if !cx.actor.is_lead() && new.classes.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "choose at least one of your classes for the new learner",
        )
        .with_field("classes"));
    }
    let mut classes = Vec::new();
    for class in new.classes {
        classes.push(class_for(conn, cx, *class, Action::LearnerCreate).await?);
    }
    ensure_new_id(conn, new.id.0).await?;
    let id = new.id.to_string();
    let username = match new.username.filter(|u| !u.trim().is_empty()) {
        Some(typed) => Username::parse(typed)?,
        None => {
            let base = Username::suggest(given.as_str(), family.as_str()).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidInput,
                    "no username can be made from these names: choose one",
                )
                .with_field("username")
            })?;
            free_username(conn, cx, &base).await?
        }
    };
    claim_identity(conn, cx, IdentityField::Username, username.as_str(), &id).await?;
    if let Some(email) = &email {
        claim_identity(conn, cx, IdentityField::Email, email.as_str(), &id).await?;
    }
    sqlx::query(
        "INSERT INTO learner (id, school_id, username, given_name, family_name, email, status,
                              search_key, sort_key, version, seq, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $11, $7, $8, 1, $9, $10, $10)",
    )
    .bind(&id)
    .bind(&cx.school)
    .bind(username.as_str())
    .bind(given.as_str())
    .bind(family.as_str())
    .bind(email.as_ref().map(Email::as_str))
    .bind(search_key(
        given.as_str(),
        family.as_str(),
        username.as_str(),
        email.as_ref().map(Email::as_str),
    ))
    .bind(sort_key(given.as_str(), family.as_str()))
    .bind(cx.seq)
    .bind(cx.now)
    .bind(Sql(Status::Active))
    .execute(&mut *conn)
    .await?;
    for class in &classes {
        sqlx::query(
            "INSERT INTO enrollment (learner_id, class_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(&class.id)
        .execute(&mut *conn)
        .await?;
        touch_class(conn, cx, &class.id).await?;
    }
    learner_record(conn, cx, &id).await
}

/// Changes to a learner's identity fields; `None` leaves a field as it is.
pub struct LearnerChanges<'a> {
    /// New given name.
    pub given_name: Option<&'a str>,
    /// New family name.
    pub family_name: Option<&'a str>,
    /// New username.
    pub username: Option<&'a str>,
    /// New email; `Some(None)` removes it.
    pub email: Option<Option<&'a str>>,
}

async fn learner_update(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    base: Option<i64>,
    changes: LearnerChanges<'_>,
) -> Result<Option<Record>> {
    if changes.given_name.is_none()
        && changes.family_name.is_none()
        && changes.username.is_none()
        && changes.email.is_none()
    {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "nothing to change: send given_name, family_name, username or email",
        ));
    }
    let facts = learner_for(conn, cx, id, Action::LearnerEdit).await?;
    check_learner_version(conn, cx, &facts, base).await?;
    let given = match changes.given_name {
        Some(g) => GivenName::parse(g)?.as_str().to_owned(),
        None => facts.given_name.clone(),
    };
    let family = match changes.family_name {
        Some(f) => FamilyName::parse(f)?.as_str().to_owned(),
        None => facts.family_name.clone(),
    };
    let username = match changes.username {
        Some(u) => Username::parse(u)?.as_str().to_owned(),
        None => facts.username.clone(),
    };
    let email = match changes.email {
        Some(Some(e)) if !e.trim().is_empty() => Some(Email::parse(e)?.as_str().to_owned()),
        Some(_) => None,
        None => facts.email.clone(),
    };
    if username != facts.username {
        claim_identity(conn, cx, IdentityField::Username, &username, &facts.id).await?;
        release_identity(conn, cx, &facts.username, &facts.id).await?;
    }
    if email.as_deref().map(identity_key) != facts.email.as_deref().map(identity_key) {
        if let Some(new) = &email {
            claim_identity(conn, cx, IdentityField::Email, new, &facts.id).await?;
        }
        if let Some(old) = &facts.email {
            release_identity(conn, cx, old, &facts.id).await?;
        }
    }
    sqlx::query(
        "UPDATE learner SET given_name = $1, family_name = $2, username = $3, email = $4,
                search_key = $5, sort_key = $6 WHERE id = $7",
    )
    .bind(&given)
    .bind(&family)
    .bind(&username)
    .bind(email.as_deref())
    .bind(search_key(&given, &family, &username, email.as_deref()))
    .bind(sort_key(&given, &family))
    .bind(&facts.id)
    .execute(&mut *conn)
    .await?;
    bump_learner(conn, cx, &facts.id).await?;
    learner_record(conn, cx, &facts.id).await
}

async fn is_enrolled(conn: &mut AnyConnection, learner: &str, class: &str) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM enrollment WHERE learner_id = $1 AND class_id = $2")
            .bind(learner)
            .bind(class)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

async fn learner_enrol(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    base: Option<i64>,
    class_id: ClassId,
) -> Result<Option<Record>> {
    let facts = learner_for(conn, cx, id, Action::LearnerEnrol).await?;
    let class = class_for(conn, cx, class_id, Action::LearnerEnrol).await?;
    check_learner_version(conn, cx, &facts, base).await?;
    if !is_enrolled(conn, &facts.id, &class.id).await? {
        sqlx::query("INSERT INTO enrollment (learner_id, class_id) VALUES ($1, $2)")
            .bind(&facts.id)
            .bind(&class.id)
            .execute(&mut *conn)
            .await?;
        touch_class(conn, cx, &class.id).await?;
        bump_learner(conn, cx, &facts.id).await?;
    }
    learner_record(conn, cx, &facts.id).await
}

async fn learner_unenrol(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    base: Option<i64>,
    class_id: ClassId,
) -> Result<Option<Record>> {
    let facts = learner_for(conn, cx, id, Action::LearnerUnenrol).await?;
    let class = class_for(conn, cx, class_id, Action::LearnerUnenrol).await?;
    check_learner_version(conn, cx, &facts, base).await?;
    if is_enrolled(conn, &facts.id, &class.id).await? {
        sqlx::query("DELETE FROM enrollment WHERE learner_id = $1 AND class_id = $2")
            .bind(&facts.id)
            .bind(&class.id)
            .execute(&mut *conn)
            .await?;
        touch_class(conn, cx, &class.id).await?;
        bump_learner(conn, cx, &facts.id).await?;
        revoke_learner_for_teachers_of(conn, cx, &facts.id, &class.id).await?;
    }
    learner_record(conn, cx, &facts.id).await
}

async fn learner_move(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    base: Option<i64>,
    from: ClassId,
    to: ClassId,
) -> Result<Option<Record>> {
    let facts = learner_for(conn, cx, id, Action::LearnerEnrol).await?;
    let from = class_for(conn, cx, from, Action::LearnerUnenrol).await?;
    let to = class_for(conn, cx, to, Action::LearnerEnrol).await?;
    check_learner_version(conn, cx, &facts, base).await?;
    if !is_enrolled(conn, &facts.id, &from.id).await? {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "{} {} is not in class {}: nothing to move",
                facts.given_name, facts.family_name, from.name
            ),
        )
        .with_field("from"));
    }
    if from.id == to.id {
        return learner_record(conn, cx, &facts.id).await;
    }
    sqlx::query("DELETE FROM enrollment WHERE learner_id = $1 AND class_id = $2")
        .bind(&facts.id)
        .bind(&from.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO enrollment (learner_id, class_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(&facts.id)
    .bind(&to.id)
    .execute(&mut *conn)
    .await?;
    touch_class(conn, cx, &from.id).await?;
    touch_class(conn, cx, &to.id).await?;
    bump_learner(conn, cx, &facts.id).await?;
    revoke_learner_for_teachers_of(conn, cx, &facts.id, &from.id).await?;
    learner_record(conn, cx, &facts.id).await
}

async fn learner_set_active(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    base: Option<i64>,
    active: bool,
) -> Result<Option<Record>> {
    let facts = learner_for(conn, cx, id, Action::LearnerSetActive).await?;
    check_learner_version(conn, cx, &facts, base).await?;
    sqlx::query("UPDATE learner SET status = $1 WHERE id = $2")
        .bind(Sql(if active {
            Status::Active
        } else {
            Status::Deactivated
        }))
        .bind(&facts.id)
        .execute(&mut *conn)
        .await?;
    // Deactivation ends every session and link issued so far, so reactivation revives
    // none of them. The credential epoch stays: the password is unchanged, and a
    // teacher-set one must still open (and be shown) once the learner is back.
    if !active {
        sqlx::query(
            "UPDATE token SET used_at = $1
             WHERE subject_kind = $3 AND subject_id = $2 AND used_at IS NULL",
        )
        .bind(cx.now)
        .bind(&facts.id)
        .bind(Sql(SubjectKind::Learner))
        .execute(&mut *conn)
        .await?;
    }
    bump_learner(conn, cx, &facts.id).await?;
    learner_record(conn, cx, &facts.id).await
}
