//! A full disk, as an operator meets it: `orgadmin serve` (the real binary) on a SQLite file in a
//! 3 MB tmpfs, written to until the disk is full.
//!
//! - every write answered 200 is visible at once to another process reading the file;
//! - once the disk is full writes answer 503 `service_unavailable` saying so (never a 500, and
//!   never a 200 for a write that did not commit), reads go on, and `/readyz` says why;
//! - when the filesystem grows, writes succeed again by themselves;
//! - after `kill -9` and a restart every acknowledged write is there and the file is intact;
//! - an import that fills the disk is refused whole.
//!
//! Mounting a tmpfs needs root, as CI runs; the test fails with that explanation elsewhere. The
//! mounts are made with `mount(8)` and always undone.

#[path = "support/serve.rs"]
mod serve;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};
use serve::Server;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

const KEY: &str = "sk-admin-fullfullfullfullfullfullfullfullfull";
const BIN: &str = env!("CARGO_BIN_EXE_orgadmin");

/// A tmpfs of a given size, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("running mount(8)");
        assert!(
            status.success(),
            "mounting a {size} tmpfs failed ({status}): this test needs root (CI runs as root)"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .status()
            .expect("running mount(8)");
        assert!(status.success(), "remounting the tmpfs failed");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// The two requests this test sends, with its key.
impl Server {
    async fn invite(&self, client: &reqwest::Client, email: &str) -> (StatusCode, Value) {
        let response = client
            .post(format!("{}/v1/organization/invites", self.base))
            .bearer_auth(KEY)
            .json(&json!({ "email": email, "role": "reader" }))
            .send()
            .await
            .expect("an answer");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    async fn get(&self, client: &reqwest::Client, path: &str) -> (StatusCode, Value) {
        let response = client
            .get(format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("an answer");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }
}

/// What another process sees in the file.
async fn committed(file: &Path) -> BTreeSet<String> {
    let mut conn =
        SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(file).read_only(true))
            .await
            .expect("opening the database read-only");
    let rows: Vec<(String,)> = sqlx::query_as("SELECT email FROM invites")
        .fetch_all(&mut conn)
        .await
        .expect("reading the invites");
    let _ = conn.close().await;
    rows.into_iter().map(|(e,)| e).collect()
}

async fn integrity(file: &Path) -> String {
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(file))
        .await
        .expect("opening the database");
    let (ok,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("integrity_check");
    let _ = conn.close().await;
    ok
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_acknowledges_only_commits_and_recovers_when_space_returns(
) {
    let disk = SmallDisk::mount("3M");
    let file: PathBuf = disk.path().join("o.db");
    let url = format!("sqlite://{}", file.display());
    let mut server = Server::start(&url, KEY).await;
    let client = reqwest::Client::new();

    let mut acknowledged = BTreeSet::new();
    let mut refused_in_a_row = 0;
    let mut refusals = 0;
    for i in 0..3000 {
        let email = format!("member{i}@example.com");
        let (status, body) = server.invite(&client, &email).await;
        match status {
            StatusCode::OK => {
                refused_in_a_row = 0;
                assert!(
                    committed(&file).await.contains(&email),
                    "{email} was acknowledged but another process does not see it"
                );
                acknowledged.insert(email);
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["error"]["code"], "service_unavailable", "{body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(message.contains("disk is full"), "{message}");
                refused_in_a_row += 1;
                refusals += 1;
                if refused_in_a_row == 25 {
                    break;
                }
            }
            other => panic!("{email}: {other} {body}"),
        }
    }
    assert_eq!(refused_in_a_row, 25, "the disk never filled");
    assert!(acknowledged.len() > 20, "the disk filled too early to tell");

    // Reads go on, and /readyz says why writes do not.
    let (status, body) = server
        .get(&client, "/v1/organization/invites?limit=5")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.get(&client, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["database"], "disk_full", "{body}");
    assert_eq!(body["reads"], "ok", "{body}");

    // Space returns: writes succeed again by themselves.
    disk.resize("32M");
    let (status, body) = server.get(&client, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for i in 0..40 {
        let email = format!("later{i}@example.com");
        let (status, body) = server.invite(&client, &email).await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
        assert!(committed(&file).await.contains(&email));
        acknowledged.insert(email);
    }

    // Every acknowledged write survives kill -9.
    server.kill9();
    assert_eq!(integrity(&file).await, "ok");
    let server = Server::start(&url, KEY).await;
    let after = committed(&file).await;
    let lost: Vec<_> = acknowledged.difference(&after).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged invites lost: {lost:?}",
        lost.len()
    );
    let (status, _) = server.invite(&client, "after-restart@example.com").await;
    assert_eq!(status, StatusCode::OK);
    eprintln!(
        "disk full: {} writes acknowledged and kept, {refusals} refused with 503",
        acknowledged.len()
    );
}

#[tokio::test]
async fn an_import_that_fills_the_disk_is_refused_whole() {
    let disk = SmallDisk::mount("3M");
    let file = disk.path().join("o.db");
    let url = format!("sqlite://{}", file.display());
    // The import streams its file to the server, which writes it.
    let server = Server::start(&url, KEY).await;

    let rows = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    let mut csv = String::from("email,name,role\n");
    for i in 0..40_000 {
        csv.push_str(&format!("bulk{i}@example.com,Bulk Member {i},reader\n"));
    }
    std::fs::write(rows.path(), csv).unwrap();
    let output = Command::new(BIN)
        .args(["import", "users"])
        .arg(rows.path())
        .args(["--base-url", &format!("{}/v1", server.base)])
        .env_clear()
        .env("OPENAI_ADMIN_KEY", KEY)
        .output()
        .expect("running orgadmin import");
    drop(server);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the import succeeded on a full disk"
    );
    assert!(stderr.contains("disk is full"), "{stderr}");

    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::new().filename(&file).read_only(true),
    )
    .await
    .unwrap();
    let (members,): (i64,) = sqlx::query_as("SELECT count(*) FROM users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    assert_eq!(
        members, 1,
        "only the owner: nothing of the import was written"
    );
    assert_eq!(integrity(&file).await, "ok");
}
