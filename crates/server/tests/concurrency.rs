//! Concurrency: many clients at once against a real server on a persistent database of the
//! backend `ORGADMIN_TEST_BACKEND` selects: a SQLite *file* (so the read-only pool and the single
//! writer connection are separate connections, as in production) or a PostgreSQL database of its
//! own.
//!
//! Each test checks the rules of SPEC §3 and the pagination guarantees of §4 while requests race,
//! and that no request ever answers 5xx. Run with
//! `cargo test -p orgadmin-server --test concurrency -- --nocapture` to see the figures.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

mod common;

use common::load::{
    assignment_events, error_code, item_ids as ids, load_client, owner_attack_plan, owners_made,
    stampede, Api, Attack, Stats,
};
use common::paging::{
    check_audit_walk, check_walks, delete_member, members_seen, walk_audit_log, walk_then_stop,
    Walker, Writes,
};
use common::TestServer;

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
/// narrowed to `reader` and requests authenticated after that are refused with 403; that is
/// the only refusal allowed besides 409 `last_owner`. A fresh server per round, because the
/// bootstrap key may end the round as a reader's key.
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

        // Make the owners concurrently (also a write race, of a harmless kind).
        let mut makers = JoinSet::new();
        for _ in 0..EXTRA_OWNERS {
            let api = api.clone();
            makers.spawn(async move { api.add_member("owner", "owner").await });
        }
        let owners = owners_made(&server.owner_id, makers).await;
        let before: Vec<Value> = api.list_users().await;
        let owners_before = before.iter().filter(|u| u["role"] == "owner").count();
        assert_eq!(owners_before, EXTRA_OWNERS + 1);

        // One attack per owner; the bootstrap owner is only ever demoted.
        let plan = owner_attack_plan(&owners, &server.owner_id, round);

        let barrier = Arc::new(Barrier::new(plan.len()));
        let mut racers = JoinSet::new();
        for (user, attack) in plan.clone() {
            let api = api.clone();
            let barrier = barrier.clone();
            racers.spawn(async move {
                barrier.wait().await;
                let (status, body) = attack.run(&api, &user).await;
                (user, attack, status, body)
            });
        }
        let mut results = Vec::new();
        while let Some(r) = racers.join_next().await {
            results.push(r.unwrap());
        }
        stats.assert_no_5xx(&format!("last owner, round {round}"));

        let bootstrap_demoted = results
            .iter()
            .any(|(u, _, s, _)| *u == server.owner_id && *s == 200);
        let mut successes = 0usize;
        let mut last_owner_refusals = 0usize;
        let mut forbidden = 0usize;
        for (user, attack, status, body) in &results {
            let label = match (*status, error_code(body)) {
                (200, _) => {
                    successes += 1;
                    "200"
                }
                (409, "last_owner") => {
                    last_owner_refusals += 1;
                    assert_eq!(body["error"]["param"], "user_id", "{body}");
                    "409 last_owner"
                }
                (403, "insufficient_permissions") if bootstrap_demoted => {
                    forbidden += 1;
                    "403 (key narrowed)"
                }
                _ => panic!(
                    "round {round}: {attack:?} of {user} answered {status} {body}; only 200, \
                     409 last_owner, or 403 once the key's owner was demoted, are possible"
                ),
            };
            *outcome_totals
                .entry(format!("{attack:?} {label}"))
                .or_default() += 1;
        }

        // The state after the race. The bootstrap key can still read users as a reader.
        let after = api.list_users().await;
        let owners_after: Vec<&Value> = after.iter().filter(|u| u["role"] == "owner").collect();
        *owners_left_histogram.entry(owners_after.len()).or_default() += 1;
        assert!(
            !owners_after.is_empty(),
            "round {round}: the organization has no owner left after the race; results: {results:?}"
        );
        assert_eq!(
            successes,
            owners_before - owners_after.len(),
            "round {round}: every successful demotion/removal must remove exactly one owner \
             (owners {owners_before} -> {}); results: {results:?}",
            owners_after.len()
        );
        if owners_after
            .iter()
            .any(|u| u["id"] == server.owner_id.as_str())
        {
            bootstrap_survived += 1;
        }
        if last_owner_refusals > 0 || forbidden == 0 {
            // A `last_owner` refusal means that at that moment exactly one owner was left, and
            // owners only decrease; with no 403, every request either succeeded or was refused
            // as the last owner.
            assert_eq!(
                owners_after.len(),
                1,
                "round {round}: exactly one owner must remain; results: {results:?}"
            );
        }
        let after_by_id: HashMap<&str, &Value> = after
            .iter()
            .map(|u| (u["id"].as_str().unwrap(), u))
            .collect();
        for (user, attack, status, _) in &results {
            let now = after_by_id.get(user.as_str());
            match (attack, *status) {
                (Attack::Delete, 200) => {
                    assert!(
                        now.is_none(),
                        "round {round}: removed {user} is still listed"
                    )
                }
                (_, 200) => assert_eq!(
                    now.map(|u| u["role"].clone()),
                    Some(json!("reader")),
                    "round {round}: demoted {user}"
                ),
                _ => assert_eq!(
                    now.map(|u| u["role"].clone()),
                    Some(json!("owner")),
                    "round {round}: refused {attack:?} of {user} must leave them an owner"
                ),
            }
        }
        println!(
            "[last owner] round {round}: {} racers, {successes} succeeded, {last_owner_refusals} \
             refused last_owner, {forbidden} refused 403 (bootstrap key narrowed: {bootstrap_demoted}), \
             owners {owners_before} -> {}",
            results.len(),
            owners_after.len()
        );
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
    let api = server.api.clone();

    /// Fire `CLIENTS` copies of one `POST` at once; the answers, in the order of `requests`.
    async fn post_together(api: &Api, requests: Vec<(String, Value)>) -> Vec<(u16, Value)> {
        let requests = requests
            .into_iter()
            .map(|(path, body)| (api.clone(), Method::POST, path, Some(body)))
            .collect();
        stampede(requests).await
    }

    let mut figures: BTreeMap<&str, u64> = BTreeMap::new();
    for round in 0..ROUNDS {
        let project = api
            .post_ok(
                "/v1/organization/projects",
                json!({ "name": format!("race project {round}") }),
            )
            .await;
        let project_id = project["id"].as_str().unwrap().to_owned();
        let user = api.add_member("dup", "reader").await;
        let user_id = user["id"].as_str().unwrap().to_owned();
        let email = user["email"].as_str().unwrap().to_owned();

        // Membership: half the clients name the user by ID, half by email (upper-cased).
        let requests = (0..CLIENTS)
            .map(|i| {
                let body = if i % 2 == 0 {
                    json!({ "user_id": user_id, "role": "member" })
                } else {
                    json!({ "email": email.to_uppercase(), "role": "member" })
                };
                (
                    format!("/v1/organization/projects/{project_id}/users"),
                    body,
                )
            })
            .collect();
        let answers = post_together(&api, requests).await;
        stats.assert_no_5xx(&format!("duplicate membership, round {round}"));
        let created: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(
            created.len(),
            1,
            "round {round}: exactly one add of the same project user may succeed: {answers:?}"
        );
        assert_eq!(created[0]["id"], user_id.as_str());
        for (status, body) in &answers {
            assert!(
                *status == 200 || (*status == 409 && error_code(body) == "already_exists"),
                "round {round}: a duplicate add must be 409 already_exists, got {status} {body}"
            );
        }
        *figures.entry("membership 200").or_default() += 1;
        *figures.entry("membership 409 already_exists").or_default() += CLIENTS as u64 - 1;
        let members = ids(&api
            .list_all_by_id(&format!("/v1/organization/projects/{project_id}/users"))
            .await);
        assert_eq!(
            members.iter().filter(|id| **id == user_id).count(),
            1,
            "round {round}: the project lists the user once: {members:?}"
        );

        // Organization custom role, assigned by everyone at once.
        let role = api
            .post_ok(
                "/v1/organization/roles",
                json!({
                    "role_name": format!("race org role {round}"),
                    "permissions": ["api.organization.users.read"],
                    "description": "raced",
                }),
            )
            .await;
        let role_id = role["id"].as_str().unwrap().to_owned();
        let requests = (0..CLIENTS)
            .map(|_| {
                (
                    format!("/v1/organization/users/{user_id}/roles"),
                    json!({ "role_id": role_id }),
                )
            })
            .collect();
        let answers = post_together(&api, requests).await;
        stats.assert_no_5xx(&format!("org role assignment, round {round}"));
        for (status, body) in &answers {
            assert_eq!(
                *status, 200,
                "round {round}: assigning a role twice is idempotent: {body}"
            );
            assert_eq!(body["role"]["id"], role_id.as_str(), "{body}");
        }
        *figures.entry("org role assignment 200").or_default() += CLIENTS as u64;
        let held = ids(&api
            .list_all_by_next(&format!("/v1/organization/users/{user_id}/roles"))
            .await);
        assert_eq!(
            held.iter().filter(|id| **id == role_id).count(),
            1,
            "round {round}: the user holds the organization role once: {held:?}"
        );
        assert_eq!(
            assignment_events(&api, &role_id, &user_id).await,
            1,
            "round {round}: one role.assignment.created event for the organization role"
        );

        // Project custom role, assigned by everyone at once.
        let role = api
            .post_ok(
                &format!("/v1/projects/{project_id}/roles"),
                json!({
                    "role_name": format!("race project role {round}"),
                    "permissions": ["api.project.read"],
                    "description": "raced",
                }),
            )
            .await;
        let role_id = role["id"].as_str().unwrap().to_owned();
        let requests = (0..CLIENTS)
            .map(|_| {
                (
                    format!("/v1/projects/{project_id}/users/{user_id}/roles"),
                    json!({ "role_id": role_id }),
                )
            })
            .collect();
        let answers = post_together(&api, requests).await;
        stats.assert_no_5xx(&format!("project role assignment, round {round}"));
        for (status, body) in &answers {
            assert_eq!(
                *status, 200,
                "round {round}: assigning a project role twice is idempotent: {body}"
            );
            assert_eq!(body["role"]["id"], role_id.as_str(), "{body}");
        }
        *figures.entry("project role assignment 200").or_default() += CLIENTS as u64;
        let held = ids(&api
            .list_all_by_next(&format!("/v1/projects/{project_id}/users/{user_id}/roles"))
            .await);
        assert_eq!(
            held.iter().filter(|id| **id == role_id).count(),
            1,
            "round {round}: the project user holds the project role once: {held:?}"
        );
        assert_eq!(
            assignment_events(&api, &role_id, &user_id).await,
            1,
            "round {round}: one role.assignment.created event for the project role"
        );
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
    const SEED: usize = 300;
    const ROUNDS: usize = 6;
    const WALKERS: usize = 4;
    const ADDERS: usize = 2;
    const MAX_ADDS_PER_ADDER: usize = 25;
    const MAX_RANDOM_DELETIONS: usize = 20;
    const MAX_BOARD_DELETIONS: usize = 20;
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let server = start_server(stats.clone()).await;
    let api = server.api.clone();

    for round in 0..ROUNDS {
        // Top up to SEED members (besides the owner), eight clients at a time.
        let seeding = Instant::now();
        let missing = (SEED + 1).saturating_sub(api.list_users().await.len());
        let mut seeders = JoinSet::new();
        for s in 0..8 {
            let api = api.clone();
            seeders.spawn(async move {
                for _ in (s..missing).step_by(8) {
                    api.add_member("seed", "reader").await;
                }
            });
        }
        while let Some(r) = seeders.join_next().await {
            r.unwrap();
        }
        stats.assert_no_5xx("seeding");
        println!(
            "[pagination] round {round}: seeded {missing} members in {:.1?}",
            seeding.elapsed()
        );

        // Who exists at the start of the round, with nothing else running.
        let start_ids = ids(&api.list_users().await);
        assert!(
            start_ids.windows(2).all(|w| w[0] < w[1]),
            "round {round}: a quiet listing is strictly increasing"
        );
        let at_start: HashSet<String> = start_ids.iter().cloned().collect();
        let mut deletable: Vec<String> = start_ids
            .iter()
            .filter(|id| **id != server.owner_id)
            .cloned()
            .collect();
        deletable.shuffle(&mut rand::thread_rng());

        let writes = Arc::new(Mutex::new(Writes::default()));
        let board = Arc::new(Mutex::new(vec![None; WALKERS]));
        let done = Arc::new(AtomicBool::new(false));
        let round_started = Instant::now();
        let requests_before = stats.total();

        let mut writers = JoinSet::new();
        for _ in 0..ADDERS {
            let (api, writes, done) = (api.clone(), writes.clone(), done.clone());
            writers.spawn(async move {
                for _ in 0..MAX_ADDS_PER_ADDER {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let user = api.add_member("walk", "reader").await;
                    writes
                        .lock()
                        .unwrap()
                        .added
                        .insert(user["id"].as_str().unwrap().to_owned());
                }
            });
        }
        {
            // Random members, from the snapshot.
            let (api, writes, done) = (api.clone(), writes.clone(), done.clone());
            writers.spawn(async move {
                for user in deletable.into_iter().take(MAX_RANDOM_DELETIONS) {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    if delete_member(&api, &writes, &user).await == 200 {
                        writes.lock().unwrap().random_deletions += 1;
                    }
                }
            });
        }
        {
            // Whatever a walker's cursor names right now, with no coordination with the walker.
            let (api, writes, done, board) =
                (api.clone(), writes.clone(), done.clone(), board.clone());
            let owner_id = server.owner_id.clone();
            writers.spawn(async move {
                let mut deleted = 0;
                while deleted < MAX_BOARD_DELETIONS && !done.load(Ordering::Relaxed) {
                    let target = {
                        let board = board.lock().unwrap();
                        let tried = &writes.lock().unwrap().attempted_deletions;
                        let cursors: Vec<&String> = board
                            .iter()
                            .flatten()
                            .filter(|c| !tried.contains(*c))
                            .collect();
                        if cursors.is_empty() {
                            None
                        } else {
                            Some(cursors[rand::thread_rng().gen_range(0..cursors.len())].clone())
                        }
                    };
                    match target {
                        Some(user) if user != owner_id => {
                            if delete_member(&api, &writes, &user).await == 200 {
                                writes.lock().unwrap().board_deletions += 1;
                            }
                            deleted += 1;
                        }
                        _ => {
                            // No walker holds a cursor not yet deleted; let them take a page.
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
            });
        }

        let (walks, walk_time) = walk_then_stop(
            (0..WALKERS)
                .map(|me| Walker {
                    me,
                    reader: api.clone(),
                    writer: api.clone(),
                    // each walker deletes its cursor's member on a different rhythm
                    delete_every: 4 + me,
                    owner_id: server.owner_id.clone(),
                    board: board.clone(),
                    writes: writes.clone(),
                })
                .collect(),
            &mut writers,
            &done,
            round_started,
        )
        .await;
        stats.assert_no_5xx(&format!("pagination, round {round}"));

        let writes = writes.lock().unwrap();
        let stable = check_walks(round, &at_start, &walks, &writes);
        let lengths = members_seen(&walks);
        let page_counts: Vec<usize> = walks.iter().map(Vec::len).collect();
        println!(
            "[pagination] round {round}: {} members at start, {} existed throughout; walks took {walk_time:.1?} \
             ({} requests); walkers saw {lengths:?} members in {page_counts:?} pages; {} added, deleted \
             {} own-cursor + {} board-cursor + {} random ({} already gone, 404)",
            at_start.len(),
            stable,
            stats.total() - requests_before,
            writes.added.len(),
            writes.cursor_deletions,
            writes.board_deletions,
            writes.random_deletions,
            writes.deletions_404,
        );
    }
    stats.assert_no_5xx("pagination");
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
