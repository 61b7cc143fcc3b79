//! The replica proper: applying pulled changes, and reading classes, learners and staff the
//! way the screens show them.
//!
//! Records are written in the shape the server sends ([`Record`]) and read back in the same
//! shape, with two things derived here rather than trusted from the wire: a class's learner
//! count (from the enrolment rows, so an offline enrolment shows at once) and the folded
//! sort and search keys (from `classkeys_domain::text::search_fold`, the same folding the
//! server's search uses).

use std::collections::HashMap;

use classkeys_domain::identity::Role;
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::text::{identity_key, search_fold};
use classkeys_protocol::credentials::PasswordState;
use classkeys_protocol::roster::{ClassRecord, LearnerRecord, StaffRecord, StaffRef};
use classkeys_protocol::sync::{Change, EntityKind, PullResponse, Record};
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::{Error, META_CURSOR, Result, Store, meta_set};

/// Learners per multi-row INSERT. One statement per row costs ~10× more (DESIGN §10); 200
/// rows of 13 values stay far below SQLite's 32,766 bound parameters.
const LEARNER_BATCH: usize = 200;

/// Enrolment rows per multi-row INSERT (3 values each).
const ENROLMENT_BATCH: usize = 500;

/// Whether a write may replace a newer version of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overwrite {
    /// Always: the optimistic record of a change made here, or a restored earlier state.
    Always,
    /// Only when not older than what is held: a pull page fetched before a push settled
    /// must not turn the settled record back.
    IfNotOlder,
    /// As `IfNotOlder`, and never over a record that a queued or conflicting change of the
    /// teacher's still holds: their change stays on screen until it is applied or they
    /// decide a conflict. (The pull that follows a conflicting push carries the server's
    /// version at the same version number as the optimistic record.)
    Pulled,
}

/// The columns of a learner record, with its classes in the order they were sent.
pub(crate) const LEARNER_COLUMNS: &str =
    "l.id, l.username, l.given_name, l.family_name, l.email, l.active,
    l.password_state, l.must_change_password, l.version, l.updated_at,
    (SELECT json_group_array(class_id)
       FROM (SELECT class_id FROM enrolment WHERE learner_id = l.id ORDER BY position))
       AS classes";

/// The list order: family name, then given name, accent- and case-blind; id breaks ties
/// (two learners called Mohammed Ali) so pages never overlap or skip.
pub(crate) const LEARNER_ORDER: &str = "ORDER BY l.family_key, l.given_key, l.id";

const CLASS_COLUMNS: &str = "c.id, c.name, c.year_group, c.archived, c.teachers, c.version,
    c.updated_at, (SELECT count(*) FROM enrolment e WHERE e.class_id = c.id) AS learner_count";

#[derive(sqlx::FromRow)]
pub(crate) struct LearnerRow {
    id: String,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    active: bool,
    password_state: String,
    must_change_password: bool,
    version: i64,
    updated_at: String,
    classes: String,
}

impl LearnerRow {
    pub(crate) fn into_record(self) -> Result<LearnerRecord> {
        let classes: Vec<ClassId> = serde_json::from_str(&self.classes)
            .map_err(|e| Error::corrupt("learner's class list")(e.to_string()))?;
        Ok(LearnerRecord {
            id: parse_id(&self.id)?,
            username: self.username,
            given_name: self.given_name,
            family_name: self.family_name,
            email: self.email,
            active: self.active,
            classes,
            password: serde_json::from_value(serde_json::Value::String(self.password_state))
                .map_err(|e| Error::corrupt("learner's password state")(e.to_string()))?,
            must_change_password: self.must_change_password,
            version: self.version,
            updated_at: parse_time(&self.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ClassRow {
    id: String,
    name: String,
    year_group: Option<String>,
    archived: bool,
    teachers: String,
    version: i64,
    updated_at: String,
    learner_count: i64,
}

impl ClassRow {
    fn into_record(self) -> Result<ClassRecord> {
        let teachers: Vec<StaffRef> = serde_json::from_str(&self.teachers)
            .map_err(|e| Error::corrupt("class's teachers")(e.to_string()))?;
        Ok(ClassRecord {
            id: parse_id(&self.id)?,
            name: self.name,
            year_group: self.year_group,
            archived: self.archived,
            teachers,
            learner_count: self.learner_count,
            version: self.version,
            updated_at: parse_time(&self.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: String,
    username: String,
    display_name: String,
    role: String,
    active: bool,
}

impl StaffRow {
    fn into_record(self) -> Result<StaffRecord> {
        Ok(StaffRecord {
            id: parse_id(&self.id)?,
            username: self.username,
            display_name: self.display_name,
            role: Role::parse(&self.role).map_err(|e| Error::corrupt("staff role")(e.reason))?,
            active: self.active,
        })
    }
}

impl Store {
    /// Applies one pull page: its upserts and removals in order, and its cursor, in one
    /// transaction. Applying the same page twice leaves the replica as applying it once.
    ///
    /// A class that leaves the replica takes its enrolments with it; its learners stay if
    /// the page does not remove them (they may be in another class the teacher sees).
    pub async fn apply_pull(&self, page: &PullResponse) -> Result<()> {
        let mut tx = self.write().await?;
        // Learners are most of a first pull, so consecutive learner upserts go in batches.
        let mut run: Vec<&LearnerRecord> = Vec::new();
        for change in &page.changes {
            if let Change::Upsert {
                record: Record::Learner(learner),
            } = change
            {
                run.push(learner);
                continue;
            }
            put_learners(&mut tx, &run, Overwrite::Pulled).await?;
            run.clear();
            match change {
                Change::Upsert { record } => put_record(&mut tx, record, Overwrite::Pulled).await?,
                Change::Remove { kind, id, .. } => remove_record(&mut tx, *kind, *id).await?,
            }
        }
        put_learners(&mut tx, &run, Overwrite::Pulled).await?;
        meta_set(&mut *tx, META_CURSOR, &page.cursor).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every class in the replica, by name.
    pub async fn classes(&self) -> Result<Vec<ClassRecord>> {
        let sql = format!("SELECT {CLASS_COLUMNS} FROM class c ORDER BY c.name_key, c.id");
        sqlx::query_as::<_, ClassRow>(&sql)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(ClassRow::into_record)
            .collect()
    }

    /// One class, if the replica holds it.
    pub async fn class(&self, id: ClassId) -> Result<Option<ClassRecord>> {
        let mut conn = self.pool.acquire().await?;
        read_class(&mut conn, id.0).await
    }

    /// One page of learners, of one class or of the whole replica, by family name then
    /// given name; with the number of learners on all pages.
    pub async fn learners(
        &self,
        class: Option<ClassId>,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<LearnerRecord>, i64)> {
        let mut conn = self.pool.acquire().await?;
        let (rows, total) = match class {
            Some(class) => {
                let sql = format!(
                    "SELECT {LEARNER_COLUMNS} FROM enrolment e JOIN learner l ON l.id = e.learner_id
                     WHERE e.class_id = ? {LEARNER_ORDER} LIMIT ? OFFSET ?"
                );
                let rows = sqlx::query_as::<_, LearnerRow>(&sql)
                    .bind(class.to_string())
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&mut *conn)
                    .await?;
                let total: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM enrolment WHERE class_id = ?")
                        .bind(class.to_string())
                        .fetch_one(&mut *conn)
                        .await?;
                (rows, total)
            }
            None => {
                let sql = format!(
                    "SELECT {LEARNER_COLUMNS} FROM learner l {LEARNER_ORDER} LIMIT ? OFFSET ?"
                );
                let rows = sqlx::query_as::<_, LearnerRow>(&sql)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&mut *conn)
                    .await?;
                let total: i64 = sqlx::query_scalar("SELECT count(*) FROM learner")
                    .fetch_one(&mut *conn)
                    .await?;
                (rows, total)
            }
        };
        let records = rows
            .into_iter()
            .map(LearnerRow::into_record)
            .collect::<Result<_>>()?;
        Ok((records, total))
    }

    /// One learner, if the replica holds them.
    pub async fn learner(&self, id: LearnerId) -> Result<Option<LearnerRecord>> {
        let mut conn = self.pool.acquire().await?;
        read_learner(&mut conn, id.0).await
    }

    /// The school's staff (present only in a lead teacher's replica), by username.
    pub async fn staff(&self) -> Result<Vec<StaffRecord>> {
        sqlx::query_as::<_, StaffRow>(
            "SELECT id, username, display_name, role, active FROM staff ORDER BY username, id",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(StaffRow::into_record)
        .collect()
    }
}

/// The kind and id of a record.
pub(crate) fn record_key(record: &Record) -> (EntityKind, Uuid) {
    match record {
        Record::Class(c) => (EntityKind::Class, c.id.0),
        Record::Learner(l) => (EntityKind::Learner, l.id.0),
        Record::Staff(s) => (EntityKind::Staff, s.id.0),
    }
}

/// The version of a record, for those that have one.
pub(crate) fn record_version(record: &Record) -> Option<i64> {
    match record {
        Record::Class(c) => Some(c.version),
        Record::Learner(l) => Some(l.version),
        Record::Staff(_) => None,
    }
}

/// The record of this kind and id, if the replica holds it.
pub(crate) async fn read_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
) -> Result<Option<Record>> {
    Ok(match kind {
        EntityKind::Class => read_class(conn, id).await?.map(Record::Class),
        EntityKind::Learner => read_learner(conn, id).await?.map(Record::Learner),
        EntityKind::Staff => sqlx::query_as::<_, StaffRow>(
            "SELECT id, username, display_name, role, active FROM staff WHERE id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .map(StaffRow::into_record)
        .transpose()?
        .map(Record::Staff),
    })
}

async fn read_class(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<ClassRecord>> {
    let sql = format!("SELECT {CLASS_COLUMNS} FROM class c WHERE c.id = ?");
    sqlx::query_as::<_, ClassRow>(&sql)
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
        .map(ClassRow::into_record)
        .transpose()
}

async fn read_learner(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<LearnerRecord>> {
    let sql = format!("SELECT {LEARNER_COLUMNS} FROM learner l WHERE l.id = ?");
    sqlx::query_as::<_, LearnerRow>(&sql)
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
        .map(LearnerRow::into_record)
        .transpose()
}

/// Inserts or replaces one record.
pub(crate) async fn put_record(
    conn: &mut SqliteConnection,
    record: &Record,
    overwrite: Overwrite,
) -> Result<()> {
    match record {
        Record::Learner(learner) => put_learners(conn, &[learner], overwrite).await,
        Record::Class(class) => put_class(conn, class, overwrite).await,
        Record::Staff(staff) => {
            sqlx::query(
                "INSERT INTO staff (id, username, display_name, role, active) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET username = excluded.username,
                     display_name = excluded.display_name, role = excluded.role,
                     active = excluded.active",
            )
            .bind(staff.id.to_string())
            .bind(&staff.username)
            .bind(&staff.display_name)
            .bind(staff.role.as_str())
            .bind(staff.active)
            .execute(conn)
            .await?;
            Ok(())
        }
    }
}

async fn put_class(
    conn: &mut SqliteConnection,
    class: &ClassRecord,
    overwrite: Overwrite,
) -> Result<()> {
    let teachers = serde_json::to_string(&class.teachers)
        .map_err(|e| Error::corrupt("class's teachers")(e.to_string()))?;
    let sql = format!(
        "INSERT INTO class (id, name, name_key, year_group, archived, teachers, version, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key,
             year_group = excluded.year_group, archived = excluded.archived,
             teachers = excluded.teachers, version = excluded.version,
             updated_at = excluded.updated_at{}",
        guard(overwrite, "class")
    );
    sqlx::query(&sql)
        .bind(class.id.to_string())
        .bind(&class.name)
        .bind(identity_key(&class.name))
        .bind(&class.year_group)
        .bind(class.archived)
        .bind(teachers)
        .bind(class.version)
        .bind(format_time(class.updated_at)?)
        .execute(conn)
        .await?;
    Ok(())
}

fn guard(overwrite: Overwrite, table: &str) -> String {
    match overwrite {
        Overwrite::Always => String::new(),
        Overwrite::IfNotOlder => format!(" WHERE excluded.version >= {table}.version"),
        Overwrite::Pulled => format!(
            " WHERE excluded.version >= {table}.version AND NOT EXISTS (SELECT 1 FROM outbox o
               WHERE o.target_id = excluded.id AND o.state IN ('pending', 'conflict'))"
        ),
    }
}

/// Inserts or replaces learners and their enrolments, in multi-row statements.
pub(crate) async fn put_learners(
    conn: &mut SqliteConnection,
    learners: &[&LearnerRecord],
    overwrite: Overwrite,
) -> Result<()> {
    // One statement must not name a learner twice (the enrolments would be written twice);
    // the later record is the newer, so it is the one kept.
    let mut last: HashMap<LearnerId, usize> = HashMap::with_capacity(learners.len());
    for (i, l) in learners.iter().enumerate() {
        last.insert(l.id, i);
    }
    let learners: Vec<&LearnerRecord> = learners
        .iter()
        .enumerate()
        .filter(|(i, l)| last.get(&l.id) == Some(i))
        .map(|(_, l)| *l)
        .collect();

    for chunk in learners.chunks(LEARNER_BATCH) {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO learner (id, username, given_name, family_name, email, active,
                 password_state, must_change_password, version, updated_at, family_key,
                 given_key, search_text)
             VALUES {values}
             ON CONFLICT (id) DO UPDATE SET username = excluded.username,
                 given_name = excluded.given_name, family_name = excluded.family_name,
                 email = excluded.email, active = excluded.active,
                 password_state = excluded.password_state,
                 must_change_password = excluded.must_change_password, version = excluded.version,
                 updated_at = excluded.updated_at, family_key = excluded.family_key,
                 given_key = excluded.given_key, search_text = excluded.search_text{}
             RETURNING id",
            guard(overwrite, "learner")
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for l in chunk {
            query = query
                .bind(l.id.to_string())
                .bind(&l.username)
                .bind(&l.given_name)
                .bind(&l.family_name)
                .bind(&l.email)
                .bind(l.active)
                .bind(password_state(l.password))
                .bind(l.must_change_password)
                .bind(l.version)
                .bind(format_time(l.updated_at)?)
                .bind(search_fold(&l.family_name))
                .bind(search_fold(&l.given_name))
                .bind(search_text(l));
        }
        // Only the learners actually written (not held back as older) get new enrolments.
        let written = query.fetch_all(&mut *conn).await?;
        if written.is_empty() {
            continue;
        }
        let by_id: HashMap<String, &LearnerRecord> =
            chunk.iter().map(|l| (l.id.to_string(), *l)).collect();
        let placeholders = vec!["?"; written.len()].join(", ");
        let sql = format!("DELETE FROM enrolment WHERE learner_id IN ({placeholders})");
        let mut delete = sqlx::query(&sql);
        for id in &written {
            delete = delete.bind(id);
        }
        delete.execute(&mut *conn).await?;

        let enrolments: Vec<(&String, ClassId, i64)> = written
            .iter()
            .filter_map(|id| by_id.get(id).map(|l| (id, *l)))
            .flat_map(|(id, l)| {
                l.classes
                    .iter()
                    .zip(0_i64..)
                    .map(move |(class, position)| (id, *class, position))
            })
            .collect();
        for rows in enrolments.chunks(ENROLMENT_BATCH) {
            let values = vec!["(?, ?, ?)"; rows.len()].join(", ");
            let sql = format!(
                "INSERT INTO enrolment (learner_id, class_id, position) VALUES {values}
                 ON CONFLICT DO NOTHING"
            );
            let mut insert = sqlx::query(&sql);
            for (learner, class, position) in rows {
                insert = insert
                    .bind(*learner)
                    .bind(class.to_string())
                    .bind(*position);
            }
            insert.execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// What search matches for a learner: their names, username and email, folded.
pub(crate) fn search_text(l: &LearnerRecord) -> String {
    search_fold(&format!(
        "{} {} {} {}",
        l.given_name,
        l.family_name,
        l.username,
        l.email.as_deref().unwrap_or("")
    ))
}

/// Removes a record. A class takes its enrolments with it; a learner's go by cascade.
pub(crate) async fn remove_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
) -> Result<()> {
    let id = id.to_string();
    match kind {
        EntityKind::Class => {
            sqlx::query("DELETE FROM enrolment WHERE class_id = ?")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM class WHERE id = ?")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
        }
        EntityKind::Learner => {
            sqlx::query("DELETE FROM learner WHERE id = ?")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
        }
        EntityKind::Staff => {
            sqlx::query("DELETE FROM staff WHERE id = ?")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Sets the version of a held record, leaving its fields as they are (the teacher's own
/// edit, kept over a conflict, now stands on the server's current version).
pub(crate) async fn set_version(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    version: i64,
) -> Result<()> {
    let table = match kind {
        EntityKind::Class => "class",
        EntityKind::Learner => "learner",
        EntityKind::Staff => return Ok(()),
    };
    sqlx::query(&format!("UPDATE {table} SET version = ? WHERE id = ?"))
        .bind(version)
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) fn parse_id<T: From<Uuid>>(s: &str) -> Result<T> {
    Uuid::parse_str(s)
        .map(T::from)
        .map_err(|e| Error::corrupt("id")(e.to_string()))
}

fn format_time(t: OffsetDateTime) -> Result<String> {
    t.format(&Rfc3339)
        .map_err(|e| Error::corrupt("time")(e.to_string()))
}

fn parse_time(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| Error::corrupt("time")(e.to_string()))
}

/// A password state as the replica stores it (its wire spelling).
fn password_state(state: PasswordState) -> &'static str {
    match state {
        PasswordState::NotSet => "not_set",
        PasswordState::SetByTeacher => "set_by_teacher",
        PasswordState::SetByLearner => "set_by_learner",
    }
}
