//! Per-key rate limiting (`ServeConfig::rate_limit`): a token bucket per admin key, 429 in the
//! error envelope with `Retry-After`, nothing done for a refused request, off by default, and
//! the `official` imitation's silent per-endpoint limits. Refill is driven by the server's clock,
//! which the tests move instead of sleeping.

use orgadmin_server::{RateLimit, OFFICIAL_RATE_LIMIT_PER_MINUTE};
use orgadmin_testkit::{owner_key, str_of, TestServer};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// One answer with its headers.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Raw {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("{}{path}", server.base_url));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    Raw {
        status,
        headers,
        body,
    }
}

async fn get(server: &TestServer, key: &str, path: &str) -> Raw {
    send(server, Method::GET, path, Some(key), None).await
}

async fn post(server: &TestServer, key: &str, path: &str, body: Value) -> Raw {
    send(server, Method::POST, path, Some(key), Some(body)).await
}

/// A server limiting each key to `per_minute` requests a minute, `burst` at once.
async fn limited(per_minute: u32, burst: u32) -> TestServer {
    TestServer::start_with(|c| c.rate_limit = RateLimit::PerKey { per_minute, burst }).await
}

#[track_caller]
fn assert_allowed(answer: &Raw, limit: u32, remaining: u64) {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.header("x-ratelimit-limit-requests"),
        Some(limit.to_string().as_str())
    );
    assert_eq!(
        answer.header("x-ratelimit-remaining-requests"),
        Some(remaining.to_string().as_str())
    );
    assert!(answer.header("x-ratelimit-reset-requests").is_some());
    assert!(answer.header("retry-after").is_none());
}

/// A 429 in the error envelope, in either mode: type `requests`, code `rate_limit_exceeded`, no
/// param, a request ID. Returns the message.
#[track_caller]
fn assert_rate_limited(answer: &Raw) -> &str {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.body
    );
    let error = &answer.body["error"];
    assert_eq!(error["type"], "requests", "{}", answer.body);
    assert_eq!(error["code"], "rate_limit_exceeded", "{}", answer.body);
    assert_eq!(error["param"], Value::Null, "{}", answer.body);
    assert!(answer.header("x-request-id").is_some());
    error["message"]
        .as_str()
        .unwrap_or_else(|| panic!("a message: {}", answer.body))
}

/// A 429 with the rate-limit headers, and `Retry-After` in whole seconds (returned).
#[track_caller]
fn assert_limited(answer: &Raw, limit: u32) -> u64 {
    let message = assert_rate_limited(answer);
    assert!(message.contains("Rate limit"), "{message}");
    assert_eq!(
        answer.header("x-ratelimit-limit-requests"),
        Some(limit.to_string().as_str())
    );
    assert_eq!(answer.header("x-ratelimit-remaining-requests"), Some("0"));
    assert!(answer.header("x-ratelimit-reset-requests").is_some());
    let retry_after: u64 = answer
        .header("retry-after")
        .expect("Retry-After on a 429")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(retry_after >= 1);
    retry_after
}

#[tokio::test]
async fn a_key_gets_its_burst_then_429_with_retry_after() {
    // One request a minute, three at once: real time passing during the test refills nothing.
    let server = limited(1, 3).await;
    let key = owner_key();
    for remaining in [2, 1, 0] {
        let answer = get(&server, &key, "/v1/organization/users").await;
        assert_allowed(&answer, 1, remaining);
    }
    let refused = get(&server, &key, "/v1/organization/users").await;
    let retry_after = assert_limited(&refused, 1);
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    // Any route counts against the same key.
    assert_limited(&get(&server, &key, "/v1/organization/projects").await, 1);
    // Requests without a valid key are not limited by this: they fail authentication.
    let anonymous = send(&server, Method::GET, "/v1/organization/users", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let wrong = get(&server, "sk-admin-wrong", "/v1/organization/users").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.header("x-ratelimit-limit-requests").is_none());
    // Unauthenticated routes are not limited.
    assert_eq!(
        send(&server, Method::GET, "/healthz", None, None)
            .await
            .status,
        StatusCode::OK
    );
    server.stop().await;
}

#[tokio::test]
async fn two_keys_have_separate_buckets() {
    let server = limited(1, 3).await;
    let owner = owner_key();
    let (_, other) = server.create_key(json!({"name": "second"})).await; // owner: 1 used
    assert_allowed(&get(&server, &owner, "/v1/organization/users").await, 1, 1);
    assert_allowed(&get(&server, &owner, "/v1/organization/users").await, 1, 0);
    assert_limited(&get(&server, &owner, "/v1/organization/users").await, 1);
    // The other key of the same owner still has all of its own.
    for remaining in [2, 1, 0] {
        assert_allowed(
            &get(&server, &other, "/v1/organization/users").await,
            1,
            remaining,
        );
    }
    assert_limited(&get(&server, &other, "/v1/organization/users").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn the_bucket_refills_as_time_passes() {
    let server = limited(1, 2).await;
    let key = owner_key();
    for remaining in [1, 0] {
        assert_allowed(
            &get(&server, &key, "/v1/organization/users").await,
            1,
            remaining,
        );
    }
    assert_limited(&get(&server, &key, "/v1/organization/users").await, 1);
    // One minute refills one request…
    server.clock.advance(60);
    assert_allowed(&get(&server, &key, "/v1/organization/users").await, 1, 0);
    assert_limited(&get(&server, &key, "/v1/organization/users").await, 1);
    // …and a long pause refills no more than the burst.
    server.clock.advance(3600);
    for remaining in [1, 0] {
        assert_allowed(
            &get(&server, &key, "/v1/organization/users").await,
            1,
            remaining,
        );
    }
    assert_limited(&get(&server, &key, "/v1/organization/users").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_refused_write_writes_nothing() {
    let server = limited(1, 2).await;
    let owner = owner_key();
    let (_, auditor) = server.create_key(json!({"name": "auditor"})).await; // owner: 1 used
    let created = post(
        &server,
        &owner,
        "/v1/organization/projects",
        json!({"name": "allowed"}),
    )
    .await;
    assert_allowed(&created, 1, 0);
    let refused = post(
        &server,
        &owner,
        "/v1/organization/projects",
        json!({"name": "refused"}),
    )
    .await;
    assert_limited(&refused, 1);
    // Read with the other key (its own bucket): one project created, one audit event for it.
    let projects = get(&server, &auditor, "/v1/organization/projects?limit=100").await;
    assert_eq!(projects.status, StatusCode::OK);
    let names: Vec<String> = projects.body["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| str_of(&p["name"]))
        .collect();
    assert!(names.contains(&"allowed".to_owned()), "{names:?}");
    assert!(!names.contains(&"refused".to_owned()), "{names:?}");
    let events = get(
        &server,
        &auditor,
        "/v1/organization/audit_logs?event_types[]=project.created",
    )
    .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.body);
    assert_eq!(
        events.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        events.body
    );
    server.stop().await;
}

#[tokio::test]
async fn off_by_default() {
    let server = TestServer::start().await;
    for _ in 0..300 {
        let answer = get(&server, &owner_key(), "/v1/organization/users").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert!(answer.header("x-ratelimit-limit-requests").is_none());
    }
    server.stop().await;
}

/// A 429 as the real Admin API answers it: the envelope and no rate-limit headers at all.
#[track_caller]
fn assert_limited_silently(answer: &Raw, endpoint: &str) {
    let message = assert_rate_limited(answer);
    assert!(
        message.contains(&format!(
            "on {endpoint} per min (RPM): Limit {OFFICIAL_RATE_LIMIT_PER_MINUTE}, Requested 1."
        )),
        "{message}"
    );
    assert_silent(answer);
}

#[track_caller]
fn assert_silent(answer: &Raw) {
    for name in [
        "retry-after",
        "x-ratelimit-limit-requests",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
    ] {
        assert!(answer.header(name).is_none(), "{name} on {}", answer.body);
    }
}

#[tokio::test]
async fn official_mode_limits_each_endpoint_of_a_key_to_its_burst_and_sends_no_rate_limit_headers()
{
    let server = TestServer::start_with(|c| c.rate_limit = RateLimit::Official).await;
    let key = owner_key();
    let per_minute = OFFICIAL_RATE_LIMIT_PER_MINUTE;
    assert_eq!(
        per_minute, 7,
        "what users have observed of the real Admin API"
    );
    let mut ids = Vec::new();
    for i in 0..per_minute {
        let answer = post(
            &server,
            &key,
            "/v1/organization/projects",
            json!({"name": format!("p{i}")}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_silent(&answer);
        ids.push(str_of(&answer.body["id"]));
    }
    let refused = post(
        &server,
        &key,
        "/v1/organization/projects",
        json!({"name": "one too many"}),
    )
    .await;
    assert_limited_silently(&refused, "POST /v1/organization/projects");
    // Listing counts apart from creating; retrieving a project, whatever its ID, counts against
    // the one bucket of its route template.
    let projects = get(&server, &key, "/v1/organization/projects").await;
    assert_eq!(projects.status, StatusCode::OK, "{}", projects.body);
    assert_silent(&projects);
    for id in &ids {
        let one = get(&server, &key, &format!("/v1/organization/projects/{id}")).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    }
    assert_limited_silently(
        &get(
            &server,
            &key,
            &format!("/v1/organization/projects/{}", ids[0]),
        )
        .await,
        "GET /v1/organization/projects/{project_id}",
    );
    // Another key of the organization has buckets of its own.
    let (_, other) = server.create_key(json!({"name": "second"})).await;
    let answer = post(
        &server,
        &other,
        "/v1/organization/projects",
        json!({"name": "from the other key"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // A refused write wrote nothing; time refills the bucket at 7 a minute.
    let names = get(&server, &other, "/v1/organization/projects?limit=100").await;
    assert!(
        !names.body.to_string().contains("one too many"),
        "{}",
        names.body
    );
    server.clock.advance(9);
    let later = post(
        &server,
        &key,
        "/v1/organization/projects",
        json!({"name": "after a pause"}),
    )
    .await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
    assert_limited_silently(
        &post(
            &server,
            &key,
            "/v1/organization/projects",
            json!({"name": "again too soon"}),
        )
        .await,
        "POST /v1/organization/projects",
    );
    server.stop().await;
}
