//! Liveness, readiness and the server's own OpenAPI document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use utoipa::OpenApi;

use crate::state::AppState;

/// How long `/readyz` waits for the database.
const READINESS_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "orgadmin", security(()), responses((status = 200, description = "The process is up.")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The database is reachable.
#[utoipa::path(get, path = "/readyz", tag = "orgadmin", security(()),
    responses((status = 200, description = "Ready."), (status = 503, description = "The database is unreachable.")))]
pub async fn readyz(State(s): State<AppState>) -> Response {
    // Answer within a probe's usual one-second timeout, even while the database is unreachable.
    let ping = tokio::time::timeout(READINESS_TIMEOUT, s.store.ping()).await;
    match ping {
        Ok(Ok(())) => Json(json!({ "status": "ready", "database": "ok" })).into_response(),
        outcome => {
            let reason = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => format!("no answer within {} ms", READINESS_TIMEOUT.as_millis()),
            };
            tracing::warn!(error.reason = %reason, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}

/// This server's OpenAPI document, generated from its handlers.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "orgadmin", security(()), responses((status = 200, description = "OpenAPI 3.1 document.")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(super::ApiDoc::openapi())
}
