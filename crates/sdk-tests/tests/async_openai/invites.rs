//! `client.admin().invites()`: create (with project memberships), list, retrieve, delete.

use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::invites::{
    InviteProjectMembership, InviteRequest, InviteRequestArgs, InviteStatus, ListInvitesQuery,
    ProjectMembership,
};
use async_openai::types::admin::roles::OrganizationRole;
use orgadmin_testkit::TestServer;

use crate::support::{assert_not_found, client, refusal};

#[tokio::test]
async fn invites_are_created_listed_read_and_deleted() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let project = s.create_project("Onboarding").await;
    let request = InviteRequestArgs::default()
        .email("new@example.com")
        .role(OrganizationRole::Reader)
        .projects(vec![InviteProjectMembership {
            id: project.clone(),
            role: ProjectMembership::Owner,
        }])
        .build()
        .unwrap();
    let invite = sdk
        .admin()
        .invites()
        .create(request)
        .await
        .expect("invites create");
    assert_eq!(invite.object, "organization.invite");
    assert!(invite.id.starts_with("invite-"), "{invite:?}");
    assert_eq!(invite.email, "new@example.com");
    assert_eq!(invite.role, OrganizationRole::Reader);
    assert_eq!(invite.status, InviteStatus::Pending);
    assert!(invite.expires_at.is_some_and(|t| t > invite.created_at));
    assert_eq!(invite.accepted_at, None);
    assert_eq!(
        invite.projects,
        [InviteProjectMembership {
            id: project.clone(),
            role: ProjectMembership::Owner
        }]
    );

    let got = sdk
        .admin()
        .invites()
        .retrieve(&invite.id)
        .await
        .expect("invites retrieve");
    assert_eq!(got, invite);

    let second = sdk
        .admin()
        .invites()
        // The client's builder insists on `projects` (optional in the spec and in its own
        // `InviteRequest`), so this invite without projects is written as the struct itself.
        .create(InviteRequest {
            email: "other@example.com".into(),
            role: OrganizationRole::Owner,
            projects: None,
        })
        .await
        .expect("a second invite");
    // Without projects, an invite is to the default project, as a member.
    assert_eq!(
        second.projects,
        [InviteProjectMembership {
            id: s.default_project_id(),
            role: ProjectMembership::Member
        }]
    );
    let list = sdk.admin().invites().list().await.expect("invites list");
    assert_eq!(list.object, "list");
    assert_eq!(list.has_more, Some(false));
    let ids: Vec<&str> = list.data.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, [invite.id.as_str(), second.id.as_str()]);
    let page = sdk
        .admin()
        .invites()
        .query(&ListInvitesQuery {
            limit: Some(1),
            after: None,
        })
        .unwrap()
        .list()
        .await
        .expect("one page");
    assert_eq!(page.has_more, Some(true));
    assert_eq!(page.last_id.as_deref(), Some(invite.id.as_str()));

    let deleted = sdk
        .admin()
        .invites()
        .delete(&invite.id)
        .await
        .expect("invites delete");
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        ("organization.invite.deleted", invite.id.as_str(), true)
    );
    assert_not_found(sdk.admin().invites().retrieve(&invite.id).await);
    let left = sdk.admin().invites().list().await.unwrap();
    assert_eq!(left.data.len(), 1);
    assert_eq!(left.data[0].id, second.id);
    // A second delete finds nothing.
    assert_eq!(
        refusal(sdk.admin().invites().delete(&invite.id).await).0,
        404
    );
    s.stop().await;
}
