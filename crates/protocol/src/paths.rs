//! API paths, shared so that client and server cannot disagree on a URL.
//!
//! A path with parameters is a [`Route`]: its template (`{id}` for each parameter) is what
//! the server routes and what its OpenAPI document lists, and the client fills the same
//! template, with as many values as it has parameters (checked when compiling).

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
/// Messages to learners (POST).
pub const MESSAGES: &str = "/api/v1/messages";
/// Sync: changes since a cursor.
pub const SYNC_CHANGES: &str = "/api/v1/sync/changes";
/// Sync: push a batch of operations.
pub const SYNC_PUSH: &str = "/api/v1/sync/push";

/// A path template with `N` parameters, each written `{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<const N: usize>(&'static str);

impl<const N: usize> Route<N> {
    /// A route; refused at compile time unless the template has exactly `N` parameters.
    pub const fn new(template: &'static str) -> Self {
        let bytes = template.as_bytes();
        let mut params = 0;
        let mut open = false;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => {
                    assert!(!open, "a route parameter is not closed");
                    open = true;
                }
                b'}' => {
                    assert!(open, "a route parameter is not opened");
                    open = false;
                    params += 1;
                }
                _ => {}
            }
            i += 1;
        }
        assert!(!open, "a route parameter is not closed");
        assert!(params == N, "the template's parameters and N differ");
        Self(template)
    }

    /// The template, as routed and documented.
    pub const fn template(self) -> &'static str {
        self.0
    }

    /// The path with each parameter replaced, in order, by a value.
    pub fn with(self, values: [&dyn std::fmt::Display; N]) -> String {
        let mut out = String::with_capacity(self.0.len() + N * 36);
        let mut values = values.into_iter();
        let mut rest = self.0;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = start + rest[start..].find('}').expect("checked by Route::new");
            if let Some(value) = values.next() {
                out.push_str(&value.to_string());
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// One class.
pub const CLASS: Route<1> = Route::new("/api/v1/classes/{id}");
/// A teacher of a class: assign or unassign.
pub const CLASS_TEACHER: Route<2> = Route::new("/api/v1/classes/{id}/teachers/{staff_id}");
/// Reset a class's passwords.
pub const CLASS_PASSWORDS: Route<1> = Route::new("/api/v1/classes/{id}/passwords");
/// A class's access codes.
pub const CLASS_ACCESS_CODES: Route<1> = Route::new("/api/v1/classes/{id}/access-codes");
/// A class's access codes as a CSV download.
pub const CLASS_ACCESS_CODES_EXPORT: Route<1> =
    Route::new("/api/v1/classes/{id}/access-codes/export");
/// One learner.
pub const LEARNER: Route<1> = Route::new("/api/v1/learners/{id}");
/// Enrol a learner in a class.
pub const LEARNER_ENROLMENTS: Route<1> = Route::new("/api/v1/learners/{id}/enrolments");
/// One enrolment of a learner: unenrol.
pub const LEARNER_ENROLMENT: Route<2> = Route::new("/api/v1/learners/{id}/enrolments/{class_id}");
/// Move a learner from one class to another.
pub const LEARNER_MOVE: Route<1> = Route::new("/api/v1/learners/{id}/move");
/// Deactivate a learner.
pub const LEARNER_DEACTIVATE: Route<1> = Route::new("/api/v1/learners/{id}/deactivate");
/// Reactivate a learner.
pub const LEARNER_REACTIVATE: Route<1> = Route::new("/api/v1/learners/{id}/reactivate");
/// A teacher sets a learner's password.
pub const LEARNER_PASSWORD_RESET: Route<1> = Route::new("/api/v1/learners/{id}/password");
/// A learner's access codes.
pub const LEARNER_ACCESS_CODES: Route<1> = Route::new("/api/v1/learners/{id}/access-codes");
/// Replace a learner's parent access code.
pub const LEARNER_PARENT_CODE: Route<1> = Route::new("/api/v1/learners/{id}/parent-code");
/// "How to sign in" for parents, one page per learner with their username (PDF).
pub const INSTRUCTIONS: &str = "/api/v1/instructions";
/// What importing a roster file would do (nothing changes).
pub const IMPORT_PREVIEW: &str = "/api/v1/imports/preview";
/// Apply a previewed import.
pub const IMPORT_APPLY: Route<1> = Route::new("/api/v1/imports/{id}/apply");
/// Where each copy of a message is.
pub const MESSAGE: Route<1> = Route::new("/api/v1/messages/{id}");
/// Move another learner's email address to this learner.
pub const LEARNER_EMAIL_MOVE: Route<1> = Route::new("/api/v1/learners/{id}/email/move");
/// Learners who may be one person with two accounts.
pub const LEARNER_DUPLICATES: &str = "/api/v1/learners/duplicates";
/// "Why can't they sign in?" for one learner.
pub const LEARNER_DIAGNOSIS: Route<1> = Route::new("/api/v1/learners/{id}/diagnosis");
/// Lift a learner's wait after wrong passwords.
pub const LEARNER_UNLOCK: Route<1> = Route::new("/api/v1/learners/{id}/unlock");
/// Mail a learner a link to choose a new password.
pub const LEARNER_RESET_LINK: Route<1> = Route::new("/api/v1/learners/{id}/reset-link");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_filled_in_the_order_of_its_parameters() {
        assert_eq!(CLASS.with([&"c1"]), "/api/v1/classes/c1");
        assert_eq!(
            CLASS_TEACHER.with([&"c1", &42]),
            "/api/v1/classes/c1/teachers/42"
        );
        assert_eq!(
            LEARNER_ENROLMENT.with([&"l", &"c"]),
            "/api/v1/learners/l/enrolments/c"
        );
        assert_eq!(
            CLASS_ACCESS_CODES_EXPORT.template(),
            "/api/v1/classes/{id}/access-codes/export"
        );
    }
}
