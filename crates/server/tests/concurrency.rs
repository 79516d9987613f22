//! Concurrency: many clients at once against a real server on a persistent database of the
//! backend `ORGADMIN_TEST_BACKEND` selects: a SQLite *file* (so the read-only pool and the single
//! writer connection are separate connections, as in production) or a PostgreSQL database of its
//! own.
//!
//! Each test checks the rules of SPEC §3 and the pagination guarantees of §4 while requests race,
//! and that no request ever answers 5xx. Run with
//! `cargo test -p orgadmin-server --test concurrency -- --nocapture` to see the figures.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinSet;

use orgadmin_testkit::load::{
    load_client, race_membership_and_assignments, race_owner_attacks, Api, Stats,
};
use orgadmin_testkit::paging::{
    check_audit_walk, pagination_race, walk_audit_log, RaceServers, RaceSize,
};
use orgadmin_testkit::TestServer;

/// A server on a persistent database of its own, and a counted client bound to its owner key.
struct Server {
    api: Api,
    owner_id: String,
    /// Stopped (and its database dropped) with the test.
    _server: TestServer,
}

async fn start_server(stats: Arc<Stats>) -> Server {
    let server = TestServer::start_persistent().await;
    let api = Api::new(
        load_client(Duration::from_secs(60)),
        server.base_url.clone(),
        server.owner_key.clone(),
        "server",
        stats,
    );
    let users = api.list_users().await;
    assert_eq!(
        users.len(),
        1,
        "a fresh server has exactly its bootstrap owner"
    );
    assert_eq!(users[0]["role"], "owner");
    assert_eq!(users[0]["id"], server.owner_id());
    Server {
        owner_id: server.owner_id(),
        api,
        _server: server,
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The last owner, raced
// ---------------------------------------------------------------------------------------------

/// N extra owners plus the bootstrap owner; one request per owner, all released at once, that
/// demotes or removes it. The bootstrap owner (whose key every request uses) is only demoted,
/// never removed: removing it would revoke the key. Once its demotion commits, its key is
/// narrowed to `reader` and requests authenticated after that (or in flight then) are refused
/// with 401 for lacking `api.organization.users.write`; that is the only refusal allowed besides
/// 409 `last_owner`. A fresh server per round, because the bootstrap key may end the round as a
/// reader's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn last_owner_survives_concurrent_demotions_and_removals() {
    const ROUNDS: usize = 20;
    const EXTRA_OWNERS: usize = 8;
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let mut outcome_totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut owners_left_histogram: BTreeMap<usize, u64> = BTreeMap::new();
    let mut bootstrap_survived = 0u64;

    for round in 0..ROUNDS {
        let server = start_server(stats.clone()).await;
        let api = server.api.clone();

        // The owners are made concurrently (also a write race, of a harmless kind); one attack
        // per owner, and the bootstrap owner is only ever demoted.
        let race = race_owner_attacks(
            round,
            EXTRA_OWNERS,
            |_| api.clone(),
            &server.owner_id,
            &mut outcome_totals,
        )
        .await;
        stats.assert_no_5xx(&format!("last owner, round {round}"));
        *owners_left_histogram.entry(race.owners_after).or_default() += 1;
        if race.bootstrap_survived {
            bootstrap_survived += 1;
        }
        println!("[last owner] round {round}: {race}");
    }
    stats.assert_no_5xx("last owner");
    println!("[last owner] outcomes: {outcome_totals:?}");
    println!(
        "[last owner] owners left per round: {owners_left_histogram:?}; the bootstrap owner was \
         the survivor in {bootstrap_survived} of {ROUNDS} rounds"
    );
    stats.report("last owner", started);
}

// ---------------------------------------------------------------------------------------------
// 2. Duplicate membership and duplicate role assignment, raced
// ---------------------------------------------------------------------------------------------

/// Many clients add the same user to the same project at once: exactly one 200, the rest 409
/// `already_exists`, and the user is listed once. Many clients assign the same custom role to the
/// same user at once (organization and project role): all 200, the role is listed once, and one
/// `role.assignment.created` event is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicate_membership_and_assignment_races() {
    const ROUNDS: usize = 12;
    const CLIENTS: usize = 32;
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let server = start_server(stats.clone()).await;
    let _api = server.api.clone();

    let mut figures: BTreeMap<String, u64> = BTreeMap::new();
    for round in 0..ROUNDS {
        race_membership_and_assignments(
            round,
            CLIENTS,
            std::slice::from_ref(&server.api),
            &stats,
            &mut figures,
        )
        .await;
    }
    stats.assert_no_5xx("duplicate races");
    println!("[duplicates] {ROUNDS} rounds of {CLIENTS} clients: {figures:?}");
    stats.report("duplicates", started);
}

// ---------------------------------------------------------------------------------------------
// 3. Paginating while others write
// ---------------------------------------------------------------------------------------------

/// ~300 members; several walkers page through them with `limit=7` while adders invite and accept
/// new members and deleters remove others, among them members that walkers' cursors name (the
/// walkers' own cursors, deleted before the next page is asked for, and cursors taken from the
/// board, deleted with no coordination). Every member that existed throughout a walk appears
/// exactly once in it, IDs strictly increase, and no page contains a member whose deletion was
/// acknowledged before that page was asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pagination_is_stable_while_members_come_and_go() {
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let server = start_server(stats.clone()).await;
    pagination_race(
        RaceServers {
            apis: std::slice::from_ref(&server.api),
            owner_id: &server.owner_id,
            stats: &stats,
        },
        RaceSize {
            seed: 300,
            rounds: 6,
            walkers: 4,
            adders: 2,
            max_adds_per_adder: 25,
            max_random_deletions: 20,
            max_board_deletions: 20,
            delete_every_from: 4,
        },
    )
    .await;
    stats.report("pagination", started);
}

// ---------------------------------------------------------------------------------------------
// 4. Walking the audit log while events are written
// ---------------------------------------------------------------------------------------------

/// Writers make changes (each writes audit events: projects created and renamed, members invited
/// and accepted) while walkers page through the audit log, newest first and with `order=asc`,
/// again and again until the writers stop. A newest-first walk is exactly the log from its first
/// event down to the oldest, an oldest-first walk exactly the log's first events: no event is
/// skipped or repeated, none turns up behind a cursor, and every event there before the walk
/// began is in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_log_walks_see_every_event_once_while_events_are_written() {
    const SEED: usize = 20;
    const WRITERS: usize = 3;
    const WRITES_PER_WRITER: usize = 30;
    const WALKERS: usize = 4;
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let server = start_server(stats.clone()).await;
    let api = server.api.clone();
    for n in 0..SEED {
        api.post_ok(
            "/v1/organization/projects",
            json!({ "name": format!("seed {n}") }),
        )
        .await;
    }
    let at_start: HashSet<String> = walk_audit_log(&api, None)
        .await
        .into_iter()
        .flat_map(|p| p.ids)
        .collect();
    assert!(at_start.len() >= SEED);

    let writing = Arc::new(AtomicBool::new(true));
    let mut writers = JoinSet::new();
    for w in 0..WRITERS {
        let api = api.clone();
        writers.spawn(async move {
            for n in 0..WRITES_PER_WRITER {
                if n % 3 == 2 {
                    api.add_member("audited", "reader").await;
                } else {
                    let project = api
                        .post_ok(
                            "/v1/organization/projects",
                            json!({ "name": format!("written {w}-{n}") }),
                        )
                        .await;
                    let id = project["id"].as_str().unwrap();
                    api.post_ok(
                        &format!("/v1/organization/projects/{id}"),
                        json!({ "name": format!("renamed {w}-{n}") }),
                    )
                    .await;
                }
            }
        });
    }
    let mut walkers = JoinSet::new();
    for w in 0..WALKERS {
        let (api, writing) = (api.clone(), writing.clone());
        let order = if w % 2 == 0 { None } else { Some("asc") };
        walkers.spawn(async move {
            let mut walks = Vec::new();
            while walks.is_empty() || writing.load(Ordering::Relaxed) {
                walks.push(walk_audit_log(&api, order).await);
            }
            (order, walks)
        });
    }
    while let Some(w) = writers.join_next().await {
        w.unwrap();
    }
    writing.store(false, Ordering::Relaxed);
    let mut walks = Vec::new();
    while let Some(w) = walkers.join_next().await {
        walks.push(w.unwrap());
    }
    stats.assert_no_5xx("audit log walks");

    let log: Vec<String> = walk_audit_log(&api, None)
        .await
        .into_iter()
        .flat_map(|p| p.ids)
        .collect();
    assert!(
        log.windows(2).all(|two| two[0] > two[1]),
        "a quiet listing is newest first, IDs strictly decreasing"
    );
    let mut oldest_first = log.clone();
    oldest_first.reverse();
    let mut count = 0;
    for (w, (order, walks)) in walks.iter().enumerate() {
        for (n, walk) in walks.iter().enumerate() {
            let (expected, newest_first) = match order {
                None => (&log, true),
                Some(_) => (&oldest_first, false),
            };
            check_audit_walk(
                walk,
                expected,
                &at_start,
                newest_first,
                &format!("walker {w} ({order:?}), walk {n}"),
            );
            count += 1;
        }
    }
    println!(
        "[audit walks] {} events at start, {} at the end; {count} walks checked",
        at_start.len(),
        log.len()
    );
    stats.report("audit walks", started);
}
