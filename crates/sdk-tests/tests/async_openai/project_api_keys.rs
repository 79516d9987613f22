//! `client.admin().projects().api_keys(project)`: list (with `owner_project_access`), retrieve,
//! update, delete, for a member's key and a service account's. The member's key is made with
//! orgadmin's extension (`POST …/api_keys` with `user_id`), which the client has no method for,
//! so that one call is plain HTTP.

use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::project_api_keys::{
    ListProjectApiKeysQuery, OwnerProjectAccess, ProjectApiKeyListResponse, ProjectApiKeyOwnerType,
    UpdateProjectApiKeyBody,
};
use async_openai::types::admin::project_service_accounts::ProjectServiceAccountCreateRequest;
use orgadmin_testkit::{ok, str_of, TestServer};
use serde_json::json;

use crate::support::{assert_not_found, client, Sdk};

// The client's `ProjectApiKeyOwner` makes `type` required, where the spec's `ProjectApiKey.owner`
// requires none of its properties; orgadmin always sends `type`, so the typed calls are used.

async fn keys_listed(sdk: &Sdk, project: &str, access: Option<&str>) -> ProjectApiKeyListResponse {
    sdk.admin()
        .projects()
        .api_keys(project)
        .query(&ListProjectApiKeysQuery {
            owner_project_access: access.map(str::to_owned),
            ..Default::default()
        })
        .unwrap()
        .list()
        .await
        .expect("project api keys list")
}

fn ids(list: &ProjectApiKeyListResponse) -> Vec<&str> {
    list.data.iter().map(|k| k.id.as_str()).collect()
}

#[tokio::test]
async fn a_members_key_through_removal_and_return_then_updated_and_deleted() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let project = s.create_project("Keys").await;
    let user = s.add_member("dev@example.com", "reader").await;
    s.add_project_user(&project, &user, "member").await;
    // The extension: a key owned by a project member, its secret shown once.
    let made = ok(s
        .post(
            &format!("/v1/organization/projects/{project}/api_keys"),
            json!({"name": "Laptop", "user_id": user}),
        )
        .await);
    let id = str_of(&made["id"]);
    let secret = str_of(&made["value"]);
    assert!(secret.starts_with("sk-proj-"), "{made}");
    let admin = sdk.admin();
    let projects = admin.projects();
    let keys = projects.api_keys(&project);

    let key = keys.retrieve(&id).await.expect("project api keys retrieve");
    assert_eq!(key.object, "organization.project.api_key");
    assert_eq!(key.id, id);
    assert_eq!(key.name, "Laptop");
    assert_eq!(
        key.redacted_value,
        format!("sk-proj...{}", &secret[secret.len() - 4..])
    );
    assert_eq!(key.last_used_at, None);
    assert!(key.created_at > 0);
    assert!(matches!(
        key.owner_project_access,
        Some(OwnerProjectAccess::Active)
    ));
    assert!(matches!(key.owner.r#type, ProjectApiKeyOwnerType::User));
    assert!(key.owner.service_account.is_none());
    let owner = key.owner.user.as_ref().expect("the owning member");
    assert_eq!(
        (
            owner.id.as_str(),
            owner.email.as_str(),
            owner.name.as_str(),
            owner.role.as_str()
        ),
        (user.as_str(), "dev@example.com", "dev", "member")
    );
    assert!(owner.created_at > 0);
    assert_eq!(ids(&keys_listed(&sdk, &project, None).await), [id.as_str()]);

    // Removed from the project: listed only as inactive.
    sdk.admin()
        .projects()
        .users(&project)
        .delete(&user)
        .await
        .expect("the member removed");
    assert!(keys_listed(&sdk, &project, None).await.data.is_empty());
    assert!(keys_listed(&sdk, &project, Some("active"))
        .await
        .data
        .is_empty());
    let inactive = keys_listed(&sdk, &project, Some("inactive")).await;
    assert_eq!(ids(&inactive), [id.as_str()]);
    assert!(matches!(
        inactive.data[0].owner_project_access,
        Some(OwnerProjectAccess::Inactive)
    ));
    assert_eq!(
        ids(&keys_listed(&sdk, &project, Some("any")).await),
        [id.as_str()]
    );
    let away = keys.retrieve(&id).await.unwrap();
    assert!(matches!(
        away.owner_project_access,
        Some(OwnerProjectAccess::Inactive)
    ));

    // Back, as a viewer: active again, with the role they hold now.
    s.add_project_user(&project, &user, "viewer").await;
    let back = keys.retrieve(&id).await.unwrap();
    assert!(matches!(
        back.owner_project_access,
        Some(OwnerProjectAccess::Active)
    ));
    assert_eq!(back.owner.user.as_ref().unwrap().role, "viewer");
    assert_eq!(ids(&keys_listed(&sdk, &project, None).await), [id.as_str()]);

    // The update the SDK has: scopes and expiry.
    let updated = keys
        .update(
            &id,
            UpdateProjectApiKeyBody {
                scopes: Some(vec!["api.model.request".into()]),
                expires_in_seconds: Some(3600),
            },
        )
        .await
        .expect("project api keys update");
    assert!(updated
        .expires_at
        .is_some_and(|t| t >= updated.created_at + 3600));
    let reread = keys.retrieve(&id).await.unwrap();
    assert_eq!(reread.expires_at, updated.expires_at);

    let deleted = keys.delete(&id).await.expect("project api keys delete");
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        ("organization.project.api_key.deleted", id.as_str(), true)
    );
    assert_not_found(keys.retrieve(&id).await);
    assert!(keys_listed(&sdk, &project, Some("any"))
        .await
        .data
        .is_empty());
    s.stop().await;
}

#[tokio::test]
async fn a_service_accounts_key_is_listed_as_its_own_page_by_page() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let project = s.create_project("Bots").await;
    let account = sdk
        .admin()
        .projects()
        .service_accounts(&project)
        .create(ProjectServiceAccountCreateRequest {
            name: "Deployer".into(),
            ..Default::default()
        })
        .await
        .expect("service account");
    let first = account.api_key.as_ref().expect("its first key").id.clone();
    let user = s.add_member("dev@example.com", "reader").await;
    s.add_project_user(&project, &user, "owner").await;
    let member_key = str_of(
        &ok(s
            .post(
                &format!("/v1/organization/projects/{project}/api_keys"),
                json!({"name": "CI", "user_id": user}),
            )
            .await)["id"],
    );

    let page = sdk
        .admin()
        .projects()
        .api_keys(&project)
        .query(&ListProjectApiKeysQuery {
            limit: Some(1),
            ..Default::default()
        })
        .unwrap()
        .list()
        .await
        .expect("first page");
    assert!(page.has_more);
    assert_eq!(ids(&page), [first.as_str()]);
    let key = &page.data[0];
    assert!(matches!(
        key.owner.r#type,
        ProjectApiKeyOwnerType::ServiceAccount
    ));
    assert!(key.owner.user.is_none());
    let owner = key.owner.service_account.as_ref().expect("the account");
    assert_eq!(
        (owner.id.as_str(), owner.name.as_str(), owner.role.as_str()),
        (account.id.as_str(), "Deployer", "member")
    );
    let rest = sdk
        .admin()
        .projects()
        .api_keys(&project)
        .query(&ListProjectApiKeysQuery {
            limit: Some(1),
            after: page.last_id.clone(),
            ..Default::default()
        })
        .unwrap()
        .list()
        .await
        .expect("second page");
    assert!(!rest.has_more);
    assert_eq!(ids(&rest), [member_key.as_str()]);
    s.stop().await;
}
