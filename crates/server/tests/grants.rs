//! Nobody may grant more than they hold (issue 12, findings 2, 3 and 5), over HTTP against a real
//! server on a fresh database (SQLite by default, PostgreSQL with
//! `ORGADMIN_TEST_BACKEND=postgres`): the exact attack sequences of the review, in the
//! organization and in a project; invites for owners; keys that would do more than, or outlive,
//! the key that makes them; and the check made against permissions read inside the write
//! transaction, not those the request was authenticated with.

use orgadmin_core::secret::hash_secret;
use orgadmin_core::store::RoleChange;
use orgadmin_core::{DomainError, PermissionSet};
use orgadmin_testkit::{assert_error, assert_insufficient, ok, str_of, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A refusal of a grant: the API's permission error naming exactly the missing permissions (in
/// catalogue order), and what would have granted them.
#[track_caller]
fn assert_cannot_grant(got: &(StatusCode, Value), missing: &[&str]) {
    let detail = assert_insufficient(got, &missing.join(", "));
    assert!(
        detail.contains(" would grant ")
            && detail.contains(", and an admin API key may grant only permissions it holds in "),
        "{detail}"
    );
}

/// A reader of the organization holding `permissions` through a custom role, and a key of theirs.
async fn delegate(s: &TestServer, email: &str, permissions: &[&str]) -> (String, String, String) {
    let user = s.add_member(email, "reader").await;
    let role = s
        .create_org_role(&format!("Role of {email}"), permissions)
        .await;
    ok(s.post(
        &format!("/v1/organization/users/{user}/roles"),
        json!({ "role_id": role }),
    )
    .await);
    let key = s.key_for(&user).await;
    (user, role, key)
}

#[tokio::test]
async fn a_reader_who_may_write_roles_cannot_make_herself_an_owner() {
    let s = TestServer::start_persistent().await;
    let (alice, r, key) = delegate(
        &s,
        "alice@example.com",
        &[
            "api.organization.roles.read",
            "api.organization.roles.write",
        ],
    )
    .await;

    // R edited to add users.write: refused, and R is unchanged.
    let edited = s
        .post_as(
            &key,
            &format!("/v1/organization/roles/{r}"),
            json!({ "permissions": [
                "api.organization.roles.read",
                "api.organization.roles.write",
                "api.organization.users.write",
            ] }),
        )
        .await;
    assert_cannot_grant(&edited, &["api.organization.users.write"]);
    let role = ok(s.get(&format!("/v1/organization/roles/{r}")).await);
    assert_eq!(
        role["permissions"],
        json!([
            "api.organization.roles.read",
            "api.organization.roles.write"
        ])
    );
    // Nor may she create a role with it, though what she holds she may give.
    assert_cannot_grant(
        &s.post_as(
            &key,
            "/v1/organization/roles",
            json!({ "role_name": "Escalate", "permissions": ["api.organization.users.write"] }),
        )
        .await,
        &["api.organization.users.write"],
    );
    ok(s.post_as(
        &key,
        "/v1/organization/roles",
        json!({ "role_name": "Fine", "permissions": ["api.organization.roles.read"] }),
    )
    .await);
    // So she cannot set her own role to owner, and the real owner stays one.
    let promoted = s
        .post_as(
            &key,
            &format!("/v1/organization/users/{alice}"),
            json!({ "role": "owner" }),
        )
        .await;
    assert_eq!(
        assert_insufficient(&promoted, "api.organization.users.write"),
        ""
    );
    assert_eq!(
        ok(s.get(&format!("/v1/organization/users/{alice}")).await)["role"],
        "reader"
    );
    assert_eq!(
        ok(s.get(&format!("/v1/organization/users/{}", s.owner_id()))
            .await)["role"],
        "owner"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_member_who_may_write_users_cannot_raise_anyone_above_herself() {
    let s = TestServer::start_persistent().await;
    let (bob, _, key) = delegate(
        &s,
        "bob@example.com",
        &[
            "api.organization.users.read",
            "api.organization.users.write",
        ],
    )
    .await;
    let carol = s.add_member("carol@example.com", "reader").await;
    let everything = s
        .create_org_role("Everything", &["api.organization.projects.write"])
        .await;
    // What an owner holds and she does not.
    let missing = [
        "api.organization.roles.write",
        "api.organization.invites.write",
        "api.organization.projects.write",
        "api.organization.projects.users.write",
        "api.groups.write",
        "api.organization.admin_api_keys.read",
        "api.organization.admin_api_keys.write",
        "api.organization.audit_logs.read",
        "api.organization.projects.api_keys.write",
    ];
    for (path, body) in [
        (
            format!("/v1/organization/users/{bob}"),
            json!({ "role": "owner" }),
        ),
        (
            format!("/v1/organization/users/{carol}"),
            json!({ "role_id": "role-api-organization-owner" }),
        ),
        (
            format!("/v1/organization/users/{carol}/roles"),
            json!({ "role_id": "role-api-organization-owner" }),
        ),
    ] {
        assert_cannot_grant(&s.post_as(&key, &path, body).await, &missing);
    }
    for (path, body) in [
        (
            format!("/v1/organization/users/{carol}"),
            json!({ "role_id": everything }),
        ),
        (
            format!("/v1/organization/users/{carol}/roles"),
            json!({ "role_id": everything }),
        ),
    ] {
        assert_cannot_grant(
            &s.post_as(&key, &path, body).await,
            &["api.organization.projects.write"],
        );
    }
    // Demoting takes nothing she lacks: a second owner may be made a reader by her.
    ok(s.post(
        &format!("/v1/organization/users/{carol}"),
        json!({ "role": "owner" }),
    )
    .await);
    let demoted = ok(s
        .post_as(
            &key,
            &format!("/v1/organization/users/{carol}"),
            json!({ "role": "reader" }),
        )
        .await);
    assert_eq!(demoted["role"], "reader");
    s.stop().await;
}

#[tokio::test]
async fn a_project_viewer_who_may_write_its_roles_cannot_make_herself_its_owner() {
    let s = TestServer::start_persistent().await;
    let dana = s.add_member("dana@example.com", "reader").await;
    let project = s.create_project("Guarded").await;
    s.add_project_user(&project, &dana, "viewer").await;
    let pr = s
        .create_project_role(&project, "Role writer", &["api.project.roles.write"])
        .await;
    ok(s.post(
        &format!("/v1/projects/{project}/users/{dana}/roles"),
        json!({ "role_id": pr }),
    )
    .await);
    let key = s.key_for(&dana).await;

    let edited = s
        .post_as(
            &key,
            &format!("/v1/projects/{project}/roles/{pr}"),
            json!({ "permissions": ["api.project.roles.write", "api.project.users.write"] }),
        )
        .await;
    assert_cannot_grant(&edited, &["api.project.users.write"]);
    let message = edited.1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("in project {project}")),
        "{message}"
    );
    assert_eq!(
        ok(s.get(&format!("/v1/projects/{project}/roles/{pr}")).await)["permissions"],
        json!(["api.project.roles.write"])
    );
    assert_cannot_grant(
        &s.post_as(
            &key,
            &format!("/v1/projects/{project}/roles"),
            json!({ "role_name": "Escalate", "permissions": ["api.project.users.write"] }),
        )
        .await,
        &["api.project.users.write"],
    );

    // With api.project.users.write held, she still may not make herself owner of the project.
    let users_writer = s
        .create_project_role(&project, "Users writer", &["api.project.users.write"])
        .await;
    ok(s.post(
        &format!("/v1/projects/{project}/users/{dana}/roles"),
        json!({ "role_id": users_writer }),
    )
    .await);
    let promoted = s
        .post_as(
            &key,
            &format!("/v1/organization/projects/{project}/users/{dana}"),
            json!({ "role": "owner" }),
        )
        .await;
    assert_cannot_grant(
        &promoted,
        &[
            "api.organization.projects.api_keys.write",
            "api.model.request",
            "api.responses.write",
            "api.files.write",
            "api.vector_stores.write",
            "api.fine_tuning.jobs.read",
            "api.fine_tuning.jobs.write",
            "api.batches.read",
            "api.batches.write",
        ],
    );
    assert_eq!(
        ok(
            s.get(&format!("/v1/organization/projects/{project}/users/{dana}"))
                .await
        )["role"],
        "viewer"
    );
    s.stop().await;
}

#[tokio::test]
async fn only_a_caller_who_may_grant_owner_invites_an_owner() {
    let s = TestServer::start_persistent().await;
    let (_, _, key) = delegate(
        &s,
        "inviter@example.com",
        &[
            "api.organization.invites.read",
            "api.organization.invites.write",
        ],
    )
    .await;
    let project = s.create_project("Invited into").await;

    let as_owner = s
        .post_as(
            &key,
            "/v1/organization/invites",
            json!({ "email": "boss@example.com", "role": "owner", "projects": [] }),
        )
        .await;
    // What an owner holds and the inviter does not.
    let beyond_inviter = [
        "api.organization.users.write",
        "api.organization.roles.write",
        "api.organization.projects.write",
        "api.organization.projects.users.write",
        "api.groups.write",
        "api.organization.admin_api_keys.read",
        "api.organization.admin_api_keys.write",
        "api.organization.audit_logs.read",
        "api.organization.projects.api_keys.write",
    ];
    assert_cannot_grant(&as_owner, &beyond_inviter);
    let as_project_owner = s
        .post_as(
            &key,
            "/v1/organization/invites",
            json!({ "email": "lead@example.com", "role": "reader",
                    "projects": [{ "id": project, "role": "owner" }] }),
        )
        .await;
    // What a project owner holds, and a reader of the organization does not hold in projects.
    let model_use = [
        "api.model.request",
        "api.responses.write",
        "api.files.read",
        "api.files.write",
        "api.vector_stores.read",
        "api.vector_stores.write",
        "api.fine_tuning.jobs.read",
        "api.fine_tuning.jobs.write",
        "api.batches.read",
        "api.batches.write",
    ];
    let beyond_reader_in_project: Vec<&str> = [
        "api.organization.projects.api_keys.write",
        "api.project.users.write",
        "api.project.roles.write",
    ]
    .into_iter()
    .chain(model_use)
    .collect();
    assert_cannot_grant(&as_project_owner, &beyond_reader_in_project);
    // The default project as `member` is a grant too.
    assert_cannot_grant(
        &s.post_as(
            &key,
            "/v1/organization/invites",
            json!({ "email": "member@example.com", "role": "reader" }),
        )
        .await,
        &model_use,
    );
    // What a reader holds, she holds.
    let invite = ok(s
        .post_as(
            &key,
            "/v1/organization/invites",
            json!({ "email": "reader@example.com", "role": "reader", "projects": [] }),
        )
        .await);
    ok(s.post_as(
        &key,
        &format!("/v1/organization/invites/{}/accept", str_of(&invite["id"])),
        json!({}),
    )
    .await);

    // An owner's invite for an owner is the owner's grant; accepting it with her key would make
    // the grant with hers, so that is refused as well, and the owner's key may accept it.
    let boss = ok(s
        .post(
            "/v1/organization/invites",
            json!({ "email": "boss@example.com", "role": "owner", "projects": [] }),
        )
        .await);
    let accept = format!("/v1/organization/invites/{}/accept", str_of(&boss["id"]));
    assert_cannot_grant(&s.post_as(&key, &accept, json!({})).await, &beyond_inviter);
    assert_eq!(ok(s.post(&accept, json!({})).await)["role"], "owner");
    s.stop().await;
}

#[tokio::test]
async fn a_key_cannot_make_a_key_that_outlives_it() {
    let s = TestServer::start().await;
    let (_, short) = s
        .create_key(json!({ "name": "short", "expires_in_seconds": 60 }))
        .await;
    let parent = ok(s.get("/v1/organization/admin_api_keys").await);
    let parent_expiry = parent["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "short")
        .expect("the short key is listed")["expires_at"]
        .as_i64()
        .expect("it expires");

    for body in [
        json!({ "name": "forever" }),
        json!({ "name": "forever", "expires_in_seconds": null }),
        json!({ "name": "longer", "expires_in_seconds": 61 }),
        json!({ "name": "a year", "expires_in_seconds": 31_536_000 }),
    ] {
        let got = s
            .post_as(&short, "/v1/organization/admin_api_keys", body.clone())
            .await;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("expires_in_seconds"),
        );
        let message = got.1["error"]["message"].as_str().unwrap();
        assert!(message.contains("may not outlive it"), "{body}: {message}");
    }
    let child = ok(s
        .post_as(
            &short,
            "/v1/organization/admin_api_keys",
            json!({ "name": "shorter", "expires_in_seconds": 30 }),
        )
        .await);
    let child_expiry = child["expires_at"].as_i64().expect("the child expires");
    assert!(
        child_expiry <= parent_expiry,
        "{child_expiry} > {parent_expiry}"
    );
    let grandchild = s
        .post_as(
            child["value"].as_str().unwrap(),
            "/v1/organization/admin_api_keys",
            json!({ "name": "grandchild", "expires_in_seconds": 45 }),
        )
        .await;
    assert_error(
        &grandchild,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("expires_in_seconds"),
    );

    // A service account's key is a key it makes too.
    let project = s.create_project("Bots").await;
    let path = format!("/v1/organization/projects/{project}/service_accounts");
    assert_error(
        &s.post_as(&short, &path, json!({ "name": "Forever bot" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("expires_in_seconds"),
    );
    let bot = ok(s
        .post_as(
            &short,
            &path,
            json!({ "name": "Short bot", "expires_in_seconds": 10 }),
        )
        .await);
    assert!(
        bot["api_key"]["expires_at"].as_i64().unwrap() <= parent_expiry,
        "{bot}"
    );

    // A key that does not expire makes keys that do not either.
    let forever = ok(s
        .post(
            "/v1/organization/admin_api_keys",
            json!({ "name": "forever" }),
        )
        .await);
    assert_eq!(forever["expires_at"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn a_key_cannot_make_a_key_with_scopes_beyond_its_own_permissions() {
    let s = TestServer::start_persistent().await;
    let (_, _, key) = delegate(
        &s,
        "keymaker@example.com",
        &[
            "api.organization.admin_api_keys.read",
            "api.organization.admin_api_keys.write",
        ],
    )
    .await;
    let path = "/v1/organization/admin_api_keys";
    assert_cannot_grant(
        &s.post_as(
            &key,
            path,
            json!({ "name": "wider", "scopes": ["api.organization.users.write"] }),
        )
        .await,
        &["api.organization.users.write"],
    );
    // Within what it holds (project permissions only narrow): allowed.
    let made = ok(s
        .post_as(
            &key,
            path,
            json!({ "name": "narrow", "scopes": ["api.organization.users.read", "api.model.request"] }),
        )
        .await);
    // A scoped key's unscoped child gets its scopes, and it cannot name more than them.
    let scoped = made["value"].as_str().unwrap().to_owned();
    let (_, admin_scoped) = s
        .create_key(json!({ "name": "keys only", "scopes": [
            "api.organization.admin_api_keys.read",
            "api.organization.admin_api_keys.write",
        ] }))
        .await;
    let child = ok(s
        .post_as(&admin_scoped, path, json!({ "name": "child" }))
        .await);
    let child_key = child["value"].as_str().unwrap();
    assert_eq!(
        assert_insufficient(
            &s.get_as(child_key, "/v1/organization/users").await,
            "api.organization.users.read"
        ),
        ""
    );
    ok(s.get_as(child_key, path).await);
    assert_cannot_grant(
        &s.post_as(
            &admin_scoped,
            path,
            json!({ "name": "wider", "scopes": ["api.organization.users.read"] }),
        )
        .await,
        &["api.organization.users.read"],
    );
    drop(scoped);
    s.stop().await;
}

/// The check reads what the key holds inside the write transaction: a key authenticated while
/// its owner held a permission cannot grant it once the owner lost it, even though the request
/// was authorized before (the slow-body race of finding 1, for grants).
#[tokio::test]
async fn a_grant_is_checked_against_what_the_key_holds_when_it_commits() {
    let s = TestServer::start_persistent().await;
    let (erin, writer, key) = delegate(
        &s,
        "erin@example.com",
        &[
            "api.organization.roles.read",
            "api.organization.roles.write",
            "api.organization.projects.write",
        ],
    )
    .await;
    let target = s
        .create_org_role("Target", &["api.organization.roles.read"])
        .await;
    let store = s.store();
    // Authenticated now, while she holds projects.write …
    let stale = store
        .authenticate(&hash_secret(&key))
        .await
        .unwrap()
        .expect("her key authenticates");
    // … which her role then loses.
    ok(s.post(
        &format!("/v1/organization/roles/{writer}"),
        json!({ "permissions": ["api.organization.roles.read", "api.organization.roles.write"] }),
    )
    .await);
    let refused = store
        .update_role(
            &stale,
            &orgadmin_core::role::RoleScope::Organization,
            &orgadmin_core::role::RoleRef::parse(&target),
            RoleChange {
                permissions: Some(
                    PermissionSet::parse_names(
                        &[
                            "api.organization.roles.read",
                            "api.organization.projects.write",
                        ],
                        "permissions",
                    )
                    .unwrap(),
                ),
                ..Default::default()
            },
        )
        .await;
    match refused {
        // Refused at the start of the transaction (the key's permissions narrowed since it was
        // authenticated) or by the grant check: either way, nothing is granted.
        Err(DomainError::Forbidden { missing, .. }) => assert_eq!(
            missing.names(),
            ["api.organization.projects.write"],
            "what she lost, or what the change would grant"
        ),
        other => panic!("refused with the permission error, got {other:?}"),
    }
    // And a key revoked meanwhile grants nothing.
    let keys = ok(s.get("/v1/organization/admin_api_keys").await);
    let her_key = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["owner"]["id"] == json!(erin))
        .expect("her key is listed")["id"]
        .clone();
    ok(s.delete(&format!(
        "/v1/organization/admin_api_keys/{}",
        str_of(&her_key)
    ))
    .await);
    let revoked = store
        .create_role(
            &stale,
            &orgadmin_core::role::RoleScope::Organization,
            orgadmin_core::store::NewRole {
                name: orgadmin_core::role::RoleName::parse(
                    "After revocation",
                    orgadmin_core::role::ResourceType::Organization,
                )
                .unwrap(),
                description: None,
                permissions: PermissionSet::parse_names(&["api.organization.roles.read"], "p")
                    .unwrap(),
            },
        )
        .await;
    assert!(
        matches!(revoked, Err(DomainError::Unauthenticated(_))),
        "{revoked:?}"
    );
    drop(store);
    s.stop().await;
}
