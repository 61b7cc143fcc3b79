// The commands the window may call: one list, read by `build.rs` (which generates an
// `allow-…` permission for each through the app manifest) and by the tests that check the
// capability grants exactly these. Plain Rust without `//!` so that both can `include!` it.

/// Every command of the app, by name.
pub const COMMANDS: &[&str] = &[
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
];
