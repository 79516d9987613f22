//! `client.admin().audit_logs().get()`: the log newest first, walked with `after`, the page
//! before an event with `before`, `order=asc`, and the event type filter.

use async_openai::error::OpenAIError;
use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::audit_logs::{
    AuditLog, AuditLogActorApiKeyType, ListAuditLogsQuery, ListAuditLogsResponse,
};
use async_openai::types::admin::project_service_accounts::{
    ProjectServiceAccountCreateRequest, UpdateProjectServiceAccountBody,
};
use orgadmin_testkit::{TestServer, OWNER_EMAIL};
use serde_json::{Map, Value};

use crate::support::{client, Sdk, SpecList};

/// The event's `type` as the wire has it. (The client's `AuditLogEventType` is a closed enum
/// without `PartialEq`; it has all 145 values of the spec's `AuditLogEventType`, so every event
/// orgadmin writes deserializes, but a value it does not know fails the whole page, not the one
/// event.)
fn kind(event: &AuditLog) -> String {
    serde_json::to_value(&event.r#type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("an event type serializes as its name")
}

async fn page(sdk: &Sdk, pairs: &[(&str, &str)]) -> ListAuditLogsResponse {
    sdk.admin()
        .audit_logs()
        .query(pairs)
        .unwrap()
        .get()
        .await
        .expect("audit logs list")
}

/// Every event, following `after` from the newest, `limit` at a time.
async fn walk(sdk: &Sdk, limit: &str) -> Vec<AuditLog> {
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut pairs = vec![("limit", limit)];
        if let Some(cursor) = &after {
            pairs.push(("after", cursor.as_str()));
        }
        let page = page(sdk, &pairs).await;
        assert_eq!(page.object, "list");
        assert_eq!(
            page.last_id.as_deref(),
            page.data.last().map(|e| e.id.as_str())
        );
        let more = page.has_more;
        after = page.last_id.clone();
        events.extend(page.data);
        if !more {
            return events;
        }
    }
}

fn ids(events: &[AuditLog]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

#[tokio::test]
async fn the_log_reads_newest_first_and_pages_both_ways() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let project = s.create_project("Audited").await;
    let member = s.add_member("audited@example.com", "reader").await;
    sdk.admin()
        .users()
        .modify(
            &member,
            async_openai::types::admin::users::UserRoleUpdateRequestArgs::default()
                .role("owner")
                .build()
                .unwrap(),
        )
        .await
        .expect("the member made an owner");

    let walked = walk(&sdk, "2").await;
    assert!(walked.len() >= 5, "{walked:?}");
    let walked_ids = ids(&walked);
    let mut sorted = walked_ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(walked_ids, sorted, "IDs decrease, newest first, none twice");
    assert!(walked
        .windows(2)
        .all(|w| w[0].effective_at >= w[1].effective_at));

    // The newest event is the last change, read whole.
    let newest = &walked[0];
    assert_eq!(kind(newest), "user.updated");
    let updated = newest.user_updated.as_ref().expect("its details");
    assert_eq!(updated.id, member);
    assert_eq!(
        updated.changes_requested.as_ref().map(|c| c.role.as_str()),
        Some("owner")
    );
    let actor = newest.actor.as_ref().expect("an actor");
    assert_eq!(actor.r#type, "api_key");
    let key = actor.api_key.as_ref().expect("the acting key");
    assert_eq!(key.id, s.owner_key_id());
    assert!(matches!(key.r#type, AuditLogActorApiKeyType::User));
    let user = key.user.as_ref().expect("the key's user");
    assert_eq!(
        (user.id.as_str(), user.email.as_str()),
        (s.owner_id().as_str(), OWNER_EMAIL)
    );
    let created = walked
        .iter()
        .find(|e| kind(e) == "project.created")
        .expect("project.created is logged");
    let details = created.project_created.as_ref().unwrap();
    assert_eq!(details.id, project);
    assert_eq!(
        details.data.as_ref().map(|d| d.name.as_str()),
        Some("Audited")
    );
    let project_of = created.project.as_ref().expect("the event's project");
    assert_eq!(
        (project_of.id.as_str(), project_of.name.as_str()),
        (project.as_str(), "Audited")
    );
    let sent = walked
        .iter()
        .find(|e| kind(e) == "invite.sent")
        .expect("invite.sent is logged");
    let data = sent.invite_sent.as_ref().unwrap().data.as_ref().unwrap();
    assert_eq!(
        (data.email.as_str(), data.role.as_str()),
        ("audited@example.com", "reader")
    );
    for wanted in ["invite.accepted", "user.added"] {
        assert!(
            walked.iter().any(|e| kind(e) == wanted),
            "{wanted} is logged"
        );
    }

    // `before` gives the page just before an event in the list's order: the newer ones.
    let before = page(&sdk, &[("limit", "2"), ("before", walked_ids[4])]).await;
    assert_eq!(ids(&before.data), walked_ids[2..4]);
    assert!(before.has_more, "two newer events remain");
    let newest_two = page(&sdk, &[("limit", "2"), ("before", walked_ids[2])]).await;
    assert_eq!(ids(&newest_two.data), walked_ids[..2]);
    assert!(!newest_two.has_more);
    // `after` continues to older events.
    let older = page(&sdk, &[("limit", "2"), ("after", walked_ids[1])]).await;
    assert_eq!(ids(&older.data), walked_ids[2..4]);

    // `order=asc` (an orgadmin extension the client's query type lacks) reads oldest first.
    let oldest_first = page(&sdk, &[("order", "asc"), ("limit", "100")]).await;
    let mut reversed = walked_ids.clone();
    reversed.reverse();
    assert_eq!(ids(&oldest_first.data), reversed);
    s.stop().await;
}

#[tokio::test]
async fn the_log_is_filtered_by_event_type() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let archived = s.create_project("Old").await;
    let kept = s.create_project("Kept").await;
    sdk.admin()
        .projects()
        .archive(archived.clone())
        .await
        .expect("projects archive");

    // The client's own query type cannot say a list filter: `ListAuditLogsQuery.event_types` is
    // a `Vec<String>`, and the client serializes queries with serde_urlencoded, which has no form
    // for a sequence. The call fails in the client before any request is sent; the spec's form
    // (`event_types[]=…`, as the other official clients send it) goes in as query pairs.
    let admin = sdk.admin();
    let typed = admin.audit_logs().query(&ListAuditLogsQuery {
        event_types: Some(vec!["project.archived".into()]),
        ..Default::default()
    });
    assert!(
        matches!(typed, Err(OpenAIError::InvalidArgument(_))),
        "the typed filter query is refused in the client"
    );

    let only = page(&sdk, &[("event_types[]", "project.archived")]).await;
    let got: Vec<(String, &str)> = only
        .data
        .iter()
        .map(|e| (kind(e), e.project_archived.as_ref().unwrap().id.as_str()))
        .collect();
    assert_eq!(got, [("project.archived".to_owned(), archived.as_str())]);
    let two = page(
        &sdk,
        &[
            ("event_types[]", "project.archived"),
            ("event_types[]", "project.created"),
        ],
    )
    .await;
    let kinds: Vec<String> = two.data.iter().map(kind).collect();
    assert_eq!(
        kinds,
        ["project.archived", "project.created", "project.created"]
    );
    let created: Vec<&str> = two
        .data
        .iter()
        .filter_map(|e| e.project_created.as_ref().map(|d| d.id.as_str()))
        .collect();
    assert_eq!(created, [kept.as_str(), archived.as_str()]);
    s.stop().await;
}

/// An audit log entry as the spec has it: every detail object is open, none of its properties
/// required.
#[derive(Debug, serde::Deserialize)]
struct SpecAuditLog {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[tokio::test]
async fn an_event_the_clients_types_cannot_read_is_read_in_the_specs_shape() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let project = s.create_project("Bots").await;
    let admin = sdk.admin();
    let projects = admin.projects();
    let accounts = projects.service_accounts(&project);
    let account = accounts
        .create(ProjectServiceAccountCreateRequest {
            name: "Deployer".into(),
            ..Default::default()
        })
        .await
        .expect("service account");
    accounts
        .update(
            &account.id,
            UpdateProjectServiceAccountBody {
                name: Some("Deployer (prod)".into()),
                role: None,
            },
        )
        .await
        .expect("renamed");

    // The client is stricter than the spec here: its
    // `AuditLogServiceAccountUpdatedChangesRequested.role` is a required `String`, while in the
    // spec's `AuditLog`, `service_account.updated.changes_requested.role` is optional (no
    // property of it is required). A rename alone requests no role change, so orgadmin logs
    // `changes_requested: {"name": …}`, and the typed `get()` fails on any page holding it (the
    // same holds for `user.updated` without `role`, and for `AuditLogProject.name`, required in
    // the client, optional in the spec).
    let typed = sdk
        .admin()
        .audit_logs()
        .query(&[("event_types[]", "service_account.updated")])
        .unwrap()
        .get()
        .await;
    assert!(
        matches!(typed, Err(OpenAIError::JSONDeserialize(..))),
        "the typed list cannot read a rename: {typed:?}"
    );
    let list: SpecList<SpecAuditLog> = sdk
        .admin()
        .audit_logs()
        .query(&[("event_types[]", "service_account.updated")])
        .unwrap()
        .get_byot()
        .await
        .expect("the spec's shape reads it");
    assert_eq!(list.data.len(), 1);
    let event = &list.data[0];
    assert!(event.id.starts_with("audit_log-"));
    assert_eq!(event.kind, "service_account.updated");
    assert_eq!(
        event.rest["service_account.updated"],
        serde_json::json!({"id": account.id, "changes_requested": {"name": "Deployer (prod)"}})
    );
    assert_eq!(event.rest["project"]["id"], project.as_str());
    s.stop().await;
}
