//! Organizations created, reset and deleted through the operator API while their own keys work
//! inside them, by 32 clients at once, on the backend `ORGADMIN_TEST_BACKEND` selects: nobody ever
//! sees another organization's objects, a deleted organization's key is refused (401) and never
//! answered with data, nothing answers 5xx, and when it is over no table holds a row of an
//! organization that is gone. Bounded: a fixed number of rounds and requests, and a deadline.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orgadmin_core::clock::OffsetClock;
use orgadmin_testkit::load::{fresh_email, load_client, Api, Stats};
use orgadmin_testkit::{ids, ok, operator_key, owner_key, TestDatabase, TestServer};
use serde_json::{json, Value};
use tokio::task::JoinSet;

/// Clients creating, working in and deleting organizations at once.
const CLIENTS: usize = 32;
/// Organizations each client goes through, one after the other.
const ROUNDS: usize = 2;
/// Requests (rounds of list and create) the worker inside an organization makes at most.
const WORK: usize = 8;
/// The whole test gives up after this long.
const DEADLINE: Duration = Duration::from_secs(240);
/// Longest a store call may take here (a server's is 2 s).
const STORE_DEADLINE: Duration = Duration::from_secs(30);

/// What an organization holds, as far as its own clients made it: what they may see there.
/// Members and keys are known by what the client chose before asking for them (an email, a
/// name, each unique to the test), so an answer listing one whose creation has committed but not
/// yet been answered is still recognized; projects by ID, as only the worker that lists them
/// creates them.
#[derive(Default)]
struct Known {
    user_emails: BTreeSet<String>,
    projects: BTreeSet<String>,
    key_names: BTreeSet<String>,
    /// The first admin key, whose name every organization shares.
    first_key: String,
}

/// Every object in a list answer is one the organization's own clients made.
fn all_known(what: &str, list: &Value, mine: impl Fn(&Value) -> bool) {
    for item in list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
    {
        assert!(
            mine(item),
            "{what}: {} is not of this organization: {list}",
            item["id"]
        );
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Lists and creates inside the organization with its key until it is refused or `WORK` rounds
/// are done; every answer is either its own organization's objects or a refusal.
async fn work_inside(api: Api, known: Arc<Mutex<Known>>) -> usize {
    let mut refused = 0;
    for round in 0..WORK {
        let (status, users) = api.get("/v1/organization/users").await;
        match status {
            200 => all_known("users", &users, |u| {
                known
                    .lock()
                    .unwrap()
                    .user_emails
                    .contains(&text(&u["email"]))
            }),
            401 => refused += 1,
            other => panic!("users list answered {other}: {users}"),
        }
        let (status, project) = api
            .post(
                "/v1/organization/projects",
                json!({ "name": format!("Work {round}") }),
            )
            .await;
        match status {
            200 => {
                let id = project["id"].as_str().unwrap().to_owned();
                known.lock().unwrap().projects.insert(id);
            }
            401 => refused += 1,
            other => panic!("project create answered {other}: {project}"),
        }
        let (status, projects) = api
            .get("/v1/organization/projects?limit=100&include_archived=true")
            .await;
        match status {
            200 => all_known("projects", &projects, |p| {
                known.lock().unwrap().projects.contains(&text(&p["id"]))
            }),
            401 => refused += 1,
            other => panic!("projects list answered {other}: {projects}"),
        }
        let (status, keys) = api.get("/v1/organization/admin_api_keys").await;
        match status {
            200 => all_known("admin keys", &keys, |k| {
                let known = known.lock().unwrap();
                text(&k["id"]) == known.first_key || known.key_names.contains(&text(&k["name"]))
            }),
            401 => refused += 1,
            other => panic!("admin key list answered {other}: {keys}"),
        }
        if refused > 0 {
            break;
        }
    }
    refused
}

/// One client: `ROUNDS` organizations, each created, worked in by its owner key and a worker at
/// once, reset, worked in again, and deleted while the worker still runs.
async fn lifecycle(client: reqwest::Client, base: String, stats: Arc<Stats>, n: usize) -> usize {
    let operator = Api::new(
        client.clone(),
        base.clone(),
        operator_key(),
        "operator",
        stats.clone(),
    );
    let mut refusals = 0;
    for round in 0..ROUNDS {
        let owner_email = fresh_email(&format!("owner{n}"));
        let created = operator
            .post_ok(
                "/_orgadmin/organizations",
                json!({ "name": format!("Client {n} round {round}"), "owner_email": owner_email }),
            )
            .await;
        let org = text(&created["organization"]["id"]);
        let owner = Api::new(
            client.clone(),
            base.clone(),
            text(&created["admin_key"]["value"]),
            "owner",
            stats.clone(),
        );
        let member_email = fresh_email(&format!("member{n}"));
        let key_name = format!("extra of client {n} round {round}");
        let known = Arc::new(Mutex::new(Known {
            user_emails: [owner_email, member_email.clone()].into(),
            projects: [text(&created["default_project"]["id"])].into(),
            key_names: [key_name.clone()].into(),
            first_key: text(&created["admin_key"]["id"]),
        }));

        // The owner adds a member and a key while the worker lists and creates.
        let worker = tokio::spawn(work_inside(owner.clone(), known.clone()));
        let invite = owner
            .post_ok(
                "/v1/organization/invites",
                json!({ "email": member_email, "role": "reader", "projects": [] }),
            )
            .await;
        owner
            .post_ok(
                &format!("/v1/organization/invites/{}/accept", text(&invite["id"])),
                json!({ "name": "Member" }),
            )
            .await;
        let key = owner
            .post_ok(
                "/v1/organization/admin_api_keys",
                json!({ "name": key_name }),
            )
            .await;
        assert_eq!(worker.await.expect("the worker finishes"), 0);

        // Reset: back to the owner, default project and first key alone.
        let reset = operator
            .post_ok(&format!("/_orgadmin/organizations/{org}/reset"), json!({}))
            .await;
        assert_eq!(reset["organization"]["id"], org.as_str());
        let users = owner.get_ok("/v1/organization/users").await;
        assert_eq!(ids(&users), [created["owner"]["id"].as_str().unwrap()]);
        let extra = Api::new(
            client.clone(),
            base.clone(),
            text(&key["value"]),
            "extra",
            stats.clone(),
        );
        assert_eq!(extra.get("/v1/organization/users").await.0, 401);

        // Delete while the worker is inside: from then on its key is refused.
        let worker = tokio::spawn(work_inside(owner.clone(), known.clone()));
        tokio::task::yield_now().await;
        let (status, deleted) = operator
            .delete(&format!("/_orgadmin/organizations/{org}"))
            .await;
        assert_eq!(status, 200, "{deleted}");
        assert_eq!(deleted["deleted"], true);
        refusals += worker.await.expect("the worker finishes");
        for path in ["/v1/organization/users", "/v1/organization/projects"] {
            let (status, body) = owner.get(path).await;
            assert_eq!(status, 401, "{path} after delete: {body}");
        }
        let (status, _) = operator
            .get(&format!("/_orgadmin/organizations/{org}"))
            .await;
        assert_eq!(status, 404);
    }
    refusals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_creating_and_deleting_organizations_never_see_each_other_and_leave_nothing() {
    let database = TestDatabase::persistent().await;
    // Up to 64 streams of writes queue on SQLite's one writer, on a machine shared with other
    // builds: the store's 2 s deadline would answer some of them 503, as it should under that
    // load (`tests/pg_fault.rs` covers the deadline). This test is about isolation and
    // leftovers, so the deadline is raised, within the test's own.
    let s = TestServer::start_on_with(
        database.url(),
        Some(&owner_key()),
        Arc::new(OffsetClock::default()),
        |config| config.store.deadline = Some(STORE_DEADLINE),
    )
    .await;
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let client = load_client(Duration::from_secs(60));
    let mut clients = JoinSet::new();
    for n in 0..CLIENTS {
        clients.spawn(lifecycle(
            client.clone(),
            s.base_url.clone(),
            stats.clone(),
            n,
        ));
    }
    let refusals = tokio::time::timeout(DEADLINE, async {
        let mut refusals = 0;
        while let Some(done) = clients.join_next().await {
            refusals += done.expect("a client panicked");
        }
        refusals
    })
    .await
    .expect("the clients finish within the deadline");
    stats.report("operator concurrency", started);
    stats.assert_no_5xx("creating and deleting organizations");
    println!("{refusals} requests of workers were refused after their organization was deleted");

    // Only the first organization is left, and no table holds a row of any other.
    let operator = Api::new(
        client,
        s.base_url.clone(),
        operator_key(),
        "operator",
        stats.clone(),
    );
    let left = operator.get_ok("/_orgadmin/organizations").await;
    assert_eq!(ids(&left), [s.org_id()]);
    let users = ok(s.get("/v1/organization/users").await);
    assert_eq!(ids(&users), [s.owner_id()]);
    s.stop().await;
    assert_eq!(
        database.rows_of_missing_organizations().await,
        Vec::<(String, i64)>::new(),
        "rows of deleted organizations left behind (table, rows)"
    );
}
