//! `client.admin().projects()`: create, list (with `include_archived` and paging), retrieve,
//! modify, archive.

use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::projects::{
    ListProjectsQuery, Project, ProjectCreateRequest, ProjectUpdateRequestArgs,
};
use orgadmin_testkit::TestServer;

use crate::support::{assert_not_found, client, refusal, Sdk, SpecList};

/// The project list through `list_byot`. The client is stricter than the spec here:
/// async-openai 0.43 types `ProjectListResponse.has_more` as a `String`, while the spec's
/// `ProjectListResponse` says `has_more: boolean` (required), which is what orgadmin sends; the
/// typed `list()` fails on every answer ("invalid type: boolean `false`, expected a string").
/// The suite's `SpecList` reads the spec's envelope; the items are the client's own `Project`.
async fn list_projects(sdk: &Sdk, query: ListProjectsQuery) -> SpecList<Project> {
    sdk.admin()
        .projects()
        .query(&query)
        .unwrap()
        .list_byot()
        .await
        .expect("projects list")
}

#[tokio::test]
async fn projects_are_created_listed_read_renamed_and_archived() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let created = sdk
        .admin()
        .projects()
        // The client's builder insists on the optional `geography`, `external_key_id` and
        // `residency`; the struct is written out instead.
        .create(ProjectCreateRequest {
            name: "Mobile".into(),
            ..Default::default()
        })
        .await
        .expect("projects create");
    assert_eq!(created.object, "organization.project");
    assert!(created.id.starts_with("proj_"), "{created:?}");
    assert_eq!(created.name.as_deref(), Some("Mobile"));
    assert_eq!(created.status.as_deref(), Some("active"));
    assert_eq!(created.archived_at, None);
    assert!(created.created_at > 0);

    let got = sdk
        .admin()
        .projects()
        .retrieve(created.id.clone())
        .await
        .expect("projects retrieve");
    assert_eq!(got, created);

    let list = list_projects(&sdk, ListProjectsQuery::default()).await;
    assert_eq!(list.object, "list");
    assert!(!list.has_more);
    assert_eq!(
        list.ids(|p| &p.id),
        [s.default_project_id().as_str(), created.id.as_str()]
    );
    let page = list_projects(
        &sdk,
        ListProjectsQuery {
            limit: Some(1),
            ..Default::default()
        },
    )
    .await;
    assert!(page.has_more);
    assert_eq!(page.first_id, page.last_id);
    let rest = list_projects(
        &sdk,
        ListProjectsQuery {
            limit: Some(1),
            after: page.last_id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert!(!rest.has_more);
    assert_eq!(rest.ids(|p| &p.id), [created.id.as_str()]);

    let renamed = sdk
        .admin()
        .projects()
        .modify(
            created.id.clone(),
            ProjectUpdateRequestArgs::default()
                .name("Mobile apps")
                .build()
                .unwrap(),
        )
        .await
        .expect("projects modify");
    assert_eq!(renamed.name.as_deref(), Some("Mobile apps"));
    let reread = sdk
        .admin()
        .projects()
        .retrieve(created.id.clone())
        .await
        .unwrap();
    assert_eq!(reread.name.as_deref(), Some("Mobile apps"));

    let archived = sdk
        .admin()
        .projects()
        .archive(created.id.clone())
        .await
        .expect("projects archive");
    assert_eq!(archived.status.as_deref(), Some("archived"));
    assert!(archived.archived_at.is_some());
    let reread = sdk
        .admin()
        .projects()
        .retrieve(created.id.clone())
        .await
        .unwrap();
    assert_eq!(reread.status.as_deref(), Some("archived"));
    // Archived projects are listed only when asked for.
    let active = list_projects(&sdk, ListProjectsQuery::default()).await;
    assert_eq!(active.ids(|p| &p.id), [s.default_project_id().as_str()]);
    let all = list_projects(
        &sdk,
        ListProjectsQuery {
            include_archived: Some(true),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        all.ids(|p| &p.id),
        [s.default_project_id().as_str(), created.id.as_str()]
    );
    // An archived project is not renamed.
    let refused = refusal(
        sdk.admin()
            .projects()
            .modify(
                created.id.clone(),
                ProjectUpdateRequestArgs::default()
                    .name("Again")
                    .build()
                    .unwrap(),
            )
            .await,
    );
    assert_eq!(refused, (409, Some("project_archived".to_owned())));
    assert_not_found(
        sdk.admin()
            .projects()
            .retrieve("proj_000000000000000000000000".to_owned())
            .await,
    );
    s.stop().await;
}
