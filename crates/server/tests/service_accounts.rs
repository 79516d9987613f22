//! Project service accounts over HTTP against a real server on a fresh database: the key shown
//! once and stored only as a hash, `create_service_account_only`, lists, changes, deletion, the
//! rules of archived and unknown projects, permissions, tenancy, audit events, and that an
//! account outlives the user who created it.

use std::sync::Arc;

use orgadmin_core::clock::OffsetClock;
use orgadmin_core::email::Email;
use orgadmin_core::id::{OrgId, ProjectId, ServiceAccountId};
use orgadmin_core::model::ServiceAccountRole;
use orgadmin_core::page::PageRequest;
use orgadmin_core::secret::hash_secret;
use orgadmin_core::store::BootstrapRequest;
use orgadmin_core::Clock;
use orgadmin_testkit::database::{backend, Backend};
use orgadmin_testkit::{
    assert_error, assert_error_says, assert_insufficient, ids, ok, owner_key, str_of, TestDatabase,
    TestServer,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

fn accounts_path(project: &str) -> String {
    format!("/v1/organization/projects/{project}/service_accounts")
}

fn account_path(project: &str, account: &str) -> String {
    format!("/v1/organization/projects/{project}/service_accounts/{account}")
}

/// The value under the key named like the event's type.
fn details(event: &Value) -> &Value {
    &event[event["type"].as_str().expect("an event has a type")]
}

async fn create(s: &TestServer, project: &str, name: &str) -> Value {
    ok(s.post(&accounts_path(project), json!({ "name": name }))
        .await)
}

/// Every stored service account key: `(id, secret_hash, redacted_value, name)`, read straight
/// from the database, whichever backend it is.
async fn stored_keys(url: &str) -> Vec<(String, String, String, String)> {
    const QUERY: &str = "SELECT id, secret_hash, redacted_value, name FROM project_api_keys \
         WHERE owner_service_account_id IS NOT NULL ORDER BY id";
    match backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_as(QUERY).fetch_all(&mut conn).await.unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_as(QUERY).fetch_all(&mut conn).await.unwrap()
        }
    }
}

// --- create ------------------------------------------------------------------------------------

#[tokio::test]
async fn creating_a_service_account_shows_its_key_once_and_stores_only_a_hash() {
    let database = TestDatabase::persistent().await;
    let url = database.url();
    let s = TestServer::start_on(url, Some(&owner_key()), Arc::new(OffsetClock::default())).await;
    let project = s.create_project("Bots").await;
    let before = s.clock.now();

    let created = create(&s, &project, "Production App").await;

    assert_eq!(created["object"], "organization.project.service_account");
    let id = str_of(&created["id"]);
    assert!(id.starts_with("svc_acct_"), "{created}");
    assert_eq!(created["name"], "Production App");
    assert_eq!(created["role"], "member");
    let at = created["created_at"].as_i64().unwrap();
    assert!(at >= before && at <= s.clock.now(), "{created}");
    let key = &created["api_key"];
    assert_eq!(
        key["object"],
        "organization.project.service_account.api_key"
    );
    assert!(str_of(&key["id"]).starts_with("key_"), "{key}");
    assert_eq!(key["name"], "Secret Key");
    assert_eq!(key["created_at"], created["created_at"]);
    assert_eq!(key["expires_at"], Value::Null);
    let secret = str_of(&key["value"]);
    assert!(
        secret.starts_with("sk-svcacct-") && secret.len() > 40,
        "{secret}"
    );

    // Shown once: neither retrieve nor list carries a key.
    let got = ok(s.get(&account_path(&project, &id)).await);
    assert_eq!(
        got,
        json!({
            "object": "organization.project.service_account",
            "id": id,
            "name": "Production App",
            "role": "member",
            "created_at": at,
        })
    );
    let list = ok(s.get(&accounts_path(&project)).await);
    assert_eq!(list["data"], json!([got]));
    assert!(!list.to_string().contains(&secret));

    // A second account gets a different key.
    let other = create(&s, &project, "Staging App").await;
    assert_ne!(other["api_key"]["value"], key["value"]);

    s.stop().await;
    let stored = stored_keys(url).await;
    assert_eq!(stored.len(), 2);
    let (key_id, hash, redacted, name) = &stored[0];
    assert_eq!(key_id, &str_of(&key["id"]));
    assert_eq!(hash, &hash_secret(&secret));
    assert_eq!(
        redacted,
        &format!("sk-svcacct...{}", &secret[secret.len() - 4..])
    );
    assert_eq!(name, "Secret Key");
    for row in &stored {
        let all = format!("{row:?}");
        assert!(!all.contains(&secret), "the secret is stored: {all}");
    }
}

#[tokio::test]
async fn create_service_account_only_makes_an_account_with_role_none_and_no_key() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;

    let created = ok(s
        .post(
            &accounts_path(&project),
            json!({"name": "Keyless", "create_service_account_only": true}),
        )
        .await);

    assert_eq!(created["role"], "none");
    assert!(created["api_key"].is_null(), "{created}");
    assert!(
        created.as_object().unwrap().contains_key("api_key"),
        "api_key is required, null when there is no key: {created}"
    );
    let id = str_of(&created["id"]);
    assert_eq!(
        ok(s.get(&account_path(&project, &id)).await)["role"],
        "none"
    );
    // `false` and `null` create the key as usual.
    for flag in [json!(false), Value::Null] {
        let created = ok(s
            .post(
                &accounts_path(&project),
                json!({"name": "Keyed", "create_service_account_only": flag}),
            )
            .await);
        assert_eq!(created["role"], "member");
        assert!(created["api_key"]["value"].is_string(), "{created}");
    }
    // An account without a role can be given one.
    let updated = ok(s
        .post(&account_path(&project, &id), json!({"role": "member"}))
        .await);
    assert_eq!(updated["role"], "member");
}

#[tokio::test]
async fn expires_in_seconds_sets_when_the_first_key_expires() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;

    let created = ok(s
        .post(
            &accounts_path(&project),
            json!({"name": "Short-lived", "expires_in_seconds": 3600}),
        )
        .await);

    let key = &created["api_key"];
    assert_eq!(
        key["expires_at"].as_i64().unwrap(),
        key["created_at"].as_i64().unwrap() + 3600
    );
    for bad in [
        json!(0),
        json!(-5),
        json!(31_536_001),
        json!(1.5),
        json!("60"),
    ] {
        assert_error(
            &s.post(
                &accounts_path(&project),
                json!({"name": "x", "expires_in_seconds": bad}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("expires_in_seconds"),
        );
    }
    // No key, so nothing to expire.
    assert_error_says(
        &s.post(
            &accounts_path(&project),
            json!({"name": "x", "create_service_account_only": true, "expires_in_seconds": 60}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("expires_in_seconds"), "expires_in_seconds cannot be given with create_service_account_only, which creates no API key.",);
    assert_eq!(ids(&ok(s.get(&accounts_path(&project)).await)).len(), 1);
}

#[tokio::test]
async fn a_name_is_required_non_empty_short_and_printable() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;

    assert_error_says(
        &s.post(&accounts_path(&project), json!({})).await,
        StatusCode::BAD_REQUEST,
        "missing_required_parameter",
        Some("name"),
        "Missing required parameter: 'name'.",
    );
    for bad in [
        json!(""),
        json!("   "),
        json!("a".repeat(256)),
        json!("line\nbreak"),
        json!(42),
    ] {
        assert_error(
            &s.post(&accounts_path(&project), json!({ "name": bad }))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("name"),
        );
    }
    assert_error_says(
        &s.post(
            &accounts_path(&project),
            json!({"name": "x", "create_service_account_only": "yes"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("create_service_account_only"), "Invalid value for 'create_service_account_only': invalid type: string \"yes\", expected a boolean.",);
    assert!(ids(&ok(s.get(&accounts_path(&project)).await)).is_empty());
    // Surrounding blanks are trimmed; 255 characters are fine.
    assert_eq!(create(&s, &project, "  Padded  ").await["name"], "Padded");
    let long = "é".repeat(255);
    assert_eq!(create(&s, &project, &long).await["name"], json!(long));
}

// --- list ----------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_pages_oldest_first_and_shows_only_that_projects_accounts() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;
    let other = s.create_project("Other").await;
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(str_of(
            &create(&s, &project, &format!("bot {n}")).await["id"],
        ));
        create(&s, &other, &format!("other bot {n}")).await;
    }

    let all = ok(s.get(&accounts_path(&project)).await);
    assert_eq!(ids(&all), made);
    assert_eq!(all["object"], "list");
    assert_eq!(all["has_more"], false);
    assert_eq!(all["first_id"], json!(made[0]));
    assert_eq!(all["last_id"], json!(made[4]));

    let first = ok(s.get(&format!("{}?limit=2", accounts_path(&project))).await);
    assert_eq!(ids(&first), made[..2]);
    assert_eq!(first["has_more"], true);
    assert_eq!(first["last_id"], json!(made[1]));
    let second = ok(s
        .get(&format!(
            "{}?limit=2&after={}",
            accounts_path(&project),
            made[1]
        ))
        .await);
    assert_eq!(ids(&second), made[2..4]);
    assert_eq!(second["has_more"], true);
    let last = ok(s
        .get(&format!(
            "{}?limit=2&after={}",
            accounts_path(&project),
            made[3]
        ))
        .await);
    assert_eq!(ids(&last), made[4..]);
    assert_eq!(last["has_more"], false);

    // A cursor naming a deleted account keeps its place.
    ok(s.delete(&account_path(&project, &made[2])).await);
    let after_deleted = ok(s
        .get(&format!("{}?after={}", accounts_path(&project), made[2]))
        .await);
    assert_eq!(ids(&after_deleted), made[3..]);

    let empty = ok(s.get(&accounts_path(&s.default_project_id())).await);
    assert_eq!(
        empty,
        json!({"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false})
    );
    for bad in ["limit=0", "limit=101", "limit=ten"] {
        assert_error_says(
            &s.get(&format!("{}?{bad}", accounts_path(&project))).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("limit"),
            "limit must be an integer from 1 to 100.",
        );
    }
}

// --- update and delete ---------------------------------------------------------------------------

#[tokio::test]
async fn update_changes_the_name_and_role_given_and_leaves_the_rest() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;
    let created = create(&s, &project, "Bot").await;
    let id = str_of(&created["id"]);
    let path = account_path(&project, &id);

    let promoted = ok(s.post(&path, json!({"role": "owner"})).await);
    assert_eq!(
        (&promoted["name"], &promoted["role"]),
        (&json!("Bot"), &json!("owner"))
    );
    let renamed = ok(s.post(&path, json!({"name": "Renamed"})).await);
    assert_eq!(
        (&renamed["name"], &renamed["role"]),
        (&json!("Renamed"), &json!("owner"))
    );
    let both = ok(s
        .post(&path, json!({"name": "Both", "role": "member"}))
        .await);
    assert_eq!(
        (&both["name"], &both["role"]),
        (&json!("Both"), &json!("member"))
    );
    assert_eq!(both["created_at"], created["created_at"]);
    assert_eq!(ok(s.post(&path, json!({})).await), both);
    assert_eq!(ok(s.get(&path).await), both);

    for bad in ["none", "viewer", "admin", ""] {
        assert_error(
            &s.post(&path, json!({ "role": bad })).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("role"),
        );
    }
    for bad in [json!(""), json!("a".repeat(256)), json!("tab\there")] {
        assert_error(
            &s.post(&path, json!({ "name": bad })).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("name"),
        );
    }
    assert_eq!(ok(s.get(&path).await), both);
}

#[tokio::test]
async fn deleting_a_service_account_removes_it() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;
    let keep = str_of(&create(&s, &project, "Keep").await["id"]);
    let gone = str_of(&create(&s, &project, "Gone").await["id"]);

    let deleted = ok(s.delete(&account_path(&project, &gone)).await);

    assert_eq!(
        deleted,
        json!({"object": "organization.project.service_account.deleted", "id": gone, "deleted": true})
    );
    assert_eq!(ids(&ok(s.get(&accounts_path(&project)).await)), vec![keep]);
    for answer in [
        s.get(&account_path(&project, &gone)).await,
        s.post(&account_path(&project, &gone), json!({"role": "owner"}))
            .await,
        s.delete(&account_path(&project, &gone)).await,
    ] {
        assert_error_says(
            &answer,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("service_account_id"),
            "No service account found with id 'svc_acct_…' in project proj_….",
        );
    }
}

// --- projects ------------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_project_or_an_account_of_another_project_is_not_found() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;
    let other = s.create_project("Other").await;
    let id = str_of(&create(&s, &project, "Bot").await["id"]);
    let missing = "proj_doesnotexist";

    for answer in [
        s.get(&accounts_path(missing)).await,
        s.post(&accounts_path(missing), json!({"name": "x"})).await,
        s.get(&account_path(missing, &id)).await,
        s.post(&account_path(missing, &id), json!({"name": "x"}))
            .await,
        s.delete(&account_path(missing, &id)).await,
    ] {
        assert_error_says(
            &answer,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("project_id"),
            "No project found with id 'proj_doesnotexist'.",
        );
    }
    for answer in [
        s.get(&account_path(&other, &id)).await,
        s.post(&account_path(&other, &id), json!({"name": "x"}))
            .await,
        s.delete(&account_path(&other, &id)).await,
        s.get(&account_path(&project, "svc_acct_doesnotexist"))
            .await,
    ] {
        assert_error(
            &answer,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("service_account_id"),
        );
    }
    assert_eq!(ok(s.get(&account_path(&project, &id)).await)["name"], "Bot");
}

#[tokio::test]
async fn an_archived_project_keeps_its_service_accounts_but_refuses_changes() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;
    let id = str_of(&create(&s, &project, "Bot").await["id"]);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/archive"),
        json!({}),
    )
    .await);

    for answer in [
        s.post(&accounts_path(&project), json!({"name": "Late"}))
            .await,
        s.post(
            &accounts_path(&project),
            json!({"name": "Late", "create_service_account_only": true}),
        )
        .await,
        s.post(&account_path(&project, &id), json!({"role": "owner"}))
            .await,
        s.delete(&account_path(&project, &id)).await,
    ] {
        assert_error_says(
            &answer,
            StatusCode::CONFLICT,
            "project_archived",
            Some("project_id"), "Project proj_… is archived: it keeps its data, but its settings, members, roles and service accounts can no longer be changed.",);
    }
    assert_eq!(
        ids(&ok(s.get(&accounts_path(&project)).await)),
        vec![id.clone()]
    );
    assert_eq!(
        ok(s.get(&account_path(&project, &id)).await)["role"],
        "member"
    );
}

// --- principals ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_service_account_outlives_the_user_who_created_it() {
    let database = TestDatabase::persistent().await;
    let url = database.url();
    let s = TestServer::start_on(url, Some(&owner_key()), Arc::new(OffsetClock::default())).await;
    let (org, creator) = (s.org_id(), s.owner_id());
    let project = s.create_project("Bots").await;
    let id = str_of(&create(&s, &project, "Orphan").await["id"]);
    s.add_member("successor@example.com", "owner").await;

    // The creator leaves the organization; their keys go with them.
    ok(s.delete(&format!("/v1/organization/users/{creator}")).await);

    // No key is left to read the result over HTTP: read it through the store.
    s.stop().await;
    let store = orgadmin_store::open(url, Arc::new(OffsetClock::default()))
        .await
        .unwrap();
    let org = OrgId::from_raw(org);
    let project = ProjectId::from_raw(project);
    let account = store
        .get_service_account(&org, &project, &ServiceAccountId::from_raw(id.clone()))
        .await
        .unwrap();
    assert_eq!(account.name, "Orphan");
    assert_eq!(account.role, ServiceAccountRole::Member);
    let listed = store
        .list_service_accounts(&org, &project, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(listed.items, vec![account]);
    assert_eq!(stored_keys(url).await.len(), 1, "its key survives too");
}

#[tokio::test]
async fn a_service_account_key_is_not_an_admin_key() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;
    let created = create(&s, &project, "Bot").await;
    let secret = str_of(&created["api_key"]["value"]);

    for path in [accounts_path(&project), "/v1/organization/users".to_owned()] {
        assert_error_says(
            &s.get_as(&secret, &path).await,
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            None, "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",);
    }
}

// --- permissions and tenancy ---------------------------------------------------------------------

#[tokio::test]
async fn service_accounts_are_managed_with_the_project_users_permissions() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let led = s.create_project("Led").await;
    let other = s.create_project("Other").await;
    let in_other = str_of(&create(&s, &other, "Other bot").await["id"]);
    s.add_project_user(&led, &owner, "owner").await;
    // Keys limited to project permissions: whatever they may do comes from project membership.
    // The lead's key holds every project permission, so it may give a service account (and its
    // key) the `member` or `owner` role; one holding only `api.project.users.write` may not.
    let every_project_permission: Vec<&str> = orgadmin_core::Permission::ALL
        .iter()
        .filter(|p| p.fits(orgadmin_core::permission::PermissionScope::Project))
        .map(|p| p.as_str())
        .collect();
    let (_, writer) = s
        .create_key(json!({"name": "project-lead", "scopes": every_project_permission}))
        .await;
    let (_, narrow) = s
        .create_key(json!({"name": "users-only", "scopes": ["api.project.users.write"]}))
        .await;
    let beyond = s
        .post_as(&narrow, &accounts_path(&led), json!({"name": "Too much"}))
        .await;
    assert_eq!(
        assert_insufficient(&beyond, "api.project.read, api.model.request, api.responses.write, api.files.read, api.files.write, api.vector_stores.read, api.vector_stores.write, api.fine_tuning.jobs.read, api.fine_tuning.jobs.write, api.batches.read, api.batches.write"),
        "A service account with role 'member' would grant them, and an admin API key may grant only permissions it holds in project proj_…."
    );
    let (_, reader) = s
        .create_key(json!({"name": "project-viewer", "scopes": ["api.project.users.read"]}))
        .await;
    let (_, org_reader) = s
        .create_key(
            json!({"name": "org-reader", "scopes": ["api.organization.projects.users.read"]}),
        )
        .await;

    let made = ok(s
        .post_as(&writer, &accounts_path(&led), json!({"name": "Lead bot"}))
        .await);
    let id = str_of(&made["id"]);
    ok(
        s.post_as(&writer, &account_path(&led, &id), json!({"role": "owner"}))
            .await,
    );
    assert_eq!(
        ids(&ok(s.get_as(&reader, &accounts_path(&led)).await)),
        vec![id.clone()]
    );
    ok(s.get_as(&reader, &account_path(&led, &id)).await);
    assert_eq!(
        ids(&ok(s.get_as(&org_reader, &accounts_path(&other)).await)),
        vec![in_other.clone()]
    );

    const WRITE: (&str, &str) = (
        "api.organization.projects.users.write",
        "api.project.users.write",
    );
    const READ: (&str, &str) = (
        "api.organization.projects.users.read",
        "api.project.users.read",
    );
    let refused = [
        (
            s.post_as(&reader, &accounts_path(&led), json!({"name": "x"}))
                .await,
            WRITE,
        ),
        (
            s.post_as(&reader, &account_path(&led, &id), json!({"name": "x"}))
                .await,
            WRITE,
        ),
        (s.delete_as(&reader, &account_path(&led, &id)).await, WRITE),
        (s.get_as(&writer, &accounts_path(&other)).await, READ),
        (
            s.post_as(&writer, &accounts_path(&other), json!({"name": "x"}))
                .await,
            WRITE,
        ),
        (
            s.delete_as(&writer, &account_path(&other, &in_other)).await,
            WRITE,
        ),
        (
            s.post_as(&org_reader, &accounts_path(&other), json!({"name": "x"}))
                .await,
            WRITE,
        ),
    ];
    for (got, (in_org, in_project)) in &refused {
        assert_eq!(
            assert_insufficient(got, in_org),
            format!("'{in_project}' held in project proj_… would allow this request too.")
        );
    }
    ok(s.delete_as(&writer, &account_path(&led, &id)).await);
}

#[tokio::test]
async fn another_organizations_service_accounts_are_not_found() {
    let database = TestDatabase::persistent().await;
    let url = database.url();
    let clock = Arc::new(OffsetClock::default());
    let s = TestServer::start_on(url, Some(&owner_key()), clock.clone()).await;
    let project = s.create_project("Bots").await;
    let id = str_of(&create(&s, &project, "Bot").await["id"]);
    s.stop().await;

    let other_key = format!("sk-admin-{}", "b".repeat(40));
    let store = orgadmin_store::open(url, clock.clone()).await.unwrap();
    let other = store
        .create_organization(BootstrapRequest {
            organization_name: "Other".into(),
            owner_email: Email::parse("other@example.com", "email").unwrap(),
            owner_name: None,
            admin_key_secret: other_key.clone(),
            fixture: None,
        })
        .await
        .unwrap();
    drop(store);
    let s = TestServer::start_on(url, Some(&owner_key()), clock).await;
    let their_project = other.default_project.id.to_string();

    for answer in [
        s.get_as(&other_key, &accounts_path(&project)).await,
        s.post_as(&other_key, &accounts_path(&project), json!({"name": "x"}))
            .await,
        s.get_as(&other_key, &account_path(&project, &id)).await,
        s.delete_as(&other_key, &account_path(&project, &id)).await,
    ] {
        assert_error_says(
            &answer,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("project_id"),
            "No project found with id 'proj_…'.",
        );
    }
    assert_error_says(
        &s.get_as(&other_key, &account_path(&their_project, &id))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("service_account_id"),
        "No service account found with id 'svc_acct_…' in project proj_….",
    );
    assert!(ids(&ok(s
        .get_as(&other_key, &accounts_path(&their_project))
        .await))
    .is_empty());
    assert_eq!(ok(s.get(&account_path(&project, &id)).await)["name"], "Bot");
    s.stop().await;
}

// --- audit log -----------------------------------------------------------------------------------

#[tokio::test]
async fn every_change_writes_its_service_account_audit_event() {
    let s = TestServer::start().await;
    let project = s.create_project("Bots").await;
    let id = str_of(&create(&s, &project, "Bot").await["id"]);
    let bare = str_of(
        &ok(s
            .post(
                &accounts_path(&project),
                json!({"name": "Bare", "create_service_account_only": true}),
            )
            .await)["id"],
    );
    ok(s.post(
        &account_path(&project, &id),
        json!({"name": "Renamed", "role": "owner"}),
    )
    .await);
    // A change to nothing writes nothing.
    ok(
        s.post(&account_path(&project, &id), json!({"role": "owner"}))
            .await,
    );
    ok(s.delete(&account_path(&project, &id)).await);

    let events = s
        .audit(&format!(
            "resource_ids[]={id}&resource_ids[]={bare}&order=asc"
        ))
        .await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "service_account.created",
            "service_account.created",
            "service_account.updated",
            "service_account.deleted"
        ]
    );
    assert_eq!(
        details(&events[0]),
        &json!({"id": id, "data": {"role": "member"}})
    );
    assert_eq!(
        details(&events[1]),
        &json!({"id": bare, "data": {"role": "none"}})
    );
    assert_eq!(
        details(&events[2]),
        &json!({"id": id, "changes_requested": {"role": "owner", "name": "Renamed"}})
    );
    assert_eq!(details(&events[3]), &json!({"id": id}));
    for event in &events {
        assert_eq!(event["project"]["id"], json!(project), "{event}");
        assert_eq!(event["project"]["name"], "Bots", "{event}");
        assert_eq!(event["actor"]["api_key"]["id"], json!(s.owner_key_id()));
    }
    let filtered = s.audit("event_types[]=service_account.deleted").await;
    assert_eq!(filtered.len(), 1);
    assert!(!format!("{events:?}").contains("sk-svcacct-"));
}

// --- among the organization's users ----------------------------------------------------------

#[tokio::test]
async fn service_accounts_are_listed_among_the_organizations_users() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let project = s.create_project("Bots").await;
    let bot = create(&s, &project, "Bot").await;
    let bot_id = str_of(&bot["id"]);
    let bare = str_of(
        &ok(s
            .post(
                &accounts_path(&project),
                json!({"name": "Bare", "create_service_account_only": true}),
            )
            .await)["id"],
    );
    let member = s.add_member("member@example.com", "reader").await;

    let users = ok(s.get("/v1/organization/users?limit=100").await);

    // Ordered by ID, like every membership list: `svc_acct_…` sorts before `user-…`.
    assert_eq!(
        ids(&users),
        vec![bot_id.clone(), bare.clone(), owner.clone(), member.clone()]
    );
    let as_user = json!({
        "object": "organization.user",
        "id": bot_id,
        "name": "Bot",
        "email": null,
        "role": null,
        "added_at": bot["created_at"],
        "is_default": false,
        "created": bot["created_at"],
        "is_service_account": true,
        "is_scale_tier_authorized_purchaser": false,
        "is_scim_managed": false,
        "api_key_last_used_at": null,
        "developer_persona": null,
        "technical_level": null,
        "projects": null,
    });
    assert_eq!(users["data"][0], as_user);
    assert_eq!(users["data"][2]["is_service_account"], false);
    assert_eq!(users["data"][3]["is_service_account"], false);
    // Pages walk the same order.
    let mut walked = Vec::new();
    let mut after = String::new();
    loop {
        let page = ok(s
            .get(&format!("/v1/organization/users?limit=1&after={after}"))
            .await);
        walked.extend(ids(&page));
        if page["has_more"] == false {
            break;
        }
        after = str_of(&page["last_id"]);
    }
    assert_eq!(walked, ids(&users));
    // They have no email, so an email filter never finds one.
    assert_eq!(
        ids(&ok(s
            .get("/v1/organization/users?emails[]=member@example.com")
            .await)),
        vec![member.clone()]
    );
    assert_eq!(
        ok(s.get(&format!("/v1/organization/users/{bot_id}")).await),
        as_user
    );

    // They are managed through their project, not the user routes.
    let user = format!("/v1/organization/users/{bot_id}");
    for answer in [
        s.post(&user, json!({"role": "owner"})).await,
        s.delete(&user).await,
        s.get(&format!("{user}/roles")).await,
        s.post(
            &format!("{user}/roles"),
            json!({"role_id": "role-api-organization-reader"}),
        )
        .await,
        s.get(&format!("{user}/roles/role-api-organization-reader"))
            .await,
        s.delete(&format!("{user}/roles/role-api-organization-reader"))
            .await,
        s.get(&format!("{user}/permissions")).await,
    ] {
        assert_error_says(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("user_id"), "svc_acct_… is a service account of project proj_…; manage it with /v1/organization/projects/proj_…/service_accounts/svc_acct_….",);
        let message = answer.1["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&account_path(&project, &bot_id)),
            "{message}"
        );
    }
    assert_eq!(
        ok(s.get(&account_path(&project, &bot_id)).await)["name"],
        "Bot"
    );

    ok(s.delete(&account_path(&project, &bot_id)).await);
    assert_error_says(
        &s.get(&user).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "No user found with id 'svc_acct_…'.",
    );
    assert_eq!(
        ids(&ok(s.get("/v1/organization/users").await)),
        vec![bare, owner, member]
    );
}
