//! `orgadmin serve` stops gracefully on SIGTERM: requests it accepted are answered, the process
//! exits 0, and every write it acknowledged is on disk when a new server opens the same file.

#![cfg(unix)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KEY: &str = "sk-admin-shutdownshutdownshutdownshutdown00";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Start the real binary on a SQLite file and wait until it answers `/healthz`.
#[expect(
    clippy::zombie_processes,
    reason = "the child is handed to the caller, which waits for it; on failure it is killed and reaped here"
)]
async fn start(db: &std::path::Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgadmin"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .env("ORGADMIN_ADMIN_KEY", KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the orgadmin binary starts");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            return child;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not come up");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the server") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop within {within:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_lets_accepted_requests_finish_and_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("orgadmin.db");
    let port = free_port();
    let mut server = start(&db, port).await;
    let base = format!("http://127.0.0.1:{port}/v1");
    let client = reqwest::Client::new();

    // Writers keep creating projects; SIGTERM arrives while they are at it.
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..16 {
        let (client, base) = (client.clone(), base.clone());
        writers.spawn(async move {
            let mut acknowledged = Vec::new();
            let mut refused = 0usize;
            for i in 0..200 {
                let sent = client
                    .post(format!("{base}/organization/projects"))
                    .bearer_auth(KEY)
                    .json(&json!({ "name": format!("writer {writer} project {i}") }))
                    .send()
                    .await;
                match sent {
                    Ok(response) => {
                        let status = response.status();
                        let body: Value = response.json().await.unwrap_or(Value::Null);
                        assert!(
                            status.is_success(),
                            "an accepted request must be answered normally during shutdown: {status} {body}"
                        );
                        acknowledged.push(body["id"].as_str().expect("a project ID").to_owned());
                    }
                    // After SIGTERM the listener closes: new connections are refused.
                    Err(_) => {
                        refused += 1;
                        break;
                    }
                }
            }
            (acknowledged, refused)
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let status = wait_for_exit(&mut server, Duration::from_secs(15));
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

    let mut acknowledged = Vec::new();
    while let Some(result) = writers.join_next().await {
        let (ids, _) = result.expect("a writer finished");
        acknowledged.extend(ids);
    }
    assert!(
        !acknowledged.is_empty(),
        "some writes were acknowledged before SIGTERM"
    );

    // A new server on the same file has every acknowledged project.
    let mut restarted = start(&db, port).await;
    for id in &acknowledged {
        let got = client
            .get(format!("{base}/organization/projects/{id}"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("the restarted server answers");
        assert!(
            got.status().is_success(),
            "acknowledged project {id} was lost"
        );
    }
    let _ = Command::new("kill")
        .args(["-TERM", &restarted.id().to_string()])
        .status();
    let status = wait_for_exit(&mut restarted, Duration::from_secs(15));
    assert!(status.success());
    eprintln!(
        "{} acknowledged writes checked after a graceful shutdown",
        acknowledged.len()
    );
}
