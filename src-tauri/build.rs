//! Builds the Tauri context and the app manifest: every command the UI may call is listed
//! here, so each gets an `allow-…` permission and nothing else is callable unless a
//! capability grants it (DESIGN §7).

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "session_resume",
        "session_sign_in",
        "session_sign_out",
        "class_list",
        "class_learners",
        "class_create",
        "class_update",
        "class_assign_teacher",
        "class_unassign_teacher",
        "learner_get",
        "learner_search",
        "learner_create",
        "learner_update",
        "learner_set_active",
        "learner_enrol",
        "learner_unenrol",
        "learner_move",
        "staff_list",
        "sync_now",
        "sync_status",
        "conflict_list",
        "conflict_resolve",
        "rejected_list",
        "rejected_dismiss",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("the Tauri build step failed");
}
