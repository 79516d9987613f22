//! The operator API's faults (`…/faults`) and request journal (`…/requests`): an injected answer
//! replaces the handler's in the faulted organization alone and writes nothing; the journal
//! records what each organization's keys sent, secrets redacted. Runs on the backend
//! `ORGADMIN_TEST_BACKEND` selects.

use std::time::{Duration, Instant};

use orgadmin_testkit::{assert_error, ok, str_of, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn faults(s: &TestServer) -> String {
    format!("/_orgadmin/organizations/{}/faults", s.org_id())
}

fn requests(s: &TestServer, query: &str) -> String {
    format!("/_orgadmin/organizations/{}/requests{query}", s.org_id())
}

/// A second organization on the server, and its admin key.
async fn second_organization(s: &TestServer) -> (String, String) {
    let created = ok(s
        .operator(Method::POST, "/_orgadmin/organizations", None)
        .await);
    (
        str_of(&created["organization"]["id"]),
        str_of(&created["admin_key"]["value"]),
    )
}

async fn inject(s: &TestServer, fault: Value) -> Value {
    ok(s.operator(Method::POST, &faults(s), Some(fault)).await)
}

#[tokio::test]
async fn an_injected_answer_replaces_the_handlers_and_writes_nothing() {
    let s = TestServer::start().await;
    let (_, other_key) = second_organization(&s).await;
    let fault = inject(
        &s,
        json!({"method": "post", "path": "/v1/organization/projects", "status": 503, "retry_after": 7}),
    )
    .await;
    assert_eq!(fault["object"], "organization.fault");
    assert_eq!(fault["fired"], 0);

    let refused = s
        .send_faulted(
            Method::POST,
            "/v1/organization/projects",
            Some(&json!({"name": "Never made"})),
        )
        .await;
    // An injected 503 is an answer, not a failure of the server under test.
    assert_eq!(refused.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.1["error"]["code"], "service_unavailable");
    let projects = ok(s.get("/v1/organization/projects").await);
    assert_eq!(projects["data"].as_array().unwrap().len(), 1, "{projects}");

    // Other methods, and other organizations, are untouched.
    ok(s.get("/v1/organization/projects").await);
    ok(s.post_as(
        &other_key,
        "/v1/organization/projects",
        json!({"name": "Theirs"}),
    )
    .await);

    let listed = ok(s.operator(Method::GET, &faults(&s), None).await);
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["data"][0]["id"], fault["id"]);
    assert_eq!(listed["data"][0]["fired"], 1);
    assert_eq!(listed["data"][0]["retry_after"], 7);

    let cleared = ok(s.operator(Method::DELETE, &faults(&s), None).await);
    assert_eq!(cleared["deleted"], 1);
    ok(
        s.post("/v1/organization/projects", json!({"name": "Made now"}))
            .await,
    );
    s.stop().await;
}

#[tokio::test]
async fn a_fault_fires_as_often_as_it_was_told_with_its_own_body_and_headers() {
    let s = TestServer::start().await;
    let user_route = "/v1/organization/users/{user_id}";
    inject(
        &s,
        json!({"path": user_route, "status": 429, "retry_after": 3, "times": 2,
               "body": {"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded", "param": null}}}),
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/organization/users/{}", s.base_url, s.owner_id());
    for _ in 0..2 {
        let response = client
            .get(&url)
            .bearer_auth(&s.owner_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "3");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["message"], "slow down");
    }
    // The third request goes through; the list route never matched the template.
    ok(s.get(&format!("/v1/organization/users/{}", s.owner_id()))
        .await);
    ok(s.get("/v1/organization/users").await);
    let listed = ok(s.operator(Method::GET, &faults(&s), None).await);
    assert_eq!(listed["data"][0]["fired"], 2);
    assert_eq!(listed["data"][0]["times"], 2);

    // A latency-only fault delays the request, which then answers as usual.
    ok(s.operator(Method::DELETE, &faults(&s), None).await);
    inject(
        &s,
        json!({"path": "/v1/organization/users", "latency_ms": 300}),
    )
    .await;
    let started = Instant::now();
    ok(s.get("/v1/organization/users").await);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Each default body is the Admin API's envelope for its status.
    for (status, code) in [
        (500, "internal_error"),
        (502, "bad_gateway"),
        (504, "gateway_timeout"),
    ] {
        ok(s.operator(Method::DELETE, &faults(&s), None).await);
        inject(
            &s,
            json!({"path": "/v1/organization/invites", "status": status}),
        )
        .await;
        let response = client
            .get(format!("{}/v1/organization/invites", s.base_url))
            .bearer_auth(&s.owner_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["type"], "server_error");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_fault_on_no_route_or_of_no_organization_is_refused() {
    let s = TestServer::start().await;
    for (body, param) in [
        (
            json!({"path": "/v1/organization/people/{person_id}", "status": 503}),
            "path",
        ),
        (json!({"path": "/v1/nothing", "status": 503}), "path"),
        (
            json!({"path": "/_orgadmin/organizations", "status": 503}),
            "path",
        ),
        (
            json!({"path": "/v1/organization/users", "status": 418}),
            "status",
        ),
        (
            json!({"path": "/v1/organization/users", "status": "503"}),
            "status",
        ),
        (
            json!({"path": "/v1/organization/users", "status": 503, "times": 1, "probability": 0.5}),
            "probability",
        ),
    ] {
        let got = s
            .operator(Method::POST, &faults(&s), Some(body.clone()))
            .await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{body}: {}", got.1);
        assert_eq!(got.1["error"]["param"], param, "{body}: {}", got.1);
    }
    let got = s
        .operator(
            Method::POST,
            &faults(&s),
            Some(json!({"path": "/v1/organization/users", "stauts": 503})),
        )
        .await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
    assert!(ok(s.operator(Method::GET, &faults(&s), None).await)["data"]
        .as_array()
        .unwrap()
        .is_empty());
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let got = s
            .operator(
                method.clone(),
                "/_orgadmin/organizations/org-missing/faults",
                Some(json!({"path": "/v1/organization/users", "status": 503})),
            )
            .await;
        assert_error(&got, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
        let got = s
            .operator(
                method,
                "/_orgadmin/organizations/org-missing/requests",
                None,
            )
            .await;
        if got.0 != StatusCode::METHOD_NOT_ALLOWED {
            assert_error(&got, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn the_journal_records_what_the_organizations_keys_sent_newest_first() {
    let s = TestServer::start().await;
    let (_, other_key) = second_organization(&s).await;
    let secret = format!("sk-admin-{}", "s".repeat(40));
    let project = ok(s
        .post("/v1/organization/projects", json!({"name": secret}))
        .await);
    let project_id = str_of(&project["id"]);
    ok(
        s.get(&format!("/v1/organization/projects/{project_id}?include=x"))
            .await,
    );
    let refused = s.get("/v1/organization/projects/proj_missing").await;
    assert_eq!(refused.0, StatusCode::NOT_FOUND);
    // Neither another organization's requests nor an unknown key's are this journal's.
    ok(s.get_as(&other_key, "/v1/organization/users").await);
    let unknown = s
        .get_as(
            &format!("sk-admin-{}", "u".repeat(40)),
            "/v1/organization/users",
        )
        .await;
    assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);

    let journal = ok(s.operator(Method::GET, &requests(&s, ""), None).await);
    let entries = journal["data"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{journal}");
    let [missing, retrieved, created] = [&entries[0], &entries[1], &entries[2]];
    assert_eq!(missing["status"], 404);
    assert_eq!(missing["route"], "/v1/organization/projects/{project_id}");
    assert_eq!(retrieved["query"], "include=x");
    assert_eq!(
        retrieved["path"],
        format!("/v1/organization/projects/{project_id}")
    );
    assert_eq!(created["method"], "POST");
    assert_eq!(created["route"], "/v1/organization/projects");
    assert_eq!(created["status"], 200);
    assert_eq!(created["key_id"], s.owner_key_id());
    assert_eq!(created["object"], "organization.request");
    assert_eq!(created["body"]["name"], "sk-admin...ssss");
    assert!(!journal.to_string().contains(&secret), "no secret is kept");
    assert!(str_of(&created["id"]).starts_with("req_"));
    assert_eq!(journal["first_id"], missing["id"]);

    // Filters and paging.
    let posts = ok(s
        .operator(Method::GET, &requests(&s, "?method=post"), None)
        .await);
    assert_eq!(posts["data"].as_array().unwrap().len(), 1);
    let route = ok(s
        .operator(
            Method::GET,
            &requests(&s, "?route=/v1/organization/projects/%7Bproject_id%7D"),
            None,
        )
        .await);
    assert_eq!(route["data"].as_array().unwrap().len(), 2);
    let first = ok(s
        .operator(Method::GET, &requests(&s, "?limit=1"), None)
        .await);
    assert_eq!(first["has_more"], true);
    let next = ok(s
        .operator(
            Method::GET,
            &requests(&s, &format!("?limit=1&after={}", str_of(&first["last_id"]))),
            None,
        )
        .await);
    assert_eq!(next["data"][0]["id"], retrieved["id"]);
    for query in ["?limit=0", "?limit=1001", "?after=req_unknown"] {
        let got = s.operator(Method::GET, &requests(&s, query), None).await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{query}: {}", got.1);
    }

    // An injected answer is journaled with the status it gave.
    inject(&s, json!({"path": "/v1/organization/users", "status": 502})).await;
    let faulted = s
        .send_faulted(Method::GET, "/v1/organization/users", None)
        .await;
    assert_eq!(faulted.0, StatusCode::BAD_GATEWAY);
    let journal = ok(s
        .operator(Method::GET, &requests(&s, "?limit=1"), None)
        .await);
    assert_eq!(journal["data"][0]["status"], 502);

    let cleared = ok(s.operator(Method::DELETE, &requests(&s, ""), None).await);
    assert_eq!(cleared["deleted"], 4);
    let journal = ok(s.operator(Method::GET, &requests(&s, ""), None).await);
    assert!(journal["data"].as_array().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn the_journal_keeps_only_its_configured_number_of_entries() {
    let s = TestServer::start_with(|config| config.journal_size = 3).await;
    for _ in 0..5 {
        ok(s.get("/v1/organization/users").await);
    }
    let journal = ok(s.operator(Method::GET, &requests(&s, ""), None).await);
    assert_eq!(journal["data"].as_array().unwrap().len(), 3);
    s.stop().await;

    let s = TestServer::start_with(|config| config.journal_size = 0).await;
    ok(s.get("/v1/organization/users").await);
    let journal = ok(s.operator(Method::GET, &requests(&s, ""), None).await);
    assert!(journal["data"].as_array().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn a_reset_or_deleted_organization_keeps_no_faults_and_no_journal() {
    let s = TestServer::start().await;
    let (other, other_key) = second_organization(&s).await;
    inject(
        &s,
        json!({"path": "/v1/organization/invites", "status": 503}),
    )
    .await;
    ok(s.get("/v1/organization/users").await);
    ok(s.operator(
        Method::POST,
        &format!("/_orgadmin/organizations/{}/reset", s.org_id()),
        None,
    )
    .await);
    assert!(ok(s.operator(Method::GET, &faults(&s), None).await)["data"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(
        ok(s.operator(Method::GET, &requests(&s, ""), None).await)["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    ok(s.get("/v1/organization/invites").await);

    // A deleted organization's entries go with it; a new one starts with none.
    ok(s.get_as(&other_key, "/v1/organization/users").await);
    ok(s.operator(
        Method::DELETE,
        &format!("/_orgadmin/organizations/{other}"),
        None,
    )
    .await);
    let gone = s
        .operator(
            Method::GET,
            &format!("/_orgadmin/organizations/{other}/requests"),
            None,
        )
        .await;
    assert_error(&gone, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
    s.stop().await;
}
