//! Class operations: create, rename, archive, delete, and who teaches it.

use classkeys_domain::identity::{ClassName, Role, YearGroup};
use classkeys_domain::ids::{ClassId, StaffId};
use classkeys_domain::policy::Action;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::sync::{EntityKind, Record, RemovalReason};
use sqlx::AnyConnection;

use crate::access;
use crate::error::{Error, Result};
use crate::stored::{Sql, Status};

use super::ChangeCtx;
use super::checks::{check_class_version, class_for, class_record};
use super::identity::ensure_new_id;
use super::stamps::{bump_class, insert_removal, touch_learners_of};

pub(super) async fn ensure_class_name_free(
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

pub(super) async fn class_create(
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
pub(super) struct ClassChanges<'a> {
    pub(super) name: Option<&'a str>,
    pub(super) year_group: Option<Option<&'a str>>,
    pub(super) archived: Option<bool>,
}

pub(super) async fn class_update(
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

pub(super) async fn class_delete(
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
pub(super) async fn staff_of_school(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: StaffId,
) -> Result<String> {
    let row: Option<String> =
        sqlx::query_scalar("SELECT id FROM staff WHERE id = $1 AND school_id = $2 AND status = $3")
            .bind(id.to_string())
            .bind(&cx.school)
            .bind(Sql(Status::Active))
            .fetch_optional(&mut *conn)
            .await?;
    row.ok_or_else(|| Error::not_found("member of staff"))
}

pub(super) async fn class_assign(
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

pub(super) async fn class_unassign(
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
