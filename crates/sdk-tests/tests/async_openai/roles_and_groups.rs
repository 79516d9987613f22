//! `client.admin().roles()`, `users().roles(user)`, `groups()` with its `users(group)` and
//! `roles(group)`, and `projects().roles(project)`: custom roles, their assignment to members
//! and groups, and groups' members.

use async_openai::types::admin::groups::{
    CreateGroupBody, CreateGroupUserBody, PublicAssignOrganizationGroupRoleBody, UpdateGroupBody,
};
use async_openai::types::admin::roles::{
    PublicCreateOrganizationRoleBody, PublicUpdateOrganizationRoleBody,
};
use async_openai::types::admin::users::PublicAssignOrganizationUserRoleBody;
use orgadmin_testkit::TestServer;

use crate::support::{assert_not_found, client};

const READ_USERS: &str = "api.organization.users.read";
const READ_PROJECTS: &str = "api.organization.projects.read";

#[tokio::test]
async fn a_custom_role_is_made_changed_held_by_a_member_and_deleted() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let member = s.add_member("auditor@example.com", "reader").await;
    let admin = sdk.admin();
    let roles = admin.roles();

    let role = roles
        .create(PublicCreateOrganizationRoleBody {
            role_name: "Auditor".into(),
            permissions: vec![READ_USERS.into()],
            description: Some("Reads the member list".into()),
        })
        .await
        .expect("roles create");
    assert_eq!(role.object, "role");
    assert!(role.id.starts_with("role_"), "{role:?}");
    assert_eq!(role.name, "Auditor");
    assert_eq!(role.permissions, [READ_USERS]);
    assert_eq!(role.resource_type, "api.organization");
    assert!(!role.predefined_role);
    assert_eq!(
        roles.retrieve(&role.id).await.expect("roles retrieve"),
        role
    );
    let listed = roles.list().await.expect("roles list");
    assert_eq!(listed.object, "list");
    let custom: Vec<&str> = listed
        .data
        .iter()
        .filter(|r| !r.predefined_role)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(custom, [role.id.as_str()]);
    assert!(listed.data.iter().any(|r| r.predefined_role));

    let changed = roles
        .update(
            &role.id,
            PublicUpdateOrganizationRoleBody {
                permissions: Some(vec![READ_USERS.into(), READ_PROJECTS.into()]),
                description: None,
                role_name: Some("Auditors".into()),
            },
        )
        .await
        .expect("roles update");
    assert_eq!(changed.name, "Auditors");
    let reread = roles.retrieve(&role.id).await.unwrap();
    assert_eq!(reread.name, "Auditors");
    let mut permissions = reread.permissions.clone();
    permissions.sort();
    assert_eq!(permissions, [READ_PROJECTS, READ_USERS]);

    // Held by a member.
    let users = admin.users();
    let held = users.roles(&member);
    let assignment = held
        .assign(PublicAssignOrganizationUserRoleBody {
            role_id: role.id.clone(),
        })
        .await
        .expect("user roles assign");
    assert_eq!(assignment.object, "user.role");
    assert_eq!(assignment.user.id, member);
    assert_eq!(assignment.role.id, role.id);
    let theirs = held.list().await.expect("user roles list");
    assert!(theirs.data.iter().any(|r| r.id == role.id), "{theirs:?}");
    let detail = held.retrieve(&role.id).await.expect("user roles retrieve");
    assert_eq!(
        (detail.id.as_str(), detail.name.as_str()),
        (role.id.as_str(), "Auditors")
    );
    let unassigned = held.unassign(&role.id).await.expect("user roles unassign");
    assert!(unassigned.deleted);
    let theirs = held.list().await.unwrap();
    assert!(theirs.data.iter().all(|r| r.id != role.id), "{theirs:?}");

    let deleted = roles.delete(&role.id).await.expect("roles delete");
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        ("role.deleted", role.id.as_str(), true)
    );
    assert_not_found(roles.retrieve(&role.id).await);
    s.stop().await;
}

#[tokio::test]
async fn a_group_is_made_renamed_given_members_and_a_role_and_deleted() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let member = s.add_member("grouped@example.com", "reader").await;
    let role = s.create_org_role("Readers", &[READ_USERS]).await;
    let admin = sdk.admin();
    let groups = admin.groups();

    let group = groups
        .create(CreateGroupBody {
            name: "Support".into(),
        })
        .await
        .expect("groups create");
    assert!(group.id.starts_with("group_"), "{group:?}");
    assert_eq!(group.name, "Support");
    assert!(!group.is_scim_managed);
    assert_eq!(group.group_type, "group");
    assert_eq!(
        groups.retrieve(&group.id).await.expect("groups retrieve"),
        group
    );
    let listed = groups.list().await.expect("groups list");
    assert_eq!(listed.object, "list");
    assert_eq!(listed.data, std::slice::from_ref(&group));

    let renamed = groups
        .update(
            &group.id,
            UpdateGroupBody {
                name: "Support team".into(),
            },
        )
        .await
        .expect("groups update");
    assert_eq!(renamed.name, "Support team");
    assert_eq!(
        groups.retrieve(&group.id).await.unwrap().name,
        "Support team"
    );

    let users = groups.users(&group.id);
    let added = users
        .add(CreateGroupUserBody {
            user_id: member.clone(),
        })
        .await
        .expect("group users add");
    assert_eq!(
        (
            added.object.as_str(),
            added.user_id.as_str(),
            added.group_id.as_str()
        ),
        ("group.user", member.as_str(), group.id.as_str())
    );
    let members = users.list().await.expect("group users list");
    let listed: Vec<(&str, &str, Option<&str>)> = members
        .data
        .iter()
        .map(|u| (u.id.as_str(), u.name.as_str(), u.email.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [(member.as_str(), "grouped", Some("grouped@example.com"))]
    );
    let one = users.retrieve(&member).await.expect("group users retrieve");
    assert_eq!(
        (one.id.as_str(), one.email.as_deref()),
        (member.as_str(), Some("grouped@example.com"))
    );

    let group_roles = groups.roles(&group.id);
    let assignment = group_roles
        .assign(PublicAssignOrganizationGroupRoleBody {
            role_id: role.clone(),
        })
        .await
        .expect("group roles assign");
    assert_eq!(assignment.object, "group.role");
    assert_eq!(assignment.group.id, group.id);
    assert_eq!(assignment.role.id, role);
    let held = group_roles.list().await.expect("group roles list");
    let ids: Vec<&str> = held.data.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [role.as_str()]);
    assert!(
        group_roles
            .unassign(&role)
            .await
            .expect("group roles unassign")
            .deleted
    );
    assert!(group_roles.list().await.unwrap().data.is_empty());

    let removed = users.remove(&member).await.expect("group users remove");
    assert!(removed.deleted);
    assert!(users.list().await.unwrap().data.is_empty());

    let deleted = groups.delete(&group.id).await.expect("groups delete");
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        ("group.deleted", group.id.as_str(), true)
    );
    assert_not_found(groups.retrieve(&group.id).await);
    assert!(groups.list().await.unwrap().data.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn a_project_role_is_made_listed_and_deleted() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let project = s.create_project("Roles").await;
    let admin = sdk.admin();
    let projects = admin.projects();
    let roles = projects.roles(&project);
    let role = roles
        .create(PublicCreateOrganizationRoleBody {
            role_name: "Deployer".into(),
            permissions: vec!["api.project.read".into()],
            description: None,
        })
        .await
        .expect("project roles create");
    assert_eq!(role.resource_type, "api.project");
    assert!(!role.predefined_role);
    assert_eq!(
        roles
            .retrieve(&role.id)
            .await
            .expect("project roles retrieve"),
        role
    );
    let listed = roles.list().await.expect("project roles list");
    let custom: Vec<&str> = listed
        .data
        .iter()
        .filter(|r| !r.predefined_role)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(custom, [role.id.as_str()]);
    assert!(
        roles
            .delete(&role.id)
            .await
            .expect("project roles delete")
            .deleted
    );
    assert_not_found(roles.retrieve(&role.id).await);
    s.stop().await;
}
