//! The credential columns of learners, read for a class or one learner, and a learner's
//! age band (that of the youngest of their classes).

use classkeys_domain::password_policy::AgeBand;
use sqlx::AnyConnection;

use crate::access;
use crate::records::bytewise;
use crate::stored::{SetBy, Sql, Status};

/// A learner's credential columns.
#[derive(sqlx::FromRow)]
pub(super) struct CredRow {
    pub(super) id: String,
    pub(super) username: String,
    pub(super) given_name: String,
    pub(super) family_name: String,
    pub(super) email: Option<String>,
    pub(super) status: Sql<Status>,
    pub(super) password_set_by: Option<Sql<SetBy>>,
    pub(super) password_sealed: Option<String>,
    pub(super) must_change_password: i64,
    pub(super) credential_epoch: i64,
    pub(super) parent_code_sealed: Option<String>,
}

pub(super) const CRED_COLUMNS: &str =
    "l.id, l.username, l.given_name, l.family_name, l.email, l.status,
    l.password_set_by, l.password_sealed, l.must_change_password, l.credential_epoch,
    l.parent_code_sealed";

/// The learners of a class, by family then given name.
pub(super) async fn class_learners(
    conn: &mut AnyConnection,
    class_id: &str,
) -> sqlx::Result<Vec<CredRow>> {
    let sql = format!(
        "SELECT {CRED_COLUMNS} FROM learner l JOIN enrollment e ON e.learner_id = l.id
         WHERE e.class_id = $1 ORDER BY l.sort_key{}, l.id",
        bytewise(conn)
    );
    sqlx::query_as(&sql)
        .bind(class_id)
        .fetch_all(&mut *conn)
        .await
}

pub(super) async fn learner_row(
    conn: &mut AnyConnection,
    school: &str,
    learner: &str,
) -> sqlx::Result<Option<CredRow>> {
    let sql = format!("SELECT {CRED_COLUMNS} FROM learner l WHERE l.id = $1 AND l.school_id = $2");
    sqlx::query_as(&sql)
        .bind(learner)
        .bind(school)
        .fetch_optional(&mut *conn)
        .await
}

impl access::LearnerColumns for CredRow {
    const COLUMNS: &'static str = CRED_COLUMNS;
}

/// The age band of a class's learners.
pub(super) fn class_band(class: &access::Class) -> AgeBand {
    AgeBand::for_year_group(class.year_group.as_deref())
}

/// A learner's age band: that of the youngest of their classes (Primary with none).
pub(crate) async fn learner_band(conn: &mut AnyConnection, learner: &str) -> sqlx::Result<AgeBand> {
    let groups: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT c.year_group FROM class c JOIN enrollment e ON e.class_id = c.id
         WHERE e.learner_id = $1",
    )
    .bind(learner)
    .fetch_all(&mut *conn)
    .await?;
    Ok(groups
        .iter()
        .map(|g| AgeBand::for_year_group(g.as_deref()))
        .min()
        .unwrap_or(AgeBand::Primary))
}
