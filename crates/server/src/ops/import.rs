//! Applying a previewed roster import, inside the caller's change transaction: all of it
//! or, on a fault, none of it.
//!
//! What the school does not have yet — the classes and learners of a first import, often a
//! whole school — is written with multi-row statements. What the school has goes through
//! the same operations as a teacher's edits (renaming a class, editing, enrolling,
//! deactivating a learner), each in its own savepoint and based on the version the preview
//! read: a record changed since, or a username or address taken since, is left out and
//! reported, and the rest is applied. Every record written is stamped with the change's
//! number, so replicas pull an import like any other change.

use std::collections::{HashMap, HashSet};

use classkeys_domain::identity::{ClassName, Role};
use classkeys_domain::ids::{ClassId, LearnerId, StaffId};
use classkeys_domain::policy::Action;
use classkeys_domain::text::identity_key;
use classkeys_roster::plan::{Addition, Change, Field, Plan, StaffAddition, StaffChange};
use sqlx::{AnyConnection, Connection};

use crate::db::parse_id;
use crate::error::{Error, Result};
use crate::records::{placeholders, value_rows};
use crate::stored::{Sql, Status, SubjectKind};

use super::ChangeCtx;
use super::checks::{check_learner_version, learner_for};
use super::classes::{ClassChanges, class_assign, class_unassign, class_update};
use super::learners::{
    LearnerChanges, learner_enrol, learner_set_active, learner_unenrol, learner_update, search_key,
    sort_key,
};

/// Rows per multi-row statement: the widest (a learner, 14 values) stays far below both
/// engines' limits on bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// What applying did.
#[derive(Debug, Default)]
pub struct Applied {
    pub classes_added: usize,
    pub classes_renamed: usize,
    pub added: usize,
    pub changed: usize,
    pub deactivated: usize,
    /// Staff added, to be invited to choose a password.
    pub staff_added: Vec<NewStaff>,
    pub staff_changed: usize,
    /// Changes left out: who (as a person would name them) and why.
    pub skipped: Vec<(String, String)>,
    /// Every learner added or changed, for the audit log.
    pub learners: Vec<String>,
}

/// A member of staff the import added.
#[derive(Debug)]
pub struct NewStaff {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
}

/// Applies `plan` as `cx`'s change.
pub async fn import(conn: &mut AnyConnection, cx: &ChangeCtx, plan: &Plan) -> Result<Applied> {
    let mut applied = Applied::default();
    let class_of = classes(conn, cx, plan, &mut applied).await?;
    // Every username and address of the school now, and of what this import adds.
    let mut taken: HashSet<String> =
        sqlx::query_scalar("SELECT ident FROM identity_key WHERE school_id = $1")
            .bind(&cx.school)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    add_learners(conn, cx, &plan.added, &class_of, &mut taken, &mut applied).await?;
    add_staff(
        conn,
        cx,
        &plan.staff_added,
        &class_of,
        &mut taken,
        &mut applied,
    )
    .await?;
    for change in &plan.staff_changed {
        let mut savepoint = conn.begin().await?;
        let done = change_staff(&mut savepoint, cx, change, &class_of).await;
        match settle(savepoint, done).await? {
            Ok(()) => applied.staff_changed += 1,
            Err(e) => {
                let who = staff_name(conn, &change.staff_id).await?;
                applied.skipped.push((who, reason(e)));
            }
        }
    }
    for change in &plan.changed {
        let mut savepoint = conn.begin().await?;
        let done = change_learner(&mut savepoint, cx, change, &class_of).await;
        let outcome = settle(savepoint, done).await?;
        match outcome {
            Ok(()) => {
                applied.changed += 1;
                applied.learners.push(change.learner_id.clone());
            }
            Err(e) => {
                let who = learner_name(conn, &change.learner_id).await?;
                applied.skipped.push((who, reason(e)));
            }
        }
    }
    for (learner_id, version) in &plan.deactivated {
        let mut savepoint = conn.begin().await?;
        let done = deactivate_learner(&mut savepoint, cx, learner_id, *version).await;
        let outcome = settle(savepoint, done).await?;
        match outcome {
            Ok(()) => {
                applied.deactivated += 1;
                applied.learners.push(learner_id.clone());
            }
            Err(e) => {
                let who = learner_name(conn, learner_id).await?;
                applied.skipped.push((who, reason(e)));
            }
        }
    }
    Ok(applied)
}

/// Ends the savepoint one change ran in: kept when the change was made, undone when it
/// was refused (`Ok(Err(why))`). A fault is the outer `Err`, which undoes the whole import.
async fn settle(
    savepoint: sqlx::Transaction<'_, sqlx::Any>,
    done: Result<()>,
) -> Result<std::result::Result<(), Error>> {
    match done {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(Ok(()))
        }
        Err(e) if e.is_internal() => Err(e),
        Err(e) => {
            savepoint.rollback().await?;
            Ok(Err(e))
        }
    }
}

/// Why a change was left out, in words for the lead teacher.
fn reason(e: Error) -> String {
    if e.code() == classkeys_protocol::ErrorCode::VersionConflict {
        "changed in ClassKeys since the preview: not overwritten (preview again to include it)"
            .to_owned()
    } else {
        e.into_body().message
    }
}

async fn learner_name(conn: &mut AnyConnection, id: &str) -> Result<String> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT given_name, family_name, username FROM learner WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map_or_else(
        || id.to_owned(),
        |(given, family, username)| format!("{given} {family} ({username})"),
    ))
}

/// Renames and adds the plan's classes; answers the school's class id of every class of
/// the file, by the file's id.
async fn classes(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    plan: &Plan,
    applied: &mut Applied,
) -> Result<HashMap<String, String>> {
    for rename in &plan.classes_renamed {
        let changes = ClassChanges {
            name: Some(&rename.to),
            year_group: None,
            archived: None,
        };
        let mut savepoint = conn.begin().await?;
        let done = match parse_id(&rename.class_id) {
            Ok(id) => class_update(
                &mut savepoint,
                cx,
                ClassId(id),
                Some(rename.version),
                changes,
            )
            .await
            .map(drop),
            Err(e) => Err(e.into()),
        };
        match settle(savepoint, done).await? {
            Ok(()) => applied.classes_renamed += 1,
            Err(e) => applied.skipped.push((
                format!("the class {} (to be {})", rename.from, rename.to),
                reason(e),
            )),
        }
    }

    let mut class_of: HashMap<String, String> = HashMap::new();
    for matched in &plan.classes_matched {
        if matched.adopt_source_id {
            sqlx::query("UPDATE class SET source_id = $1 WHERE id = $2 AND source_id IS NULL")
                .bind(&matched.source_id)
                .bind(&matched.class_id)
                .execute(&mut *conn)
                .await?;
        }
        class_of.insert(matched.source_id.clone(), matched.class_id.clone());
    }

    // A class of the same name made since the preview is the class meant.
    let existing: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT name_key, id FROM class WHERE school_id = $1",
    )
    .bind(&cx.school)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let mut new = Vec::new();
    for class in &plan.classes_added {
        let name = ClassName::parse(&class.name)?;
        match existing.get(&name.key()) {
            Some(id) => {
                class_of.insert(class.source_id.clone(), id.clone());
            }
            None => {
                let id = ClassId::generate().to_string();
                class_of.insert(class.source_id.clone(), id.clone());
                new.push((id, name, &class.source_id));
            }
        }
    }
    for batch in new.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO class (id, school_id, name, name_key, source_id, version, seq,
                                created_at, updated_at) VALUES {}",
            value_rows(batch.len(), 9)
        );
        let mut query = sqlx::query(&sql);
        for (id, name, source_id) in batch {
            query = query
                .bind(id)
                .bind(&cx.school)
                .bind(name.as_str())
                .bind(name.key())
                .bind(*source_id)
                .bind(1_i64)
                .bind(cx.seq)
                .bind(cx.now)
                .bind(cx.now);
        }
        query.execute(&mut *conn).await?;
    }
    applied.classes_added = new.len();
    Ok(class_of)
}

/// Adds the plan's new learners, leaving out any whose username, address or file id was
/// taken after the preview.
async fn add_learners(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    additions: &[Addition],
    class_of: &HashMap<String, String>,
    taken: &mut HashSet<String>,
    applied: &mut Applied,
) -> Result<()> {
    if additions.is_empty() {
        return Ok(());
    }
    let imported = imported(conn, cx, SubjectKind::Learner).await?;

    let mut learners = Vec::with_capacity(additions.len());
    let mut identities: Vec<(String, String)> = Vec::with_capacity(additions.len() * 2);
    let mut enrolments: Vec<(String, &str)> = Vec::new();
    for addition in additions {
        let keys = match claim_new(
            taken,
            imported.contains(&addition.source_id),
            &addition.username,
            addition.email.as_deref(),
        ) {
            Ok(keys) => keys,
            Err(reason) => {
                let who = format!(
                    "{} {} ({})",
                    addition.given_name, addition.family_name, addition.username
                );
                applied.skipped.push((who, reason));
                continue;
            }
        };
        let id = LearnerId::generate().to_string();
        identities.extend(keys.into_iter().map(|key| (key, id.clone())));
        for class in &addition.classes {
            enrolments.push((id.clone(), planned_class(class_of, class)?));
        }
        learners.push((id, addition));
    }

    for batch in learners.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO learner (id, school_id, source_id, username, given_name, family_name,
                                  email, status, search_key, sort_key, version, seq,
                                  created_at, updated_at, status_changed_at, status_changed_by)
             VALUES {}",
            value_rows(batch.len(), 16)
        );
        let mut query = sqlx::query(&sql);
        for (id, a) in batch {
            query = query
                .bind(id)
                .bind(&cx.school)
                .bind(&a.source_id)
                .bind(&a.username)
                .bind(&a.given_name)
                .bind(&a.family_name)
                .bind(a.email.as_deref())
                .bind(Sql(if a.active {
                    Status::Active
                } else {
                    Status::Deactivated
                }))
                .bind(search_key(
                    &a.given_name,
                    &a.family_name,
                    &a.username,
                    a.email.as_deref(),
                ))
                .bind(sort_key(&a.given_name, &a.family_name))
                .bind(1_i64)
                .bind(cx.seq)
                .bind(cx.now)
                .bind(cx.now)
                .bind((!a.active).then_some(cx.now))
                .bind((!a.active).then(|| cx.actor.staff_id.to_string()));
        }
        query.execute(&mut *conn).await?;
    }
    insert_identities(conn, cx, &identities).await?;
    for batch in enrolments.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO enrollment (learner_id, class_id) VALUES {} ON CONFLICT DO NOTHING",
            value_rows(batch.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (learner, class) in batch {
            query = query.bind(learner).bind(*class);
        }
        query.execute(&mut *conn).await?;
    }
    // The classes' learner counts changed: replicas pull them again.
    let touched: Vec<&str> = enrolments
        .iter()
        .map(|(_, class)| *class)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for batch in touched.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE class SET seq = $1 WHERE id IN ({})",
            placeholders(2, batch.len())
        );
        let mut query = sqlx::query(&sql).bind(cx.seq);
        for class in batch {
            query = query.bind(*class);
        }
        query.execute(&mut *conn).await?;
    }
    applied.added = learners.len();
    applied
        .learners
        .extend(learners.into_iter().map(|(id, _)| id));
    Ok(())
}

/// The information system's ids the school's learners or staff already have.
async fn imported(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    kind: SubjectKind,
) -> Result<HashSet<String>> {
    let sql = match kind {
        SubjectKind::Learner => {
            "SELECT source_id FROM learner WHERE school_id = $1 AND source_id IS NOT NULL"
        }
        SubjectKind::Staff => {
            "SELECT source_id FROM staff WHERE school_id = $1 AND source_id IS NOT NULL"
        }
    };
    Ok(sqlx::query_scalar(sql)
        .bind(&cx.school)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect())
}

/// Claims a new account's username and address in `taken` (every identity key of the
/// school and of this import so far) and answers their keys; or says why the account
/// planned for a file's record cannot be added now: the record was imported meanwhile, or
/// its username or address was taken.
fn claim_new(
    taken: &mut HashSet<String>,
    imported: bool,
    username: &str,
    email: Option<&str>,
) -> std::result::Result<Vec<String>, String> {
    if imported {
        return Err("imported since the preview: preview again".to_owned());
    }
    let username_key = identity_key(username);
    let email_key = email.map(identity_key);
    if taken.contains(&username_key) {
        return Err(format!(
            "the username {username} was taken since the preview: preview again to have another made"
        ));
    }
    if let (Some(key), Some(email)) = (&email_key, email)
        && taken.contains(key)
    {
        return Err(format!(
            "the email address {email} was taken since the preview"
        ));
    }
    let keys: Vec<String> = std::iter::once(username_key).chain(email_key).collect();
    taken.extend(keys.iter().cloned());
    Ok(keys)
}

async fn insert_identities(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    identities: &[(String, String)],
) -> Result<()> {
    for batch in identities.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO identity_key (school_id, ident, owner_id) VALUES {}",
            value_rows(batch.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for (key, owner) in batch {
            query = query.bind(&cx.school).bind(key).bind(owner);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds the plan's new staff, each without a password (the caller invites them to choose
/// one), teaching their classes.
async fn add_staff(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    additions: &[StaffAddition],
    class_of: &HashMap<String, String>,
    taken: &mut HashSet<String>,
    applied: &mut Applied,
) -> Result<()> {
    if additions.is_empty() {
        return Ok(());
    }
    let imported = imported(conn, cx, SubjectKind::Staff).await?;
    for addition in additions {
        let keys = match claim_new(
            taken,
            imported.contains(&addition.source_id),
            &addition.username,
            addition.email.as_deref(),
        ) {
            Ok(keys) => keys,
            Err(reason) => {
                let who = format!("{} ({})", addition.display_name, addition.username);
                applied.skipped.push((who, reason));
                continue;
            }
        };
        let id = StaffId::generate();
        let identities: Vec<(String, String)> =
            keys.into_iter().map(|key| (key, id.to_string())).collect();
        insert_identities(conn, cx, &identities).await?;
        let role = if addition.lead {
            Role::LeadTeacher
        } else {
            Role::Teacher
        };
        sqlx::query(
            "INSERT INTO staff (id, school_id, source_id, username, email, display_name, role,
                                password_hash, status, credential_epoch, seq, created_at,
                                updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $11)",
        )
        .bind(id.to_string())
        .bind(&cx.school)
        .bind(&addition.source_id)
        .bind(&addition.username)
        .bind(addition.email.as_deref())
        .bind(&addition.display_name)
        .bind(Sql(role))
        .bind(crate::password::unusable_hash().map_err(Error::internal)?)
        .bind(Sql(Status::Active))
        .bind(cx.seq)
        .bind(cx.now)
        .execute(&mut *conn)
        .await?;
        for class in &addition.classes {
            class_assign(
                conn,
                cx,
                ClassId(parse_id(planned_class(class_of, class)?)?),
                id,
            )
            .await?;
        }
        applied.staff_added.push(NewStaff {
            id: id.to_string(),
            username: addition.username.clone(),
            display_name: addition.display_name.clone(),
            email: addition.email.clone(),
        });
    }
    Ok(())
}

/// The school's class a class of the file became.
fn planned_class<'a>(class_of: &'a HashMap<String, String>, source_id: &str) -> Result<&'a str> {
    class_of
        .get(source_id)
        .map(String::as_str)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("an imported class is not planned")))
}

/// Has a member of staff teach what the file says, and take the file's id.
async fn change_staff(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    change: &StaffChange,
    class_of: &HashMap<String, String>,
) -> Result<()> {
    let id = StaffId(parse_id(&change.staff_id)?);
    if let Some(source_id) = &change.adopt_source_id {
        sqlx::query("UPDATE staff SET source_id = $1 WHERE id = $2 AND school_id = $3")
            .bind(source_id)
            .bind(&change.staff_id)
            .bind(&cx.school)
            .execute(&mut *conn)
            .await?;
    }
    for class in &change.teach {
        class_assign(
            conn,
            cx,
            ClassId(parse_id(planned_class(class_of, class)?)?),
            id,
        )
        .await?;
    }
    for class_id in &change.stop_teaching {
        class_unassign(conn, cx, ClassId(parse_id(class_id)?), id).await?;
    }
    Ok(())
}

async fn staff_name(conn: &mut AnyConnection, id: &str) -> Result<String> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT display_name, username FROM staff WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map_or_else(
        || id.to_owned(),
        |(name, username)| format!("{name} ({username})"),
    ))
}

/// Deactivates a learner gone from the file, unless they changed since the preview.
async fn deactivate_learner(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    learner_id: &str,
    version: i64,
) -> Result<()> {
    let id = LearnerId(parse_id(learner_id)?);
    let facts = learner_for(conn, cx, id, Action::LearnerSetActive).await?;
    check_learner_version(conn, cx, &facts, Some(version)).await?;
    learner_set_active(conn, cx, id, None, false).await?;
    Ok(())
}

/// Applies one learner's changes, based on the version the preview read.
async fn change_learner(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    change: &Change,
    class_of: &HashMap<String, String>,
) -> Result<()> {
    let id = LearnerId(parse_id(&change.learner_id)?);
    let facts = learner_for(conn, cx, id, Action::LearnerEdit).await?;
    check_learner_version(conn, cx, &facts, Some(change.version)).await?;
    if let Some(source_id) = &change.adopt_source_id {
        sqlx::query("UPDATE learner SET source_id = $1 WHERE id = $2")
            .bind(source_id)
            .bind(&facts.id)
            .execute(&mut *conn)
            .await?;
    }
    if !change.fields.is_empty() {
        let to = |field: Field| {
            change
                .fields
                .iter()
                .find(|f| f.field == field)
                .map(|f| f.to.as_str())
        };
        let changes = LearnerChanges {
            given_name: to(Field::GivenName),
            family_name: to(Field::FamilyName),
            username: to(Field::Username),
            email: to(Field::Email).map(Some),
        };
        learner_update(conn, cx, id, None, changes).await?;
    }
    if change.reactivate {
        learner_set_active(conn, cx, id, None, true).await?;
    }
    for class in &change.enrol {
        let class_id = class_of.get(class).ok_or_else(|| {
            Error::internal(anyhow::anyhow!(
                "an imported learner's class is not planned"
            ))
        })?;
        learner_enrol(conn, cx, id, None, ClassId(parse_id(class_id)?)).await?;
    }
    for class_id in &change.unenrol {
        learner_unenrol(conn, cx, id, None, ClassId(parse_id(class_id)?)).await?;
    }
    Ok(())
}
