//! Reading classes, learners and staff as the API shows them, filtered to what the actor
//! may see. Every query is scoped to the actor's school; for teachers it is further limited
//! to their classes and those classes' learners.

use std::collections::HashMap;

use classkeys_domain::identity::Role;
use classkeys_domain::policy::Actor;
use classkeys_protocol::roster::{ClassRecord, LearnerRecord, StaffRecord, StaffRef};
use sqlx::AnyConnection;

use crate::db::{from_ms, parse_id};
use crate::stored::{SetBy, Sql, Status, password_state};

/// SQL condition: class `c` is visible to the actor (`$2` = staff id, `$3` = 1 for leads).
pub const CLASS_VISIBLE: &str = "($3 = 1 OR EXISTS (SELECT 1 FROM class_teacher ct
     WHERE ct.class_id = c.id AND ct.staff_id = $2))";

/// SQL condition: learner `l` is visible to the actor (`$2` = staff id, `$3` = 1 for leads).
pub const LEARNER_VISIBLE: &str = "($3 = 1 OR EXISTS (SELECT 1 FROM enrollment ve
     JOIN class_teacher vct ON vct.class_id = ve.class_id
     WHERE ve.learner_id = l.id AND vct.staff_id = $2))";

/// `1` for lead teachers, bound as `$3` in the visibility conditions.
pub fn lead_flag(actor: &Actor) -> i64 {
    i64::from(actor.role == Role::LeadTeacher)
}

/// A collation for `ORDER BY` on text, so both engines sort the same way: SQLite compares
/// bytes, PostgreSQL the database's locale (which, for one, ignores spaces) unless told `C`.
pub fn bytewise(conn: &AnyConnection) -> &'static str {
    bytewise_on(if conn.backend_name() == "PostgreSQL" {
        crate::db::Backend::Postgres
    } else {
        crate::db::Backend::Sqlite
    })
}

/// [`bytewise`] for an engine.
pub fn bytewise_on(backend: crate::db::Backend) -> &'static str {
    match backend {
        crate::db::Backend::Postgres => " COLLATE \"C\"",
        crate::db::Backend::Sqlite => "",
    }
}

/// `$first, $first+1, …` for an `IN (…)` list of `n` values.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2, …), ($k+1, …), …` for a multi-row `VALUES` of `rows` rows of `columns`
/// values each.
pub fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(row * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(sqlx::FromRow)]
struct ClassRow {
    id: String,
    name: String,
    year_group: Option<String>,
    archived_at: Option<i64>,
    version: i64,
    updated_at: i64,
    learner_count: i64,
}

const CLASS_COLUMNS: &str = "c.id, c.name, c.year_group, c.archived_at, c.version, c.updated_at,
    (SELECT COUNT(*) FROM enrollment ce WHERE ce.class_id = c.id) AS learner_count";

/// The classes with the given ids that the actor may see.
pub async fn classes_by_ids(
    conn: &mut AnyConnection,
    actor: &Actor,
    ids: &[String],
) -> sqlx::Result<Vec<ClassRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {CLASS_COLUMNS} FROM class c
         WHERE c.school_id = $1 AND {CLASS_VISIBLE} AND c.id IN ({})",
        placeholders(4, ids.len())
    );
    let mut query = sqlx::query_as::<_, ClassRow>(&sql)
        .bind(actor.school_id.to_string())
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor));
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    class_records(conn, rows).await
}

/// Every class the actor may see, by name.
pub async fn visible_classes(
    conn: &mut AnyConnection,
    actor: &Actor,
) -> sqlx::Result<Vec<ClassRecord>> {
    let sql = format!(
        "SELECT {CLASS_COLUMNS} FROM class c
         WHERE c.school_id = $1 AND {CLASS_VISIBLE} ORDER BY c.name_key{}, c.id",
        bytewise(conn)
    );
    let rows = sqlx::query_as::<_, ClassRow>(&sql)
        .bind(actor.school_id.to_string())
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor))
        .fetch_all(&mut *conn)
        .await?;
    class_records(conn, rows).await
}

/// One class, if the actor may see it.
pub async fn class(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: &str,
) -> sqlx::Result<Option<ClassRecord>> {
    Ok(classes_by_ids(conn, actor, &[id.to_owned()])
        .await?
        .into_iter()
        .next())
}

async fn class_records(
    conn: &mut AnyConnection,
    rows: Vec<ClassRow>,
) -> sqlx::Result<Vec<ClassRecord>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT ct.class_id, s.id, s.username, s.display_name FROM class_teacher ct
         JOIN staff s ON s.id = ct.staff_id WHERE ct.class_id IN ({}) ORDER BY s.username{}",
        placeholders(1, rows.len()),
        bytewise(conn)
    );
    let mut query = sqlx::query_as::<_, (String, String, String, String)>(&sql);
    for row in &rows {
        query = query.bind(&row.id);
    }
    let mut teachers: HashMap<String, Vec<StaffRef>> = HashMap::new();
    for (class_id, id, username, display_name) in query.fetch_all(&mut *conn).await? {
        teachers.entry(class_id).or_default().push(StaffRef {
            id: parse_id(&id)?,
            username,
            display_name,
        });
    }
    rows.into_iter()
        .map(|row| {
            Ok(ClassRecord {
                id: parse_id(&row.id)?,
                teachers: teachers.remove(&row.id).unwrap_or_default(),
                name: row.name,
                year_group: row.year_group,
                archived: row.archived_at.is_some(),
                learner_count: row.learner_count,
                version: row.version,
                updated_at: from_ms(row.updated_at),
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct LearnerRow {
    pub(crate) id: String,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: Sql<Status>,
    password_set_by: Option<Sql<SetBy>>,
    must_change_password: i64,
    version: i64,
    updated_at: i64,
}

/// The learner columns a `LearnerRow` reads, for table alias `l`.
pub const LEARNER_COLUMNS: &str =
    "l.id, l.username, l.given_name, l.family_name, l.email, l.status, l.password_set_by,
     l.must_change_password, l.version, l.updated_at";

/// The learners with the given ids that the actor may see, in the order given.
pub async fn learners_by_ids(
    conn: &mut AnyConnection,
    actor: &Actor,
    ids: &[String],
) -> sqlx::Result<Vec<LearnerRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {LEARNER_COLUMNS} FROM learner l
         WHERE l.school_id = $1 AND {LEARNER_VISIBLE} AND l.id IN ({})",
        placeholders(4, ids.len())
    );
    let mut query = sqlx::query_as::<_, LearnerRow>(&sql)
        .bind(actor.school_id.to_string())
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor));
    for id in ids {
        query = query.bind(id);
    }
    let mut rows = query.fetch_all(&mut *conn).await?;
    let order: HashMap<&String, usize> = ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
    rows.sort_by_key(|r| order.get(&r.id).copied().unwrap_or(usize::MAX));
    learner_records(conn, actor, rows).await
}

/// One learner, if the actor may see them.
pub async fn learner(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: &str,
) -> sqlx::Result<Option<LearnerRecord>> {
    Ok(learners_by_ids(conn, actor, &[id.to_owned()])
        .await?
        .into_iter()
        .next())
}

/// Completes learner rows with their classes (those the actor may see).
pub(crate) async fn learner_records(
    conn: &mut AnyConnection,
    actor: &Actor,
    rows: Vec<LearnerRow>,
) -> sqlx::Result<Vec<LearnerRecord>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // CROSS JOIN makes SQLite start from the page's learners (a few index lookups each)
    // instead of from every class of the school; PostgreSQL treats it as a plain join.
    let sql = format!(
        "SELECT e.learner_id, e.class_id FROM enrollment e CROSS JOIN class c
         WHERE c.id = e.class_id AND c.school_id = $1 AND {CLASS_VISIBLE}
           AND e.learner_id IN ({})
         ORDER BY c.name_key{}",
        placeholders(4, rows.len()),
        bytewise(conn)
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql)
        .bind(actor.school_id.to_string())
        .bind(actor.staff_id.to_string())
        .bind(lead_flag(actor));
    for row in &rows {
        query = query.bind(&row.id);
    }
    let mut classes: HashMap<String, Vec<_>> = HashMap::new();
    for (learner_id, class_id) in query.fetch_all(&mut *conn).await? {
        classes
            .entry(learner_id)
            .or_default()
            .push(parse_id(&class_id)?);
    }
    rows.into_iter()
        .map(|row| {
            Ok(LearnerRecord {
                id: parse_id(&row.id)?,
                classes: classes.remove(&row.id).unwrap_or_default(),
                username: row.username,
                given_name: row.given_name,
                family_name: row.family_name,
                email: row.email,
                active: *row.status == Status::Active,
                password: password_state(row.password_set_by),
                must_change_password: row.must_change_password != 0,
                version: row.version,
                updated_at: from_ms(row.updated_at),
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: String,
    username: String,
    display_name: String,
    role: Sql<Role>,
    status: Sql<Status>,
}

/// Staff of the actor's school, all of them or those with the given ids.
pub async fn staff(
    conn: &mut AnyConnection,
    actor: &Actor,
    ids: Option<&[String]>,
) -> sqlx::Result<Vec<StaffRecord>> {
    let filter = match ids {
        Some([]) => return Ok(Vec::new()),
        Some(ids) => format!("AND id IN ({})", placeholders(2, ids.len())),
        None => String::new(),
    };
    let sql = format!(
        "SELECT id, username, display_name, role, status FROM staff
         WHERE school_id = $1 {filter} ORDER BY username{}",
        bytewise(conn)
    );
    let mut query = sqlx::query_as::<_, StaffRow>(&sql).bind(actor.school_id.to_string());
    for id in ids.unwrap_or_default() {
        query = query.bind(id);
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| {
            Ok(StaffRecord {
                id: parse_id(&row.id)?,
                username: row.username,
                display_name: row.display_name,
                role: *row.role,
                active: *row.status == Status::Active,
            })
        })
        .collect()
}
