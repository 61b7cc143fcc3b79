//! `/api/v1/staff`: the school's staff list, for lead teachers assigning classes.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use classkeys_domain::policy::Action;
use classkeys_protocol::roster::StaffRecord;
use classkeys_protocol::{ErrorBody, paths};

use crate::access;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::http::ApiJson;
use crate::records;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::STAFF, get(staff_list))
}

/// The school's staff (lead teachers only).
#[utoipa::path(get, path = paths::STAFF, tag = "staff",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<StaffRecord>, description = "Staff, by username"),
        (status = 403, body = ErrorBody, description = "Only lead teachers see the staff list"),
    ))]
pub(crate) async fn staff_list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<ApiJson<Vec<StaffRecord>>> {
    access::school(&auth.actor, Action::StaffView, "staff")?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(ApiJson(records::staff(&mut conn, &auth.actor, None).await?))
}
