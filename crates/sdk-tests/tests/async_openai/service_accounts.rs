//! `client.admin().projects().service_accounts(project)`: create (with its first key), list,
//! retrieve, update, a further key (`create_api_key`), delete.

use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::project_service_accounts::{
    CreateProjectServiceAccountApiKeyBody, ListProjectServiceAccountsQuery,
    ProjectServiceAccountCreateRequest, ProjectServiceAccountRole, UpdateProjectServiceAccountBody,
    UpdateProjectServiceAccountBodyRole,
};
use orgadmin_testkit::TestServer;

use crate::support::{assert_not_found, client};

#[tokio::test]
async fn service_accounts_are_created_with_a_key_listed_read_updated_and_deleted() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let project = s.create_project("Bots").await;
    let admin = sdk.admin();
    let projects = admin.projects();
    let accounts = projects.service_accounts(&project);

    let created = accounts
        .create(ProjectServiceAccountCreateRequest {
            name: "Deployer".into(),
            ..Default::default()
        })
        .await
        .expect("service accounts create");
    assert_eq!(created.object, "organization.project.service_account");
    assert!(created.id.starts_with("svc_acct_"), "{created:?}");
    assert_eq!(created.name, "Deployer");
    assert_eq!(created.role, "member");
    let key = created.api_key.as_ref().expect("the account's first key");
    assert_eq!(key.object, "organization.project.service_account.api_key");
    assert!(key.value.starts_with("sk-svcacct-"), "{key:?}");
    assert!(key.id.starts_with("key_"), "{key:?}");

    let got = accounts
        .retrieve(&created.id)
        .await
        .expect("service accounts retrieve");
    assert_eq!(
        (got.object.as_str(), got.id.as_str(), got.name.as_str()),
        (
            "organization.project.service_account",
            created.id.as_str(),
            "Deployer"
        )
    );
    assert!(matches!(got.role, ProjectServiceAccountRole::Member));
    assert_eq!(got.created_at, created.created_at);

    let other = accounts
        .create(ProjectServiceAccountCreateRequest {
            name: "Reporter".into(),
            ..Default::default()
        })
        .await
        .expect("a second account");
    let list = accounts.list().await.expect("service accounts list");
    assert_eq!(list.object, "list");
    assert!(!list.has_more);
    let ids: Vec<&str> = list.data.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, [created.id.as_str(), other.id.as_str()]);
    let page = sdk
        .admin()
        .projects()
        .service_accounts(&project)
        .query(&ListProjectServiceAccountsQuery {
            limit: Some(1),
            after: Some(created.id.clone()),
        })
        .unwrap()
        .list()
        .await
        .expect("a page after the first");
    assert!(!page.has_more);
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].id, other.id);

    let updated = accounts
        .update(
            &created.id,
            UpdateProjectServiceAccountBody {
                name: Some("Deployer (prod)".into()),
                role: Some(UpdateProjectServiceAccountBodyRole::Owner),
            },
        )
        .await
        .expect("service accounts update");
    assert_eq!(updated.name, "Deployer (prod)");
    assert!(matches!(updated.role, ProjectServiceAccountRole::Owner));
    let reread = accounts.retrieve(&created.id).await.unwrap();
    assert_eq!(reread.name, "Deployer (prod)");
    assert!(matches!(reread.role, ProjectServiceAccountRole::Owner));

    // A second key, shown once, listed among the project's keys as the account's.
    let second = accounts
        .create_api_key(
            &created.id,
            CreateProjectServiceAccountApiKeyBody {
                name: Some("Production App".into()),
                scopes: Some(vec!["api.model.request".into()]),
                expires_in_seconds: Some(3600),
            },
        )
        .await
        .expect("service accounts create_api_key");
    assert_eq!(
        second.object,
        "organization.project.service_account.api_key"
    );
    assert_eq!(second.name, "Production App");
    assert!(second.value.starts_with("sk-svcacct-"));
    assert!(second
        .expires_at
        .is_some_and(|t| t >= second.created_at + 3600));
    let keys = sdk
        .admin()
        .projects()
        .api_keys(&project)
        .list()
        .await
        .expect("project api keys list");
    let owned: Vec<&str> = keys
        .data
        .iter()
        .filter(|k| {
            k.owner
                .service_account
                .as_ref()
                .is_some_and(|a| a.id == created.id)
        })
        .map(|k| k.id.as_str())
        .collect();
    assert_eq!(owned, [key.id.as_str(), second.id.as_str()]);

    let deleted = accounts
        .delete(&created.id)
        .await
        .expect("service accounts delete");
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        (
            "organization.project.service_account.deleted",
            created.id.as_str(),
            true
        )
    );
    assert_not_found(accounts.retrieve(&created.id).await);
    let left = accounts.list().await.unwrap();
    let ids: Vec<&str> = left.data.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, [other.id.as_str()]);
    // Its keys went with it.
    let keys = sdk
        .admin()
        .projects()
        .api_keys(&project)
        .list()
        .await
        .unwrap();
    assert!(keys
        .data
        .iter()
        .all(|k| k.id != key.id && k.id != second.id));
    s.stop().await;
}
