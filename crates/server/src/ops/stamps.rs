//! Stamping changes for sync: versions and change numbers, and the removals that tell
//! replicas a record is gone or no longer theirs to see.

use classkeys_domain::identity::Role;
use classkeys_protocol::sync::{EntityKind, RemovalReason};
use sqlx::AnyConnection;

use crate::error::Result;
use crate::stored::Sql;

use super::ChangeCtx;

pub(super) async fn touch_class(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    class_id: &str,
) -> Result<()> {
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
pub(super) async fn touch_learners_of(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    class_id: &str,
) -> Result<()> {
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

pub(super) async fn bump_class(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    class_id: &str,
) -> Result<()> {
    sqlx::query("UPDATE class SET version = version + 1, seq = $1, updated_at = $2 WHERE id = $3")
        .bind(cx.seq)
        .bind(cx.now)
        .bind(class_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn bump_learner(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    learner_id: &str,
) -> Result<()> {
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
pub(super) async fn revoke_learner_for_teachers_of(
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

pub(super) async fn insert_removal(
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
