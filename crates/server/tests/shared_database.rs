//! Servers share what they know about a key only through the database. Each server remembers
//! the keys it has authenticated (store `auth_cache.rs`); these tests prove that a change made
//! through another server on the same database (a key revoked, its owner demoted, a role's
//! permissions narrowed) binds the very next request on every server, and so does a change to what
//! a server answers from memory (`read_cache.rs`: members and member lists). The servers are two
//! replicas on one PostgreSQL database, so these tests need PostgreSQL whatever the backend
//! under test (`#[ignore]`d in a plain `cargo test`, run by the PostgreSQL pass with
//! `--include-ignored`). A SQLite file has one server, the holder of its lease: a second one is
//! refused, which the last test checks on SQLite.

use std::sync::Arc;

use orgadmin_core::clock::OffsetClock;
use orgadmin_core::id::UserId;
use orgadmin_core::model::NewAdminKey;
use orgadmin_core::secret;
use orgadmin_core::PermissionSet;
use orgadmin_testkit::{
    assert_error_says, assert_insufficient, ok, owner_key, str_of, TestDatabase, TestServer,
};
use reqwest::StatusCode;
use serde_json::json;

/// Two servers on one fresh database; the first one created the organization.
async fn two_servers() -> (TestServer, TestServer, TestDatabase) {
    let database = TestDatabase::on_postgres().await;
    let first = TestServer::start_on(
        database.url(),
        Some(&owner_key()),
        Arc::new(OffsetClock::default()),
    )
    .await;
    let second = TestServer::start_on(
        database.url(),
        Some(&owner_key()),
        Arc::new(OffsetClock::default()),
    )
    .await;
    (first, second, database)
}

fn refused(answer: &orgadmin_testkit::Answer) {
    assert_error_says(
        answer,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        None,
        "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",
    );
}

fn forbidden(answer: &orgadmin_testkit::Answer) {
    assert_eq!(
        assert_insufficient(answer, "api.organization.admin_api_keys.read"),
        ""
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn a_key_deleted_through_another_server_is_refused_at_once() {
    let (a, b, _db) = two_servers().await;
    let created = ok(a
        .post("/v1/organization/admin_api_keys", json!({"name": "shared"}))
        .await);
    let secret = str_of(&created["value"]);
    let id = str_of(&created["id"]);
    for _ in 0..3 {
        ok(a.get_as(&secret, "/v1/organization/users").await);
        ok(b.get_as(&secret, "/v1/organization/users").await);
    }

    ok(b.delete(&format!("/v1/organization/admin_api_keys/{id}"))
        .await);

    refused(&a.get_as(&secret, "/v1/organization/users").await);
    refused(&b.get_as(&secret, "/v1/organization/users").await);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn a_key_whose_owner_is_demoted_elsewhere_loses_its_rights_at_once() {
    let (a, b, _db) = two_servers().await;
    let owner = a.owner_id();
    ok(a.get("/v1/organization/admin_api_keys").await);
    b.add_member("successor@example.com", "owner").await;
    ok(a.get("/v1/organization/admin_api_keys").await);

    ok(b.post(
        &format!("/v1/organization/users/{owner}"),
        json!({"role": "reader"}),
    )
    .await);

    forbidden(&a.get("/v1/organization/admin_api_keys").await);
    ok(a.get("/v1/organization/users").await);
    a.stop().await;
    b.stop().await;
}

/// A key owned by `user`, made through the store: the API only lets a caller make keys of their
/// own, and this member has none to call with.
async fn key_owned_by(database: &TestDatabase, user: &str) -> String {
    scoped_key_owned_by(database, user, None).await
}

/// [`key_owned_by`], limited to `scopes` if given.
async fn scoped_key_owned_by(
    database: &TestDatabase,
    user: &str,
    scopes: Option<&[&str]>,
) -> String {
    let store = orgadmin_store::open(database.url(), Arc::new(OffsetClock::default()))
        .await
        .expect("the store opens");
    let mut actor = store
        .authenticate(&secret::hash_secret(&owner_key()))
        .await
        .expect("the owner key authenticates")
        .expect("the owner key exists");
    actor.user_id = UserId::from_raw(user);
    let value = secret::generate_admin_key();
    let key = NewAdminKey {
        name: Some("member's key".to_owned()),
        secret_hash: secret::hash_secret(&value),
        redacted_value: secret::redact(&value),
        expires_in_seconds: None,
        scopes: scopes.map(|names| PermissionSet::parse_names(names, "scopes").unwrap()),
    };
    store
        .create_admin_key(&actor, key)
        .await
        .expect("the key is made");
    value
}

#[tokio::test]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn a_role_narrowed_through_another_server_narrows_the_key_at_once() {
    let (a, b, db) = two_servers().await;
    let member = a.add_member("member@example.com", "reader").await;
    let role = ok(b
        .post(
            "/v1/organization/roles",
            json!({"role_name": "Key readers", "permissions": ["api.organization.admin_api_keys.read"]}),
        )
        .await);
    let role_id = str_of(&role["id"]);
    ok(b.post(
        &format!("/v1/organization/users/{member}/roles"),
        json!({"role_id": role_id}),
    )
    .await);
    let key = key_owned_by(&db, &member).await;
    // The custom role grants what the reader role does not.
    ok(a.get_as(&key, "/v1/organization/admin_api_keys").await);
    ok(a.get_as(&key, "/v1/organization/admin_api_keys").await);

    ok(b.post(
        &format!("/v1/organization/roles/{role_id}"),
        json!({"permissions": ["api.organization.users.read"]}),
    )
    .await);

    forbidden(&a.get_as(&key, "/v1/organization/admin_api_keys").await);
    ok(a.get_as(&key, "/v1/organization/users").await);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn a_member_changed_through_another_server_is_read_as_changed_at_once() {
    let (a, b, _db) = two_servers().await;
    let member = a.add_member("member@example.com", "reader").await;
    let one = format!("/v1/organization/users/{member}");
    let by_email = "/v1/organization/users?emails=member@example.com";
    let listed = "/v1/organization/users?limit=20";
    // Read twice on `a`, so that the second answer may come from what `a` remembers.
    for _ in 0..2 {
        assert_eq!(ok(a.get(&one).await)["role"], "reader");
        assert_eq!(ok(a.get(by_email).await)["data"][0]["role"], "reader");
        assert_eq!(ok(a.get(listed).await)["data"].as_array().unwrap().len(), 2);
    }

    ok(b.post(&one, json!({"role": "owner"})).await);
    b.add_member("second@example.com", "reader").await;

    assert_eq!(ok(a.get(&one).await)["role"], "owner");
    assert_eq!(ok(a.get(by_email).await)["data"][0]["role"], "owner");
    let members = ok(a.get(listed).await);
    assert_eq!(members["data"].as_array().unwrap().len(), 3, "{members}");

    ok(b.delete(&one).await);

    assert_error_says(
        &a.get(&one).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "No user found with id 'user-…'.",
    );
    assert_eq!(ok(a.get(by_email).await)["data"], json!([]));
    assert_eq!(ok(a.get(listed).await)["data"].as_array().unwrap().len(), 2);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn an_organization_deleted_or_reset_through_another_server_binds_at_once() {
    let (a, b, _db) = two_servers().await;
    let created = ok(a
        .operator(reqwest::Method::POST, "/_orgadmin/organizations", None)
        .await);
    let org = str_of(&created["organization"]["id"]);
    let key = str_of(&created["admin_key"]["value"]);
    // A second key, which reset takes away, and both remembered by both servers.
    let extra = ok(a
        .post_as(
            &key,
            "/v1/organization/admin_api_keys",
            json!({"name": "extra"}),
        )
        .await);
    let extra = str_of(&extra["value"]);
    for _ in 0..3 {
        for server in [&a, &b] {
            ok(server.get_as(&key, "/v1/organization/users").await);
            ok(server.get_as(&extra, "/v1/organization/users").await);
        }
    }

    ok(b.operator(
        reqwest::Method::POST,
        &format!("/_orgadmin/organizations/{org}/reset"),
        None,
    )
    .await);
    for server in [&a, &b] {
        refused(&server.get_as(&extra, "/v1/organization/users").await);
        let keys = ok(server.get_as(&key, "/v1/organization/admin_api_keys").await);
        assert_eq!(keys["data"].as_array().unwrap().len(), 1, "{keys}");
    }

    ok(b.operator(
        reqwest::Method::DELETE,
        &format!("/_orgadmin/organizations/{org}"),
        None,
    )
    .await);
    refused(&a.get_as(&key, "/v1/organization/users").await);
    refused(&b.get_as(&key, "/v1/organization/users").await);
    let gone = a
        .operator(
            reqwest::Method::GET,
            &format!("/_orgadmin/organizations/{org}"),
            None,
        )
        .await;
    assert_eq!(gone.0, StatusCode::NOT_FOUND, "{}", gone.1);
    // The first organization, on both servers, is untouched.
    ok(a.get("/v1/organization/users").await);
    ok(b.get("/v1/organization/users").await);
    a.stop().await;
    b.stop().await;
}

/// The IDs in a list answer.
fn listed(answer: &serde_json::Value) -> Vec<String> {
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| str_of(&o["id"]))
        .collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn role_lists_project_members_and_project_permissions_remembered_here_follow_a_change_elsewhere_at_once(
) {
    let (a, b, db) = two_servers().await;
    let project = a.create_project("Checkout").await;
    let dev = a.add_member("dev@example.com", "reader").await;
    a.add_project_user(&project, &dev, "owner").await;
    let role = a
        .create_org_role("Auditors", &["api.organization.audit_logs.read"])
        .await;
    ok(a.post(
        &format!("/v1/organization/users/{dev}/roles"),
        json!({"role_id": role}),
    )
    .await);
    let group = str_of(
        &ok(a
            .post("/v1/organization/groups", json!({"name": "Ops"}))
            .await)["id"],
    );
    ok(a.post(
        &format!("/v1/organization/groups/{group}/roles"),
        json!({"role_id": role}),
    )
    .await);
    // Her key, limited to the project-level permission, reads the project's members through
    // her project role alone.
    let dev_key = scoped_key_owned_by(&db, &dev, Some(&["api.project.users.read"])).await;
    let members = format!("/v1/organization/projects/{project}/users");
    let roles = format!("/v1/organization/users/{dev}/roles");
    let group_roles = format!("/v1/organization/groups/{group}/roles");
    for _ in 0..3 {
        assert!(listed(&ok(a.get(&members).await)).contains(&dev));
        assert!(listed(&ok(a.get(&roles).await)).contains(&role));
        assert!(listed(&ok(a.get(&group_roles).await)).contains(&role));
        ok(a.get_as(&dev_key, &members).await);
    }

    // Changed through the other server: the role taken from her and from the group, her project
    // role changed, and then she leaves the project.
    ok(
        b.delete(&format!("/v1/organization/users/{dev}/roles/{role}"))
            .await,
    );
    ok(
        b.delete(&format!("/v1/organization/groups/{group}/roles/{role}"))
            .await,
    );
    ok(b.post(
        &format!("/v1/organization/projects/{project}/users/{dev}"),
        json!({"role": "viewer"}),
    )
    .await);

    assert!(!listed(&ok(a.get(&roles).await)).contains(&role));
    assert!(!listed(&ok(a.get(&group_roles).await)).contains(&role));
    let member = ok(a.get(&members).await)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == json!(dev))
        .cloned()
        .unwrap();
    assert_eq!(member["role"], "viewer");
    ok(a.get_as(&dev_key, &members).await);
    ok(
        b.delete(&format!("/v1/organization/projects/{project}/users/{dev}"))
            .await,
    );
    assert!(!listed(&ok(a.get(&members).await)).contains(&dev));
    let refused = a.get_as(&dev_key, &members).await;
    assert_eq!(refused.0, StatusCode::UNAUTHORIZED, "{}", refused.1);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_second_server_on_a_sqlite_file_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/orgadmin.db", dir.path().display());
    let first =
        TestServer::start_on(&url, Some(&owner_key()), Arc::new(OffsetClock::default())).await;
    let mut config = orgadmin_server::ServeConfig::new("127.0.0.1:0", url.as_str());
    config.admin_key = Some(owner_key());
    let refused = orgadmin_server::Application::build(config)
        .await
        .err()
        .expect("a second server on the file is refused")
        .to_string();
    assert!(
        refused.contains(&format!("PID {}", std::process::id()))
            && refused.contains("use PostgreSQL to run replicas"),
        "{refused}"
    );
    ok(first.get("/v1/organization/users").await);
    first.stop().await;
    // The lease goes with its holder.
    let again =
        TestServer::start_on(&url, Some(&owner_key()), Arc::new(OffsetClock::default())).await;
    ok(again.get("/v1/organization/users").await);
    again.stop().await;
}
