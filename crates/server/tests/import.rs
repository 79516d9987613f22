//! `POST /v1/organization/users/import` over HTTP, on the backend `ORGADMIN_TEST_BACKEND`
//! selects: CSV and JSON Lines bodies, a body over the usual 1 MiB limit and one over the
//! import's 64 MiB, invalid rows (400 with the summary, nothing written), `skip_invalid` and
//! `dry_run`, the permissions of the calling key (scoped keys included), the audit events with
//! that key as actor, and the bad input that is refused before anything is written (content
//! type, header row, query parameters). The rules of the rows themselves are the store's
//! (`crates/store/tests/import.rs`).

use orgadmin_testkit::{assert_error, assert_insufficient, ok, str_of, Answer, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PATH: &str = "/v1/organization/users/import";

/// POST `body` to the import with `content_type` (none if `None`) and `query`, as `key`.
async fn import_as(
    s: &TestServer,
    key: &str,
    query: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut request = reqwest::Client::new()
        .post(format!("{}{PATH}{query}", s.base_url))
        .bearer_auth(key)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON answer");
    assert!(!status.is_server_error(), "{status}: {body}");
    (status, body)
}

async fn import(s: &TestServer, query: &str, content_type: &str, body: &str) -> Answer {
    import_as(s, &s.owner_key, query, Some(content_type), body.to_owned()).await
}

/// The members' emails, in ID order.
async fn emails(s: &TestServer) -> Vec<String> {
    let list = ok(s.get("/v1/organization/users?limit=100").await);
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["email"].as_str().map(str::to_owned))
        .collect()
}

fn member(s: &[String], email: &str) -> bool {
    s.iter().any(|e| e == email)
}

/// `(created, updated, skipped, invalid, committed)` of a summary.
fn counts(summary: &Value) -> (u64, u64, u64, u64, bool) {
    assert_eq!(summary["object"], "import.summary", "{summary}");
    let n = |f: &str| summary[f].as_u64().unwrap();
    (
        n("created"),
        n("updated"),
        n("skipped"),
        n("invalid"),
        summary["committed"].as_bool().unwrap(),
    )
}

#[tokio::test]
async fn csv_and_json_lines_import_members_with_the_audit_events_of_the_calling_key() {
    let s = TestServer::start().await;
    let gateway = s.create_project("Gateway").await;
    let events_before = s.audit("limit=100").await.len();
    let csv = "\u{feff}Email,NAME,role,projects\r\n\
               ada@example.com,\"Lovelace, Ada\",owner,Gateway:owner\r\n\
               \r\n\
               grace@example.com,Grace Hopper,,\r\n";
    let summary = ok(import(&s, "", "text/csv", csv).await);
    assert_eq!(counts(&summary), (2, 0, 0, 0, true), "{summary}");
    assert_eq!(summary["errors"], json!([]));
    assert_eq!(summary["dry_run"], false);
    let members = emails(&s).await;
    assert!(member(&members, "ada@example.com") && member(&members, "grace@example.com"));
    let users = ok(s
        .get("/v1/organization/users?emails[]=ada@example.com")
        .await);
    let ada = &users["data"][0];
    assert_eq!(
        (&ada["name"], &ada["role"]),
        (&json!("Lovelace, Ada"), &json!("owner"))
    );
    let project_users = ok(s
        .get(&format!("/v1/organization/projects/{gateway}/users"))
        .await);
    let in_gateway: Vec<(&str, &str)> = project_users["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["email"].as_str().unwrap(), u["role"].as_str().unwrap()))
        .collect();
    assert!(
        in_gateway.contains(&("ada@example.com", "owner")),
        "{in_gateway:?}"
    );

    // The events the API writes: a user.added per member, a project membership's, each with
    // the calling key as actor.
    let events = s.audit("limit=100").await;
    let new = &events[..events.len() - events_before];
    let mut kinds: Vec<&str> = new.iter().map(|e| e["type"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["user.added", "user.added", "user.added"],
        "{new:#?}"
    );
    for event in new {
        assert_eq!(
            event["actor"]["api_key"]["id"],
            s.owner_key_id(),
            "{event:#}"
        );
    }

    // JSON Lines (either media type): one member changes, one is as it was.
    let jsonl = "{\"email\": \"grace@example.com\", \"role\": \"owner\"}\n\
                 {\"email\": \"ada@example.com\"}\n";
    let summary = ok(import(&s, "", "application/x-ndjson", jsonl).await);
    assert_eq!(counts(&summary), (0, 1, 1, 0, true), "{summary}");
    let summary = ok(import(&s, "", "application/jsonl; charset=utf-8", jsonl).await);
    assert_eq!(counts(&summary), (0, 0, 2, 0, true), "{summary}");
    let updated = s.audit("event_types[]=user.updated").await;
    assert_eq!(updated.len(), 1, "{updated:#?}");
    assert_eq!(updated[0]["actor"]["api_key"]["id"], s.owner_key_id());
}

#[tokio::test]
async fn invalid_rows_answer_400_with_every_row_and_write_nothing_unless_skipped() {
    let s = TestServer::start().await;
    let members_before = emails(&s).await;
    let events_before = s.audit("limit=100").await.len();
    let jsonl = "{\"email\": \"ok@example.com\", \"name\": \"Ok\"}\n\
                 \n\
                 {\"email\": \"typo@example.com\", \"nmae\": \"T\"}\n\
                 {not json}\n\
                 {\"email\": \"also-ok@example.com\", \"role\": \"admin\"}\n";
    let (status, body) = import(&s, "", "application/x-ndjson", jsonl).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_rows", "{body}");
    assert_eq!(body["error"]["param"], "file");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("3 rows are invalid, so nothing was imported"),
        "{body}"
    );
    let summary = &body["summary"];
    assert_eq!(counts(summary), (1, 0, 0, 3, false), "{summary}");
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(
        errors
            .iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["email"].clone()))
            .collect::<Vec<_>>(),
        [
            (3, json!("typo@example.com")),
            (4, Value::Null),
            (5, json!("also-ok@example.com"))
        ]
    );
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("unknown field \"nmae\""));
    let not_json = errors[1]["message"].as_str().unwrap();
    assert!(
        not_json.starts_with("not a JSON object: ") && not_json.contains("(column 2)"),
        "{not_json}"
    );
    assert!(errors[2]["message"]
        .as_str()
        .unwrap()
        .contains("'admin' is not an organization role"));
    assert_eq!(emails(&s).await, members_before, "nothing written");
    assert_eq!(s.audit("limit=100").await.len(), events_before, "no events");

    // A dry run is refused the same way, and writes nothing either.
    let (status, body) = import(&s, "?dry_run=true", "application/x-ndjson", jsonl).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["summary"]["dry_run"], true);

    // A dry run with skip_invalid: the summary, nothing written.
    let summary = ok(import(
        &s,
        "?dry_run=true&skip_invalid=true",
        "application/x-ndjson",
        jsonl,
    )
    .await);
    assert_eq!(counts(&summary), (1, 0, 0, 3, false), "{summary}");
    assert_eq!(summary["dry_run"], true);
    assert_eq!(emails(&s).await, members_before);

    // skip_invalid: the valid row goes in; the invalid ones are in the summary.
    let summary = ok(import(&s, "?skip_invalid=1", "application/x-ndjson", jsonl).await);
    assert_eq!(counts(&summary), (1, 0, 0, 3, true), "{summary}");
    assert_eq!(summary["errors"].as_array().unwrap().len(), 3);
    assert!(member(&emails(&s).await, "ok@example.com"));
    assert_eq!(s.audit("limit=100").await.len(), events_before + 1);
}

#[tokio::test]
async fn a_body_over_a_mebibyte_is_read_as_it_arrives() {
    let s = TestServer::start().await;
    let padding = "x".repeat(100);
    let mut csv = String::from("email,name\n");
    let mut rows = 0u64;
    while csv.len() <= 1024 * 1024 + 4096 {
        rows += 1;
        csv.push_str(&format!("bulk{rows}@example.com,Bulk {rows} {padding}\n"));
    }
    let summary = ok(import(&s, "", "text/csv", &csv).await);
    assert_eq!(counts(&summary), (rows, 0, 0, 0, true), "{summary}");
    let again = ok(import(&s, "?dry_run=true", "text/csv", &csv).await);
    assert_eq!(counts(&again), (0, 0, rows, 0, false), "{again}");
    // Other routes keep the 1 MiB limit.
    let (status, body) = s
        .post(
            "/v1/organization/projects",
            json!({"name": "x".repeat(2 * 1024 * 1024)}),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn a_body_over_64_mib_is_refused_with_413_whether_declared_or_sent() {
    let s = TestServer::start().await;
    let members_before = emails(&s).await;
    let host = s.base_url.trim_start_matches("http://").to_owned();
    // Declared: refused before the route, without waiting for the body.
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        s.owner_key,
        64 * 1024 * 1024 + 1
    );
    let (status, body) = s.raw_exchange(head, Vec::new()).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "request_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 MiB"),
        "{body}"
    );
    // Sent in chunks with no length declared: refused when it passes the limit.
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n",
        s.owner_key
    );
    let mut body = b"email\n".to_vec();
    body.resize(64 * 1024 * 1024 + (1 << 20), b' ');
    let (status, body) = s.raw_exchange(head, body).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 MiB"),
        "{body}"
    );
    assert_eq!(emails(&s).await, members_before);
}

#[tokio::test]
async fn the_calling_key_needs_users_write_and_manages_only_the_projects_it_may() {
    let s = TestServer::start().await;
    let gateway = s.create_project("Gateway").await;
    let members_before = emails(&s).await;
    let csv = "email\nsomeone@example.com\n";

    let (_, reader) = s
        .create_key(json!({"name": "reader", "scopes": ["api.organization.users.read"]}))
        .await;
    let refused = import_as(&s, &reader, "", Some("text/csv"), csv).await;
    assert_insufficient(&refused, "api.organization.users.write");
    let refused = import_as(&s, "sk-admin-nobody", "", Some("text/csv"), csv).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_api_key", None);
    assert_eq!(emails(&s).await, members_before);

    // A key that may write users but no project's members: a row naming a project is invalid,
    // the others go in, and the events name that key.
    let (scoped_id, scoped) = s
        .create_key(json!({"name": "users only", "scopes": [
            "api.organization.users.write", "api.organization.users.read",
            "api.organization.read", "api.organization.roles.read", "api.organization.invites.read",
            "api.organization.projects.read", "api.organization.projects.users.read",
            "api.groups.read", "api.organization.projects.api_keys.read"
        ]}))
        .await;
    let csv = format!("email,projects\nhere@example.com,\nthere@example.com,{gateway}:member\n");
    let summary = ok(import_as(&s, &scoped, "?skip_invalid=true", Some("text/csv"), csv).await);
    assert_eq!(counts(&summary), (1, 0, 0, 1, true), "{summary}");
    assert_eq!(summary["errors"][0]["line"], 3);
    let why = summary["errors"][0]["message"].as_str().unwrap();
    assert!(
        why.contains("Missing scopes: api.organization.projects.users.write"),
        "{why}"
    );
    let members = emails(&s).await;
    assert!(member(&members, "here@example.com") && !member(&members, "there@example.com"));
    let added = s.audit("event_types[]=user.added").await;
    assert_eq!(added[0]["actor"]["api_key"]["id"], scoped_id, "{added:#?}");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    let s = TestServer::start().await;
    let members_before = emails(&s).await;
    let csv = "email\nsomeone@example.com\n";
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/json"),
        Some("text/csv; charset=latin1"),
    ] {
        let answer = import_as(&s, &s.owner_key, "", content_type, csv).await;
        assert_error(
            &answer,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        );
        assert!(
            answer.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("text/csv"),
            "{answer:?}"
        );
    }
    for (body, needle) in [
        (
            "email,colour\na@example.com,red\n",
            "unknown column 'colour' in the header",
        ),
        ("name\nA\n", "the header has no 'email' column"),
        ("\n\n", "the file is empty"),
        (
            "\"email\nsomeone@example.com\n",
            "header row (line 1) cannot be read",
        ),
    ] {
        let answer = import(&s, "", "text/csv", body).await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("file"),
        );
        let message = str_of(&answer.1["error"]["message"]);
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }
    for (query, param) in [
        ("?dry_run=maybe", "dry_run"),
        ("?skip_invalid=yes", "skip_invalid"),
        ("?dry_run=true&dry_run=false", "dry_run"),
        ("?dryrun=true", "dryrun"),
    ] {
        let answer = import(&s, query, "text/csv", csv).await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some(param),
        );
    }
    assert_eq!(emails(&s).await, members_before, "nothing written");
    assert!(s.audit("event_types[]=user.added").await.is_empty());
}
