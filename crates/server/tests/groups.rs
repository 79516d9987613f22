//! Groups over HTTP against a real server on a fresh database (SQLite by default, PostgreSQL with
//! `ORGADMIN_TEST_BACKEND=postgres`): what a group holds reaches its members' role lists with the
//! right `assignment_sources` and every authorization decision, and is withdrawn at once when the
//! member leaves, the group is deleted, or the group loses its project access; `inherited_role`
//! refusals; what deleting a group or a user takes along; the permissions extension; the audit
//! events; and the rules that must hold under concurrency and across organizations.
//!
//! # How the authorization tests get a key whose owner holds a permission only through a group
//!
//! An admin key acts with the permissions of the user whose key created it, so every key a test
//! can make over HTTP belongs to the bootstrap owner. The tests therefore turn the bootstrap owner
//! into the user under test ([`owner_reduced_to_reader`]):
//!
//! 1. while still an owner, it makes everything the test needs (roles, groups, projects, members),
//!    invites a second owner (so that it may be demoted), and puts itself into an "admins" group
//!    holding only `api.groups.read|write` and `api.organization.users.write`;
//! 2. it demotes itself to `reader` with its own key.
//!
//! From then on the bootstrap key is the key of a reader whose only write permissions,
//! `api.groups.write` and `api.organization.users.write`, come from the admins group. A key of
//! the second owner, made through the store ([`TestServer::key_for`]), moves the bootstrap owner
//! into the group under test: the bootstrap key itself may not, since nobody may grant what they
//! do not hold, and joining a group grants what the group holds. It may still leave. A write
//! permission that group grants (say `api.organization.projects.write`) is held exactly while the
//! owner is in that group, and nothing else could explain a successful write. (A scoped key would
//! not do: scopes only ever narrow what the owner holds.)

use std::collections::BTreeSet;
use std::sync::Arc;

use orgadmin_core::clock::OffsetClock;
use orgadmin_core::secret::ADMIN_KEY_PREFIX;
use orgadmin_core::store::BootstrapRequest;
use orgadmin_core::Email;
use orgadmin_testkit::{
    assert_error, assert_error_says, assert_insufficient, ids, ok, owner_key, str_of, TestDatabase,
    TestServer,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinSet;

const ORG_OWNER: &str = "role-api-organization-owner";
const ORG_READER: &str = "role-api-organization-reader";
const PROJECT_OWNER: &str = "role-api-project-owner";
const PROJECT_MEMBER: &str = "role-api-project-member";
const PROJECT_VIEWER: &str = "role-api-project-viewer";

fn alias(role: &str, project: &str) -> String {
    format!("{role}__api-project__{project}")
}

fn user_path(user: &str) -> String {
    format!("/v1/organization/users/{user}")
}

fn user_roles_path(user: &str) -> String {
    format!("/v1/organization/users/{user}/roles")
}

fn project_user_roles_path(project: &str, user: &str) -> String {
    format!("/v1/projects/{project}/users/{user}/roles")
}

fn group_path(group: &str) -> String {
    format!("/v1/organization/groups/{group}")
}

fn group_users_path(group: &str) -> String {
    format!("/v1/organization/groups/{group}/users")
}

fn group_roles_path(group: &str) -> String {
    format!("/v1/organization/groups/{group}/roles")
}

fn project_groups_path(project: &str) -> String {
    format!("/v1/organization/projects/{project}/groups")
}

fn project_group_roles_path(project: &str, group: &str) -> String {
    format!("/v1/projects/{project}/groups/{group}/roles")
}

fn permissions_path(user: &str, project: Option<&str>) -> String {
    match project {
        Some(p) => format!("/v1/organization/users/{user}/permissions?project_id={p}"),
        None => format!("/v1/organization/users/{user}/permissions"),
    }
}

type Sources = Vec<(String, String)>;

fn user_src(id: &str) -> (String, String) {
    (id.to_owned(), "user".to_owned())
}

fn group_src(id: &str) -> (String, String) {
    (id.to_owned(), "group".to_owned())
}

/// The `assignment_sources` of a role object as `(principal_id, principal_type)` pairs.
#[track_caller]
fn sources(role: &Value) -> Sources {
    role["assignment_sources"]
        .as_array()
        .unwrap_or_else(|| panic!("no assignment_sources in {role}"))
        .iter()
        .map(|s| (str_of(&s["principal_id"]), str_of(&s["principal_type"])))
        .collect()
}

/// Role ID → sources, for every role in a role list answer.
#[track_caller]
fn roles_with_sources(list: &Value) -> Vec<(String, Sources)> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {list}"))
        .iter()
        .map(|r| (str_of(&r["id"]), sources(r)))
        .collect()
}

/// The value under the key named like the event's type.
fn details(event: &Value) -> &Value {
    &event[event["type"].as_str().expect("an event has a type")]
}

fn types(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| str_of(&e["type"])).collect()
}

async fn create_group(s: &TestServer, name: &str) -> String {
    let group = ok(s
        .post("/v1/organization/groups", json!({ "name": name }))
        .await);
    assert_eq!(group["object"], "group", "{group}");
    str_of(&group["id"])
}

async fn join(s: &TestServer, group: &str, user: &str) {
    join_as(s, &s.owner_key, group, user).await;
}

async fn join_as(s: &TestServer, key: &str, group: &str, user: &str) {
    let added = ok(s
        .post_as(key, &group_users_path(group), json!({ "user_id": user }))
        .await);
    assert_eq!(added["object"], "group.user", "{added}");
}

async fn leave(s: &TestServer, group: &str, user: &str) {
    let removed = ok(s
        .delete(&format!("{}/{user}", group_users_path(group)))
        .await);
    assert_eq!(removed["object"], "group.user.deleted", "{removed}");
}

async fn grant_org_role(s: &TestServer, group: &str, role: &str) {
    grant_org_role_as(s, &s.owner_key, group, role).await;
}

async fn grant_org_role_as(s: &TestServer, key: &str, group: &str, role: &str) {
    let assigned = ok(s
        .post_as(key, &group_roles_path(group), json!({ "role_id": role }))
        .await);
    assert_eq!(assigned["object"], "group.role", "{assigned}");
}

async fn give_project_access(s: &TestServer, project: &str, group: &str, role: &str) {
    let added = ok(s
        .post(
            &project_groups_path(project),
            json!({ "group_id": group, "role": role }),
        )
        .await);
    assert_eq!(added["object"], "project.group", "{added}");
}

/// Step 2 of the module comment: the bootstrap owner, already in `admins` (which holds only
/// `api.groups.read|write` and `api.organization.users.write`, the permissions that changing group
/// memberships needs), demotes itself to `reader` now that a second owner exists. Returns
/// a key of the second owner (the server must come from [`TestServer::start_persistent`]).
async fn owner_reduced_to_reader(s: &TestServer, admins: &str) -> String {
    let owner = s.owner_id();
    let successor = s.add_member("successor@example.com", "owner").await;
    let managers = s
        .create_org_role(
            "Group managers",
            &[
                "api.groups.read",
                "api.groups.write",
                "api.organization.users.write",
            ],
        )
        .await;
    grant_org_role(s, admins, &managers).await;
    join(s, admins, &owner).await;
    let successor_key = s.key_for(&successor).await;
    let demoted = ok(s.post(&user_path(&owner), json!({"role": "reader"})).await);
    assert_eq!(demoted["role"], "reader");
    successor_key
}

/// Our detail after the refusal of a project route: the project permission would do too.
const IN_PROJECT_TOO: &str =
    "'api.project.users.write' held in project proj_… would allow this request too.";

/// Create a project with the bootstrap key: 200, or 401 naming the missing permission.
async fn try_create_project(s: &TestServer, name: &str) -> StatusCode {
    let got = s
        .post("/v1/organization/projects", json!({ "name": name }))
        .await;
    if got.0 != StatusCode::OK {
        assert_eq!(
            assert_insufficient(&got, "api.organization.projects.write"),
            ""
        );
    }
    got.0
}

// --- role lists and their sources ----------------------------------------------------------------

#[tokio::test]
async fn organization_role_lists_name_the_user_the_group_or_both_as_sources() {
    let s = TestServer::start().await;
    let user = s.add_member("member@example.com", "reader").await;
    let direct = s.create_org_role("Direct", &["api.groups.read"]).await;
    let inherited = s
        .create_org_role("Inherited", &["api.organization.projects.write"])
        .await;
    let both = s
        .create_org_role("Both", &["api.organization.invites.write"])
        .await;
    let (first, second) = (
        create_group(&s, "First").await,
        create_group(&s, "Second").await,
    );
    ok(s.post(&user_roles_path(&user), json!({"role_id": direct}))
        .await);
    ok(s.post(&user_roles_path(&user), json!({"role_id": both}))
        .await);
    for group in [&first, &second] {
        join(&s, group, &user).await;
        grant_org_role(&s, group, &inherited).await;
    }
    grant_org_role(&s, &first, &both).await;
    grant_org_role(&s, &second, ORG_READER).await; // the user's base role, through a group too

    let listed = ok(s.get(&user_roles_path(&user)).await);

    // Predefined roles first, then custom roles in ID order; each source once, the user first.
    let mut custom = vec![
        (direct.clone(), vec![user_src(&user)]),
        (
            inherited.clone(),
            vec![group_src(&first), group_src(&second)],
        ),
        (both.clone(), vec![user_src(&user), group_src(&first)]),
    ];
    custom.sort();
    let mut expected = vec![(
        ORG_READER.to_owned(),
        vec![user_src(&user), group_src(&second)],
    )];
    expected.extend(custom);
    assert_eq!(roles_with_sources(&listed), expected);
    assert_eq!(listed["has_more"], false);

    // Retrieve agrees with the list.
    let got = ok(s
        .get(&format!("{}/{inherited}", user_roles_path(&user)))
        .await);
    assert_eq!(sources(&got), vec![group_src(&first), group_src(&second)]);

    // Leaving one group leaves the other source.
    leave(&s, &first, &user).await;
    let listed = ok(s.get(&user_roles_path(&user)).await);
    let held = roles_with_sources(&listed);
    assert!(held.contains(&(inherited.clone(), vec![group_src(&second)])));
    assert!(held.contains(&(both.clone(), vec![user_src(&user)])));
}

#[tokio::test]
async fn project_role_lists_name_the_user_the_group_or_both_as_sources() {
    let s = TestServer::start().await;
    let project = s.create_project("Shared").await;
    let direct_member = s.add_member("direct@example.com", "reader").await;
    let group_only = s.add_member("grouped@example.com", "reader").await;
    let custom = s
        .create_project_role(&project, "Files", &["api.files.write"])
        .await;
    let group = create_group(&s, "Project team").await;
    give_project_access(&s, &project, &group, "member").await;
    ok(s.post(
        &project_group_roles_path(&project, &group),
        json!({"role_id": custom}),
    )
    .await);
    s.add_project_user(&project, &direct_member, "member").await;
    for user in [&direct_member, &group_only] {
        join(&s, &group, user).await;
    }
    let member = alias(PROJECT_MEMBER, &project);

    let direct = ok(s
        .get(&project_user_roles_path(&project, &direct_member))
        .await);
    let grouped = ok(s.get(&project_user_roles_path(&project, &group_only)).await);

    assert_eq!(
        roles_with_sources(&direct),
        vec![
            (
                member.clone(),
                vec![user_src(&direct_member), group_src(&group)]
            ),
            (custom.clone(), vec![group_src(&group)]),
        ]
    );
    assert_eq!(
        roles_with_sources(&grouped),
        vec![
            (member.clone(), vec![group_src(&group)]),
            (custom.clone(), vec![group_src(&group)]),
        ]
    );
    // Reached only through the group: not a project user, yet holding the group's roles.
    let users = ids(&ok(s
        .get(&format!("/v1/organization/projects/{project}/users"))
        .await));
    assert_eq!(users, vec![direct_member.clone()]);
    assert_error_says(
        &s.get(&format!(
            "/v1/organization/projects/{project}/users/{group_only}"
        ))
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "User user-… is not a member of project proj_….",
    );
    // Both ID forms retrieve the group-held predefined role.
    for id in [PROJECT_MEMBER.to_owned(), member.clone()] {
        let got = ok(s
            .get(&format!(
                "{}/{id}",
                project_user_roles_path(&project, &group_only)
            ))
            .await);
        assert_eq!(got["id"], json!(member));
        assert_eq!(sources(&got), vec![group_src(&group)]);
    }
    // Organization role lists are not touched by project roles.
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&group_only)).await)),
        vec![ORG_READER]
    );
}

// --- inherited roles cannot be unassigned from the user ------------------------------------------

#[tokio::test]
async fn unassigning_a_role_held_only_through_a_group_is_refused_with_inherited_role() {
    let s = TestServer::start().await;
    let project = s.create_project("Inherited").await;
    let user = s.add_member("member@example.com", "reader").await;
    let org_role = s.create_org_role("Via group", &["api.groups.read"]).await;
    let group = create_group(&s, "Granting").await;
    join(&s, &group, &user).await;
    grant_org_role(&s, &group, &org_role).await;
    grant_org_role(&s, &group, ORG_OWNER).await;
    give_project_access(&s, &project, &group, "owner").await;

    let refusals = [
        s.delete(&format!("{}/{org_role}", user_roles_path(&user)))
            .await,
        s.delete(&format!("{}/{ORG_OWNER}", user_roles_path(&user)))
            .await,
        s.delete(&format!(
            "{}/{PROJECT_OWNER}",
            project_user_roles_path(&project, &user)
        ))
        .await,
        s.delete(&format!(
            "{}/{}",
            project_user_roles_path(&project, &user),
            alias(PROJECT_OWNER, &project)
        ))
        .await,
    ];

    for got in &refusals {
        assert_error(got, StatusCode::CONFLICT, "inherited_role", Some("role_id"));
        let message = got.1["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&group) && message.contains("group"),
            "the message should name the group: {message}"
        );
    }
    // Nothing changed.
    let held = ids(&ok(s.get(&user_roles_path(&user)).await));
    assert_eq!(held, vec![ORG_OWNER, ORG_READER, &org_role]);
    assert_eq!(ok(s.get(&user_path(&user)).await)["role"], "reader");
    assert_eq!(
        ids(&ok(s.get(&project_user_roles_path(&project, &user)).await)),
        vec![alias(PROJECT_OWNER, &project)]
    );
    // Unassigning from the group is the way.
    ok(
        s.delete(&format!("{}/{org_role}", group_roles_path(&group)))
            .await,
    );
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&user)).await)),
        vec![ORG_OWNER, ORG_READER]
    );
    // A role that is neither held directly nor through a group is still a plain 404.
    assert_error_says(
        &s.delete(&format!("{}/{org_role}", user_roles_path(&user)))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("role_id"),
        "User user-… does not hold role 'role_…'.",
    );
}

// --- authorization -------------------------------------------------------------------------------

#[tokio::test]
async fn a_key_whose_owner_gains_a_write_permission_only_through_a_group_writes_only_while_in_it() {
    let s = TestServer::start_persistent().await;
    let owner = s.owner_id();
    // Everything made while the bootstrap owner is still an owner (see the module comment).
    let maker = s
        .create_org_role("Project maker", &["api.organization.projects.write"])
        .await;
    let makers = create_group(&s, "Project makers").await;
    grant_org_role(&s, &makers, &maker).await;
    let admins = create_group(&s, "Admins").await;
    let successor = owner_reduced_to_reader(&s, &admins).await;

    // A reader: no project writes, and no joining a group that holds them.
    assert_eq!(
        try_create_project(&s, "Refused").await,
        StatusCode::UNAUTHORIZED
    );
    let joined = s
        .post(&group_users_path(&makers), json!({ "user_id": owner }))
        .await;
    assert_eq!(
        assert_insufficient(&joined, "api.organization.projects.write"),
        "Membership of group group_… would grant it, and an admin API key may grant only permissions it holds in the organization."
    );

    // Through the group: allowed, and the role lists and the extension say why.
    join_as(&s, &successor, &makers, &owner).await;
    assert_eq!(try_create_project(&s, "Made").await, StatusCode::OK);
    let held = roles_with_sources(&ok(s.get(&user_roles_path(&owner)).await));
    assert!(
        held.contains(&(maker.clone(), vec![group_src(&makers)])),
        "{held:?}"
    );
    let access = ok(s.get(&permissions_path(&owner, None)).await);
    let write = access["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["permission"] == "api.organization.projects.write")
        .expect("the permission is listed");
    assert_eq!(write["granted_by"].as_array().unwrap().len(), 1);
    assert_eq!(write["granted_by"][0]["role_id"], json!(maker));
    assert_eq!(sources(&write["granted_by"][0]), vec![group_src(&makers)]);

    // Removed from the group: refused at once.
    leave(&s, &makers, &owner).await;
    assert_eq!(
        try_create_project(&s, "Refused again").await,
        StatusCode::UNAUTHORIZED
    );

    // The role unassigned from the group: refused at once.
    join_as(&s, &successor, &makers, &owner).await;
    assert_eq!(try_create_project(&s, "Made again").await, StatusCode::OK);
    ok(s.delete(&format!("{}/{maker}", group_roles_path(&makers)))
        .await);
    assert_eq!(
        try_create_project(&s, "Refused after unassign").await,
        StatusCode::UNAUTHORIZED
    );

    // The group deleted: refused at once.
    grant_org_role_as(&s, &successor, &makers, &maker).await;
    assert_eq!(try_create_project(&s, "Made a third").await, StatusCode::OK);
    ok(s.delete(&group_path(&makers)).await);
    assert_eq!(
        try_create_project(&s, "Refused after delete").await,
        StatusCode::UNAUTHORIZED
    );

    // The owner is a reader all along; its group never made it an owner.
    assert_eq!(ok(s.get(&user_path(&owner)).await)["role"], "reader");
    let projects = ok(s.get("/v1/organization/projects?limit=100").await);
    let names: BTreeSet<String> = projects["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| str_of(&p["name"]))
        .collect();
    for made in ["Made", "Made again", "Made a third"] {
        assert!(names.contains(made), "{names:?}");
    }
    for refused in [
        "Refused",
        "Refused again",
        "Refused after unassign",
        "Refused after delete",
    ] {
        assert!(!names.contains(refused), "{names:?}");
    }
}

#[tokio::test]
async fn a_group_with_project_access_authorizes_its_members_there_and_nowhere_else() {
    for withdrawal in ["remove the group from the project", "leave", "delete"] {
        let s = TestServer::start_persistent().await;
        let owner = s.owner_id();
        let project = s.create_project("Team project").await;
        let elsewhere = s.create_project("Elsewhere").await;
        // What a viewer holds, so that its holder may add viewers, and users.write to do it.
        let user_admin = s
            .create_project_role(
                &project,
                "User admin",
                &[
                    "api.project.read",
                    "api.project.users.read",
                    "api.project.users.write",
                    "api.files.read",
                    "api.vector_stores.read",
                ],
            )
            .await;
        let team = create_group(&s, "Team").await;
        give_project_access(&s, &project, &team, &user_admin).await;
        let recruits: Vec<String> = {
            let mut made = Vec::new();
            for i in 0..3 {
                made.push(
                    s.add_member(&format!("recruit{i}@example.com"), "reader")
                        .await,
                );
            }
            made
        };
        let admins = create_group(&s, "Admins").await;
        let successor = owner_reduced_to_reader(&s, &admins).await;
        let add_user = |project: String, user: String| {
            let s = &s;
            async move {
                s.post(
                    &format!("/v1/organization/projects/{project}/users"),
                    json!({"user_id": user, "role": "viewer"}),
                )
                .await
            }
        };

        // Neither the organization role nor any project role allows adding project users.
        let refused = add_user(project.clone(), recruits[0].clone()).await;
        assert_eq!(
            assert_insufficient(&refused, "api.organization.projects.users.write"),
            IN_PROJECT_TOO
        );

        // In the group: allowed in the group's project, not in another; and only with a role
        // whose permissions the group gives (`member` would grant model use).
        join_as(&s, &successor, &team, &owner).await;
        let as_member = s
            .post(
                &format!("/v1/organization/projects/{project}/users"),
                json!({"user_id": recruits[0], "role": "member"}),
            )
            .await;
        assert_eq!(
            assert_insufficient(&as_member, "api.model.request, api.responses.write, api.files.write, api.vector_stores.write, api.fine_tuning.jobs.read, api.fine_tuning.jobs.write, api.batches.read, api.batches.write"),
            "Project role 'member' would grant them, and an admin API key may grant only permissions it holds in project proj_…."
        );
        ok(add_user(project.clone(), recruits[0].clone()).await);
        assert_eq!(
            assert_insufficient(
                &add_user(elsewhere.clone(), recruits[0].clone()).await,
                "api.organization.projects.users.write"
            ),
            IN_PROJECT_TOO
        );
        let held = roles_with_sources(&ok(s.get(&project_user_roles_path(&project, &owner)).await));
        assert_eq!(held, vec![(user_admin.clone(), vec![group_src(&team)])]);
        let access = ok(s.get(&permissions_path(&owner, Some(&project))).await);
        let granted: Vec<&Value> = access["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["permission"] == "api.project.users.write")
            .collect();
        assert_eq!(granted.len(), 1, "{access}");
        assert_eq!(granted[0]["granted_by"][0]["role_id"], json!(user_admin));
        assert_eq!(
            sources(&granted[0]["granted_by"][0]),
            vec![group_src(&team)]
        );

        // Withdrawn at once.
        match withdrawal {
            // The project permission the group grants covers this very request.
            "remove the group from the project" => {
                let removed = ok(s
                    .delete(&format!("{}/{team}", project_groups_path(&project)))
                    .await);
                assert_eq!(removed["object"], "project.group.deleted");
            }
            "leave" => leave(&s, &team, &owner).await,
            _ => {
                ok(s.delete(&group_path(&team)).await);
            }
        }
        assert_eq!(
            assert_insufficient(
                &add_user(project.clone(), recruits[1].clone()).await,
                "api.organization.projects.users.write"
            ),
            IN_PROJECT_TOO
        );
        assert_error_says(
            &s.get(&project_user_roles_path(&project, &owner)).await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("user_id"),
            "User user-… is not a member of project proj_…, directly or through a group.",
        );
        let members = ids(&ok(s
            .get(&format!("/v1/organization/projects/{project}/users"))
            .await));
        assert_eq!(members, vec![recruits[0].clone()], "{withdrawal}");
        s.stop().await;
    }
}

#[tokio::test]
async fn scoped_keys_still_narrow_what_groups_grant() {
    let s = TestServer::start_persistent().await;
    let owner = s.owner_id();
    let maker = s
        .create_org_role("Project maker", &["api.organization.projects.write"])
        .await;
    let makers = create_group(&s, "Makers").await;
    grant_org_role(&s, &makers, &maker).await;
    let (_, scoped) = s
        .create_key(
            json!({"name": "groups only", "scopes": ["api.groups.read", "api.groups.write", "api.organization.users.write"]}),
        )
        .await;
    let admins = create_group(&s, "Admins").await;
    let successor = owner_reduced_to_reader(&s, &admins).await;
    join_as(&s, &successor, &makers, &owner).await;

    // The owner may create projects (through the group), the scoped key may not.
    assert_eq!(try_create_project(&s, "Unscoped").await, StatusCode::OK);
    assert_eq!(
        assert_insufficient(
            &s.post_as(
                &scoped,
                "/v1/organization/projects",
                json!({"name": "Scoped"}),
            )
            .await,
            "api.organization.projects.write"
        ),
        ""
    );
    // What the scopes allow and the owner holds (through the admins group) still works.
    ok(s.get_as(&scoped, &group_users_path(&makers)).await);
    ok(
        s.delete_as(&scoped, &format!("{}/{owner}", group_users_path(&makers)))
            .await,
    );
}

#[tokio::test]
async fn a_role_held_through_a_group_is_never_a_base_role() {
    let s = TestServer::start().await;
    let owner = s.owner_id();
    let user = s.add_member("member@example.com", "reader").await;
    let owners = create_group(&s, "Owners").await;
    join(&s, &owners, &user).await;
    grant_org_role(&s, &owners, ORG_OWNER).await;

    // The member holds the owner role, but their base role, and so the user object, says reader.
    assert_eq!(ok(s.get(&user_path(&user)).await)["role"], "reader");
    assert_eq!(
        roles_with_sources(&ok(s.get(&user_roles_path(&user)).await)),
        vec![
            (ORG_OWNER.to_owned(), vec![group_src(&owners)]),
            (ORG_READER.to_owned(), vec![user_src(&user)]),
        ]
    );
    // So the bootstrap owner is still the last owner: the group does not count.
    for got in [
        s.post(&user_path(&owner), json!({"role": "reader"})).await,
        s.post(&user_roles_path(&owner), json!({"role_id": ORG_READER}))
            .await,
        s.delete(&user_path(&owner)).await,
    ] {
        assert_error(&got, StatusCode::CONFLICT, "last_owner", Some("user_id"));
    }
    assert_eq!(ok(s.get(&user_path(&owner)).await)["role"], "owner");
    // Making the owner role the member's base role adds the user as a source.
    ok(s.post(&user_path(&user), json!({"role": "owner"})).await);
    assert_eq!(
        roles_with_sources(&ok(s.get(&user_roles_path(&user)).await)),
        vec![(
            ORG_OWNER.to_owned(),
            vec![user_src(&user), group_src(&owners)]
        )]
    );
}

#[tokio::test]
async fn changing_a_role_a_group_holds_changes_what_its_members_hold_at_once() {
    let s = TestServer::start().await;
    let user = s.add_member("member@example.com", "reader").await;
    let role = s
        .create_org_role("Changing", &["api.organization.invites.write"])
        .await;
    let group = create_group(&s, "Holders").await;
    join(&s, &group, &user).await;
    grant_org_role(&s, &group, &role).await;
    let held = |body: Value| -> BTreeSet<String> {
        body["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| str_of(&p["permission"]))
            .collect()
    };
    assert!(held(ok(s.get(&permissions_path(&user, None)).await))
        .contains("api.organization.invites.write"));

    ok(s.post(
        &format!("/v1/organization/roles/{role}"),
        json!({"permissions": ["api.organization.audit_logs.read"]}),
    )
    .await);

    let now = held(ok(s.get(&permissions_path(&user, None)).await));
    assert!(now.contains("api.organization.audit_logs.read"), "{now:?}");
    assert!(!now.contains("api.organization.invites.write"), "{now:?}");
    let listed = ok(s.get(&user_roles_path(&user)).await);
    let shown = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(role))
        .expect("the role is listed");
    assert_eq!(
        shown["permissions"],
        json!(["api.organization.audit_logs.read"])
    );
}

// --- cascades ------------------------------------------------------------------------------------

#[tokio::test]
async fn deleting_a_group_takes_its_memberships_project_access_and_assignments_along() {
    let s = TestServer::start().await;
    let (ada, bob) = (
        s.add_member("ada@example.com", "reader").await,
        s.add_member("bob@example.com", "reader").await,
    );
    let active = s.create_project("Active").await;
    let archived = s.create_project("Archived").await;
    let org_role = s.create_org_role("Org", &["api.groups.read"]).await;
    let project_role = s
        .create_project_role(&active, "Proj", &["api.files.write"])
        .await;
    let group = create_group(&s, "Doomed").await;
    for user in [&ada, &bob] {
        join(&s, &group, user).await;
    }
    grant_org_role(&s, &group, &org_role).await;
    give_project_access(&s, &active, &group, "member").await;
    ok(s.post(
        &project_group_roles_path(&active, &group),
        json!({"role_id": project_role}),
    )
    .await);
    give_project_access(&s, &archived, &group, "viewer").await;
    ok(s.post(
        &format!("/v1/organization/projects/{archived}/archive"),
        json!({}),
    )
    .await);
    let survivor = create_group(&s, "Survivor").await;
    join(&s, &survivor, &ada).await;
    give_project_access(&s, &active, &survivor, "viewer").await;
    let (_, auditor) = s.create_key(json!({"name": "auditor"})).await;

    let deleted = ok(s.delete_as(&auditor, &group_path(&group)).await);

    assert_eq!(
        deleted,
        json!({"object": "group.deleted", "id": group, "deleted": true})
    );
    for path in [
        group_path(&group),
        group_users_path(&group),
        group_roles_path(&group),
        format!("{}/{ada}", group_users_path(&group)),
        format!("{}/{}", project_groups_path(&active), group),
        project_group_roles_path(&active, &group),
        project_group_roles_path(&archived, &group),
    ] {
        assert_error_says(
            &s.get(&path).await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("group_id"),
            "No group found with id 'group_…'.",
        );
    }
    // Members keep only what they hold otherwise.
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&ada)).await)),
        vec![ORG_READER]
    );
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&bob)).await)),
        vec![ORG_READER]
    );
    assert_eq!(
        roles_with_sources(&ok(s.get(&project_user_roles_path(&active, &ada)).await)),
        vec![(alias(PROJECT_VIEWER, &active), vec![group_src(&survivor)])]
    );
    assert_error_says(
        &s.get(&project_user_roles_path(&active, &bob)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "User user-… is not a member of project proj_…, directly or through a group.",
    );
    // Project access goes, also in the archived project; the other group's stays.
    let listed: Vec<String> = ok(s.get(&project_groups_path(&active)).await)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| str_of(&g["group_id"]))
        .collect();
    assert_eq!(listed, vec![survivor.clone()]);
    assert_eq!(
        ok(s.get(&project_groups_path(&archived)).await)["data"],
        json!([])
    );
    assert_eq!(
        ids(&ok(s.get(&group_users_path(&survivor)).await)),
        vec![ada.clone()]
    );

    // Every assignment is recorded as removed, then the group; the actor is the deleting key.
    let events = s.audit("limit=100&order=asc").await;
    let mine: Vec<Value> = events
        .into_iter()
        .filter(|e| {
            (e["type"] == "role.assignment.deleted" && details(e)["principal_id"] == json!(group))
                || e["type"] == "group.deleted"
        })
        .collect();
    let last = mine.last().expect("events");
    assert_eq!(last["type"], "group.deleted");
    assert_eq!(details(last)["id"], json!(group));
    let mut removed: Vec<String> = mine[..mine.len() - 1]
        .iter()
        .map(|e| str_of(&details(e)["id"]))
        .collect();
    removed.sort();
    let mut expected = vec![
        org_role.clone(),
        project_role.clone(),
        alias(PROJECT_MEMBER, &active),
        alias(PROJECT_VIEWER, &archived),
    ];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(mine
        .iter()
        .all(|e| e["actor"]["api_key"]["id"].as_str().is_some()));

    // Nothing is left behind: deleting the roles now removes no assignment of the group, and the
    // name is free again for a group that starts empty.
    ok(s.delete(&format!("/v1/organization/roles/{org_role}"))
        .await);
    ok(
        s.delete(&format!("/v1/projects/{active}/roles/{project_role}"))
            .await,
    );
    let leftovers: Vec<Value> = s
        .audit("event_types[]=role.assignment.deleted&limit=100")
        .await
        .into_iter()
        .filter(|e| details(e)["principal_id"] == json!(group))
        .collect();
    assert_eq!(leftovers.len(), 4, "{leftovers:?}");
    let again = create_group(&s, "doomed").await;
    assert_ne!(again, group);
    assert_eq!(
        ok(s.get(&group_users_path(&again)).await)["data"],
        json!([])
    );
    assert_eq!(
        ok(s.get(&group_roles_path(&again)).await)["data"],
        json!([])
    );
}

#[tokio::test]
async fn removing_a_user_from_the_organization_removes_their_group_memberships() {
    let s = TestServer::start().await;
    let project = s.create_project("Grouped").await;
    let leaving = s.add_member("leaving@example.com", "reader").await;
    let staying = s.add_member("staying@example.com", "reader").await;
    let org_role = s.create_org_role("Org", &["api.groups.read"]).await;
    let (with_role, with_access) = (
        create_group(&s, "With role").await,
        create_group(&s, "With access").await,
    );
    grant_org_role(&s, &with_role, &org_role).await;
    give_project_access(&s, &project, &with_access, "member").await;
    for group in [&with_role, &with_access] {
        for user in [&leaving, &staying] {
            join(&s, group, user).await;
        }
    }

    ok(s.delete(&user_path(&leaving)).await);

    for group in [&with_role, &with_access] {
        assert_eq!(
            ids(&ok(s.get(&group_users_path(group)).await)),
            vec![staying.clone()]
        );
        assert_error_says(
            &s.get(&format!("{}/{leaving}", group_users_path(group)))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("user_id"),
            "User user-… is not a member of group group_….",
        );
    }
    // The groups keep their roles and access, and what they grant the others.
    assert_eq!(
        ids(&ok(s.get(&group_roles_path(&with_role)).await)),
        vec![org_role.clone()]
    );
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&staying)).await)),
        vec![ORG_READER.to_owned(), org_role.clone()]
    );
    assert_eq!(
        ids(&ok(s
            .get(&project_user_roles_path(&project, &staying))
            .await)),
        vec![alias(PROJECT_MEMBER, &project)]
    );

    // Coming back (a new invite) does not bring the memberships back.
    let back = s.add_member("leaving@example.com", "reader").await;
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&back)).await)),
        vec![ORG_READER]
    );
    assert_error_says(
        &s.get(&project_user_roles_path(&project, &back)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "User user-… is not a member of project proj_…, directly or through a group.",
    );
    for group in [&with_role, &with_access] {
        assert_eq!(
            ids(&ok(s.get(&group_users_path(group)).await)),
            vec![staying.clone()]
        );
    }
}

#[tokio::test]
async fn removing_a_group_from_a_project_removes_only_what_it_had_there() {
    let s = TestServer::start().await;
    let (here, there) = (
        s.create_project("Here").await,
        s.create_project("There").await,
    );
    let user = s.add_member("member@example.com", "reader").await;
    let org_role = s.create_org_role("Org", &["api.groups.read"]).await;
    let here_role = s
        .create_project_role(&here, "Here role", &["api.files.write"])
        .await;
    let own = s
        .create_project_role(&here, "Own role", &["api.batches.write"])
        .await;
    let group = create_group(&s, "Two projects").await;
    join(&s, &group, &user).await;
    grant_org_role(&s, &group, &org_role).await;
    give_project_access(&s, &here, &group, &here_role).await;
    give_project_access(&s, &there, &group, "viewer").await;
    s.add_project_user(&here, &user, "viewer").await;
    ok(s.post(
        &project_user_roles_path(&here, &user),
        json!({"role_id": own}),
    )
    .await);

    ok(s.delete(&format!("{}/{group}", project_groups_path(&here)))
        .await);

    assert_eq!(
        roles_with_sources(&ok(s.get(&project_user_roles_path(&here, &user)).await)),
        {
            let mut v = vec![
                (alias(PROJECT_VIEWER, &here), vec![user_src(&user)]),
                (own.clone(), vec![user_src(&user)]),
            ];
            v.sort();
            v
        }
    );
    assert_eq!(
        roles_with_sources(&ok(s.get(&project_user_roles_path(&there, &user)).await)),
        vec![(alias(PROJECT_VIEWER, &there), vec![group_src(&group)])]
    );
    assert_eq!(
        ids(&ok(s.get(&user_roles_path(&user)).await)),
        vec![ORG_READER.to_owned(), org_role.clone()]
    );
    assert_eq!(
        ids(&ok(s.get(&group_users_path(&group)).await)),
        vec![user.clone()]
    );
    // Given access again, the group starts from the role it is given, not the old ones.
    give_project_access(&s, &here, &group, "member").await;
    assert_eq!(
        ids(&ok(s.get(&project_group_roles_path(&here, &group)).await)),
        vec![alias(PROJECT_MEMBER, &here)]
    );
}

// --- the permissions extension -------------------------------------------------------------------

#[tokio::test]
async fn the_permissions_extension_lists_every_permission_with_its_roles_and_sources() {
    let s = TestServer::start().await;
    let project = s.create_project("Checked").await;
    let user = s.add_member("checked@example.com", "reader").await;
    let group = create_group(&s, "Granting").await;
    join(&s, &group, &user).await;
    let invites = s
        .create_org_role("Inviter", &["api.organization.invites.write"])
        .await;
    let keys = s
        .create_org_role("Key reader", &["api.organization.admin_api_keys.read"])
        .await;
    ok(s.post(&user_roles_path(&user), json!({"role_id": invites}))
        .await);
    grant_org_role(&s, &group, &invites).await;
    grant_org_role(&s, &group, &keys).await;
    s.add_project_user(&project, &user, "viewer").await;
    give_project_access(&s, &project, &group, "member").await;
    let files = s
        .create_project_role(&project, "Batch writer", &["api.batches.write"])
        .await;
    ok(s.post(
        &project_group_roles_path(&project, &group),
        json!({"role_id": files}),
    )
    .await);

    let org_only = ok(s.get(&permissions_path(&user, None)).await);
    let with_project = ok(s.get(&permissions_path(&user, Some(&project))).await);

    assert_eq!(org_only["object"], "organization.user.permissions");
    assert_eq!(org_only["user_id"], json!(user));
    assert_eq!(org_only["project_id"], Value::Null);
    assert_eq!(with_project["project_id"], json!(project));
    let grants = |body: &Value| -> Vec<(String, Vec<(String, Sources)>)> {
        body["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let by: Vec<(String, Sources)> = p["granted_by"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| (str_of(&g["role_id"]), sources(g)))
                    .collect();
                (str_of(&p["permission"]), by)
            })
            .collect()
    };
    let org = grants(&org_only);
    let lookup = |all: &[(String, Vec<(String, Sources)>)], permission: &str| {
        all.iter()
            .find(|(p, _)| p == permission)
            .map(|(_, by)| by.clone())
            .unwrap_or_else(|| panic!("{permission} is not listed"))
    };
    let permissions: BTreeSet<&str> = org.iter().map(|(p, _)| p.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "api.organization.read",
        "api.organization.users.read",
        "api.organization.roles.read",
        "api.organization.invites.read",
        "api.organization.projects.read",
        "api.organization.projects.users.read",
        "api.groups.read",
        "api.organization.projects.api_keys.read",
        "api.organization.invites.write",
        "api.organization.admin_api_keys.read",
    ]
    .into_iter()
    .collect();
    assert_eq!(permissions, expected);
    assert!(org_only["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["granted_by"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["resource_type"] == "api.organization")));
    assert_eq!(
        lookup(&org, "api.organization.invites.write"),
        vec![(invites.clone(), vec![user_src(&user), group_src(&group)])]
    );
    assert_eq!(
        lookup(&org, "api.organization.admin_api_keys.read"),
        vec![(keys.clone(), vec![group_src(&group)])]
    );
    assert_eq!(
        lookup(&org, "api.organization.read"),
        vec![(ORG_READER.to_owned(), vec![user_src(&user)])]
    );

    let all = grants(&with_project);
    let viewer = alias(PROJECT_VIEWER, &project);
    let member = alias(PROJECT_MEMBER, &project);
    assert_eq!(
        lookup(&all, "api.project.read"),
        vec![
            (member.clone(), vec![group_src(&group)]),
            (viewer.clone(), vec![user_src(&user)]),
        ]
    );
    assert_eq!(
        lookup(&all, "api.project.users.read"),
        vec![(viewer.clone(), vec![user_src(&user)])]
    );
    assert_eq!(
        lookup(&all, "api.batches.write"),
        vec![
            (member.clone(), vec![group_src(&group)]),
            (files.clone(), vec![group_src(&group)]),
        ]
    );
    assert!(!all.iter().any(|(p, _)| p == "api.project.users.write"));
    // The organization part is the same with a project.
    for (permission, by) in &org {
        assert_eq!(&lookup(&all, permission), by);
    }

    // Leaving the group: the extension follows at once.
    leave(&s, &group, &user).await;
    let after = grants(&ok(s.get(&permissions_path(&user, Some(&project))).await));
    assert_eq!(
        lookup(&after, "api.organization.invites.write"),
        vec![(invites.clone(), vec![user_src(&user)])]
    );
    assert!(!after
        .iter()
        .any(|(p, _)| p == "api.organization.admin_api_keys.read" || p == "api.batches.write"));
    assert_eq!(
        lookup(&after, "api.project.read"),
        vec![(viewer.clone(), vec![user_src(&user)])]
    );

    // Errors name what is missing; reading needs api.organization.users.read.
    assert_error_says(
        &s.get(&permissions_path("user-nobody", None)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("user_id"),
        "No user found with id 'user-nobody'.",
    );
    assert_error_says(
        &s.get(&permissions_path(&user, Some("proj_nothing"))).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("project_id"),
        "No project found with id 'proj_nothing'.",
    );
    let (_, no_users) = s
        .create_key(json!({"name": "no users", "scopes": ["api.groups.read"]}))
        .await;
    assert_eq!(
        assert_insufficient(
            &s.get_as(&no_users, &permissions_path(&user, None)).await,
            "api.organization.users.read"
        ),
        ""
    );
}

// --- audit events --------------------------------------------------------------------------------

#[tokio::test]
async fn group_changes_are_audited_with_the_group_as_principal() {
    let s = TestServer::start().await;
    let project = s.create_project("Audited").await;
    let user = s.add_member("audited@example.com", "reader").await;
    let org_role = s.create_org_role("Org", &["api.groups.read"]).await;
    let (key_id, key) = s.create_key(json!({"name": "group auditor"})).await;
    let as_key = |path: String, body: Value| {
        let (s, key) = (&s, &key);
        async move { ok(s.post_as(key, &path, body).await) }
    };

    let group = str_of(
        &as_key(
            "/v1/organization/groups".into(),
            json!({"name": "Audited group"}),
        )
        .await["id"],
    );
    as_key(group_path(&group), json!({"name": "Renamed group"})).await;
    as_key(group_users_path(&group), json!({"user_id": user})).await;
    as_key(group_roles_path(&group), json!({"role_id": org_role})).await;
    as_key(
        project_groups_path(&project),
        json!({"group_id": group, "role": "viewer"}),
    )
    .await;
    ok(
        s.delete_as(&key, &format!("{}/{group}", project_groups_path(&project)))
            .await,
    );
    ok(
        s.delete_as(&key, &format!("{}/{user}", group_users_path(&group)))
            .await,
    );
    ok(s.delete_as(&key, &group_path(&group)).await);

    let events = s
        .audit(&format!("actor_ids[]={key_id}&limit=100&order=asc"))
        .await;
    assert_eq!(
        types(&events),
        vec![
            "group.created",
            "group.updated",
            "group.updated",
            "role.assignment.created",
            "group.updated",
            "role.assignment.created",
            "role.assignment.deleted",
            "group.updated",
            "group.updated",
            "role.assignment.deleted",
            "group.deleted",
        ]
    );
    for event in &events {
        assert_eq!(event["actor"]["type"], "api_key");
        assert_eq!(event["actor"]["api_key"]["id"], json!(key_id));
        assert_eq!(event["actor"]["api_key"]["user"]["id"], json!(s.owner_id()));
    }
    assert_eq!(
        details(&events[0]),
        &json!({"id": group, "data": {"group_name": "Audited group"}})
    );
    assert_eq!(
        details(&events[1])["changes_requested"]["group_name"],
        "Renamed group"
    );
    assert_eq!(
        details(&events[2])["changes_requested"]["users_added"],
        json!([user])
    );
    assert_eq!(
        details(&events[4])["changes_requested"]["projects_added"],
        json!([project])
    );
    assert_eq!(
        details(&events[7])["changes_requested"]["projects_removed"],
        json!([project])
    );
    assert_eq!(
        details(&events[8])["changes_requested"]["users_removed"],
        json!([user])
    );
    assert_eq!(details(&events[10]), &json!({"id": group}));
    let org = s.org_id();
    let expectations = [
        (3, org_role.clone(), org.clone(), "api.organization", false),
        (
            5,
            alias(PROJECT_VIEWER, &project),
            project.clone(),
            "api.project",
            true,
        ),
        (
            6,
            alias(PROJECT_VIEWER, &project),
            project.clone(),
            "api.project",
            true,
        ),
        (9, org_role.clone(), org.clone(), "api.organization", false),
    ];
    for (i, role, resource, resource_type, in_project) in expectations {
        let event = &events[i];
        assert_eq!(
            details(event),
            &json!({
                "id": role,
                "principal_id": group,
                "principal_type": "group",
                "resource_id": resource,
                "resource_type": resource_type,
            }),
            "event {i}: {event}"
        );
        if in_project {
            assert_eq!(event["project"]["id"], json!(project), "{event}");
        } else {
            assert!(event.get("project").is_none_or(Value::is_null), "{event}");
        }
    }
    // The group's events are found by its ID, the project's by the project (newest first by
    // default; read here in the order they happened).
    let by_group = s.audit(&format!("resource_ids[]={group}&order=asc")).await;
    assert_eq!(
        types(&by_group),
        vec![
            "group.created",
            "group.updated",
            "group.updated",
            "group.updated",
            "group.updated",
            "group.updated",
            "group.deleted"
        ]
    );
    let by_project = s
        .audit(&format!(
            "project_ids[]={project}&actor_ids[]={key_id}&order=asc"
        ))
        .await;
    assert_eq!(
        types(&by_project),
        vec![
            "group.updated",
            "role.assignment.created",
            "role.assignment.deleted",
            "group.updated"
        ]
    );
}

#[tokio::test]
async fn no_op_changes_write_no_events() {
    let s = TestServer::start().await;
    let user = s.add_member("member@example.com", "reader").await;
    let role = s.create_org_role("Org", &["api.groups.read"]).await;
    let group = create_group(&s, "Quiet").await;
    join(&s, &group, &user).await;
    grant_org_role(&s, &group, &role).await;
    let (key_id, key) = s.create_key(json!({"name": "repeater"})).await;

    for _ in 0..3 {
        ok(
            s.post_as(&key, &group_users_path(&group), json!({"user_id": user}))
                .await,
        );
        ok(
            s.post_as(&key, &group_roles_path(&group), json!({"role_id": role}))
                .await,
        );
    }

    assert_eq!(
        s.audit(&format!("actor_ids[]={key_id}")).await,
        Vec::<Value>::new()
    );
    assert_eq!(ids(&ok(s.get(&group_users_path(&group)).await)), vec![user]);
    assert_eq!(ids(&ok(s.get(&group_roles_path(&group)).await)), vec![role]);
}

// --- concurrency ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_make_exactly_one_group() {
    let s = Arc::new(TestServer::start().await);
    let mut tasks = JoinSet::new();
    for i in 0..12 {
        let s = s.clone();
        // The same name in different cases: unique ignoring case.
        let name = if i % 2 == 0 { "Race Team" } else { "RACE team" };
        tasks.spawn(async move {
            s.post("/v1/organization/groups", json!({"name": name}))
                .await
        });
    }
    let mut made = 0;
    while let Some(answer) = tasks.join_next().await {
        let answer = answer.unwrap();
        if answer.0 == StatusCode::OK {
            made += 1;
        } else {
            assert_error(
                &answer,
                StatusCode::CONFLICT,
                "already_exists",
                Some("name"),
            );
        }
    }
    assert_eq!(made, 1);
    let listed = ok(s.get("/v1/organization/groups").await);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(s.audit("event_types[]=group.created").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_of_one_member_make_one_membership() {
    let s = Arc::new(TestServer::start().await);
    let user = s.add_member("member@example.com", "reader").await;
    let group = create_group(&s, "Crowded").await;
    let mut tasks = JoinSet::new();
    for _ in 0..12 {
        let (s, user, group) = (s.clone(), user.clone(), group.clone());
        tasks.spawn(async move {
            s.post(&group_users_path(&group), json!({"user_id": user}))
                .await
        });
    }
    while let Some(answer) = tasks.join_next().await {
        ok(answer.unwrap());
    }
    assert_eq!(ids(&ok(s.get(&group_users_path(&group)).await)), vec![user]);
    assert_eq!(s.audit("event_types[]=group.updated").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_removed_while_others_join_never_leaves_a_half_membership() {
    // Removing a user from the organization races with adding them to groups: either the add
    // comes first (and the removal takes the membership along) or it is refused; never a
    // membership of someone who is no longer a member.
    let s = Arc::new(TestServer::start().await);
    for round in 0..5 {
        let user = s
            .add_member(&format!("racer{round}@example.com"), "reader")
            .await;
        let mut groups = Vec::new();
        for i in 0..4 {
            groups.push(create_group(&s, &format!("Round {round} group {i}")).await);
        }
        let mut tasks = JoinSet::new();
        for group in &groups {
            let (s, user, group) = (s.clone(), user.clone(), group.clone());
            tasks.spawn(async move {
                s.post(&group_users_path(&group), json!({"user_id": user}))
                    .await
            });
        }
        let removal = {
            let (s, user) = (s.clone(), user.clone());
            tokio::spawn(async move { s.delete(&user_path(&user)).await })
        };
        while let Some(answer) = tasks.join_next().await {
            let answer = answer.unwrap();
            if answer.0 != StatusCode::OK {
                assert_error_says(
                    &answer,
                    StatusCode::BAD_REQUEST,
                    "invalid_value",
                    Some("user_id"), "User user-… is not a member of the organization; invite them first (POST /v1/organization/invites).",);
            }
        }
        ok(removal.await.unwrap());
        for group in &groups {
            assert_eq!(
                ok(s.get(&group_users_path(group)).await)["data"],
                json!([]),
                "round {round}"
            );
        }
    }
}

// --- tenancy -------------------------------------------------------------------------------------

#[tokio::test]
async fn groups_stay_in_their_organization() {
    let database = TestDatabase::persistent().await;
    let s = TestServer::start_on(
        database.url(),
        Some(&owner_key()),
        Arc::new(OffsetClock::default()),
    )
    .await;
    // The same person in both organizations: a reader here, the owner of the other one.
    let shared = s.add_member("shared@example.com", "reader").await;
    let here = create_group(&s, "Same name").await;
    join(&s, &here, &shared).await;
    let here_role = s.create_org_role("Here", &["api.groups.write"]).await;
    grant_org_role(&s, &here, &here_role).await;

    let store = s.store();
    let other_key = format!("{ADMIN_KEY_PREFIX}{}", "z".repeat(40));
    let other = store
        .create_organization(BootstrapRequest {
            organization_name: "Other".into(),
            owner_email: Email::parse("shared@example.com", "email").unwrap(),
            owner_name: Some("Shared".into()),
            admin_key_secret: other_key.clone(),
            fixture: None,
        })
        .await
        .unwrap();
    drop(store);
    assert_eq!(
        other.owner.user.id.as_str(),
        shared,
        "one person, one user ID"
    );

    // Names are unique per organization only.
    let there = str_of(
        &ok(s
            .post_as(
                &other_key,
                "/v1/organization/groups",
                json!({"name": "same NAME"}),
            )
            .await)["id"],
    );
    join_as(&s, &other_key, &there, &shared).await;
    ok(s.post_as(
        &other_key,
        &group_roles_path(&there),
        json!({"role_id": ORG_READER}),
    )
    .await);

    // Each organization sees only its own group.
    assert_eq!(
        ids(&ok(s.get("/v1/organization/groups").await)),
        vec![here.clone()]
    );
    assert_eq!(
        ids(&ok(s.get_as(&other_key, "/v1/organization/groups").await)),
        vec![there.clone()]
    );
    for (key, foreign) in [(&s.owner_key, &there), (&other_key, &here)] {
        for path in [
            group_path(foreign),
            group_users_path(foreign),
            group_roles_path(foreign),
            format!("{}/{shared}", group_users_path(foreign)),
        ] {
            assert_error_says(
                &s.get_as(key, &path).await,
                StatusCode::NOT_FOUND,
                "not_found",
                Some("group_id"),
                "No group found with id 'group_…'.",
            );
        }
        assert_error_says(
            &s.post_as(key, &group_users_path(foreign), json!({"user_id": shared}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("group_id"),
            "No group found with id 'group_…'.",
        );
        assert_error_says(
            &s.delete_as(key, &group_path(foreign)).await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("group_id"),
            "No group found with id 'group_…'.",
        );
    }
    // A role of one organization cannot be given to the other's group.
    assert_error_says(
        &s.post_as(
            &other_key,
            &group_roles_path(&there),
            json!({"role_id": here_role}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("role_id"),
        "No role found with id 'role_…'.",
    );
    // The person's roles in each organization come from that organization's groups only.
    assert_eq!(
        roles_with_sources(&ok(s.get(&user_roles_path(&shared)).await)),
        vec![
            (ORG_READER.to_owned(), vec![user_src(&shared)]),
            (here_role.clone(), vec![group_src(&here)]),
        ]
    );
    assert_eq!(
        roles_with_sources(&ok(s.get_as(&other_key, &user_roles_path(&shared)).await)),
        vec![
            (ORG_OWNER.to_owned(), vec![user_src(&shared)]),
            (ORG_READER.to_owned(), vec![group_src(&there)]),
        ]
    );
    // Leaving here leaves there untouched.
    leave(&s, &here, &shared).await;
    assert_eq!(
        ids(&ok(s.get_as(&other_key, &group_users_path(&there)).await)),
        vec![shared.clone()]
    );
    s.stop().await;
}
