//! Two orgadmin replicas on one PostgreSQL database, raced by clients split between them.
//!
//! Each test creates its own database on the local PostgreSQL (`ORGADMIN_TEST_POSTGRES_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`; the role must be allowed to create
//! databases), starts two servers on it at the same time, and checks the rules of SPEC §3 and the
//! pagination guarantees of §4 while requests to both replicas race. The replicas share nothing
//! but the database, so every guarantee checked here must come from it. One replica reads the
//! organization's version at every request (`--consistency strict`), the other remembers it
//! until a notification says it changed (`bounded`): the rules hold whatever each replica
//! remembers, and replicas of both modes share a database. No request may ever answer
//! 5xx, and at the end the tables are checked directly for duplicate and orphaned rows. The
//! database is dropped when the test ends, also when it fails.
//!
//! They need PostgreSQL whatever the backend under test, so they are `#[ignore]`d, and listed as
//! ignored, in a plain `cargo test`; the PostgreSQL pass of `scripts/test-all` runs them with
//! `--include-ignored`. Run them with
//! `cargo test -p orgadmin-server --test replicas -- --include-ignored --nocapture` to see the
//! figures.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orgadmin_core::store::Consistency;
use orgadmin_server::{Application, ServeConfig};
use reqwest::Method;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use tokio::sync::Barrier;

use orgadmin_testkit::load::{
    error_code, fresh_email, item_ids as ids, load_client, race_membership_and_assignments,
    race_owner_attacks, stampede, the_one_success, Api, RacedRound, Stats,
};
use orgadmin_testkit::paging::{pagination_race, RaceServers, RaceSize};
use orgadmin_testkit::{Serving, TestDatabase};

// ---------------------------------------------------------------------------------------------
// Harness: a PostgreSQL database of its own, two replicas on it, clients that count every status
// ---------------------------------------------------------------------------------------------

/// No test of this file may run longer than this; a hang fails instead of stalling CI.
const TIME_LIMIT: Duration = Duration::from_secs(60);

async fn within_time_limit(test: &str, body: impl Future<Output = ()>) {
    if tokio::time::timeout(TIME_LIMIT, body).await.is_err() {
        panic!("{test}: did not finish within {TIME_LIMIT:?} (a request or the server hangs)");
    }
}

/// The `ORGADMIN_ADMIN_KEY` both replicas start with, so the bootstrap key works on either.
fn admin_key() -> String {
    format!("sk-admin-{}", "r".repeat(40))
}

/// One running server on the test database.
struct Replica {
    api: Api,
    serving: Serving,
}

/// Two replicas on one database, and what the concurrent first start created.
struct Pair {
    replicas: [Replica; 2],
    owner_id: String,
    default_project_id: String,
}

impl Pair {
    /// The client of replica `i % 2`: callers spread requests over both by counting.
    fn api(&self, i: usize) -> &Api {
        &self.replicas[i % 2].api
    }

    async fn stop(self) {
        let [mut a, mut b] = self.replicas;
        tokio::join!(a.serving.stop(), b.serving.stop());
    }
}

const REPLICA_NAMES: [&str; 2] = ["replica-a", "replica-b"];
/// How each replica knows an organization's version: one of each mode.
const REPLICA_MODES: [Consistency; 2] = [Consistency::Strict, Consistency::Bounded];

/// Start two replicas on `db` at the same instant, both finding the database empty, and check
/// that the bootstrap happened exactly once: one of them reports the initial key, and the
/// database holds one organization, one owner, one project and one key, which both replicas see.
async fn start_pair(db: &TestDatabase, stats: &Arc<Stats>) -> Pair {
    let key = admin_key();
    let barrier = Arc::new(Barrier::new(2));
    let builds: Vec<_> = REPLICA_NAMES
        .iter()
        .zip(REPLICA_MODES)
        .map(|(name, mode)| {
            let mut config = ServeConfig::new("127.0.0.1:0", db.url());
            config.admin_key = Some(key.clone());
            config.consistency = mode;
            let barrier = barrier.clone();
            let name = *name;
            tokio::spawn(async move {
                barrier.wait().await;
                let started = Instant::now();
                let app = Application::build(config)
                    .await
                    .unwrap_or_else(|e| panic!("{name}: the application builds: {e:#}"));
                (app, started.elapsed())
            })
        })
        .collect();
    let client = load_client(Duration::from_secs(30));
    let mut replicas = Vec::new();
    let mut created = Vec::new();
    let mut build_times = Vec::new();
    for (build, name) in builds.into_iter().zip(REPLICA_NAMES) {
        let (app, took) = build.await.expect("building a replica panicked");
        build_times.push(took);
        if let Some(initial) = app.initial_key() {
            assert_eq!(
                initial.secret, key,
                "{name}: the bootstrap key is ORGADMIN_ADMIN_KEY"
            );
            created.push((name, initial.created.clone()));
        }
        let api = Api::new(
            client.clone(),
            format!("http://127.0.0.1:{}", app.port()),
            key.clone(),
            name,
            stats.clone(),
        );
        replicas.push(Replica {
            api,
            serving: Serving::spawn(app),
        });
    }
    assert_eq!(
        created.len(),
        1,
        "exactly one of two replicas starting together on an empty database bootstraps it; \
         these reported an initial key: {created:?}"
    );
    let (_, created) = created.pop().unwrap();

    // In the database: one of everything the first start makes.
    let mut conn = db.postgres_connection().await;
    for (table, expected) in [
        ("organizations", 1),
        ("users", 1),
        ("projects", 1),
        ("admin_api_keys", 1),
    ] {
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("counting {table}: {e}"));
        assert_eq!(
            count, expected,
            "after two concurrent first starts, {table} holds {count} rows"
        );
    }
    let owners: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'owner'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(owners, 1, "the first start makes one owner");
    let _ = conn.close().await;

    let replicas: [Replica; 2] = replicas.try_into().ok().unwrap();
    let owner_id = created.owner.user.id.to_string();
    // Both replicas serve the same organization with the same key.
    for replica in &replicas {
        let users = replica.api.list_all_by_id("/v1/organization/users").await;
        assert_eq!(
            ids(&users),
            vec![owner_id.clone()],
            "{}: sees exactly the bootstrap owner",
            replica.api.server
        );
        assert_eq!(users[0]["role"], "owner");
        let projects = replica
            .api
            .list_all_by_id("/v1/organization/projects")
            .await;
        assert_eq!(
            ids(&projects),
            vec![created.default_project.id.to_string()],
            "{}: sees exactly the default project",
            replica.api.server
        );
    }
    println!(
        "[bootstrap] two replicas started together in {build_times:.1?}; exactly one bootstrapped \
         (org {}, owner {owner_id})",
        created.organization.id
    );
    Pair {
        replicas,
        owner_id,
        default_project_id: created.default_project.id.to_string(),
    }
}

/// Rows `query` returns, as JSON text, for evidence in a failure message.
async fn offending_rows(conn: &mut PgConnection, query: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(&format!("SELECT row_to_json(d)::text FROM ({query}) AS d"))
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// The tables hold no duplicate memberships, assignments or emails, and nothing that names a
/// user who is gone.
async fn assert_tables_consistent(db: &TestDatabase, context: &str) {
    let mut conn = db.postgres_connection().await;
    let checks = [
        (
            "duplicate project memberships",
            "SELECT org_id, project_id, user_id, count(*) AS n FROM project_users \
             GROUP BY 1, 2, 3 HAVING count(*) > 1",
        ),
        (
            "duplicate role assignments",
            "SELECT org_id, principal_type, principal_id, scope_key, role_id, count(*) AS n \
             FROM role_assignments GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1",
        ),
        (
            "duplicate emails in an organization",
            "SELECT org_id, email_norm, count(*) AS n FROM users GROUP BY 1, 2 HAVING count(*) > 1",
        ),
        (
            "more than one organization",
            "SELECT count(*) AS n FROM organizations HAVING count(*) <> 1",
        ),
        (
            "an organization without an owner",
            "SELECT o.id FROM organizations o WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.org_id = o.id AND u.role = 'owner')",
        ),
        (
            "project memberships of removed users",
            "SELECT pu.* FROM project_users pu WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.org_id = pu.org_id AND u.id = pu.user_id)",
        ),
        (
            "role assignments of removed users",
            "SELECT ra.* FROM role_assignments ra WHERE ra.principal_type = 'user' AND NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.org_id = ra.org_id AND u.id = ra.principal_id)",
        ),
        (
            "admin keys of removed users",
            "SELECT k.id, k.owner_user_id FROM admin_api_keys k WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.org_id = k.org_id AND u.id = k.owner_user_id)",
        ),
    ];
    let mut figures = Vec::new();
    for (what, query) in checks {
        let rows = offending_rows(&mut conn, query).await;
        assert!(rows.is_empty(), "{context}: {what}: {rows:?}");
    }
    for table in ["users", "project_users", "role_assignments", "audit_logs"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        figures.push(format!("{table} {n}"));
    }
    let _ = conn.close().await;
    println!(
        "[{context}] tables consistent (no duplicates, no orphans): {}",
        figures.join(", ")
    );
}

// ---------------------------------------------------------------------------------------------
// 1. The last owner, raced across replicas (and the concurrent first start, every round)
// ---------------------------------------------------------------------------------------------

/// Every round: a fresh database (every other round already migrated), two replicas started on
/// it at the same instant (exactly one bootstraps), N extra owners made through both, then one request per owner, all released at
/// once and split between the replicas, that demotes or removes it. At least one owner remains,
/// every refusal is 409 `last_owner`, and every success removed exactly one owner. The bootstrap
/// owner (whose key every request uses) is only demoted, never removed; once its demotion
/// commits its key is a reader's, and requests authenticated after that (or in flight then) are
/// refused with 401 for lacking `api.organization.users.write`, the only other refusal allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn the_last_owner_survives_demotions_and_removals_raced_across_two_replicas() {
    within_time_limit("last owner", async {
        const ROUNDS: usize = 15;
        const EXTRA_OWNERS: usize = 9;
        let started = Instant::now();
        let stats = Arc::new(Stats::default());
        let mut outcome_totals: BTreeMap<String, u64> = BTreeMap::new();
        let mut owners_left: BTreeMap<usize, u64> = BTreeMap::new();

        for round in 0..ROUNDS {
            let db = TestDatabase::on_postgres().await;
            if round % 2 == 1 {
                // Migrate first, so the two replicas' bootstraps (not their migrations, which
                // sqlx serializes) are what starts at the same instant.
                let store = orgadmin_store::open(db.url(), Arc::new(orgadmin_core::SystemClock))
                    .await
                    .unwrap_or_else(|e| panic!("migrating {}: {e}", db.url()));
                drop(store);
            }
            let pair = start_pair(&db, &stats).await;

            // The owners, made through both replicas at once (invite on one, accept on the other).
            // The owners are made through both replicas at once (invite on one, accept on the
            // other), and attacked through both.
            let race = race_owner_attacks(
                round,
                EXTRA_OWNERS,
                |i| pair.api(i).clone(),
                &pair.owner_id,
                &mut outcome_totals,
            )
            .await;
            stats.assert_no_5xx(&format!("last owner, round {round}"));
            *owners_left.entry(race.owners_after).or_default() += 1;
            // Both replicas agree on the outcome, and the database too.
            assert_eq!(
                ids(&pair.api(0).list_users().await),
                ids(&pair.api(1).list_users().await),
                "round {round}: the replicas list different users"
            );
            let mut conn = db.postgres_connection().await;
            let owners_in_db: i64 =
                sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'owner'")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            let _ = conn.close().await;
            assert_eq!(
                owners_in_db as usize, race.owners_after,
                "round {round}: the database and the API disagree on the owners"
            );
            println!("[last owner] round {round}, over two replicas: {race}");
            pair.stop().await;
            assert_tables_consistent(&db, &format!("last owner, round {round}")).await;
            drop(db);
        }
        stats.assert_no_5xx("last owner");
        println!("[last owner] outcomes: {outcome_totals:?}");
        println!("[last owner] owners left per round: {owners_left:?}");
        stats.report("last owner", started);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 2. Duplicate membership, idempotent assignment, and removal racing additions, across replicas
// ---------------------------------------------------------------------------------------------

/// Many clients, half on each replica, add the same user to the same project at once: exactly
/// one 200, the rest 409 `already_exists`, and the user is listed once. Many assign the same
/// custom role (organization and project role) at once: all 200, the role is listed once, and one
/// `role.assignment.created` event is written. The same role name, the same invitee and the same
/// invite acceptance raced: one 200, the rest the documented 409. Then members are removed on one replica while the
/// other adds them to a project and assigns them a role: nothing may be left that names a removed
/// user. Finally the tables are checked directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn duplicates_are_refused_and_assignments_idempotent_across_two_replicas() {
    within_time_limit("duplicates", async {
        const ROUNDS: usize = 16;
        const CLIENTS: usize = 24;
        const REMOVALS: usize = 4;
        let started = Instant::now();
        let stats = Arc::new(Stats::default());
        let db = TestDatabase::on_postgres().await;
        let pair = start_pair(&db, &stats).await;
        let mut figures: BTreeMap<String, u64> = BTreeMap::new();
        let apis = [pair.api(0).clone(), pair.api(1).clone()];

        for round in 0..ROUNDS {
            let RacedRound {
                project_id,
                org_role,
            } = race_membership_and_assignments(round, CLIENTS, &apis, &stats, &mut figures).await;

            // The same role name, the same invitee, the same acceptance, raced over both
            // replicas: one winner, every other answer the documented 409.
            let name = format!("Race Name {round}");
            let requests = (0..CLIENTS / 2)
                .map(|i| {
                    let spelled = if i % 2 == 0 {
                        name.clone()
                    } else {
                        name.to_uppercase()
                    };
                    (
                        pair.api(i).clone(),
                        Method::POST,
                        "/v1/organization/roles".to_owned(),
                        Some(json!({ "role_name": spelled, "permissions": [] })),
                    )
                })
                .collect();
            let answers = stampede(requests).await;
            the_one_success(
                &format!("round {round}: one role named {name:?}"),
                &answers,
                409,
                "already_exists",
                &["role_name"],
            );
            *figures
                .entry("same role name: 409 already_exists".into())
                .or_default() += answers.len() as u64 - 1;
            let email = fresh_email("invitee");
            let requests = (0..CLIENTS / 2)
                .map(|i| {
                    let spelled = if i % 2 == 0 {
                        email.clone()
                    } else {
                        email.to_uppercase()
                    };
                    (
                        pair.api(i).clone(),
                        Method::POST,
                        "/v1/organization/invites".to_owned(),
                        Some(json!({ "email": spelled, "role": "reader", "projects": [] })),
                    )
                })
                .collect();
            let answers = stampede(requests).await;
            let invite = the_one_success(
                &format!("round {round}: one pending invite for {email}"),
                &answers,
                409,
                "already_exists",
                &["email"],
            );
            *figures
                .entry("same invitee: 409 already_exists".into())
                .or_default() += answers.len() as u64 - 1;
            let invite_id = invite["id"].as_str().unwrap().to_owned();
            let requests = (0..CLIENTS / 2)
                .map(|i| {
                    (
                        pair.api(i).clone(),
                        Method::POST,
                        format!("/v1/organization/invites/{invite_id}/accept"),
                        Some(json!({ "name": "raced acceptance" })),
                    )
                })
                .collect();
            let answers = stampede(requests).await;
            the_one_success(
                &format!("round {round}: one acceptance of {invite_id}"),
                &answers,
                409,
                "invite_not_pending",
                &["invite_id"],
            );
            *figures
                .entry("same acceptance: 409 invite_not_pending".into())
                .or_default() += answers.len() as u64 - 1;
            let matching = pair
                .api(round)
                .list_all_by_id(&format!("/v1/organization/users?emails={email}"))
                .await;
            assert_eq!(
                matching.len(),
                1,
                "round {round}: {email} is one member: {matching:?}"
            );
            stats.assert_no_5xx(&format!("same name, invitee, acceptance, round {round}"));

            // Removal racing additions: each victim is removed on one replica while the other
            // adds them to the project and assigns them the organization role.
            let mut victims = Vec::new();
            for i in 0..REMOVALS {
                let user = pair
                    .api(i)
                    .add_member_via(pair.api(i + 1), "victim", "reader")
                    .await;
                victims.push(user["id"].as_str().unwrap().to_owned());
            }
            let mut requests = Vec::new();
            for (i, victim) in victims.iter().enumerate() {
                let (remover, adder) = (pair.api(i), pair.api(i + 1));
                requests.push((
                    adder.clone(),
                    Method::POST,
                    format!("/v1/organization/projects/{project_id}/users"),
                    Some(json!({ "user_id": victim, "role": "viewer" })),
                ));
                requests.push((
                    adder.clone(),
                    Method::POST,
                    format!("/v1/organization/users/{victim}/roles"),
                    Some(json!({ "role_id": org_role })),
                ));
                requests.push((
                    remover.clone(),
                    Method::DELETE,
                    format!("/v1/organization/users/{victim}"),
                    None,
                ));
            }
            let answers = stampede(requests).await;
            stats.assert_no_5xx(&format!("removal racing additions, round {round}"));
            for (chunk, victim) in answers.chunks(3).zip(&victims) {
                let [(add_status, add_body), (assign_status, assign_body), (del_status, del_body)] =
                    chunk
                else {
                    unreachable!()
                };
                assert_eq!(
                    *del_status, 200,
                    "round {round}: removing {victim}: {del_body}"
                );
                let add_label = match (*add_status, error_code(add_body)) {
                    (200, _) => "200",
                    (400, _) => "400 (not a member)",
                    (404, "not_found") => "404",
                    _ => panic!(
                        "round {round}: adding removed-or-not {victim} to a project answered \
                         {add_status} {add_body}"
                    ),
                };
                let assign_label = match (*assign_status, error_code(assign_body)) {
                    (200, _) => "200",
                    (404, "not_found") => "404",
                    _ => panic!(
                        "round {round}: assigning a role to removed-or-not {victim} answered \
                         {assign_status} {assign_body}"
                    ),
                };
                *figures
                    .entry(format!("add-to-project racing removal: {add_label}"))
                    .or_default() += 1;
                *figures
                    .entry(format!("assignment racing removal: {assign_label}"))
                    .or_default() += 1;
                for i in 0..2 {
                    let (status, body) = pair
                        .api(i)
                        .get(&format!("/v1/organization/users/{victim}"))
                        .await;
                    assert_eq!(status, 404, "round {round}: removed {victim}: {body}");
                }
            }
            let members = ids(&pair
                .api(round)
                .list_all_by_id(&format!("/v1/organization/projects/{project_id}/users"))
                .await);
            for victim in &victims {
                assert!(
                    !members.contains(victim),
                    "round {round}: removed {victim} is still a member of {project_id}"
                );
            }
        }
        stats.assert_no_5xx("duplicates");
        pair.stop().await;
        assert_tables_consistent(&db, "duplicates").await;
        println!(
            "[duplicates] {ROUNDS} rounds of {CLIENTS} clients over two replicas: {figures:?}"
        );
        stats.report("duplicates", started);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. Paginating on one replica while the other writes
// ---------------------------------------------------------------------------------------------

/// ~200 members; walkers page through them with `limit=7` on one replica while the other replica
/// invites and accepts new members and removes others, among them members that walkers' cursors
/// name (each walker's own cursor, deleted on the other replica before it asks for the next page,
/// and cursors taken from a board, deleted with no coordination). Every member that existed
/// throughout a walk appears exactly once in it, IDs strictly increase, and no page contains a
/// member whose deletion was acknowledged (by the other replica) before that page was asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn pagination_on_one_replica_is_stable_while_the_other_adds_and_removes_members() {
    within_time_limit("pagination", async {
        let started = Instant::now();
        let stats = Arc::new(Stats::default());
        let db = TestDatabase::on_postgres().await;
        let pair = Arc::new(start_pair(&db, &stats).await);

        let apis = [pair.api(0).clone(), pair.api(1).clone()];
        pagination_race(
            RaceServers {
                apis: &apis,
                owner_id: &pair.owner_id,
                stats: &stats,
            },
            RaceSize {
                seed: 200,
                rounds: 5,
                walkers: 4,
                adders: 2,
                max_adds_per_adder: 15,
                max_random_deletions: 12,
                max_board_deletions: 12,
                delete_every_from: 3,
            },
        )
        .await;
        drop(apis);
        stats.assert_no_5xx("pagination");
        for i in 0..2 {
            let project = pair
                .api(i)
                .get_ok(&format!(
                    "/v1/organization/projects/{}",
                    pair.default_project_id
                ))
                .await;
            assert_eq!(project["id"], pair.default_project_id.as_str(), "{project}");
        }
        match Arc::try_unwrap(pair) {
            Ok(pair) => pair.stop().await,
            Err(_) => panic!("a task still holds the replicas"),
        }
        assert_tables_consistent(&db, "pagination").await;
        stats.report("pagination", started);
    })
    .await;
}
