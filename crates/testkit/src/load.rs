//! Clients for the race tests (`concurrency.rs`, `replicas.rs`): an [`Api`] bound to one running
//! server and one admin key that counts every status it sees in shared [`Stats`] and keeps every
//! 5xx with its evidence instead of failing at once, so a test can race hundreds of requests and
//! then report them all. Beside it, what those tests share: unique emails, member-making, the two
//! list walkers, the barrier-released [`stampede`] and [`the_one_success`] of a race, the ways to
//! [`Attack`] an owner and the owner race ([`race_owner_attacks`]), and the count of
//! [`assignment_events`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// One answer as the race tests see it: the status as a number, and the body (JSON, or the raw
/// text as a JSON string when it is not JSON).
pub type Counted = (u16, Value);

/// Every status observed by one test (in all and per server), and every 5xx with its evidence.
#[derive(Default)]
pub struct Stats {
    statuses: Mutex<BTreeMap<u16, u64>>,
    per_server: Mutex<BTreeMap<&'static str, u64>>,
    server_errors: Mutex<Vec<String>>,
}

impl Stats {
    pub fn total(&self) -> u64 {
        self.statuses.lock().unwrap().values().sum()
    }

    /// One line of figures; the split per server only when requests went to more than one.
    pub fn report(&self, test: &str, started: Instant) {
        let statuses = self.statuses.lock().unwrap().clone();
        let per_server = self.per_server.lock().unwrap().clone();
        let split = if per_server.len() > 1 {
            format!(" (per server {per_server:?})")
        } else {
            String::new()
        };
        println!(
            "[{test}] {} requests in {:.1?}{split}, statuses {statuses:?}",
            self.total(),
            started.elapsed()
        );
    }

    #[track_caller]
    pub fn assert_no_5xx(&self, context: &str) {
        let errors = self.server_errors.lock().unwrap();
        assert!(
            errors.is_empty(),
            "{context}: {} responses were 5xx (a 5xx is a bug, SPEC §4):\n{}",
            errors.len(),
            errors.join("\n")
        );
    }
}

/// A client with room for many concurrent connections to one host, and `timeout` per request.
pub fn load_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(64)
        .build()
        .expect("an HTTP client")
}

/// A client of one running server, bound to an admin key; every response is counted in `stats`
/// under `server` (the name failure messages give the server).
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
    pub server: &'static str,
    stats: Arc<Stats>,
}

impl Api {
    /// `base` is `http://host:port`.
    pub fn new(
        client: reqwest::Client,
        base: String,
        key: String,
        server: &'static str,
        stats: Arc<Stats>,
    ) -> Self {
        Self {
            client,
            base,
            key,
            server,
            stats,
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Counted {
        let server = self.server;
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{server} {method} {path}: transport error: {e}"));
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(none)")
            .to_owned();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{server} {method} {path}: reading body: {e}"));
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        *self
            .stats
            .statuses
            .lock()
            .unwrap()
            .entry(status)
            .or_default() += 1;
        *self
            .stats
            .per_server
            .lock()
            .unwrap()
            .entry(server)
            .or_default() += 1;
        if status >= 500 {
            self.stats.server_errors.lock().unwrap().push(format!(
                "{server} {method} {path} body={body:?} -> {status} x-request-id={request_id} {value}"
            ));
        }
        (status, value)
    }

    pub async fn get(&self, path: &str) -> Counted {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Counted {
        self.send(Method::POST, path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Counted {
        self.send(Method::DELETE, path, None).await
    }

    /// `GET` that must succeed.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{} GET {path}: {body}", self.server);
        body
    }

    /// `POST` that must succeed.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.post(path, body.clone()).await;
        assert_eq!(status, 200, "{} POST {path} {body}: {answer}", self.server);
        answer
    }

    /// Invite and accept here: a new member with the base role `role` and no projects. Returns
    /// the `organization.user`.
    pub async fn add_member(&self, tag: &str, role: &str) -> Value {
        self.add_member_via(self, tag, role).await
    }

    /// Invite here and accept on `acceptor` (maybe another server on the same database): a new
    /// member with the base role `role` and no projects. Returns the `organization.user`.
    pub async fn add_member_via(&self, acceptor: &Api, tag: &str, role: &str) -> Value {
        let email = fresh_email(tag);
        let invite = self
            .post_ok(
                "/v1/organization/invites",
                json!({ "email": email, "role": role, "projects": [] }),
            )
            .await;
        let invite_id = invite["id"].as_str().unwrap();
        let user = acceptor
            .post_ok(
                &format!("/v1/organization/invites/{invite_id}/accept"),
                json!({ "name": format!("{tag} member") }),
            )
            .await;
        assert_eq!(user["role"], role, "{user}");
        user
    }

    /// Every page of an `after`-cursor list (`first_id`/`last_id`/`has_more`).
    pub async fn list_all_by_id(&self, path: &str) -> Vec<Value> {
        self.list_all(path, "last_id").await
    }

    /// Every page of a `next`-cursor list (roles, role assignments).
    pub async fn list_all_by_next(&self, path: &str) -> Vec<Value> {
        self.list_all(path, "next").await
    }

    /// Every page of a list, 100 at a time, following the cursor in the page's field `cursor`.
    async fn list_all(&self, path: &str, cursor: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        loop {
            let url = match &after {
                Some(a) => format!("{path}{sep}limit=100&after={a}"),
                None => format!("{path}{sep}limit=100"),
            };
            let page = self.get_ok(&url).await;
            all.extend(page["data"].as_array().unwrap().iter().cloned());
            if !page["has_more"].as_bool().unwrap() {
                return all;
            }
            after = Some(page[cursor].as_str().unwrap().to_owned());
        }
    }

    pub async fn list_users(&self) -> Vec<Value> {
        self.list_all_by_id("/v1/organization/users").await
    }
}

/// Unique emails across the whole test binary.
static EMAIL_SEQ: AtomicU64 = AtomicU64::new(0);

pub fn fresh_email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        EMAIL_SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// The `id` of every item.
pub fn item_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `error.code` of an error body (`""` when there is none).
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Send every `(client, method, path, body)` at once (released together by a barrier); the
/// answers in the order of `requests`.
/// The one success among `answers` of requests that race to make the same thing: every other
/// answer must be the refusal `status` `code`, its `param` one of `params`, and exactly one a
/// 200, whose body this returns. `what` says what was raced, for the failure message.
pub fn the_one_success<'a>(
    what: &str,
    answers: &'a [Counted],
    status: u16,
    code: &str,
    params: &[&str],
) -> &'a Value {
    for (got, body) in answers {
        if *got != 200 {
            let param = body["error"]["param"].as_str().unwrap_or_default();
            assert!(
                *got == status && error_code(body) == code && params.contains(&param),
                "{what}: expected 200 or {status} {code} (param one of {params:?}), got {got} {body}"
            );
        }
    }
    let won: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(won.len(), 1, "{what}: exactly one may succeed: {answers:?}");
    won[0]
}

pub async fn stampede(requests: Vec<(Api, Method, String, Option<Value>)>) -> Vec<Counted> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let mut set = JoinSet::new();
    for (i, (api, method, path, body)) in requests.into_iter().enumerate() {
        let barrier = barrier.clone();
        set.spawn(async move {
            barrier.wait().await;
            (i, api.send(method, &path, body.as_ref()).await)
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, answer)| answer).collect()
}

/// How one owner is attacked.
#[derive(Clone, Copy, Debug)]
pub enum Attack {
    /// `POST /organization/users/{id}` `{"role": "reader"}`
    DemoteByRole,
    /// `POST /organization/users/{id}` `{"role_id": "role-api-organization-reader"}`
    DemoteByRoleId,
    /// `POST /organization/users/{id}/roles` `{"role_id": "role-api-organization-reader"}`
    DemoteByAssignment,
    /// `DELETE /organization/users/{id}`
    Delete,
}

impl Attack {
    pub const ALL: [Attack; 4] = [
        Attack::DemoteByRole,
        Attack::DemoteByRoleId,
        Attack::DemoteByAssignment,
        Attack::Delete,
    ];

    /// The request of this attack on `user`.
    pub fn request(self, user: &str) -> (Method, String, Option<Value>) {
        let path = format!("/v1/organization/users/{user}");
        match self {
            Attack::DemoteByRole => (Method::POST, path, Some(json!({ "role": "reader" }))),
            Attack::DemoteByRoleId => (
                Method::POST,
                path,
                Some(json!({ "role_id": "role-api-organization-reader" })),
            ),
            Attack::DemoteByAssignment => (
                Method::POST,
                format!("{path}/roles"),
                Some(json!({ "role_id": "role-api-organization-reader" })),
            ),
            Attack::Delete => (Method::DELETE, path, None),
        }
    }

    /// Send this attack on `user` through `api`.
    pub async fn run(self, api: &Api, user: &str) -> Counted {
        let (method, path, body) = self.request(user);
        api.send(method, &path, body.as_ref()).await
    }
}

/// The IDs of the owners of an owner-attack round: `bootstrap_owner` first, then the members
/// that `makers` made (each answering the created user).
async fn owners_made(bootstrap_owner: &str, mut makers: JoinSet<Value>) -> Vec<String> {
    let mut owners = vec![bootstrap_owner.to_owned()];
    while let Some(user) = makers.join_next().await {
        owners.push(user.unwrap()["id"].as_str().unwrap().to_owned());
    }
    owners
}

/// One attack per owner of `round`, in random order. The attacks rotate with the round; the
/// bootstrap owner is only ever demoted, never deleted.
fn owner_attack_plan(
    owners: &[String],
    bootstrap_owner: &str,
    round: usize,
) -> Vec<(String, Attack)> {
    let mut plan: Vec<(String, Attack)> = owners
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let attacks = if id == bootstrap_owner { 3 } else { 4 };
            (id.clone(), Attack::ALL[(round + i) % attacks])
        })
        .collect();
    plan.shuffle(&mut rand::thread_rng());
    plan
}

/// What one owner race came to, for the round's summary line.
pub struct OwnerRace {
    pub racers: usize,
    pub successes: usize,
    pub last_owner_refusals: usize,
    /// Requests refused because the bootstrap owner's key was narrowed by its own demotion.
    pub narrowed: usize,
    pub bootstrap_demoted: bool,
    pub owners_before: usize,
    pub owners_after: usize,
    /// Whether the bootstrap owner is an owner still.
    pub bootstrap_survived: bool,
}

/// Make `extra_owners` owners beside the bootstrap owner (concurrently, the `i`-th invited
/// through `api(i)` and accepted through `api(i + 1)`), then race one attack per owner
/// ([`owner_attack_plan`]; all released at once, the `i`-th through `api(i)`) and check what
/// they may come to: each answer is a 200, a 409 `last_owner`, or, once
/// the bootstrap owner's demotion committed, a refusal of its narrowed key; at least one owner is
/// left; every success removed exactly one owner; a `last_owner` refusal (or no refusal of the
/// narrowed key) leaves exactly one; and every user listed `after` is as their answer says.
/// Each outcome is counted in `totals` as "`attack` `label`".
pub async fn race_owner_attacks(
    round: usize,
    extra_owners: usize,
    api: impl Fn(usize) -> Api,
    bootstrap_owner: &str,
    totals: &mut BTreeMap<String, u64>,
) -> OwnerRace {
    let mut makers = JoinSet::new();
    for i in 0..extra_owners {
        let (inviter, acceptor) = (api(i), api(i + 1));
        makers.spawn(async move { inviter.add_member_via(&acceptor, "owner", "owner").await });
    }
    let owners = owners_made(bootstrap_owner, makers).await;
    let before = api(round).list_users().await;
    let owners_before = before.iter().filter(|u| u["role"] == "owner").count();
    assert_eq!(
        owners_before,
        extra_owners + 1,
        "round {round}: owners made"
    );
    let plan = &owner_attack_plan(&owners, bootstrap_owner, round);

    let requests = plan
        .iter()
        .enumerate()
        .map(|(i, (user, attack))| {
            let (method, path, body) = attack.request(user);
            (api(i), method, path, body)
        })
        .collect();
    let answers = stampede(requests).await;
    let bootstrap_demoted = plan
        .iter()
        .zip(&answers)
        .any(|((u, _), (s, _))| u == bootstrap_owner && *s == 200);
    let (mut successes, mut last_owner_refusals, mut narrowed) = (0, 0, 0);
    for (i, ((user, attack), (status, body))) in plan.iter().zip(&answers).enumerate() {
        let label = match (*status, error_code(body)) {
            (200, _) => {
                successes += 1;
                "200"
            }
            (409, "last_owner") => {
                last_owner_refusals += 1;
                assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
                assert_eq!(body["error"]["param"], "user_id", "{body}");
                "409 last_owner"
            }
            (401, _) if bootstrap_demoted && lacks_users_write(*status, body) => {
                narrowed += 1;
                "401 (key narrowed)"
            }
            _ => panic!(
                "round {round}: {attack:?} of {user} on {} answered {status} {body}; only 200, \
                 409 last_owner, or 401 lacking users.write once the key's owner was demoted, \
                 are possible",
                api(i).server
            ),
        };
        *totals.entry(format!("{attack:?} {label}")).or_default() += 1;
    }

    // The state after the race. The bootstrap key can still read users as a reader.
    let after = api(round).list_users().await;
    let owners_after: Vec<&Value> = after.iter().filter(|u| u["role"] == "owner").collect();
    let results: Vec<_> = plan.iter().zip(&answers).collect();
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
    if last_owner_refusals > 0 || narrowed == 0 {
        // A `last_owner` refusal means that at that moment exactly one owner was left, and
        // owners only decrease; with no refusal of the narrowed key, every request either
        // succeeded or was refused as the last owner.
        assert_eq!(
            owners_after.len(),
            1,
            "round {round}: exactly one owner must remain; results: {results:?}"
        );
    }
    let role_of: HashMap<&str, &Value> = after
        .iter()
        .map(|u| (u["id"].as_str().unwrap(), &u["role"]))
        .collect();
    for ((user, attack), (status, _)) in &results {
        let now = role_of.get(user.as_str()).copied();
        match (attack, *status) {
            (Attack::Delete, 200) => {
                assert!(
                    now.is_none(),
                    "round {round}: removed {user} is still listed"
                )
            }
            (_, 200) => assert_eq!(now, Some(&json!("reader")), "round {round}: demoted {user}"),
            _ => assert_eq!(
                now,
                Some(&json!("owner")),
                "round {round}: refused {attack:?} of {user} must leave them an owner"
            ),
        }
    }
    OwnerRace {
        racers: plan.len(),
        successes,
        last_owner_refusals,
        narrowed,
        bootstrap_demoted,
        owners_before,
        owners_after: owners_after.len(),
        bootstrap_survived: owners_after.iter().any(|u| u["id"] == bootstrap_owner),
    }
}

/// The refusal of a request of a key whose owner was demoted meanwhile: it lacks (at least)
/// `api.organization.users.write`, whether it was authenticated after the demotion committed
/// or narrowed while in flight.
fn lacks_users_write(status: u16, body: &Value) -> bool {
    let status = reqwest::StatusCode::from_u16(status).unwrap_or_default();
    crate::missing_scopes(status, body)
        .is_some_and(|missing| missing.iter().any(|m| m == "api.organization.users.write"))
}

impl std::fmt::Display for OwnerRace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} racers, {} succeeded, {} refused last_owner, {} refused (bootstrap key narrowed: \
             {}), owners {} -> {}",
            self.racers,
            self.successes,
            self.last_owner_refusals,
            self.narrowed,
            self.bootstrap_demoted,
            self.owners_before,
            self.owners_after
        )
    }
}

/// What one round of [`race_membership_and_assignments`] made.
pub struct RacedRound {
    pub project_id: String,
    pub org_role: String,
}

/// One round of the duplicate races, spread over `servers` (on one database; request `i` goes
/// to server `i % n`): `clients` add the same user to a new project at once (half naming them by
/// ID, half by upper-cased email): one 200, the rest 409 `already_exists`, listed once; then
/// `clients` assign the same organization role, and the same project role, at once: all 200
/// (idempotent), each role held once, one `role.assignment.created` event each. Outcomes are
/// counted in `figures`. Returns what the round made.
pub async fn race_membership_and_assignments(
    round: usize,
    clients: usize,
    servers: &[Api],
    stats: &Stats,
    figures: &mut BTreeMap<String, u64>,
) -> RacedRound {
    let api = |i: usize| &servers[i % servers.len()];
    let project_id = api(round)
        .post_ok(
            "/v1/organization/projects",
            json!({ "name": format!("race project {round}") }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = api(round + 1)
        .add_member_via(api(round), "dup", "reader")
        .await;
    let user_id = user["id"].as_str().unwrap().to_owned();
    let email = user["email"].as_str().unwrap().to_owned();

    // Membership: half by ID, half by upper-cased email, spread over the servers.
    let requests = (0..clients)
        .map(|i| {
            let body = if (i / 2) % 2 == 0 {
                json!({ "user_id": user_id, "role": "member" })
            } else {
                json!({ "email": email.to_uppercase(), "role": "member" })
            };
            (
                api(i).clone(),
                Method::POST,
                format!("/v1/organization/projects/{project_id}/users"),
                Some(body),
            )
        })
        .collect();
    let answers = stampede(requests).await;
    stats.assert_no_5xx(&format!("duplicate membership, round {round}"));
    let created = the_one_success(
        &format!("round {round}: adding the same project user"),
        &answers,
        409,
        "already_exists",
        &["user_id", "email"],
    );
    assert_eq!(created["id"], user_id.as_str());
    *figures.entry("membership 200".into()).or_default() += 1;
    *figures
        .entry("membership 409 already_exists".into())
        .or_default() += clients as u64 - 1;
    for i in 0..servers.len() {
        let members = item_ids(
            &api(i)
                .list_all_by_id(&format!("/v1/organization/projects/{project_id}/users"))
                .await,
        );
        assert_eq!(
            members.iter().filter(|id| **id == user_id).count(),
            1,
            "round {round}: {} lists the project user once: {members:?}",
            api(i).server
        );
    }

    // An organization role and a project role, each assigned by everyone at once.
    let org_role = api(round)
        .post_ok(
            "/v1/organization/roles",
            json!({
                "role_name": format!("race org role {round}"),
                "permissions": ["api.organization.users.read"],
                "description": "raced",
            }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let project_role = api(round + 1)
        .post_ok(
            &format!("/v1/projects/{project_id}/roles"),
            json!({
                "role_name": format!("race project role {round}"),
                "permissions": ["api.project.read"],
                "description": "raced",
            }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (kind, role_id, path) in [
        (
            "org role",
            &org_role,
            format!("/v1/organization/users/{user_id}/roles"),
        ),
        (
            "project role",
            &project_role,
            format!("/v1/projects/{project_id}/users/{user_id}/roles"),
        ),
    ] {
        let requests = (0..clients)
            .map(|i| {
                (
                    api(i).clone(),
                    Method::POST,
                    path.clone(),
                    Some(json!({ "role_id": role_id })),
                )
            })
            .collect();
        let answers = stampede(requests).await;
        stats.assert_no_5xx(&format!("{kind} assignment, round {round}"));
        for (status, body) in &answers {
            assert_eq!(
                *status, 200,
                "round {round}: assigning a {kind} twice is idempotent: {body}"
            );
            assert_eq!(body["role"]["id"], role_id.as_str(), "{body}");
        }
        *figures.entry(format!("{kind} assignment 200")).or_default() += clients as u64;
        for i in 0..servers.len() {
            let held = item_ids(&api(i).list_all_by_next(&path).await);
            assert_eq!(
                held.iter().filter(|id| *id == role_id).count(),
                1,
                "round {round}: {} lists the {kind} once: {held:?}",
                api(i).server
            );
            assert_eq!(
                assignment_events(api(i), role_id, &user_id).await,
                1,
                "round {round}: one role.assignment.created event for the {kind} ({})",
                api(i).server
            );
        }
    }
    RacedRound {
        project_id,
        org_role,
    }
}

/// The `role.assignment.created` events for `role` given to `user`.
pub async fn assignment_events(api: &Api, role: &str, user: &str) -> usize {
    api.list_all_by_id(&format!(
        "/v1/organization/audit_logs?event_types[]=role.assignment.created&resource_ids[]={role}"
    ))
    .await
    .iter()
    .filter(|e| {
        let d = &e["role.assignment.created"];
        d["id"] == role && d["principal_id"] == user && d["principal_type"] == "user"
    })
    .count()
}
