//! Fixtures through the operator API (`POST /_orgadmin/organizations` with `fixture`): the
//! organization is made as the document says, with its IDs and chosen secrets; a document that
//! breaks a rule is refused whole, every problem with its place, and nothing is created; reset
//! brings the organization back to its fixture. Runs on the backend `ORGADMIN_TEST_BACKEND`
//! selects.

use orgadmin_testkit::{assert_error, ids, ok, str_of, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const EXAMPLE: &str = include_str!("../../../docs/fixture-example.yaml");
const OLIVIA_KEY: &str = "sk-admin-fixture-olivia-00000000000000000000";
const ALICE_AUDIT_KEY: &str = "sk-admin-fixture-alice-audit-0000000000000000";

async fn create(s: &TestServer, body: Value) -> (StatusCode, Value) {
    s.operator(Method::POST, "/_orgadmin/organizations", Some(body))
        .await
}

async fn organization_count(s: &TestServer) -> usize {
    let list = ok(s
        .operator(Method::GET, "/_orgadmin/organizations?limit=100", None)
        .await);
    list["data"].as_array().unwrap().len()
}

/// The user list of the organization opened by `key`, by ID.
async fn users(s: &TestServer, key: &str) -> Vec<Value> {
    let list = ok(s.get_as(key, "/v1/organization/users?limit=100").await);
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["is_service_account"] != json!(true))
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_organization_is_made_as_its_fixture_says_with_the_ids_and_secrets_it_gives() {
    let s = TestServer::start().await;
    let created = ok(create(&s, json!({ "fixture": EXAMPLE })).await);
    assert_eq!(created["organization"]["name"], "Acme Corp");
    assert_eq!(created["owner"]["id"], "user-olivia");
    assert_eq!(created["owner"]["email"], "olivia@acme.test");
    assert_eq!(created["default_project"]["id"], "proj_default");
    assert_eq!(created["default_project"]["name"], "Sandbox");
    assert_eq!(created["admin_key"]["value"], OLIVIA_KEY);
    assert_eq!(created["api_keys"], json!([]), "every secret was chosen");

    let members = users(&s, OLIVIA_KEY).await;
    let role_of = |id: &str| {
        members
            .iter()
            .find(|u| u["id"] == id)
            .map(|u| str_of(&u["role"]))
            .unwrap_or_else(|| panic!("{id} is not a member: {members:?}"))
    };
    assert_eq!(role_of("user-olivia"), "owner");
    assert_eq!(role_of("user-alice"), "owner");
    assert_eq!(role_of("user-bob"), "reader");
    let carol = members
        .iter()
        .find(|u| u["email"] == "carol@acme.test")
        .unwrap();
    assert!(str_of(&carol["id"]).starts_with("user-"));

    // Alice holds the custom role; the group holds its roles and members.
    let roles = ok(s
        .get_as(OLIVIA_KEY, "/v1/organization/users/user-alice/roles")
        .await);
    assert!(ids(&roles).contains(&"role_auditor".to_owned()), "{roles}");
    let group_users = ok(s
        .get_as(
            OLIVIA_KEY,
            "/v1/organization/groups/group_engineering/users",
        )
        .await);
    assert_eq!(
        group_users["data"].as_array().unwrap().len(),
        2,
        "{group_users}"
    );

    // Projects, their members, groups, service accounts and keys.
    let projects = ok(s
        .get_as(
            OLIVIA_KEY,
            "/v1/organization/projects?include_archived=true",
        )
        .await);
    let mut project_ids = ids(&projects);
    project_ids.sort();
    assert_eq!(
        project_ids,
        ["proj_checkout", "proj_default", "proj_legacy"]
    );
    let legacy = ok(s
        .get_as(OLIVIA_KEY, "/v1/organization/projects/proj_legacy")
        .await);
    assert_eq!(legacy["status"], "archived");
    let checkout_users = ok(s
        .get_as(OLIVIA_KEY, "/v1/organization/projects/proj_checkout/users")
        .await);
    let alice = checkout_users["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == "user-alice")
        .unwrap();
    assert_eq!(alice["role"], "owner");
    let bob_roles = ok(s
        .get_as(
            OLIVIA_KEY,
            "/v1/projects/proj_checkout/users/user-bob/roles",
        )
        .await);
    assert!(
        ids(&bob_roles).contains(&"role_deployer".to_owned()),
        "{bob_roles}"
    );
    let sandbox_users = ok(s
        .get_as(OLIVIA_KEY, "/v1/organization/projects/proj_default/users")
        .await);
    let mut sandbox = ids(&sandbox_users);
    sandbox.sort();
    assert_eq!(sandbox, ["user-bob", "user-olivia"]);
    let accounts = ok(s
        .get_as(
            OLIVIA_KEY,
            "/v1/organization/projects/proj_checkout/service_accounts",
        )
        .await);
    assert_eq!(ids(&accounts), ["svc_acct_ci"]);
    let keys = ok(s
        .get_as(
            OLIVIA_KEY,
            "/v1/organization/projects/proj_checkout/api_keys",
        )
        .await);
    let mut key_ids = ids(&keys);
    key_ids.sort();
    assert_eq!(key_ids, ["key_bob_checkout", "key_ci"]);
    let bob_key = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == "key_bob_checkout")
        .unwrap();
    assert_eq!(bob_key["owner"]["user"]["id"], "user-bob");
    assert_eq!(bob_key["redacted_value"], "sk-proj...0000");

    // The invite is pending, for the project the fixture names.
    let invite = ok(s
        .get_as(OLIVIA_KEY, "/v1/organization/invites/invite-dave")
        .await);
    assert_eq!(invite["status"], "pending");
    assert_eq!(
        invite["projects"],
        json!([{"id": "proj_checkout", "role": "member"}])
    );

    // Alice's scoped key reads the audit log and nothing else.
    ok(s.get_as(ALICE_AUDIT_KEY, "/v1/organization/audit_logs")
        .await);
    let refused = s.get_as(ALICE_AUDIT_KEY, "/v1/organization/users").await;
    assert_eq!(refused.0, StatusCode::UNAUTHORIZED, "{}", refused.1);
    assert!(str_of(&refused.1["error"]["message"])
        .contains("Missing scopes: api.organization.users.read"));
    s.stop().await;
}

#[tokio::test]
async fn a_fixture_that_breaks_rules_is_refused_whole_with_every_problem_and_creates_nothing() {
    let s = TestServer::start().await;
    let before = organization_count(&s).await;
    let fixture = json!({
        "users": [
            {"email": "alice@acme.test"},
            {"email": "not-an-email"},
            {"email": "ALICE@acme.test"}
        ],
        "projects": [{"name": "P", "members": [{"user": "nobody@acme.test"}]}],
        "admin_keys": [{"name": "k", "owner": "alice@acme.test", "scopes": ["api.nothing"]}]
    });
    let got = create(&s, json!({ "fixture": fixture })).await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("fixture.users[1].email"),
    );
    let message = str_of(&got.1["error"]["message"]);
    for place in [
        "users[1].email",
        "users[2].email",
        "projects[0].members[0].user",
        "admin_keys[0].scopes",
    ] {
        assert!(
            message.contains(place),
            "{place} is not named in: {message}"
        );
    }
    assert!(
        message.starts_with("The fixture breaks 4 rules, so nothing was created"),
        "{message}"
    );
    assert_eq!(organization_count(&s).await, before, "nothing was created");

    // A document that is not a fixture names where, as text and as an object.
    let got = create(&s, json!({ "fixture": "users:\n  - {emial: a@x.test}\n" })).await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("fixture.users[0].emial"),
    );
    let got = create(&s, json!({ "fixture": "users: [" })).await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
    assert!(
        str_of(&got.1["error"]["message"]).contains("line"),
        "{}",
        got.1
    );
    let got = create(&s, json!({ "fixture": {"projects": {"name": "x"}} })).await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("fixture.projects"),
    );
    let got = create(&s, json!({ "fixture": 42 })).await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("fixture"),
    );

    // A field given both in the body and in the fixture.
    let got = create(
        &s,
        json!({ "name": "A", "fixture": {"organization": {"name": "B"}} }),
    )
    .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "invalid_value", Some("name"));
    // A snapshot and a fixture do not go together.
    let snapshot = ok(s
        .operator(
            Method::GET,
            &format!("/_orgadmin/organizations/{}/snapshot", s.org_id()),
            None,
        )
        .await);
    let got = create(&s, json!({ "snapshot": snapshot, "fixture": {} })).await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("fixture"),
    );
    assert_eq!(organization_count(&s).await, before, "nothing was created");
    s.stop().await;
}

#[tokio::test]
async fn what_only_the_server_knows_is_refused_in_the_same_form() {
    let s = TestServer::start().await;
    // The example's secrets are taken once it exists.
    ok(create(&s, json!({ "fixture": EXAMPLE })).await);
    let before = organization_count(&s).await;
    let got = create(&s, json!({ "fixture": EXAMPLE })).await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("fixture.admin_key"),
    );
    let message = str_of(&got.1["error"]["message"]);
    for place in [
        "admin_keys[0].secret",
        "projects[1].service_accounts[0].secret",
        "projects[1].api_keys[0].secret",
    ] {
        assert!(
            message.contains(place),
            "{place} is not named in: {message}"
        );
    }

    // A person keeps one user ID across organizations: the owner of the server's first
    // organization cannot be given another one.
    let got = create(
        &s,
        json!({ "fixture": {
            "owner": {"email": "someone@x.test"},
            "users": [{"id": "user-someone-else", "email": "owner@example.com"}]
        } }),
    )
    .await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("fixture.users[0].id"),
    );
    assert!(
        str_of(&got.1["error"]["message"]).contains(&s.owner_id()),
        "{}",
        got.1
    );
    // Nor can a person's ID be given to another person.
    let got = create(
        &s,
        json!({ "fixture": {"users": [{"id": s.owner_id(), "email": "someone@else.test"}]} }),
    )
    .await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("fixture.users[0].id"),
    );
    assert_eq!(organization_count(&s).await, before, "nothing was created");

    // The same people in another organization keep their IDs, without giving them.
    let created = ok(create(
        &s,
        json!({ "fixture": {"users": [{"email": "alice@acme.test"}]}, "owner_email": "olivia@acme.test" }),
    )
    .await);
    assert_eq!(created["owner"]["id"], "user-olivia");
    let key = str_of(&created["admin_key"]["value"]);
    let members = users(&s, &key).await;
    assert!(
        members.iter().any(|u| u["id"] == "user-alice"),
        "{members:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn reset_brings_the_organization_back_to_its_fixture_with_the_same_ids() {
    let s = TestServer::start().await;
    let fixture = json!({
        "users": [{"id": "user-ann", "email": "ann@x.test"}],
        "projects": [{"id": "proj_p", "name": "P", "members": [{"user": "user-ann"}],
                      "service_accounts": [{"id": "svc_acct_bot", "name": "bot"}]}],
        "admin_keys": [{"id": "key_ann", "name": "Ann's", "owner": "user-ann"}]
    });
    let created = ok(create(&s, json!({ "fixture": fixture })).await);
    let org = str_of(&created["organization"]["id"]);
    let key = str_of(&created["admin_key"]["value"]);
    // The secrets the server chose are shown once, by key ID.
    let chosen: Vec<String> = created["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| str_of(&k["id"]))
        .collect();
    assert_eq!(chosen.len(), 2, "{created}");
    assert!(chosen.contains(&"key_ann".to_owned()));
    let ann_key = created["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == "key_ann")
        .map(|k| str_of(&k["value"]))
        .unwrap();
    ok(s.get_as(&ann_key, "/v1/organization/users").await);

    // Change it: Ann leaves, a project is made.
    ok(s.delete_as(&key, "/v1/organization/users/user-ann").await);
    ok(
        s.post_as(&key, "/v1/organization/projects", json!({"name": "Extra"}))
            .await,
    );
    assert_eq!(
        s.get_as(&ann_key, "/v1/organization/users").await.0,
        StatusCode::UNAUTHORIZED,
        "Ann's key went with her"
    );

    ok(s.operator(
        Method::POST,
        &format!("/_orgadmin/organizations/{org}/reset"),
        None,
    )
    .await);
    let members = users(&s, &key).await;
    assert!(members.iter().any(|u| u["id"] == "user-ann"), "{members:?}");
    let projects = ok(s.get_as(&key, "/v1/organization/projects").await);
    let mut names: Vec<String> = projects["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| str_of(&p["name"]))
        .collect();
    names.sort();
    assert_eq!(names, ["Default Project", "P"]);
    let accounts = ok(s
        .get_as(&key, "/v1/organization/projects/proj_p/service_accounts")
        .await);
    assert_eq!(ids(&accounts), ["svc_acct_bot"]);
    // Ann's key is back with the secret it was made with.
    ok(s.get_as(&ann_key, "/v1/organization/users").await);

    // A reset of an organization made without a fixture stays as before: nothing but creation.
    let plain = ok(create(&s, json!({})).await);
    let plain_org = str_of(&plain["organization"]["id"]);
    let plain_key = str_of(&plain["admin_key"]["value"]);
    ok(s.post_as(
        &plain_key,
        "/v1/organization/projects",
        json!({"name": "Gone"}),
    )
    .await);
    ok(s.operator(
        Method::POST,
        &format!("/_orgadmin/organizations/{plain_org}/reset"),
        None,
    )
    .await);
    let projects = ok(s.get_as(&plain_key, "/v1/organization/projects").await);
    assert_eq!(projects["data"].as_array().unwrap().len(), 1);
    s.stop().await;
}
