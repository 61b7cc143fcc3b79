//! "Why can't they sign in?": the checklist a teacher would walk for a learner who cannot
//! sign in, walked by the server, and two of its fixes that had no request of their own
//! (lifting the wait after wrong passwords, mailing a password link).
//!
//! The work is in three parts that stay apart: `gather` reads the facts (one learner's
//! rows, their throttle row, their last mail and links, and other accounts that may be
//! theirs); `findings` turns facts into sentences and fixes, a pure function of the facts,
//! what the asking teacher may do and the time; the handlers check permissions and answer.
//!
//! Invariants:
//! - Only a teacher who may see the learner gets an answer; anyone else gets "not found",
//!   as for the learner itself ([`access::learner`]).
//! - Another account is named only to a teacher who may see it; otherwise the diagnosis
//!   says only that one exists, so it never tells about learners outside the teacher's
//!   classes.
//! - No password is ever read here: the diagnosis says who set it and when, and that a
//!   teacher-set one can be shown through the request made for that (which audits it).
//! - Times in sentences are relative ("3 hours ago"): the server does not know the
//!   teacher's time zone. The facts carry the exact times.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use classkeys_domain::ids::LearnerId;
use classkeys_domain::lookalike::{self, Kinship};
use classkeys_domain::policy::{Action, Actor, Resource, authorize};
use classkeys_protocol::credentials::{AuditAction, PasswordState};
use classkeys_protocol::diagnosis::{
    Check, Diagnosis, Facts, Finding, Fix, LookAlike, MailFact, MailState, OtherAccount,
    Resemblance, ResetLinkFact, ResetLinkSent, Severity, Unlocked,
};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};
use sqlx::AnyConnection;

use crate::access::{self, Checked, LearnerColumns};
use crate::audit::{self, AuditActor};
use crate::auth::{Authenticated, Holder};
use crate::credentials::sign_in_url;
use crate::db::parse_id;
use crate::duplicates::resemblance;
use crate::error::{Error, Result};
use crate::http::{ApiJson, ApiPath};
use crate::links::{self, Link};
use crate::mail_queue::{Letter, Sender};
use crate::state::AppState;
use crate::stored::{MailKind, SetBy, Sql, Status, SubjectKind, TokenPurpose, password_state};
use crate::throttle;
use crate::wording;

/// The most messages a diagnosis lists.
const MAIL_SHOWN: i64 = 5;
/// The most other accounts a diagnosis lists.
const LOOK_ALIKES_SHOWN: usize = 10;
const MINUTE_MS: i64 = 60 * 1000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::LEARNER_DIAGNOSIS.template(), get(learner_diagnosis))
        .route(paths::LEARNER_UNLOCK.template(), post(learner_unlock))
        .route(
            paths::LEARNER_RESET_LINK.template(),
            post(learner_reset_link),
        )
}

/// Finds out why a learner may not be able to sign in.
#[utoipa::path(get, path = paths::LEARNER_DIAGNOSIS.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    responses(
        (status = 200, body = Diagnosis, description = "Every check, problems first, each with the fixes the caller may apply"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_diagnosis(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
) -> Result<ApiJson<Diagnosis>> {
    let mut conn = state.db.pool().acquire().await?;
    let learner: Subject = access::learner(&mut conn, &auth.actor, id, Action::LearnerView).await?;
    let now = state.clock.now_ms();
    let facts = gather(&mut conn, &auth.actor, &learner, now).await?;
    let sign_in_url = sign_in_url(&state.settings.public_url, &auth.me.school_slug);
    let findings = findings(&facts, &Permits::of(&auth.actor), &sign_in_url, now);
    Ok(ApiJson(Diagnosis {
        learner_id: id,
        username: learner.username,
        name: full_name(&learner.given_name, &learner.family_name),
        checked_at: now,
        sign_in_url,
        findings,
        facts,
    }))
}

/// Lifts a learner's wait after wrong passwords, as a password reset would, without
/// changing the password.
#[utoipa::path(post, path = paths::LEARNER_UNLOCK.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    responses(
        (status = 200, body = Unlocked, description = "Their wrong passwords are forgotten"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_unlock(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
) -> Result<ApiJson<Unlocked>> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let learner: Checked = access::learner(&mut tx, &auth.actor, id, Action::PasswordReset).await?;
    let was_locked = throttle::account_failures(&mut tx, SubjectKind::Learner, &learner.id)
        .await?
        .is_some_and(|f| f.locked_until > now);
    throttle::clear_account(&mut tx, SubjectKind::Learner, &learner.id).await?;
    audit::record(
        &mut tx,
        AuditActor::Staff(&auth.actor),
        &auth.device,
        audit::Entry {
            at: now,
            action: AuditAction::LearnerUnlocked,
            class_id: None,
            learners: std::slice::from_ref(&learner.id),
            detail: serde_json::json!({ "was_locked": was_locked }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ApiJson(Unlocked { was_locked }))
}

/// Mails a learner a link to choose a new password (only the newest such link works).
#[utoipa::path(post, path = paths::LEARNER_RESET_LINK.template(), tag = "learners",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    responses(
        (status = 200, body = ResetLinkSent, description = "Queued for the address on file"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
        (status = 400, body = ErrorBody, description = "The learner is deactivated or has no email address"),
    ))]
pub(crate) async fn learner_reset_link(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<LearnerId>,
) -> Result<ApiJson<ResetLinkSent>> {
    let now = state.clock.now_ms();
    let school_id = auth.actor.school_id.to_string();
    let mut tx = state.db.begin_write().await?;
    let learner: Subject = access::learner(&mut tx, &auth.actor, id, Action::MessageSend).await?;
    if learner.status.0 != Status::Active {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "{} is deactivated: reactivate the account before sending a password link",
                learner.username
            ),
        ));
    }
    let Some(to) = learner.email.clone() else {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "{} has no email address on file: add one, or set a new password instead",
                learner.username
            ),
        )
        .with_field("email"));
    };
    let holder = Holder {
        kind: SubjectKind::Learner,
        school_id: school_id.clone(),
        subject_id: learner.id.clone(),
        epoch: learner.credential_epoch,
    };
    let token = links::issue(&mut tx, &state, Link::Reset, &holder, links::RESET_LIFETIME).await?;
    let sender = Sender::load(&mut tx, &state, &school_id).await?;
    let text = wording::learner_reset_link(
        sender.name(),
        &learner.given_name,
        &learner.username,
        &auth.me.display_name,
        &Link::Reset.url(&state, &auth.me.school_slug, token.expose()),
    );
    sender
        .queue(
            &mut tx,
            &state,
            Letter {
                kind: MailKind::ResetLink,
                about: Some((SubjectKind::Learner, &learner.id)),
                to: &to,
                title: &text.title,
                body: &text.body,
                message: None,
            },
        )
        .await?;
    audit::record(
        &mut tx,
        AuditActor::Staff(&auth.actor),
        &auth.device,
        audit::Entry {
            at: now,
            action: AuditAction::ResetLinkSent,
            class_id: None,
            learners: std::slice::from_ref(&learner.id),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    state.mail.wake();
    Ok(ApiJson(ResetLinkSent {
        to,
        expires_at: now.saturating_add(crate::clock::millis(links::RESET_LIFETIME)),
    }))
}

/// The diagnosed learner's own row.
#[derive(sqlx::FromRow)]
struct Subject {
    id: String,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: Sql<Status>,
    status_changed_at: Option<i64>,
    status_changer: Option<String>,
    password_set_by: Option<Sql<SetBy>>,
    password_set_at: Option<i64>,
    must_change_password: i64,
    last_sign_in_at: Option<i64>,
    credential_epoch: i64,
    sort_key: String,
}

impl LearnerColumns for Subject {
    const COLUMNS: &'static str = "l.id, l.username, l.given_name, l.family_name, l.email,
        l.status, l.status_changed_at,
        (SELECT s.display_name FROM staff s WHERE s.id = l.status_changed_by) AS status_changer,
        l.password_set_by, l.password_set_at, l.must_change_password, l.last_sign_in_at,
        l.credential_epoch, l.sort_key";
}

/// Another learner that may be the same person.
#[derive(sqlx::FromRow)]
struct Other {
    id: String,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: Sql<Status>,
}

const OTHER_COLUMNS: &str = "id, username, given_name, family_name, email, status";

#[derive(sqlx::FromRow)]
struct MailRow {
    kind: Sql<MailKind>,
    title: String,
    to_address: String,
    created_at: i64,
    state: Sql<MailState>,
    sent_at: Option<i64>,
    last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    epoch: i64,
}

/// Reads everything the findings rest on.
async fn gather(
    conn: &mut AnyConnection,
    actor: &Actor,
    learner: &Subject,
    now: i64,
) -> Result<Facts> {
    let active = learner.status.0 == Status::Active;
    let failures = throttle::account_failures(conn, SubjectKind::Learner, &learner.id)
        .await?
        .unwrap_or_default();
    let password = password_state(learner.password_set_by);
    let password_set_by = match password {
        PasswordState::SetByTeacher => password_setter(conn, &learner.id).await?,
        _ => None,
    };
    let mail: Vec<MailRow> = sqlx::query_as(
        "SELECT kind, title, to_address, created_at, state, sent_at, last_error FROM mail
         WHERE subject_id = $1 AND subject_kind = $2 ORDER BY created_at DESC LIMIT $3",
    )
    .bind(&learner.id)
    .bind(Sql(SubjectKind::Learner))
    .bind(MAIL_SHOWN)
    .fetch_all(&mut *conn)
    .await?;
    let reset_link = newest_reset_link(conn, learner, active, now).await?;
    let dead_link_opened_at: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(refused_at) FROM token
         WHERE subject_id = $1 AND subject_kind = $2 AND purpose IN ($3, $4)",
    )
    .bind(&learner.id)
    .bind(Sql(SubjectKind::Learner))
    .bind(Sql(TokenPurpose::Reset))
    .bind(Sql(TokenPurpose::SignInLink))
    .fetch_one(&mut *conn)
    .await?;
    Ok(Facts {
        active,
        status_changed_at: learner.status_changed_at,
        status_changed_by: learner.status_changer.clone(),
        failed_attempts: failures.failures,
        last_failed_at: (failures.failures > 0).then_some(failures.last_at),
        locked_until: (failures.locked_until > now).then_some(failures.locked_until),
        password,
        password_set_at: learner.password_set_at,
        password_set_by,
        must_change: learner.must_change_password != 0,
        email: learner.email.clone(),
        look_alikes: look_alikes(conn, actor, learner).await?,
        mail: mail
            .into_iter()
            .map(|m| MailFact {
                kind: m.kind.0,
                title: m.title,
                to: m.to_address,
                queued_at: m.created_at,
                state: m.state.0,
                sent_at: m.sent_at,
                error: m.last_error,
            })
            .collect(),
        reset_link,
        dead_link_opened_at,
        last_sign_in_at: learner.last_sign_in_at,
    })
}

/// The teacher who last set the learner's password, from the audit log.
async fn password_setter(conn: &mut AnyConnection, learner_id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT s.display_name FROM audit_subject su
         JOIN audit a ON a.id = su.audit_id
         JOIN staff s ON s.id = a.actor_id
         WHERE su.learner_id = $1 AND a.action IN ($2, $3)
         ORDER BY a.at DESC LIMIT 1",
    )
    .bind(learner_id)
    .bind(Sql(AuditAction::PasswordReset))
    .bind(Sql(AuditAction::ClassPasswordsReset))
    .fetch_optional(&mut *conn)
    .await?)
}

async fn newest_reset_link(
    conn: &mut AnyConnection,
    learner: &Subject,
    active: bool,
    now: i64,
) -> Result<Option<ResetLinkFact>> {
    let newest: Option<LinkRow> = sqlx::query_as(
        "SELECT created_at, expires_at, used_at, epoch FROM token
         WHERE subject_id = $1 AND subject_kind = $2 AND purpose = $3
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(&learner.id)
    .bind(Sql(SubjectKind::Learner))
    .bind(Sql(TokenPurpose::Reset))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(newest) = newest else {
        return Ok(None);
    };
    let sent_in_last_day: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM token
         WHERE subject_id = $1 AND subject_kind = $2 AND purpose = $3 AND created_at >= $4",
    )
    .bind(&learner.id)
    .bind(Sql(SubjectKind::Learner))
    .bind(Sql(TokenPurpose::Reset))
    .bind(newest.created_at.saturating_sub(DAY_MS))
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(ResetLinkFact {
        sent_at: newest.created_at,
        expires_at: newest.expires_at,
        works: active
            && newest.used_at.is_none()
            && newest.expires_at > now
            && newest.epoch == learner.credential_epoch,
        sent_in_last_day,
    }))
}

/// Other learners of the school that may be this one: the same name, or an email address
/// that differs only by capitals, dots or one letter.
async fn look_alikes(
    conn: &mut AnyConnection,
    actor: &Actor,
    learner: &Subject,
) -> Result<Vec<LookAlike>> {
    let school_id = actor.school_id.to_string();
    let mut found: Vec<(Resemblance, Other)> = Vec::new();
    if let Some(email) = &learner.email {
        let addresses: Vec<(String, String)> = sqlx::query_as(
            "SELECT email, id FROM learner WHERE school_id = $1 AND email IS NOT NULL AND id <> $2",
        )
        .bind(&school_id)
        .bind(&learner.id)
        .fetch_all(&mut *conn)
        .await?;
        for (_, id, how) in lookalike::look_alikes(email, addresses)
            .into_iter()
            .take(LOOK_ALIKES_SHOWN)
        {
            let sql = format!("SELECT {OTHER_COLUMNS} FROM learner WHERE id = $1");
            let other: Other = sqlx::query_as(&sql).bind(&id).fetch_one(&mut *conn).await?;
            found.push((resemblance(Kinship::Email(how)), other));
        }
    }
    let sql = format!(
        "SELECT {OTHER_COLUMNS} FROM learner
         WHERE school_id = $1 AND sort_key = $2 AND id <> $3 ORDER BY id LIMIT $4"
    );
    let namesakes: Vec<Other> = sqlx::query_as(&sql)
        .bind(&school_id)
        .bind(&learner.sort_key)
        .bind(&learner.id)
        .bind(i64::try_from(LOOK_ALIKES_SHOWN).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
    for other in namesakes {
        if !found.iter().any(|(_, o)| o.id == other.id) {
            found.push((Resemblance::SameName, other));
        }
    }
    let mut look_alikes = Vec::with_capacity(found.len());
    for (resemblance, other) in found.into_iter().take(LOOK_ALIKES_SHOWN) {
        let visible = access::sees_learner(conn, actor, &other.id).await?;
        look_alikes.push(LookAlike {
            resemblance,
            active: other.status.0 == Status::Active,
            account: match visible {
                true => Some(OtherAccount {
                    learner_id: parse_id(&other.id)?,
                    name: full_name(&other.given_name, &other.family_name),
                    username: other.username,
                    email: other.email,
                }),
                false => None,
            },
        });
    }
    Ok(look_alikes)
}

fn full_name(given: &str, family: &str) -> String {
    format!("{given} {family}")
}

/// What the asking teacher may do to a learner they can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Permits {
    pub set_active: bool,
    pub reset_password: bool,
    pub send_mail: bool,
    pub edit: bool,
}

impl Permits {
    /// What `actor` may do to a learner of a class they teach (the only learners a
    /// diagnosis is given for).
    pub fn of(actor: &Actor) -> Self {
        let learner = Resource::Learner {
            school: actor.school_id,
            in_actor_class: true,
        };
        let may = |action| authorize(actor, action, &learner).is_ok();
        Self {
            set_active: may(Action::LearnerSetActive),
            reset_password: may(Action::PasswordReset),
            send_mail: may(Action::MessageSend),
            edit: may(Action::LearnerEdit),
        }
    }
}

/// Turns the facts into findings, problems first, each with the fixes `may` allows.
pub(crate) fn findings(facts: &Facts, may: &Permits, sign_in_url: &str, now: i64) -> Vec<Finding> {
    let reachable = facts.active && facts.email.is_some() && may.send_mail;
    let mut found = vec![
        account(facts, may, now),
        lock(facts, may, now),
        password(facts, may, reachable, now),
        email(facts, may),
    ];
    found.extend(
        facts
            .look_alikes
            .iter()
            .map(|other| look_alike(facts, other, may)),
    );
    found.extend(mail(facts, may, now));
    found.extend(reset_link(facts, reachable, now));
    found.push(finding(
        Check::SignInPage,
        Severity::Fine,
        format!("They sign in at {sign_in_url}"),
        [Some(Fix::CopySignInPage)],
    ));
    found.push(match facts.last_sign_in_at {
        Some(at) => finding(
            Check::LastSignIn,
            Severity::Fine,
            format!("Last signed in {}.", ago(at, now)),
            [],
        ),
        None => finding(
            Check::LastSignIn,
            Severity::Fine,
            "Has not signed in yet.".into(),
            [],
        ),
    });
    // Stable: within a severity, the checklist's order.
    found.sort_by_key(|f| f.severity);
    found
}

fn finding<const N: usize>(
    check: Check,
    severity: Severity,
    says: String,
    fixes: [Option<Fix>; N],
) -> Finding {
    Finding {
        check,
        heading: check.heading().to_owned(),
        severity,
        says,
        fixes: fixes.into_iter().flatten().collect(),
    }
}

fn account(facts: &Facts, may: &Permits, now: i64) -> Finding {
    if facts.active {
        return finding(
            Check::Account,
            Severity::Fine,
            "The account is active.".into(),
            [],
        );
    }
    let by = facts
        .status_changed_by
        .as_deref()
        .map(|name| format!(" by {name}"))
        .unwrap_or_default();
    let when = facts
        .status_changed_at
        .map(|at| format!(" {}", ago(at, now)))
        .unwrap_or_default();
    finding(
        Check::Account,
        Severity::Problem,
        format!(
            "The account was deactivated{by}{when}: nobody can sign in to it until it is \
             reactivated."
        ),
        [may.set_active.then_some(Fix::Reactivate)],
    )
}

fn lock(facts: &Facts, may: &Permits, now: i64) -> Finding {
    let count = plural(facts.failed_attempts, "wrong password", "wrong passwords");
    let last = facts
        .last_failed_at
        .map(|at| format!(", the last {}", ago(at, now)))
        .unwrap_or_default();
    if let Some(until) = facts.locked_until {
        return finding(
            Check::Lock,
            Severity::Problem,
            format!(
                "After {count}{last}, sign-in is refused for {} more, even with the right \
                 password (the learner is told only that it did not work).",
                span(until - now)
            ),
            [
                may.reset_password.then_some(Fix::Unlock),
                may.reset_password.then_some(Fix::ResetPassword),
            ],
        );
    }
    if facts.failed_attempts > 0 {
        return finding(
            Check::Lock,
            Severity::Warning,
            format!(
                "{} since they last signed in{last}. A few more and each try must wait.",
                capitalised(&count)
            ),
            [may.reset_password.then_some(Fix::Unlock)],
        );
    }
    finding(
        Check::Lock,
        Severity::Fine,
        "No wrong passwords recently.".into(),
        [],
    )
}

fn password(facts: &Facts, may: &Permits, reachable: bool, now: i64) -> Finding {
    let when = facts
        .password_set_at
        .map(|at| format!(" {}", ago(at, now)))
        .unwrap_or_default();
    match facts.password {
        PasswordState::NotSet => finding(
            Check::Password,
            Severity::Problem,
            "No password yet: they cannot sign in with one.".into(),
            [
                may.reset_password.then_some(Fix::ResetPassword),
                reachable.then_some(Fix::SendResetLink),
                reachable.then_some(Fix::SendSignInLink),
            ],
        ),
        PasswordState::SetByTeacher => {
            let by = facts.password_set_by.as_deref().unwrap_or("a teacher");
            let change = if facts.must_change {
                " They will be asked to choose their own when they next sign in."
            } else {
                ""
            };
            finding(
                Check::Password,
                Severity::Fine,
                format!("Set by {by}{when}; it can be shown.{change}"),
                [may.reset_password.then_some(Fix::ResetPassword)],
            )
        }
        PasswordState::SetByLearner => finding(
            Check::Password,
            Severity::Fine,
            format!(
                "Chosen by the learner{when}. It cannot be shown: if they have forgotten it, \
                 send a password link or set a new one."
            ),
            [
                reachable.then_some(Fix::SendResetLink),
                may.reset_password.then_some(Fix::ResetPassword),
            ],
        ),
    }
}

fn email(facts: &Facts, may: &Permits) -> Finding {
    let Some(address) = &facts.email else {
        return finding(
            Check::Email,
            Severity::Warning,
            "No email address on file: sign-in links, password links and the login helper \
             cannot reach them."
                .into(),
            [may.edit.then_some(Fix::EditEmail)],
        );
    };
    let like = facts
        .look_alikes
        .iter()
        .any(|o| o.resemblance != Resemblance::SameName);
    let others = if like {
        "; other accounts hold addresses like it (below)"
    } else {
        ", and no other account holds one like it"
    };
    finding(
        Check::Email,
        Severity::Fine,
        format!("Mail goes to {address}{others}."),
        [may.edit.then_some(Fix::EditEmail)],
    )
}

fn look_alike(facts: &Facts, other: &LookAlike, may: &Permits) -> Finding {
    let state = if other.active {
        "active"
    } else {
        "deactivated"
    };
    let Some(account) = &other.account else {
        let how = match other.resemblance {
            Resemblance::SameName => "has the same name",
            _ => "holds an email address like this one",
        };
        return finding(
            Check::Duplicates,
            Severity::Warning,
            format!(
                "An {state} account in a class you do not teach {how}: a lead teacher can \
                 look into it."
            ),
            [],
        );
    };
    let who = format!(
        "The {state} account {} ({})",
        account.username, account.name
    );
    let holds = match (&account.email, other.resemblance) {
        (None, _) => String::new(),
        (Some(address), Resemblance::SameName) => format!(" holds {address}"),
        (Some(address), how) => {
            let differs = match how {
                Resemblance::EmailCase => "capital letters",
                Resemblance::EmailDots => "dots",
                _ => "one letter",
            };
            format!(" holds {address}, which differs from this one's only by {differs}")
        }
    };
    let named = if other.resemblance == Resemblance::SameName {
        " has the same name and"
    } else {
        ""
    };
    let holds_mail = account.email.is_some();
    // An address on a deactivated account is still taken, and the login helper does not
    // answer for a deactivated account: mail the learner asks for goes nowhere.
    let blocks = !other.active && holds_mail;
    let says = if !holds_mail {
        format!(
            "{who} has the same name. If both are this learner, one account is enough: \
             deactivate the other."
        )
    } else if blocks {
        format!(
            "{who}{named}{holds}. Deactivating an account does not free its address: if it \
             is this learner's, move it to this account."
        )
    } else {
        format!(
            "{who}{named}{holds}. If both are this learner, move the address to the account \
             they use and deactivate the other."
        )
    };
    let severity = match other.resemblance {
        _ if !blocks => Severity::Warning,
        Resemblance::EmailCase | Resemblance::EmailDots => Severity::Problem,
        _ if facts.email.is_none() => Severity::Problem,
        _ => Severity::Warning,
    };
    let move_it = (may.edit && holds_mail).then(|| Fix::MoveEmail {
        from: account.learner_id,
        from_username: account.username.clone(),
        address: account.email.clone().unwrap_or_default(),
    });
    finding(Check::Duplicates, severity, says, [move_it])
}

fn mail(facts: &Facts, may: &Permits, now: i64) -> Option<Finding> {
    let newest = facts.mail.first()?;
    let what = newest.kind.describe();
    let edit = may.edit.then_some(Fix::EditEmail);
    Some(match newest.state {
        MailState::Sent => finding(
            Check::Mail,
            Severity::Fine,
            format!(
                "The last mail, a {what}, left for {} {}. If they cannot find it, ask them to \
                 look in their spam or junk folder.",
                newest.to,
                ago(newest.sent_at.unwrap_or(newest.queued_at), now)
            ),
            [],
        ),
        MailState::Queued => finding(
            Check::Mail,
            Severity::Warning,
            format!(
                "The last mail, a {what} to {}, is still waiting to be sent (queued {}){}.",
                newest.to,
                ago(newest.queued_at, now),
                newest
                    .error
                    .as_deref()
                    .map(|e| format!("; the mail server said: {e}"))
                    .unwrap_or_default()
            ),
            [],
        ),
        MailState::Refused | MailState::Failed => finding(
            Check::Mail,
            Severity::Problem,
            format!(
                "The last mail, a {what} to {} {}, {}{}. Check the address.",
                newest.to,
                ago(newest.queued_at, now),
                if newest.state == MailState::Refused {
                    "was refused by the mail server"
                } else {
                    "could not be delivered for days and was given up"
                },
                newest
                    .error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
            [edit],
        ),
    })
}

fn reset_link(facts: &Facts, reachable: bool, now: i64) -> Option<Finding> {
    let send = reachable.then_some(Fix::SendResetLink);
    let dead_opened = facts
        .dead_link_opened_at
        .filter(|at| facts.reset_link.as_ref().is_none_or(|l| *at >= l.sent_at));
    let Some(link) = &facts.reset_link else {
        return dead_opened.map(|at| {
            finding(
                Check::ResetLink,
                Severity::Problem,
                format!(
                    "A link that no longer works was opened {}: links work once, and only \
                     for a while.",
                    ago(at, now)
                ),
                [send],
            )
        });
    };
    let several = if link.sent_in_last_day > 1 {
        format!(
            " {} were sent within a day: only the newest works.",
            link.sent_in_last_day
        )
    } else {
        String::new()
    };
    let sent = ago(link.sent_at, now);
    Some(match (dead_opened, link.works) {
        (Some(at), true) => finding(
            Check::ResetLink,
            Severity::Problem,
            format!(
                "An older link was opened {}, but only the newest works: the one sent {sent}, \
                 for {} more. Ask them to open the newest message.{several}",
                ago(at, now),
                span(link.expires_at - now)
            ),
            [send],
        ),
        (Some(at), false) => finding(
            Check::ResetLink,
            Severity::Problem,
            format!(
                "A link that no longer works was opened {}. The newest password link, sent \
                 {sent}, no longer works either: send a new one.{several}",
                ago(at, now)
            ),
            [send],
        ),
        (None, true) => finding(
            Check::ResetLink,
            Severity::Fine,
            format!(
                "The newest password link, sent {sent}, works for {} more.{several}",
                span(link.expires_at - now)
            ),
            [],
        ),
        (None, false) => finding(
            Check::ResetLink,
            Severity::Fine,
            format!(
                "The newest password link, sent {sent}, no longer works (used, expired, or \
                 ended by a new password).{several}"
            ),
            [send],
        ),
    })
}

/// "3 hours ago", "just now".
fn ago(then: i64, now: i64) -> String {
    if now - then < MINUTE_MS {
        "just now".into()
    } else {
        format!("{} ago", span(now - then))
    }
}

/// A length of time in the largest unit that reads well: "5 minutes", "3 hours", "2 days".
fn span(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < MINUTE_MS {
        "less than a minute".into()
    } else if ms < HOUR_MS {
        plural(ms / MINUTE_MS, "minute", "minutes")
    } else if ms < 2 * DAY_MS {
        plural(ms / HOUR_MS, "hour", "hours")
    } else {
        plural(ms / DAY_MS, "day", "days")
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use classkeys_protocol::diagnosis::{MailKind, Resemblance};

    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const URL: &str = "https://keys.example/s/demo/sign-in";

    /// An active learner with a teacher-set password and an address, who signed in an hour
    /// ago: nothing wrong.
    fn fine() -> Facts {
        Facts {
            active: true,
            status_changed_at: None,
            status_changed_by: None,
            failed_attempts: 0,
            last_failed_at: None,
            locked_until: None,
            password: PasswordState::SetByTeacher,
            password_set_at: Some(NOW - 3 * DAY_MS),
            password_set_by: Some("Mr Hughes".into()),
            must_change: false,
            email: Some("ada@home.example".into()),
            look_alikes: Vec::new(),
            mail: Vec::new(),
            reset_link: None,
            dead_link_opened_at: None,
            last_sign_in_at: Some(NOW - HOUR_MS),
        }
    }

    fn all() -> Permits {
        Permits {
            set_active: true,
            reset_password: true,
            send_mail: true,
            edit: true,
        }
    }

    fn mail(state: MailState, error: Option<&str>) -> MailFact {
        MailFact {
            kind: MailKind::PasswordHelp,
            title: "Sign in".into(),
            to: "ada@home.example".into(),
            queued_at: NOW - 3 * MINUTE_MS,
            state,
            sent_at: (state == MailState::Sent).then_some(NOW - 2 * MINUTE_MS),
            error: error.map(Into::into),
        }
    }

    fn the(found: &[Finding], check: Check) -> &Finding {
        found
            .iter()
            .find(|f| f.check == check)
            .unwrap_or_else(|| panic!("a {check:?} finding in {found:#?}"))
    }

    #[test]
    fn a_learner_with_nothing_wrong_gets_only_fine_findings_in_the_checklists_order() {
        let found = findings(&fine(), &all(), URL, NOW);
        assert!(
            found.iter().all(|f| f.severity == Severity::Fine),
            "{found:#?}"
        );
        let checks: Vec<Check> = found.iter().map(|f| f.check).collect();
        assert_eq!(
            checks,
            [
                Check::Account,
                Check::Lock,
                Check::Password,
                Check::Email,
                Check::SignInPage,
                Check::LastSignIn
            ]
        );
        assert_eq!(
            the(&found, Check::Password).says,
            "Set by Mr Hughes 3 days ago; it can be shown."
        );
        assert_eq!(
            the(&found, Check::LastSignIn).says,
            "Last signed in 1 hour ago."
        );
        assert_eq!(the(&found, Check::SignInPage).fixes, [Fix::CopySignInPage]);
    }

    #[test]
    fn what_became_of_the_last_mail_is_said_and_a_refusal_is_a_problem_with_its_fix() {
        let mut facts = fine();
        facts.mail = vec![
            mail(MailState::Refused, Some("550 no such mailbox")),
            mail(MailState::Sent, None),
        ];
        let found = findings(&facts, &all(), URL, NOW);
        let refused = the(&found, Check::Mail);
        assert_eq!(refused.severity, Severity::Problem);
        assert_eq!(
            refused.says,
            "The last mail, a password help to ada@home.example 3 minutes ago, was refused by \
             the mail server (550 no such mailbox). Check the address."
        );
        assert_eq!(refused.fixes, [Fix::EditEmail]);
        assert_eq!(found[0].check, Check::Mail, "problems first");

        facts.mail = vec![mail(MailState::Queued, Some("connection refused"))];
        let queued = findings(&facts, &all(), URL, NOW);
        assert_eq!(the(&queued, Check::Mail).severity, Severity::Warning);
        assert!(
            the(&queued, Check::Mail)
                .says
                .contains("still waiting to be sent")
        );

        facts.mail = vec![mail(MailState::Sent, None)];
        let sent = findings(&facts, &all(), URL, NOW);
        assert_eq!(the(&sent, Check::Mail).severity, Severity::Fine);
        assert!(the(&sent, Check::Mail).says.contains("spam"));
    }

    #[test]
    fn the_newest_password_link_is_said_to_work_or_not_and_an_older_one_opened_is_a_problem() {
        let mut facts = fine();
        facts.reset_link = Some(ResetLinkFact {
            sent_at: NOW - 30 * MINUTE_MS,
            expires_at: NOW + 90 * MINUTE_MS,
            works: true,
            sent_in_last_day: 1,
        });
        let works = findings(&facts, &all(), URL, NOW);
        assert_eq!(
            the(&works, Check::ResetLink).says,
            "The newest password link, sent 30 minutes ago, works for 1 hour more."
        );
        assert_eq!(the(&works, Check::ResetLink).severity, Severity::Fine);

        facts.reset_link = Some(ResetLinkFact {
            works: false,
            sent_in_last_day: 3,
            ..facts.reset_link.clone().unwrap()
        });
        facts.dead_link_opened_at = Some(NOW - MINUTE_MS);
        let dead = findings(&facts, &all(), URL, NOW);
        let link = the(&dead, Check::ResetLink);
        assert_eq!(link.severity, Severity::Problem);
        assert!(link.says.contains("no longer works either") && link.says.contains("3 were sent"));
        assert_eq!(link.fixes, [Fix::SendResetLink]);

        // Without an address, no link can be sent: the fix is not offered.
        facts.email = None;
        let unreachable = findings(&facts, &all(), URL, NOW);
        assert!(the(&unreachable, Check::ResetLink).fixes.is_empty());
        assert_eq!(the(&unreachable, Check::Email).fixes, [Fix::EditEmail]);
    }

    #[test]
    fn fixes_are_offered_only_as_far_as_the_teacher_may_apply_them() {
        let mut facts = fine();
        facts.active = false;
        facts.locked_until = Some(NOW + HOUR_MS);
        facts.failed_attempts = 6;
        facts.last_failed_at = Some(NOW - MINUTE_MS);
        facts.look_alikes = vec![LookAlike {
            resemblance: Resemblance::EmailDots,
            active: false,
            account: Some(OtherAccount {
                learner_id: LearnerId::generate(),
                username: "ada.old".into(),
                name: "Ada Lovelace".into(),
                email: Some("a.da@home.example".into()),
            }),
        }];
        let may_not = Permits {
            set_active: false,
            reset_password: false,
            send_mail: false,
            edit: false,
        };
        let found = findings(&facts, &may_not, URL, NOW);
        assert_eq!(
            found
                .iter()
                .filter(|f| f.severity == Severity::Problem)
                .map(|f| f.check)
                .collect::<Vec<_>>(),
            [Check::Account, Check::Lock, Check::Duplicates]
        );
        let offered: Vec<&Fix> = found.iter().flat_map(|f| &f.fixes).collect();
        assert_eq!(
            offered,
            [&Fix::CopySignInPage],
            "only what needs no permission"
        );
        let found = findings(&facts, &all(), URL, NOW);
        assert_eq!(the(&found, Check::Account).fixes, [Fix::Reactivate]);
        assert_eq!(
            the(&found, Check::Lock).fixes,
            [Fix::Unlock, Fix::ResetPassword]
        );
        assert!(matches!(
            the(&found, Check::Duplicates).fixes.as_slice(),
            [Fix::MoveEmail { from_username, .. }] if from_username == "ada.old"
        ));
    }
}
