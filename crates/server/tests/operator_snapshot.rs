//! Snapshots of an organization (`/_orgadmin/organizations/{org_id}/snapshot`): a snapshot
//! restored in place and taken again is the same document; restored as a new organization it
//! keeps every ID but the organization's, with new key secrets; a restore undoes what happened
//! after the snapshot; and every bad snapshot is a 400 that changes nothing. Runs on the backend
//! `ORGADMIN_TEST_BACKEND` selects.

use orgadmin_testkit::{assert_error, database, ok, operator_key, str_of, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every table a snapshot holds.
const TABLES: [&str; 19] = [
    "admin_api_keys",
    "audit_logs",
    "group_users",
    "groups",
    "invites",
    "project_api_keys",
    "project_groups",
    "project_hosted_tools",
    "project_model_permissions",
    "project_rate_limits",
    "project_users",
    "projects",
    "role_assignments",
    "roles",
    "scim_group_members",
    "scim_groups",
    "scim_users",
    "service_accounts",
    "users",
];

fn snapshot_path(org: &str) -> String {
    format!("/_orgadmin/organizations/{org}/snapshot")
}

async fn snapshot(s: &TestServer, org: &str) -> Value {
    ok(s.operator(Method::GET, &snapshot_path(org), None).await)
}

/// What the organization was given, so that tests can look for it.
struct Populated {
    member: String,
    project: String,
}

/// Something in every table of the server's organization: a member in a project and a group
/// that has the project, a custom role assigned, a pending invite, a service account with its
/// key, a member's project key, a second admin key, model permissions, hosted tools and a rate
/// limit; the audit log has all of it.
async fn populate(s: &TestServer) -> Populated {
    let member = s.add_member("member@example.com", "reader").await;
    ok(s.post(
        "/v1/organization/invites",
        json!({"email": "pending@example.com", "role": "reader", "projects": []}),
    )
    .await);
    let project = s.create_project("Snapshot project").await;
    s.add_project_user(&project, &member, "member").await;
    let role = s
        .create_org_role("Snapshot readers", &["api.organization.projects.read"])
        .await;
    ok(s.post(
        &format!("/v1/organization/users/{member}/roles"),
        json!({"role_id": role}),
    )
    .await);
    let group = ok(s
        .post("/v1/organization/groups", json!({"name": "Snapshot group"}))
        .await);
    let group = str_of(&group["id"]);
    ok(s.post(
        &format!("/v1/organization/groups/{group}/users"),
        json!({"user_id": member}),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/groups"),
        json!({"group_id": group, "role": "member"}),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/service_accounts"),
        json!({"name": "Snapshot bot"}),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/api_keys"),
        json!({"name": "Member key", "user_id": member}),
    )
    .await);
    s.create_key(json!({"name": "Second admin key"})).await;
    // SCIM: a provisioned person, deactivated while in a SCIM group (which keeps them).
    let scim = |method: Method, path: &str, body: Value| {
        let auth = format!("Bearer {}", s.owner_key);
        let path = format!("/scim/v2{path}");
        async move { s.send(method, &path, Some(&auth), Some(&body)).await }
    };
    let (status, provisioned) = scim(
        Method::POST,
        "/Users",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "scim@example.com", "externalId": "idp-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{provisioned}");
    let provisioned = str_of(&provisioned["id"]);
    let (status, group) = scim(
        Method::POST,
        "/Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "SCIM group", "members": [{"value": provisioned}]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    ok(scim(
        Method::PATCH,
        &format!("/Users/{provisioned}"),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/model_permissions"),
        json!({"mode": "allow_list", "model_ids": ["gpt-4.1", "o3"]}),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/hosted_tool_permissions"),
        json!({"image_generation": {"enabled": false}}),
    )
    .await);
    let limits = ok(s
        .get(&format!("/v1/organization/projects/{project}/rate_limits"))
        .await);
    let limit = str_of(&limits["data"][0]["id"]);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/rate_limits/{limit}"),
        json!({"max_requests_per_1_minute": 1}),
    )
    .await);
    Populated { member, project }
}

/// The snapshot without what a copy changes: the organization's ID (also in every row) and the
/// keys' hashes and redacted values.
fn without_org_and_secrets(mut snapshot: Value) -> Value {
    snapshot["organization"]["id"] = Value::Null;
    for (table, rows) in snapshot["tables"].as_object_mut().unwrap() {
        for row in rows.as_array_mut().unwrap() {
            row["org_id"] = Value::Null;
            if table.ends_with("api_keys") {
                row["secret_hash"] = Value::Null;
                row["redacted_value"] = Value::Null;
            }
        }
    }
    snapshot
}

/// The snapshot restored as a new organization: the create's answer.
async fn copy_of(s: &TestServer, taken: &Value) -> Value {
    ok(s.operator(
        Method::POST,
        "/_orgadmin/organizations",
        Some(json!({"snapshot": taken})),
    )
    .await)
}

fn member_ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| str_of(&u["id"]))
        .collect()
}

#[tokio::test]
async fn a_snapshot_restored_in_place_and_taken_again_is_the_same_document() {
    let s = TestServer::start().await;
    populate(&s).await;
    let taken = snapshot(&s, &s.org_id()).await;
    assert_eq!(taken["object"], "organization.snapshot");
    assert!(
        taken["version"].as_i64().unwrap() >= 9,
        "{}",
        taken["version"]
    );
    let backend = match database::backend() {
        database::Backend::Sqlite => "sqlite",
        database::Backend::Postgres => "postgres",
    };
    assert_eq!(taken["backend"], backend);
    assert_eq!(taken["organization"]["id"], s.org_id());
    let tables: Vec<&str> = taken["tables"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(tables, TABLES);
    for table in TABLES {
        let rows = taken["tables"][table].as_array().unwrap();
        assert!(!rows.is_empty(), "nothing in {table}");
        assert!(
            rows.iter().all(|row| row["org_id"] == s.org_id()),
            "{table}"
        );
    }
    // Process state is not data: the generation is nowhere, and the key-use epoch not a table.
    let text = taken.to_string();
    assert!(!text.contains("\"generation\""), "{text}");
    assert!(taken["tables"].get("key_use").is_none());
    // Taking one changes nothing: twice is the same document.
    assert_eq!(snapshot(&s, &s.org_id()).await, taken);

    let restored = ok(s
        .operator(
            Method::PUT,
            &snapshot_path(&s.org_id()),
            Some(taken.clone()),
        )
        .await);
    assert_eq!(restored["object"], "organization");
    assert_eq!(restored["id"], s.org_id());
    assert_eq!(snapshot(&s, &s.org_id()).await, taken);
    // The keys restored are the keys the organization had: the owner key still works.
    ok(s.get("/v1/organization/users").await);
    s.stop().await;
}

#[tokio::test]
async fn restoring_undoes_what_happened_after_the_snapshot() {
    let s = TestServer::start().await;
    let populated = populate(&s).await;
    let taken = snapshot(&s, &s.org_id()).await;
    let before = member_ids(&ok(s.get("/v1/organization/users").await));

    // After the snapshot: a member joins, the first one is removed, a key and a project appear.
    let later = s.add_member("later@example.com", "reader").await;
    ok(
        s.delete(&format!("/v1/organization/users/{}", populated.member))
            .await,
    );
    let (_, later_key) = s.create_key(json!({"name": "Made after"})).await;
    ok(s.get_as(&later_key, "/v1/organization/users").await);
    ok(s.post(
        &format!("/v1/organization/projects/{}", populated.project),
        json!({"name": "Renamed after"}),
    )
    .await);
    ok(s.operator(
        Method::PUT,
        &snapshot_path(&s.org_id()),
        Some(taken.clone()),
    )
    .await);

    let now = member_ids(&ok(s.get("/v1/organization/users").await));
    assert_eq!(now, before);
    assert!(now.contains(&populated.member), "{now:?}");
    assert!(!now.contains(&later), "{now:?}");
    let project = ok(s
        .get(&format!("/v1/organization/projects/{}", populated.project))
        .await);
    assert_eq!(project["name"], "Snapshot project");
    // The key made after the snapshot is refused at once, though this server had it remembered.
    let got = s.get_as(&later_key, "/v1/organization/users").await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_api_key", None);
    assert_eq!(snapshot(&s, &s.org_id()).await, taken);
    s.stop().await;
}

#[tokio::test]
async fn a_snapshot_restored_as_a_new_organization_keeps_every_id_with_new_secrets() {
    let s = TestServer::start().await;
    populate(&s).await;
    let taken = snapshot(&s, &s.org_id()).await;

    let copy = copy_of(&s, &taken).await;
    let copy_org = str_of(&copy["organization"]["id"]);
    assert_ne!(copy_org, s.org_id());
    assert_eq!(copy["organization"]["name"], taken["organization"]["name"]);
    assert_eq!(copy["owner"]["id"], s.owner_id());
    assert_eq!(copy["default_project"]["id"], s.default_project_id());
    assert_eq!(copy["admin_key"]["id"], s.owner_key_id());
    let copy_key = str_of(&copy["admin_key"]["value"]);
    assert!(copy_key.starts_with("sk-admin-"), "{copy_key}");
    assert_ne!(copy_key, s.owner_key);

    // Every key of the copy was given a new secret of its kind, and the answer lists them all.
    let rekeyed = copy["api_keys"].as_array().unwrap();
    let key_rows: Vec<(&str, &Value)> = ["admin_api_keys", "project_api_keys"]
        .into_iter()
        .flat_map(|t| {
            taken["tables"][t]
                .as_array()
                .unwrap()
                .iter()
                .map(move |r| (t, r))
        })
        .collect();
    assert_eq!(rekeyed.len(), key_rows.len(), "{rekeyed:?}");
    for (table, row) in &key_rows {
        let key = rekeyed
            .iter()
            .find(|k| k["id"] == row["id"])
            .unwrap_or_else(|| panic!("{} not re-keyed", row["id"]));
        let value = str_of(&key["value"]);
        let prefix = if *table == "admin_api_keys" {
            "sk-admin-"
        } else if row["owner_service_account_id"].is_null() {
            "sk-proj-"
        } else {
            "sk-svcacct-"
        };
        assert!(value.starts_with(prefix), "{value} for {row}");
    }
    assert!(rekeyed
        .iter()
        .any(|k| k["value"] == copy["admin_key"]["value"]));

    // The copy is the original but for its ID and its keys' secrets.
    let copied = snapshot(&s, &copy_org).await;
    assert_eq!(
        without_org_and_secrets(copied.clone()),
        without_org_and_secrets(taken.clone())
    );
    for table in ["admin_api_keys", "project_api_keys"] {
        let hashes = |doc: &Value| -> Vec<Value> {
            doc["tables"][table]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["secret_hash"].clone())
                .collect()
        };
        let (original, copied) = (hashes(&taken), hashes(&copied));
        assert!(original.iter().all(|h| !copied.contains(h)), "{table}");
    }

    // Each organization's keys open it alone: the copy's key sees the copy's keys, the
    // original's key the original's, and a change in one is not in the other.
    let keys_seen = |list: Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| str_of(&k["redacted_value"]))
            .collect()
    };
    let copy_keys = keys_seen(ok(s
        .get_as(&copy_key, "/v1/organization/admin_api_keys")
        .await));
    let original_keys = keys_seen(ok(s.get("/v1/organization/admin_api_keys").await));
    assert!(
        copy_keys.iter().all(|k| !original_keys.contains(k)),
        "{copy_keys:?} {original_keys:?}"
    );
    assert_eq!(
        member_ids(&ok(s.get_as(&copy_key, "/v1/organization/users").await)),
        member_ids(&ok(s.get("/v1/organization/users").await))
    );
    ok(s.post_as(
        &copy_key,
        "/v1/organization/projects",
        json!({"name": "Only in the copy"}),
    )
    .await);
    let original_projects = ok(s.get("/v1/organization/projects?limit=100").await);
    assert!(!original_projects.to_string().contains("Only in the copy"));
    assert_eq!(snapshot(&s, &s.org_id()).await, taken);

    // The same snapshot restores as a new organization again: its secrets are new each time.
    let again = copy_of(&s, &taken).await;
    assert_ne!(again["organization"]["id"], copy["organization"]["id"]);
    ok(s.get_as(
        &str_of(&again["admin_key"]["value"]),
        "/v1/organization/users",
    )
    .await);

    // A copy that no key would open is refused.
    let keyless = edited(&taken, |d| d["tables"]["admin_api_keys"] = json!([]));
    let got = s
        .operator(
            Method::POST,
            "/_orgadmin/organizations",
            Some(json!({"snapshot": keyless})),
        )
        .await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("snapshot.tables.admin_api_keys"),
    );

    // A snapshot goes alone.
    let got = s
        .operator(
            Method::POST,
            "/_orgadmin/organizations",
            Some(json!({"snapshot": taken.clone(), "name": "Other"})),
        )
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "invalid_value", Some("name"));
    s.stop().await;
}

#[tokio::test]
async fn a_copy_resets_to_its_first_owner_default_project_and_new_key() {
    let s = TestServer::start().await;
    let Populated { member, project } = populate(&s).await;
    let taken = snapshot(&s, &s.org_id()).await;
    let copy = copy_of(&s, &taken).await;
    let copy_org = str_of(&copy["organization"]["id"]);
    let copy_key = str_of(&copy["admin_key"]["value"]);
    ok(s.post_as(
        &copy_key,
        "/v1/organization/projects",
        json!({"name": "Made in the copy"}),
    )
    .await);

    let reset_path = format!("/_orgadmin/organizations/{copy_org}/reset");
    let reset = ok(s.operator(Method::POST, &reset_path, None).await);
    assert_eq!(reset["organization"], copy["organization"]);
    assert_eq!(reset["owner"]["id"], s.owner_id());
    assert_eq!(reset["owner"]["role"], "owner");
    assert_eq!(reset["default_project"]["id"], s.default_project_id());
    assert_eq!(reset["admin_key"]["id"], s.owner_key_id());
    assert_eq!(
        reset["admin_key"]["redacted_value"],
        copy["admin_key"]["redacted_value"]
    );
    assert!(reset["admin_key"].get("value").is_none(), "{reset}");

    // The copy's new key opens it still, and sees only what creation makes.
    let users = ok(s.get_as(&copy_key, "/v1/organization/users").await);
    assert_eq!(member_ids(&users), [s.owner_id()]);
    let projects = ok(s
        .get_as(&copy_key, "/v1/organization/projects?include_archived=true")
        .await);
    assert_eq!(member_ids(&projects), [s.default_project_id()]);
    let keys = ok(s.get_as(&copy_key, "/v1/organization/admin_api_keys").await);
    assert_eq!(member_ids(&keys), [s.owner_key_id()]);
    let audit = ok(s.get_as(&copy_key, "/v1/organization/audit_logs").await);
    assert_eq!(member_ids(&audit), Vec::<String>::new());
    // The original kept everything, and its own reset goes back to its own creation.
    assert_eq!(snapshot(&s, &s.org_id()).await, taken);
    let theirs = ok(s.get("/v1/organization/users").await);
    assert!(member_ids(&theirs).contains(&member), "{theirs}");
    let original = format!("/_orgadmin/organizations/{}/reset", s.org_id());
    ok(s.operator(Method::POST, &original, None).await);
    let gone = s.get(&format!("/v1/organization/projects/{project}")).await;
    assert_error(
        &gone,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("project_id"),
    );
    ok(s.get_as(&copy_key, "/v1/organization/users").await);
    s.stop().await;
}

/// `doc` with its audit log grown to about `bytes` bytes: copies of its last event, each with
/// an ID of its own, as a busy organization's log would be.
fn with_audit_log_of(doc: &Value, bytes: usize) -> Value {
    edited(doc, |d| {
        let events = d["tables"]["audit_logs"].as_array_mut().unwrap();
        let last = events.last().unwrap().clone();
        let size = last.to_string().len();
        for i in 0..bytes / size {
            let mut event = last.clone();
            event["id"] = json!(format!("{}-{i:07}", str_of(&last["id"])));
            events.push(event);
        }
    })
}

#[tokio::test]
async fn a_snapshot_past_the_usual_body_limit_restores_and_one_over_64_mib_is_refused() {
    let s = TestServer::start().await;
    populate(&s).await;
    let taken = snapshot(&s, &s.org_id()).await;
    let big = with_audit_log_of(&taken, 4 * 1024 * 1024);
    assert!(big.to_string().len() > 4 * 1024 * 1024);
    let events = big["tables"]["audit_logs"].as_array().unwrap().len();

    // In place, and as a new organization: both take it whole.
    ok(
        s.operator(Method::PUT, &snapshot_path(&s.org_id()), Some(big.clone()))
            .await,
    );
    assert_eq!(snapshot(&s, &s.org_id()).await, big);
    let copy = copy_of(&s, &big).await;
    let copied = snapshot(&s, &str_of(&copy["organization"]["id"])).await;
    assert_eq!(
        copied["tables"]["audit_logs"].as_array().unwrap().len(),
        events
    );

    // Over 64 MiB: refused before it is read when declared, and when it passes the limit
    // when it is sent with no length; nothing changes either way.
    let host = s.base_url.trim_start_matches("http://").to_owned();
    let over = 64 * 1024 * 1024 + 1;
    for (method, path) in [
        ("PUT", snapshot_path(&s.org_id())),
        ("POST", "/_orgadmin/organizations".to_owned()),
    ] {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {over}\r\nExpect: 100-continue\r\n\r\n",
            operator_key()
        );
        let (status, body) = s.raw_exchange(head, Vec::new()).await;
        assert_eq!(status, 413, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "request_too_large", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("64 MiB"), "{message}");

        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            operator_key()
        );
        let mut sent = b"{\"snapshot\": ".to_vec();
        sent.resize(over + (1 << 20), b' ');
        let (status, body) = s.raw_exchange(head, sent).await;
        assert_eq!(status, 413, "{method} {path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("64 MiB"), "{message}");
    }
    assert_eq!(snapshot(&s, &s.org_id()).await, big);
    let organizations = ok(s
        .operator(Method::GET, "/_orgadmin/organizations", None)
        .await);
    assert_eq!(organizations["data"].as_array().unwrap().len(), 2);

    // Other operator routes keep the 1 MiB limit.
    let clock = format!("/_orgadmin/organizations/{}/clock", s.org_id());
    let got = s
        .operator(
            Method::POST,
            &clock,
            Some(json!({"advance_seconds": 1, "pad": "x".repeat(2 * 1024 * 1024)})),
        )
        .await;
    assert_error(
        &got,
        StatusCode::PAYLOAD_TOO_LARGE,
        "request_too_large",
        None,
    );
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("1 MiB"), "{message}");
    s.stop().await;
}

/// A copy of `doc` changed by `edit`.
fn edited(doc: &Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut doc = doc.clone();
    edit(&mut doc);
    doc
}

#[tokio::test]
async fn a_bad_snapshot_is_refused_with_400_and_changes_nothing() {
    let s = TestServer::start().await;
    populate(&s).await;
    let taken = snapshot(&s, &s.org_id()).await;
    let other = ok(s
        .operator(Method::POST, "/_orgadmin/organizations", None)
        .await);
    let other_snapshot = snapshot(&s, &str_of(&other["organization"]["id"])).await;
    let falsy = |v: &Value| {
        if v.is_boolean() {
            json!(false)
        } else {
            json!(0)
        }
    };

    let bad: Vec<(&str, Value, &str)> = vec![
        (
            "another version",
            edited(&taken, |d| {
                d["version"] = json!(d["version"].as_i64().unwrap() + 1)
            }),
            "version",
        ),
        (
            "another backend",
            edited(&taken, |d| {
                let other = if d["backend"] == "sqlite" {
                    "postgres"
                } else {
                    "sqlite"
                };
                d["backend"] = json!(other)
            }),
            "backend",
        ),
        (
            "another object",
            edited(&taken, |d| d["object"] = json!("organization")),
            "object",
        ),
        (
            "an unknown table",
            edited(&taken, |d| d["tables"]["shoes"] = json!([])),
            "tables.shoes",
        ),
        (
            "a missing table",
            edited(&taken, |d| {
                d["tables"].as_object_mut().unwrap().remove("groups");
            }),
            "tables.groups",
        ),
        (
            "an unknown column",
            edited(&taken, |d| d["tables"]["users"][0]["shoe_size"] = json!(44)),
            "tables.users[0].shoe_size",
        ),
        (
            "a missing column",
            edited(&taken, |d| {
                d["tables"]["users"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("email");
            }),
            "tables.users[0].email",
        ),
        (
            "a string for an integer",
            edited(&taken, |d| {
                d["tables"]["users"][0]["added_at"] = json!("yesterday")
            }),
            "tables.users[0].added_at",
        ),
        (
            "a number for a string",
            edited(&taken, |d| d["tables"]["users"][0]["name"] = json!(7)),
            "tables.users[0].name",
        ),
        (
            "null in a NOT NULL column",
            edited(&taken, |d| d["tables"]["users"][0]["email"] = Value::Null),
            "tables.users[0].email",
        ),
        (
            "a row twice (unique)",
            edited(&taken, |d| {
                let row = d["tables"]["users"][0].clone();
                d["tables"]["users"].as_array_mut().unwrap().push(row);
            }),
            "tables.users",
        ),
        (
            "a membership of no project (foreign key)",
            edited(&taken, |d| {
                d["tables"]["project_users"][0]["project_id"] = json!("proj_nowhere")
            }),
            "tables.project_users",
        ),
        (
            "a role the schema does not allow (check)",
            edited(&taken, |d| {
                d["tables"]["users"][0]["role"] = json!("emperor")
            }),
            "tables.users",
        ),
        (
            "no default project",
            edited(&taken, |d| {
                for row in d["tables"]["projects"].as_array_mut().unwrap() {
                    row["is_default"] = falsy(&row["is_default"]);
                }
            }),
            "tables.projects",
        ),
        (
            "no owner",
            edited(&taken, |d| {
                for row in d["tables"]["users"].as_array_mut().unwrap() {
                    row["role"] = json!("reader");
                }
            }),
            "tables.users",
        ),
        (
            "another organization's keys, still in use there",
            other_snapshot.clone(),
            "tables.admin_api_keys",
        ),
    ];
    for (what, doc, param) in bad {
        let got = s
            .operator(Method::PUT, &snapshot_path(&s.org_id()), Some(doc.clone()))
            .await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{what}: {}", got.1);
        assert_eq!(got.1["error"]["param"], param, "{what}: {}", got.1);
        let message = got.1["error"]["message"].as_str().unwrap();
        assert!(message.len() > 20, "{what}: {message}");
        assert_eq!(
            snapshot(&s, &s.org_id()).await,
            taken,
            "{what} changed something"
        );

        // As a new organization, the same refusal, placed in the body.
        if param != "tables.admin_api_keys" {
            let got = s
                .operator(
                    Method::POST,
                    "/_orgadmin/organizations",
                    Some(json!({"snapshot": doc})),
                )
                .await;
            assert_eq!(got.0, StatusCode::BAD_REQUEST, "{what} (new): {}", got.1);
            assert_eq!(
                got.1["error"]["param"],
                format!("snapshot.{param}"),
                "{what} (new): {}",
                got.1
            );
        }
    }

    // Shapes that are no snapshot: not JSON, a table that is no list, a field no snapshot has.
    let client = reqwest::Client::new();
    let raw = client
        .put(format!("{}{}", s.base_url, snapshot_path(&s.org_id())))
        .bearer_auth(operator_key())
        .body("{\"object\": \"organization.snapshot\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    for doc in [
        edited(&taken, |d| d["tables"]["users"] = json!(5)),
        edited(&taken, |d| d["tables"]["users"] = json!([1, 2])),
        edited(&taken, |d| d["extra"] = json!(true)),
        edited(&taken, |d| d["version"] = json!("9")),
        json!({}),
    ] {
        let got = s
            .operator(Method::PUT, &snapshot_path(&s.org_id()), Some(doc))
            .await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
        assert_eq!(got.1["error"]["type"], "invalid_request_error", "{}", got.1);
    }
    assert_eq!(snapshot(&s, &s.org_id()).await, taken);
    // The other organization was not touched either.
    assert_eq!(
        snapshot(&s, &str_of(&other["organization"]["id"])).await,
        other_snapshot
    );
    s.stop().await;
}

#[tokio::test]
async fn an_unknown_organization_has_no_snapshot() {
    let s = TestServer::start().await;
    let taken = snapshot(&s, &s.org_id()).await;
    let path = snapshot_path("org_nowhere");
    let got = s.operator(Method::GET, &path, None).await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
    let got = s.operator(Method::PUT, &path, Some(taken)).await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
    s.stop().await;
}
