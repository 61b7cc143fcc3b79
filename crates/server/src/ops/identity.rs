//! Usernames and email addresses: claimed in one school-wide namespace (staff and learners,
//! deactivated accounts included), with clashes explained only as far as the caller may see,
//! and new ids checked before use.

use classkeys_domain::identity::Username;
use classkeys_domain::text::identity_key;
use classkeys_protocol::ErrorCode;
use sqlx::AnyConnection;

use crate::access;
use crate::error::{Error, Result};
use crate::stored::{Sql, Status};

use super::ChangeCtx;

/// Which identity a key is: says which error code and words a clash gets.
#[derive(Clone, Copy)]
pub(super) enum IdentityField {
    Username,
    Email,
}

/// Reserves a username or email for `owner`, or explains whose it already is.
pub(super) async fn claim_identity(
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

pub(super) async fn release_identity(
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
pub(super) async fn identity_taken(
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
pub(super) async fn free_username(
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
pub(super) async fn ensure_new_id(conn: &mut AnyConnection, id: uuid::Uuid) -> Result<()> {
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
