//! The operator API (`/_orgadmin/…`): its key and only its key opens it, admin keys are refused
//! there and the operator key on `/v1`, and the organizations it creates are whole and isolated.
//! Runs on the backend `ORGADMIN_TEST_BACKEND` selects.

use orgadmin_testkit::{assert_error, ok, operator_key, owner_key, str_of, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every operation of the operator API, from the served OpenAPI document.
async fn operator_operations(s: &TestServer) -> Vec<(Method, String)> {
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
            let path = path.replace("{org_id}", &s.org_id());
            operations.push((method.to_uppercase().parse().unwrap(), path));
        }
    }
    operations
}

#[tokio::test]
async fn only_the_operator_key_opens_the_operator_api() {
    let s = TestServer::start().await;
    let operations = operator_operations(&s).await;
    assert!(operations.len() >= 2, "{operations:?}");
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
