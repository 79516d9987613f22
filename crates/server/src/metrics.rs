//! `GET /metrics` and the layer that counts every request; the metrics themselves, and their
//! names, are `orgadmin_metrics`'s.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use orgadmin_metrics::{Metrics, PoolSample, UNMATCHED_ROUTE};

use crate::state::AppState;

/// Where `/metrics` is served (`--metrics-listen`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MetricsEndpoint {
    /// On the main listener, beside the API (the default).
    #[default]
    Main,
    /// On a listener of its own at this address; the main listener answers 404 for it.
    Listen(String),
    /// Not served anywhere (404); the server still counts, which costs next to nothing.
    Off,
}

impl MetricsEndpoint {
    /// `off`, or an address (`--metrics-listen`, `ORGADMIN_METRICS_LISTEN`).
    pub fn parse(value: &str) -> Self {
        if value.eq_ignore_ascii_case("off") {
            Self::Off
        } else {
            Self::Listen(value.to_owned())
        }
    }
}

/// Count the request by its route template (axum's `MatchedPath`: a static set, never the raw
/// path; a request no route matched is `unmatched`), method and status, and time it. Layered on
/// the router outside everything else, so refusals before the handler (a body over the limit, an
/// unknown route, a wrong method) are counted too.
pub(crate) async fn layer(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, |m| orgadmin_metrics::route(m.as_str()));
    let response = next.run(request).await;
    metrics
        .http()
        .request(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// A method as a label: one of a fixed set, so a client cannot make new series with methods of
/// its own.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The Prometheus text of every metric, with the store's pools as they are now. Unauthenticated,
/// like `/healthz`: it shows counts and timings, no organization's data or IDs.
pub(crate) async fn scrape(State(state): State<AppState>) -> Response {
    let pools: Vec<PoolSample> = state
        .store
        .pool_use()
        .into_iter()
        .map(|p| PoolSample {
            pool: p.pool,
            size: p.size,
            idle: p.idle,
            max: p.max,
        })
        .collect();
    (
        [(CONTENT_TYPE, orgadmin_metrics::CONTENT_TYPE)],
        state.metrics.render(&pools),
    )
        .into_response()
}
