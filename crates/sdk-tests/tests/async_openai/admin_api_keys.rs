//! `client.admin().api_keys()`: create, list (with paging), retrieve, delete; a new key acts.

use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::admin::api_keys::{CreateAdminApiKeyRequestArgs, ListAdminApiKeysQuery};
use orgadmin_testkit::{TestServer, OWNER_EMAIL};

use crate::support::{assert_not_found, client, client_as, refusal};

// The client's `AdminApiKeyOwner` makes all six of `type`, `object`, `id`, `name`, `created_at`
// and `role` required, where the spec's `AdminApiKey.owner` requires none of them: a server that
// leaves one out (as the spec allows) fails the typed calls. orgadmin sends all six, so the typed
// calls are used here, and the test reads each one.

#[tokio::test]
async fn admin_keys_are_created_listed_read_and_deleted() {
    let s = TestServer::start().await;
    let sdk = client(&s);
    let admin = sdk.admin();
    let keys = admin.api_keys();

    let created = keys
        .create(
            CreateAdminApiKeyRequestArgs::default()
                .name("Automation")
                .expires_in_seconds(86_400u32)
                .build()
                .unwrap(),
        )
        .await
        .expect("admin api keys create");
    assert_eq!(created.object, "organization.admin_api_key");
    assert!(created.id.starts_with("key_"), "{created:?}");
    assert_eq!(created.name.as_deref(), Some("Automation"));
    assert!(created.value.starts_with("sk-admin-"), "{created:?}");
    assert!(created
        .redacted_value
        .ends_with(&created.value[created.value.len() - 4..]));
    assert_eq!(created.last_used_at, None);
    assert!(created
        .expires_at
        .is_some_and(|t| t >= created.created_at + 86_400));
    let owner = &created.owner;
    assert_eq!(
        (
            owner.r#type.as_str(),
            owner.object.as_str(),
            owner.id.as_str(),
            owner.role.as_str()
        ),
        ("user", "organization.user", s.owner_id().as_str(), "owner")
    );
    assert!(!owner.name.is_empty() && owner.created_at > 0, "{owner:?}");

    // The new key acts, and that use is on its record.
    let as_new = client_as(&s, &created.value);
    let me = as_new
        .admin()
        .users()
        .list()
        .await
        .expect("the new key acts");
    assert!(me
        .data
        .iter()
        .any(|u| u.email.as_deref() == Some(OWNER_EMAIL)));
    let got = keys
        .retrieve(&created.id)
        .await
        .expect("admin api keys retrieve");
    assert_eq!(got.id, created.id);
    assert_eq!(got.redacted_value, created.redacted_value);
    assert_eq!(got.owner, created.owner);
    assert!(got.last_used_at.is_some(), "{got:?}");

    let list = keys.list().await.expect("admin api keys list");
    assert_eq!(list.object, "list");
    assert!(!list.has_more);
    let ids: Vec<&str> = list.data.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, [s.owner_key_id().as_str(), created.id.as_str()]);
    let page = sdk
        .admin()
        .api_keys()
        .query(&ListAdminApiKeysQuery {
            limit: Some(1),
            ..Default::default()
        })
        .unwrap()
        .list()
        .await
        .expect("one page");
    assert!(page.has_more);
    assert_eq!(page.data[0].id, s.owner_key_id());

    let deleted = keys
        .delete(&created.id)
        .await
        .expect("admin api keys delete");
    assert_eq!(
        (
            deleted.object.as_str(),
            deleted.id.as_str(),
            deleted.deleted
        ),
        (
            "organization.admin_api_key.deleted",
            created.id.as_str(),
            true
        )
    );
    assert_not_found(keys.retrieve(&created.id).await);
    let left = keys.list().await.unwrap();
    assert_eq!(left.data.len(), 1);
    // A deleted key acts no more.
    assert_eq!(
        refusal(as_new.admin().users().list().await),
        (401, Some("invalid_api_key".to_owned()))
    );
    s.stop().await;
}
