//! Access codes as shown: passwords opened only while they sign the learner in, and parent
//! access codes, given on first need and unique in the school.

use classkeys_domain::generator;
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::policy::{Action, Actor};
use classkeys_domain::sealing::{self, Field, SealedSecret};
use classkeys_protocol::credentials::{
    AccessCode, AccessCodes, AuditAction, CodesPurpose, CodesRequest,
};
use sqlx::AnyConnection;

use crate::access;
use crate::audit::{self, AuditActor, Device};
use crate::db::parse_id;
use crate::error::{Error, Result};
use crate::randomness::Randomness;
use crate::records::placeholders;
use crate::state::AppState;
use crate::stored::{SetBy, Sql, Status, password_state};

use super::rows::{CredRow, class_learners, learner_row};
use super::school::SchoolContext;

/// Opens a learner's access codes. A sealed value that does not open (a damaged row) is
/// logged and shown as not retrievable, never as an error page for the whole class.
pub(super) fn open_code(
    school: &SchoolContext,
    row: &CredRow,
    with_password: bool,
) -> Result<AccessCode> {
    let open = |sealed: &str, epoch: i64, field: Field| -> Option<String> {
        let sealed = SealedSecret::parse(sealed.to_owned()).ok()?;
        match sealing::open(&school.key, &school.context(&row.id, epoch, field), &sealed) {
            Ok(secret) => Some(secret.expose().clone()),
            Err(e) => {
                tracing::error!(learner = %row.id, ?field, error = %e, "a sealed secret does not open");
                None
            }
        }
    };
    let state = password_state(row.password_set_by);
    // Shown exactly while it signs the learner in: set by a teacher, and the learner active.
    let active = *row.status == Status::Active;
    let password = if with_password && active && row.password_set_by == Some(Sql(SetBy::Teacher)) {
        row.password_sealed
            .as_deref()
            .and_then(|s| open(s, row.credential_epoch, Field::Password))
    } else {
        None
    };
    Ok(AccessCode {
        learner_id: parse_id(&row.id)?,
        given_name: row.given_name.clone(),
        family_name: row.family_name.clone(),
        username: row.username.clone(),
        active,
        password_state: state,
        password,
        must_change: row.must_change_password != 0,
        parent_code: row
            .parent_code_sealed
            .as_deref()
            .and_then(|s| open(s, PARENT_CODE_EPOCH, Field::ParentCode))
            .unwrap_or_default(),
    })
}

/// Parent access codes are not bound to the credential epoch: a password reset must not
/// unlink parents or change the code they were given.
pub(super) const PARENT_CODE_EPOCH: i64 = 0;

/// Gives a learner a new parent access code, inside the caller's transaction (which holds
/// the school's write lock, so the uniqueness check cannot race).
pub(super) async fn set_parent_code(
    conn: &mut AnyConnection,
    school: &SchoolContext,
    learner: &str,
    rng: &Randomness,
) -> Result<()> {
    for _ in 0..8 {
        let code = rng.with(|rng| generator::parent_access_code(rng));
        let fingerprint = sealing::fingerprint(&school.key, Field::ParentCode, code.expose());
        let taken: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM learner WHERE school_id = $1 AND parent_code_fingerprint = $2",
        )
        .bind(&school.id)
        .bind(&fingerprint)
        .fetch_optional(&mut *conn)
        .await?;
        if taken.is_some() {
            continue;
        }
        let context = school.context(learner, PARENT_CODE_EPOCH, Field::ParentCode);
        let sealed = rng.with(|rng| sealing::seal(&school.key, &context, code.expose(), rng));
        sqlx::query(
            "UPDATE learner SET parent_code_sealed = $1, parent_code_fingerprint = $2 WHERE id = $3",
        )
        .bind(sealed.as_str())
        .bind(&fingerprint)
        .bind(learner)
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    Err(Error::internal(anyhow::anyhow!(
        "no free parent access code after 8 tries"
    )))
}

/// Gives every learner among `rows` that has no parent access code one, and updates `rows`.
pub(super) async fn ensure_parent_codes(
    state: &AppState,
    school: &SchoolContext,
    rows: &mut [CredRow],
) -> Result<()> {
    let missing: Vec<String> = rows
        .iter()
        .filter(|r| r.parent_code_sealed.is_none())
        .map(|r| r.id.clone())
        .collect();
    for (id, sealed) in fill_parent_codes(state, school, &missing).await? {
        if let Some(row) = rows.iter_mut().find(|r| r.id == id) {
            row.parent_code_sealed = sealed;
        }
    }
    Ok(())
}

/// Gives every active learner of the school who has no parent access code one, before a
/// whole-school read (found through a partial index of exactly those learners).
pub(super) async fn backfill_parent_codes(state: &AppState, school: &SchoolContext) -> Result<()> {
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM learner
         WHERE school_id = $1 AND parent_code_sealed IS NULL AND status = $2",
    )
    .bind(&school.id)
    .bind(Sql(Status::Active))
    .fetch_all(state.db.pool())
    .await?;
    fill_parent_codes(state, school, &missing).await?;
    Ok(())
}

/// Gives the learners `missing` a parent access code each, in one transaction, and returns
/// every one's sealed code as it now is.
pub(super) async fn fill_parent_codes(
    state: &AppState,
    school: &SchoolContext,
    missing: &[String],
) -> Result<Vec<(String, Option<String>)>> {
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let (mut tx, _seq) = state.db.begin_change(&school.id).await?;
    for id in missing {
        // Another request may have given the code meanwhile: only fill what is still empty.
        let empty: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM learner WHERE id = $1 AND parent_code_sealed IS NULL",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if empty.is_some() {
            set_parent_code(&mut tx, school, id, &state.rng).await?;
        }
    }
    let sql = format!(
        "SELECT id, parent_code_sealed FROM learner WHERE id IN ({})",
        placeholders(1, missing.len())
    );
    let mut query = sqlx::query_as::<_, (String, Option<String>)>(&sql);
    for id in missing {
        query = query.bind(id);
    }
    let filled = query.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(filled)
}

/// A class's learners as a disclosure of their codes needs them.
pub(super) struct ClassCodes {
    pub(super) class: access::Class,
    pub(super) school: SchoolContext,
    pub(super) rows: Vec<CredRow>,
}

/// What showing, printing and downloading a class's codes share: the class loaded for
/// `action`, its learners (only the active ones when `active_only`) each with a parent
/// access code, and an audit entry of `audited` for exactly those learners, committed
/// before any of it is answered.
pub(super) async fn disclose_class(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    id: ClassId,
    action: Action,
    active_only: bool,
    audited: AuditAction,
) -> Result<ClassCodes> {
    let mut conn = state.db.pool().acquire().await?;
    let class = access::class(&mut conn, actor, id, action).await?;
    let school = SchoolContext::load(&mut conn, state, &actor.school_id.to_string()).await?;
    let mut rows = class_learners(&mut conn, &class.id).await?;
    drop(conn);
    if active_only {
        rows.retain(|r| *r.status == Status::Active);
    }
    ensure_parent_codes(state, &school, &mut rows).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    audit::record_now(
        &state.db,
        AuditActor::Staff(actor),
        device,
        audit::Entry {
            at: state.clock.now_ms(),
            action: audited,
            class_id: Some(&class.id),
            learners: &ids,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    Ok(ClassCodes {
        class,
        school,
        rows,
    })
}

/// A class's access codes for `request.purpose`, audited before they are answered.
pub(super) async fn show_class(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    id: ClassId,
    request: CodesRequest,
) -> Result<AccessCodes> {
    let action = match request.purpose {
        CodesPurpose::Cards => Action::CodesExport,
        CodesPurpose::View | CodesPurpose::Reveal => Action::CodesView,
    };
    let ClassCodes {
        class,
        school,
        rows,
    } = disclose_class(
        state,
        actor,
        device,
        id,
        action,
        request.purpose == CodesPurpose::Cards,
        codes_audit_action(request.purpose),
    )
    .await?;
    let with_passwords = request.purpose != CodesPurpose::View;
    school.answer(Some((id, class.name)), &rows, with_passwords)
}

/// One learner's access codes for `request.purpose`, audited before they are answered.
pub(super) async fn show_learner(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    id: LearnerId,
    request: CodesRequest,
) -> Result<AccessCodes> {
    let mut conn = state.db.pool().acquire().await?;
    let learner: CredRow = access::learner(&mut conn, actor, id, Action::CodesView).await?;
    let school = SchoolContext::load(&mut conn, state, &actor.school_id.to_string()).await?;
    drop(conn);
    let mut rows = vec![learner];
    ensure_parent_codes(state, &school, &mut rows).await?;
    audit::record_now(
        &state.db,
        AuditActor::Staff(actor),
        device,
        audit::Entry {
            at: state.clock.now_ms(),
            action: codes_audit_action(request.purpose),
            class_id: None,
            learners: std::slice::from_ref(&rows[0].id),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    let with_passwords = request.purpose != CodesPurpose::View;
    school.answer(None, &rows, with_passwords)
}

/// Replaces a learner's parent access code.
pub(super) async fn rotate_parent_code(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    id: LearnerId,
) -> Result<AccessCodes> {
    let school_id = actor.school_id.to_string();
    let (mut tx, _seq) = state.db.begin_change(&school_id).await?;
    let learner: CredRow = access::learner(&mut tx, actor, id, Action::ParentCodeRotate).await?;
    let school = SchoolContext::load(&mut tx, state, &school_id).await?;
    set_parent_code(&mut tx, &school, &learner.id, &state.rng).await?;
    audit::record(
        &mut tx,
        AuditActor::Staff(actor),
        device,
        audit::Entry {
            at: state.clock.now_ms(),
            action: AuditAction::ParentCodeRotated,
            class_id: None,
            learners: std::slice::from_ref(&learner.id),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    let row = learner_row(&mut tx, &school.id, &learner.id)
        .await?
        .ok_or_else(|| Error::not_found("learner"))?;
    tx.commit().await?;
    school.answer(None, std::slice::from_ref(&row), false)
}

/// What showing access codes for `purpose` is recorded as: every answer holds parent
/// access codes, so every one is recorded.
pub(super) fn codes_audit_action(purpose: CodesPurpose) -> AuditAction {
    match purpose {
        CodesPurpose::View => AuditAction::ParentCodesShown,
        CodesPurpose::Reveal => AuditAction::PasswordsRevealed,
        CodesPurpose::Cards => AuditAction::CardsPrinted,
    }
}
