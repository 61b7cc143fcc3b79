//! `GET /api/v1/instructions`: the parents' "how to sign in" sheet for one learner or a
//! class, one page each, naming the learner and their username — never a password (that is
//! on the login card, which is audited). The sentences are the school pages' own
//! (`pages::ParentsSheet`), so the printed sheet and the web page say the same.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use classkeys_cards::Paper;
use classkeys_domain::downloads;
use classkeys_domain::policy::Action;
use classkeys_protocol::roster::InstructionsQuery;
use classkeys_protocol::{ErrorBody, ErrorCode, paths};

use crate::access::{self, LearnerColumns};
use crate::auth::Authenticated;
use crate::credentials::sign_in_url;
use crate::error::{Error, Result};
use crate::http::ApiQuery;
use crate::pages::ParentsSheet;
use crate::state::AppState;
use crate::stored::{Sql, Status};

/// The most pages one request draws: a large class, not a school.
const MAX_PAGES: usize = 200;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::INSTRUCTIONS, get(instructions_pdf))
}

#[derive(sqlx::FromRow)]
struct Named {
    given_name: String,
    family_name: String,
    username: String,
}

impl LearnerColumns for Named {
    const COLUMNS: &'static str = "l.given_name, l.family_name, l.username";
}

/// The parents' sheet for a learner or a class, as a PDF.
#[utoipa::path(get, path = paths::INSTRUCTIONS, tag = "credentials",
    security(("bearer" = [])),
    params(InstructionsQuery),
    responses(
        (status = 200, content_type = "application/pdf", body = Vec<u8>, description = "One page per learner, with their username"),
        (status = 400, body = ErrorBody, description = "Neither or both of class and learner, an unknown paper size, or too many learners"),
        (status = 404, body = ErrorBody, description = "A class or learner the caller may not see"),
    ))]
pub(crate) async fn instructions_pdf(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<InstructionsQuery>,
) -> Result<Response> {
    let paper = Paper::parse(query.paper.as_deref().unwrap_or("a4"))
        .map_err(|e| Error::new(ErrorCode::InvalidInput, e.to_string()).with_field("paper"))?;
    let mut conn = state.db.pool().acquire().await?;
    let (learners, stem) = match (query.class_id, query.learner_id) {
        (Some(class_id), None) => {
            let class =
                access::class(&mut conn, &auth.actor, class_id, Action::CodesExport).await?;
            let learners: Vec<Named> = sqlx::query_as(
                "SELECT l.given_name, l.family_name, l.username FROM enrollment e
                 JOIN learner l ON l.id = e.learner_id
                 WHERE e.class_id = $1 AND l.status = $2 ORDER BY l.sort_key, l.id LIMIT $3",
            )
            .bind(&class.id)
            .bind(Sql(Status::Active))
            .bind(i64::try_from(MAX_PAGES + 1).unwrap_or(i64::MAX))
            .fetch_all(&mut *conn)
            .await?;
            (learners, class.name)
        }
        (None, Some(learner_id)) => {
            let learner: Named =
                access::learner(&mut conn, &auth.actor, learner_id, Action::CodesView).await?;
            let stem = learner.username.clone();
            (vec![learner], stem)
        }
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "name a class or a learner, not both",
            ));
        }
    };
    if learners.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "this class has no active learners to print instructions for",
        ));
    }
    if learners.len() > MAX_PAGES {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("print at most {MAX_PAGES} learners' instructions at a time"),
        ));
    }
    drop(conn);
    let sheet = ParentsSheet::new(
        &auth.me.school_name,
        sign_in_url(&state.settings.public_url, &auth.me.school_slug),
    );
    let pages: Vec<Option<(String, String)>> = learners
        .into_iter()
        .map(|l| Some((format!("{} {}", l.given_name, l.family_name), l.username)))
        .collect();
    // Drawing takes a few milliseconds of CPU a page: off the async workers.
    let pdf = tokio::task::spawn_blocking(move || sheet.render_for(&pages, paper))
        .await
        .map_err(Error::internal)?
        .map_err(|e| Error::internal(anyhow::anyhow!("the instructions: {e}")))?;
    let name = downloads::sign_in_instructions(&stem);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                downloads::content_disposition(&name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        pdf,
    )
        .into_response())
}
