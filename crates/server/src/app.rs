//! Building and running the application: store, first-start bootstrap, router, middleware,
//! listener, graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use orgadmin_core::{Clock, SystemClock};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::bootstrap::{self, InitialKey};
use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;
use crate::routes;
use crate::state::AppState;

/// Everything `orgadmin serve` needs to start.
#[derive(Clone)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port (see [`Application::port`]).
    pub listen: String,
    pub database_url: String,
    pub owner_email: String,
    /// `ORGADMIN_ADMIN_KEY`: the first admin key, if the operator chose it.
    pub admin_key: Option<String>,
    pub clock: Arc<dyn Clock>,
}

impl ServeConfig {
    pub fn new(listen: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            listen: listen.into(),
            database_url: database_url.into(),
            owner_email: "owner@example.com".into(),
            admin_key: None,
            clock: Arc::new(SystemClock),
        }
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    local_addr: SocketAddr,
    initial_key: Option<InitialKey>,
}

impl Application {
    /// Open the database (running migrations), bootstrap it if empty, and bind the listener.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let store = orgadmin_store::open(&config.database_url, config.clock.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("opening database {}", redact_url(&config.database_url)))?;
        let initial_key = bootstrap::bootstrap(&*store, &config).await?;
        let state = AppState {
            store,
            clock: config.clock.clone(),
        };
        let router = app_router(state);
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            router,
            local_addr,
            initial_key,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin key created by the first start, when this start created it.
    pub fn initial_key(&self) -> Option<&InitialKey> {
        self.initial_key.as_ref()
    }

    /// Serve until `shutdown` resolves; requests in flight then finish before this returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(listen.addr = %self.local_addr, "orgadmin listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")
    }
}

fn app_router(state: AppState) -> Router {
    http_stack(routes::router().with_state(state))
}

/// The HTTP stack every response passes through: the OpenAI-envelope fallbacks, the body limit
/// and the request context (ID, span, log line, `x-request-id`). Public so that the benchmark
/// ceiling (`examples/ceiling.rs`) measures a minimal handler on exactly this stack.
pub fn http_stack(routes: Router) -> Router {
    routes
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(request_context))
}

async fn unknown_route(method: Method, uri: Uri) -> Response {
    ApiError::unknown_route(method.as_str(), uri.path()).into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::method_not_allowed(method.as_str(), uri.path()).into_response()
}

/// Give every request an ID, run it in a span carrying that ID, log its outcome, and return the
/// ID in `x-request-id`.
async fn request_context(request: Request, next: Next) -> Response {
    let request_id = format!("req_{}", orgadmin_core::id::random_chars(24));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request.id = %request_id, http.method = %method, http.path = %path, org.id = tracing::field::Empty, key.id = tracing::field::Empty);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(
                http.status = status,
                latency.ms = elapsed_ms,
                "request failed"
            );
        } else {
            tracing::info!(
                http.status = status,
                latency.ms = elapsed_ms,
                "request handled"
            );
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// A database URL for logs: credentials removed.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}
