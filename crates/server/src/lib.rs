//! The ClassKeys school server: the authority for a school's accounts.
//!
//! It holds the classes, learners and staff of one or more schools, decides who may see and
//! change what (through the one policy in `classkeys-domain`), hashes passwords, issues
//! sessions, and serves the sync API that the desktop app's offline replica pulls from and
//! pushes to. It runs on a SQLite file (the embedded default) or on PostgreSQL.
//!
//! Where each rule lives:
//!
//! - [`app`] builds the router from an [`AppState`]; [`serve`] runs it (HTTP/1 with
//!   header-read and idle timeouts and a connection cap) and purges what has expired.
//! - One module per resource holds its routes, each a thin adapter over the rules:
//!   [`classes`], [`learners`], [`staff`], [`sync`], [`credentials`] (its parts: teacher
//!   resets, access and parent codes, CSV exports, a school's key and rules), [`audit`]
//!   (the log, whose entries are made by staff, a learner or the server, and who may read
//!   it).
//! - "May this caller touch this?" is answered in [`access`], the one place that loads a
//!   class or learner and puts it to the permission policy of `classkeys-domain`; changes
//!   call it inside their write transaction.
//! - Every roster change goes through [`ops`], in one transaction (its parts: class and
//!   learner operations, the namespace of usernames and emails, the stamps sync reads);
//!   reads that respect visibility live in [`records`].
//! - Signing in: [`auth`] (staff sessions, the session reader), [`learner_auth`] (learners'
//!   sign-in, sign-out and own password, "must change" enforced), [`throttle`] (limits per
//!   account, address and school; known devices), [`password`] (argon2id, the bounded
//!   hashing queue with staff's reserved share).
//! - Getting back in: [`login_help`] (the helper's questions, answered in the background
//!   the same way whatever was asked; reset and sign-in links used), [`links`] (the
//!   links' tokens: newest-only resets, one atomic use), [`wording`] (every sentence of
//!   the mail, in one place for translation).
//! - Teachers' messages: [`messages`] (to learners or a class, each copy with the
//!   recipient's own sign-in link in place of `[loginLink]`).
//! - Mail: [`mail_queue`] (messages written to the database first, sealed, then delivered
//!   in the background with retries), [`mailer`] (SMTP or the `.eml` outbox folder).
//! - Secrets, time and chance: [`keys`] (master and school keys), [`clock`] (the injected
//!   clock everything that expires reads), [`randomness`] (the injected source of tokens,
//!   nonces, codes and generated passwords), [`db`] (SQLite or PostgreSQL, files created private),
//!   [`bulk`] (whole-school reads straight from the SQLite file).
//! - Errors: [`error`] holds the one error type the rules return (a refusal for people, or
//!   an unexpected failure that is logged and never shown), apart from HTTP; [`http`]
//!   answers it as the one JSON error body with its status and `Retry-After`.
//! - Stored values: [`stored`] spells every status, role, kind and reason column, and reads
//!   them back or fails; nothing else compares them as strings.
//! - The school's pages: [`pages`] (server-rendered HTML for learners: finding the school,
//!   signing in, "My account", the login helper, the links from mail; every sentence in
//!   [`pages::words`]).
//! - The edges: [`openapi`] (the published API description, from the route templates the
//!   client shares), [`state`] (settings and shared handles).
//! - IT admin commands: [`admin`] and [`demo`].

pub mod access;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod classes;
pub mod clock;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod diagnosis;
pub mod duplicates;
pub mod error;
pub mod http;
pub mod imports;
pub mod instructions;
pub mod keys;
pub mod learner_auth;
pub mod learners;
pub mod links;
pub mod login_help;
pub mod mail_queue;
pub mod mailer;
pub mod messages;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod password;
pub mod randomness;
pub mod records;
pub mod roster_export;
pub mod serve;
pub mod staff;
pub mod state;
pub mod stored;
pub mod sync;
pub mod throttle;
pub mod wording;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use classkeys_protocol::{ErrorCode, paths};
use tower_http::trace::TraceLayer;

pub use crate::db::{Backend, Db};
pub use crate::error::Error;
pub use crate::state::{AppState, Settings};

/// The largest request body accepted. A push of the maximum 500 operations fits easily.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole HTTP application, ready to serve or to call directly in tests.
pub fn app(state: AppState) -> Router {
    let timeout = state.settings.request_timeout;
    Router::new()
        .route(paths::HEALTHZ, get(healthz))
        .route(paths::OPENAPI, get(openapi::document))
        .merge(auth::router())
        .merge(classes::router())
        .merge(learners::router())
        .merge(diagnosis::router())
        .merge(duplicates::router())
        .merge(instructions::router())
        .merge(imports::router())
        .merge(credentials::router())
        .merge(learner_auth::router())
        .merge(audit::router())
        .merge(staff::router())
        .merge(sync::router())
        .merge(messages::router())
        .merge(pages::router(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(timeout, deadline))
        .layer(
            // Spans name the method and path only: query strings can hold learners' names.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
        .with_state(state)
}

/// Liveness: the server runs and its database answers.
#[utoipa::path(get, path = paths::HEALTHZ, tag = "health",
    responses(
        (status = 200, description = "Up", body = String),
        (status = 500, body = classkeys_protocol::ErrorBody, description = "The database does not answer"),
    ))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<&'static str, Error> {
    sqlx::query("SELECT 1").execute(state.db.pool()).await?;
    Ok("ok")
}

async fn not_found() -> Error {
    Error::new(ErrorCode::NotFound, "there is no such API endpoint")
}

async fn method_not_allowed() -> Response {
    let mut response = Error::new(
        ErrorCode::BadRequest,
        "this endpoint does not accept that HTTP method",
    )
    .into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// Answers `timeout` for requests that take too long, instead of holding the client forever.
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::new(
            ErrorCode::Timeout,
            "the server took too long to answer; try again",
        )
        .into_response(),
    }
}
