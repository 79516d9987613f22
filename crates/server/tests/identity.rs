//! Who a member is and what text says: the one text rule on role descriptions, email identity
//! (NFC, IDNA domains, Unicode case folding, compatibility look-alikes refused), and user IDs
//! shared across organizations or fresh in each (`--user-ids`), over HTTP against a real server.

mod common;

use common::{assert_error, ok, str_of, TestServer};
use reqwest::StatusCode;
use serde_json::json;

/// Text a terminal would act on or a list would show as something else.
const HOSTILE_TEXT: [&str; 6] = [
    "red \u{1B}[31malert",
    "link \u{1B}]8;;https://evil.example\u{7}here",
    "two\r\nlines",
    "c1 \u{9B}2J",
    "del \u{7F}",
    "\u{202E}txet desrever",
];

#[tokio::test]
async fn a_role_description_with_control_or_invisible_characters_is_refused() {
    let s = TestServer::start().await;
    let project = s.default_project_id();
    let org_role = s
        .create_org_role("described", &["api.organization.users.read"])
        .await;
    let project_role = s
        .create_project_role(&project, "described", &["api.project.read"])
        .await;
    let org_roles = "/v1/organization/roles".to_owned();
    let project_roles = format!("/v1/projects/{project}/roles");
    for text in HOSTILE_TEXT {
        for (path, permission) in [
            (&org_roles, "api.organization.users.read"),
            (&project_roles, "api.project.read"),
        ] {
            let created = s
                .post(
                    path,
                    json!({"role_name": "hostile", "permissions": [permission], "description": text}),
                )
                .await;
            assert_error(
                &created,
                StatusCode::BAD_REQUEST,
                "invalid_value",
                Some("description"),
            );
        }
        for path in [
            format!("{org_roles}/{org_role}"),
            format!("{project_roles}/{project_role}"),
        ] {
            let updated = s.post(&path, json!({"description": text})).await;
            assert_error(
                &updated,
                StatusCode::BAD_REQUEST,
                "invalid_value",
                Some("description"),
            );
            let role = ok(s.get(&path).await);
            assert!(role["description"].is_null(), "{role}");
        }
    }
    // Nothing was created by the refused requests, and ordinary text is kept as given.
    let roles = ok(s.get(&format!("{org_roles}?limit=100")).await);
    assert!(
        !roles["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "hostile"),
        "{roles}"
    );
    let text = "Prüft das Audit-Log — 監査";
    let role = ok(s
        .post(
            &format!("{org_roles}/{org_role}"),
            json!({"description": text}),
        )
        .await);
    assert_eq!(role["description"], text, "{role}");
    assert_eq!(str_of(&role["id"]), org_role);
}
