//! Storage faults at the store seam (the fault hook, `orgadmin_store::faults`): a statement or a
//! `COMMIT` that fails is a 503 naming the cause, nothing is acknowledged without its own commit,
//! and the writes after it commit again — checked through a separate connection to the database,
//! on the backend `ORGADMIN_TEST_BACKEND` selects.

use std::collections::BTreeSet;
use std::sync::Arc;

use orgadmin_core::clock::OffsetClock;
use orgadmin_store::faults::{FaultClass, FaultPoint};
use orgadmin_store::Faults;
use orgadmin_testkit::{TestDatabase, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, PgConnection, SqliteConnection};

/// A connection of its own to the server's database: what another process sees.
enum Observer {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Observer {
    async fn open(database: &TestDatabase) -> Self {
        match database.sqlite_dir() {
            Some(dir) => Observer::Sqlite(
                SqliteConnection::connect_with(
                    &SqliteConnectOptions::new()
                        .filename(dir.join("orgadmin.db"))
                        .read_only(true),
                )
                .await
                .expect("opening the SQLite file read-only"),
            ),
            None => Observer::Postgres(
                PgConnection::connect(database.url())
                    .await
                    .expect("connecting to PostgreSQL"),
            ),
        }
    }

    /// The emails of every invite committed in the database.
    async fn invited(&mut self) -> BTreeSet<String> {
        let sql = "SELECT email FROM invites";
        let rows: Vec<(String,)> = match self {
            Observer::Sqlite(c) => sqlx::query_as(sql).fetch_all(c).await,
            Observer::Postgres(c) => sqlx::query_as(sql).fetch_all(c).await,
        }
        .expect("reading the invites");
        rows.into_iter().map(|(email,)| email).collect()
    }
}

async fn start(faults: &Arc<Faults>) -> (TestServer, TestDatabase) {
    let database = TestDatabase::persistent().await;
    let faults = faults.clone();
    let server = TestServer::start_on_with(
        database.url(),
        Some(&orgadmin_testkit::owner_key()),
        Arc::new(OffsetClock::default()),
        move |config| config.store.faults = Some(faults),
    )
    .await;
    (server, database)
}

async fn invite(server: &TestServer, email: &str) -> (StatusCode, serde_json::Value) {
    server
        .post_during_outage(
            "/v1/organization/invites",
            json!({ "email": email, "role": "reader" }),
        )
        .await
}

/// Each class of fault, and what the 503's message says of it (a lost connection is the
/// storage failing on SQLite, the server not answering on PostgreSQL).
async fn readyz(server: &TestServer) -> (StatusCode, serde_json::Value) {
    let response = reqwest::get(format!("{}/readyz", server.base_url))
        .await
        .expect("GET /readyz");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

const CLASSES: [(FaultClass, &[&str]); 4] = [
    (FaultClass::DiskFull, &["disk is full"]),
    (FaultClass::StorageIo, &["I/O error"]),
    (FaultClass::Busy, &["busy"]),
    (FaultClass::ConnectionLost, &["I/O error", "did not answer"]),
];

#[tokio::test]
async fn a_failed_statement_or_commit_is_a_503_and_every_later_write_commits_before_its_200() {
    let faults = Arc::new(Faults::default());
    let (server, database) = start(&faults).await;
    let mut observer = Observer::open(&database).await;
    let mut acknowledged = BTreeSet::new();
    let mut n = 0;
    for point in [
        FaultPoint::Statement,
        FaultPoint::Commit,
        FaultPoint::CommitAnswer,
    ] {
        for (class, says) in CLASSES {
            n += 1;
            let failed = format!("failed{n}@example.com");
            faults.fail_next(point, class);
            let (status, body) = invite(&server, &failed).await;
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{point:?} {class:?}: {body}"
            );
            assert_eq!(body["error"]["code"], "service_unavailable");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                says.iter().any(|s| message.contains(s)),
                "{point:?} {class:?}: {message}"
            );
            assert_eq!(faults.pending(), 0, "the fault struck");

            let committed = observer.invited().await;
            // A commit whose answer was lost is durable, though not acknowledged; every other
            // failure left nothing behind.
            assert_eq!(
                committed.contains(&failed),
                point == FaultPoint::CommitAnswer,
                "{point:?} {class:?}"
            );
            // Retrying the same write is safe where it was not applied.
            if point != FaultPoint::CommitAnswer {
                let (status, body) = invite(&server, &failed).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                acknowledged.insert(failed);
            }

            for i in 0..3 {
                let email = format!("after{n}-{i}@example.com");
                let (status, body) = invite(&server, &email).await;
                assert_eq!(status, StatusCode::OK, "{point:?} {class:?}: {body}");
                acknowledged.insert(email.clone());
                assert!(
                    observer.invited().await.contains(&email),
                    "{email} was acknowledged after a {point:?} {class:?} fault, but another \
                     connection does not see it committed"
                );
            }
        }
    }
    let committed = observer.invited().await;
    assert!(acknowledged.is_subset(&committed));
    server.stop().await;
}

#[tokio::test]
async fn readyz_reports_a_full_disk_until_a_write_commits_again() {
    let faults = Arc::new(Faults::default());
    let (server, _database) = start(&faults).await;
    let (status, _) = readyz(&server).await;
    assert_eq!(status, StatusCode::OK);

    faults.fail_next(FaultPoint::Commit, FaultClass::DiskFull);
    let (status, _) = invite(&server, "full@example.com").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // The probe write of /readyz strikes a fault too while the disk is "full".
    faults.fail_next(FaultPoint::Commit, FaultClass::DiskFull);
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["database"], "disk_full", "{body}");
    assert_eq!(body["reads"], "ok", "{body}");
    assert_eq!(body["writes"], "refused", "{body}");
    assert!(body["reason"].as_str().unwrap().contains("disk is full"));
    assert!(body["since"].as_i64().is_some(), "{body}");

    // Reads go on.
    let (status, body) = server.get_during_outage("/v1/organization/users").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Space is back: the probe commits, and so do writes.
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = invite(&server, "full@example.com").await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

/// Many clients write while faults strike at random moments: no 5xx other than 503, and every
/// acknowledged write is committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_concurrent_writes_no_request_is_acknowledged_without_its_commit() {
    const CLIENTS: usize = 16;
    const WRITES: usize = 40;
    let faults = Arc::new(Faults::default());
    let (server, database) = start(&faults).await;
    let server = Arc::new(server);

    let striker = {
        let faults = faults.clone();
        tokio::spawn(async move {
            for i in 0..60usize {
                let point = [
                    FaultPoint::Statement,
                    FaultPoint::Commit,
                    FaultPoint::CommitAnswer,
                ][i % 3];
                faults.fail_next(point, CLASSES[i % CLASSES.len()].0);
                tokio::time::sleep(std::time::Duration::from_millis(7)).await;
            }
        })
    };
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let server = server.clone();
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut refused = 0;
            for w in 0..WRITES {
                let email = format!("c{c}-w{w}@example.com");
                let (status, body) = invite(&server, &email).await;
                match status {
                    StatusCode::OK => acknowledged.push(email),
                    StatusCode::SERVICE_UNAVAILABLE => refused += 1,
                    other => panic!("{email}: {other} {body}"),
                }
            }
            (acknowledged, refused)
        }));
    }
    striker.await.unwrap();
    let mut acknowledged = BTreeSet::new();
    let mut refused = 0;
    for client in clients {
        let (acked, r) = client.await.unwrap();
        acknowledged.extend(acked);
        refused += r;
    }
    // Whatever faults did not strike during the run are disarmed by striking them now.
    while faults.pending() > 0 {
        let _ = invite(&server, &format!("drain{}@example.com", faults.pending())).await;
    }
    let committed = Observer::open(&database).await.invited().await;
    let missing: Vec<_> = acknowledged.difference(&committed).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes are not committed: {missing:?}",
        missing.len()
    );
    assert!(refused > 0, "no fault struck during the run");
    assert!(
        acknowledged.len() + refused == CLIENTS * WRITES,
        "every write was answered"
    );
    // And the server writes normally afterwards.
    let (status, _) = invite(&server, "last@example.com").await;
    assert_eq!(status, StatusCode::OK);
    Arc::into_inner(server).unwrap().stop().await;
}
