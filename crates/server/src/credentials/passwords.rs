//! Teacher-set passwords: checked against the rules of the learner's own age band, hashed,
//! sealed for the learner's next credential epoch, and stored inside the caller's
//! transaction, which ends the learner's sessions and lifts their sign-in lock.

use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::password_policy::{AgeBand, PasswordSettings, check_generated, check_typed};
use classkeys_domain::policy::{Action, Actor};
use classkeys_domain::sealing::{self, Field, SealedSecret};
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::credentials::{
    AccessCodes, AuditAction, ClassPasswordReset, LearnerPasswordReset, PasswordSource,
};
use sqlx::AnyConnection;

use crate::access;
use crate::audit::{self, AuditActor, Device};
use crate::auth::SubjectKind;
use crate::error::{Error, Result};
use crate::password::Work;
use crate::randomness::Randomness;
use crate::state::AppState;
use crate::stored::{SetBy, Sql, Status};

use super::codes::ensure_parent_codes;
use super::rows::{CredRow, class_band, class_learners, learner_band, learner_row};
use super::school::SchoolContext;

/// Checks a password for a learner against the rules of their own age band: a generated one
/// must have a generated shape strong enough for the band; a typed one must meet the band's
/// policy and not contain the learner's names.
pub(super) fn check_password(
    settings: &PasswordSettings,
    band: AgeBand,
    learner: &CredRow,
    password: &str,
    source: PasswordSource,
) -> Result<()> {
    let refuse =
        |reason: String| Error::new(ErrorCode::InvalidInput, reason).with_field("password");
    let policy = settings.for_band(band);
    let inputs = [
        learner.username.as_str(),
        learner.given_name.as_str(),
        learner.family_name.as_str(),
    ];
    match source {
        PasswordSource::Generated => check_generated(password, policy),
        PasswordSource::Typed => check_typed(password, policy, &inputs),
    }
    .map_err(|weak| {
        refuse(format!(
            "{} {} cannot have this password: {}",
            learner.given_name, learner.family_name, weak.reason
        ))
    })
}

/// A new password for one learner, hashed and sealed, ready to store.
pub(super) struct NewPassword {
    pub(super) learner: String,
    pub(super) old_epoch: i64,
    pub(super) hash: String,
    pub(super) sealed: SealedSecret,
}

/// Seals each password for its learner's next credential epoch.
pub(super) fn seal_new(
    school: &SchoolContext,
    learners: &[&CredRow],
    passwords: &[&str],
    hashes: Vec<String>,
    rng: &Randomness,
) -> Vec<NewPassword> {
    rng.with(|rng| {
        learners
            .iter()
            .zip(passwords)
            .zip(hashes)
            .map(|((learner, password), hash)| {
                let epoch = learner.credential_epoch + 1;
                let context = school.context(&learner.id, epoch, Field::Password);
                NewPassword {
                    learner: learner.id.clone(),
                    old_epoch: learner.credential_epoch,
                    hash,
                    sealed: sealing::seal(&school.key, &context, password, rng),
                }
            })
            .collect()
    })
}

/// Stores new passwords inside the caller's transaction. Each learner's credential epoch
/// moves on, which ends their sessions and sign-in links; their sign-in lock is lifted.
/// Fails with `class_changed` if a learner's epoch moved since it was read (a parallel
/// reset), so nothing is half-written: the caller's transaction rolls back.
pub(super) async fn store_passwords(
    conn: &mut AnyConnection,
    seq: i64,
    new: &[NewPassword],
    must_change: bool,
    now: i64,
) -> Result<()> {
    for password in new {
        let updated = sqlx::query(
            "UPDATE learner SET password_hash = $1, password_sealed = $2,
                password_set_by = $8, password_set_at = $3, must_change_password = $4,
                credential_epoch = credential_epoch + 1, seq = $5, updated_at = $3
             WHERE id = $6 AND credential_epoch = $7",
        )
        .bind(&password.hash)
        .bind(password.sealed.as_str())
        .bind(now)
        .bind(i64::from(must_change))
        .bind(seq)
        .bind(&password.learner)
        .bind(password.old_epoch)
        .bind(Sql(SetBy::Teacher))
        .execute(&mut *conn)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(Error::new(
                ErrorCode::ClassChanged,
                "someone else changed this password at the same time: look again and retry",
            ));
        }
        sqlx::query("UPDATE token SET used_at = $1 WHERE subject_id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(&password.learner)
            .execute(&mut *conn)
            .await?;
        crate::throttle::clear_account(conn, SubjectKind::Learner, &password.learner).await?;
    }
    Ok(())
}

/// Gives learners new generated passwords inside the caller's transaction (demo seeding and
/// administration; hashing runs while the transaction is open, which is fine off the
/// request path).
pub async fn seed_generated_passwords(
    conn: &mut AnyConnection,
    state: &AppState,
    school_id: &str,
    seq: i64,
    learner_ids: &[String],
    style: PasswordStyle,
) -> Result<()> {
    let school = SchoolContext::load(conn, state, school_id).await?;
    let mut rows = Vec::with_capacity(learner_ids.len());
    for id in learner_ids {
        rows.extend(learner_row(conn, school_id, id).await?);
    }
    let passwords: Vec<Sensitive<String>> = rows
        .iter()
        .map(|_| state.rng.with(|rng| generator::generate(style, rng)))
        .collect();
    let hashes = state
        .hasher
        .hash_many(Work::Staff, passwords.clone())
        .await?;
    let targets: Vec<&CredRow> = rows.iter().collect();
    let plain: Vec<&str> = passwords.iter().map(|p| p.expose().as_str()).collect();
    let new = seal_new(&school, &targets, &plain, hashes, &state.rng);
    store_passwords(conn, seq, &new, false, state.clock.now_ms()).await
}

pub(super) fn class_changed(class: &str) -> Error {
    Error::new(
        ErrorCode::ClassChanged,
        format!("the learners of {class} changed since the preview: preview the reset again"),
    )
}

/// Sets one learner's password, as the teacher chose it, and answers their access codes with it.
pub(super) async fn reset_learner(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    id: LearnerId,
    request: LearnerPasswordReset,
) -> Result<AccessCodes> {
    let password = Sensitive::new(request.password);
    let mut conn = state.db.pool().acquire().await?;
    // Checked first so that a caller who may not reset this learner costs no hashing; the
    // check that counts is repeated under the school's write lock below.
    let learner: CredRow = access::learner(&mut conn, actor, id, Action::PasswordReset).await?;
    let school = SchoolContext::load(&mut conn, state, &actor.school_id.to_string()).await?;
    let band = learner_band(&mut conn, &learner.id).await?;
    check_password(
        &school.settings,
        band,
        &learner,
        password.expose(),
        request.source,
    )?;
    drop(conn);

    let hash = state.hasher.hash(Work::Staff, password.clone()).await?;
    let new = seal_new(
        &school,
        &[&learner],
        &[password.expose()],
        vec![hash],
        &state.rng,
    );
    let (mut tx, seq) = state.db.begin_change(&school.id).await?;
    // One time for the whole change: the passwords and their audit entry.
    let now = state.clock.now_ms();
    let _: access::Checked = access::learner(&mut tx, actor, id, Action::PasswordReset).await?;
    store_passwords(&mut tx, seq, &new, request.must_change, now).await?;
    audit::record(
        &mut tx,
        AuditActor::Staff(actor),
        device,
        audit::Entry {
            at: now,
            action: AuditAction::PasswordReset,
            class_id: None,
            learners: std::slice::from_ref(&learner.id),
            detail: serde_json::json!({
                "source": request.source,
                "must_change": request.must_change,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(learner = %learner.id, "learner password reset");

    let mut conn = state.db.pool().acquire().await?;
    let mut rows: Vec<CredRow> = learner_row(&mut conn, &school.id, &learner.id)
        .await?
        .into_iter()
        .collect();
    drop(conn);
    ensure_parent_codes(state, &school, &mut rows).await?;
    school.answer(None, &rows, true)
}

/// Resets every active learner of a class (one password for all, or one each), all or none, and answers the class's access codes with them.
pub(super) async fn reset_class(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    id: ClassId,
    request: ClassPasswordReset,
) -> Result<AccessCodes> {
    let mut conn = state.db.pool().acquire().await?;
    // Checked first so that a caller who may not reset this class costs no hashing; the
    // check that counts is repeated under the school's write lock below.
    let class = access::class(&mut conn, actor, id, Action::PasswordReset).await?;
    let school = SchoolContext::load(&mut conn, state, &actor.school_id.to_string()).await?;
    let learners: Vec<CredRow> = class_learners(&mut conn, &class.id)
        .await?
        .into_iter()
        .filter(|l| *l.status == Status::Active)
        .collect();
    drop(conn);
    if learners.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("{} has no active learners to reset", class.name),
        ));
    }
    let targets: Vec<&CredRow> = learners.iter().collect();
    let mode = request.mode();
    let (passwords, must_change, detail): (Vec<Sensitive<String>>, bool, serde_json::Value) =
        match request {
            ClassPasswordReset::Same {
                password,
                source,
                must_change,
            } => {
                let password = Sensitive::new(password);
                for learner in &targets {
                    check_password(
                        &school.settings,
                        class_band(&class),
                        learner,
                        password.expose(),
                        source,
                    )?;
                }
                let detail = serde_json::json!({ "mode": mode, "source": source, "must_change": must_change });
                (vec![password; targets.len()], must_change, detail)
            }
            ClassPasswordReset::Individual {
                passwords,
                must_change,
            } => {
                let by_learner: std::collections::HashMap<String, Sensitive<String>> = passwords
                    .into_iter()
                    .map(|p| (p.learner_id.to_string(), Sensitive::new(p.password)))
                    .collect();
                if by_learner.len() != targets.len()
                    || targets.iter().any(|l| !by_learner.contains_key(&l.id))
                {
                    return Err(class_changed(&class.name));
                }
                let mut ordered = Vec::with_capacity(targets.len());
                for learner in &targets {
                    let password = by_learner[&learner.id].clone();
                    check_password(
                        &school.settings,
                        class_band(&class),
                        learner,
                        password.expose(),
                        PasswordSource::Generated,
                    )?;
                    ordered.push(password);
                }
                let detail = serde_json::json!({ "mode": mode, "must_change": must_change });
                (ordered, must_change, detail)
            }
        };

    let hashes = state
        .hasher
        .hash_many(Work::Staff, passwords.clone())
        .await?;
    let plain: Vec<&str> = passwords.iter().map(|p| p.expose().as_str()).collect();
    let new = seal_new(&school, &targets, &plain, hashes, &state.rng);

    let (mut tx, seq) = state.db.begin_change(&school.id).await?;
    // One time for the whole change: the passwords and their audit entry.
    let now = state.clock.now_ms();
    access::class(&mut tx, actor, id, Action::PasswordReset).await?;
    // The class as it is now, under the write lock: the same active learners as previewed.
    let now_active: Vec<String> = class_learners(&mut tx, &class.id)
        .await?
        .into_iter()
        .filter(|l| *l.status == Status::Active)
        .map(|l| l.id)
        .collect();
    let previewed: Vec<&String> = targets.iter().map(|l| &l.id).collect();
    if now_active.iter().collect::<Vec<_>>() != previewed {
        return Err(class_changed(&class.name));
    }
    store_passwords(&mut tx, seq, &new, must_change, now).await?;
    sqlx::query("UPDATE class SET seq = $1 WHERE id = $2")
        .bind(seq)
        .bind(&class.id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        AuditActor::Staff(actor),
        device,
        audit::Entry {
            at: now,
            action: AuditAction::ClassPasswordsReset,
            class_id: Some(&class.id),
            learners: &now_active,
            detail,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(class = %class.id, learners = new.len(), "class passwords reset");

    let mut conn = state.db.pool().acquire().await?;
    let mut rows = class_learners(&mut conn, &class.id).await?;
    drop(conn);
    ensure_parent_codes(state, &school, &mut rows).await?;
    school.answer(Some((id, class.name)), &rows, true)
}
