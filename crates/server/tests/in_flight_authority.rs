//! A write commits only if the permissions it was authorized with still hold at commit time.
//!
//! The key is authenticated when the request head arrives, and its body may take seconds more.
//! A revocation or a demotion that commits meanwhile must bind the request: it writes nothing.
//! On the backend `ORGADMIN_TEST_BACKEND` selects.

use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::clock::OffsetClock;
use orgadmin_core::id::UserId;
use orgadmin_core::model::NewAdminKey;
use orgadmin_core::secret::{generate_admin_key, hash_secret, redact};
use orgadmin_testkit::{missing_scopes, ok, owner_key, str_of, TestDatabase, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request whose body arrives in two parts: everything but its last bytes now, the rest when
/// [`finish`](Self::finish) is called.
struct SlowRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl SlowRequest {
    async fn start(server: &TestServer, method: &str, path: &str, key: &str, body: &Value) -> Self {
        let body = body.to_string().into_bytes();
        let address = server.base_url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).await.expect("connecting");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body[..1]).await.unwrap();
        stream.flush().await.unwrap();
        // The head is read and the key authenticated before the body is.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Self {
            stream,
            rest: body[1..].to_vec(),
        }
    }

    async fn finish(mut self) -> (StatusCode, Value) {
        self.stream.write_all(&self.rest).await.unwrap();
        let mut answer = Vec::new();
        self.stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8(answer).expect("a UTF-8 answer");
        let status: u16 = answer[9..12].parse().expect("a status line");
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (
            StatusCode::from_u16(status).unwrap(),
            serde_json::from_str(body).unwrap_or(Value::Null),
        )
    }
}

async fn start() -> (TestServer, TestDatabase) {
    let database = TestDatabase::persistent().await;
    let server = TestServer::start_on(
        database.url(),
        Some(&owner_key()),
        Arc::new(OffsetClock::default()),
    )
    .await;
    (server, database)
}

/// A member of the organization with `role`, and an admin key owned by them (keys are owned by
/// their creator, so it is made through the store): `(user ID, key)`.
async fn member_with_key(server: &TestServer, email: &str, role: &str) -> (String, String) {
    let invite = ok(server
        .post(
            "/v1/organization/invites",
            json!({"email": email, "role": role, "projects": []}),
        )
        .await);
    let user = ok(server
        .post(
            &format!("/v1/organization/invites/{}/accept", str_of(&invite["id"])),
            json!({}),
        )
        .await);
    let user_id = str_of(&user["id"]);
    let store = server.store();
    let mut actor = store
        .authenticate(&hash_secret(&owner_key()))
        .await
        .unwrap()
        .unwrap();
    actor.user_id = UserId::from_raw(user_id.clone());
    let key = generate_admin_key();
    store
        .create_admin_key(
            &actor,
            NewAdminKey {
                name: Some(format!("{email}'s key")),
                secret_hash: hash_secret(&key),
                redacted_value: redact(&key),
                expires_in_seconds: None,
                scopes: None,
            },
        )
        .await
        .unwrap();
    (user_id, key)
}

#[tokio::test]
async fn a_key_revoked_while_its_request_body_arrives_mints_no_key() {
    let (server, _database) = start().await;
    let (revoked_id, revoked) = server.create_key(json!({"name": "doomed"})).await;
    let pending = SlowRequest::start(
        &server,
        "POST",
        "/v1/organization/admin_api_keys",
        &revoked,
        &json!({"name": "persist"}),
    )
    .await;
    ok(server
        .delete(&format!("/v1/organization/admin_api_keys/{revoked_id}"))
        .await);
    let (status, body) = pending.finish().await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "invalid_api_key", "{body}");

    let keys = ok(server.get("/v1/organization/admin_api_keys").await);
    assert!(
        !keys["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "persist"),
        "the revoked key minted a key: {keys}"
    );
    let by_revoked = server.audit("event_types[]=api_key.created").await;
    assert!(
        !by_revoked
            .iter()
            .any(|e| e["actor"]["api_key"]["id"] == json!(revoked_id)),
        "{by_revoked:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_owner_demoted_while_her_request_body_arrives_stays_demoted() {
    let (server, _database) = start().await;
    let (alice, alice_key) = member_with_key(&server, "alice@example.com", "owner").await;
    let pending = SlowRequest::start(
        &server,
        "POST",
        &format!("/v1/organization/users/{alice}"),
        &alice_key,
        &json!({"role": "owner"}),
    )
    .await;
    ok(server
        .post(
            &format!("/v1/organization/users/{alice}"),
            json!({"role": "reader"}),
        )
        .await);
    let (status, body) = pending.finish().await;
    // Refused for what the demotion took (the request was authorized before it committed).
    assert!(
        missing_scopes(status, &body)
            .is_some_and(|m| m.iter().any(|m| m == "api.organization.users.write")),
        "{status} {body}"
    );
    let user = ok(server.get(&format!("/v1/organization/users/{alice}")).await);
    assert_eq!(user["role"], "reader", "the demotion was undone: {user}");
    server.stop().await;
}

/// 32 clients write with a key while it is revoked: no event by the key comes after the event
/// that revoked it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_write_by_a_key_commits_after_its_revocation_under_concurrent_load() {
    let (server, _database) = start().await;
    let server = Arc::new(server);
    let (key_id, key) = server.create_key(json!({"name": "busy"})).await;
    let mut clients = Vec::new();
    for c in 0..32 {
        let server = server.clone();
        let key = key.clone();
        clients.push(tokio::spawn(async move {
            for w in 0..200 {
                let (status, body) = server
                    .post_as(
                        &key,
                        "/v1/organization/projects",
                        json!({"name": format!("c{c}-{w}")}),
                    )
                    .await;
                if status == StatusCode::UNAUTHORIZED {
                    return;
                }
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    ok(server
        .delete(&format!("/v1/organization/admin_api_keys/{key_id}"))
        .await);
    for client in clients {
        client.await.unwrap();
    }
    // The whole log, ordered by ID: IDs are strictly increasing in a process and made inside
    // the serialized write transactions, so their order is the commit order.
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(a) => format!("limit=100&after={a}"),
            None => "limit=100".to_owned(),
        };
        let page = ok(server
            .get(&format!("/v1/organization/audit_logs?{query}"))
            .await);
        let data = page["data"].as_array().unwrap().clone();
        after = data.last().map(|e| str_of(&e["id"]));
        events.extend(data);
        if page["has_more"] != json!(true) {
            break;
        }
    }
    events.sort_by_key(|e| str_of(&e["id"]));
    let revoked_at = events
        .iter()
        .position(|e| e["type"] == "api_key.deleted" && e["api_key.deleted"]["id"] == json!(key_id))
        .expect("the revocation is in the log");
    let late: Vec<_> = events[revoked_at + 1..]
        .iter()
        .filter(|e| e["actor"]["api_key"]["id"] == json!(key_id))
        .collect();
    assert!(
        late.is_empty(),
        "{} events by the key after its revocation, the first: {}",
        late.len(),
        late[0]
    );
    assert!(
        events[..revoked_at]
            .iter()
            .any(|e| e["actor"]["api_key"]["id"] == json!(key_id)),
        "the key wrote nothing before its revocation: the test proves nothing"
    );
    Arc::into_inner(server).unwrap().stop().await;
}
