//! What a project may use, over HTTP against a real server on a fresh database: model
//! permissions (the default, replacing, deleting, the catalogue's models only), hosted tools
//! (only the named ones change), rate limits (the catalogue's order and limits, paging both ways,
//! overrides within the organization's limits), bad input of every kind, archived projects,
//! permissions, audit events, and a catalogue given to the server (`--models`) replacing the
//! shipped one while stored overrides stay within it.

use std::sync::Arc;

use orgadmin_core::catalogue::ModelCatalogue;
use orgadmin_core::clock::OffsetClock;
use orgadmin_testkit::{
    assert_error, assert_error_says, assert_insufficient, ids, ok, owner_key, str_of, TestDatabase,
    TestServer,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn models_path(project: &str) -> String {
    format!("/v1/organization/projects/{project}/model_permissions")
}

fn tools_path(project: &str) -> String {
    format!("/v1/organization/projects/{project}/hosted_tool_permissions")
}

fn limits_path(project: &str) -> String {
    format!("/v1/organization/projects/{project}/rate_limits")
}

fn limit_path(project: &str, id: &str) -> String {
    format!("/v1/organization/projects/{project}/rate_limits/{id}")
}

/// The value under the key named like the event's type.
fn details(event: &Value) -> &Value {
    &event[event["type"].as_str().expect("an event has a type")]
}

fn all_tools(enabled: bool) -> Value {
    json!({
        "file_search": {"enabled": enabled},
        "web_search": {"enabled": enabled},
        "image_generation": {"enabled": enabled},
        "mcp": {"enabled": enabled},
        "code_interpreter": {"enabled": enabled},
    })
}

/// Every rate limit of `project`, walking pages of `limit` after `last_id`.
async fn every_rate_limit(s: &TestServer, project: &str, limit: u32) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .as_ref()
            .map_or(String::new(), |a| format!("&after={a}"));
        let page = ok(s
            .get(&format!("{}?limit={limit}{cursor}", limits_path(project)))
            .await);
        let data = page["data"].as_array().unwrap().clone();
        assert!(data.len() <= limit as usize);
        out.extend(data);
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = Some(str_of(&page["last_id"]));
    }
    out
}

#[tokio::test]
async fn a_project_without_policies_denies_nothing_enables_every_tool_and_has_the_organizations_limits(
) {
    let s = TestServer::start().await;
    let project = s.create_project("Fresh").await;
    assert_eq!(
        ok(s.get(&models_path(&project)).await),
        json!({"object": "project.model_permissions", "mode": "deny_list", "model_ids": []})
    );
    assert_eq!(ok(s.get(&tools_path(&project)).await), all_tools(true));

    let catalogue = ModelCatalogue::builtin();
    let list = ok(s.get(&limits_path(&project)).await);
    assert_eq!(list["object"], "list");
    assert_eq!(list["has_more"], false);
    let data = list["data"].as_array().unwrap();
    assert_eq!(
        data.len(),
        catalogue.len(),
        "the default limit of 100 holds them all"
    );
    for (entry, model) in data.iter().zip(catalogue.models()) {
        assert_eq!(entry["object"], "project.rate_limit");
        assert_eq!(entry["id"], format!("rl-{}", model.id));
        assert_eq!(entry["model"], model.id.as_str());
        let fields: Vec<&String> = entry.as_object().unwrap().keys().collect();
        let mut expected = vec!["id", "model", "object"];
        for (field, value) in model.limits.iter() {
            assert_eq!(entry[field.name()], json!(value), "{entry}");
            expected.push(field.name());
        }
        expected.sort();
        let mut fields: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
        fields.sort();
        assert_eq!(fields, expected, "only the fields the model has: {entry}");
    }
    assert_eq!(list["first_id"], data[0]["id"]);
    assert_eq!(list["last_id"], data[data.len() - 1]["id"]);
    let image = data.iter().find(|e| e["model"] == "gpt-image-1").unwrap();
    assert!(image["max_images_per_1_minute"].as_i64().unwrap() > 0);
    assert!(image.get("max_audio_megabytes_per_1_minute").is_none());
    let whisper = data.iter().find(|e| e["model"] == "whisper-1").unwrap();
    assert!(
        whisper["max_audio_megabytes_per_1_minute"]
            .as_i64()
            .unwrap()
            > 0
    );
    s.stop().await;
}

// --- model permissions ---------------------------------------------------------------------------

#[tokio::test]
async fn model_permissions_are_replaced_whole_kept_once_each_and_deleted_back_to_nothing_denied() {
    let s = TestServer::start().await;
    let project = s.create_project("Models").await;
    let other = s.create_project("Untouched").await;
    let set = ok(s
        .post(
            &models_path(&project),
            json!({"mode": "allow_list", "model_ids": ["o3", "gpt-4.1", "o3", "gpt-4.1-mini"]}),
        )
        .await);
    assert_eq!(
        set,
        json!({"object": "project.model_permissions", "mode": "allow_list", "model_ids": ["o3", "gpt-4.1", "gpt-4.1-mini"]})
    );
    assert_eq!(ok(s.get(&models_path(&project)).await), set);
    // Another project keeps its own (none).
    assert_eq!(
        ok(s.get(&models_path(&other)).await)["model_ids"],
        json!([])
    );

    let replaced = ok(s
        .post(
            &models_path(&project),
            json!({"mode": "deny_list", "model_ids": ["dall-e-2"]}),
        )
        .await);
    assert_eq!(replaced["mode"], "deny_list");
    assert_eq!(replaced["model_ids"], json!(["dall-e-2"]));
    // An empty allow list allows nothing, and is kept as given.
    let nothing = ok(s
        .post(
            &models_path(&project),
            json!({"mode": "allow_list", "model_ids": []}),
        )
        .await);
    assert_eq!(nothing["model_ids"], json!([]));
    assert_eq!(
        ok(s.get(&models_path(&project)).await)["mode"],
        "allow_list"
    );

    let deleted = ok(s.delete(&models_path(&project)).await);
    assert_eq!(
        deleted,
        json!({"object": "project.model_permissions.deleted", "deleted": true})
    );
    assert_eq!(
        ok(s.get(&models_path(&project)).await),
        json!({"object": "project.model_permissions", "mode": "deny_list", "model_ids": []})
    );
    // Deleting none answers the same, and writes no event.
    assert_eq!(ok(s.delete(&models_path(&project)).await), deleted);

    let events = s
        .audit(&format!(
            "event_types[]=project.updated&resource_ids[]={project}"
        ))
        .await;
    let shown: Vec<Value> = events.iter().map(|e| details(e).clone()).collect();
    assert_eq!(
        shown,
        vec![
            json!({"id": project, "changes_requested": {"model_permissions": null}}),
            json!({"id": project, "changes_requested": {"model_permissions": {"mode": "allow_list", "model_ids": []}}}),
            json!({"id": project, "changes_requested": {"model_permissions": {"mode": "deny_list", "model_ids": ["dall-e-2"]}}}),
            json!({"id": project, "changes_requested": {"model_permissions": {"mode": "allow_list", "model_ids": ["o3", "gpt-4.1", "gpt-4.1-mini"]}}}),
        ],
        "newest first"
    );
    for event in &events {
        assert_eq!(event["project"]["id"], project.as_str());
        assert_eq!(event["actor"]["api_key"]["id"], s.owner_key_id());
    }
    s.stop().await;
}

#[tokio::test]
async fn model_permissions_refuse_what_is_not_a_policy_of_catalogue_models() {
    let s = TestServer::start().await;
    let project = s.create_project("Bad models").await;
    let path = models_path(&project);
    let missing = [
        (json!({"model_ids": ["o3"]}), "mode"),
        (json!({"mode": null, "model_ids": ["o3"]}), "mode"),
        (json!({"mode": "allow_list"}), "model_ids"),
        (json!({}), "mode"),
    ];
    for (body, param) in missing {
        assert_error(
            &s.post(&path, body).await,
            StatusCode::BAD_REQUEST,
            "missing_required_parameter",
            Some(param),
        );
    }
    let invalid = [
        (json!({"mode": "allowlist", "model_ids": []}), "mode"),
        (json!({"mode": "ALLOW_LIST", "model_ids": []}), "mode"),
        (json!({"mode": 1, "model_ids": []}), "mode"),
        (
            json!({"mode": "allow_list", "model_ids": "o3"}),
            "model_ids",
        ),
        (
            json!({"mode": "allow_list", "model_ids": [3]}),
            "model_ids[0]",
        ),
        (
            json!({"mode": "allow_list", "model_ids": ["o3", null]}),
            "model_ids[1]",
        ),
        (
            json!({"mode": "allow_list", "model_ids": ["O3"]}),
            "model_ids",
        ),
        (
            json!({"mode": "allow_list", "model_ids": ["rl-o3"]}),
            "model_ids",
        ),
    ];
    for (body, param) in invalid {
        assert_error(
            &s.post(&path, body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some(param),
        );
    }
    assert_error_says(
        &s.post(
            &path,
            json!({"mode": "deny_list", "model_ids": ["o3", "gpt-9", "ada", "gpt-9"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("model_ids"),
        "Not models of this server's catalogue: 'gpt-9', 'ada'. The catalogue's models are the ones a project's rate limits are listed for.",
    );
    // Many unknown ones are counted, not all repeated.
    let many: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let (_, body) = s
        .post(&path, json!({"mode": "deny_list", "model_ids": many}))
        .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("and 40 more"),
        "{body}"
    );
    assert_error(
        &s.post(
            &models_path("proj_doesnotexist"),
            json!({"mode": "deny_list", "model_ids": []}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("project_id"),
    );
    // Nothing was stored or logged.
    assert_eq!(ok(s.get(&path).await)["model_ids"], json!([]));
    assert!(s
        .audit(&format!(
            "event_types[]=project.updated&resource_ids[]={project}"
        ))
        .await
        .is_empty());
    s.stop().await;
}

// --- hosted tools --------------------------------------------------------------------------------

#[tokio::test]
async fn hosted_tools_change_only_the_tools_named_and_answer_all_of_them() {
    let s = TestServer::start().await;
    let project = s.create_project("Tools").await;
    let changed = ok(s
        .post(
            &tools_path(&project),
            json!({"image_generation": {"enabled": false}, "mcp": {"enabled": false}, "file_search": null}),
        )
        .await);
    let mut expected = all_tools(true);
    expected["image_generation"]["enabled"] = json!(false);
    expected["mcp"]["enabled"] = json!(false);
    assert_eq!(changed, expected);
    assert_eq!(ok(s.get(&tools_path(&project)).await), expected);
    // Enabled again; the other stays off.
    let again = ok(s
        .post(&tools_path(&project), json!({"mcp": {"enabled": true}}))
        .await);
    expected["mcp"]["enabled"] = json!(true);
    assert_eq!(again, expected);
    // Nothing named: nothing changes and nothing is logged.
    assert_eq!(ok(s.post(&tools_path(&project), json!({})).await), expected);
    assert_eq!(
        ok(s.post(&tools_path(&project), json!({"web_search": null}))
            .await),
        expected
    );
    let other = s.create_project("Other tools").await;
    assert_eq!(ok(s.get(&tools_path(&other)).await), all_tools(true));

    let events = s
        .audit(&format!(
            "event_types[]=project.updated&resource_ids[]={project}"
        ))
        .await;
    let shown: Vec<Value> = events.iter().map(|e| details(e).clone()).collect();
    assert_eq!(
        shown,
        vec![
            json!({"id": project, "changes_requested": {"hosted_tool_permissions": {"mcp": {"enabled": true}}}}),
            json!({"id": project, "changes_requested": {"hosted_tool_permissions": {
                "image_generation": {"enabled": false}, "mcp": {"enabled": false}}}}),
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn hosted_tools_refuse_unknown_tools_and_a_tool_without_enabled() {
    let s = TestServer::start().await;
    let project = s.create_project("Bad tools").await;
    let path = tools_path(&project);
    assert_error_says(
        &s.post(&path, json!({"browser": {"enabled": true}})).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("browser"),
        "'browser' is not a hosted tool; use file_search, web_search, image_generation, mcp, code_interpreter.",
    );
    assert_error(
        &s.post(
            &path,
            json!({"mcp": {"enabled": false}, "File_Search": {"enabled": false}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("File_Search"),
    );
    assert_error(
        &s.post(&path, json!({"mcp": {}})).await,
        StatusCode::BAD_REQUEST,
        "missing_required_parameter",
        Some("mcp.enabled"),
    );
    assert_error(
        &s.post(&path, json!({"mcp": {"enabled": null}})).await,
        StatusCode::BAD_REQUEST,
        "missing_required_parameter",
        Some("mcp.enabled"),
    );
    for (body, param) in [
        (json!({"mcp": true}), "mcp"),
        (json!({"mcp": "off"}), "mcp"),
        (json!({"mcp": {"enabled": "false"}}), "mcp.enabled"),
        (json!({"mcp": {"enabled": 0}}), "mcp.enabled"),
    ] {
        assert_error(
            &s.post(&path, body).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some(param),
        );
    }
    // A refused body changes nothing, not even the valid tools in it.
    assert_eq!(ok(s.get(&path).await), all_tools(true));
    s.stop().await;
}

// --- rate limits ---------------------------------------------------------------------------------

#[tokio::test]
async fn rate_limits_page_in_catalogue_order_both_ways_with_an_exact_has_more() {
    let s = TestServer::start().await;
    let project = s.create_project("Pages").await;
    let all: Vec<String> = ModelCatalogue::builtin()
        .models()
        .iter()
        .map(|m| format!("rl-{}", m.id))
        .collect();
    for limit in [1, 4, 7, all.len() as u32, 100] {
        let walked: Vec<String> = every_rate_limit(&s, &project, limit)
            .await
            .iter()
            .map(|e| str_of(&e["id"]))
            .collect();
        assert_eq!(walked, all, "limit {limit}");
    }
    let path = limits_path(&project);
    let page = ok(s.get(&format!("{path}?limit=3&after={}", all[2])).await);
    assert_eq!(ids(&page), all[3..6].to_vec());
    assert_eq!(page["first_id"], all[3].as_str());
    assert_eq!(page["last_id"], all[5].as_str());
    assert_eq!(page["has_more"], true);
    // `before` gives the page just before, and says whether more come before it.
    let back = ok(s.get(&format!("{path}?limit=3&before={}", all[3])).await);
    assert_eq!(ids(&back), all[..3].to_vec());
    assert_eq!(back["has_more"], false);
    let back = ok(s.get(&format!("{path}?limit=2&before={}", all[3])).await);
    assert_eq!(ids(&back), all[1..3].to_vec());
    assert_eq!(back["has_more"], true);
    // Past either end: an empty page with null cursors.
    let end = ok(s.get(&format!("{path}?after={}", all[all.len() - 1])).await);
    assert_eq!(
        end,
        json!({"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false})
    );
    let start = ok(s.get(&format!("{path}?before={}", all[0])).await);
    assert_eq!(start["data"], json!([]));
    assert_eq!(start["has_more"], false);

    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("after=rl-nothing", "after"),
        ("after=gpt-4o", "after"),
        ("before=rl-", "before"),
        ("after=rl-o3&before=rl-o3", "before"),
        ("after=rl-o3&after=rl-gpt-4o", "after"),
    ] {
        assert_error(
            &s.get(&format!("{path}?{query}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some(param),
        );
    }
    assert_error(
        &s.get(&limits_path("proj_doesnotexist")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("project_id"),
    );
    s.stop().await;
}

#[tokio::test]
async fn a_rate_limit_update_lowers_the_given_limits_within_the_organizations_and_is_audited() {
    let s = TestServer::start().await;
    let project = s.create_project("Limits").await;
    let other = s.create_project("Other limits").await;
    let catalogue = ModelCatalogue::builtin();
    let gpt4o = catalogue.get("gpt-4o").unwrap();
    let org_rpm = gpt4o.limits.iter().next().unwrap().1;

    let updated = ok(s
        .post(
            &limit_path(&project, "rl-gpt-4o"),
            json!({"max_requests_per_1_minute": 500}),
        )
        .await);
    assert_eq!(updated["object"], "project.rate_limit");
    assert_eq!(updated["id"], "rl-gpt-4o");
    assert_eq!(updated["model"], "gpt-4o");
    assert_eq!(updated["max_requests_per_1_minute"], 500);
    let org_tpm = gpt4o
        .limits
        .get(orgadmin_core::catalogue::LimitField::TokensPerMinute)
        .unwrap();
    assert_eq!(updated["max_tokens_per_1_minute"], org_tpm, "unchanged");
    // A second change keeps the first; a whole number written as a float is accepted.
    let both = ok(s
        .post(
            &limit_path(&project, "rl-gpt-4o"),
            json!({"max_tokens_per_1_minute": 1000.0, "batch_1_day_max_input_tokens": 7}),
        )
        .await);
    assert_eq!(both["max_requests_per_1_minute"], 500);
    assert_eq!(both["max_tokens_per_1_minute"], 1000);
    assert_eq!(both["batch_1_day_max_input_tokens"], 7);
    let listed = every_rate_limit(&s, &project, 100).await;
    assert_eq!(
        listed.iter().find(|e| e["id"] == "rl-gpt-4o").unwrap(),
        &both
    );
    // Other models and other projects keep the organization's limits.
    let others = every_rate_limit(&s, &other, 100).await;
    let untouched = others.iter().find(|e| e["id"] == "rl-gpt-4o").unwrap();
    assert_eq!(untouched["max_requests_per_1_minute"], org_rpm);
    // Back up to the organization's limit, exactly.
    let back = ok(s
        .post(
            &limit_path(&project, "rl-gpt-4o"),
            json!({"max_requests_per_1_minute": org_rpm}),
        )
        .await);
    assert_eq!(back["max_requests_per_1_minute"], org_rpm);
    // An image model's own field.
    let image = ok(s
        .post(
            &limit_path(&project, "rl-gpt-image-1"),
            json!({"max_images_per_1_minute": 5}),
        )
        .await);
    assert_eq!(image["max_images_per_1_minute"], 5);

    let events = s
        .audit("event_types[]=rate_limit.updated&resource_ids[]=rl-gpt-4o")
        .await;
    let shown: Vec<Value> = events.iter().map(|e| details(e).clone()).collect();
    assert_eq!(
        shown,
        vec![
            json!({"id": "rl-gpt-4o", "changes_requested": {"max_requests_per_1_minute": org_rpm}}),
            json!({"id": "rl-gpt-4o", "changes_requested": {"max_tokens_per_1_minute": 1000, "batch_1_day_max_input_tokens": 7}}),
            json!({"id": "rl-gpt-4o", "changes_requested": {"max_requests_per_1_minute": 500}}),
        ]
    );
    for event in &events {
        assert_eq!(event["project"]["id"], project.as_str(), "{event}");
        assert_eq!(event["actor"]["api_key"]["id"], s.owner_key_id());
    }
    s.stop().await;
}

#[tokio::test]
async fn rate_limit_updates_refuse_what_the_model_or_the_organization_does_not_allow() {
    let s = TestServer::start().await;
    let project = s.create_project("Bad limits").await;
    let path = limit_path(&project, "rl-gpt-4o");
    let ceiling = ModelCatalogue::builtin()
        .get("gpt-4o")
        .unwrap()
        .limits
        .iter()
        .next()
        .unwrap()
        .1;
    assert_error_says(
        &s.post(&path, json!({"max_requests_per_1_minute": ceiling + 1}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("max_requests_per_1_minute"),
        &format!("max_requests_per_1_minute must be from 1 to {ceiling}, the organization's limit for gpt-4o; not {}.", ceiling + 1),
    );
    assert_error_says(
        &s.post(&path, json!({"max_images_per_1_minute": 1})).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("max_images_per_1_minute"),
        "Model gpt-4o has no max_images_per_1_minute; its limits are max_requests_per_1_minute, max_tokens_per_1_minute, batch_1_day_max_input_tokens.",
    );
    for (body, param) in [
        (
            json!({"max_requests_per_1_minute": 0}),
            "max_requests_per_1_minute",
        ),
        (
            json!({"max_requests_per_1_minute": -5}),
            "max_requests_per_1_minute",
        ),
        (
            json!({"max_requests_per_1_minute": 1.5}),
            "max_requests_per_1_minute",
        ),
        (
            json!({"max_requests_per_1_minute": "100"}),
            "max_requests_per_1_minute",
        ),
        (
            json!({"max_requests_per_1_minute": null}),
            "max_requests_per_1_minute",
        ),
        (
            json!({"max_requests_per_1_minute": 1e300}),
            "max_requests_per_1_minute",
        ),
        (
            json!({"max_tokens_per_1_minute": [1]}),
            "max_tokens_per_1_minute",
        ),
        (
            json!({"max_requests_per_1_minute": 10, "max_request_per_1_minute": 10}),
            "max_request_per_1_minute",
        ),
        (json!({"model": "o3"}), "model"),
    ] {
        assert_error(
            &s.post(&path, body).await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some(param),
        );
    }
    for body in [json!({}), Value::Null] {
        let answer = if body.is_null() {
            // No body at all reads as `{}`.
            s.send(
                reqwest::Method::POST,
                &path,
                Some(&format!("Bearer {}", s.owner_key)),
                None,
            )
            .await
        } else {
            s.post(&path, body).await
        };
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "missing_required_parameter",
            Some("max_requests_per_1_minute"),
        );
    }
    for id in ["rl-gpt-9", "gpt-4o", "rl_gpt-4o", "rl-", "RL-gpt-4o"] {
        assert_error(
            &s.post(
                &limit_path(&project, id),
                json!({"max_requests_per_1_minute": 1}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("rate_limit_id"),
        );
    }
    // An unknown project is named before the rate limit it would hold.
    for id in ["rl-gpt-4o", "rl-gpt-9"] {
        assert_error(
            &s.post(
                &limit_path("proj_doesnotexist", id),
                json!({"max_requests_per_1_minute": 1}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("project_id"),
        );
    }
    // Nothing was stored or logged.
    let listed = every_rate_limit(&s, &project, 100).await;
    let entry = listed.iter().find(|e| e["id"] == "rl-gpt-4o").unwrap();
    assert_eq!(entry["max_requests_per_1_minute"], ceiling);
    assert!(s.audit("event_types[]=rate_limit.updated").await.is_empty());
    s.stop().await;
}

// --- archived projects, permissions --------------------------------------------------------------

#[tokio::test]
async fn an_archived_project_keeps_its_policies_readable_and_refuses_changing_them() {
    let s = TestServer::start().await;
    let project = s.create_project("Archive me").await;
    ok(s.post(
        &models_path(&project),
        json!({"mode": "allow_list", "model_ids": ["o3"]}),
    )
    .await);
    ok(s.post(
        &limit_path(&project, "rl-o3"),
        json!({"max_requests_per_1_minute": 9}),
    )
    .await);
    ok(s.post(
        &format!("/v1/organization/projects/{project}/archive"),
        json!({}),
    )
    .await);
    let refused = [
        s.post(
            &models_path(&project),
            json!({"mode": "deny_list", "model_ids": []}),
        )
        .await,
        s.delete(&models_path(&project)).await,
        s.post(&tools_path(&project), json!({"mcp": {"enabled": false}}))
            .await,
        s.post(&tools_path(&project), json!({})).await,
        s.post(
            &limit_path(&project, "rl-o3"),
            json!({"max_requests_per_1_minute": 8}),
        )
        .await,
    ];
    for answer in &refused {
        assert_error(
            answer,
            StatusCode::CONFLICT,
            "project_archived",
            Some("project_id"),
        );
    }
    assert_eq!(
        ok(s.get(&models_path(&project)).await)["model_ids"],
        json!(["o3"])
    );
    assert_eq!(ok(s.get(&tools_path(&project)).await), all_tools(true));
    let listed = every_rate_limit(&s, &project, 100).await;
    assert_eq!(
        listed.iter().find(|e| e["id"] == "rl-o3").unwrap()["max_requests_per_1_minute"],
        9
    );
    s.stop().await;
}

#[tokio::test]
async fn project_readers_read_policies_and_only_organization_project_writers_change_them() {
    let s = TestServer::start_persistent().await;
    let project = s.default_project_id();
    let elsewhere = s.create_project("Not theirs").await;

    // A key limited to reading projects it is in: reads in the project, refused elsewhere.
    let (_, in_project) = s
        .create_key(json!({"name": "project reader", "scopes": ["api.project.read"]}))
        .await;
    for path in [
        models_path(&project),
        tools_path(&project),
        limits_path(&project),
    ] {
        ok(s.get_as(&in_project, &path).await);
    }
    for path in [
        models_path(&elsewhere),
        tools_path(&elsewhere),
        limits_path(&elsewhere),
    ] {
        assert_eq!(
            assert_insufficient(
                &s.get_as(&in_project, &path).await,
                "api.organization.projects.read"
            ),
            "'api.project.read' held in project proj_… would allow this request too."
        );
    }
    // Changes need the organization permission, also in the key's own project: the real API's
    // 401 naming the missing scope.
    let writes = [
        s.post_as(
            &in_project,
            &models_path(&project),
            json!({"mode": "deny_list", "model_ids": ["o3"]}),
        )
        .await,
        s.delete_as(&in_project, &models_path(&project)).await,
        s.post_as(
            &in_project,
            &tools_path(&project),
            json!({"mcp": {"enabled": false}}),
        )
        .await,
        s.post_as(
            &in_project,
            &limit_path(&project, "rl-o3"),
            json!({"max_requests_per_1_minute": 1}),
        )
        .await,
    ];
    for answer in &writes {
        assert_eq!(
            assert_insufficient(answer, "api.organization.projects.write"),
            ""
        );
    }
    // An organization reader reads every project's policies and changes none.
    let reader = s.add_member("reader@example.com", "reader").await;
    let reader_key = s.key_for(&reader).await;
    ok(s.get_as(&reader_key, &limits_path(&elsewhere)).await);
    assert_insufficient(
        &s.post_as(&reader_key, &tools_path(&elsewhere), json!({}))
            .await,
        "api.organization.projects.write",
    );
    // Nothing changed.
    assert_eq!(
        ok(s.get(&models_path(&project)).await)["model_ids"],
        json!([])
    );
    assert_eq!(ok(s.get(&tools_path(&project)).await), all_tools(true));
    s.stop().await;
}

// --- the catalogue is configuration --------------------------------------------------------------

#[tokio::test]
async fn a_catalogue_given_to_the_server_replaces_the_shipped_one_and_caps_stored_limits() {
    let database = TestDatabase::persistent().await;
    let clock = Arc::new(OffsetClock::default());
    let s = TestServer::start_on(database.url(), Some(&owner_key()), clock.clone()).await;
    let project = s.create_project("Catalogue").await;
    ok(s.post(
        &limit_path(&project, "rl-gpt-4o"),
        json!({"max_requests_per_1_minute": 500, "max_tokens_per_1_minute": 900}),
    )
    .await);
    ok(s.post(
        &models_path(&project),
        json!({"mode": "deny_list", "model_ids": ["gpt-4o", "o3"]}),
    )
    .await);
    s.stop().await;

    // Restarted with a catalogue of two models, gpt-4o's organization limit below the stored one.
    let models = ModelCatalogue::parse(
        r#"{"models": [
            {"id": "in-house-1", "max_requests_per_1_minute": 50, "max_tokens_per_1_minute": 5000, "max_requests_per_1_day": 1000},
            {"id": "gpt-4o", "max_requests_per_1_minute": 100, "max_tokens_per_1_minute": 100000}
        ]}"#,
        "test.json",
    )
    .unwrap();
    let s = TestServer::start_on_with(database.url(), Some(&owner_key()), clock, |c| {
        c.models = Arc::new(models);
    })
    .await;
    let list = ok(s.get(&limits_path(&project)).await);
    assert_eq!(ids(&list), vec!["rl-in-house-1", "rl-gpt-4o"]);
    let data = list["data"].as_array().unwrap();
    assert_eq!(data[0]["max_requests_per_1_day"], 1000);
    assert_eq!(
        data[1]["max_requests_per_1_minute"], 100,
        "never above the organization's limit"
    );
    assert_eq!(
        data[1]["max_tokens_per_1_minute"], 900,
        "the stored one, below it"
    );
    // A stored policy is answered as it was set.
    assert_eq!(
        ok(s.get(&models_path(&project)).await)["model_ids"],
        json!(["gpt-4o", "o3"])
    );
    // New changes name the new catalogue's models only.
    assert_error(
        &s.post(
            &models_path(&project),
            json!({"mode": "allow_list", "model_ids": ["in-house-1", "o3"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("model_ids"),
    );
    ok(s.post(
        &models_path(&project),
        json!({"mode": "allow_list", "model_ids": ["in-house-1"]}),
    )
    .await);
    assert_error(
        &s.post(
            &limit_path(&project, "rl-o3"),
            json!({"max_requests_per_1_minute": 1}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("rate_limit_id"),
    );
    assert_error(
        &s.post(
            &limit_path(&project, "rl-gpt-4o"),
            json!({"max_requests_per_1_minute": 101}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("max_requests_per_1_minute"),
    );
    s.stop().await;
}
