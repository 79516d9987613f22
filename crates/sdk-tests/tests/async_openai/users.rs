//! `client.admin().users()`: list (with paging and the email filter), retrieve, modify, delete.

use async_openai::error::OpenAIError;
use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::users::{ListUsersQuery, User, UserRoleUpdateRequestArgs};
use orgadmin_testkit::{TestServer, OWNER_EMAIL};

use crate::support::{assert_not_found, client};

#[tokio::test]
async fn members_are_listed_read_whole_changed_and_removed() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let project = s.create_project("Apps").await;
    let member = s.add_member("dev@example.com", "reader").await;
    s.add_project_user(&project, &member, "member").await;

    let list = sdk.admin().users().list().await.expect("users list");
    assert_eq!(list.object, "list");
    assert!(!list.has_more);
    let ids: Vec<&str> = list.data.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, [s.owner_id().as_str(), member.as_str()]);
    assert_eq!(list.first_id.as_deref(), Some(s.owner_id().as_str()));
    assert_eq!(list.last_id.as_deref(), Some(member.as_str()));

    // Every field of the member, as retrieved and as listed.
    let got = sdk
        .admin()
        .users()
        .retrieve(&member)
        .await
        .expect("users retrieve");
    assert_eq!(got, list.data[1]);
    check_member(&got, &member, &project);
    let owner = &list.data[0];
    assert_eq!(owner.email.as_deref(), Some(OWNER_EMAIL));
    assert_eq!(owner.role.as_deref(), Some("owner"));
    assert_eq!(owner.is_default, Some(true));

    // One page at a time, and filtered by email.
    let first = sdk
        .admin()
        .users()
        .query(&ListUsersQuery {
            limit: Some(1),
            ..Default::default()
        })
        .unwrap()
        .list()
        .await
        .expect("first page");
    assert!(first.has_more);
    assert_eq!(first.data.len(), 1);
    let second = sdk
        .admin()
        .users()
        .query(&ListUsersQuery {
            limit: Some(1),
            after: first.last_id.clone(),
            ..Default::default()
        })
        .unwrap()
        .list()
        .await
        .expect("second page");
    assert!(!second.has_more);
    assert_eq!(second.data[0].id, member);
    // The client's own query type cannot say the email filter: `ListUsersQuery.emails` is a
    // `Vec<String>`, and the client serializes queries with serde_urlencoded, which has no form
    // for a sequence, so the call fails in the client ("Invalid query: unsupported value") before
    // any request is sent. The spec's form, `emails[]=…`, goes in as query pairs.
    let admin = sdk.admin();
    let typed = admin.users().query(&ListUsersQuery {
        emails: Some(vec!["dev@example.com".into()]),
        ..Default::default()
    });
    assert!(matches!(typed, Err(OpenAIError::InvalidArgument(_))));
    let by_email = sdk
        .admin()
        .users()
        .query(&[("emails[]", "dev@example.com")])
        .unwrap()
        .list()
        .await
        .expect("filtered list");
    assert_eq!(by_email.data.len(), 1);
    assert_eq!(by_email.data[0].id, member);

    // Made an owner: the answer and a second read agree.
    let request = UserRoleUpdateRequestArgs::default()
        .role("owner")
        .build()
        .unwrap();
    let changed = sdk
        .admin()
        .users()
        .modify(&member, request)
        .await
        .expect("users modify");
    assert_eq!(changed.role.as_deref(), Some("owner"));
    let reread = sdk.admin().users().retrieve(&member).await.unwrap();
    assert_eq!(reread.role.as_deref(), Some("owner"));

    let deleted = sdk
        .admin()
        .users()
        .delete(&member)
        .await
        .expect("users delete");
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        ("organization.user.deleted", member.as_str(), true)
    );
    assert_not_found(sdk.admin().users().retrieve(&member).await);
    let after = sdk.admin().users().list().await.unwrap();
    assert_eq!(after.data.len(), 1);
    assert_eq!(after.data[0].id, s.owner_id());
    s.stop().await;
}

/// Every field of an invited member of `project` who never used a key.
fn check_member(user: &User, id: &str, project: &str) {
    assert_eq!(user.object, "organization.user");
    assert_eq!(user.id, id);
    assert_eq!(user.name.as_deref(), Some("dev"));
    assert_eq!(user.email.as_deref(), Some("dev@example.com"));
    assert_eq!(user.role.as_deref(), Some("reader"));
    assert!(user.added_at > 0);
    assert_eq!(user.is_default, Some(false));
    let created = user.created.expect("created");
    assert!(created > 0 && created <= user.added_at, "{user:?}");
    let person = user.user.as_ref().expect("the nested user");
    assert_eq!(person.object, "user");
    assert_eq!(person.id, id);
    assert_eq!(person.email.as_deref(), Some("dev@example.com"));
    assert_eq!(person.name.as_deref(), Some("dev"));
    assert_eq!(person.enabled, Some(true));
    assert_eq!(person.banned, Some(false));
    assert_eq!(person.banned_at, None);
    assert_eq!(user.is_service_account, Some(false));
    assert_eq!(user.is_scale_tier_authorized_purchaser, Some(false));
    assert_eq!(user.is_scim_managed, Some(false));
    assert_eq!(user.api_key_last_used_at, None);
    assert_eq!(user.technical_level, None);
    assert_eq!(user.developer_persona, None);
    let projects = user.projects.as_ref().expect("the member's projects");
    assert_eq!(projects.object, "list");
    let memberships: Vec<_> = projects
        .data
        .iter()
        .map(|p| (p.id.as_deref(), p.name.as_deref(), p.role.as_deref()))
        .collect();
    assert_eq!(memberships, [(Some(project), Some("Apps"), Some("member"))]);
}
