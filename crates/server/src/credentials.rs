//! Learners' passwords and parent access codes: resets, reveals and exports.
//!
//! Passwords arrive chosen by the client (generated or typed) and are checked here against
//! the school's policy; hashing (argon2id, in parallel across learners, bounded by the
//! hasher) happens before the write transaction opens, so the school's write lock is held
//! only for the row updates. A class reset is one transaction: every learner changes or none.
//!
//! A teacher-set password is kept sealed (XChaCha20-Poly1305 under the school's data key,
//! bound to learner, credential epoch and field) so it can be shown again; sign-in never
//! looks at the sealed copy, only the hash. Each reset bumps the learner's credential epoch,
//! which ends their sessions and makes any older sealed copy unopenable.
//!
//! Every reveal, reset, export and card print is audited before anything secret is sent.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use classkeys_domain::access_codes::{AccessCodeRow, CsvWriter, to_csv};
use classkeys_domain::downloads;
use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::password_policy::{AgeBand, PasswordSettings, check_generated, check_typed};
use classkeys_domain::policy::{Action, Actor};
use classkeys_domain::sealing::{self, Field, Scope, SealContext, SealedSecret, SealingKey};
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::credentials::{
    AccessCode, AccessCodes, AuditAction, ClassPasswordReset, CodesPurpose, CodesRequest,
    LearnerPasswordReset, PasswordSource, SchoolExportKind, SchoolExportRequest,
};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};
use sqlx::AnyConnection;

use crate::access;
use crate::audit::{self, AuditActor, Device};
use crate::auth::{Authenticated, SubjectKind};
use crate::db::parse_id;
use crate::error::{Error, Result};
use crate::http::{ApiJson, ApiPath};
use crate::password::Work;
use crate::records::{self, bytewise, placeholders};
use crate::state::AppState;
use crate::stored::{SetBy, Spelled, Sql, Status, password_state};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            paths::LEARNER_PASSWORD_RESET.template(),
            post(learner_password_reset),
        )
        .route(
            paths::LEARNER_ACCESS_CODES.template(),
            post(learner_access_codes),
        )
        .route(
            paths::LEARNER_PARENT_CODE.template(),
            post(learner_parent_code_rotate),
        )
        .route(
            paths::CLASS_PASSWORDS.template(),
            post(class_passwords_reset),
        )
        .route(
            paths::CLASS_ACCESS_CODES.template(),
            post(class_access_codes),
        )
        .route(
            paths::CLASS_ACCESS_CODES_EXPORT.template(),
            post(class_access_codes_export),
        )
        .route(paths::SCHOOL_EXPORT, post(school_export))
}

/// What a school's credential work needs: its data key, names and password rules.
pub struct SchoolContext {
    id: String,
    name: String,
    key: SealingKey,
    settings: PasswordSettings,
    sign_in_url: String,
}

/// The school's settings as stored: only the part this module reads.
#[derive(serde::Deserialize, Default)]
struct StoredSettings {
    #[serde(default)]
    passwords: PasswordSettings,
}

impl StoredSettings {
    /// The school's settings, or an error: settings that cannot be read refuse the work
    /// rather than fall back to defaults, which could be weaker than the school's own rules.
    fn read(school_id: &str, stored: &str) -> Result<Self> {
        serde_json::from_str(stored).map_err(|e| {
            Error::internal(anyhow::anyhow!(
                "the settings of school {school_id} cannot be read ({e}): fix them before changing passwords"
            ))
        })
    }
}

/// A school's password rules, for a password chosen outside a teacher's reset.
pub(crate) async fn password_settings(
    conn: &mut AnyConnection,
    school_id: &str,
) -> Result<PasswordSettings> {
    let stored: String = sqlx::query_scalar("SELECT settings FROM school WHERE id = $1")
        .bind(school_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(StoredSettings::read(school_id, &stored)?.passwords)
}

impl SchoolContext {
    /// Loads the school and opens its data key.
    pub async fn load(conn: &mut AnyConnection, state: &AppState, school_id: &str) -> Result<Self> {
        let (name, slug, settings, wrapped): (String, String, String, String) = sqlx::query_as(
            "SELECT name, slug, settings, wrapped_data_key FROM school WHERE id = $1",
        )
        .bind(school_id)
        .fetch_one(&mut *conn)
        .await?;
        let key = state
            .keys
            .school_key(school_id, &wrapped)
            .map_err(Error::internal)?;
        Ok(Self {
            id: school_id.to_owned(),
            name,
            key,
            settings: StoredSettings::read(school_id, &settings)?.passwords,
            sign_in_url: sign_in_url(&state.settings.public_url, &slug),
        })
    }

    /// The access codes of `rows` as the API answers them, passwords opened only when asked.
    fn answer(
        &self,
        class: Option<(ClassId, String)>,
        rows: &[CredRow],
        with_passwords: bool,
    ) -> Result<AccessCodes> {
        let (class_id, class_name) = class.unzip();
        Ok(AccessCodes {
            class_id,
            class_name,
            school_name: self.name.clone(),
            sign_in_url: self.sign_in_url.clone(),
            codes: rows
                .iter()
                .map(|r| open_code(self, r, with_passwords))
                .collect::<Result<_>>()?,
        })
    }

    fn context<'a>(&'a self, learner: &'a str, epoch: i64, field: Field) -> SealContext<'a> {
        SealContext {
            scope: Scope::School,
            owner: &self.id,
            learner,
            epoch,
            field,
        }
    }
}

/// Where a school's learners sign in.
pub fn sign_in_url(public_url: &str, slug: &str) -> String {
    format!("{}/s/{slug}/sign-in", public_url.trim_end_matches('/'))
}

/// A learner's credential columns.
#[derive(sqlx::FromRow)]
struct CredRow {
    id: String,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: Sql<Status>,
    password_set_by: Option<Sql<SetBy>>,
    password_sealed: Option<String>,
    must_change_password: i64,
    credential_epoch: i64,
    parent_code_sealed: Option<String>,
}

const CRED_COLUMNS: &str = "l.id, l.username, l.given_name, l.family_name, l.email, l.status,
    l.password_set_by, l.password_sealed, l.must_change_password, l.credential_epoch,
    l.parent_code_sealed";

/// The learners of a class, by family then given name.
async fn class_learners(conn: &mut AnyConnection, class_id: &str) -> sqlx::Result<Vec<CredRow>> {
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

async fn learner_row(
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
fn class_band(class: &access::Class) -> AgeBand {
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

/// Checks a password for a learner against the rules of their own age band: a generated one
/// must have a generated shape strong enough for the band; a typed one must meet the band's
/// policy and not contain the learner's names.
fn check_password(
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
struct NewPassword {
    learner: String,
    old_epoch: i64,
    hash: String,
    sealed: SealedSecret,
}

/// Seals each password for its learner's next credential epoch.
fn seal_new(
    school: &SchoolContext,
    learners: &[&CredRow],
    passwords: &[&str],
    hashes: Vec<String>,
) -> Vec<NewPassword> {
    let mut rng = rand::rng();
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
                sealed: sealing::seal(&school.key, &context, password, &mut rng),
            }
        })
        .collect()
}

/// Stores new passwords inside the caller's transaction. Each learner's credential epoch
/// moves on, which ends their sessions and sign-in links; their sign-in lock is lifted.
/// Fails with `class_changed` if a learner's epoch moved since it was read (a parallel
/// reset), so nothing is half-written: the caller's transaction rolls back.
async fn store_passwords(
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

/// Opens a learner's access codes. A sealed value that does not open (a damaged row) is
/// logged and shown as not retrievable, never as an error page for the whole class.
fn open_code(school: &SchoolContext, row: &CredRow, with_password: bool) -> Result<AccessCode> {
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
const PARENT_CODE_EPOCH: i64 = 0;

/// Gives a learner a new parent access code, inside the caller's transaction (which holds
/// the school's write lock, so the uniqueness check cannot race).
async fn set_parent_code(
    conn: &mut AnyConnection,
    school: &SchoolContext,
    learner: &str,
) -> Result<()> {
    for _ in 0..8 {
        // The thread-local generator is not `Send`: used only between awaits.
        let code = generator::parent_access_code(&mut rand::rng());
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
        let sealed = sealing::seal(&school.key, &context, code.expose(), &mut rand::rng());
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
async fn ensure_parent_codes(
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
async fn backfill_parent_codes(state: &AppState, school: &SchoolContext) -> Result<()> {
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
async fn fill_parent_codes(
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
            set_parent_code(&mut tx, school, id).await?;
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

/// Writes an audit entry in its own transaction, before secrets are sent.
async fn audit_now(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    entry: audit::Entry<'_>,
) -> Result<()> {
    let mut tx = state.db.pool().begin().await?;
    audit::record(&mut tx, AuditActor::Staff(actor), device, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// What showing access codes for `purpose` is recorded as: every answer holds parent
/// access codes, so every one is recorded.
fn codes_audit_action(purpose: CodesPurpose) -> AuditAction {
    match purpose {
        CodesPurpose::View => AuditAction::ParentCodesShown,
        CodesPurpose::Reveal => AuditAction::PasswordsRevealed,
        CodesPurpose::Cards => AuditAction::CardsPrinted,
    }
}

/// Sets one learner's password.
#[utoipa::path(post, path = paths::LEARNER_PASSWORD_RESET.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = LearnerPasswordReset,
    responses(
        (status = 200, body = AccessCodes, description = "Set; the learner's access codes with the new password"),
        (status = 400, body = ErrorBody, description = "The password is refused, with the reason"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_password_reset(
    State(state): State<AppState>,
    auth: Authenticated,
    device: Device,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(request): ApiJson<LearnerPasswordReset>,
) -> Result<ApiJson<AccessCodes>> {
    let password = Sensitive::new(request.password);
    let mut conn = state.db.pool().acquire().await?;
    // Checked first so that a caller who may not reset this learner costs no hashing; the
    // check that counts is repeated under the school's write lock below.
    let learner: CredRow =
        access::learner(&mut conn, &auth.actor, id, Action::PasswordReset).await?;
    let school = SchoolContext::load(&mut conn, &state, &auth.actor.school_id.to_string()).await?;
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
    let new = seal_new(&school, &[&learner], &[password.expose()], vec![hash]);
    let (mut tx, seq) = state.db.begin_change(&school.id).await?;
    let _: CredRow = access::learner(&mut tx, &auth.actor, id, Action::PasswordReset).await?;
    store_passwords(
        &mut tx,
        seq,
        &new,
        request.must_change,
        state.clock.now_ms(),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditActor::Staff(&auth.actor),
        &device,
        audit::Entry {
            at: state.clock.now_ms(),
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
    ensure_parent_codes(&state, &school, &mut rows).await?;
    Ok(ApiJson(school.answer(None, &rows, true)?))
}

/// Resets every active learner of a class: one password for all, or one each.
#[utoipa::path(post, path = paths::CLASS_PASSWORDS.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    request_body = ClassPasswordReset,
    responses(
        (status = 200, body = AccessCodes, description = "All set; the class's access codes with the new passwords"),
        (status = 400, body = ErrorBody, description = "A password is refused, with the reason"),
        (status = 404, body = ErrorBody, description = "No such class, or not one of the caller's"),
        (status = 409, body = ErrorBody, description = "The class's learners changed since the preview"),
    ))]
pub(crate) async fn class_passwords_reset(
    State(state): State<AppState>,
    auth: Authenticated,
    device: Device,
    ApiPath(id): ApiPath<ClassId>,
    ApiJson(request): ApiJson<ClassPasswordReset>,
) -> Result<ApiJson<AccessCodes>> {
    let mut conn = state.db.pool().acquire().await?;
    // Checked first so that a caller who may not reset this class costs no hashing; the
    // check that counts is repeated under the school's write lock below.
    let class = access::class(&mut conn, &auth.actor, id, Action::PasswordReset).await?;
    let school = SchoolContext::load(&mut conn, &state, &auth.actor.school_id.to_string()).await?;
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
    let new = seal_new(&school, &targets, &plain, hashes);

    let (mut tx, seq) = state.db.begin_change(&school.id).await?;
    access::class(&mut tx, &auth.actor, id, Action::PasswordReset).await?;
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
    store_passwords(&mut tx, seq, &new, must_change, state.clock.now_ms()).await?;
    sqlx::query("UPDATE class SET seq = $1 WHERE id = $2")
        .bind(seq)
        .bind(&class.id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        AuditActor::Staff(&auth.actor),
        &device,
        audit::Entry {
            at: state.clock.now_ms(),
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
    ensure_parent_codes(&state, &school, &mut rows).await?;
    Ok(ApiJson(school.answer(
        Some((id, class.name)),
        &rows,
        true,
    )?))
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
        .map(|_| generator::generate(style, &mut rand::rng()))
        .collect();
    let hashes = state
        .hasher
        .hash_many(Work::Staff, passwords.clone())
        .await?;
    let targets: Vec<&CredRow> = rows.iter().collect();
    let plain: Vec<&str> = passwords.iter().map(|p| p.expose().as_str()).collect();
    let new = seal_new(&school, &targets, &plain, hashes);
    store_passwords(conn, seq, &new, false, state.clock.now_ms()).await
}

fn class_changed(class: &str) -> Error {
    Error::new(
        ErrorCode::ClassChanged,
        format!("the learners of {class} changed since the preview: preview the reset again"),
    )
}

/// A class's access codes: usernames and parent codes, and passwords when revealed.
#[utoipa::path(post, path = paths::CLASS_ACCESS_CODES.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    request_body = CodesRequest,
    responses(
        (status = 200, body = AccessCodes, description = "The class's learners' access codes"),
        (status = 404, body = ErrorBody, description = "No such class, or not one of the caller's"),
    ))]
pub(crate) async fn class_access_codes(
    State(state): State<AppState>,
    auth: Authenticated,
    device: Device,
    ApiPath(id): ApiPath<ClassId>,
    ApiJson(request): ApiJson<CodesRequest>,
) -> Result<ApiJson<AccessCodes>> {
    let action = match request.purpose {
        CodesPurpose::Cards => Action::CodesExport,
        CodesPurpose::View | CodesPurpose::Reveal => Action::CodesView,
    };
    let mut conn = state.db.pool().acquire().await?;
    let class = access::class(&mut conn, &auth.actor, id, action).await?;
    let school = SchoolContext::load(&mut conn, &state, &auth.actor.school_id.to_string()).await?;
    let mut rows = class_learners(&mut conn, &class.id).await?;
    drop(conn);
    if request.purpose == CodesPurpose::Cards {
        rows.retain(|r| *r.status == Status::Active);
    }
    ensure_parent_codes(&state, &school, &mut rows).await?;
    let with_passwords = request.purpose != CodesPurpose::View;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    audit_now(
        &state,
        &auth.actor,
        &device,
        audit::Entry {
            at: state.clock.now_ms(),
            action: codes_audit_action(request.purpose),
            class_id: Some(&class.id),
            learners: &ids,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    Ok(ApiJson(school.answer(
        Some((id, class.name)),
        &rows,
        with_passwords,
    )?))
}

/// One learner's access codes (revealing one password).
#[utoipa::path(post, path = paths::LEARNER_ACCESS_CODES.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    request_body = CodesRequest,
    responses(
        (status = 200, body = AccessCodes, description = "The learner's access codes"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_access_codes(
    State(state): State<AppState>,
    auth: Authenticated,
    device: Device,
    ApiPath(id): ApiPath<LearnerId>,
    ApiJson(request): ApiJson<CodesRequest>,
) -> Result<ApiJson<AccessCodes>> {
    let mut conn = state.db.pool().acquire().await?;
    let learner: CredRow = access::learner(&mut conn, &auth.actor, id, Action::CodesView).await?;
    let school = SchoolContext::load(&mut conn, &state, &auth.actor.school_id.to_string()).await?;
    drop(conn);
    let mut rows = vec![learner];
    ensure_parent_codes(&state, &school, &mut rows).await?;
    audit_now(
        &state,
        &auth.actor,
        &device,
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
    Ok(ApiJson(school.answer(None, &rows, with_passwords)?))
}

/// Replaces a learner's parent access code: parents already linked stay linked, the old
/// code links no one new.
#[utoipa::path(post, path = paths::LEARNER_PARENT_CODE.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = LearnerId, Path, description = "Learner id")),
    responses(
        (status = 200, body = AccessCodes, description = "The learner's access codes with the new parent code"),
        (status = 404, body = ErrorBody, description = "No such learner, or not one of the caller's"),
    ))]
pub(crate) async fn learner_parent_code_rotate(
    State(state): State<AppState>,
    auth: Authenticated,
    device: Device,
    ApiPath(id): ApiPath<LearnerId>,
) -> Result<ApiJson<AccessCodes>> {
    let school_id = auth.actor.school_id.to_string();
    let (mut tx, _seq) = state.db.begin_change(&school_id).await?;
    let learner: CredRow =
        access::learner(&mut tx, &auth.actor, id, Action::ParentCodeRotate).await?;
    let school = SchoolContext::load(&mut tx, &state, &school_id).await?;
    set_parent_code(&mut tx, &school, &learner.id).await?;
    audit::record(
        &mut tx,
        AuditActor::Staff(&auth.actor),
        &device,
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
    Ok(ApiJson(school.answer(
        None,
        std::slice::from_ref(&row),
        false,
    )?))
}

/// A CSV file as a download that no cache keeps.
fn csv_download(file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                downloads::content_disposition(file_name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Learners handed to a CSV worker at a time: enough to keep the hand-over cheap, few
/// enough that workers start while the rows are still being read.
const CSV_CHUNK: usize = 2048;

/// The access-code CSV of learners labelled with their classes, as they arrive: returns
/// the file and how many learners it holds.
///
/// Unsealing is most of the work, so it runs in parallel with the reading: this thread
/// pulls rows from `rows` (on SQLite that is stepping the query) and hands them out in
/// chunks, one worker per core opens and writes each chunk it takes, and the parts are
/// joined in their order at the end.
fn access_codes_csv(
    school: &SchoolContext,
    rows: impl Iterator<Item = Result<(String, CredRow)>>,
) -> Result<(Vec<u8>, usize)> {
    // What every part starts with (BOM and header): kept once, at the very start.
    let preamble = to_csv([]);
    let write_chunk = |chunk: &[(String, CredRow)]| -> Result<Vec<u8>> {
        let mut writer = CsvWriter::new(Vec::with_capacity(preamble.len() + chunk.len() * 110))
            .map_err(Error::internal)?;
        for (class, row) in chunk {
            let code = open_code(school, row, true)?;
            writer
                .write_row(&AccessCodeRow {
                    class: class.clone(),
                    given_name: code.given_name,
                    family_name: code.family_name,
                    username: code.username,
                    password: code.password,
                    parent_code: code.parent_code,
                    sign_in_url: school.sign_in_url.clone(),
                })
                .map_err(Error::internal)?;
        }
        let mut part = writer.finish().map_err(Error::internal)?;
        part.drain(..preamble.len());
        Ok(part)
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (send, receive) = std::sync::mpsc::sync_channel::<(usize, Vec<_>)>(workers * 2);
    let receive = std::sync::Mutex::new(receive);
    let (parts, count) = std::thread::scope(|scope| -> Result<_> {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<(usize, Vec<u8>)>> {
                    let mut done = Vec::new();
                    loop {
                        let next = receive.lock().map_err(|_| worker_failed())?.recv();
                        let Ok((at, chunk)) = next else {
                            return Ok(done);
                        };
                        done.push((at, write_chunk(&chunk)?));
                    }
                })
            })
            .collect();
        let mut count = 0;
        let mut chunks = 0;
        let mut chunk = Vec::with_capacity(CSV_CHUNK);
        let mut read = Ok(());
        for row in rows {
            match row {
                Ok(row) => chunk.push(row),
                Err(e) => {
                    read = Err(e);
                    break;
                }
            }
            if chunk.len() == CSV_CHUNK {
                count += chunk.len();
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CSV_CHUNK));
                if send.send((chunks, full)).is_err() {
                    break; // every worker stopped: their error is reported below
                }
                chunks += 1;
            }
        }
        if read.is_ok() && !chunk.is_empty() {
            count += chunk.len();
            let _ = send.send((chunks, chunk));
        }
        drop(send);
        let mut parts = Vec::new();
        for handle in handles {
            parts.extend(handle.join().map_err(|_| worker_failed())??);
        }
        read?;
        Ok((parts, count))
    })?;
    let mut parts = parts;
    parts.sort_unstable_by_key(|(at, _)| *at);
    let mut out = preamble;
    out.reserve(parts.iter().map(|(_, p)| p.len()).sum());
    for (_, part) in parts {
        out.extend_from_slice(&part);
    }
    Ok((out, count))
}

fn worker_failed() -> Error {
    Error::internal(anyhow::anyhow!("an export worker panicked"))
}

/// Downloads a class's access codes as CSV (active learners).
#[utoipa::path(post, path = paths::CLASS_ACCESS_CODES_EXPORT.template(), tag = "credentials",
    security(("bearer" = [])),
    params(("id" = ClassId, Path, description = "Class id")),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "UTF-8 CSV with BOM: class, given name, family name, username, password, parent access code, sign-in URL"),
        (status = 404, body = ErrorBody, description = "No such class, or not one of the caller's"),
    ))]
pub(crate) async fn class_access_codes_export(
    State(state): State<AppState>,
    auth: Authenticated,
    device: Device,
    ApiPath(id): ApiPath<ClassId>,
) -> Result<Response> {
    let mut conn = state.db.pool().acquire().await?;
    let class = access::class(&mut conn, &auth.actor, id, Action::CodesExport).await?;
    let school = SchoolContext::load(&mut conn, &state, &auth.actor.school_id.to_string()).await?;
    let mut rows = class_learners(&mut conn, &class.id).await?;
    drop(conn);
    rows.retain(|r| *r.status == Status::Active);
    ensure_parent_codes(&state, &school, &mut rows).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    audit_now(
        &state,
        &auth.actor,
        &device,
        audit::Entry {
            at: state.clock.now_ms(),
            action: AuditAction::AccessCodesExported,
            class_id: Some(&class.id),
            learners: &ids,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    let class_name = class.name.clone();
    let (body, _) = tokio::task::spawn_blocking(move || {
        access_codes_csv(
            &school,
            rows.into_iter().map(|r| Ok((class_name.clone(), r))),
        )
    })
    .await
    .map_err(Error::internal)??;
    Ok(csv_download(
        &downloads::class_access_codes(&class.name),
        body,
    ))
}

/// Downloads the whole school's access codes or student database (lead teachers, after
/// entering their password again).
#[utoipa::path(post, path = paths::SCHOOL_EXPORT, tag = "credentials",
    security(("bearer" = [])),
    request_body = SchoolExportRequest,
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "UTF-8 CSV with BOM"),
        (status = 401, body = ErrorBody, description = "The password is wrong"),
        (status = 403, body = ErrorBody, description = "Only lead teachers can export the whole school"),
    ))]
pub(crate) async fn school_export(
    State(state): State<AppState>,
    auth: Authenticated,
    device: Device,
    ApiJson(request): ApiJson<SchoolExportRequest>,
) -> Result<Response> {
    access::school(&auth.actor, Action::SchoolExport, "school")?;
    crate::auth::confirm_password(&state, &auth, Sensitive::new(request.password)).await?;

    let school_id = auth.actor.school_id.to_string();
    let mut conn = state.db.pool().acquire().await?;
    let school = SchoolContext::load(&mut conn, &state, &school_id).await?;
    drop(conn);
    backfill_parent_codes(&state, &school).await?;
    let kind = request.kind;
    let (action, name, file_name) = match kind {
        SchoolExportKind::AccessCodes => (
            AuditAction::SchoolAccessCodesExported,
            "access-codes",
            downloads::school_access_codes(&school.name),
        ),
        SchoolExportKind::Students => (
            AuditAction::SchoolStudentsExported,
            "students",
            downloads::school_students(&school.name),
        ),
    };
    let (body, count) = school_csv(&state, school, kind).await?;
    // Recorded before the file leaves the server, with the exact number of learners in it.
    audit_now(
        &state,
        &auth.actor,
        &device,
        audit::Entry {
            at: state.clock.now_ms(),
            action,
            class_id: None,
            learners: &[],
            detail: serde_json::json!({ "learners": count }),
        },
    )
    .await?;
    tracing::info!(kind = name, learners = count, "school export");
    Ok(csv_download(&file_name, body))
}

#[derive(sqlx::FromRow)]
struct CredClassRow {
    #[sqlx(flatten)]
    learner: CredRow,
    class_name: Option<String>,
}

impl CredClassRow {
    /// A row of the export query ([`CRED_COLUMNS`], then the class name) as rusqlite reads it.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            learner: CredRow {
                id: row.get(0)?,
                username: row.get(1)?,
                given_name: row.get(2)?,
                family_name: row.get(3)?,
                email: row.get(4)?,
                status: row.get(5)?,
                password_set_by: row.get(6)?,
                password_sealed: row.get(7)?,
                must_change_password: row.get(8)?,
                credential_epoch: row.get(9)?,
                parent_code_sealed: row.get(10)?,
            },
            class_name: row.get(11)?,
        })
    }
}

/// Folds the export query's rows (one per enrolment, a learner's rows together) into one
/// learner each, labelled with their classes' names joined with ", ".
struct ByLearner<I: Iterator> {
    rows: std::iter::Peekable<I>,
}

impl<I: Iterator<Item = Result<CredClassRow>>> Iterator for ByLearner<I> {
    type Item = Result<(String, CredRow)>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = match self.rows.next()? {
            Ok(row) => row,
            Err(e) => return Some(Err(e)),
        };
        let mut classes = first.class_name.unwrap_or_default();
        while let Some(Ok(next)) = self
            .rows
            .next_if(|r| r.as_ref().is_ok_and(|r| r.learner.id == first.learner.id))
        {
            if let Some(name) = next.class_name {
                if !classes.is_empty() {
                    classes.push_str(", ");
                }
                classes.push_str(&name);
            }
        }
        Some(Ok((classes, first.learner)))
    }
}

/// The whole school's CSV of `kind`, and how many learners it holds: every active learner
/// with their classes, in one query. On SQLite the rows are stepped straight from the file
/// ([`crate::bulk`]) while the CSV is being written; on PostgreSQL they are read first.
async fn school_csv(
    state: &AppState,
    school: SchoolContext,
    kind: SchoolExportKind,
) -> Result<(Vec<u8>, usize)> {
    let collate = records::bytewise_on(state.db.backend());
    let sql = format!(
        "SELECT {CRED_COLUMNS}, c.name AS class_name FROM learner l
         LEFT JOIN enrollment e ON e.learner_id = l.id
         LEFT JOIN class c ON c.id = e.class_id
         WHERE l.school_id = $1 AND l.status = $2
         ORDER BY l.sort_key{collate}, l.id, c.name_key{collate}"
    );
    let school_id = school.id.clone();
    let write = move |rows: &mut dyn Iterator<Item = Result<CredClassRow>>| {
        let learners = ByLearner {
            rows: rows.peekable(),
        };
        match kind {
            SchoolExportKind::AccessCodes => access_codes_csv(&school, learners),
            SchoolExportKind::Students => {
                let all = learners.collect::<Result<Vec<_>>>()?;
                Ok((students_csv(&all)?, all.len()))
            }
        }
    };
    match state.db.sqlite_file() {
        Some(file) => {
            let file = file.to_owned();
            tokio::task::spawn_blocking(move || {
                crate::bulk::query_each(
                    &file,
                    &sql,
                    &[school_id, Status::Active.spelling().to_owned()],
                    CredClassRow::from_sqlite,
                    |rows| write(&mut rows.map(|r| r.map_err(Error::internal))),
                )
            })
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?
        }
        None => {
            let rows: Vec<CredClassRow> = sqlx::query_as(&sql)
                .bind(&school_id)
                .bind(Sql(Status::Active))
                .fetch_all(state.db.pool())
                .await?;
            tokio::task::spawn_blocking(move || write(&mut rows.into_iter().map(Ok)))
                .await
                .map_err(Error::internal)?
        }
    }
}

/// The student database: no passwords, no parent codes.
fn students_csv(rows: &[(String, CredRow)]) -> Result<Vec<u8>> {
    let table = rows.iter().map(|(class, row)| {
        [
            class.clone(),
            row.given_name.clone(),
            row.family_name.clone(),
            row.username.clone(),
            row.email.clone().unwrap_or_default(),
            match password_state(row.password_set_by) {
                classkeys_protocol::credentials::PasswordState::NotSet => "not set".to_owned(),
                classkeys_protocol::credentials::PasswordState::SetByTeacher => {
                    "teacher".to_owned()
                }
                classkeys_protocol::credentials::PasswordState::SetByLearner => {
                    "learner".to_owned()
                }
            },
            if row.must_change_password != 0 {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
        ]
    });
    classkeys_domain::access_codes::table_to_csv(
        &[
            "Class",
            "Given name",
            "Family name",
            "Username",
            "Email",
            "Password set by",
            "Must change password",
        ],
        table,
    )
    .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_address_ignores_a_trailing_slash() {
        assert_eq!(
            sign_in_url("https://keys.example.org/", "demo"),
            "https://keys.example.org/s/demo/sign-in"
        );
    }
}
