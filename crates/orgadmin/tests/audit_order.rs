//! The audit log's order across processes. Two servers on one PostgreSQL database, as two
//! replicas, write events while walkers page through the log newest first (a SQLite file has
//! one server, the holder of its lease, so this needs PostgreSQL whatever the backend under
//! test: it is `#[ignore]`d in a plain `cargo test` and run with `--include-ignored`). One is `orgadmin serve` (the real binary, as in `tests/crash.rs`); the
//! other is built in this test process with its clock a minute behind, as a replica whose clock is
//! off. The two share no memory, so the order must come from the database (store `ops/audit.rs`,
//! `next_audit_id`):
//!
//! - an event whose write was acknowledged before another write was sent sorts before that one's
//!   event, whichever process wrote each and whatever its clock said;
//! - every walk (newest first, following `after`) is exactly the part of the final log from its
//!   first event down to the oldest: nothing skipped, nothing repeated, and no event written
//!   during the walk turned up behind its cursor;
//! - `order=asc` lists the same log the other way round.

#![cfg(unix)]

#[path = "support/serve.rs"]
mod serve;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use orgadmin_core::clock::OffsetClock;
use orgadmin_server::{Application, ServeConfig};
use orgadmin_testkit::database::TestDatabase;
use serde_json::{json, Value};
use serve::Server;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

const KEY: &str = "sk-admin-orderorderorderorderorderorderorde";
const WRITERS: usize = 4;
const WRITES_PER_WRITER: usize = 60;
const WALKERS: usize = 2;
const PAGE: usize = 7;

async fn get(client: &reqwest::Client, base: &str, path: &str) -> Value {
    let answer = client
        .get(format!("{base}{path}"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {base}{path}: {e}"));
    let status = answer.status();
    let body: Value = answer.json().await.expect("a JSON body");
    assert_eq!(status, 200, "GET {base}{path}: {body}");
    body
}

/// One page's event IDs, after checking `first_id`, `last_id` and that `has_more` is exact (a
/// page with more beyond it is full).
fn page_ids(page: &Value) -> (Vec<String>, bool) {
    let ids: Vec<String> = page["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["id"].as_str().expect("an ID").to_owned())
        .collect();
    let has_more = page["has_more"].as_bool().expect("has_more");
    assert!(ids.len() <= PAGE, "{page}");
    if has_more {
        assert_eq!(ids.len(), PAGE, "has_more is exact: {page}");
    }
    assert_eq!(page["first_id"].as_str(), ids.first().map(String::as_str));
    assert_eq!(page["last_id"].as_str(), ids.last().map(String::as_str));
    (ids, has_more)
}

/// A walk of the whole log, `PAGE` events at a time, following `after` (query `extra` added).
async fn walk(client: &reqwest::Client, base: &str, extra: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .as_ref()
            .map(|a| format!("&after={a}"))
            .unwrap_or_default();
        let page = get(
            client,
            base,
            &format!("/v1/organization/audit_logs?limit={PAGE}{extra}{cursor}"),
        )
        .await;
        let (ids, has_more) = page_ids(&page);
        seen.extend(ids);
        if !has_more {
            return seen;
        }
        after = seen.last().cloned();
    }
}

/// One acknowledged write: when it was sent and answered, and the project it created.
struct Write {
    sent: Instant,
    acked: Instant,
    project: String,
    server: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn two_processes_one_clock_behind_write_the_audit_log_in_commit_order_and_walks_miss_nothing()
{
    let db = TestDatabase::on_postgres().await;
    // One after the other: the binary creates the organization, the second server finds it.
    let first = Server::start(db.url(), KEY).await;
    let behind = Arc::new(OffsetClock::default());
    behind.advance(-60);
    let mut config = ServeConfig::new("127.0.0.1:0", db.url());
    config.admin_key = Some(KEY.to_owned());
    config.clock = behind;
    let app = Application::build(config)
        .await
        .expect("the second server builds");
    let second_base = format!("http://127.0.0.1:{}", app.port());
    let (stop_second, stopped) = oneshot::channel::<()>();
    let second = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("the second server runs");
    });
    let bases = Arc::new([first.base.clone(), second_base]);
    let client = reqwest::Client::new();
    let started = Instant::now();
    // One event before anyone walks, so that no walk finds the log empty.
    let seeded = client
        .post(format!("{}/v1/organization/projects", bases[0]))
        .bearer_auth(KEY)
        .json(&json!({ "name": "before the walks" }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(seeded.status(), 200);

    let mut writers = JoinSet::new();
    for w in 0..WRITERS {
        let (client, bases) = (client.clone(), bases.clone());
        writers.spawn(async move {
            let mut done = Vec::new();
            for n in 0..WRITES_PER_WRITER {
                // Alternate servers, so that consecutive writes come from different processes.
                let server = (w + n) % 2;
                let sent = Instant::now();
                let answer = client
                    .post(format!("{}/v1/organization/projects", bases[server]))
                    .bearer_auth(KEY)
                    .json(&json!({ "name": format!("ordered {w}-{n}") }))
                    .send()
                    .await
                    .expect("the server answers");
                let status = answer.status();
                let body: Value = answer.json().await.expect("a JSON body");
                assert_eq!(status, 200, "{body}");
                done.push(Write {
                    sent,
                    acked: Instant::now(),
                    project: body["id"].as_str().expect("a project ID").to_owned(),
                    server,
                });
            }
            done
        });
    }
    let writing = Arc::new(AtomicBool::new(true));
    let mut walkers = JoinSet::new();
    for w in 0..WALKERS {
        let (client, bases, writing) = (client.clone(), bases.clone(), writing.clone());
        walkers.spawn(async move {
            let mut walks = Vec::new();
            while walks.is_empty() || writing.load(Ordering::Relaxed) {
                walks.push(walk(&client, &bases[(w + walks.len()) % 2], "").await);
            }
            walks
        });
    }
    let mut writes: Vec<Write> = Vec::new();
    while let Some(done) = writers.join_next().await {
        writes.extend(done.unwrap());
    }
    writing.store(false, Ordering::Relaxed);
    let mut walks: Vec<Vec<String>> = Vec::new();
    while let Some(done) = walkers.join_next().await {
        walks.extend(done.unwrap());
    }

    // The log as it stands, newest first, and the other way round.
    let log = walk(&client, &bases[0], "").await;
    assert!(
        log.windows(2).all(|two| two[0] > two[1]),
        "newest first, IDs strictly decreasing"
    );
    let mut ascending = walk(&client, &bases[1], "&order=asc").await;
    ascending.reverse();
    assert_eq!(ascending, log, "order=asc lists the same log oldest first");

    // Each project's `project.created` event.
    let mut event_id: HashMap<String, String> = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .as_ref()
            .map(|a| format!("&after={a}"))
            .unwrap_or_default();
        let page = get(
            &client,
            &bases[0],
            &format!("/v1/organization/audit_logs?limit=100&event_types[]=project.created{cursor}"),
        )
        .await;
        for e in page["data"].as_array().unwrap() {
            let project = e["project.created"]["id"].as_str().unwrap().to_owned();
            event_id.insert(project, e["id"].as_str().unwrap().to_owned());
        }
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = page["last_id"].as_str().map(str::to_owned);
    }
    assert_eq!(
        event_id.len(),
        WRITERS * WRITES_PER_WRITER + 1,
        "one event per project"
    );

    // Acknowledged before sent means committed before, so it sorts before.
    let mut ordered_pairs = 0;
    let mut across_processes = 0;
    for x in &writes {
        for y in &writes {
            if x.acked < y.sent {
                let (ex, ey) = (&event_id[&x.project], &event_id[&y.project]);
                assert!(
                    ex < ey,
                    "the event of a write acknowledged before another was sent sorts before it: \
                     {ex} (server {}) then {ey} (server {})",
                    x.server,
                    y.server
                );
                ordered_pairs += 1;
                if x.server != y.server {
                    across_processes += 1;
                }
            }
        }
    }

    let position: HashMap<&String, usize> = log.iter().enumerate().map(|(i, id)| (id, i)).collect();
    for (w, seen) in walks.iter().enumerate() {
        let from = position[&seen[0]];
        assert_eq!(
            seen.as_slice(),
            &log[from..],
            "walk {w}: from its first event down to the oldest, nothing skipped or repeated"
        );
    }
    println!(
        "[audit order] {} writes on two processes, {} walks (of {} to {} events), \
         {ordered_pairs} ordered pairs checked ({across_processes} across processes) in {:.1?}",
        writes.len(),
        walks.len(),
        walks.iter().map(Vec::len).min().unwrap_or(0),
        walks.iter().map(Vec::len).max().unwrap_or(0),
        started.elapsed()
    );
    let _ = stop_second.send(());
    second.await.expect("the second server stops");
    drop(first);
}
