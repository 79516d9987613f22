//! `GET /metrics`: scraped over HTTP and read with a real parser of the Prometheus text format
//! (`openmetrics-parser`'s, a grammar of the format), before and after requests, so every check
//! is of a difference this test caused. Each server has its own registry, so other suites'
//! servers never count here.

use std::collections::HashMap;

use openmetrics_parser::{prometheus::parse_prometheus, HistogramValue, PrometheusValue};
use orgadmin_server::{MetricsEndpoint, RateLimit};
use orgadmin_testkit::{ok, TestServer};
use reqwest::StatusCode;
use serde_json::json;

/// One series of a scrape: its family, its labels and its value.
#[derive(Debug)]
struct Series {
    family: String,
    labels: HashMap<String, String>,
    value: Reading,
}

#[derive(Debug)]
enum Reading {
    /// A counter or a gauge.
    Single(f64),
    Histogram(HistogramValue),
}

type Scrape = Vec<Series>;

/// One scrape of `base/metrics`, without a key, parsed.
async fn scrape(base: &str) -> Scrape {
    let response = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("the scrape is answered");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(
        content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = response.text().await.expect("the scrape's body");
    let exposition =
        parse_prometheus(&text).unwrap_or_else(|e| panic!("not Prometheus text ({e:?}):\n{text}"));
    let mut series = Vec::new();
    for (name, family) in exposition.families {
        for sample in family.iter_samples() {
            let labels = sample
                .get_labelset()
                .expect("a parsed sample has its family's labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let value = match &sample.value {
                PrometheusValue::Counter(c) => Reading::Single(c.value.as_f64()),
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => {
                    Reading::Single(n.as_f64())
                }
                PrometheusValue::Histogram(h) => Reading::Histogram(h.clone()),
                PrometheusValue::Summary(_) => panic!("{name}: orgadmin exports no summaries"),
            };
            series.push(Series {
                family: name.clone(),
                labels,
                value,
            });
        }
    }
    series
}

/// The series of `family` whose labels include every pair of `labels`.
fn samples<'a>(scrape: &'a Scrape, family: &str, labels: &[(&str, &str)]) -> Vec<&'a Series> {
    scrape
        .iter()
        .filter(|s| {
            s.family == family
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

/// The one series of `family` with `labels`, if it exists.
fn one<'a>(scrape: &'a Scrape, family: &str, labels: &[(&str, &str)]) -> Option<&'a Series> {
    let found = samples(scrape, family, labels);
    assert!(found.len() <= 1, "{family} {labels:?}: {found:?}");
    found.into_iter().next()
}

/// The value of the counter or gauge `family` with `labels` (0 when the series does not exist
/// yet).
fn value(scrape: &Scrape, family: &str, labels: &[(&str, &str)]) -> f64 {
    match one(scrape, family, labels).map(|s| &s.value) {
        None => 0.0,
        Some(Reading::Single(v)) => *v,
        Some(other) => panic!("{family} {labels:?} is not a single value: {other:?}"),
    }
}

/// The number of observations of the histogram `family` with `labels` (0 when absent).
fn observations(scrape: &Scrape, family: &str, labels: &[(&str, &str)]) -> u64 {
    match one(scrape, family, labels).map(|s| &s.value) {
        None => 0,
        Some(Reading::Histogram(h)) => h.count.expect("a histogram has its count"),
        Some(other) => panic!("{family} {labels:?} is not a histogram: {other:?}"),
    }
}

const USER_ROUTE: &str = "/v1/organization/users/{user_id}";

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status_with_latencies() {
    let server = TestServer::start().await;
    let owner = server.owner_id();
    let ok_labels = [("method", "GET"), ("route", USER_ROUTE), ("status", "200")];
    let missing_labels = [("method", "GET"), ("route", USER_ROUTE), ("status", "404")];
    let latency = [("method", "GET"), ("route", USER_ROUTE)];
    let before = scrape(&server.base_url).await;

    for _ in 0..3 {
        ok(server.get(&format!("/v1/organization/users/{owner}")).await);
    }
    for _ in 0..2 {
        let (status, _) = server.get("/v1/organization/users/user-nobody").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = server.get("/v1/no/such/route-raw-path").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let after = scrape(&server.base_url).await;
    let requests = "orgadmin_http_requests_total";
    assert_eq!(
        value(&after, requests, &ok_labels) - value(&before, requests, &ok_labels),
        3.0
    );
    assert_eq!(
        value(&after, requests, &missing_labels) - value(&before, requests, &missing_labels),
        2.0
    );
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert_eq!(
        value(&after, requests, &unmatched) - value(&before, requests, &unmatched),
        1.0
    );
    // Labels are route templates, never paths a client chose.
    for series in &after {
        for label in series.labels.values() {
            assert!(
                !label.contains(&owner) && !label.contains("raw-path") && !label.contains("nobody"),
                "{} carries a raw path: {label}",
                series.family
            );
        }
    }

    // The latency histogram: its buckets, and a count that went up by the five requests.
    let histogram = "orgadmin_http_request_duration_seconds";
    let Some(Reading::Histogram(latencies)) = one(&after, histogram, &latency).map(|s| &s.value)
    else {
        panic!("{histogram} {latency:?} is a histogram")
    };
    assert!(latencies.buckets.len() > 5, "{latencies:?}");
    assert!(
        latencies
            .buckets
            .windows(2)
            .all(|w| w[0].count.as_f64() <= w[1].count.as_f64()
                && w[0].upper_bound < w[1].upper_bound)
    );
    assert!(latencies.sum.as_ref().is_some_and(|s| s.as_f64() > 0.0));
    assert_eq!(
        observations(&after, histogram, &latency) - observations(&before, histogram, &latency),
        5
    );

    server.stop().await;
}

#[tokio::test]
async fn a_repeated_cached_read_moves_the_cache_counters() {
    let server = TestServer::start().await;
    let owner = server.owner_id();
    let path = format!("/v1/organization/users/{owner}");
    let hits = "orgadmin_cache_hits_total";
    let misses = "orgadmin_cache_misses_total";
    let users = [("cache", "users")];
    let auth = [("cache", "auth")];
    // A write first, so the member is read afresh at a new version.
    ok(server
        .post("/v1/organization/projects", json!({"name": "Counted"}))
        .await);
    let before = scrape(&server.base_url).await;

    ok(server.get(&path).await);
    let first = scrape(&server.base_url).await;
    assert_eq!(
        value(&first, misses, &users) - value(&before, misses, &users),
        1.0,
        "the first read goes to the database"
    );
    assert_eq!(value(&first, hits, &users), value(&before, hits, &users));

    ok(server.get(&path).await);
    ok(server.get(&path).await);
    let again = scrape(&server.base_url).await;
    assert_eq!(
        value(&again, hits, &users) - value(&first, hits, &users),
        2.0,
        "repeated reads are answered from memory"
    );
    assert_eq!(value(&again, misses, &users), value(&first, misses, &users));
    // The same key each time: its authentication is remembered too.
    assert!(value(&again, hits, &auth) - value(&first, hits, &auth) >= 2.0);

    // Every cache is listed, with both counters, from the start.
    for cache in [
        "auth",
        "users",
        "member_pages",
        "directory_pages",
        "project_users",
        "role_pages",
        "project_permissions",
    ] {
        assert_eq!(
            samples(&again, hits, &[("cache", cache)]).len(),
            1,
            "{cache}"
        );
        assert_eq!(
            samples(&again, misses, &[("cache", cache)]).len(),
            1,
            "{cache}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn pools_and_write_transactions_are_reported() {
    let server = TestServer::start().await;
    let before = scrape(&server.base_url).await;
    ok(server
        .post("/v1/organization/projects", json!({"name": "Timed"}))
        .await);
    let after = scrape(&server.base_url).await;

    let committed = [("outcome", "committed")];
    let transactions = "orgadmin_db_transaction_duration_seconds";
    assert!(
        observations(&after, transactions, &committed)
            > observations(&before, transactions, &committed)
    );
    let acquired = "orgadmin_db_write_acquire_duration_seconds";
    assert!(observations(&after, acquired, &[]) > observations(&before, acquired, &[]));

    let pools: Vec<&str> = samples(&after, "orgadmin_db_pool_max_connections", &[])
        .into_iter()
        .filter_map(|s| s.labels.get("pool").map(String::as_str))
        .collect();
    assert!(!pools.is_empty());
    for pool in pools {
        let max = value(
            &after,
            "orgadmin_db_pool_max_connections",
            &[("pool", pool)],
        );
        let idle = value(
            &after,
            "orgadmin_db_pool_connections",
            &[("pool", pool), ("state", "idle")],
        );
        let in_use = value(
            &after,
            "orgadmin_db_pool_connections",
            &[("pool", pool), ("state", "in_use")],
        );
        assert!(
            max >= 1.0 && idle + in_use <= max,
            "{pool}: {idle} + {in_use} of {max}"
        );
    }
    // The group commit's histograms are registered, whether or not a group committed yet.
    assert_eq!(samples(&after, "orgadmin_group_commit_size", &[]).len(), 1);
    assert_eq!(
        samples(&after, "orgadmin_group_commit_wait_seconds", &[]).len(),
        1
    );
    server.stop().await;
}

#[tokio::test]
async fn rate_limit_refusals_are_counted_by_route() {
    let server = TestServer::start_with(|config| {
        config.rate_limit = RateLimit::PerKey {
            per_minute: 1,
            burst: 2,
        };
    })
    .await;
    let mut refused = 0;
    for _ in 0..5 {
        let (status, _) = server.get("/v1/organization/projects").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert_eq!(refused, 3, "a burst of two, then refusals");
    let scraped = scrape(&server.base_url).await;
    let labels = [("method", "GET"), ("route", "/v1/organization/projects")];
    assert_eq!(
        value(&scraped, "orgadmin_rate_limit_refusals_total", &labels),
        3.0
    );
    let status = [
        ("method", "GET"),
        ("route", "/v1/organization/projects"),
        ("status", "429"),
    ];
    assert_eq!(
        value(&scraped, "orgadmin_http_requests_total", &status),
        3.0
    );
    server.stop().await;
}

#[tokio::test]
async fn metrics_listen_moves_the_endpoint_to_its_own_listener() {
    let server = TestServer::start_with(|config| {
        config.metrics = MetricsEndpoint::Listen("127.0.0.1:0".to_owned());
    })
    .await;
    let metrics_url = server.metrics_url.clone().expect("a listener of its own");
    assert_ne!(metrics_url, server.base_url);

    // The main listener no longer serves it: a 404 in the envelope, as for any unknown route.
    let (status, body) = server
        .send(reqwest::Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");

    ok(server.get("/v1/organization/projects").await);
    let scraped = scrape(&metrics_url).await;
    let labels = [
        ("method", "GET"),
        ("route", "/v1/organization/projects"),
        ("status", "200"),
    ];
    assert_eq!(
        value(&scraped, "orgadmin_http_requests_total", &labels),
        1.0
    );
    // The main listener's refusal of /metrics is counted as an unmatched route.
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert_eq!(
        value(&scraped, "orgadmin_http_requests_total", &unmatched),
        1.0
    );

    // The metrics listener serves nothing else.
    let other = reqwest::get(format!("{metrics_url}/v1/organization/projects"))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let server = TestServer::start_with(|config| config.metrics = MetricsEndpoint::Off).await;
    assert!(server.metrics_url.is_none());
    let (status, body) = server
        .send(reqwest::Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    // The API is unchanged.
    ok(server.get("/v1/organization/projects").await);
    server.stop().await;
}

#[test]
fn metrics_listen_reads_off_and_addresses() {
    assert_eq!(MetricsEndpoint::parse("off"), MetricsEndpoint::Off);
    assert_eq!(MetricsEndpoint::parse("OFF"), MetricsEndpoint::Off);
    assert_eq!(
        MetricsEndpoint::parse("127.0.0.1:9464"),
        MetricsEndpoint::Listen("127.0.0.1:9464".to_owned())
    );
}
