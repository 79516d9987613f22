//! The operator API (`/_orgadmin/…`): its key and only its key opens it, admin keys are refused
//! there and the operator key on `/v1`, and the organizations it creates are whole and isolated.
//! Runs on the backend `ORGADMIN_TEST_BACKEND` selects.

use orgadmin_testkit::{assert_error, ids, ok, operator_key, owner_key, str_of, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every operation of the operator API, from the served OpenAPI document, as its method and
/// path template (`/_orgadmin/organizations/{org_id}/…`).
async fn operator_templates(s: &TestServer) -> Vec<(Method, String)> {
    let document = ok(s.get("/v1/openapi.json").await);
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/_orgadmin/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            assert_eq!(operation["tags"], json!(["operator"]), "{method} {path}");
            assert_eq!(
                operation["security"],
                json!([{"OperatorKeyAuth": []}]),
                "{method} {path}"
            );
            operations.push((method.to_uppercase().parse().unwrap(), path.clone()));
        }
    }
    operations
}

/// Every operation of the operator API, its path naming the server's organization.
async fn operator_operations(s: &TestServer) -> Vec<(Method, String)> {
    operator_templates(s)
        .await
        .into_iter()
        .map(|(method, path)| (method, path.replace("{org_id}", &s.org_id())))
        .collect()
}

#[tokio::test]
async fn only_the_operator_key_opens_the_operator_api() {
    let s = TestServer::start().await;
    let operations = operator_operations(&s).await;
    assert!(operations.len() >= 5, "{operations:?}");
    let admin = format!("Bearer {}", owner_key());
    let refused = [
        (None, "missing_api_key"),
        (Some(admin.as_str()), "invalid_api_key"),
        (Some("Bearer sk-operator-wrong"), "invalid_api_key"),
        (Some("Basic abc"), "invalid_api_key"),
    ];
    for (method, path) in &operations {
        for (authorization, code) in refused {
            let got = s.send(method.clone(), path, authorization, None).await;
            assert_error(&got, StatusCode::UNAUTHORIZED, code, None);
        }
    }
    // An admin key is told what opens the operator API.
    let (method, path) = &operations[0];
    let got = s.send(method.clone(), path, Some(&admin), None).await;
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("operator key"), "{message}");

    // The operator key opens nothing on /v1.
    let got = s.get_as(&operator_key(), "/v1/organization/users").await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_api_key", None);
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("/_orgadmin/"), "{message}");
    s.stop().await;
}

#[tokio::test]
async fn a_new_organization_has_its_owner_default_project_and_a_working_admin_key() {
    let s = TestServer::start().await;
    let created = ok(s
        .operator(Method::POST, "/_orgadmin/organizations", None)
        .await);
    let org = &created["organization"];
    assert_eq!(org["object"], "organization");
    assert_eq!(org["name"], "Default Organization");
    assert_ne!(str_of(&org["id"]), s.org_id());
    assert_eq!(created["owner"]["email"], "owner@example.com");
    assert_eq!(created["owner"]["role"], "owner");
    assert_eq!(created["default_project"]["name"], "Default Project");
    let key = str_of(&created["admin_key"]["value"]);
    assert!(key.starts_with("sk-admin-"), "{key}");

    // The key works, in that organization alone.
    let users = ok(s.get_as(&key, "/v1/organization/users").await);
    assert_eq!(users["data"].as_array().unwrap().len(), 1);
    assert_eq!(users["data"][0]["id"], created["owner"]["id"]);
    let projects = ok(s.get_as(&key, "/v1/organization/projects").await);
    assert_eq!(projects["data"][0]["id"], created["default_project"]["id"]);
    let keys = ok(s.get_as(&key, "/v1/organization/admin_api_keys").await);
    assert_eq!(keys["data"][0]["id"], created["admin_key"]["id"]);
    assert!(keys["data"][0].get("value").is_none());

    // Retrieve answers what create made; the first organization is untouched.
    let path = format!("/_orgadmin/organizations/{}", str_of(&org["id"]));
    assert_eq!(&ok(s.operator(Method::GET, &path, None).await), org);
    let first = ok(s
        .operator(
            Method::GET,
            &format!("/_orgadmin/organizations/{}", s.org_id()),
            None,
        )
        .await);
    assert_eq!(first["id"], s.org_id());
    let mine = ok(s.get("/v1/organization/users").await);
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn the_body_names_the_organization_its_owner_and_its_admin_key() {
    let s = TestServer::start().await;
    let secret = format!("sk-admin-{}", "t".repeat(40));
    let created = ok(s
        .operator(
            Method::POST,
            "/_orgadmin/organizations",
            Some(json!({
                "name": "Acme Test",
                "owner_email": "Alice@Example.com",
                "owner_name": "Alice",
                "admin_key": secret,
            })),
        )
        .await);
    assert_eq!(created["organization"]["name"], "Acme Test");
    assert_eq!(created["owner"]["email"], "Alice@Example.com");
    assert_eq!(created["owner"]["name"], "Alice");
    assert_eq!(created["admin_key"]["value"], secret.as_str());
    let me = ok(s.get_as(&secret, "/v1/organization/users").await);
    assert_eq!(me["data"][0]["email"], "Alice@Example.com");

    // The same secret twice would make one key open two organizations.
    let again = s
        .operator(
            Method::POST,
            "/_orgadmin/organizations",
            Some(json!({ "admin_key": secret })),
        )
        .await;
    assert_error(
        &again,
        StatusCode::CONFLICT,
        "already_exists",
        Some("admin_key"),
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_creates_nothing() {
    let s = TestServer::start().await;
    let cases: [(Value, &str); 6] = [
        (json!({ "owner_email": "not an address" }), "owner_email"),
        (json!({ "name": "" }), "name"),
        (json!({ "name": "a\u{0007}b" }), "name"),
        (json!({ "owner_name": "x".repeat(256) }), "owner_name"),
        (json!({ "admin_key": "sk-admin-short" }), "admin_key"),
        (
            json!({ "admin_key": format!("sk-operator-{}", "k".repeat(40)) }),
            "admin_key",
        ),
    ];
    for (body, param) in cases {
        let got = s
            .operator(Method::POST, "/_orgadmin/organizations", Some(body.clone()))
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_value", Some(param));
    }
    // A misspelt field is named, not ignored.
    let got = s
        .operator(
            Method::POST,
            "/_orgadmin/organizations",
            Some(json!({ "owner_mail": "a@example.com" })),
        )
        .await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("owner_mail"), "{message}");
    let got = s
        .send(
            Method::POST,
            "/_orgadmin/organizations",
            Some(&format!("Bearer {}", operator_key())),
            Some(&json!([1, 2])),
        )
        .await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);

    for id in ["org-missing", "org_01", "%00"] {
        let got = s
            .operator(Method::GET, &format!("/_orgadmin/organizations/{id}"), None)
            .await;
        assert_error(&got, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
    }
    s.stop().await;
}

/// Create an organization through the operator API; its answer.
async fn create_org(s: &TestServer, body: Value) -> Value {
    ok(
        s.operator(Method::POST, "/_orgadmin/organizations", Some(body))
            .await,
    )
}

fn org_path(id: &str) -> String {
    format!("/_orgadmin/organizations/{id}")
}

/// Create and reset answer from what they wrote, with no read: the very documents the
/// organization's own routes read back afterwards. Only the last use of the key differs, as
/// reading with the key is its first use; the answers show it unused.
#[tokio::test]
async fn create_and_reset_answer_what_is_read_back_afterwards() {
    let s = TestServer::start().await;
    for body in [
        // The first organization's owner again: the same person, with their first date.
        json!({}),
        json!({ "name": "Acme", "owner_email": "Bea@Example.com", "owner_name": "Bea" }),
        // A fixture that names the default project and puts the owner in another project.
        json!({ "fixture": {
            "owner": {"email": "fix@example.com"},
            "projects": [
                {"name": "Sandbox", "default": true},
                {"name": "Other", "members": [{"user": "fix@example.com", "role": "owner"}]}
            ]
        } }),
    ] {
        let created = create_org(&s, body).await;
        let key = str_of(&created["admin_key"]["value"]);
        assert_read_back(&s, &key, &created).await;

        let org_id = str_of(&created["organization"]["id"]);
        let reset = ok(s
            .operator(Method::POST, &format!("{}/reset", org_path(&org_id)), None)
            .await);
        let mut unkeyed = created.clone();
        unkeyed["admin_key"]
            .as_object_mut()
            .unwrap()
            .remove("value");
        // The secrets the server chose for a fixture's keys are shown by create alone.
        unkeyed.as_object_mut().unwrap().remove("api_keys");
        assert_eq!(reset, unkeyed);
        assert_read_back(&s, &key, &reset).await;
    }
    s.stop().await;
}

/// `answer` (of a create or a reset) is what the operator API and the organization's key read.
async fn assert_read_back(s: &TestServer, key: &str, answer: &Value) {
    let org_id = str_of(&answer["organization"]["id"]);
    let organization = ok(s.operator(Method::GET, &org_path(&org_id), None).await);
    assert_eq!(organization, answer["organization"]);

    assert!(
        answer["owner"]["api_key_last_used_at"].is_null(),
        "{answer}"
    );
    let owner_path = format!("/v1/organization/users/{}", str_of(&answer["owner"]["id"]));
    let mut owner = ok(s.get_as(key, &owner_path).await);
    owner["api_key_last_used_at"] = Value::Null;
    assert_eq!(owner, answer["owner"]);

    let project_path = format!(
        "/v1/organization/projects/{}",
        str_of(&answer["default_project"]["id"])
    );
    assert_eq!(
        ok(s.get_as(key, &project_path).await),
        answer["default_project"]
    );

    assert!(answer["admin_key"]["last_used_at"].is_null(), "{answer}");
    let key_path = format!(
        "/v1/organization/admin_api_keys/{}",
        str_of(&answer["admin_key"]["id"])
    );
    let mut read = ok(s.get_as(key, &key_path).await);
    read["last_used_at"] = Value::Null;
    let mut expected = answer["admin_key"].clone();
    expected.as_object_mut().unwrap().remove("value");
    assert_eq!(read, expected);
}

#[tokio::test]
async fn the_list_pages_every_organization_by_id_both_ways() {
    let s = TestServer::start().await;
    let mut expected = vec![s.org_id()];
    for name in ["One", "Two", "Three", "Four"] {
        let created = create_org(&s, json!({ "name": name })).await;
        expected.push(str_of(&created["organization"]["id"]));
    }

    let all = ok(s
        .operator(Method::GET, "/_orgadmin/organizations", None)
        .await);
    assert_eq!(all["object"], "list");
    assert_eq!(
        ids(&all),
        expected,
        "oldest first, the default limit holds all"
    );
    assert_eq!(all["has_more"], false);
    assert_eq!(all["data"][1]["name"], "One");
    assert_eq!(all["data"][1]["object"], "organization");

    // Forward in pages of two, then back from the end.
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(id) => format!("?limit=2&after={id}"),
            None => "?limit=2".to_owned(),
        };
        let page = ok(s
            .operator(
                Method::GET,
                &format!("/_orgadmin/organizations{query}"),
                None,
            )
            .await);
        let got = ids(&page);
        assert_eq!(page["first_id"], json!(got.first()));
        assert_eq!(page["last_id"], json!(got.last()));
        walked.extend(got);
        if page["has_more"] == false {
            break;
        }
        after = Some(str_of(&page["last_id"]));
    }
    assert_eq!(walked, expected);
    let before = ok(s
        .operator(
            Method::GET,
            &format!("/_orgadmin/organizations?limit=2&before={}", expected[4]),
            None,
        )
        .await);
    assert_eq!(ids(&before), expected[2..4]);
    assert_eq!(before["has_more"], true);

    // An `after` naming an organization that is gone keeps its place.
    ok(s.operator(Method::DELETE, &org_path(&expected[2]), None)
        .await);
    let page = ok(s
        .operator(
            Method::GET,
            &format!("/_orgadmin/organizations?after={}", expected[2]),
            None,
        )
        .await);
    assert_eq!(ids(&page), expected[3..]);

    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("after=org-a&before=org-b", "before"),
    ] {
        let got = s
            .operator(
                Method::GET,
                &format!("/_orgadmin/organizations?{query}"),
                None,
            )
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_value", Some(param));
    }
    s.stop().await;
}

#[tokio::test]
async fn a_deleted_organization_is_gone_with_its_keys_at_once() {
    let s = TestServer::start().await;
    let created = create_org(&s, json!({ "name": "Doomed" })).await;
    let org = str_of(&created["organization"]["id"]);
    let key = str_of(&created["admin_key"]["value"]);
    // Something in it, and its key remembered by the server.
    let project = ok(s
        .post_as(&key, "/v1/organization/projects", json!({ "name": "Work" }))
        .await);
    for _ in 0..3 {
        ok(s.get_as(&key, "/v1/organization/projects").await);
    }

    let deleted = ok(s.operator(Method::DELETE, &org_path(&org), None).await);
    assert_eq!(
        deleted,
        json!({ "object": "organization.deleted", "id": org, "deleted": true })
    );
    let refused = s.get_as(&key, "/v1/organization/projects").await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_api_key", None);
    let refused = s
        .get_as(
            &key,
            &format!("/v1/organization/projects/{}", str_of(&project["id"])),
        )
        .await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_api_key", None);

    for method in [Method::GET, Method::DELETE] {
        let got = s.operator(method, &org_path(&org), None).await;
        assert_error(&got, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
    }
    let got = s
        .operator(Method::POST, &format!("{}/reset", org_path(&org)), None)
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
    let all = ok(s
        .operator(Method::GET, "/_orgadmin/organizations", None)
        .await);
    assert_eq!(ids(&all), [s.org_id()]);

    // The first organization is untouched, and its key works.
    let mine = ok(s.get("/v1/organization/projects").await);
    assert_eq!(ids(&mine), [s.default_project_id()]);

    // The secret of a deleted organization's key is free again.
    let again = create_org(&s, json!({ "admin_key": key })).await;
    let users = ok(s.get_as(&key, "/v1/organization/users").await);
    assert_eq!(ids(&users), [str_of(&again["owner"]["id"])]);
    s.stop().await;
}

#[tokio::test]
async fn unknown_organizations_are_not_found_on_every_route() {
    let s = TestServer::start().await;
    let of_one: Vec<_> = operator_templates(&s)
        .await
        .into_iter()
        .filter(|(_, path)| path.contains("{org_id}"))
        .collect();
    assert!(of_one.len() >= 10, "{of_one:?}");
    for id in ["org-missing", "org_01", "%20"] {
        for (method, template) in &of_one {
            let path = template.replace("{org_id}", id);
            // Before any body is read: an empty body is no reason to answer otherwise.
            let got = s.operator(method.clone(), &path, None).await;
            assert_error(&got, StatusCode::NOT_FOUND, "not_found", Some("org_id"));
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn every_operator_route_refuses_the_methods_it_lacks_with_405() {
    let s = TestServer::start().await;
    let operations = operator_operations(&s).await;
    let mut paths: Vec<&String> = operations.iter().map(|(_, path)| path).collect();
    paths.dedup();
    let mut refused = 0;
    for path in paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if operations.contains(&(method.clone(), path.clone())) {
                continue;
            }
            let got = s.operator(method.clone(), path, Some(json!({}))).await;
            assert_error(
                &got,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                None,
            );
            let message = got.1["error"]["message"].as_str().unwrap();
            assert!(message.contains(method.as_str()), "{message}");
            refused += 1;
        }
    }
    assert!(refused >= 20, "{refused}");
    s.stop().await;
}

#[tokio::test]
async fn reset_brings_the_organization_back_to_its_creation_and_leaves_others_alone() {
    let s = TestServer::start_persistent().await;
    let other = create_org(&s, json!({ "name": "Bystander" })).await;
    let other_key = str_of(&other["admin_key"]["value"]);
    ok(s.post_as(
        &other_key,
        "/v1/organization/projects",
        json!({ "name": "Theirs" }),
    )
    .await);
    let before = ok(s.operator(Method::GET, &org_path(&s.org_id()), None).await);

    // Fill the first organization with one of everything, then take its first key and owner
    // away: a second owner demotes the first and deletes the initial key.
    let project = s.create_project("Gateway").await;
    let reader = s.add_member("reader@example.com", "reader").await;
    s.add_project_user(&project, &reader, "member").await;
    s.create_org_role("Auditor", &["api.organization.users.read"])
        .await;
    s.create_project_role(&project, "Deployer", &["api.files.write"])
        .await;
    ok(s.post("/v1/organization/groups", json!({ "name": "Ops" }))
        .await);
    ok(s.post(
        "/v1/organization/invites",
        json!({ "email": "later@example.com", "role": "reader", "projects": [] }),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/service_accounts"),
        json!({ "name": "bot" }),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/users/{}", s.owner_id()),
        json!({ "developer_persona": "changed" }),
    )
    .await);
    let (_, extra_key) = s.create_key(json!({ "name": "extra" })).await;
    let second = s.add_member("second@example.com", "owner").await;
    let second_key = s.key_for(&second).await;
    ok(s.post_as(
        &second_key,
        &format!("/v1/organization/users/{}", s.owner_id()),
        json!({ "role": "reader" }),
    )
    .await);
    ok(s.delete_as(
        &second_key,
        &format!("/v1/organization/admin_api_keys/{}", s.owner_key_id()),
    )
    .await);
    let gone = s.get("/v1/organization/users").await;
    assert_error(&gone, StatusCode::UNAUTHORIZED, "invalid_api_key", None);

    let reset_path = format!("{}/reset", org_path(&s.org_id()));
    let reset = ok(s.operator(Method::POST, &reset_path, None).await);
    assert_eq!(reset["organization"], before);
    assert_eq!(reset["owner"]["id"], s.owner_id());
    assert_eq!(reset["owner"]["role"], "owner");
    assert_eq!(reset["default_project"]["id"], s.default_project_id());
    assert_eq!(reset["default_project"]["name"], "Default Project");
    assert_eq!(reset["admin_key"]["id"], s.owner_key_id());
    assert!(reset["admin_key"].get("value").is_none(), "{reset}");

    // The first key works again, and sees only what creation made.
    let users = ok(s.get("/v1/organization/users").await);
    assert_eq!(ids(&users), [s.owner_id()]);
    assert_eq!(users["data"][0]["role"], "owner");
    assert!(users["data"][0]["developer_persona"].is_null(), "{users}");
    let projects = ok(s
        .get("/v1/organization/projects?include_archived=true")
        .await);
    assert_eq!(ids(&projects), [s.default_project_id()]);
    let members = ok(s
        .get(&format!(
            "/v1/organization/projects/{}/users",
            s.default_project_id()
        ))
        .await);
    assert_eq!(ids(&members), [s.owner_id()]);
    let keys = ok(s.get("/v1/organization/admin_api_keys").await);
    assert_eq!(ids(&keys), [s.owner_key_id()]);
    for empty in [
        "/v1/organization/invites",
        "/v1/organization/groups",
        "/v1/organization/audit_logs",
    ] {
        let list = ok(s.get(empty).await);
        assert_eq!(ids(&list), Vec::<String>::new(), "{empty}: {list}");
    }
    let roles = ok(s.get("/v1/organization/roles").await);
    assert!(
        roles["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["predefined_role"] == true),
        "{roles}"
    );
    let gone = s.get(&format!("/v1/organization/projects/{project}")).await;
    assert_error(
        &gone,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("project_id"),
    );
    for key in [&extra_key, &second_key] {
        let refused = s.get_as(key, "/v1/organization/users").await;
        assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_api_key", None);
    }

    // Twice is the same as once.
    let again = ok(s.operator(Method::POST, &reset_path, None).await);
    assert_eq!(again, reset);
    ok(s.get("/v1/organization/users").await);

    // The other organization kept everything.
    let theirs = ok(s.get_as(&other_key, "/v1/organization/projects").await);
    assert_eq!(theirs["data"].as_array().unwrap().len(), 2, "{theirs}");
    s.stop().await;
}

#[tokio::test]
async fn reset_refuses_to_remake_a_key_whose_secret_another_organization_took() {
    let s = TestServer::start().await;
    let secret = format!("sk-admin-{}", "r".repeat(40));
    let created = create_org(&s, json!({ "admin_key": secret })).await;
    let org = str_of(&created["organization"]["id"]);
    // A second owner deletes the first key; its secret is then free for another organization.
    let (_, second_key) = {
        let key = ok(s
            .post_as(
                &secret,
                "/v1/organization/admin_api_keys",
                json!({ "name": "two" }),
            )
            .await);
        (str_of(&key["id"]), str_of(&key["value"]))
    };
    ok(s.delete_as(
        &second_key,
        &format!(
            "/v1/organization/admin_api_keys/{}",
            str_of(&created["admin_key"]["id"])
        ),
    )
    .await);
    let taker = create_org(&s, json!({ "admin_key": secret })).await;

    let got = s
        .operator(Method::POST, &format!("{}/reset", org_path(&org)), None)
        .await;
    assert_error(
        &got,
        StatusCode::CONFLICT,
        "already_exists",
        Some("admin_key"),
    );
    // Nothing changed: the second key still works in its organization.
    ok(s.get_as(&second_key, "/v1/organization/admin_api_keys")
        .await);
    let mine = ok(s.get_as(&secret, "/v1/organization/users").await);
    assert_eq!(ids(&mine), [str_of(&taker["owner"]["id"])]);

    // Once the other organization is gone, reset succeeds.
    ok(s.operator(
        Method::DELETE,
        &org_path(&str_of(&taker["organization"]["id"])),
        None,
    )
    .await);
    ok(
        s.operator(Method::POST, &format!("{}/reset", org_path(&org)), None)
            .await,
    );
    let users = ok(s.get_as(&secret, "/v1/organization/users").await);
    assert_eq!(ids(&users), [str_of(&created["owner"]["id"])]);
    s.stop().await;
}
