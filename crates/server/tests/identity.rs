//! Who a member is and what text says: the one text rule on role descriptions, email identity
//! (NFC, IDNA domains, Unicode case folding, compatibility look-alikes refused), and user IDs
//! shared across organizations or fresh in each (`--user-ids`), over HTTP against a real server.

use std::sync::Arc;

use orgadmin_core::clock::OffsetClock;
use orgadmin_core::secret::generate_admin_key;
use orgadmin_core::store::{BootstrapRequest, UserIds};
use orgadmin_core::Email;
use orgadmin_testkit::database::{backend, Backend};
use orgadmin_testkit::{
    assert_error, assert_error_says, ok, owner_key, str_of, TestDatabase, TestServer,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, Executor};

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

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The members the `emails` filter finds for `email`.
async fn members_named(s: &TestServer, email: &str) -> Vec<String> {
    let list = ok(s
        .get(&format!("/v1/organization/users?emails[]={}", enc(email)))
        .await);
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| str_of(&u["id"]))
        .collect()
}

async fn invite(s: &TestServer, email: &str) -> orgadmin_testkit::Answer {
    s.post(
        "/v1/organization/invites",
        json!({"email": email, "role": "reader", "projects": []}),
    )
    .await
}

#[tokio::test]
async fn one_person_however_their_address_is_spelled() {
    let s = TestServer::start().await;
    let jose = s.add_member("jos\u{E9}@example.com", "reader").await;
    let bob = s.add_member("bob@ex\u{E4}mple.com", "reader").await;
    let strasse = s.add_member("stra\u{DF}e@example.com", "reader").await;
    for (spelling, member) in [
        ("jose\u{301}@example.com", &jose),
        ("JOS\u{C9}@EXAMPLE.COM", &jose),
        ("bob@xn--exmple-cua.com", &bob),
        ("Bob@EX\u{C4}MPLE.com", &bob),
        ("STRASSE@example.com", &strasse),
    ] {
        let answer = invite(&s, spelling).await;
        assert_error(
            &answer,
            StatusCode::CONFLICT,
            "already_exists",
            Some("email"),
        );
        assert_eq!(
            members_named(&s, spelling).await,
            vec![member.clone()],
            "{spelling}"
        );
        // Adding to a project by email finds the same member.
        let project = s.default_project_id();
        let added = ok(s
            .post(
                &format!("/v1/organization/projects/{project}/users"),
                json!({"email": spelling, "role": "member"}),
            )
            .await);
        assert_eq!(str_of(&added["id"]), *member, "{spelling}: {added}");
        ok(s.delete(&format!(
            "/v1/organization/projects/{project}/users/{member}"
        ))
        .await);
    }
    // A second pending invite is a second invite for the same address, however spelled.
    ok(invite(&s, "zo\u{EB}@ex\u{E4}mple.org").await);
    let again = invite(&s, "ZOE\u{308}@xn--exmple-cua.org").await;
    assert_error_says(
        &again,
        StatusCode::CONFLICT,
        "already_exists",
        Some("email"), "ZOË@xn--exmple-cua.org already has a pending invite (invite-…); delete it first to send a new one.",);
    // The audit log's actor filter follows the same rule.
    let (_, key) = s.create_key(json!({"name": "owner's other key"})).await;
    assert!(!key.is_empty());
    let by_owner = s.audit("actor_emails[]=OWNER%40EXAMPLE.COM").await;
    assert!(!by_owner.is_empty());
}

#[tokio::test]
async fn a_compatibility_look_alike_is_refused_and_takes_no_address() {
    let s = TestServer::start().await;
    for look_alike in [
        "\u{212A}ate@example.com",
        "\u{FF4B}ate@example.com",
        "kate@ex\u{FF41}mple.com",
        "\u{FB01}nn@example.com",
    ] {
        let answer = invite(&s, look_alike).await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("email"),
        );
        assert!(
            answer.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("compatibility"),
            "{}",
            answer.1
        );
        // Nor is it an address to add to a project by, or to filter by.
        let project = s.default_project_id();
        let added = s
            .post(
                &format!("/v1/organization/projects/{project}/users"),
                json!({"email": look_alike, "role": "member"}),
            )
            .await;
        assert_error(
            &added,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("email"),
        );
    }
    // The real Kate still gets her address.
    let kate = s.add_member("kate@example.com", "reader").await;
    assert_eq!(members_named(&s, "kate@example.com").await, vec![kate]);
    assert!(members_named(&s, "\u{212A}ate@example.com")
        .await
        .is_empty());
    let audit = s.audit("actor_emails[]=%E2%84%AAate%40example.com").await;
    assert!(audit.is_empty(), "{audit:?}");
}

/// Run `statements` on the test database directly, as an older release would have written.
async fn run_sql(url: &str, statements: &[String]) {
    match backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            for sql in statements {
                conn.execute(sql.as_str()).await.unwrap();
            }
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            for sql in statements {
                conn.execute(sql.as_str()).await.unwrap();
            }
            conn.close().await.unwrap();
        }
    }
}

#[tokio::test]
async fn addresses_stored_under_the_old_rule_are_brought_up_to_date_on_start() {
    let database = TestDatabase::persistent().await;
    let clock = Arc::new(OffsetClock::default());
    let s = TestServer::start_on(database.url(), Some(&owner_key()), clock.clone()).await;
    let org = s.org_id();
    let jose = s.add_member("jos\u{E9}@example.com", "reader").await;
    let bob = s.add_member("bob@ex\u{E4}mple.com", "reader").await;
    let zoe: Value = ok(invite(&s, "zo\u{EB}@ex\u{E4}mple.org").await);
    s.stop().await;

    // What the previous release stored: the address in lower case, nothing more; and a second
    // member whose address is the first one's typed decomposed, which it took for another.
    let old = |email: &str| email.to_lowercase().replace('\'', "''");
    let decomposed = "jose\u{301}@example.com";
    let mut statements = vec![
        format!(
            "UPDATE users SET email_norm = '{}' WHERE id = '{bob}'",
            old("bob@ex\u{E4}mple.com")
        ),
        format!(
            "UPDATE invites SET email_norm = '{}' WHERE id = '{}'",
            old("zo\u{EB}@ex\u{E4}mple.org"),
            str_of(&zoe["id"])
        ),
        format!(
            "INSERT INTO users (org_id, id, email, email_norm, name, role, added_at) \
             VALUES ('{org}', 'user-zzzzzzzzzzzzzzzzzzzzzzzz', '{decomposed}', '{decomposed}', 'Jos', 'reader', 1)"
        ),
    ];
    statements.push("INSERT INTO email_identity_pending (id) VALUES (1)".to_owned());
    run_sql(database.url(), &statements).await;

    let s = TestServer::start_on(database.url(), Some(&owner_key()), clock.clone()).await;
    assert_error_says(
        &invite(&s, "bob@xn--exmple-cua.com").await,
        StatusCode::CONFLICT,
        "already_exists",
        Some("email"),
        "bob@xn--exmple-cua.com is already a member of the organization.",
    );
    assert_eq!(members_named(&s, "BOB@xn--exmple-cua.com").await, vec![bob]);
    assert_error_says(
        &invite(&s, "zoe\u{308}@xn--exmple-cua.org").await,
        StatusCode::CONFLICT,
        "already_exists",
        Some("email"), "zoë@xn--exmple-cua.org already has a pending invite (invite-…); delete it first to send a new one.",);
    // The older of two members who are now one address keeps it; the other is still there.
    assert_eq!(members_named(&s, decomposed).await, vec![jose]);
    ok(
        s.get("/v1/organization/users/user-zzzzzzzzzzzzzzzzzzzzzzzz")
            .await,
    );
    s.stop().await;

    // Done once: a later start has nothing to do and changes nothing.
    let s = TestServer::start_on(database.url(), Some(&owner_key()), clock).await;
    assert_eq!(members_named(&s, "bob@xn--exmple-cua.com").await.len(), 1);
    s.stop().await;
}

/// Two organizations on one server in mode `user_ids`, and the IDs each gives the same people:
/// `(owner in A, owner in B, ada in A, ada in B)`. B's owner has A's owner's address.
async fn ids_in_two_organizations(user_ids: UserIds) -> (String, String, String, String) {
    let database = TestDatabase::persistent().await;
    let clock = Arc::new(OffsetClock::default());
    let s = TestServer::start_on_with(database.url(), Some(&owner_key()), clock.clone(), |c| {
        c.user_ids = user_ids
    })
    .await;
    // Organization B, made through the server's store as `orgadmin org create --user-ids …`
    // does (the server runs with the same `user_ids`).
    let store = s.store();
    let b_key = generate_admin_key();
    let b = store
        .create_organization(BootstrapRequest {
            organization_name: "B".into(),
            owner_email: Email::parse(orgadmin_testkit::OWNER_EMAIL, "email").unwrap(),
            owner_name: None,
            admin_key_secret: b_key.clone(),
            fixture: None,
        })
        .await
        .expect("the second organization is created");
    let ada_in_a = s.add_member("ada@example.com", "reader").await;
    let invite = ok(s
        .post_as(
            &b_key,
            "/v1/organization/invites",
            json!({"email": "ADA@example.com", "role": "reader", "projects": []}),
        )
        .await);
    let ada_in_b = ok(s
        .post_as(
            &b_key,
            &format!("/v1/organization/invites/{}/accept", str_of(&invite["id"])),
            json!({}),
        )
        .await);
    let owner_in_a = s.owner_id();
    s.stop().await;
    drop(store);
    (
        owner_in_a,
        b.owner.user.id.to_string(),
        ada_in_a,
        str_of(&ada_in_b["id"]),
    )
}

#[tokio::test]
async fn by_default_a_person_has_one_user_id_in_every_organization() {
    let (owner_a, owner_b, ada_a, ada_b) = ids_in_two_organizations(UserIds::Global).await;
    assert_eq!(owner_a, owner_b);
    assert_eq!(ada_a, ada_b);
}

#[tokio::test]
async fn with_per_organization_user_ids_membership_elsewhere_cannot_be_learned() {
    let (owner_a, owner_b, ada_a, ada_b) = ids_in_two_organizations(UserIds::PerOrganization).await;
    assert_ne!(owner_a, owner_b, "the owner created by org create");
    assert_ne!(ada_a, ada_b, "a member who accepted an invite");
    // The ID given later is the later one: it tells nothing of when she joined A.
    assert!(ada_b > ada_a);
}
