//! Liveness, readiness and the server's own OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use orgadmin_core::DomainError;
use serde_json::json;

use crate::state::AppState;

/// How long `/readyz` waits for the database.
const READINESS_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "orgadmin", security(()), responses((status = 200, description = "The process is up.")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The database is reachable, and no storage outage is in progress.
///
/// While an outage is in progress (the disk full, I/O errors, the database not answering) the
/// answer is 503 and says which, since when, and whether reads still work; it ends when a write
/// commits again, which this check tries itself (a one-row probe write).
#[utoipa::path(get, path = "/readyz", tag = "orgadmin", security(()),
    responses((status = 200, description = "Ready."), (status = 503, description = "The database is unreachable, or refuses writes; the body says why.")))]
pub async fn readyz(State(s): State<AppState>) -> Response {
    // Answer within a probe's usual one-second timeout, even while the database is unreachable.
    let ping = tokio::time::timeout(READINESS_TIMEOUT, s.store.ping()).await;
    if let Ok(Ok(())) = ping {
        return Json(json!({ "status": "ready", "database": "ok" })).into_response();
    }
    // Only when not ready: do reads still work?
    let reads = tokio::time::timeout(READINESS_TIMEOUT, s.store.ping_reads()).await;
    let reads_ok = matches!(reads, Ok(Ok(())));
    let outage = s.store.current_outage();
    let (condition, reason, since) = match (&outage, &ping) {
        (Some(o), _) => (o.kind.as_str(), o.kind.message().to_owned(), Some(o.since)),
        (None, Ok(Err(DomainError::Unavailable(o)))) => {
            (o.kind.as_str(), o.kind.message().to_owned(), None)
        }
        (None, Ok(Err(e))) => ("error", e.to_string(), None),
        (None, Ok(Ok(())) | Err(_)) => (
            "unreachable",
            format!(
                "The database did not answer within {} ms.",
                READINESS_TIMEOUT.as_millis()
            ),
            None,
        ),
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({
            "status": "unavailable",
            "database": condition,
            "reason": reason,
            "since": since,
            "reads": if reads_ok { "ok" } else { "failing" },
            "writes": "refused",
        })),
    )
        .into_response()
}

/// This server's OpenAPI document, generated from its handlers.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "orgadmin", security(()), responses((status = 200, description = "OpenAPI 3.1 document.")))]
pub async fn openapi(
    Extension(document): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Json<utoipa::openapi::OpenApi> {
    // The document `routes::router` built from the route table along with the routes (not a doc
    // comment: that would become the operation's description).
    Json(utoipa::openapi::OpenApi::clone(&document))
}
