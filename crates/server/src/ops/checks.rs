//! Facts and checks the operations share: a class or learner loaded through the access
//! check, the base-version check, and records as the actor sees them.

use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::Action;
use classkeys_protocol::sync::Record;
use sqlx::AnyConnection;

use crate::error::{Error, Result};
use crate::{access, records};

use super::ChangeCtx;

#[derive(sqlx::FromRow)]
pub(super) struct LearnerFacts {
    pub(super) id: String,
    pub(super) username: String,
    pub(super) given_name: String,
    pub(super) family_name: String,
    pub(super) email: Option<String>,
    pub(super) version: i64,
}

impl access::LearnerColumns for LearnerFacts {
    const COLUMNS: &'static str =
        "l.id, l.username, l.given_name, l.family_name, l.email, l.version";
}

/// Loads a class of the actor's school and checks that the actor may do `action` to it.
pub(super) async fn class_for(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: ClassId,
    action: Action,
) -> Result<access::Class> {
    access::class(conn, &cx.actor, id, action).await
}

/// Loads a learner of the actor's school and checks that the actor may do `action`.
pub(super) async fn learner_for(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: LearnerId,
    action: Action,
) -> Result<LearnerFacts> {
    access::learner(conn, &cx.actor, id, action).await
}

pub(super) async fn check_learner_version(
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

pub(super) async fn check_class_version(
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

pub(super) async fn learner_record(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: &str,
) -> Result<Option<Record>> {
    Ok(records::learner(conn, &cx.actor, id)
        .await?
        .map(Record::Learner))
}

pub(super) async fn class_record(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    id: &str,
) -> Result<Option<Record>> {
    Ok(records::class(conn, &cx.actor, id)
        .await?
        .map(Record::Class))
}
