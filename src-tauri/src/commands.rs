//! The commands the UI invokes, one short adapter each over [`classkeys_app::App`].
//!
//! Names follow `noun_verb`; arguments arrive in snake_case as the UI sends them. Every
//! command is also listed in `command_names.rs` (the app manifest, via `build.rs`) and
//! granted to the main window in `capabilities/main-window.json`: a command missing from
//! either cannot be called at all. The tests below hold the three lists and the window's
//! security settings together.
//! Errors cross unchanged as `{code, message}` ([`AppError`]).

use std::sync::Arc;

use classkeys_app::imports::ImportView;
use classkeys_app::{
    App, AppError, AuditLog, ClassEdit, ClassResetMode, CodesView, ConflictChoice, DiagnosisView,
    LearnerEdit, LearnerPage, NewLearnerInput, PendingConflict, PreviewLine, Recipients,
    RejectedChange, SavedFile, StyleChoice, SyncStatus,
};
use classkeys_cards::Paper;
use classkeys_domain::downloads;
use classkeys_domain::generator::PasswordStyle;
use classkeys_domain::ids::{ClassId, ImportId, LearnerId, OperationId, StaffId};
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::auth::Me;
use classkeys_protocol::credentials::{AccessCodes, PasswordSource, SchoolExportKind};
use classkeys_protocol::diagnosis::{ResetLinkSent, Unlocked};
use classkeys_protocol::imports::{ImportApplied, ImportQuery};
use classkeys_protocol::messages::{MessageReport, MessageStatus, NewMessage};
use classkeys_protocol::roster::{
    ClassRecord, DuplicateList, EmailMoved, LearnerRecord, StaffRecord,
};
use serde::Serialize;
use tauri::State;

use crate::save_dialog;
use crate::shell::Settings;

type Result<T> = std::result::Result<T, AppError>;
type AppState<'a> = State<'a, Arc<App>>;

/// Registers every command below with Tauri.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_info,
        session_resume,
        session_sign_in,
        session_sign_out,
        class_list,
        class_learners,
        class_create,
        class_update,
        class_assign_teacher,
        class_unassign_teacher,
        learner_get,
        learner_search,
        learner_create,
        learner_update,
        learner_set_active,
        learner_enrol,
        learner_unenrol,
        learner_move,
        staff_list,
        sync_now,
        sync_status,
        conflict_list,
        conflict_resolve,
        rejected_list,
        rejected_dismiss,
        password_styles,
        password_generate,
        learner_password_set,
        class_passwords_preview,
        class_passwords_reset,
        class_access_codes,
        learner_access_codes,
        learner_parent_code_rotate,
        class_access_codes_export,
        school_export,
        class_login_cards,
        audit_list,
        learner_diagnosis,
        learner_unlock,
        learner_reset_link,
        learner_email_move,
        learner_duplicates,
        message_recipients,
        message_send,
        message_status,
        instructions_save,
        import_preview,
        import_apply,
    ]
}

/// What the sign-in screen needs to know before anyone signs in.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    /// The app's version.
    version: &'static str,
    /// The server address to suggest.
    server_hint: Option<String>,
    /// Why sessions cannot be kept on this computer, if they cannot.
    credential_store_problem: Option<AppError>,
}

#[tauri::command(rename_all = "snake_case")]
fn app_info(settings: State<'_, Settings>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        server_hint: settings.server_hint.clone(),
        credential_store_problem: settings.credential_store_problem.clone(),
    }
}

#[tauri::command(rename_all = "snake_case")]
async fn session_resume(app: AppState<'_>) -> Result<Option<Me>> {
    app.resume().await
}

#[tauri::command(rename_all = "snake_case")]
async fn session_sign_in(
    app: AppState<'_>,
    server: String,
    school: Option<String>,
    username: String,
    password: String,
) -> Result<Me> {
    let password = Sensitive::new(password);
    app.sign_in(&server, school.as_deref(), &username, &password)
        .await
}

#[tauri::command(rename_all = "snake_case")]
async fn session_sign_out(app: AppState<'_>) -> Result<()> {
    app.sign_out().await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_list(app: AppState<'_>) -> Result<Vec<ClassRecord>> {
    app.classes().await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_learners(
    app: AppState<'_>,
    class_id: Option<ClassId>,
    offset: u32,
    limit: u32,
) -> Result<LearnerPage> {
    app.class_learners(class_id, offset, limit).await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_create(
    app: AppState<'_>,
    name: String,
    year_group: Option<String>,
) -> Result<ClassRecord> {
    app.class_create(&name, year_group.as_deref()).await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_assign_teacher(
    app: AppState<'_>,
    class_id: ClassId,
    staff_id: StaffId,
) -> Result<ClassRecord> {
    app.class_assign_teacher(class_id, staff_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_unassign_teacher(
    app: AppState<'_>,
    class_id: ClassId,
    staff_id: StaffId,
) -> Result<ClassRecord> {
    app.class_unassign_teacher(class_id, staff_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_update(
    app: AppState<'_>,
    class_id: ClassId,
    edit: ClassEdit,
) -> Result<ClassRecord> {
    app.class_update(class_id, edit).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_get(app: AppState<'_>, learner_id: LearnerId) -> Result<LearnerRecord> {
    app.learner(learner_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_search(
    app: AppState<'_>,
    query: String,
    limit: u32,
) -> Result<Vec<LearnerRecord>> {
    app.search(&query, limit).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_create(app: AppState<'_>, input: NewLearnerInput) -> Result<LearnerRecord> {
    app.learner_create(input).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_update(
    app: AppState<'_>,
    learner_id: LearnerId,
    edit: LearnerEdit,
) -> Result<LearnerRecord> {
    app.learner_update(learner_id, edit).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_set_active(
    app: AppState<'_>,
    learner_id: LearnerId,
    active: bool,
) -> Result<LearnerRecord> {
    app.learner_set_active(learner_id, active).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_enrol(
    app: AppState<'_>,
    learner_id: LearnerId,
    class_id: ClassId,
) -> Result<LearnerRecord> {
    app.learner_enrol(learner_id, class_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_unenrol(
    app: AppState<'_>,
    learner_id: LearnerId,
    class_id: ClassId,
) -> Result<LearnerRecord> {
    app.learner_unenrol(learner_id, class_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_move(
    app: AppState<'_>,
    learner_id: LearnerId,
    from: ClassId,
    to: ClassId,
) -> Result<LearnerRecord> {
    app.learner_move(learner_id, from, to).await
}

#[tauri::command(rename_all = "snake_case")]
async fn staff_list(app: AppState<'_>) -> Result<Vec<StaffRecord>> {
    app.staff().await
}

#[tauri::command(rename_all = "snake_case")]
async fn sync_now(app: AppState<'_>) -> Result<SyncStatus> {
    app.sync_now().await
}

#[tauri::command(rename_all = "snake_case")]
async fn sync_status(app: AppState<'_>) -> Result<SyncStatus> {
    app.status().await
}

#[tauri::command(rename_all = "snake_case")]
async fn conflict_list(app: AppState<'_>) -> Result<Vec<PendingConflict>> {
    app.conflicts().await
}

#[tauri::command(rename_all = "snake_case")]
async fn conflict_resolve(
    app: AppState<'_>,
    op_id: OperationId,
    choice: ConflictChoice,
) -> Result<SyncStatus> {
    app.resolve_conflict(op_id, choice).await
}

#[tauri::command(rename_all = "snake_case")]
async fn rejected_list(app: AppState<'_>) -> Result<Vec<RejectedChange>> {
    app.rejected().await
}

#[tauri::command(rename_all = "snake_case")]
async fn rejected_dismiss(app: AppState<'_>, op_id: OperationId) -> Result<SyncStatus> {
    app.rejected_dismiss(op_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn password_styles(app: AppState<'_>, class_id: Option<ClassId>) -> Result<Vec<StyleChoice>> {
    app.password_styles(class_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn password_generate(app: AppState<'_>, style: PasswordStyle) -> Result<String> {
    app.password_generate(style).map(|p| p.expose().clone())
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_password_set(
    app: AppState<'_>,
    learner_id: LearnerId,
    password: String,
    source: PasswordSource,
    must_change: bool,
) -> Result<AccessCodes> {
    app.learner_password_set(learner_id, Sensitive::new(password), source, must_change)
        .await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_passwords_preview(
    app: AppState<'_>,
    class_id: ClassId,
    mode: ClassResetMode,
    style: PasswordStyle,
) -> Result<Vec<PreviewLine>> {
    app.class_reset_preview(class_id, mode, style).await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_passwords_reset(
    app: AppState<'_>,
    class_id: ClassId,
    mode: ClassResetMode,
    preview: Vec<PreviewLine>,
    source: PasswordSource,
    must_change: bool,
) -> Result<AccessCodes> {
    app.class_reset_apply(class_id, mode, preview, source, must_change)
        .await
}

#[tauri::command(rename_all = "snake_case")]
async fn class_access_codes(
    app: AppState<'_>,
    class_id: ClassId,
    reveal: bool,
) -> Result<CodesView> {
    app.class_access_codes(class_id, reveal).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_access_codes(
    app: AppState<'_>,
    learner_id: LearnerId,
    reveal: bool,
) -> Result<CodesView> {
    app.learner_access_codes(learner_id, reveal).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_parent_code_rotate(
    app: AppState<'_>,
    learner_id: LearnerId,
) -> Result<AccessCodes> {
    app.parent_code_rotate(learner_id).await
}

/// Downloads: the file is chosen in the native save dialog, on the Rust side, so the web
/// page never names a path to write. `None`: the teacher cancelled the dialog.
#[tauri::command(rename_all = "snake_case")]
async fn class_access_codes_export(
    app: AppState<'_>,
    window: tauri::Window,
    settings: State<'_, Settings>,
    class_id: ClassId,
) -> Result<Option<SavedFile>> {
    let class = app.class(class_id).await?;
    let name = downloads::class_access_codes(&class.name);
    let Some(path) = save_dialog::choose(&window, &settings, &name, "CSV", "csv").await else {
        return Ok(None);
    };
    app.class_codes_export(class_id, &path).await.map(Some)
}

#[tauri::command(rename_all = "snake_case")]
async fn school_export(
    app: AppState<'_>,
    window: tauri::Window,
    settings: State<'_, Settings>,
    kind: SchoolExportKind,
    password: String,
) -> Result<Option<SavedFile>> {
    let name = app.school_export_file_name(kind)?;
    let (filter, extension) = match kind {
        SchoolExportKind::Roster => ("OneRoster zip", "zip"),
        SchoolExportKind::AccessCodes | SchoolExportKind::Students => ("CSV", "csv"),
    };
    let Some(path) = save_dialog::choose(&window, &settings, &name, filter, extension).await else {
        return Ok(None);
    };
    app.school_export(kind, Sensitive::new(password), &path)
        .await
        .map(Some)
}

#[tauri::command(rename_all = "snake_case")]
async fn class_login_cards(
    app: AppState<'_>,
    window: tauri::Window,
    settings: State<'_, Settings>,
    class_id: ClassId,
    paper: Paper,
) -> Result<Option<SavedFile>> {
    let class = app.class(class_id).await?;
    let name = downloads::login_cards(&class.name);
    let Some(path) = save_dialog::choose(&window, &settings, &name, "PDF", "pdf").await else {
        return Ok(None);
    };
    app.class_cards(class_id, paper, &path).await.map(Some)
}

#[tauri::command(rename_all = "snake_case")]
async fn audit_list(
    app: AppState<'_>,
    before: Option<String>,
    learner_id: Option<LearnerId>,
) -> Result<AuditLog> {
    app.audit(before, learner_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_diagnosis(app: AppState<'_>, learner_id: LearnerId) -> Result<DiagnosisView> {
    app.learner_diagnosis(learner_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_unlock(app: AppState<'_>, learner_id: LearnerId) -> Result<Unlocked> {
    app.learner_unlock(learner_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_reset_link(app: AppState<'_>, learner_id: LearnerId) -> Result<ResetLinkSent> {
    app.learner_reset_link(learner_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_email_move(
    app: AppState<'_>,
    learner_id: LearnerId,
    from: LearnerId,
) -> Result<EmailMoved> {
    app.learner_email_move(learner_id, from).await
}

#[tauri::command(rename_all = "snake_case")]
async fn learner_duplicates(app: AppState<'_>) -> Result<DuplicateList> {
    app.learner_duplicates().await
}

#[tauri::command(rename_all = "snake_case")]
async fn message_recipients(
    app: AppState<'_>,
    learner_ids: Vec<LearnerId>,
    class_id: Option<ClassId>,
) -> Result<Recipients> {
    app.message_recipients(learner_ids, class_id).await
}

#[tauri::command(rename_all = "snake_case")]
async fn message_send(app: AppState<'_>, message: NewMessage) -> Result<MessageReport> {
    app.message_send(message).await
}

#[tauri::command(rename_all = "snake_case")]
async fn message_status(app: AppState<'_>, message_id: String) -> Result<MessageStatus> {
    app.message_status(&message_id).await
}

/// Parents' "how to sign in" sheets for a class or one learner, through the save dialog.
#[tauri::command(rename_all = "snake_case")]
async fn instructions_save(
    app: AppState<'_>,
    window: tauri::Window,
    settings: State<'_, Settings>,
    class_id: Option<ClassId>,
    learner_id: Option<LearnerId>,
    paper: Paper,
) -> Result<Option<SavedFile>> {
    let for_whom = match (class_id, learner_id) {
        (Some(class), _) => app.class(class).await?.name,
        (None, Some(learner)) => app.learner(learner).await?.username,
        (None, None) => String::new(),
    };
    let name = downloads::sign_in_instructions(&for_whom);
    let Some(path) = save_dialog::choose(&window, &settings, &name, "PDF", "pdf").await else {
        return Ok(None);
    };
    app.instructions_save(class_id, learner_id, paper, &path)
        .await
        .map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::command_names::COMMANDS;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn the_window_is_granted_exactly_the_apps_own_commands_and_nothing_of_tauri_or_plugins() {
        let capability = json(include_str!("../capabilities/main-window.json"));
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
        let granted: Vec<&str> = capability["permissions"]
            .as_array()
            .expect("a list of permissions")
            .iter()
            .map(|p| p.as_str().expect("plain permission names, no scopes"))
            .collect();
        let expected: Vec<String> = COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        assert_eq!(granted, expected);
        assert!(
            granted.iter().all(|p| !p.contains(':')),
            "no core or plugin permission (fs, http, shell…): {granted:?}"
        );
    }

    #[test]
    fn every_command_in_the_handler_is_in_the_manifest() {
        let source = include_str!("commands.rs");
        let handler = &source[source.find("generate_handler![").expect("the handler")..];
        let handler = &handler[..handler.find(']').expect("its end")];
        let registered: Vec<&str> = handler
            .lines()
            .skip(1)
            .map(|l| l.trim().trim_end_matches(','))
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(registered, COMMANDS);
    }

    #[test]
    fn the_window_runs_under_a_strict_content_security_policy_with_frozen_prototypes() {
        let config = json(include_str!("../tauri.conf.json"));
        let security = &config["app"]["security"];
        assert_eq!(security["freezePrototype"], Value::Bool(true));
        let csp = security["csp"].as_object().expect("a CSP, never null");
        assert_eq!(csp["default-src"], "'none'");
        assert_eq!(csp["script-src"], "'self'");
        assert_eq!(csp["object-src"], "'none'");
        for (directive, value) in csp {
            let value = value.as_str().expect("directive text");
            for loose in [
                "'unsafe-inline'",
                "'unsafe-eval'",
                "*",
                "http:",
                "https:",
                "data:",
            ] {
                assert!(
                    !value.split_whitespace().any(|v| v == loose),
                    "{directive} allows {loose}"
                );
            }
        }
        assert_eq!(
            security["capabilities"],
            serde_json::json!(["main-window"]),
            "only the capability file checked above applies"
        );
    }
}

/// A roster file chosen with the open dialog, previewed; `None` when the lead teacher
/// cancels.
#[tauri::command(rename_all = "snake_case")]
async fn import_preview(
    app: AppState<'_>,
    window: tauri::Window,
    settings: State<'_, Settings>,
    query: ImportQuery,
) -> Result<Option<ImportView>> {
    app.import_allowed()?;
    let Some(path) = save_dialog::open(&window, &settings, "Roster files", &["zip", "csv"]).await
    else {
        return Ok(None);
    };
    app.import_preview(&path, query).await.map(Some)
}

#[tauri::command(rename_all = "snake_case")]
async fn import_apply(
    app: AppState<'_>,
    import_id: ImportId,
    confirm: bool,
) -> Result<ImportApplied> {
    app.import_apply(import_id, confirm).await
}
