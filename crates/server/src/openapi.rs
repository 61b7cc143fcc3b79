//! The OpenAPI 3 document of the API, served at `/api/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    audit, auth, classes, credentials, diagnosis, duplicates, imports, instructions, learner_auth,
    learners, messages, staff, sync,
};

/// The API description, generated from the handlers and the protocol types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ClassKeys API",
        description = "Accounts, classes and learners of a school, for the ClassKeys desktop app and command line. Every error answers with the ErrorBody schema."
    ),
    paths(
        crate::healthz,
        auth::sign_in, auth::sign_out, auth::me,
        classes::class_list, classes::class_get, classes::class_create, classes::class_update,
        classes::class_delete, classes::class_assign_teacher, classes::class_unassign_teacher,
        learners::learner_search, learners::learner_get, learners::learner_create,
        learners::learner_update, learners::learner_enrol, learners::learner_unenrol,
        learners::learner_move, learners::learner_deactivate, learners::learner_reactivate,
        learners::learner_email_move, duplicates::learner_duplicates,
        diagnosis::learner_diagnosis, diagnosis::learner_unlock, diagnosis::learner_reset_link,
        staff::staff_list,
        sync::sync_pull, sync::sync_push,
        credentials::learner_password_reset, credentials::class_passwords_reset,
        credentials::class_access_codes, credentials::learner_access_codes,
        credentials::learner_parent_code_rotate, credentials::class_access_codes_export,
        credentials::school_export, instructions::instructions_pdf,
        imports::import_preview,
        imports::import_apply,
        learner_auth::learner_sign_in, learner_auth::learner_me,
        learner_auth::learner_sign_out, learner_auth::learner_password_change,
        audit::audit_list,
        messages::message_send, messages::message_status,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Staff sign-in and sessions"),
        (name = "classes", description = "Classes and their teachers"),
        (name = "learners", description = "Learners: search, create, edit, enrol, move, deactivate"),
        (name = "staff", description = "The school's staff"),
        (name = "sync", description = "Replica sync for the desktop app"),
        (name = "credentials", description = "Passwords, parent access codes, exports and the audit log"),
        (name = "messages", description = "Messages to learners, with personal sign-in links"),
        (name = "imports", description = "Importing the school's roster from its information system"),
        (name = "health", description = "Liveness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Serves the document.
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
