//! The rules of SPEC §3 and the error table of §4, each exercised over HTTP against a real server
//! on a fresh database: the last owner, what leaving the organization takes along, role scopes,
//! idempotent and removable assignments, immutable predefined roles, archived projects, invites,
//! admin key expiry, scopes and revocation, project permissions, the audit log, and persistence.

use std::collections::BTreeSet;
use std::sync::Arc;

use orgadmin_core::audit::AuditFilter;
use orgadmin_core::clock::OffsetClock;
use orgadmin_core::id::{OrgId, ProjectId};
use orgadmin_core::page::PageRequest;
use orgadmin_core::ReadAt;
use orgadmin_testkit::{
    assert_error, assert_error_says, assert_insufficient, ids, missing_scopes, ok, owner_key,
    str_of, Answer, TestDatabase, TestServer, OWNER_EMAIL,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ORG_OWNER: &str = "role-api-organization-owner";
const ORG_READER: &str = "role-api-organization-reader";
const PROJECT_OWNER: &str = "role-api-project-owner";
const PROJECT_MEMBER: &str = "role-api-project-member";
const PROJECT_VIEWER: &str = "role-api-project-viewer";
const WEEK: i64 = 7 * 24 * 3600;

fn user_path(user: &str) -> String {
    format!("/v1/organization/users/{user}")
}

fn user_roles_path(user: &str) -> String {
    format!("/v1/organization/users/{user}/roles")
}

fn project_user_roles_path(project: &str, user: &str) -> String {
    format!("/v1/projects/{project}/users/{user}/roles")
}

fn project_users_path(project: &str) -> String {
    format!("/v1/organization/projects/{project}/users")
}

fn alias(role: &str, project: &str) -> String {
    format!("{role}__api-project__{project}")
}

/// The value under the key named like the event's type: `{"type": "user.deleted", "user.deleted": {…}}`.
fn details(event: &Value) -> &Value {
    &event[event["type"].as_str().expect("an event has a type")]
}

/// The types of `events`, sorted: objects made in the same millisecond may be listed in either
/// order, which tests other than the one about order do not depend on.
fn types(events: &[Value]) -> Vec<String> {
    let mut types: Vec<String> = events.iter().map(|e| str_of(&e["type"])).collect();
    types.sort();
    types
}

fn sorted<T: AsRef<str>>(items: &[T]) -> Vec<String> {
    let mut items: Vec<String> = items.iter().map(|s| s.as_ref().to_owned()).collect();
    items.sort();
    items
}

fn detail_ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| str_of(&details(e)["id"])).collect()
}

// --- the last owner ----------------------------------------------------------------------------

#[tokio::test]
async fn demoting_the_last_owner_through_role_is_refused() {
    let s = TestServer::start().await;
    s.add_member("reader@example.com", "reader").await;
    let owner = s.owner_id();

    let got = s.post(&user_path(&owner), json!({"role": "reader"})).await;

    assert_error_says(
        &got,
        StatusCode::CONFLICT,
        "last_owner",
        Some("user_id"),
        "Cannot demote user-…: they are the organization's last owner. Make another member an owner first.",
    );
    assert_eq!(ok(s.get(&user_path(&owner)).await)["role"], "owner");
}

#[tokio::test]
async fn demoting_the_last_owner_through_role_id_is_refused() {
    let s = TestServer::start().await;
    s.add_member("reader@example.com", "reader").await;
    let owner = s.owner_id();

    let got = s
        .post(&user_path(&owner), json!({"role_id": ORG_READER}))
        .await;

    assert_error_says(
        &got,
        StatusCode::CONFLICT,
        "last_owner",
        Some("user_id"),
        "Cannot demote user-…: they are the organization's last owner. Make another member an owner first.",
    );
    assert_eq!(ok(s.get(&user_path(&owner)).await)["role"], "owner");
}

#[tokio::test]
async fn assigning_the_reader_role_to_the_last_owner_on_the_roles_route_is_refused() {
    let s = TestServer::start().await;
    s.add_member("reader@example.com", "reader").await;
    let owner = s.owner_id();

    let got = s
        .post(&user_roles_path(&owner), json!({"role_id": ORG_READER}))
        .await;

    assert_error_says(
        &got,
        StatusCode::CONFLICT,
        "last_owner",
        Some("user_id"),
        "Cannot demote user-…: they are the organization's last owner. Make another member an owner first.",
    );
    assert_eq!(ok(s.get(&user_path(&owner)).await)["role"], "owner");
    let held = ok(s.get(&user_roles_path(&owner)).await);
    assert_eq!(ids(&held), vec![ORG_OWNER]);
}

#[tokio::test]
async fn removing_the_last_owner_is_refused() {
    let s = TestServer::start().await;
    s.add_member("reader@example.com", "reader").await;
    let owner = s.owner_id();

    let got = s.delete(&user_path(&owner)).await;

    assert_error_says(
        &got,
        StatusCode::CONFLICT,
        "last_owner",
        Some("user_id"),
        "Cannot remove user-…: they are the organization's last owner. Make another member an owner first.",
    );
    assert_eq!(ok(s.get(&user_path(&owner)).await)["role"], "owner");
}

#[tokio::test]
async fn an_owner_can_be_demoted_or_removed_once_there_is_another_owner() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let second = s.add_member("second@example.com", "reader").await;

    // Promote through the roles route, demote through role_id.
    let assigned = ok(s
        .post(&user_roles_path(&second), json!({"role_id": ORG_OWNER}))
        .await);
    assert_eq!(assigned["object"], "user.role");
    assert_eq!(assigned["user"]["id"], json!(second));
    assert_eq!(assigned["user"]["role"], "owner");
    assert_eq!(assigned["role"]["id"], ORG_OWNER);
    let demoted = ok(s
        .post(&user_path(&second), json!({"role_id": ORG_READER}))
        .await);
    assert_eq!(demoted["role"], "reader");

    // Promote through role, demote through the roles route.
    let promoted = ok(s.post(&user_path(&second), json!({"role": "owner"})).await);
    assert_eq!(promoted["role"], "owner");
    let demoted = ok(s
        .post(&user_roles_path(&second), json!({"role_id": ORG_READER}))
        .await);
    assert_eq!(demoted["user"]["role"], "reader");

    // Promote through role, then remove.
    ok(s.post(&user_path(&second), json!({"role": "owner"})).await);
    let removed = ok(s.delete(&user_path(&second)).await);
    assert_eq!(
        removed,
        json!({"object": "organization.user.deleted", "id": second, "deleted": true})
    );

    // The first owner may step down too once someone else owns the organization.
    let third = s.add_member("third@example.com", "owner").await;
    let demoted = ok(s.post(&user_path(&owner), json!({"role": "reader"})).await);
    assert_eq!(demoted["role"], "reader");
    let users = ok(s.get("/v1/organization/users").await);
    let owners: Vec<String> = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["role"] == "owner")
        .map(|u| str_of(&u["id"]))
        .collect();
    assert_eq!(owners, vec![third]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_demotions_never_leave_the_organization_without_an_owner() {
    let s = TestServer::start().await;
    let mut owners = vec![s.owner_id()];
    for i in 0..4 {
        owners.push(
            s.add_member(&format!("owner{i}@example.com"), "owner")
                .await,
        );
    }
    async fn demote(s: &TestServer, user: &str) -> Answer {
        s.post(&user_path(user), json!({"role": "reader"})).await
    }

    let results = tokio::join!(
        demote(&s, &owners[0]),
        demote(&s, &owners[1]),
        demote(&s, &owners[2]),
        demote(&s, &owners[3]),
        demote(&s, &owners[4]),
    );

    let results = [results.0, results.1, results.2, results.3, results.4];
    let mut demoted = 0;
    for (status, body) in &results {
        match *status {
            StatusCode::OK => demoted += 1,
            StatusCode::CONFLICT => assert_eq!(body["error"]["code"], "last_owner", "{body}"),
            // The bootstrap owner's own demotion, committed first, takes their key's write permission.
            StatusCode::UNAUTHORIZED => assert!(
                missing_scopes(*status, body)
                    .is_some_and(|m| m.iter().any(|m| m == "api.organization.users.write")),
                "{body}"
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(demoted <= 4, "all five owners were demoted");
    let list = s
        .get_as(&owner_key(), "/v1/organization/users?limit=100")
        .await
        .1;
    let still_owners = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["role"] == "owner")
        .count();
    assert_eq!(still_owners, 5 - demoted, "{list}");
    assert!(still_owners >= 1);
}

// --- leaving the organization ------------------------------------------------------------------

#[tokio::test]
async fn removing_a_member_takes_them_out_of_every_project_and_role_assignment() {
    let s = TestServer::start().await;
    let default = s.default_project_id();
    let project = s.create_project("Cascade").await;
    let leaver = s.add_member("leaver@example.com", "reader").await;
    let stayer = s.add_member("stayer@example.com", "reader").await;
    let org_role = s
        .create_org_role("Auditor", &["api.organization.audit_logs.read"])
        .await;
    let project_role = s
        .create_project_role(&project, "Batcher", &["api.batches.write"])
        .await;
    for user in [&leaver, &stayer] {
        s.add_project_user(&project, user, "member").await;
        s.add_project_user(&default, user, "viewer").await;
        ok(s.post(&user_roles_path(user), json!({"role_id": org_role}))
            .await);
        ok(s.post(
            &project_user_roles_path(&project, user),
            json!({"role_id": project_role}),
        )
        .await);
    }

    let removed = ok(s.delete(&user_path(&leaver)).await);

    assert_eq!(
        removed,
        json!({"object": "organization.user.deleted", "id": leaver, "deleted": true})
    );
    assert_error_says(
        &s.get(&user_path(&leaver)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "No user found with id 'user-…'.",
    );
    for p in [&project, &default] {
        let members = ids(&ok(s
            .get(&format!("{}?limit=100", project_users_path(p)))
            .await));
        assert!(!members.contains(&leaver), "{p}: {members:?}");
        assert!(members.contains(&stayer), "{p}: {members:?}");
        assert_error_says(
            &s.get(&format!("{}/{leaver}", project_users_path(p))).await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("user_id"),
            "User user-… is not a member of project proj_….",
        );
    }
    let events = s
        .audit(&format!(
            "event_types[]=user.deleted&resource_ids[]={leaver}"
        ))
        .await;
    assert_eq!(detail_ids(&events), vec![leaver.clone()]);
    assert!(events[0].get("project").is_none(), "{}", events[0]);

    // Deleting a role records the removal of each assignment it still had: the stayer's only, so
    // the leaver's assignments went with them.
    ok(s.delete(&format!("/v1/organization/roles/{org_role}"))
        .await);
    ok(
        s.delete(&format!("/v1/projects/{project}/roles/{project_role}"))
            .await,
    );
    let removals = s.audit("event_types[]=role.assignment.deleted").await;
    let principals: Vec<String> = removals
        .iter()
        .map(|e| str_of(&details(e)["principal_id"]))
        .collect();
    assert_eq!(
        principals,
        vec![stayer.clone(), stayer.clone()],
        "{removals:?}"
    );
}

#[tokio::test]
async fn removing_the_owner_of_admin_keys_revokes_them_and_records_it() {
    let database = TestDatabase::persistent().await;
    let url = database.url();
    let s = TestServer::start_on(url, Some(&owner_key()), Arc::new(OffsetClock::default())).await;
    let (org, owner, first_key) = (s.org_id(), s.owner_id(), s.owner_key_id());
    let default = s.default_project_id();
    let successor = s.add_member("successor@example.com", "owner").await;
    let (second_key, second_secret) = s.create_key(json!({"name": "script"})).await;
    ok(s.get_as(&second_secret, "/v1/organization/users").await);

    let removed = ok(s.delete(&user_path(&owner)).await);

    assert_eq!(removed["deleted"], true);
    for key in [&s.owner_key, &second_secret] {
        assert_error_says(
            &s.get_as(key, "/v1/organization/users").await,
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            None, "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",);
    }

    // Every key of the organization belonged to the removed owner, so no key is left to read the
    // result over HTTP: read it from the database through the store.
    s.stop().await;
    let store = orgadmin_store::open(url, Arc::new(OffsetClock::default()))
        .await
        .unwrap();
    let org = OrgId::from_raw(org);
    let page = PageRequest::first(100);
    let users = store
        .list_users(ReadAt::latest(&org), &[], &page)
        .await
        .unwrap()
        .items;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].user.id.as_str(), successor);
    assert!(store
        .list_admin_keys(&org, &page)
        .await
        .unwrap()
        .items
        .is_empty());
    let members = store
        .list_project_users(ReadAt::latest(&org), &ProjectId::from_raw(default), &page)
        .await
        .unwrap()
        .items;
    assert!(members.iter().all(|m| m.user_id.as_str() != owner));
    let events = store
        .list_audit_logs(&org, &AuditFilter::default(), &page)
        .await
        .unwrap()
        .items;
    let mut deleted_keys: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == "api_key.deleted")
        .map(|e| e.details["id"].as_str().unwrap())
        .collect();
    deleted_keys.sort();
    let mut expected = vec![first_key.as_str(), second_key.as_str()];
    expected.sort();
    assert_eq!(deleted_keys, expected);
    let user_deleted: Vec<_> = events.iter().filter(|e| e.kind == "user.deleted").collect();
    assert_eq!(user_deleted.len(), 1);
    assert_eq!(user_deleted[0].details["id"], json!(owner));
    let actor = user_deleted[0].actor.as_ref().unwrap();
    assert_eq!(
        (
            actor.key_id.as_str(),
            actor.user_id.as_str(),
            actor.user_email.as_str()
        ),
        (first_key.as_str(), owner.as_str(), OWNER_EMAIL)
    );
}

// --- role scopes -------------------------------------------------------------------------------

#[tokio::test]
async fn an_organization_role_is_refused_on_a_project_route() {
    let s = TestServer::start().await;
    let project = s.create_project("Scoped").await;
    let user = s.add_member("member@example.com", "reader").await;
    s.add_project_user(&project, &user, "member").await;
    let custom = s
        .create_org_role("Org custom", &["api.organization.users.read"])
        .await;

    for role in [ORG_READER, ORG_OWNER, custom.as_str()] {
        let got = s
            .post(
                &project_user_roles_path(&project, &user),
                json!({"role_id": role}),
            )
            .await;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("role_id"),
        );
    }

    let held = ok(s.get(&project_user_roles_path(&project, &user)).await);
    assert_eq!(ids(&held), vec![alias(PROJECT_MEMBER, &project)]);
}

#[tokio::test]
async fn a_project_role_is_refused_on_an_organization_route() {
    let s = TestServer::start().await;
    let project = s.create_project("Scoped").await;
    let user = s.add_member("member@example.com", "reader").await;
    s.add_project_user(&project, &user, "member").await;
    let custom = s
        .create_project_role(&project, "Batcher", &["api.batches.write"])
        .await;
    let owner_alias = alias(PROJECT_OWNER, &project);

    for role in [PROJECT_MEMBER, PROJECT_OWNER, &owner_alias, &custom] {
        let got = s
            .post(&user_roles_path(&user), json!({"role_id": role}))
            .await;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("role_id"),
        );
        let got = s.post(&user_path(&user), json!({"role_id": role})).await;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("role_id"),
        );
    }

    assert_eq!(ok(s.get(&user_path(&user)).await)["role"], "reader");
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&user)).await)),
        vec![ORG_READER]
    );
}

#[tokio::test]
async fn a_custom_project_role_of_another_project_is_refused() {
    let s = TestServer::start().await;
    let here = s.create_project("Here").await;
    let there = s.create_project("There").await;
    let user = s.add_member("member@example.com", "reader").await;
    s.add_project_user(&here, &user, "member").await;
    s.add_project_user(&there, &user, "member").await;
    let theirs = s
        .create_project_role(&there, "Batcher", &["api.batches.write"])
        .await;

    let got = s
        .post(
            &project_user_roles_path(&here, &user),
            json!({"role_id": theirs}),
        )
        .await;

    assert_error_says(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("role_id"), "'role_…' cannot be used in project proj_…: it belongs to project proj_…. Use a role of resource_type 'api.project' from this project.",);
    assert_eq!(
        ids(&ok(s.get(&project_user_roles_path(&here, &user)).await)),
        vec![alias(PROJECT_MEMBER, &here)]
    );
    // In its own project it is assigned.
    let assigned = ok(s
        .post(
            &project_user_roles_path(&there, &user),
            json!({"role_id": theirs}),
        )
        .await);
    assert_eq!(assigned["role"]["id"], json!(theirs));
}

#[tokio::test]
async fn the_project_scoped_alias_is_accepted_in_its_own_project_and_refused_in_another() {
    let s = TestServer::start().await;
    let here = s.create_project("Here").await;
    let there = s.create_project("There").await;
    let user = s.add_member("member@example.com", "reader").await;
    s.add_project_user(&here, &user, "viewer").await;
    s.add_project_user(&there, &user, "viewer").await;
    let member_here = alias(PROJECT_MEMBER, &here);

    let assigned = ok(s
        .post(
            &project_user_roles_path(&here, &user),
            json!({"role_id": member_here}),
        )
        .await);

    assert_eq!(assigned["object"], "user.role");
    assert_eq!(assigned["role"]["id"], json!(member_here));
    let membership = ok(s
        .get(&format!("{}/{user}", project_users_path(&here)))
        .await);
    assert_eq!(membership["role"], "member");
    for id in [member_here.as_str(), PROJECT_MEMBER] {
        let held = ok(s
            .get(&format!("{}/{id}", project_user_roles_path(&here, &user)))
            .await);
        assert_eq!(held["id"], json!(member_here));
        assert_eq!(held["predefined_role"], true);
    }

    let got = s
        .post(
            &project_user_roles_path(&there, &user),
            json!({"role_id": member_here}),
        )
        .await;
    assert_error_says(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("role_id"), "'role-api-project-member__api-project__proj_…' cannot be used in project proj_…: it belongs to project proj_…. Use a role of resource_type 'api.project' from this project.",);
    let membership = ok(s
        .get(&format!("{}/{user}", project_users_path(&there)))
        .await);
    assert_eq!(membership["role"], "viewer");
    assert_error_says(
        &s.get(&format!("/v1/projects/{there}/roles/{member_here}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("role_id"),
        "No role found with id 'role-api-project-member__api-project__proj_…'.",
    );
}

#[tokio::test]
async fn role_and_role_id_that_disagree_are_refused() {
    let s = TestServer::start().await;
    let user = s.add_member("member@example.com", "reader").await;
    let custom = s
        .create_org_role("Inviter", &["api.organization.invites.write"])
        .await;

    for body in [
        json!({"role": "owner", "role_id": ORG_READER}),
        json!({"role": "reader", "role_id": ORG_OWNER}),
        json!({"role": "owner", "role_id": custom}),
    ] {
        let got = s.post(&user_path(&user), body.clone()).await;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("role_id"),
        );
    }

    assert_eq!(ok(s.get(&user_path(&user)).await)["role"], "reader");
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&user)).await)),
        vec![ORG_READER]
    );
    // When they agree, the change is made.
    let got = ok(s
        .post(
            &user_path(&user),
            json!({"role": "owner", "role_id": ORG_OWNER}),
        )
        .await);
    assert_eq!(got["role"], "owner");
}

// --- assignments -------------------------------------------------------------------------------

#[tokio::test]
async fn assigning_a_role_twice_is_idempotent() {
    let s = TestServer::start().await;
    let user = s.add_member("member@example.com", "reader").await;
    let project = s.create_project("Twice").await;
    s.add_project_user(&project, &user, "member").await;
    let org_role = s
        .create_org_role("Inviter", &["api.organization.invites.write"])
        .await;
    let project_role = s
        .create_project_role(&project, "Batcher", &["api.batches.write"])
        .await;

    for _ in 0..2 {
        let got = ok(s
            .post(&user_roles_path(&user), json!({"role_id": org_role}))
            .await);
        assert_eq!(got["role"]["id"], json!(org_role));
        assert_eq!(got["user"]["id"], json!(user));
        let got = ok(s
            .post(
                &project_user_roles_path(&project, &user),
                json!({"role_id": project_role}),
            )
            .await);
        assert_eq!(got["role"]["id"], json!(project_role));
    }

    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&user)).await)),
        vec![ORG_READER.to_owned(), org_role.clone()]
    );
    assert_eq!(
        ids(&ok(s.get(&project_user_roles_path(&project, &user)).await)),
        vec![alias(PROJECT_MEMBER, &project), project_role.clone()]
    );
    for role in [&org_role, &project_role] {
        let events = s
            .audit(&format!(
                "event_types[]=role.assignment.created&resource_ids[]={role}"
            ))
            .await;
        assert_eq!(events.len(), 1, "{role}: {events:?}");
        assert_eq!(details(&events[0])["principal_id"], json!(user));
        assert_eq!(details(&events[0])["principal_type"], "user");
    }

    // The base role a member already holds is also accepted again, and stays.
    let got = ok(s
        .post(&user_roles_path(&user), json!({"role_id": ORG_READER}))
        .await);
    assert_eq!(got["user"]["role"], "reader");
}

#[tokio::test]
async fn predefined_roles_cannot_be_changed_or_deleted() {
    let s = TestServer::start().await;
    let project = s.create_project("Immutable").await;

    for id in [ORG_OWNER, ORG_READER] {
        let path = format!("/v1/organization/roles/{id}");
        let before = ok(s.get(&path).await);
        assert_eq!(before["predefined_role"], true);
        let got = s.post(&path, json!({"description": "changed"})).await;
        assert_error(
            &got,
            StatusCode::CONFLICT,
            "immutable_role",
            Some("role_id"),
        );
        let got = s.delete(&path).await;
        assert_error(
            &got,
            StatusCode::CONFLICT,
            "immutable_role",
            Some("role_id"),
        );
        assert_eq!(ok(s.get(&path).await), before);
    }
    let member_alias = alias(PROJECT_MEMBER, &project);
    for id in [PROJECT_OWNER, PROJECT_MEMBER, PROJECT_VIEWER, &member_alias] {
        let path = format!("/v1/projects/{project}/roles/{id}");
        let before = ok(s.get(&path).await);
        assert_eq!(before["predefined_role"], true);
        let got = s.post(&path, json!({"role_name": "renamed"})).await;
        assert_error(
            &got,
            StatusCode::CONFLICT,
            "immutable_role",
            Some("role_id"),
        );
        let got = s.delete(&path).await;
        assert_error(
            &got,
            StatusCode::CONFLICT,
            "immutable_role",
            Some("role_id"),
        );
        assert_eq!(ok(s.get(&path).await), before);
    }
    assert!(s.audit("event_types[]=role.updated").await.is_empty());
    assert!(s.audit("event_types[]=role.deleted").await.is_empty());
}

#[tokio::test]
async fn a_custom_role_can_be_created_read_updated_listed_and_deleted() {
    let s = TestServer::start().await;

    let created = ok(s
        .post(
            "/v1/organization/roles",
            json!({"role_name": "Support", "permissions": ["api.organization.users.read"], "description": "Reads users"}),
        )
        .await);

    let id = str_of(&created["id"]);
    assert!(id.starts_with("role_"), "{created}");
    assert_eq!(created["object"], "role");
    assert_eq!(created["name"], "Support");
    assert_eq!(created["description"], "Reads users");
    assert_eq!(
        created["permissions"],
        json!(["api.organization.users.read"])
    );
    assert_eq!(created["resource_type"], "api.organization");
    assert_eq!(created["predefined_role"], false);
    let path = format!("/v1/organization/roles/{id}");
    assert_eq!(ok(s.get(&path).await), created);

    let duplicate = json!({"role_name": "SUPPORT", "permissions": []});
    assert_error_says(
        &s.post("/v1/organization/roles", duplicate).await,
        StatusCode::CONFLICT,
        "already_exists",
        Some("role_name"),
        "A role named 'SUPPORT' already exists (role_…); role names are unique in their scope.",
    );
    let wrong_scope = json!({"role_name": "Batcher", "permissions": ["api.batches.write"]});
    assert_error_says(
        &s.post("/v1/organization/roles", wrong_scope).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("permissions"), "'api.batches.write' cannot be granted by a role of resource type 'api.organization'; use only organization (api.organization.*, api.groups.*) permissions.",);

    let updated = ok(s
        .post(
            &path,
            json!({"role_name": "Support team", "permissions": ["api.organization.users.read", "api.organization.invites.read"]}),
        )
        .await);
    assert_eq!(updated["id"], json!(id));
    assert_eq!(updated["name"], "Support team");
    assert_eq!(updated["description"], "Reads users");
    let permissions: BTreeSet<String> = updated["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(
        permissions,
        BTreeSet::from([
            "api.organization.invites.read".to_owned(),
            "api.organization.users.read".to_owned()
        ])
    );
    assert_eq!(ok(s.get(&path).await), updated);
    let listed = ids(&ok(s.get("/v1/organization/roles").await));
    assert_eq!(
        listed,
        vec![ORG_OWNER.to_owned(), ORG_READER.to_owned(), id.clone()]
    );

    let deleted = ok(s.delete(&path).await);
    assert_eq!(
        deleted,
        json!({"object": "role.deleted", "id": id, "deleted": true})
    );
    assert_error_says(
        &s.get(&path).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("role_id"),
        "No role found with id 'role_…'.",
    );
    assert_error_says(
        &s.delete(&path).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("role_id"),
        "No role found with id 'role_…'.",
    );
    let events = s.audit(&format!("resource_ids[]={id}")).await;
    assert_eq!(
        types(&events),
        sorted(&["role.created", "role.updated", "role.deleted"])
    );
}

#[tokio::test]
async fn a_custom_project_role_belongs_to_its_project() {
    let s = TestServer::start().await;
    let here = s.create_project("Here").await;
    let there = s.create_project("There").await;

    let created = ok(s
        .post(
            &format!("/v1/projects/{here}/roles"),
            json!({"role_name": "Batcher", "permissions": ["api.batches.write"]}),
        )
        .await);

    let id = str_of(&created["id"]);
    assert_eq!(created["resource_type"], "api.project");
    assert_eq!(created["predefined_role"], false);
    ok(s.get(&format!("/v1/projects/{here}/roles/{id}")).await);
    for elsewhere in [
        format!("/v1/projects/{there}/roles/{id}"),
        format!("/v1/organization/roles/{id}"),
    ] {
        assert_error_says(
            &s.get(&elsewhere).await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("role_id"),
            "No role found with id 'role_…'.",
        );
    }
    // The name is unique in its project only.
    ok(s.post(
        &format!("/v1/projects/{there}/roles"),
        json!({"role_name": "Batcher", "permissions": []}),
    )
    .await);
    assert_error_says(
        &s.post(
            &format!("/v1/projects/{here}/roles"),
            json!({"role_name": "batcher", "permissions": []}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_exists",
        Some("role_name"),
        "A role named 'batcher' already exists (role_…); role names are unique in their scope.",
    );
    assert_error_says(
        &s.post(
            &format!("/v1/projects/{here}/roles"),
            json!({"role_name": "Org reader", "permissions": ["api.organization.users.read"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("permissions"), "'api.organization.users.read' cannot be granted by a role of resource type 'api.project'; use only project (api.project.*, api.model.request, …) permissions.",);
}

#[tokio::test]
async fn deleting_a_role_removes_its_assignments() {
    let s = TestServer::start().await;
    let user = s.add_member("member@example.com", "reader").await;
    let project = s.create_project("Roles").await;
    s.add_project_user(&project, &user, "member").await;
    let org_role = s
        .create_org_role("Inviter", &["api.organization.invites.write"])
        .await;
    let project_role = s
        .create_project_role(&project, "Batcher", &["api.batches.write"])
        .await;
    ok(
        s.post(&user_roles_path(&user), json!({"role_id": org_role}))
            .await,
    );
    ok(s.post(
        &project_user_roles_path(&project, &user),
        json!({"role_id": project_role}),
    )
    .await);
    let held = ok(s
        .get(&format!("{}/{org_role}", user_roles_path(&user)))
        .await);
    assert_eq!(
        held["assignment_sources"],
        json!([{"principal_id": user, "principal_type": "user"}])
    );

    ok(s.delete(&format!("/v1/organization/roles/{org_role}"))
        .await);
    ok(
        s.delete(&format!("/v1/projects/{project}/roles/{project_role}"))
            .await,
    );

    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&user)).await)),
        vec![ORG_READER]
    );
    assert_eq!(
        ids(&ok(s.get(&project_user_roles_path(&project, &user)).await)),
        vec![alias(PROJECT_MEMBER, &project)]
    );
    assert_error_says(
        &s.get(&format!("{}/{org_role}", user_roles_path(&user)))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("role_id"),
        "No role found with id 'role_…'.",
    );
    for role in [&org_role, &project_role] {
        let events = s
            .audit(&format!(
                "event_types[]=role.assignment.deleted&resource_ids[]={role}"
            ))
            .await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(details(&events[0])["principal_id"], json!(user));
    }
    // A new role of the same name starts without holders.
    let again = s
        .create_org_role("Inviter", &["api.organization.invites.write"])
        .await;
    assert!(!ids(&ok(s.get(&user_roles_path(&user)).await)).contains(&again));
}

// --- projects ----------------------------------------------------------------------------------

#[tokio::test]
async fn an_archived_project_refuses_new_members_and_role_changes() {
    let s = TestServer::start().await;
    let project = s.create_project("Old").await;
    let member = s.add_member("member@example.com", "reader").await;
    let newcomer = s.add_member("newcomer@example.com", "reader").await;
    s.add_project_user(&project, &member, "viewer").await;
    let custom = s
        .create_project_role(&project, "Batcher", &["api.batches.write"])
        .await;

    let archived = ok(s
        .post(
            &format!("/v1/organization/projects/{project}/archive"),
            json!({}),
        )
        .await);

    assert_eq!(archived["id"], json!(project));
    assert_eq!(archived["status"], "archived");
    assert!(archived["archived_at"].is_i64(), "{archived}");
    let refused = [
        s.post(
            &project_users_path(&project),
            json!({"user_id": newcomer, "role": "member"}),
        )
        .await,
        s.post(
            &format!("{}/{member}", project_users_path(&project)),
            json!({"role": "owner"}),
        )
        .await,
        s.post(
            &project_user_roles_path(&project, &member),
            json!({"role_id": custom}),
        )
        .await,
        s.post(
            &project_user_roles_path(&project, &member),
            json!({"role_id": PROJECT_OWNER}),
        )
        .await,
    ];
    for got in &refused {
        assert_error_says(
            got,
            StatusCode::CONFLICT,
            "project_archived",
            Some("project_id"),
            "Project proj_… is archived: it keeps its data, but its settings, members, roles and service accounts can no longer be changed.",
        );
    }
    // Its data stays readable and unchanged.
    let members = ok(s.get(&project_users_path(&project)).await);
    let roles: Vec<(String, String)> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (str_of(&m["id"]), str_of(&m["role"])))
        .collect();
    assert_eq!(roles, vec![(member.clone(), "viewer".to_owned())]);
    assert_eq!(
        ids(&ok(s
            .get(&project_user_roles_path(&project, &member))
            .await)),
        vec![alias(PROJECT_VIEWER, &project)]
    );
}

#[tokio::test]
async fn an_archived_projects_custom_roles_can_be_neither_changed_nor_deleted() {
    let s = TestServer::start().await;
    let project = s.create_project("Old").await;
    let member = s.add_member("member@example.com", "reader").await;
    s.add_project_user(&project, &member, "member").await;
    let custom = s
        .create_project_role(&project, "Batcher", &["api.batches.write"])
        .await;
    ok(s.post(
        &project_user_roles_path(&project, &member),
        json!({"role_id": custom}),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/archive"),
        json!({}),
    )
    .await);
    let path = format!("/v1/projects/{project}/roles/{custom}");

    let refused = [
        s.post(&path, json!({"permissions": []})).await,
        s.post(
            &format!("/v1/projects/{project}/roles"),
            json!({"role_name": "New", "permissions": []}),
        )
        .await,
        s.delete(&format!(
            "{}/{custom}",
            project_user_roles_path(&project, &member)
        ))
        .await,
        s.delete(&path).await,
    ];

    for got in &refused {
        assert_error_says(
            got,
            StatusCode::CONFLICT,
            "project_archived",
            Some("project_id"),
            "Project proj_… is archived: it keeps its data, but its settings, members, roles and service accounts can no longer be changed.",
        );
    }
    // The archived project keeps its role and the assignment.
    let role = ok(s.get(&path).await);
    assert_eq!(role["permissions"], json!(["api.batches.write"]));
    assert_eq!(
        ids(&ok(s
            .get(&project_user_roles_path(&project, &member))
            .await)),
        vec![alias(PROJECT_MEMBER, &project), custom.clone()]
    );
}

#[tokio::test]
async fn archived_projects_are_listed_only_with_include_archived() {
    let s = TestServer::start().await;
    let default = s.default_project_id();
    let active = s.create_project("Active").await;
    let archived = s.create_project("Archived").await;
    ok(s.post(
        &format!("/v1/organization/projects/{archived}/archive"),
        json!({}),
    )
    .await);

    for query in ["", "?include_archived=false"] {
        let listed = ids(&ok(s
            .get(&format!("/v1/organization/projects{query}"))
            .await));
        assert_eq!(sorted(&listed), sorted(&[&default, &active]), "{query}");
    }
    let listed = ids(&ok(s
        .get("/v1/organization/projects?include_archived=true")
        .await));
    assert_eq!(sorted(&listed), sorted(&[&default, &active, &archived]));
    let project = ok(s
        .get(&format!("/v1/organization/projects/{archived}"))
        .await);
    assert_eq!(project["status"], "archived");
}

#[tokio::test]
async fn the_default_project_cannot_be_archived() {
    let s = TestServer::start().await;
    let default = s.default_project_id();

    let got = s
        .post(
            &format!("/v1/organization/projects/{default}/archive"),
            json!({}),
        )
        .await;

    assert_error_says(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("project_id"),
        "Project proj_… is the organization's default project and cannot be archived.",
    );
    let project = ok(s.get(&format!("/v1/organization/projects/{default}")).await);
    assert_eq!(project["status"], "active");
    assert_eq!(project["archived_at"], Value::Null);
}

#[tokio::test]
async fn only_organization_members_can_join_a_project_and_only_once() {
    let s = TestServer::start().await;
    let project = s.create_project("Members").await;
    let member = s.add_member("member@example.com", "reader").await;

    assert_error_says(
        &s.post(
            &project_users_path(&project),
            json!({"user_id": "user-nobody", "role": "member"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("user_id"), "User user-nobody is not a member of the organization; invite them first (POST /v1/organization/invites).",);
    assert_error_says(
        &s.post(
            &project_users_path(&project),
            json!({"email": "stranger@example.com", "role": "member"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("email"), "No member of the organization has the email stranger@example.com; invite them first (POST /v1/organization/invites).",);
    let added = ok(s
        .post(
            &project_users_path(&project),
            json!({"email": "MEMBER@example.com", "role": "member"}),
        )
        .await);
    assert_eq!(added["id"], json!(member));
    assert_eq!(added["object"], "organization.project.user");
    let again = s
        .post(
            &project_users_path(&project),
            json!({"user_id": member, "role": "owner"}),
        )
        .await;
    assert_eq!(again.0, StatusCode::CONFLICT, "{}", again.1);
    assert_eq!(again.1["error"]["code"], "already_exists", "{}", again.1);
}

// --- invites -----------------------------------------------------------------------------------

#[tokio::test]
async fn an_accepted_invite_makes_a_member_with_the_invites_role_and_projects() {
    let s = TestServer::start().await;
    let default = s.default_project_id();
    let project = s.create_project("Invited").await;

    let invite = ok(s
        .post(
            "/v1/organization/invites",
            json!({"email": "new.person@example.com", "role": "owner", "projects": [{"id": project, "role": "owner"}]}),
        )
        .await);

    let invite_id = str_of(&invite["id"]);
    assert!(invite_id.starts_with("invite-"), "{invite}");
    assert_eq!(invite["object"], "organization.invite");
    assert_eq!(invite["status"], "pending");
    assert_eq!(invite["role"], "owner");
    assert_eq!(invite["accepted_at"], Value::Null);
    assert_eq!(
        invite["projects"],
        json!([{"id": project, "role": "owner"}])
    );
    assert_eq!(
        invite["expires_at"].as_i64().unwrap() - invite["created_at"].as_i64().unwrap(),
        WEEK
    );

    let user = ok(s
        .post(
            &format!("/v1/organization/invites/{invite_id}/accept"),
            json!({"name": "New Person"}),
        )
        .await);

    let user_id = str_of(&user["id"]);
    assert!(user_id.starts_with("user-"), "{user}");
    assert_eq!(user["object"], "organization.user");
    assert_eq!(user["email"], "new.person@example.com");
    assert_eq!(user["name"], "New Person");
    assert_eq!(user["role"], "owner");
    assert_eq!(ok(s.get(&user_path(&user_id)).await), user);
    let invite = ok(s
        .get(&format!("/v1/organization/invites/{invite_id}"))
        .await);
    assert_eq!(invite["status"], "accepted");
    assert!(invite["accepted_at"].is_i64(), "{invite}");
    let membership = ok(s
        .get(&format!("{}/{user_id}", project_users_path(&project)))
        .await);
    assert_eq!(membership["role"], "owner");
    assert_error_says(
        &s.get(&format!("{}/{user_id}", project_users_path(&default)))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "User user-… is not a member of project proj_….",
    );
    assert_eq!(
        types(&s.audit(&format!("resource_ids[]={invite_id}")).await),
        sorted(&["invite.sent", "invite.accepted"])
    );
    let added = s
        .audit(&format!(
            "event_types[]=user.added&resource_ids[]={user_id}"
        ))
        .await;
    // One event for joining the organization, one for each project joined.
    assert_eq!(added.len(), 2, "{added:?}");
    let (org_event, project_events): (Vec<_>, Vec<_>) =
        added.iter().partition(|e| e.get("project").is_none());
    assert_eq!(org_event.len(), 1, "{added:?}");
    assert_eq!(details(org_event[0])["data"]["role"], "owner");
    assert_eq!(project_events[0]["project"]["id"], project.as_str());
    assert_eq!(details(project_events[0])["data"]["role"], "owner");

    assert_error_says(
        &s.post(
            &format!("/v1/organization/invites/{invite_id}/accept"),
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "invite_not_pending",
        Some("invite_id"),
        "Invite invite-… is accepted and can no longer be accepted.",
    );
}

#[tokio::test]
async fn an_invite_without_projects_adds_the_member_to_the_default_project() {
    let s = TestServer::start().await;
    let default = s.default_project_id();

    let invite = ok(s
        .post(
            "/v1/organization/invites",
            json!({"email": "default@example.com", "role": "reader"}),
        )
        .await);

    assert_eq!(
        invite["projects"],
        json!([{"id": default, "role": "member"}])
    );
    let user = ok(s
        .post(
            &format!("/v1/organization/invites/{}/accept", str_of(&invite["id"])),
            json!({}),
        )
        .await);
    assert_eq!(user["role"], "reader");
    let membership = ok(s
        .get(&format!(
            "{}/{}",
            project_users_path(&default),
            str_of(&user["id"])
        ))
        .await);
    assert_eq!(membership["role"], "member");
}

#[tokio::test]
async fn an_invite_with_an_empty_project_list_adds_the_member_to_no_project() {
    let s = TestServer::start().await;
    let default = s.default_project_id();

    let invite = ok(s
        .post(
            "/v1/organization/invites",
            json!({"email": "nowhere@example.com", "role": "reader", "projects": []}),
        )
        .await);

    assert_eq!(invite["projects"], json!([]));
    let user = ok(s
        .post(
            &format!("/v1/organization/invites/{}/accept", str_of(&invite["id"])),
            json!({}),
        )
        .await);
    assert_error_says(
        &s.get(&format!(
            "{}/{}",
            project_users_path(&default),
            str_of(&user["id"])
        ))
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "User user-… is not a member of project proj_….",
    );
}

#[tokio::test]
async fn an_invite_expires_after_seven_days() {
    let s = TestServer::start().await;
    let email = "late@example.com";
    let invite = ok(s
        .post(
            "/v1/organization/invites",
            json!({"email": email, "role": "reader"}),
        )
        .await);
    let path = format!("/v1/organization/invites/{}", str_of(&invite["id"]));

    s.clock.advance(WEEK - 60);
    assert_eq!(ok(s.get(&path).await)["status"], "pending");
    s.clock.advance(61);

    assert_eq!(ok(s.get(&path).await)["status"], "expired");
    let listed = ok(s.get("/v1/organization/invites").await);
    assert_eq!(listed["data"][0]["status"], "expired");
    assert_error_says(
        &s.post(&format!("{path}/accept"), json!({})).await,
        StatusCode::CONFLICT,
        "invite_not_pending",
        Some("invite_id"),
        "Invite invite-… is expired and can no longer be accepted.",
    );
    let users = ok(s
        .get(&format!("/v1/organization/users?emails[]={email}"))
        .await);
    assert!(ids(&users).is_empty(), "{users}");
    // An expired invite is not pending, so the person can be invited again.
    ok(s.post(
        "/v1/organization/invites",
        json!({"email": email, "role": "reader"}),
    )
    .await);
}

#[tokio::test]
async fn a_second_pending_invite_for_the_same_email_is_refused() {
    let s = TestServer::start().await;
    let first = ok(s
        .post(
            "/v1/organization/invites",
            json!({"email": "dup@example.com", "role": "reader"}),
        )
        .await);

    let got = s
        .post(
            "/v1/organization/invites",
            json!({"email": "DUP@Example.com", "role": "owner"}),
        )
        .await;

    assert_error_says(
        &got,
        StatusCode::CONFLICT,
        "already_exists",
        Some("email"),
        "DUP@Example.com already has a pending invite (invite-…); delete it first to send a new one.",
    );
    assert_eq!(ids(&ok(s.get("/v1/organization/invites").await)).len(), 1);
    // Once the first is withdrawn, a new one may be sent.
    ok(s.delete(&format!(
        "/v1/organization/invites/{}",
        str_of(&first["id"])
    ))
    .await);
    ok(s.post(
        "/v1/organization/invites",
        json!({"email": "dup@example.com", "role": "owner"}),
    )
    .await);
}

#[tokio::test]
async fn an_invite_for_an_existing_member_is_refused() {
    let s = TestServer::start().await;
    s.add_member("member@example.com", "reader").await;

    for email in ["OWNER@example.com", "member@example.com"] {
        let got = s
            .post(
                "/v1/organization/invites",
                json!({"email": email, "role": "reader"}),
            )
            .await;
        assert_error(&got, StatusCode::CONFLICT, "already_exists", Some("email"));
    }
}

#[tokio::test]
async fn an_accepted_invite_cannot_be_deleted_but_a_pending_one_can() {
    let s = TestServer::start().await;
    let accepted = ok(s
        .post(
            "/v1/organization/invites",
            json!({"email": "accepted@example.com", "role": "reader"}),
        )
        .await);
    let accepted_path = format!("/v1/organization/invites/{}", str_of(&accepted["id"]));
    ok(s.post(&format!("{accepted_path}/accept"), json!({})).await);
    let pending = ok(s
        .post(
            "/v1/organization/invites",
            json!({"email": "pending@example.com", "role": "reader"}),
        )
        .await);
    let pending_id = str_of(&pending["id"]);
    let pending_path = format!("/v1/organization/invites/{pending_id}");

    assert_error_says(
        &s.delete(&accepted_path).await,
        StatusCode::CONFLICT,
        "invite_not_pending",
        Some("invite_id"),
        "Invite invite-… has been accepted and cannot be deleted; remove the user instead.",
    );
    assert_eq!(ok(s.get(&accepted_path).await)["status"], "accepted");

    let deleted = ok(s.delete(&pending_path).await);
    assert_eq!(
        deleted,
        json!({"object": "organization.invite.deleted", "id": pending_id, "deleted": true})
    );
    assert_error_says(
        &s.get(&pending_path).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("invite_id"),
        "No invite found with id 'invite-…'.",
    );
    assert_eq!(
        types(&s.audit(&format!("resource_ids[]={pending_id}")).await),
        sorted(&["invite.sent", "invite.deleted"])
    );
}

// --- admin keys --------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_without_a_key_is_refused_with_missing_api_key() {
    let s = TestServer::start().await;

    let got = s
        .send(Method::GET, "/v1/organization/users", None, None)
        .await;

    assert_error_says(
        &got,
        StatusCode::UNAUTHORIZED,
        "missing_api_key",
        None,
        "You didn't provide an API key. Provide your admin API key in the Authorization header using Bearer auth (Authorization: Bearer sk-admin-…).",
    );
}

#[tokio::test]
async fn a_malformed_or_unknown_key_is_refused_with_invalid_api_key() {
    let s = TestServer::start().await;
    let unknown = format!("Bearer sk-admin-{}", "b".repeat(40));
    let without_scheme = owner_key();
    let basic = format!("Basic {}", owner_key());

    for header in [
        "Bearer",
        "Bearer not-a-key",
        "Bearer sk-admin-",
        "Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
        unknown.as_str(),
        without_scheme.as_str(),
        basic.as_str(),
    ] {
        let got = s
            .send(Method::GET, "/v1/organization/users", Some(header), None)
            .await;
        assert_error_says(
            &got,
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            None,
            "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",
        );
    }
}

#[tokio::test]
async fn a_deleted_key_is_refused_at_once() {
    let s = TestServer::start().await;
    let created = ok(s
        .post(
            "/v1/organization/admin_api_keys",
            json!({"name": "temporary"}),
        )
        .await);
    let id = str_of(&created["id"]);
    let secret = str_of(&created["value"]);
    assert!(secret.starts_with("sk-admin-"), "{created}");
    assert_eq!(created["owner"]["id"], json!(s.owner_id()));
    ok(s.get_as(&secret, "/v1/organization/users").await);
    let listed = ok(s.get("/v1/organization/admin_api_keys").await);
    assert!(
        !listed.to_string().contains(&secret),
        "a list shows a secret"
    );

    let deleted = ok(s
        .delete(&format!("/v1/organization/admin_api_keys/{id}"))
        .await);

    assert_eq!(
        deleted,
        json!({"object": "organization.admin_api_key.deleted", "id": id, "deleted": true})
    );
    assert_error_says(
        &s.get_as(&secret, "/v1/organization/users").await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        None, "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",);
    assert_error_says(
        &s.get(&format!("/v1/organization/admin_api_keys/{id}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("key_id"),
        "No admin API key found with id 'key_…'.",
    );
    assert_eq!(
        types(&s.audit(&format!("resource_ids[]={id}")).await),
        sorted(&["api_key.created", "api_key.deleted"])
    );
}

#[tokio::test]
async fn a_key_stops_working_when_it_expires() {
    let s = TestServer::start().await;
    let created = ok(s
        .post(
            "/v1/organization/admin_api_keys",
            json!({"name": "short-lived", "expires_in_seconds": 60}),
        )
        .await);
    let secret = str_of(&created["value"]);
    assert_eq!(
        created["expires_at"].as_i64().unwrap() - created["created_at"].as_i64().unwrap(),
        60
    );
    ok(s.get_as(&secret, "/v1/organization/users").await);

    s.clock.advance(61);

    assert_error_says(
        &s.get_as(&secret, "/v1/organization/users").await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        None, "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",);
    ok(s.get("/v1/organization/users").await);
}

#[tokio::test]
async fn a_key_scoped_to_reading_users_can_do_nothing_else() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let default = s.default_project_id();
    let created = ok(s
        .post(
            "/v1/organization/admin_api_keys",
            json!({"name": "user-lister", "scopes": ["api.organization.users.read"]}),
        )
        .await);
    assert_eq!(created["scopes"], json!(["api.organization.users.read"]));
    let key = str_of(&created["value"]);

    assert_eq!(
        ids(&ok(s.get_as(&key, "/v1/organization/users").await)),
        vec![owner.clone()]
    );
    ok(s.get_as(&key, &user_path(&owner)).await);
    ok(s.get_as(&key, &user_roles_path(&owner)).await);

    let refused: Vec<(&str, (StatusCode, Value))> = vec![
        (
            "api.organization.users.write",
            s.post_as(&key, &user_path(&owner), json!({"role": "owner"}))
                .await,
        ),
        (
            "api.organization.invites.write",
            s.post_as(
                &key,
                "/v1/organization/invites",
                json!({"email": "x@example.com", "role": "reader"}),
            )
            .await,
        ),
        (
            "api.organization.projects.read",
            s.get_as(&key, "/v1/organization/projects").await,
        ),
        (
            "api.organization.projects.write",
            s.post_as(&key, "/v1/organization/projects", json!({"name": "No"}))
                .await,
        ),
        (
            "api.organization.projects.users.read",
            s.get_as(&key, &project_users_path(&default)).await,
        ),
        (
            "api.organization.admin_api_keys.write",
            s.post_as(
                &key,
                "/v1/organization/admin_api_keys",
                json!({"name": "escalate"}),
            )
            .await,
        ),
        (
            "api.organization.audit_logs.read",
            s.get_as(&key, "/v1/organization/audit_logs").await,
        ),
    ];
    for (permission, got) in &refused {
        let detail = assert_insufficient(got, permission);
        // On a project route, the project permission would do too.
        assert!(
            detail.is_empty() || detail.starts_with("'api.project.users.read' held in project"),
            "{permission}: {detail}"
        );
    }
}

#[tokio::test]
async fn a_scoped_key_cannot_make_a_key_that_may_do_more_than_itself() {
    let s = TestServer::start().await;
    let (_, scoped) = s
        .create_key(
            json!({"name": "key-maker", "scopes": ["api.organization.admin_api_keys.write"]}),
        )
        .await;
    assert_eq!(
        assert_insufficient(
            &s.post_as(&scoped, "/v1/organization/projects", json!({"name": "No"}))
                .await,
            "api.organization.projects.write"
        ),
        ""
    );

    let (status, made) = s
        .post_as(
            &scoped,
            "/v1/organization/admin_api_keys",
            json!({"name": "unscoped"}),
        )
        .await;

    // Either the new key is refused, or it is held to the scopes of the key that made it: a
    // scoped key may do only what its scopes allow, also through a key it creates.
    if status == StatusCode::OK {
        let secret = str_of(&made["value"]);
        assert_eq!(
            assert_insufficient(
                &s.post_as(
                    &secret,
                    "/v1/organization/projects",
                    json!({"name": "Escalated"}),
                )
                .await,
                "api.organization.projects.write"
            ),
            ""
        );
    } else {
        assert_insufficient(&(status, made), "api.organization.projects.write");
    }
}

#[tokio::test]
async fn demoting_the_owner_of_a_key_narrows_it_to_reader_permissions() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let successor = s.add_member("successor@example.com", "owner").await;

    let demoted = ok(s.post(&user_path(&owner), json!({"role": "reader"})).await);

    assert_eq!(demoted["role"], "reader");
    ok(s.get("/v1/organization/users").await);
    ok(s.get("/v1/organization/projects").await);
    ok(s.get("/v1/organization/roles").await);
    ok(s.get("/v1/organization/invites").await);
    for (got, missing) in [
        (
            s.post(&user_path(&successor), json!({"role": "reader"}))
                .await,
            "api.organization.users.write",
        ),
        (
            s.post("/v1/organization/projects", json!({"name": "No"}))
                .await,
            "api.organization.projects.write",
        ),
        (
            s.post(
                "/v1/organization/invites",
                json!({"email": "x@example.com", "role": "reader"}),
            )
            .await,
            "api.organization.invites.write",
        ),
        (
            s.get("/v1/organization/admin_api_keys").await,
            "api.organization.admin_api_keys.read",
        ),
        (
            s.get("/v1/organization/audit_logs").await,
            "api.organization.audit_logs.read",
        ),
    ] {
        assert_eq!(assert_insufficient(&got, missing), "");
    }
}

// --- project permissions -----------------------------------------------------------------------

#[tokio::test]
async fn a_project_owner_can_list_that_projects_users_through_project_permission_only() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let led = s.create_project("Led").await;
    let other = s.create_project("Other").await;
    let colleague = s.add_member("colleague@example.com", "reader").await;
    s.add_project_user(&led, &owner, "owner").await;
    s.add_project_user(&led, &colleague, "member").await;
    s.add_project_user(&other, &colleague, "member").await;
    // A key limited to the project permission: whatever it may do comes from project membership.
    let (_, key) = s
        .create_key(json!({"name": "project-lead", "scopes": ["api.project.users.read"]}))
        .await;
    s.add_member("successor@example.com", "owner").await;
    let demoted = ok(s.post(&user_path(&owner), json!({"role": "reader"})).await);
    assert_eq!(demoted["role"], "reader");

    let members = ids(&ok(s.get_as(&key, &project_users_path(&led)).await));

    assert_eq!(members.len(), 2);
    assert!(members.contains(&owner) && members.contains(&colleague));
    ok(
        s.get_as(&key, &format!("{}/{colleague}", project_users_path(&led)))
            .await,
    );
    ok(s.get_as(&key, &project_user_roles_path(&led, &colleague))
        .await);
    let read_in_project =
        "'api.project.users.read' held in project proj_… would allow this request too.";
    for (got, missing, detail) in [
        (
            s.get_as(&key, &project_users_path(&other)).await,
            "api.organization.projects.users.read",
            read_in_project,
        ),
        (
            s.get_as(&key, &format!("{}/{colleague}", project_users_path(&other)))
                .await,
            "api.organization.projects.users.read",
            read_in_project,
        ),
        (
            s.get_as(&key, "/v1/organization/users").await,
            "api.organization.users.read",
            "",
        ),
        (
            s.post_as(
                &key,
                &format!("{}/{colleague}", project_users_path(&led)),
                json!({"role": "owner"}),
            )
            .await,
            "api.organization.projects.users.write",
            "'api.project.users.write' held in project proj_… would allow this request too.",
        ),
    ] {
        assert_eq!(assert_insufficient(&got, missing), detail);
    }
    // Without scopes, the reader's organization permission reads any project's members.
    ok(s.get(&project_users_path(&other)).await);
}

// --- audit log ---------------------------------------------------------------------------------

#[tokio::test]
async fn every_audit_event_names_the_key_and_its_owner_as_actor() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let owner_key_id = s.owner_key_id();
    let project = s.create_project("Audited").await;
    ok(s.post(
        &format!("/v1/organization/projects/{project}"),
        json!({"name": "Audited too"}),
    )
    .await);
    let member = s.add_member("member@example.com", "reader").await;
    ok(
        s.post(&user_path(&member), json!({"developer_persona": "builder"}))
            .await,
    );
    s.add_project_user(&project, &member, "viewer").await;
    ok(s.post(
        &format!("{}/{member}", project_users_path(&project)),
        json!({"role": "member"}),
    )
    .await);
    let role = s.create_org_role("Auditor", &[]).await;
    ok(s.post(
        &format!("/v1/organization/roles/{role}"),
        json!({"description": "Reads the audit log"}),
    )
    .await);
    ok(s.post(&user_roles_path(&member), json!({"role_id": role}))
        .await);
    ok(s.delete(&format!("{}/{role}", user_roles_path(&member)))
        .await);
    ok(s.delete(&format!("/v1/organization/roles/{role}")).await);
    let invite = ok(s
        .post(
            "/v1/organization/invites",
            json!({"email": "withdrawn@example.com", "role": "reader"}),
        )
        .await);
    ok(s.delete(&format!(
        "/v1/organization/invites/{}",
        str_of(&invite["id"])
    ))
    .await);
    ok(
        s.delete(&format!("{}/{member}", project_users_path(&project)))
            .await,
    );
    ok(s.delete(&user_path(&member)).await);
    let (second_key_id, second_key) = s.create_key(json!({"name": "second"})).await;
    let by_second = {
        let project = ok(s
            .post_as(
                &second_key,
                "/v1/organization/projects",
                json!({"name": "Second"}),
            )
            .await);
        str_of(&project["id"])
    };
    ok(s.post(
        &format!("/v1/organization/projects/{project}/archive"),
        json!({}),
    )
    .await);
    let (temporary, _) = s.create_key(json!({"name": "temporary"})).await;
    ok(
        s.delete(&format!("/v1/organization/admin_api_keys/{temporary}"))
            .await,
    );

    let events = s.audit("limit=100").await;

    let seen: BTreeSet<String> = types(&events).into_iter().collect();
    for expected in [
        "project.created",
        "project.updated",
        "project.archived",
        "invite.sent",
        "invite.accepted",
        "invite.deleted",
        "user.added",
        "user.updated",
        "user.deleted",
        "role.created",
        "role.updated",
        "role.deleted",
        "role.assignment.created",
        "role.assignment.deleted",
        "api_key.created",
        "api_key.deleted",
    ] {
        assert!(seen.contains(expected), "no {expected} event in {seen:?}");
    }
    for event in &events {
        assert!(str_of(&event["id"]).starts_with("audit_log-"), "{event}");
        assert!(event["effective_at"].is_i64(), "{event}");
        assert!(details(event).is_object(), "{event}");
        let key_id =
            if event["type"] == "project.created" && details(event)["id"] == json!(by_second) {
                &second_key_id
            } else {
                &owner_key_id
            };
        assert_eq!(
            event["actor"],
            json!({
                "type": "api_key",
                "api_key": {"id": key_id, "type": "user", "user": {"id": owner, "email": OWNER_EMAIL}},
            }),
            "{event}"
        );
    }
}

#[tokio::test]
async fn the_audit_log_filters_by_effective_at() {
    let s = TestServer::start().await;
    let a = s.create_project("A").await;
    s.clock.advance(100);
    let b = s.create_project("B").await;
    s.clock.advance(100);
    let c = s.create_project("C").await;
    assert_eq!(
        detail_ids(&s.audit("").await),
        vec![c.clone(), b.clone(), a.clone()],
        "newest first"
    );
    let events = s.audit("order=asc").await;
    assert_eq!(detail_ids(&events), vec![a.clone(), b.clone(), c.clone()]);
    let at: Vec<i64> = events
        .iter()
        .map(|e| e["effective_at"].as_i64().unwrap())
        .collect();
    assert!(at[1] - at[0] >= 100 && at[2] - at[1] >= 100, "{at:?}");

    let cases = [
        (format!("effective_at[gt]={}", at[0]), vec![&b, &c]),
        (format!("effective_at[gte]={}", at[1]), vec![&b, &c]),
        (format!("effective_at[lt]={}", at[1]), vec![&a]),
        (format!("effective_at[lte]={}", at[1]), vec![&a, &b]),
        (
            format!("effective_at[gt]={}&effective_at[lt]={}", at[0], at[2]),
            vec![&b],
        ),
        (
            format!("effective_at[gte]={}&effective_at[lte]={}", at[0], at[0]),
            vec![&a],
        ),
        (format!("effective_at[gt]={}", at[2]), vec![]),
    ];
    for (query, oldest_first) in cases {
        let got = detail_ids(&s.audit(&query).await);
        let expected: Vec<String> = oldest_first.into_iter().rev().cloned().collect();
        assert_eq!(got, expected, "{query}: newest first");
    }
}

#[tokio::test]
async fn the_audit_log_filters_by_event_type() {
    let s = TestServer::start().await;
    s.create_project("Typed").await;
    ok(s.post(
        "/v1/organization/invites",
        json!({"email": "typed@example.com", "role": "reader"}),
    )
    .await);
    s.create_org_role("Typed", &[]).await;

    let cases: [(&str, &[&str]); 5] = [
        ("event_types[]=project.created", &["project.created"]),
        (
            "event_types[]=project.created&event_types[]=invite.sent",
            &["project.created", "invite.sent"],
        ),
        ("event_types=role.created", &["role.created"]),
        ("event_types[]=user.deleted", &[]),
        ("", &["project.created", "invite.sent", "role.created"]),
    ];
    for (query, expected) in cases {
        assert_eq!(types(&s.audit(query).await), sorted(expected), "{query}");
    }
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_id_given_a_user_id_or_a_key_id() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let owner_key_id = s.owner_key_id();
    s.create_project("By the first key").await;
    let (second_key_id, second_key) = s.create_key(json!({"name": "second"})).await;
    let by_second = ok(s
        .post_as(
            &second_key,
            "/v1/organization/projects",
            json!({"name": "By the second key"}),
        )
        .await);
    let all = s.audit("").await;
    assert_eq!(all.len(), 3);

    let second_only = s.audit(&format!("actor_ids[]={second_key_id}")).await;
    assert_eq!(detail_ids(&second_only), vec![str_of(&by_second["id"])]);
    assert_eq!(
        types(&s.audit(&format!("actor_ids[]={owner_key_id}")).await),
        sorted(&["project.created", "api_key.created"])
    );
    assert_eq!(s.audit(&format!("actor_ids[]={owner}")).await, all);
    assert_eq!(
        s.audit(&format!(
            "actor_ids[]={owner_key_id}&actor_ids[]={second_key_id}"
        ))
        .await,
        all
    );
    assert!(s.audit("actor_ids[]=user-nobody").await.is_empty());
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_email_ignoring_case() {
    let s = TestServer::start().await;
    s.create_project("Emailed").await;
    s.add_member("member@example.com", "reader").await;
    let all = s.audit("").await;
    assert!(!all.is_empty());

    for email in [OWNER_EMAIL, "OWNER@Example.COM"] {
        assert_eq!(
            s.audit(&format!("actor_emails[]={email}")).await,
            all,
            "{email}"
        );
    }
    // The member is the subject of events, never their actor.
    assert!(s
        .audit("actor_emails[]=member@example.com")
        .await
        .is_empty());
}

#[tokio::test]
async fn the_audit_log_filters_by_resource_and_project() {
    let s = TestServer::start().await;
    let here = s.create_project("Here").await;
    let there = s.create_project("There").await;
    let member = s.add_member("member@example.com", "reader").await;
    s.add_project_user(&here, &member, "member").await;
    let role_here = s.create_project_role(&here, "Batcher", &[]).await;
    s.create_project_role(&there, "Batcher", &[]).await;
    ok(s.post(
        &format!("/v1/organization/projects/{here}"),
        json!({"name": "Here again"}),
    )
    .await);

    assert_eq!(
        types(&s.audit(&format!("resource_ids[]={here}")).await),
        sorted(&["project.created", "project.updated"])
    );
    assert_eq!(
        types(&s.audit(&format!("resource_ids[]={member}")).await),
        sorted(&["user.added", "user.added"])
    );
    assert_eq!(
        types(
            &s.audit(&format!(
                "resource_ids[]={role_here}&resource_ids[]={there}"
            ))
            .await
        ),
        sorted(&["project.created", "role.created"])
    );

    let in_here = s.audit(&format!("project_ids[]={here}")).await;
    assert_eq!(
        types(&in_here),
        sorted(&[
            "project.created",
            "user.added",
            "role.created",
            "project.updated"
        ])
    );
    for event in &in_here {
        assert_eq!(event["project"]["id"], json!(here), "{event}");
        assert_eq!(event["project"]["name"], "Here again", "{event}");
    }
    let in_both = s
        .audit(&format!("project_ids[]={here}&project_ids[]={there}"))
        .await;
    assert_eq!(in_both.len(), in_here.len() + 2);
    assert!(s.audit("project_ids[]=proj_nothing").await.is_empty());
}

#[tokio::test]
async fn the_audit_log_pages_with_after_before_and_limit() {
    let s = TestServer::start().await;
    for i in 0..7 {
        s.create_project(&format!("Project {i}")).await;
    }
    let full = ok(s.get("/v1/organization/audit_logs?limit=100").await);
    let all = ids(&full);
    assert_eq!(all.len(), 7);
    assert_eq!(full["has_more"], false);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(all, sorted, "newest first, in descending ID order");
    // From here on `all` is the list's order: `after` goes on to older events, `before` back to
    // newer ones, and the indexes below hold in that order.

    async fn page(s: &TestServer, query: String) -> (Vec<String>, Value) {
        let list = ok(s.get(&format!("/v1/organization/audit_logs?{query}")).await);
        (ids(&list), list)
    }
    let (first, list) = page(&s, "limit=3".into()).await;
    assert_eq!(first, all[0..3]);
    assert_eq!(list["has_more"], true);
    assert_eq!(list["first_id"], json!(all[0]));
    assert_eq!(list["last_id"], json!(all[2]));
    let (second, list) = page(&s, format!("limit=3&after={}", all[2])).await;
    assert_eq!(second, all[3..6]);
    assert_eq!(list["has_more"], true);
    let (third, list) = page(&s, format!("limit=3&after={}", all[5])).await;
    assert_eq!(third, all[6..7]);
    assert_eq!(list["has_more"], false);
    let (previous, list) = page(&s, format!("limit=2&before={}", all[5])).await;
    assert_eq!(previous, all[3..5]);
    assert_eq!(list["has_more"], true);
    let (previous, list) = page(&s, format!("before={}", all[2])).await;
    assert_eq!(previous, all[0..2]);
    assert_eq!(list["has_more"], false);

    for query in ["limit=0", "limit=101", "limit=ten"] {
        assert_error_says(
            &s.get(&format!("/v1/organization/audit_logs?{query}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("limit"),
            "limit must be an integer from 1 to 100.",
        );
    }
    assert_error_says(
        &s.get(&format!(
            "/v1/organization/audit_logs?after={}&before={}",
            all[1], all[5]
        ))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("before"),
        "Give either 'after' or 'before', not both.",
    );
}

// --- identifiers nobody issued ------------------------------------------------------------------

/// An ID, cursor or filter value with a NUL character is refused (4xx in the error envelope) or
/// matches nothing; it never produces a 5xx, whichever backend stores the data (PostgreSQL refuses
/// NUL in text values, SQLite does not).
#[tokio::test]
async fn a_nul_character_in_an_id_cursor_or_filter_is_never_a_5xx() {
    let s = TestServer::start().await;
    let (owner, project) = (s.owner_id(), s.default_project_id());

    let mut answers = Vec::new();
    for path in [
        "/v1/organization/users/%00".to_owned(),
        "/v1/organization/projects/%00".to_owned(),
        "/v1/organization/invites/%00".to_owned(),
        "/v1/organization/admin_api_keys/%00".to_owned(),
        "/v1/organization/roles/%00".to_owned(),
        format!("/v1/projects/{project}/roles/%00"),
        format!("/v1/organization/projects/{project}/users/%00"),
        "/v1/organization/users?after=%00".to_owned(),
        "/v1/organization/users?emails=%00".to_owned(),
        "/v1/organization/projects?after=%00".to_owned(),
        "/v1/organization/roles?after=%00".to_owned(),
        "/v1/organization/invites?after=%00".to_owned(),
        "/v1/organization/admin_api_keys?after=%00".to_owned(),
        format!("/v1/organization/users/{owner}/roles?after=%00"),
        format!("/v1/organization/projects/{project}/users?after=%00"),
        format!("/v1/projects/{project}/roles?after=%00"),
        format!("/v1/projects/{project}/users/{owner}/roles?after=%00"),
        "/v1/organization/audit_logs?after=%00".to_owned(),
        "/v1/organization/audit_logs?before=%00".to_owned(),
        "/v1/organization/audit_logs?resource_ids[]=%00".to_owned(),
        "/v1/organization/audit_logs?actor_ids[]=%00".to_owned(),
        "/v1/organization/audit_logs?actor_emails[]=%00".to_owned(),
        "/v1/organization/audit_logs?project_ids[]=%00".to_owned(),
    ] {
        answers.push((format!("GET {path}"), s.get(&path).await));
    }
    for (path, body) in [
        (user_roles_path(&owner), json!({"role_id": "role\u{0}"})),
        (
            project_user_roles_path(&project, &owner),
            json!({"role_id": "role\u{0}"}),
        ),
        (
            project_users_path(&project),
            json!({"user_id": "user\u{0}", "role": "member"}),
        ),
        (
            "/v1/organization/invites".to_owned(),
            json!({"email": "nul@example.com", "role": "reader",
                   "projects": [{"id": "proj\u{0}", "role": "member"}]}),
        ),
    ] {
        answers.push((format!("POST {path} {body}"), s.post(&path, body).await));
    }

    // `send` has already refused any 5xx; what is left is the shape of each answer.
    for (request, (status, body)) in answers {
        match status {
            StatusCode::OK => {
                let data = body["data"].as_array();
                assert!(data.is_some(), "{request}: 200 but not a list: {body}");
                if request.contains("[]=") || request.contains("emails=") {
                    assert_eq!(data.unwrap().len(), 0, "{request}: {body}");
                }
            }
            status if status.is_client_error() => {
                assert_eq!(
                    body["error"]["type"], "invalid_request_error",
                    "{request}: {status} {body}"
                );
            }
            status => panic!("{request}: unexpected {status}: {body}"),
        }
    }
}

// --- list order ----------------------------------------------------------------------------------

#[tokio::test]
async fn objects_made_one_after_another_are_listed_oldest_first_and_their_events_newest_first() {
    let s = TestServer::start().await;
    let mut made = Vec::new();
    for i in 0..40 {
        made.push(s.create_project(&format!("Project {i:02}")).await);
    }

    let listed = ids(&ok(s.get("/v1/organization/projects?limit=100").await));
    let events = s.audit("limit=100").await;

    assert_eq!(listed[0], s.default_project_id());
    assert_eq!(
        listed[1..],
        made[..],
        "projects are not listed in creation order"
    );
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(
        detail_ids(&events),
        newest_first,
        "audit events are not listed newest first"
    );
}

// --- persistence -------------------------------------------------------------------------------

#[tokio::test]
async fn a_restarted_server_keeps_its_data_and_does_not_bootstrap_again() {
    let database = TestDatabase::persistent().await;
    let url = database.url();
    let clock = Arc::new(OffsetClock::default());
    let first = TestServer::start_on(url, Some(&owner_key()), clock.clone()).await;
    assert!(first.bootstrapped.is_some());
    let project = first.create_project("Survivor").await;
    first.add_member("kept@example.com", "reader").await;
    let (_, script_key) = first.create_key(json!({"name": "script"})).await;
    let users = ok(first.get("/v1/organization/users").await);
    let projects = ok(first.get("/v1/organization/projects").await);
    let events = first.audit("limit=100").await;
    first.stop().await;

    // A different operator key on restart must not create a second organization or key.
    let other_key = format!("sk-admin-{}", "b".repeat(40));
    let second = TestServer::start_on(url, Some(&other_key), clock.clone()).await;

    assert!(
        second.bootstrapped.is_none(),
        "the restart bootstrapped again"
    );
    let key = owner_key();
    assert_eq!(
        ok(second.get_as(&key, "/v1/organization/users").await),
        users
    );
    assert_eq!(
        ok(second.get_as(&key, "/v1/organization/projects").await),
        projects
    );
    assert_eq!(
        ok(second
            .get_as(&key, &format!("/v1/organization/projects/{project}"))
            .await)["name"],
        "Survivor"
    );
    let after = ok(second
        .get_as(&key, "/v1/organization/audit_logs?limit=100")
        .await);
    assert_eq!(after["data"].as_array().unwrap(), &events);
    ok(second.get_as(&script_key, "/v1/organization/users").await);
    assert_error_says(
        &second.get_as(&other_key, "/v1/organization/users").await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        None, "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",);
    second.stop().await;

    // Nor does a restart without an operator key write a new initial key.
    let third = TestServer::start_on(url, None, clock).await;
    assert!(third.bootstrapped.is_none());
    // The initial key file is written beside a SQLite file only; on PostgreSQL an initial key
    // would be printed, and `bootstrapped` above already says none was made.
    if let Some(dir) = database.sqlite_dir() {
        assert!(!dir.join("initial-admin-key").exists());
    }
    ok(third.get_as(&key, "/v1/organization/users").await);
    third.stop().await;
}

#[tokio::test]
async fn a_keys_last_use_is_recorded_while_it_is_in_steady_use() {
    let s = TestServer::start().await;
    let key_path = format!("/v1/organization/admin_api_keys/{}", s.owner_key_id());
    ok(s.get("/v1/organization/users").await);
    let first = ok(s.get(&key_path).await)["last_used_at"].as_i64().unwrap();

    // Used every 40 seconds: more often than last_used_at is refreshed (once a minute), but
    // for long enough that it must have been refreshed.
    for _ in 0..4 {
        s.clock.advance(40);
        ok(s.get("/v1/organization/users").await);
    }

    let last = ok(s.get(&key_path).await)["last_used_at"].as_i64().unwrap();
    assert!(last >= first + 120, "last_used_at {last}, first {first}");
}
