//! API paths, shared so that client and server cannot disagree on a URL.

/// Liveness and database check.
pub const HEALTHZ: &str = "/healthz";
/// The OpenAPI 3 document.
pub const OPENAPI: &str = "/api/openapi.json";
/// Staff sign-in.
pub const SIGN_IN: &str = "/api/v1/auth/sign-in";
/// Staff sign-out (revokes the presented session).
pub const SIGN_OUT: &str = "/api/v1/auth/sign-out";
/// The signed-in staff member.
pub const ME: &str = "/api/v1/auth/me";
/// Classes: list and create.
pub const CLASSES: &str = "/api/v1/classes";
/// Learners: search and create.
pub const LEARNERS: &str = "/api/v1/learners";
/// The school's staff (lead teachers).
pub const STAFF: &str = "/api/v1/staff";
/// Learner sign-in.
pub const LEARNER_SIGN_IN: &str = "/api/v1/learner/sign-in";
/// The signed-in learner.
pub const LEARNER_ME: &str = "/api/v1/learner/me";
/// Learner sign-out (revokes the presented session).
pub const LEARNER_SIGN_OUT: &str = "/api/v1/learner/sign-out";
/// The signed-in learner changes their own password.
pub const LEARNER_PASSWORD: &str = "/api/v1/learner/password";
/// Whole-school exports (lead teachers).
pub const SCHOOL_EXPORT: &str = "/api/v1/school/export";
/// The audit log.
pub const AUDIT: &str = "/api/v1/audit";
/// Sync: changes since a cursor.
pub const SYNC_CHANGES: &str = "/api/v1/sync/changes";
/// Sync: push a batch of operations.
pub const SYNC_PUSH: &str = "/api/v1/sync/push";

/// `/api/v1/classes/{id}`
pub fn class(id: impl std::fmt::Display) -> String {
    format!("{CLASSES}/{id}")
}

/// `/api/v1/classes/{id}/teachers/{staff_id}`
pub fn class_teacher(id: impl std::fmt::Display, staff: impl std::fmt::Display) -> String {
    format!("{CLASSES}/{id}/teachers/{staff}")
}

/// `/api/v1/learners/{id}`
pub fn learner(id: impl std::fmt::Display) -> String {
    format!("{LEARNERS}/{id}")
}

/// `/api/v1/classes/{id}/{action}` for `passwords`, `access-codes`, `access-codes/export`.
pub fn class_action(id: impl std::fmt::Display, action: &str) -> String {
    format!("{CLASSES}/{id}/{action}")
}

/// `/api/v1/learners/{id}/{action}` for `enrolments`, `move`, `deactivate`, `reactivate`,
/// `password`, `access-codes`, `parent-code`.
pub fn learner_action(id: impl std::fmt::Display, action: &str) -> String {
    format!("{LEARNERS}/{id}/{action}")
}

/// `/api/v1/learners/{id}/enrolments/{class_id}`
pub fn learner_enrolment(id: impl std::fmt::Display, class: impl std::fmt::Display) -> String {
    format!("{LEARNERS}/{id}/enrolments/{class}")
}
