//! Learner operations: create, edit, enrol, unenrol, move, deactivate and reactivate.

use classkeys_domain::identity::{Email, FamilyName, GivenName, Username};
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::Action;
use classkeys_domain::text::{identity_key, search_fold};
use classkeys_protocol::ErrorCode;
use classkeys_protocol::sync::Record;
use sqlx::AnyConnection;

use classkeys_protocol::credentials::AuditAction;

use crate::audit::{self, AuditActor};
use crate::error::{Error, Result};
use crate::stored::{Sql, Status, SubjectKind, TokenPurpose};

use super::ChangeCtx;
use super::checks::{check_learner_version, class_for, learner_for, learner_record};
use super::identity::{
    IdentityField, claim_identity, ensure_new_id, free_username, release_identity,
};
use super::stamps::{bump_learner, revoke_learner_for_teachers_of, touch_class};

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

pub(super) fn search_key(given: &str, family: &str, username: &str, email: Option<&str>) -> String {
    search_fold(&format!(
        "{given} {family} {username} {}",
        email.unwrap_or_default()
    ))
}

pub(super) fn sort_key(given: &str, family: &str) -> String {
    search_fold(&format!("{family} {given}"))
}

pub(super) async fn learner_create(
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

pub(super) async fn learner_update(
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

pub(super) async fn is_enrolled(
    conn: &mut AnyConnection,
    learner: &str,
    class: &str,
) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM enrollment WHERE learner_id = $1 AND class_id = $2")
            .bind(learner)
            .bind(class)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

pub(super) async fn learner_enrol(
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

/// Takes a learner out of a class: the class is stamped (its learner count changed), and
/// the class's teachers who no longer see the learner through another class are told.
async fn leave_class(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    learner: &str,
    class: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM enrollment WHERE learner_id = $1 AND class_id = $2")
        .bind(learner)
        .bind(class)
        .execute(&mut *conn)
        .await?;
    touch_class(conn, cx, class).await?;
    revoke_learner_for_teachers_of(conn, cx, learner, class).await
}

pub(super) async fn learner_unenrol(
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
        leave_class(conn, cx, &facts.id, &class.id).await?;
        bump_learner(conn, cx, &facts.id).await?;
    }
    learner_record(conn, cx, &facts.id).await
}

pub(super) async fn learner_move(
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
    sqlx::query(
        "INSERT INTO enrollment (learner_id, class_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(&facts.id)
    .bind(&to.id)
    .execute(&mut *conn)
    .await?;
    touch_class(conn, cx, &to.id).await?;
    leave_class(conn, cx, &facts.id, &from.id).await?;
    bump_learner(conn, cx, &facts.id).await?;
    learner_record(conn, cx, &facts.id).await
}

pub(super) async fn learner_set_active(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    base: Option<i64>,
    active: bool,
) -> Result<Option<Record>> {
    let facts = learner_for(conn, cx, id, Action::LearnerSetActive).await?;
    check_learner_version(conn, cx, &facts, base).await?;
    set_status(conn, cx, &facts.id, active).await?;
    bump_learner(conn, cx, &facts.id).await?;
    learner_record(conn, cx, &facts.id).await
}

/// Deactivates or reactivates a learner, saying who did it and when.
async fn set_status(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    learner_id: &str,
    active: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE learner SET status = $1, status_changed_at = $2, status_changed_by = $3
         WHERE id = $4",
    )
    .bind(Sql(if active {
        Status::Active
    } else {
        Status::Deactivated
    }))
    .bind(cx.now)
    .bind(cx.actor.staff_id.to_string())
    .bind(learner_id)
    .execute(&mut *conn)
    .await?;
    // Deactivation ends every session and link issued so far, so reactivation revives
    // none of them. The credential epoch stays: the password is unchanged, and a
    // teacher-set one must still open (and be shown) once the learner is back.
    if !active {
        revoke_tokens(conn, cx, learner_id, Revoke::Everything).await?;
    }
    Ok(())
}

/// Which of a learner's tokens to end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Revoke {
    /// Sessions and links.
    Everything,
    /// Sign-in and reset links; open sessions stay.
    Links,
}

/// Ends a learner's unused tokens.
async fn revoke_tokens(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    learner_id: &str,
    which: Revoke,
) -> Result<()> {
    let links = match which {
        Revoke::Links => " AND purpose <> $4",
        Revoke::Everything => "",
    };
    let sql = format!(
        "UPDATE token SET used_at = $1
         WHERE subject_kind = $3 AND subject_id = $2 AND used_at IS NULL{links}"
    );
    let mut query = sqlx::query(&sql)
        .bind(cx.now)
        .bind(learner_id)
        .bind(Sql(SubjectKind::Learner));
    if which == Revoke::Links {
        query = query.bind(Sql(TokenPurpose::Session));
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Moves the email address of `from` to `id` in one step: the school-wide claim on the
/// address changes owner in one statement, so at no moment do both hold it or neither.
/// `from` loses its links (they were mailed to an address that is no longer its own), and
/// is deactivated when it is the same learner's other account (the same name).
pub(super) async fn learner_email_move(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    base: Option<i64>,
    from: LearnerId,
) -> Result<Option<Record>> {
    if id == from {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "the address is already this learner's: choose the account it should leave",
        )
        .with_field("from"));
    }
    let to = learner_for(conn, cx, id, Action::LearnerEdit).await?;
    check_learner_version(conn, cx, &to, base).await?;
    let holder = learner_for(conn, cx, from, Action::LearnerEdit).await?;
    let Some(address) = holder.email.clone() else {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("{} has no email address to move", holder.username),
        )
        .with_field("from"));
    };
    let duplicate = sort_key(&holder.given_name, &holder.family_name)
        == sort_key(&to.given_name, &to.family_name);
    let deactivate = duplicate && is_active(conn, &holder.id).await?;
    if deactivate {
        // Deactivating is a permission of its own.
        learner_for(conn, cx, from, Action::LearnerSetActive).await?;
    }

    if let Some(old) = &to.email {
        release_identity(conn, cx, old, &to.id).await?;
    }
    sqlx::query(
        "UPDATE identity_key SET owner_id = $1 WHERE school_id = $2 AND ident = $3 AND owner_id = $4",
    )
    .bind(&to.id)
    .bind(cx.actor.school_id.to_string())
    .bind(identity_key(&address))
    .bind(&holder.id)
    .execute(&mut *conn)
    .await?;
    for (learner, email) in [(&holder, None), (&to, Some(address.as_str()))] {
        sqlx::query("UPDATE learner SET email = $1, search_key = $2 WHERE id = $3")
            .bind(email)
            .bind(search_key(
                &learner.given_name,
                &learner.family_name,
                &learner.username,
                email,
            ))
            .bind(&learner.id)
            .execute(&mut *conn)
            .await?;
    }
    revoke_tokens(conn, cx, &holder.id, Revoke::Links).await?;
    if deactivate {
        set_status(conn, cx, &holder.id, false).await?;
    }
    audit::record(
        conn,
        AuditActor::Staff(&cx.actor),
        &cx.device,
        audit::Entry {
            at: cx.now,
            action: AuditAction::EmailMoved,
            class_id: None,
            learners: &[holder.id.clone(), to.id.clone()],
            detail: serde_json::json!({
                "address": address,
                "from": holder.username,
                "to": to.username,
                "replaced": to.email,
                "from_deactivated": deactivate,
            }),
        },
    )
    .await?;
    bump_learner(conn, cx, &holder.id).await?;
    bump_learner(conn, cx, &to.id).await?;
    learner_record(conn, cx, &to.id).await
}

async fn is_active(conn: &mut AnyConnection, learner_id: &str) -> Result<bool> {
    let status: Sql<Status> = sqlx::query_scalar("SELECT status FROM learner WHERE id = $1")
        .bind(learner_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(status.0 == Status::Active)
}
