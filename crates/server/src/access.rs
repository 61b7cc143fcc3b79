//! "May this caller touch this?": the one place that loads a class or learner of the
//! caller's school and puts it to the permission policy of `classkeys-domain`.
//!
//! Invariants:
//! - Every lookup is scoped to the caller's school, and a thing the caller may not see is
//!   answered exactly like a thing that does not exist ("not found"), so ids cannot be
//!   probed.
//! - The checks run on the connection they are given. A change calls them inside its write
//!   transaction (after [`crate::Db::begin_change`] took the school's write lock), so
//!   nothing can move between the check and the write. Work done before that transaction
//!   (hashing a password) may check first to fail fast, but the check that counts is the one
//!   inside it.
//! - The facts a check needs (who teaches a class, which classes a learner is in) are read
//!   here and nowhere else.

use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::{Action, Actor, Resource, authorize};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::error::{Result, denied};

/// Checks that the actor may do `action` to their school as a whole.
pub fn school(actor: &Actor, action: Action, what: &str) -> Result<()> {
    let school = Resource::School {
        school: actor.school_id,
    };
    authorize(actor, action, &school).map_err(|d| denied(d, what))
}

/// A class the actor may do the asked action to.
#[derive(Debug, Clone)]
pub struct Class {
    pub id: String,
    pub name: String,
    pub year_group: Option<String>,
    pub version: i64,
}

/// Loads a class of the actor's school and checks that the actor may do `action` to it.
pub async fn class(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: ClassId,
    action: Action,
) -> Result<Class> {
    let id = id.to_string();
    let row: Option<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT name, year_group, version FROM class WHERE id = $1 AND school_id = $2",
    )
    .bind(&id)
    .bind(actor.school_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((name, year_group, version)) = row else {
        return Err(crate::Error::not_found("class"));
    };
    let resource = Resource::Class {
        school: actor.school_id,
        taught_by_actor: taught_by(conn, actor, &id).await?,
    };
    authorize(actor, action, &resource).map_err(|d| denied(d, "class"))?;
    Ok(Class {
        id,
        name,
        year_group,
        version,
    })
}

/// The columns of a learner that a caller of [`learner`] wants, read from `learner l`.
pub trait LearnerColumns: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin {
    /// The select list, naming the table `l`.
    const COLUMNS: &'static str;
}

/// A learner checked and nothing more read: for checking again under the write lock what
/// was loaded in full before.
#[derive(sqlx::FromRow)]
pub struct Checked {
    pub id: String,
}

impl LearnerColumns for Checked {
    const COLUMNS: &'static str = "l.id";
}

/// Loads a learner of the actor's school as `T` and checks that the actor may do `action`.
pub async fn learner<T: LearnerColumns>(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: LearnerId,
    action: Action,
) -> Result<T> {
    let sql = format!(
        "SELECT {} FROM learner l WHERE l.id = $1 AND l.school_id = $2",
        T::COLUMNS
    );
    let id = id.to_string();
    let row: Option<T> = sqlx::query_as(&sql)
        .bind(&id)
        .bind(actor.school_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Err(crate::Error::not_found("learner"));
    };
    let resource = Resource::Learner {
        school: actor.school_id,
        in_actor_class: sees_learner(conn, actor, &id).await?,
    };
    authorize(actor, action, &resource).map_err(|d| denied(d, "learner"))?;
    Ok(row)
}

/// Whether the actor teaches the class (lead teachers count as teaching every class).
async fn taught_by(conn: &mut AnyConnection, actor: &Actor, class_id: &str) -> sqlx::Result<bool> {
    if actor.is_lead() {
        return Ok(true);
    }
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM class_teacher WHERE class_id = $1 AND staff_id = $2")
            .bind(class_id)
            .bind(actor.staff_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

/// Whether the actor may see this learner: a lead teacher, or a teacher of one of the
/// learner's classes.
pub async fn sees_learner(
    conn: &mut AnyConnection,
    actor: &Actor,
    learner_id: &str,
) -> sqlx::Result<bool> {
    if actor.is_lead() {
        return Ok(true);
    }
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM enrollment e JOIN class_teacher ct ON ct.class_id = e.class_id
         WHERE e.learner_id = $1 AND ct.staff_id = $2 LIMIT 1",
    )
    .bind(learner_id)
    .bind(actor.staff_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}
