//! The audit log's order and paging (SPEC §4): newest first as the real API's is, `after`
//! continuing to older events, `before` the page just before an event in the list's order,
//! `order=asc` (an extension) oldest first with both cursors relative to it, `has_more` exact at
//! both ends, and the filters the same in both orders. The walk under concurrent writers is in
//! `concurrency.rs`; the order across processes in the binary's `tests/audit_order.rs`.

use orgadmin_testkit::{assert_error_says, ids, ok, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A server whose log holds 13 events at least: the projects `p0`…`p8` created, and `p0`…`p3`
/// renamed. Returns the server and the created projects, oldest first.
async fn with_history() -> (TestServer, Vec<String>) {
    let s = TestServer::start().await;
    let mut projects = Vec::new();
    for n in 0..9 {
        projects.push(s.create_project(&format!("p{n}")).await);
    }
    for (n, project) in projects.iter().take(4).enumerate() {
        ok(s.post(
            &format!("/v1/organization/projects/{project}"),
            json!({ "name": format!("renamed p{n}") }),
        )
        .await);
    }
    (s, projects)
}

async fn page(s: &TestServer, query: &str) -> Value {
    ok(s.get(&format!("/v1/organization/audit_logs?{query}")).await)
}

/// `data`'s IDs, after checking that `first_id` and `last_id` are its ends.
#[track_caller]
fn checked_ids(page: &Value) -> Vec<String> {
    let data = ids(page);
    assert_eq!(
        page["first_id"].as_str(),
        data.first().map(String::as_str),
        "{page}"
    );
    assert_eq!(
        page["last_id"].as_str(),
        data.last().map(String::as_str),
        "{page}"
    );
    data
}

fn has_more(page: &Value) -> bool {
    page["has_more"].as_bool().expect("has_more")
}

#[tokio::test]
async fn the_log_is_newest_first_and_order_asc_lists_it_oldest_first() {
    let (s, projects) = with_history().await;
    let all = page(&s, "limit=100").await;
    let newest_first = checked_ids(&all);
    assert!(!has_more(&all));
    assert!(newest_first.len() >= 13);
    assert!(
        newest_first.windows(2).all(|two| two[0] > two[1]),
        "IDs strictly decrease: {newest_first:?}"
    );
    let data = all["data"].as_array().unwrap();
    let times: Vec<i64> = data
        .iter()
        .map(|e| e["effective_at"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|two| two[0] >= two[1]), "{times:?}");
    // The newest event is the last change made: the rename of p3.
    assert_eq!(data[0]["type"], "project.updated");
    assert_eq!(data[0]["project.updated"]["id"], json!(projects[3]));

    let asc = page(&s, "limit=100&order=asc").await;
    let mut oldest_first = checked_ids(&asc);
    assert!(!has_more(&asc));
    oldest_first.reverse();
    assert_eq!(oldest_first, newest_first);
    let desc = checked_ids(&page(&s, "limit=100&order=desc").await);
    assert_eq!(desc, newest_first, "order=desc is the default");
}

/// Walk the whole log `limit` at a time following `after`, checking every page: full while
/// `has_more`, and `has_more` false only on the last one.
async fn walk_after(s: &TestServer, order: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let p = page(s, &format!("limit={limit}{order}{cursor}")).await;
        let data = checked_ids(&p);
        if has_more(&p) {
            assert_eq!(data.len(), limit, "{p}");
        }
        seen.extend(data);
        if !has_more(&p) {
            return seen;
        }
        cursor = format!("&after={}", seen.last().unwrap());
    }
}

/// Walk the whole log from its far end back to its start `limit` at a time following `before`:
/// the pages' events, each page in the list's order, pages from the last to the first.
async fn walk_before(s: &TestServer, order: &str, limit: usize, last: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut before = last.to_owned();
    loop {
        let p = page(s, &format!("limit={limit}{order}&before={before}")).await;
        let data = checked_ids(&p);
        if has_more(&p) {
            assert_eq!(data.len(), limit, "{p}");
        }
        let more = has_more(&p);
        if let Some(first) = data.first() {
            before = first.clone();
        }
        pages.push(data);
        if !more {
            return pages;
        }
    }
}

#[tokio::test]
async fn after_and_before_page_both_ways_in_both_orders_with_has_more_exact() {
    let (s, _) = with_history().await;
    let newest_first = checked_ids(&page(&s, "limit=100").await);
    let mut oldest_first = newest_first.clone();
    oldest_first.reverse();
    let n = newest_first.len();

    for (order, list) in [("", &newest_first), ("&order=asc", &oldest_first)] {
        // `after` walks, including a limit that divides the log exactly (the last page is full
        // and says there is nothing more).
        for limit in [1, 4, 5, n, n - 1] {
            assert_eq!(
                &walk_after(&s, order, limit).await,
                list,
                "order {order:?}, limit {limit}"
            );
        }
        let exactly = page(&s, &format!("limit={n}{order}")).await;
        assert!(!has_more(&exactly));
        let one_short = page(&s, &format!("limit={}{order}", n - 1)).await;
        assert!(has_more(&one_short));

        // `after` one event: the `limit` events following it in the list's order.
        let k = n / 2;
        let after = page(&s, &format!("limit=3{order}&after={}", list[k])).await;
        assert_eq!(checked_ids(&after), list[k + 1..k + 4]);
        assert_eq!(has_more(&after), k + 4 < n);
        let tail = page(&s, &format!("limit=2{order}&after={}", list[n - 3])).await;
        assert_eq!(checked_ids(&tail), list[n - 2..]);
        assert!(!has_more(&tail), "nothing follows the end of the list");
        let past_end = page(&s, &format!("limit=2{order}&after={}", list[n - 1])).await;
        assert!(checked_ids(&past_end).is_empty() && !has_more(&past_end));

        // `before` one event: the `limit` events just before it, still in the list's order, and
        // `has_more` exact at the start of the list.
        let before = page(&s, &format!("limit=3{order}&before={}", list[k])).await;
        assert_eq!(checked_ids(&before), list[k - 3..k]);
        assert!(has_more(&before), "{k} events come before it");
        let at_start = page(&s, &format!("limit=3{order}&before={}", list[3])).await;
        assert_eq!(checked_ids(&at_start), list[..3]);
        assert!(
            !has_more(&at_start),
            "exactly 3 events come before the fourth"
        );
        let one_more = page(&s, &format!("limit=3{order}&before={}", list[4])).await;
        assert_eq!(checked_ids(&one_more), list[1..4]);
        assert!(has_more(&one_more));
        let before_start = page(&s, &format!("limit=3{order}&before={}", list[0])).await;
        assert!(checked_ids(&before_start).is_empty() && !has_more(&before_start));

        // Walking back with `before` from the far end gives the whole list but its last event.
        for limit in [1, 4, 6] {
            let pages = walk_before(&s, order, limit, &list[n - 1]).await;
            let back: Vec<String> = pages.into_iter().rev().flatten().collect();
            assert_eq!(back, list[..n - 1], "order {order:?}, limit {limit}");
        }
    }
}

#[tokio::test]
async fn the_filters_give_the_same_events_in_both_orders() {
    let (s, projects) = with_history().await;
    let all = page(&s, "limit=100").await;
    let events = all["data"].as_array().unwrap();
    let t = events[events.len() / 2]["effective_at"].as_i64().unwrap();
    let key_id = s.owner_key_id();
    let filters = [
        "event_types[]=project.updated".to_owned(),
        "event_types[]=project.created&event_types[]=project.updated".to_owned(),
        format!("resource_ids[]={}", projects[1]),
        format!(
            "project_ids[]={}&project_ids[]={}",
            projects[0], projects[2]
        ),
        format!("actor_ids[]={key_id}"),
        "actor_emails[]=OWNER%40example.com".to_owned(),
        format!("effective_at[gte]={t}"),
        format!("effective_at[lte]={t}"),
        format!("effective_at[gt]={}", t - 1),
        format!("effective_at[lt]={}", t + 1),
    ];
    for filter in &filters {
        let newest_first = checked_ids(&page(&s, &format!("limit=100&{filter}")).await);
        assert!(!newest_first.is_empty(), "{filter} matches something");
        // The same events as filtering the whole log.
        let matching: Vec<String> = {
            let everything = ids(&all);
            everything
                .into_iter()
                .filter(|id| newest_first.contains(id))
                .collect()
        };
        assert_eq!(newest_first, matching, "{filter}: in the log's order");
        let mut oldest_first =
            checked_ids(&page(&s, &format!("limit=100&order=asc&{filter}")).await);
        oldest_first.reverse();
        assert_eq!(
            oldest_first, newest_first,
            "{filter}: order=asc is the reverse"
        );
        // Paged with both cursors, filtered.
        if newest_first.len() >= 3 {
            let after = page(&s, &format!("limit=1&{filter}&after={}", newest_first[0])).await;
            assert_eq!(checked_ids(&after), newest_first[1..2], "{filter}");
            assert_eq!(has_more(&after), newest_first.len() > 2, "{filter}");
            let before = page(&s, &format!("limit=5&{filter}&before={}", newest_first[2])).await;
            assert_eq!(checked_ids(&before), newest_first[..2], "{filter}");
            assert!(!has_more(&before), "{filter}");
        }
    }
    let updated = checked_ids(&page(&s, "event_types[]=project.updated").await);
    assert_eq!(updated.len(), 4);
    let renamed: Vec<Value> = page(&s, "event_types[]=project.updated").await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["project.updated"]["id"].clone())
        .collect();
    assert_eq!(
        renamed,
        projects[..4]
            .iter()
            .rev()
            .map(|p| json!(p))
            .collect::<Vec<_>>(),
        "the renames, newest first"
    );
}

#[tokio::test]
async fn an_order_other_than_asc_or_desc_is_refused() {
    let s = TestServer::start().await;
    for bad in ["up", "ASC", "", "newest"] {
        assert_error_says(
            &s.get(&format!("/v1/organization/audit_logs?order={bad}"))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("order"),
            "order must be 'asc' or 'desc'.",
        );
    }
}
