//! Building and running the application: store, first-start bootstrap, router, middleware,
//! listener, graceful shutdown.

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::HttpBody;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{CONTENT_LENGTH, EXPECT};
use axum::http::{HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use orgadmin_core::catalogue::ModelCatalogue;
use orgadmin_core::fixture::Fixture;
use orgadmin_core::scim::Provisioning;
use orgadmin_core::store::{Consistency, UserIds};
use orgadmin_core::{Clock, SystemClock};
use orgadmin_metrics::Metrics;
use orgadmin_store::StoreOptions;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::bootstrap::{self, InitialKey};
use crate::error::ApiError;
use crate::extract::{body_limit, MAX_BODY_BYTES};
use crate::metrics::{self, MetricsEndpoint};
use crate::operator::journal::{self, Journal, RequestId};
use crate::operator::key::OperatorSecret;
use crate::rate_limit::{self, RateLimit, RateLimiter};
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
    /// Per-key rate limiting (`--rate-limit`); off by default.
    pub rate_limit: RateLimit,
    /// How long a client has to send a request head ([`HEADER_READ_TIMEOUT`] by default).
    pub header_read_timeout: Duration,
    /// How the store guards its calls: a 2 s deadline and the circuit breaker
    /// ([`StoreOptions::server`]); tests also arm the fault hook here.
    pub store: StoreOptions,
    /// Whether a person keeps one user ID across organizations (`--user-ids`).
    pub user_ids: UserIds,
    /// How a PostgreSQL server knows an organization's version (`--consistency`): read at every
    /// request (`strict`, the default) or remembered until another replica's change is notified.
    pub consistency: Consistency,
    /// The model catalogue (`--models`; the one shipped by default). Configuration: every
    /// replica serving one database must be given the same.
    pub models: Arc<ModelCatalogue>,
    /// The operator key (`--operator-key`, `ORGADMIN_OPERATOR_KEY`); otherwise the
    /// `operator-key` file beside a SQLite database, or a random key printed once.
    pub operator_key: Option<String>,
    /// Requests journaled per organization (`--journal-size`; 0 turns the journal off).
    pub journal_size: usize,
    /// The fixture the first start creates the organization from (`--fixture`).
    pub fixture: Option<Arc<Fixture>>,
    /// Where `/metrics` is served (`--metrics-listen`): the main listener by default.
    pub metrics: MetricsEndpoint,
    /// What SCIM provisioning makes of a person (`--scim-provisioning member|invite`).
    pub scim_provisioning: Provisioning,
}

impl ServeConfig {
    pub fn new(listen: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            listen: listen.into(),
            database_url: database_url.into(),
            owner_email: "owner@example.com".into(),
            admin_key: None,
            clock: Arc::new(SystemClock),
            rate_limit: RateLimit::Off,
            header_read_timeout: HEADER_READ_TIMEOUT,
            store: StoreOptions::server(),
            user_ids: UserIds::Global,
            consistency: Consistency::Strict,
            models: Arc::new(ModelCatalogue::builtin()),
            operator_key: None,
            journal_size: journal::DEFAULT_CAPACITY,
            fixture: None,
            metrics: MetricsEndpoint::Main,
            scim_provisioning: Provisioning::Member,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `/metrics` on a listener of its own (`--metrics-listen ADDR`), with its router.
    metrics_listener: Option<(TcpListener, Router)>,
    local_addr: SocketAddr,
    initial_key: Option<InitialKey>,
    header_read_timeout: Duration,
    store: Arc<dyn orgadmin_core::Store>,
}

impl Application {
    /// Bind the listener, open the database (running migrations), and bootstrap it if empty —
    /// in that order, so that a start that cannot listen (the address is taken) changes no
    /// database and prints or writes no key. The settings the bootstrap needs are checked before
    /// any of it. Each failure is one sentence saying what to fix.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let first_start = bootstrap::FirstStart::from_config(&config)?;
        let operator = OperatorSecret::resolve(
            config.operator_key.as_deref(),
            orgadmin_store::sqlite_file_path(&config.database_url).as_deref(),
        )?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let metrics_listener = match &config.metrics {
            MetricsEndpoint::Listen(address) => Some(
                TcpListener::bind(address)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {address} for metrics: {e}"))?,
            ),
            MetricsEndpoint::Main | MetricsEndpoint::Off => None,
        };
        let metrics = Arc::new(Metrics::new());
        let options = StoreOptions {
            user_ids: config.user_ids,
            metrics: metrics.store(),
            consistency: config.consistency,
            ..config.store.clone()
        };
        let store =
            orgadmin_store::open_with(&config.database_url, config.clock.clone(), options).await?;
        let initial_key = first_start.run(&*store, &config).await?;
        operator.hand_out()?;
        let state = AppState {
            store: store.clone(),
            clock: config.clock.clone(),
            models: config.models.clone(),
            operator: Arc::new(operator.key()),
            faults: Arc::default(),
            journal: Arc::new(Journal::new(config.journal_size, config.clock.clone())),
            metrics: metrics.clone(),
            scim_provisioning: config.scim_provisioning,
        };
        let limiter = RateLimiter::new(config.rate_limit, config.clock.clone());
        let metrics_listener =
            metrics_listener.map(|listener| (listener, metrics_router(state.clone())));
        let router = app_router(state, limiter, config.metrics == MetricsEndpoint::Main);
        Ok(Self {
            listener,
            router,
            metrics_listener,
            local_addr,
            initial_key,
            header_read_timeout: config.header_read_timeout,
            store,
        })
    }

    /// The store this server serves from. On a SQLite file it is the only store of that file
    /// (its lease, `orgadmin_store`), so code beside the server in this process (tests) works
    /// on the database through it rather than opening another.
    pub fn store(&self) -> Arc<dyn orgadmin_core::Store> {
        self.store.clone()
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served on a listener of its own (`--metrics-listen ADDR`), if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// The admin key created by the first start, when this start created it.
    pub fn initial_key(&self) -> Option<&InitialKey> {
        self.initial_key.as_ref()
    }

    /// Serve until `shutdown` resolves; requests in flight then finish before this returns.
    ///
    /// Each connection is HTTP/1.1 with a deadline for every request head
    /// ([`HEADER_READ_TIMEOUT`] unless configured), which also closes a kept-alive connection that sends nothing:
    /// a client that trickles its headers, or opens connections and stays silent, holds a
    /// connection for seconds, not forever. Bodies have a deadline of their own (`extract.rs`).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(listen.addr = %self.local_addr, "orgadmin listening");
        if let Some(address) = self.metrics_addr() {
            tracing::info!(listen.addr = %address, "metrics listening");
        }
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            // Both listeners are served by this one loop, with the same head deadline and the
            // same graceful shutdown.
            let (accepted, router) = tokio::select! {
                accepted = self.listener.accept() => (accepted, &self.router),
                (accepted, router) = accept_metrics(self.metrics_listener.as_ref()) => (accepted, router),
                () = shutdown.as_mut() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: the listener itself is fine; try again shortly.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(router.clone());
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(self.header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                // A connection ends with an error when its client goes away or is too slow:
                // nothing to report beyond a trace.
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection closed");
                }
            });
        }
        drop(self.listener);
        drop(self.metrics_listener);
        graceful.shutdown().await;
        Ok(())
    }
}

/// How long a client has to send a complete request head, counted from when the server starts
/// waiting for it (so also how long a kept-alive connection may stay silent).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The next connection on the metrics listener, if there is one (otherwise never).
async fn accept_metrics(
    metrics: Option<&(TcpListener, Router)>,
) -> (
    std::io::Result<(tokio::net::TcpStream, SocketAddr)>,
    &Router,
) {
    match metrics {
        Some((listener, router)) => (listener.accept().await, router),
        None => std::future::pending().await,
    }
}

/// `/metrics` alone, on its own listener: every other path is a 404 in the envelope.
fn metrics_router(state: AppState) -> Router {
    http_stack(
        Router::new()
            .route("/metrics", get(metrics::scrape))
            .with_state(state),
    )
}

/// The API's routes with their middleware, `/metrics` beside them when `serve_metrics` (outside
/// the route table: it is not an API route and the OpenAPI document does not describe it), and
/// the metrics layer around everything.
fn app_router(state: AppState, limiter: Option<RateLimiter>, serve_metrics: bool) -> Router {
    let counted = state.metrics.clone();
    let routes = routes::router();
    let routes = if state.journal.is_on() {
        routes.layer(middleware::from_fn_with_state(
            state.journal.clone(),
            journal::layer,
        ))
    } else {
        routes
    };
    let routes = match limiter {
        Some(limiter) => routes.layer(middleware::from_fn_with_state(
            Arc::new(limiter),
            rate_limit::layer,
        )),
        None => routes,
    };
    let routes = if serve_metrics {
        routes.route("/metrics", get(metrics::scrape))
    } else {
        routes
    };
    http_stack(routes.with_state(state))
        .layer(middleware::from_fn_with_state(counted, metrics::layer))
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

/// A body declared larger than this is not read to its end before the 413 answer.
const MAX_DRAINED_BYTES: u64 = 16 * 1024 * 1024;
/// How long the rest of a refused body is read before answering anyway.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The declared length of a body over its route's limit (`extract::body_limit`), and that
/// limit: refused before the route is called.
fn oversized_body(request: &Request) -> Option<(u64, u64)> {
    let limit = body_limit(request.method(), request.uri().path());
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&n| n > limit)
        .map(|n| (n, limit))
}

/// 413, once the body has been read to its end: answering while the client is still sending and
/// then closing the connection with its data unread makes the kernel reset the connection, and
/// the client loses the answer. A client waiting for `100 Continue` has sent nothing: it is
/// answered at once.
async fn refuse_oversized_body(request: Request, length: u64, limit: u64) -> Response {
    let request_path = &request.uri().path().to_owned();
    if length <= MAX_DRAINED_BYTES && !request.headers().contains_key(EXPECT) {
        let mut body = request.into_body();
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            while let Some(Ok(_)) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {}
        })
        .await;
    }
    if crate::scim::owns(request_path) {
        return crate::scim::too_large(limit);
    }
    ApiError::too_large_for(limit).into_response()
}

async fn unknown_route(method: Method, uri: Uri) -> Response {
    ApiError::unknown_route(method.as_str(), uri.path()).into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::method_not_allowed(method.as_str(), uri.path()).into_response()
}

/// Give every request an ID, run it in a span carrying that ID (or refuse it at once if its body
/// is declared over the limit), log its outcome, and return the ID in `x-request-id`.
async fn request_context(mut request: Request, next: Next) -> Response {
    let request_id = format!("req_{}", orgadmin_core::id::random_chars(24));
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request.id = %request_id, http.method = %method, http.path = %path, org.id = tracing::field::Empty, key.id = tracing::field::Empty);
    let started = Instant::now();
    let mut response = match oversized_body(&request) {
        Some((length, limit)) => refuse_oversized_body(request, length, limit).await,
        None => next.run(request).instrument(span.clone()).await,
    };
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status == 503 {
            // A storage outage: its cause is logged once per episode (the store's `health.rs`),
            // so each refused request is an ordinary access-log line.
            tracing::info!(
                http.status = status,
                latency.ms = elapsed_ms,
                "request refused: storage outage"
            );
        } else if status >= 500 {
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
