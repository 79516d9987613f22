//! Project API keys over HTTP against a real server on a fresh database: a member's key through
//! removal from the project and re-adding, removal from the organization, a service account's
//! further keys and their end with the account, the list's `owner_project_access` and exact
//! pagination, the SDK's update, archived projects, the granting rules, permissions and audit
//! events; and, through the store, which presented secrets may act (what a gateway asks).

use std::sync::Arc;

use orgadmin_core::permission::PermissionScope;
use orgadmin_core::role::PredefinedRole;
use orgadmin_core::secret::hash_secret;
use orgadmin_core::{Permission, PermissionSet, Store};
use orgadmin_testkit::{
    assert_error, assert_insufficient, ids, missing_scopes, ok, str_of, TestServer,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn keys_path(project: &str) -> String {
    format!("/v1/organization/projects/{project}/api_keys")
}

fn key_path(project: &str, key: &str) -> String {
    format!("/v1/organization/projects/{project}/api_keys/{key}")
}

fn account_keys_path(project: &str, account: &str) -> String {
    format!("/v1/organization/projects/{project}/service_accounts/{account}/api_keys")
}

/// The value under the key named like the event's type.
fn details(event: &Value) -> &Value {
    &event[event["type"].as_str().expect("an event has a type")]
}

/// A member key of `user` in `project`: the whole answer, secret included.
async fn member_key(s: &TestServer, project: &str, user: &str, name: &str) -> Value {
    ok(
        s.post(&keys_path(project), json!({"name": name, "user_id": user}))
            .await,
    )
}

/// The IDs listed with `owner_project_access` (none: the parameter left out).
async fn listed(s: &TestServer, project: &str, access: Option<&str>) -> Vec<String> {
    let query = access.map_or(String::new(), |a| format!("?owner_project_access={a}"));
    ids(&ok(s.get(&format!("{}{query}", keys_path(project))).await))
}

async fn store_of(s: &TestServer) -> Arc<dyn Store> {
    s.store()
}

/// What the store lets the presented secret do in its project (`None`: nothing, it does not act).
async fn permissions_of(store: &Arc<dyn Store>, secret: &str) -> Option<Vec<String>> {
    store
        .resolve_project_key(&hash_secret(secret))
        .await
        .expect("the database answers")
        .map(|r| r.permissions.names())
}

/// Whether the store lets the presented secret act, and as which key.
async fn resolves(store: &Arc<dyn Store>, secret: &str) -> Option<String> {
    store
        .resolve_project_key(&hash_secret(secret))
        .await
        .expect("the database answers")
        .map(|r| r.key.id.to_string())
}

// --- a member's key ------------------------------------------------------------------------------

#[tokio::test]
async fn a_members_key_goes_inactive_with_their_removal_from_the_project_and_back_when_re_added() {
    let s = TestServer::start_persistent().await;
    let store = store_of(&s).await;
    let project = s.create_project("Keys").await;
    let user = s.add_member("dev@example.com", "reader").await;
    s.add_project_user(&project, &user, "member").await;

    let created = member_key(&s, &project, &user, "Laptop").await;
    let secret = str_of(&created["value"]);
    let id = str_of(&created["id"]);
    assert!(
        secret.starts_with("sk-proj-") && secret.len() > 40,
        "{created}"
    );
    assert_eq!(created["object"], "organization.project.api_key");
    assert_eq!(
        created["redacted_value"],
        format!("sk-proj...{}", &secret[secret.len() - 4..])
    );
    assert_eq!(created["last_used_at"], Value::Null);
    assert_eq!(created["owner_project_access"], "active");
    assert_eq!(created["owner"]["type"], "user");
    let owner = &created["owner"]["user"];
    assert_eq!(owner["id"], user.as_str());
    assert_eq!(owner["email"], "dev@example.com");
    assert_eq!(owner["name"], "dev");
    assert_eq!(owner["role"], "member");
    assert!(owner["created_at"].as_i64().unwrap() > 0);
    assert!(created["owner"].get("service_account").is_none());
    // Given no scopes, the key is unscoped: `[]`, and it may do exactly what its owner may in
    // the project, a `member`.
    assert_eq!(created["scopes"], json!([]), "{created}");
    assert_eq!(created["expires_at"], Value::Null);
    assert_eq!(
        permissions_of(&store, &secret).await,
        Some(PredefinedRole::ProjectMember.permissions().names())
    );

    // The secret is shown once: never in a read.
    let got = ok(s.get(&key_path(&project, &id)).await);
    assert!(got.get("value").is_none() && !got.to_string().contains(&secret));
    assert_eq!(got["scopes"], json!([]));
    assert_eq!(listed(&s, &project, None).await, vec![id.clone()]);
    assert_eq!(resolves(&store, &secret).await, Some(id.clone()));
    let used = ok(s.get(&key_path(&project, &id)).await);
    assert!(used["last_used_at"].as_i64().is_some(), "{used}");
    // A project key is not an admin key.
    assert_error(
        &s.get_as(&secret, "/v1/organization/users").await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        None,
    );

    // Removed from the project: kept, inactive, listed only when asked for, and it acts no more.
    ok(
        s.delete(&format!("/v1/organization/projects/{project}/users/{user}"))
            .await,
    );
    assert!(listed(&s, &project, None).await.is_empty());
    assert!(listed(&s, &project, Some("active")).await.is_empty());
    assert_eq!(
        listed(&s, &project, Some("inactive")).await,
        vec![id.clone()]
    );
    assert_eq!(listed(&s, &project, Some("any")).await, vec![id.clone()]);
    let away = ok(s.get(&key_path(&project, &id)).await);
    assert_eq!(away["owner_project_access"], "inactive");
    assert_eq!(away["owner"]["user"]["role"], "member", "their last role");
    assert_eq!(away["owner"]["user"]["email"], "dev@example.com");
    assert_eq!(resolves(&store, &secret).await, None);

    // Added back (as viewer now): active again, with the role they hold now.
    s.add_project_user(&project, &user, "viewer").await;
    let back = ok(s.get(&key_path(&project, &id)).await);
    assert_eq!(back["owner_project_access"], "active");
    assert_eq!(back["owner"]["user"]["role"], "viewer");
    assert_eq!(listed(&s, &project, None).await, vec![id.clone()]);
    assert!(listed(&s, &project, Some("inactive")).await.is_empty());
    let resolved = store
        .resolve_project_key(&hash_secret(&secret))
        .await
        .unwrap()
        .expect("active again");
    assert_eq!(resolved.key.project_id.as_str(), project);
    // Still unscoped: it follows its owner's role there, now `viewer`.
    assert_eq!(
        resolved.permissions.names(),
        PredefinedRole::ProjectViewer.permissions().names()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_members_keys_outlive_their_removal_from_the_organization_inactive() {
    let s = TestServer::start_persistent().await;
    let store = store_of(&s).await;
    let project = s.create_project("Keys").await;
    let user = s.add_member("leaver@example.com", "reader").await;
    s.add_project_user(&project, &user, "owner").await;
    let created = member_key(&s, &project, &user, "CI").await;
    let id = str_of(&created["id"]);
    ok(s.delete(&format!("/v1/organization/users/{user}")).await);

    assert!(listed(&s, &project, None).await.is_empty());
    assert_eq!(
        listed(&s, &project, Some("inactive")).await,
        vec![id.clone()]
    );
    let away = ok(s.get(&key_path(&project, &id)).await);
    assert_eq!(away["owner_project_access"], "inactive");
    assert_eq!(away["owner"]["user"]["id"], user.as_str());
    assert_eq!(away["owner"]["user"]["email"], "leaver@example.com");
    assert_eq!(away["owner"]["user"]["role"], "owner");
    assert_eq!(resolves(&store, &str_of(&created["value"])).await, None);
    // They can be given no new key, being nobody's member.
    assert_error(
        &s.post(&keys_path(&project), json!({"name": "x", "user_id": user}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("user_id"),
    );
    s.stop().await;
}

#[tokio::test]
async fn only_a_project_member_may_own_a_key() {
    let s = TestServer::start().await;
    let project = s.create_project("Keys").await;
    let outsider = s.add_member("outsider@example.com", "reader").await;
    let answer = s
        .post(
            &keys_path(&project),
            json!({"name": "x", "user_id": outsider}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("user_id"),
    );
    let message = answer.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("not a member of project"), "{message}");
    assert_error(
        &s.post(&keys_path(&project), json!({"user_id": outsider}))
            .await,
        StatusCode::BAD_REQUEST,
        "missing_required_parameter",
        Some("name"),
    );
    assert_error(
        &s.post(&keys_path(&project), json!({"name": "x"})).await,
        StatusCode::BAD_REQUEST,
        "missing_required_parameter",
        Some("user_id"),
    );
    assert_error(
        &s.post(
            &keys_path("proj_000000000000000000000000"),
            json!({"name": "x", "user_id": outsider}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("project_id"),
    );
    s.stop().await;
}

// --- service accounts' keys -----------------------------------------------------------------------

#[tokio::test]
async fn a_service_accounts_keys_are_project_keys_and_go_with_the_account() {
    let s = TestServer::start_persistent().await;
    let store = store_of(&s).await;
    let project = s.create_project("Bots").await;
    let account = ok(s
        .post(
            &format!("/v1/organization/projects/{project}/service_accounts"),
            json!({"name": "Deployer"}),
        )
        .await);
    let account_id = str_of(&account["id"]);
    let first = str_of(&account["api_key"]["id"]);
    let second = ok(s
        .post(
            &account_keys_path(&project, &account_id),
            json!({"name": "Production App", "scopes": ["api.model.request"], "expires_in_seconds": 3600}),
        )
        .await);
    assert_eq!(
        second["object"],
        "organization.project.service_account.api_key"
    );
    let secret = str_of(&second["value"]);
    assert!(secret.starts_with("sk-svcacct-"), "{second}");
    assert_eq!(second["name"], "Production App");
    let second_id = str_of(&second["id"]);
    // A name is optional: the official first key's name.
    let third = ok(s
        .post(&account_keys_path(&project, &account_id), json!({}))
        .await);
    assert_eq!(third["name"], "Secret Key");

    let list = ok(s.get(&keys_path(&project)).await);
    assert_eq!(
        ids(&list),
        vec![first.clone(), second_id.clone(), str_of(&third["id"])]
    );
    for key in list["data"].as_array().unwrap() {
        assert_eq!(key["owner"]["type"], "service_account", "{key}");
        assert_eq!(key["owner_project_access"], "active");
        let owner = &key["owner"]["service_account"];
        assert_eq!(owner["id"], account_id.as_str());
        assert_eq!(owner["name"], "Deployer");
        assert_eq!(owner["role"], "member");
        assert!(key["owner"].get("user").is_none());
    }
    let got = ok(s.get(&key_path(&project, &second_id)).await);
    assert_eq!(got["scopes"], json!(["api.model.request"]));
    assert_eq!(
        got["expires_at"].as_i64().unwrap(),
        got["created_at"].as_i64().unwrap() + 3600
    );
    let resolved = store
        .resolve_project_key(&hash_secret(&secret))
        .await
        .unwrap()
        .expect("a service account's key acts");
    assert_eq!(
        resolved.permissions.names(),
        vec!["api.model.request".to_owned()]
    );

    // Deleting one key leaves the account and its other keys.
    ok(s.delete(&key_path(&project, &first)).await);
    assert_eq!(listed(&s, &project, Some("any")).await.len(), 2);
    // Deleting the account deletes its keys.
    ok(s.delete(&format!(
        "/v1/organization/projects/{project}/service_accounts/{account_id}"
    ))
    .await);
    assert!(listed(&s, &project, Some("any")).await.is_empty());
    assert_error(
        &s.get(&key_path(&project, &second_id)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("api_key_id"),
    );
    assert_eq!(resolves(&store, &secret).await, None);
    assert_error(
        &s.post(&account_keys_path(&project, &account_id), json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("service_account_id"),
    );
    s.stop().await;
}

// --- the list -------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_pages_by_id_with_an_exact_has_more() {
    let s = TestServer::start().await;
    let project = s.create_project("Many").await;
    let owner = s.owner_id();
    s.add_project_user(&project, &owner, "owner").await;
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(str_of(
            &member_key(&s, &project, &owner, &format!("k{n}")).await["id"],
        ));
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let query = after
            .as_ref()
            .map_or("?limit=2".to_owned(), |a| format!("?limit=2&after={a}"));
        let page = ok(s.get(&format!("{}{query}", keys_path(&project))).await);
        let got = ids(&page);
        assert_eq!(page["first_id"], json!(got.first()));
        assert_eq!(page["last_id"], json!(got.last()));
        pages.push((got.len(), page["has_more"].as_bool().unwrap()));
        seen.extend(got);
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = page["last_id"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, vec![(2, true), (2, true), (1, false)]);
    assert_eq!(seen, made);
    // Exactly a page's worth: no further page is promised.
    let four = ok(s
        .get(&format!(
            "{}?limit=4&after={}",
            keys_path(&project),
            made[0]
        ))
        .await);
    assert_eq!(four["has_more"], false);
    let empty = ok(s
        .get(&format!("{}?after={}", keys_path(&project), made[4]))
        .await);
    assert_eq!(empty["data"], json!([]));
    assert_eq!(empty["first_id"], Value::Null);
    for (query, param) in [
        ("owner_project_access=all", "owner_project_access"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ] {
        assert_error(
            &s.get(&format!("{}?{query}", keys_path(&project))).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some(param),
        );
    }
    s.stop().await;
}

// --- the SDK's update -----------------------------------------------------------------------------

#[tokio::test]
async fn the_update_changes_scopes_and_expiry_but_not_an_expired_key() {
    let s = TestServer::start_persistent().await;
    let store = store_of(&s).await;
    let project = s.create_project("Upd").await;
    let owner = s.owner_id();
    s.add_project_user(&project, &owner, "owner").await;
    let created = member_key(&s, &project, &owner, "k").await;
    let id = str_of(&created["id"]);
    let secret = str_of(&created["value"]);
    let path = key_path(&project, &id);
    let everything = PredefinedRole::ProjectOwner.permissions().names();
    assert_eq!(
        permissions_of(&store, &secret).await,
        Some(everything.clone())
    );

    let scoped = ok(s
        .post(
            &path,
            json!({"scopes": ["api.files.read", "api.model.request"]}),
        )
        .await);
    assert_eq!(
        scoped["scopes"],
        json!(["api.model.request", "api.files.read"])
    );
    assert_eq!(scoped["expires_at"], Value::Null);
    assert_eq!(
        permissions_of(&store, &secret).await,
        Some(vec![
            "api.model.request".to_owned(),
            "api.files.read".to_owned()
        ])
    );
    let now = orgadmin_core::Clock::now(&*s.clock);
    let both = ok(s
        .post(&path, json!({"scopes": [], "expires_in_seconds": 120}))
        .await);
    // `[]` lifts the scopes: the key may again do everything its owner (a project owner) may.
    assert_eq!(both["scopes"], json!([]), "{both}");
    assert_eq!(ok(s.get(&path).await)["scopes"], json!([]));
    assert_eq!(permissions_of(&store, &secret).await, Some(everything));
    let expires = both["expires_at"].as_i64().unwrap();
    assert!((now + 120..=now + 125).contains(&expires), "{both}");
    for (body, code, param) in [
        (json!({}), "missing_required_parameter", "scopes"),
        (json!({"scopes": null}), "invalid_value", "scopes"),
        (
            json!({"expires_in_seconds": null}),
            "invalid_value",
            "expires_in_seconds",
        ),
        (
            json!({"expires_in_seconds": 0}),
            "invalid_value",
            "expires_in_seconds",
        ),
        (
            json!({"scopes": ["api.organization.users.read"]}),
            "invalid_value",
            "scopes",
        ),
    ] {
        assert_error(
            &s.post(&path, body.clone()).await,
            StatusCode::BAD_REQUEST,
            code,
            Some(param),
        );
    }
    let updates = s
        .audit(&format!(
            "event_types[]=api_key.updated&resource_ids[]={id}"
        ))
        .await;
    assert_eq!(updates.len(), 2, "refusals write nothing");
    let mut requested: Vec<Value> = updates
        .iter()
        .map(|e| details(e)["changes_requested"].clone())
        .collect();
    requested.sort_by_key(|r| r.to_string());
    assert_eq!(
        requested,
        vec![
            json!({"expires_at": expires, "scopes": []}),
            json!({"scopes": ["api.model.request", "api.files.read"]}),
        ]
    );
    assert_eq!(updates[0]["project"]["id"], project.as_str());

    s.clock.advance(121);
    let answer = s.post(&path, json!({"expires_in_seconds": 600})).await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("api_key_id"),
    );
    assert!(answer.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired key cannot be updated"));
    // Still readable and deletable.
    ok(s.get(&path).await);
    ok(s.delete(&path).await);
    s.stop().await;
}

// --- rules ----------------------------------------------------------------------------------------

#[tokio::test]
async fn an_archived_project_refuses_new_keys_and_changes_but_lets_keys_be_deleted() {
    let s = TestServer::start().await;
    let project = s.create_project("Old").await;
    let owner = s.owner_id();
    s.add_project_user(&project, &owner, "owner").await;
    let key = str_of(&member_key(&s, &project, &owner, "k").await["id"]);
    let account = ok(s
        .post(
            &format!("/v1/organization/projects/{project}/service_accounts"),
            json!({"name": "Bot"}),
        )
        .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/archive"),
        json!({}),
    )
    .await);
    for answer in [
        s.post(&keys_path(&project), json!({"name": "x", "user_id": owner}))
            .await,
        s.post(
            &account_keys_path(&project, &str_of(&account["id"])),
            json!({"name": "x"}),
        )
        .await,
        s.post(&key_path(&project, &key), json!({"scopes": []}))
            .await,
    ] {
        assert_error(
            &answer,
            StatusCode::CONFLICT,
            "project_archived",
            Some("project_id"),
        );
    }
    assert_eq!(listed(&s, &project, None).await.len(), 2);
    ok(s.delete(&key_path(&project, &key)).await);
    s.stop().await;
}

#[tokio::test]
async fn a_new_key_holds_no_more_than_the_creating_key_nor_outlives_it() {
    let s = TestServer::start().await;
    let project = s.create_project("Grants").await;
    let owner = s.owner_id();
    s.add_project_user(&project, &owner, "owner").await;
    // A key limited to managing project keys and reading files.
    let (_, narrow) = s
        .create_key(json!({"name": "keys only", "scopes": [
            "api.organization.projects.api_keys.write", "api.files.read"
        ]}))
        .await;
    let beyond = s
        .post_as(
            &narrow,
            &keys_path(&project),
            json!({"name": "x", "user_id": owner, "scopes": ["api.files.read", "api.model.request"]}),
        )
        .await;
    assert_eq!(
        assert_insufficient(&beyond, "api.model.request"),
        "A project API key with these scopes would grant it, and an admin API key may grant only permissions it holds in project proj_…."
    );
    // Unscoped: every permission of the owner (a project owner: every project permission), so
    // the refusal names exactly those the narrow key does not hold.
    let unscoped = s
        .post_as(
            &narrow,
            &keys_path(&project),
            json!({"name": "x", "user_id": owner}),
        )
        .await;
    let held: PermissionSet = [Permission::ProjectApiKeysWrite, Permission::FilesRead]
        .into_iter()
        .collect();
    assert_eq!(
        missing_scopes(unscoped.0, &unscoped.1),
        Some(
            PermissionSet::all_in(PermissionScope::Project)
                .difference(held)
                .names()
        ),
        "{}",
        unscoped.1
    );
    let within = ok(s
        .post_as(
            &narrow,
            &keys_path(&project),
            json!({"name": "ok", "user_id": owner, "scopes": ["api.files.read"]}),
        )
        .await);
    // Widening it by an update is the same grant.
    let widened = s
        .post_as(
            &narrow,
            &key_path(&project, &str_of(&within["id"])),
            json!({"scopes": ["api.model.request"]}),
        )
        .await;
    assert_insufficient(&widened, "api.model.request");

    let (_, brief) = s
        .create_key(json!({"name": "brief", "expires_in_seconds": 60}))
        .await;
    for body in [
        json!({"name": "forever", "user_id": owner}),
        json!({"name": "longer", "user_id": owner, "expires_in_seconds": 3600}),
    ] {
        assert_error(
            &s.post_as(&brief, &keys_path(&project), body).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("expires_in_seconds"),
        );
    }
    ok(s.post_as(
        &brief,
        &keys_path(&project),
        json!({"name": "short", "user_id": owner, "expires_in_seconds": 30}),
    )
    .await);
    assert_error(
        &s.post(
            &keys_path(&project),
            json!({"name": "x", "user_id": owner, "expires_in_seconds": 31_536_001}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("expires_in_seconds"),
    );
    s.stop().await;
}

#[tokio::test]
async fn the_api_key_permissions_govern_the_routes_in_the_organization_or_the_project() {
    let s = TestServer::start_persistent().await;
    let project = s.create_project("Perm").await;
    let other = s.create_project("Other").await;
    let owner = s.owner_id();
    s.add_project_user(&project, &owner, "owner").await;
    let id = str_of(&member_key(&s, &project, &owner, "k").await["id"]);

    // An organization reader reads every project's keys and changes none.
    let reader = s.add_member("reader@example.com", "reader").await;
    let reader_key = s.key_for(&reader).await;
    ok(s.get_as(&reader_key, &keys_path(&project)).await);
    let refused = s.delete_as(&reader_key, &key_path(&project, &id)).await;
    assert_eq!(
        assert_insufficient(&refused, "api.organization.projects.api_keys.write"),
        "'api.organization.projects.api_keys.write' held in project proj_… would allow this request too."
    );

    // A key manager of one project only, through a custom project role.
    let manager = s.add_member("manager@example.com", "reader").await;
    s.add_project_user(&project, &manager, "viewer").await;
    let role = s
        .create_project_role(
            &project,
            "API Project Key Manager",
            &[
                "api.organization.projects.api_keys.read",
                "api.organization.projects.api_keys.write",
            ],
        )
        .await;
    ok(s.post(
        &format!("/v1/projects/{project}/users/{manager}/roles"),
        json!({"role_id": role}),
    )
    .await);
    let (_, scoped) = s
        .create_key(json!({"name": "no keys", "scopes": ["api.organization.read"]}))
        .await;
    assert_insufficient(
        &s.get_as(&scoped, &keys_path(&project)).await,
        "api.organization.projects.api_keys.read",
    );
    let manager_key = s.key_for(&manager).await;
    // The manager's org role (reader) reads keys everywhere; writing needs the project role.
    ok(s.post_as(
        &manager_key,
        &key_path(&project, &id),
        json!({"scopes": ["api.project.read"]}),
    )
    .await);
    let elsewhere = ok(s
        .post(
            &format!("/v1/organization/projects/{other}/service_accounts"),
            json!({"name": "bot"}),
        )
        .await);
    let elsewhere_key = str_of(&elsewhere["api_key"]["id"]);
    assert_insufficient(
        &s.delete_as(&manager_key, &key_path(&other, &elsewhere_key))
            .await,
        "api.organization.projects.api_keys.write",
    );
    // Another project's key is not found in this one.
    assert_error(
        &s.get(&key_path(&project, &elsewhere_key)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("api_key_id"),
    );
    s.stop().await;
}

#[tokio::test]
async fn key_changes_write_the_official_audit_events_in_their_project() {
    let s = TestServer::start().await;
    let project = s.create_project("Audit").await;
    let owner = s.owner_id();
    s.add_project_user(&project, &owner, "owner").await;
    let created = ok(s
        .post(
            &keys_path(&project),
            json!({"name": "k", "user_id": owner, "scopes": ["api.model.request"]}),
        )
        .await);
    let id = str_of(&created["id"]);
    ok(s.post(
        &key_path(&project, &id),
        json!({"scopes": ["api.files.read"]}),
    )
    .await);
    ok(s.delete(&key_path(&project, &id)).await);
    let events = s.audit(&format!("resource_ids[]={id}")).await;
    let of = |kind: &str| {
        let found: Vec<&Value> = events.iter().filter(|e| e["type"] == kind).collect();
        assert_eq!(found.len(), 1, "one {kind}: {events:?}");
        details(found[0]).clone()
    };
    assert_eq!(events.len(), 3);
    assert_eq!(
        of("api_key.created"),
        json!({"id": id, "data": {"scopes": ["api.model.request"]}})
    );
    assert_eq!(
        of("api_key.updated"),
        json!({"id": id, "changes_requested": {"scopes": ["api.files.read"]}})
    );
    assert_eq!(of("api_key.deleted"), json!({"id": id}));
    for event in &events {
        assert_eq!(event["project"]["id"], project.as_str(), "{event}");
        assert_eq!(event["actor"]["api_key"]["id"], s.owner_key_id());
    }
    // An admin key's events carry no project: the two kinds stay apart.
    let (admin, _) = s.create_key(json!({"name": "admin"})).await;
    let admin_events = s.audit(&format!("resource_ids[]={admin}")).await;
    assert_eq!(admin_events.len(), 1);
    assert!(admin_events[0].get("project").is_none_or(Value::is_null));
    // A service account's first key is a project key made: logged as one.
    let account = ok(s
        .post(
            &format!("/v1/organization/projects/{project}/service_accounts"),
            json!({"name": "bot"}),
        )
        .await);
    let first = s
        .audit(&format!(
            "event_types[]=api_key.created&resource_ids[]={}",
            str_of(&account["api_key"]["id"])
        ))
        .await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["project"]["id"], project.as_str());
    s.stop().await;
}
