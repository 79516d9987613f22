//! Every metric orgadmin exports, registered in one place, and the Prometheus text they render
//! as (`GET /metrics`).
//!
//! Each server owns one [`Metrics`]: an explicit registry, not a process-wide recorder, so two
//! servers in one process (the test suites start many) count apart. The store's part,
//! [`StoreMetrics`], is made with it and handed to the store when it opens
//! (`StoreOptions::metrics`); the store keeps the handles it records through (a cache's
//! counters, the transaction histogram) and never renders anything.
//!
//! Recording is cheap on purpose: a label set is a few `&'static str` and a status code (a route
//! template is interned once, [`route`]), found in its family under a read lock, and a counter
//! is one atomic add; a histogram takes one short lock. Nothing is allocated per request once a
//! series exists. What is read rather than counted (a pool's connections) is sampled at scrape
//! time ([`Metrics::render`]).
//!
//! To add a metric: a field in [`HttpMetrics`] or [`StoreMetrics`] (or a new part, for a new
//! feature), registered in [`Metrics::new`] under an `orgadmin_…` name with its help text, and
//! a named method that records it. Label values come from fixed sets (route templates, cache
//! names, outcomes), never from request input.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of what [`Metrics::render`] writes: the Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The route label of a request no route matched: never the raw path, which a client chooses
/// (one series per path would be unbounded).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Request latencies: the server answers most requests in well under a millisecond, so the
/// buckets start at 100 µs; the store's 2 s deadline bounds the slow end.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// Waits for a pooled connection and write transactions: the same range, from 50 µs.
const DATABASE_BUCKETS: [f64; 14] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 2.0,
];
/// Operations in one committed group (SQLite group commit).
const GROUP_SIZE_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// A route template as a label value, interned: the set of templates is the route table's,
/// fixed at build, so each is leaked once per process and every later request finds it under a
/// read lock without allocating.
pub fn route(template: &str) -> &'static str {
    static ROUTES: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(Default::default);
    if let Some(known) = routes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(template)
    {
        return known;
    }
    let mut routes = routes.write().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = routes.get(template) {
        return known;
    }
    let interned: &'static str = Box::leak(template.into());
    routes.insert(interned);
    interned
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolStateLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn database_histogram() -> Histogram {
    Histogram::new(DATABASE_BUCKETS)
}

/// What the HTTP layer records: every request by route template, method and status, its
/// latency, and the rate limiter's refusals.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    rate_limited: Family<RouteLabels, Counter>,
}

impl HttpMetrics {
    fn new() -> Self {
        Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            rate_limited: Family::default(),
        }
    }

    /// A request answered: `route` is its template ([`route`]) or [`UNMATCHED_ROUTE`], `method`
    /// one of a fixed set (the server maps any other to `other`).
    pub fn request(&self, method: &'static str, route: &'static str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    /// A request the per-key rate limit refused (429), on the route `route`.
    pub fn rate_limit_refused(&self, method: &'static str, route: &'static str) {
        self.rate_limited
            .get_or_create(&RouteLabels { method, route })
            .inc();
    }
}

/// A cache's hit and miss counters, resolved once when the cache is made, so a lookup costs
/// one atomic add.
#[derive(Clone, Debug, Default)]
pub struct CacheCounters {
    hits: Counter,
    misses: Counter,
}

impl CacheCounters {
    pub fn hit(&self) {
        self.hits.inc();
    }

    pub fn miss(&self) {
        self.misses.inc();
    }
}

/// How a write transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxOutcome {
    /// Its `COMMIT` succeeded.
    Committed,
    /// Rolled back: refused by a rule, failed, or dropped midway.
    RolledBack,
}

impl TxOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Committed => "committed",
            Self::RolledBack => "rolled_back",
        }
    }
}

/// What the store records: waits for the write connection, write transaction durations, cache
/// hits and misses by cache, and (SQLite group commit) the size of each committed group and how
/// long an operation waited in one. A store opened without a server (`init`, `org key`, tests)
/// gets its own, which nothing renders.
#[derive(Clone)]
pub struct StoreMetrics {
    write_acquire: Histogram,
    transactions: HistogramFamily<OutcomeLabels>,
    cache_hits: Family<CacheLabels, Counter>,
    cache_misses: Family<CacheLabels, Counter>,
    group_commit_size: Histogram,
    group_commit_wait: Histogram,
}

impl Default for StoreMetrics {
    fn default() -> Self {
        Self {
            write_acquire: database_histogram(),
            transactions: Family::new_with_constructor(database_histogram),
            cache_hits: Family::default(),
            cache_misses: Family::default(),
            group_commit_size: Histogram::new(GROUP_SIZE_BUCKETS),
            group_commit_wait: Histogram::new(DATABASE_BUCKETS),
        }
    }
}

impl fmt::Debug for StoreMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreMetrics").finish_non_exhaustive()
    }
}

impl StoreMetrics {
    /// The counters of the cache named `cache` (`auth`, `users`, …): made once, with the cache.
    pub fn cache(&self, cache: &'static str) -> CacheCounters {
        let labels = CacheLabels { cache };
        CacheCounters {
            hits: self.cache_hits.get_or_create_owned(&labels),
            misses: self.cache_misses.get_or_create_owned(&labels),
        }
    }

    /// A write transaction was handed its connection (of the pool writes go through: SQLite's
    /// one writer, PostgreSQL's shared pool) after waiting `waited`.
    pub fn write_connection_acquired(&self, waited: Duration) {
        self.write_acquire.observe(waited.as_secs_f64());
    }

    /// A write transaction ended `outcome` after `took` (from its `BEGIN`).
    pub fn transaction(&self, outcome: TxOutcome, took: Duration) {
        self.transactions
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .observe(took.as_secs_f64());
    }

    /// A group of `operations` write operations committed together (SQLite group commit).
    pub fn group_commit_size(&self, operations: usize) {
        self.group_commit_size.observe(operations as f64);
    }

    /// An operation waited `waited` in its group before the group's `COMMIT` answered.
    pub fn group_commit_wait_seconds(&self, waited: Duration) {
        self.group_commit_wait.observe(waited.as_secs_f64());
    }
}

/// Times one write transaction: made before its connection is asked for, told when it has it
/// (the wait) and when its `COMMIT` succeeded; dropped after it began without that, it records
/// a rollback.
pub struct TxTimer {
    metrics: Arc<StoreMetrics>,
    since: Instant,
    /// A connection was handed out: there is a transaction to record.
    began: bool,
    committed: bool,
}

impl TxTimer {
    pub fn start(metrics: &Arc<StoreMetrics>) -> Self {
        Self {
            metrics: metrics.clone(),
            since: Instant::now(),
            began: false,
            committed: false,
        }
    }

    /// The connection was handed out: the wait is recorded and the transaction's time starts.
    pub fn acquired(&mut self) {
        let now = Instant::now();
        self.metrics
            .write_connection_acquired(now.duration_since(self.since));
        self.since = now;
        self.began = true;
    }

    /// `COMMIT` succeeded.
    pub fn committed(&mut self) {
        self.committed = true;
    }
}

impl Drop for TxTimer {
    fn drop(&mut self) {
        if !self.began {
            // No connection, so no transaction (the pool timed out: a 503).
            return;
        }
        let outcome = if self.committed {
            TxOutcome::Committed
        } else {
            TxOutcome::RolledBack
        };
        self.metrics.transaction(outcome, self.since.elapsed());
    }
}

/// A connection pool as sampled at scrape time: `size` connections open, `idle` of them idle,
/// at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSample {
    pub pool: &'static str,
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// A server's metrics: the registry every metric is registered in, and the parts that record.
pub struct Metrics {
    registry: Registry,
    http: HttpMetrics,
    store: Arc<StoreMetrics>,
    pool_connections: Family<PoolStateLabels, Gauge>,
    pool_max: Family<PoolLabels, Gauge>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered once. Counters are named here without `_total`, which the
    /// encoder appends.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http = HttpMetrics::new();
        let store = StoreMetrics::default();
        let pool_connections = Family::<PoolStateLabels, Gauge>::default();
        let pool_max = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "orgadmin_http_requests",
            "HTTP requests answered, by route template, method and status",
            http.requests.clone(),
        );
        registry.register(
            "orgadmin_http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route template and method",
            http.latency.clone(),
        );
        registry.register(
            "orgadmin_rate_limit_refusals",
            "Requests refused by the per-key rate limit (429), by route template and method",
            http.rate_limited.clone(),
        );
        registry.register(
            "orgadmin_db_pool_connections",
            "Database connections of each pool, idle or in use, sampled at scrape time",
            pool_connections.clone(),
        );
        registry.register(
            "orgadmin_db_pool_max_connections",
            "The most connections each pool opens",
            pool_max.clone(),
        );
        registry.register(
            "orgadmin_db_write_acquire_duration_seconds",
            "Time a write transaction waited for a connection of the pool writes go through",
            store.write_acquire.clone(),
        );
        registry.register(
            "orgadmin_db_transaction_duration_seconds",
            "Write transactions from BEGIN to COMMIT or rollback, by outcome",
            store.transactions.clone(),
        );
        registry.register(
            "orgadmin_cache_hits",
            "Lookups answered from memory, by cache",
            store.cache_hits.clone(),
        );
        registry.register(
            "orgadmin_cache_misses",
            "Lookups that went to the database, by cache",
            store.cache_misses.clone(),
        );
        registry.register(
            "orgadmin_group_commit_size",
            "Write operations committed together in one group (SQLite)",
            store.group_commit_size.clone(),
        );
        registry.register(
            "orgadmin_group_commit_wait_seconds",
            "Time a write operation waited in its group until the group's COMMIT answered (SQLite)",
            store.group_commit_wait.clone(),
        );
        Self {
            registry,
            http,
            store: Arc::new(store),
            pool_connections,
            pool_max,
        }
    }

    pub fn http(&self) -> &HttpMetrics {
        &self.http
    }

    /// The store's part, for `StoreOptions::metrics`.
    pub fn store(&self) -> Arc<StoreMetrics> {
        self.store.clone()
    }

    /// Everything, in the Prometheus text format, with the pools as `pools` says they are now.
    pub fn render(&self, pools: &[PoolSample]) -> String {
        for sample in pools {
            let in_use = sample.size.saturating_sub(sample.idle);
            for (state, value) in [("idle", sample.idle), ("in_use", in_use)] {
                self.pool_connections
                    .get_or_create(&PoolStateLabels {
                        pool: sample.pool,
                        state,
                    })
                    .set(i64::from(value));
            }
            self.pool_max
                .get_or_create(&PoolLabels { pool: sample.pool })
                .set(i64::from(sample.max));
        }
        let mut text = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail; a metric that failed to encode would be a bug in
        // the encoder, and a partial scrape is still the best answer.
        let _ = prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_template_is_interned_once() {
        let first = route("/v1/organization/users/{user_id}");
        let again = route(&String::from("/v1/organization/users/{user_id}"));
        assert!(std::ptr::eq(first, again));
    }

    #[test]
    fn renders_requests_caches_pools_and_group_commits() {
        let metrics = Metrics::new();
        metrics.http().request(
            "GET",
            route("/v1/organization/users"),
            200,
            Duration::from_micros(300),
        );
        let users = metrics.store().cache("users");
        users.hit();
        users.miss();
        users.hit();
        metrics.store().group_commit_size(3);
        let text = metrics.render(&[PoolSample {
            pool: "writer",
            size: 1,
            idle: 0,
            max: 1,
        }]);
        for line in [
            r#"orgadmin_http_requests_total{method="GET",route="/v1/organization/users",status="200"} 1"#,
            r#"orgadmin_http_request_duration_seconds_bucket{method="GET",route="/v1/organization/users",le="0.0005"} 1"#,
            r#"orgadmin_http_request_duration_seconds_bucket{method="GET",route="/v1/organization/users",le="0.00025"} 0"#,
            r#"orgadmin_cache_hits_total{cache="users"} 2"#,
            r#"orgadmin_cache_misses_total{cache="users"} 1"#,
            r#"orgadmin_db_pool_connections{pool="writer",state="in_use"} 1"#,
            r#"orgadmin_group_commit_size_count 1"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
