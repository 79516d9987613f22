//! Crash safety: `orgadmin serve` (the real binary, as in `tests/shutdown.rs`) is killed with
//! SIGKILL at random moments while concurrent writers change memberships, and restarted on the
//! same database each time (a SQLite file, or a PostgreSQL database with
//! `ORGADMIN_TEST_BACKEND=postgres`). After every restart:
//!
//! - every write acknowledged (HTTP 200) before the kill is present — invites, acceptances (which
//!   add the member and their invited projects), role changes, custom role assignments, project
//!   user adds and member deletions — checked against a client-side ledger, in the database
//!   opened directly and through the API;
//! - a write in flight at the kill (no answer) is either wholly there or wholly absent: the state
//!   of its member matches the ledger with or without it, never anything in between; no project
//!   membership or role assignment is left of a deleted member;
//! - the audit log matches the data exactly: each applied write has its events, nothing absent has
//!   an event, and every `user.added` is for a current member or one later `user.deleted`;
//! - on SQLite, `PRAGMA integrity_check` answers `ok`.
//!
//! The number of kill/restart cycles comes from `ORGADMIN_CRASH_CYCLES` (default 8, each with
//! 0.3–1 s of load); the random seed is printed and can be replayed with `ORGADMIN_CRASH_SEED`.
//! The full-length run:
//!
//! ```text
//! ORGADMIN_CRASH_CYCLES=200 cargo test -p orgadmin --test crash -- --nocapture
//! ORGADMIN_TEST_BACKEND=postgres ORGADMIN_CRASH_CYCLES=200 cargo test -p orgadmin --test crash -- --nocapture
//! ```

#![cfg(unix)]

#[path = "support/serve.rs"]
mod serve;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use orgadmin_testkit::database::{self, TestDatabase};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use serve::Server;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, PgConnection, SqliteConnection};

const KEY: &str = "sk-admin-crashcrashcrashcrashcrashcrashcrash";
const WRITERS: u64 = 8;
const PROJECTS: usize = 3;

/// One write a writer sends.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    /// Invite the member (organization role `reader`) to their invited projects.
    Invite,
    /// Accept the invite: the member joins the organization and the invited projects.
    Accept,
    /// Make the member an organization `owner`.
    SetOwner,
    /// Assign the custom organization role.
    Assign(String),
    /// Add the member to the project (role `member`).
    AddProject(String),
    /// Delete the member.
    Delete,
}

/// The ledger entry of one member a writer worked on.
#[derive(Debug)]
struct Member {
    email: String,
    invite_projects: Vec<String>,
    invite_id: Option<String>,
    user_id: Option<String>,
    /// Writes answered 200, in order (plus in-flight writes found applied after a restart).
    acked: Vec<Op>,
    /// The write sent when the server was killed, not answered.
    in_flight: Option<Op>,
    /// The cycle in which the member was last written.
    cycle: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct UserState {
    role: String,
    projects: BTreeMap<String, String>,
    custom_roles: BTreeSet<String>,
}

/// What the database holds of a member: their invite (accepted or not), and the user.
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    invite_accepted: Option<bool>,
    user: Option<UserState>,
}

/// The state `ops` lead to.
fn expected(member: &Member, ops: &[Op]) -> State {
    let mut state = State {
        invite_accepted: None,
        user: None,
    };
    for op in ops {
        match op {
            Op::Invite => state.invite_accepted = Some(false),
            Op::Accept => {
                state.invite_accepted = Some(true);
                state.user = Some(UserState {
                    role: "reader".into(),
                    projects: member
                        .invite_projects
                        .iter()
                        .map(|p| (p.clone(), "member".to_owned()))
                        .collect(),
                    custom_roles: BTreeSet::new(),
                });
            }
            Op::SetOwner => state.user.as_mut().expect("a user").role = "owner".into(),
            Op::Assign(role) => {
                state
                    .user
                    .as_mut()
                    .expect("a user")
                    .custom_roles
                    .insert(role.clone());
            }
            Op::AddProject(project) => {
                state
                    .user
                    .as_mut()
                    .expect("a user")
                    .projects
                    .insert(project.clone(), "member".into());
            }
            Op::Delete => state.user = None,
        }
    }
    state
}

/// An audit event as compared: type, resource, project, and principal (role assignments).
type EventKey = (String, String, Option<String>, Option<String>);

fn event(kind: &str, resource: &str, project: Option<&str>, principal: Option<&str>) -> EventKey {
    (
        kind.to_owned(),
        resource.to_owned(),
        project.map(str::to_owned),
        principal.map(str::to_owned),
    )
}

/// The audit events the member's applied writes must have left, exactly.
fn expected_events(member: &Member) -> Vec<EventKey> {
    let invite = || {
        member
            .invite_id
            .as_deref()
            .expect("the invite's ID is known")
    };
    let user = || member.user_id.as_deref().expect("the user's ID is known");
    let mut events = Vec::new();
    for op in &member.acked {
        match op {
            Op::Invite => events.push(event("invite.sent", invite(), None, None)),
            Op::Accept => {
                events.push(event("invite.accepted", invite(), None, None));
                events.push(event("user.added", user(), None, None));
                for p in &member.invite_projects {
                    events.push(event("user.added", user(), Some(p), None));
                }
            }
            Op::SetOwner => events.push(event("user.updated", user(), None, None)),
            Op::Assign(role) => {
                events.push(event("role.assignment.created", role, None, Some(user())))
            }
            Op::AddProject(p) => events.push(event("user.added", user(), Some(p), None)),
            Op::Delete => events.push(event("user.deleted", user(), None, None)),
        }
    }
    events
}

/// Send one write; `None` when no answer came (the server was killed).
async fn send(client: &reqwest::Client, base: &str, member: &Member, op: &Op) -> Option<Value> {
    let v1 = format!("{base}/v1/organization");
    let user = || member.user_id.clone().expect("the user's ID is known");
    let request = match op {
        Op::Invite => client.post(format!("{v1}/invites")).json(&json!({
            "email": member.email,
            "role": "reader",
            "projects": member.invite_projects.iter()
                .map(|p| json!({"id": p, "role": "member"}))
                .collect::<Vec<_>>(),
        })),
        Op::Accept => client
            .post(format!(
                "{v1}/invites/{}/accept",
                member
                    .invite_id
                    .as_deref()
                    .expect("the invite's ID is known")
            ))
            .json(&json!({"name": "Crash Test"})),
        Op::SetOwner => client
            .post(format!("{v1}/users/{}", user()))
            .json(&json!({"role": "owner"})),
        Op::Assign(role) => client
            .post(format!("{v1}/users/{}/roles", user()))
            .json(&json!({"role_id": role})),
        Op::AddProject(p) => client
            .post(format!("{v1}/projects/{p}/users"))
            .json(&json!({"user_id": user(), "role": "member"})),
        Op::Delete => client.delete(format!("{v1}/users/{}", user())),
    };
    let response = request.bearer_auth(KEY).send().await.ok()?;
    let status = response.status();
    let bytes = response.bytes().await.ok()?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert!(
        status.is_success(),
        "{op:?} for {} answered {status}: {body}",
        member.email
    );
    Some(body)
}

/// One writer's load until the server dies: members invited, accepted, changed, some deleted.
async fn writer(
    client: reqwest::Client,
    base: String,
    seed: u64,
    cycle: usize,
    writer: u64,
    projects: Vec<String>,
    roles: Vec<String>,
) -> (Vec<Member>, usize) {
    let mut acknowledged = 0;
    let mut rng = StdRng::seed_from_u64(seed ^ ((cycle as u64) << 16) ^ writer);
    let mut members = Vec::new();
    for n in 0.. {
        let invite_projects: Vec<String> = projects
            .iter()
            .filter(|_| rng.gen_bool(0.5))
            .cloned()
            .collect();
        let mut changes = Vec::new();
        if rng.gen_bool(0.4) {
            changes.push(Op::SetOwner);
        }
        if rng.gen_bool(0.6) {
            changes.push(Op::Assign(roles.choose(&mut rng).expect("a role").clone()));
        }
        let others: Vec<&String> = projects
            .iter()
            .filter(|p| !invite_projects.contains(p))
            .collect();
        if let Some(p) = others.choose(&mut rng) {
            if rng.gen_bool(0.6) {
                changes.push(Op::AddProject((*p).clone()));
            }
        }
        changes.shuffle(&mut rng);
        let mut script = vec![Op::Invite, Op::Accept];
        script.extend(changes);
        if rng.gen_bool(0.5) {
            script.push(Op::Delete);
        }
        let mut member = Member {
            email: format!("c{cycle}-w{writer}-{n}@crash.test"),
            invite_projects,
            invite_id: None,
            user_id: None,
            acked: Vec::new(),
            in_flight: None,
            cycle,
        };
        for op in script {
            match send(&client, &base, &member, &op).await {
                Some(body) => {
                    match op {
                        Op::Invite => member.invite_id = body["id"].as_str().map(str::to_owned),
                        Op::Accept => member.user_id = body["id"].as_str().map(str::to_owned),
                        _ => {}
                    }
                    member.acked.push(op);
                    acknowledged += 1;
                }
                None => {
                    member.in_flight = Some(op);
                    members.push(member);
                    return (members, acknowledged);
                }
            }
        }
        members.push(member);
    }
    unreachable!()
}

/// A direct connection to the database, read-only on SQLite.
enum Db {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Db {
    async fn open(url: &str, sqlite_file: Option<&std::path::Path>) -> Self {
        match sqlite_file {
            Some(path) => Db::Sqlite(
                SqliteConnection::connect_with(
                    &SqliteConnectOptions::new().filename(path).read_only(true),
                )
                .await
                .expect("opening the SQLite file read-only"),
            ),
            None => Db::Postgres(
                PgConnection::connect(url)
                    .await
                    .expect("connecting to PostgreSQL"),
            ),
        }
    }

    async fn rows<T>(&mut self, sql: &str) -> Vec<T>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let rows = match self {
            Db::Sqlite(c) => sqlx::query_as(sql).fetch_all(c).await,
            Db::Postgres(c) => sqlx::query_as(sql).fetch_all(c).await,
        };
        rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    async fn close(self) {
        let _ = match self {
            Db::Sqlite(c) => c.close().await,
            Db::Postgres(c) => c.close().await,
        };
    }
}

/// The database's memberships and audit log, read directly.
struct Snapshot {
    /// id, email_norm, accepted_at
    invites: Vec<InviteRow>,
    /// id, email_norm, role
    users: Vec<(String, String, String)>,
    /// project_id, user_id, role
    project_users: Vec<(String, String, String)>,
    /// principal_id, role_id, scope_key (users only)
    assignments: Vec<(String, String, String)>,
    /// id, type, project_id, resource_id, details
    audit: Vec<AuditRow>,
}

/// An invite as read: id, email_norm, accepted_at.
type InviteRow = (String, String, Option<i64>);
/// An audit event as read: id, type, project_id, resource_id, details.
type AuditRow = (String, String, Option<String>, Option<String>, String);

async fn snapshot(db: &mut Db) -> Snapshot {
    Snapshot {
        invites: db
            .rows("SELECT id, email_norm, accepted_at FROM invites")
            .await,
        users: db.rows("SELECT id, email_norm, role FROM users").await,
        project_users: db
            .rows("SELECT project_id, user_id, role FROM project_users")
            .await,
        assignments: db
            .rows(
                "SELECT principal_id, role_id, scope_key FROM role_assignments \
                 WHERE principal_type = 'user'",
            )
            .await,
        audit: db
            .rows("SELECT id, type, project_id, resource_id, details FROM audit_logs")
            .await,
    }
}

impl Snapshot {
    /// The rows of each email (invites, users) and each user (memberships, assignments).
    fn index(&self) -> Index<'_> {
        let mut index = Index::default();
        for i in &self.invites {
            index.invites.entry(&i.1).or_default().push(i);
        }
        for u in &self.users {
            index.users.entry(&u.1).or_default().push(u);
        }
        for m in &self.project_users {
            index.project_users.entry(&m.1).or_default().push(m);
        }
        for a in &self.assignments {
            index.assignments.entry(&a.0).or_default().push(a);
        }
        index
    }

    /// The audit events not in `setup`, as compared.
    fn events(&self, setup: &HashSet<String>) -> Vec<EventKey> {
        self.audit
            .iter()
            .filter(|e| !setup.contains(&e.0))
            .map(|(_, kind, project, resource, details)| {
                let principal = kind.starts_with("role.assignment.").then(|| {
                    let details: Value = serde_json::from_str(details).expect("JSON details");
                    details["principal_id"]
                        .as_str()
                        .expect("a principal")
                        .to_owned()
                });
                (
                    kind.clone(),
                    resource.clone().unwrap_or_default(),
                    project.clone(),
                    principal,
                )
            })
            .collect()
    }
}

type Row3<'a> = &'a (String, String, String);

/// A [`Snapshot`]'s rows by email or user.
#[derive(Default)]
struct Index<'a> {
    invites: HashMap<&'a str, Vec<&'a InviteRow>>,
    users: HashMap<&'a str, Vec<Row3<'a>>>,
    project_users: HashMap<&'a str, Vec<Row3<'a>>>,
    assignments: HashMap<&'a str, Vec<Row3<'a>>>,
}

impl Index<'_> {
    /// The member's state as stored, with the invite's and user's IDs.
    fn member(&self, email: &str) -> (State, Option<String>, Option<String>) {
        let invites = self.invites.get(email).map_or(&[][..], Vec::as_slice);
        assert!(
            invites.len() <= 1,
            "{email} has several invites: {invites:?}"
        );
        let invite = invites.first();
        let users = self.users.get(email).map_or(&[][..], Vec::as_slice);
        assert!(users.len() <= 1, "{email} is several users: {users:?}");
        let user = users.first();
        let state = State {
            invite_accepted: invite.map(|i| i.2.is_some()),
            user: user.map(|(id, _, role)| UserState {
                role: role.clone(),
                projects: self
                    .project_users
                    .get(id.as_str())
                    .into_iter()
                    .flatten()
                    .map(|m| (m.0.clone(), m.2.clone()))
                    .collect(),
                custom_roles: self
                    .assignments
                    .get(id.as_str())
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        assert_eq!(a.2, "", "{email} has a project role assignment: {a:?}");
                        a.1.clone()
                    })
                    .collect(),
            }),
        };
        (
            state,
            invite.map(|i| i.0.clone()),
            user.map(|u| u.0.clone()),
        )
    }
}

#[derive(Default)]
struct Tally {
    acknowledged_checked: usize,
    in_flight: usize,
    in_flight_applied: usize,
    api_checks: usize,
}

/// Check the restarted server's database against the ledger; settle in-flight writes.
async fn verify(
    cycle: usize,
    ledger: &mut [Member],
    db: &mut Db,
    sqlite: bool,
    setup: &HashSet<String>,
    server: &Server,
    tally: &mut Tally,
) {
    if sqlite {
        let check: Vec<(String,)> = db.rows("PRAGMA integrity_check").await;
        assert_eq!(
            check,
            vec![("ok".to_owned(),)],
            "cycle {cycle}: integrity_check"
        );
    }
    let snap = snapshot(db).await;

    // Every member: the acknowledged writes, plus an in-flight write wholly or not at all.
    let index = snap.index();
    for member in ledger.iter_mut() {
        let (actual, invite_id, user_id) = index.member(&member.email);
        let without = expected(member, &member.acked);
        if let Some(op) = member.in_flight.take() {
            let mut ops = member.acked.clone();
            ops.push(op.clone());
            let with = expected(member, &ops);
            if actual == with {
                member.acked.push(op);
                tally.in_flight_applied += 1;
            } else {
                assert_eq!(
                    actual, without,
                    "cycle {cycle}: {} with {op:?} in flight at the kill is neither before nor \
                     after it (after would be {with:?}); acknowledged: {:?}",
                    member.email, member.acked
                );
            }
        } else {
            assert_eq!(
                actual, without,
                "cycle {cycle}: {} lost or gained writes; acknowledged: {:?}",
                member.email, member.acked
            );
        }
        if member.invite_id.is_none() {
            member.invite_id = invite_id;
        }
        if member.user_id.is_none() {
            member.user_id = user_id;
        }
        tally.acknowledged_checked += member.acked.len();
    }

    // Nothing is left of deleted members.
    let users: HashSet<&String> = snap.users.iter().map(|u| &u.0).collect();
    for m in &snap.project_users {
        assert!(
            users.contains(&m.1),
            "cycle {cycle}: project membership of a deleted user: {m:?}"
        );
    }
    for a in &snap.assignments {
        assert!(
            users.contains(&a.0),
            "cycle {cycle}: role assignment of a deleted user: {a:?}"
        );
    }

    // The audit log has exactly the events of the applied writes.
    let mut want: Vec<EventKey> = ledger.iter().flat_map(expected_events).collect();
    let mut got = snap.events(setup);
    want.sort();
    got.sort();
    if want != got {
        let missing: Vec<_> = want.iter().filter(|e| !got.contains(e)).take(20).collect();
        let extra: Vec<_> = got.iter().filter(|e| !want.contains(e)).take(20).collect();
        panic!(
            "cycle {cycle}: the audit log does not match the data ({} events expected, {} found); \
             missing {missing:?}; unexpected {extra:?}",
            want.len(),
            got.len()
        );
    }
    // Every user.added is for a member still there, or one deleted later.
    let deleted: HashSet<(&str, Option<&str>)> = snap
        .audit
        .iter()
        .filter(|e| e.1 == "user.deleted")
        .map(|e| (e.3.as_deref().unwrap_or(""), e.2.as_deref()))
        .collect();
    let memberships: HashSet<(&str, &str)> = snap
        .project_users
        .iter()
        .map(|m| (m.1.as_str(), m.0.as_str()))
        .collect();
    for e in snap.audit.iter().filter(|e| e.1 == "user.added") {
        let user = e.3.as_deref().unwrap_or("");
        let present = match e.2.as_deref() {
            None => users.contains(&user.to_owned()),
            Some(p) => memberships.contains(&(user, p)) || deleted.contains(&(user, Some(p))),
        };
        assert!(
            present || deleted.contains(&(user, None)),
            "cycle {cycle}: user.added {e:?} for a member neither present nor deleted"
        );
    }

    // Through the API: this cycle's members are (or are not) there, with their audit events.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client");
    let v1 = format!("{}/v1/organization", server.base);
    for member in ledger.iter().filter(|m| m.cycle == cycle) {
        let Some(user) = member.user_id.as_deref() else {
            continue;
        };
        let exists = expected(member, &member.acked).user.is_some();
        let got = client
            .get(format!("{v1}/users/{user}"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("the restarted server answers");
        assert_eq!(
            got.status().as_u16(),
            if exists { 200 } else { 404 },
            "cycle {cycle}: GET user {user} ({})",
            member.email
        );
        let want = expected_events(member)
            .iter()
            .filter(|e| e.1 == user)
            .count();
        let list: Value = client
            .get(format!("{v1}/audit_logs?resource_ids[]={user}&limit=100"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("the restarted server answers")
            .json()
            .await
            .expect("an audit log list");
        let found = list["data"].as_array().map_or(0, Vec::len);
        assert_eq!(
            found, want,
            "cycle {cycle}: audit events of {user} through the API: {list}"
        );
        tally.api_checks += 2;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_random_moments_loses_no_acknowledged_write_and_half_applies_none() {
    let cycles: usize = std::env::var("ORGADMIN_CRASH_CYCLES")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| v.parse().expect("ORGADMIN_CRASH_CYCLES is a number"))
        .unwrap_or(8);
    let seed: u64 = std::env::var("ORGADMIN_CRASH_SEED")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| v.parse().expect("ORGADMIN_CRASH_SEED is a number"))
        .unwrap_or_else(|| rand::thread_rng().gen());
    let backend = database::backend();
    eprintln!(
        "crash test: {backend:?}, {cycles} cycles, ORGADMIN_CRASH_SEED={seed} (the seed fixes \
         the writers' scripts and kill delays, not the timing)"
    );
    let started = Instant::now();
    let database = TestDatabase::persistent().await;
    let url = database.url().to_owned();
    let sqlite_file = database.sqlite_dir().map(|d| d.join("orgadmin.db"));
    let mut rng = StdRng::seed_from_u64(seed);

    // Setup: projects and custom roles the writers use.
    let mut server = Server::start(&url, KEY).await;
    let client = reqwest::Client::new();
    let mut projects = Vec::new();
    for i in 0..PROJECTS {
        let body: Value = client
            .post(format!("{}/v1/organization/projects", server.base))
            .bearer_auth(KEY)
            .json(&json!({"name": format!("crash project {i}")}))
            .send()
            .await
            .expect("creating a project")
            .json()
            .await
            .expect("a project");
        projects.push(body["id"].as_str().expect("a project ID").to_owned());
    }
    let mut roles = Vec::new();
    for (name, permission) in [
        ("Crash A", "api.groups.read"),
        ("Crash B", "api.organization.projects.write"),
    ] {
        let body: Value = client
            .post(format!("{}/v1/organization/roles", server.base))
            .bearer_auth(KEY)
            .json(&json!({"role_name": name, "permissions": [permission]}))
            .send()
            .await
            .expect("creating a role")
            .json()
            .await
            .expect("a role");
        roles.push(
            body["id"]
                .as_str()
                .unwrap_or_else(|| panic!("a role ID: {body}"))
                .to_owned(),
        );
    }
    let mut db = Db::open(&url, sqlite_file.as_deref()).await;
    let setup: HashSet<String> = snapshot(&mut db)
        .await
        .audit
        .into_iter()
        .map(|e| e.0)
        .collect();
    db.close().await;

    let mut ledger: Vec<Member> = Vec::new();
    let mut tally = Tally::default();
    let mut acknowledged = 0usize;
    for cycle in 0..cycles {
        // A fresh client: no kept-alive connection outlives its server.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client");
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            writers.spawn(writer(
                client.clone(),
                server.base.clone(),
                seed,
                cycle,
                w,
                projects.clone(),
                roles.clone(),
            ));
        }
        let delay = Duration::from_millis(rng.gen_range(300..1000));
        tokio::time::sleep(delay).await;
        server.kill9();
        while let Some(result) = writers.join_next().await {
            let (members, acked) = result.expect("a writer ran without failing");
            acknowledged += acked;
            tally.in_flight += members.iter().filter(|m| m.in_flight.is_some()).count();
            ledger.extend(members);
        }
        drop(client);

        server = Server::start(&url, KEY).await;
        let mut db = Db::open(&url, sqlite_file.as_deref()).await;
        verify(
            cycle,
            &mut ledger,
            &mut db,
            sqlite_file.is_some(),
            &setup,
            &server,
            &mut tally,
        )
        .await;
        db.close().await;
    }
    drop(server);
    drop(database);
    eprintln!(
        "crash test ({backend:?}, seed {seed}): {cycles} SIGKILL cycles survived; {acknowledged} \
         writes acknowledged, {} acknowledged-write checks over all restarts; {} writes in \
         flight at a kill ({} found applied, {} not); {} members; {} API checks; {:.1} s",
        tally.acknowledged_checked,
        tally.in_flight,
        tally.in_flight_applied,
        tally.in_flight - tally.in_flight_applied,
        ledger.len(),
        tally.api_checks,
        started.elapsed().as_secs_f64()
    );
    assert!(acknowledged > 0, "no write was acknowledged");
}
