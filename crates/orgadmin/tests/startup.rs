//! Starting on a database that cannot be used, end to end: the real binary (`serve`, and the
//! commands that open the database themselves: `init`, `org key`) fails at
//! once with one clear line on standard error and its exit status, and writes nothing — no
//! database file, no key, no organization. Also: a taken listen address bootstraps nothing, and
//! the files a first start creates are private to their owner.
//!
//! The full-disk and read-only cases mount a small tmpfs, which needs root (CI runs as root);
//! without root they fail, saying so, as `disk_full.rs` does.

#![cfg(unix)]

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orgadmin_core::SystemClock;
use orgadmin_testkit::database::{backend, Backend};
use orgadmin_testkit::TestDatabase;
use sqlx::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_orgadmin");
const KEY: &str = "sk-admin-startupstartupstartupstartup0000000";

/// One run of the binary that ended by itself.
#[derive(Debug)]
struct Ran {
    #[expect(dead_code, reason = "shown when an assertion prints the run")]
    args: Vec<String>,
    status: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Ran {
    /// Exit status `status` and exactly one line on standard error, containing `message`.
    #[track_caller]
    fn assert_fails(&self, status: i32, message: &str) -> &Self {
        assert_eq!(self.status, status, "exit status of {self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on standard error: {self:#?}");
        assert!(
            lines[0].contains(message),
            "standard error should say {message:?}: {self:#?}"
        );
        for bad in ["panicked", "RUST_BACKTRACE", "internal error"] {
            assert!(!self.stderr.contains(bad), "{bad:?} in {self:#?}");
        }
        self
    }

    #[track_caller]
    fn assert_prints_nothing(&self) -> &Self {
        assert_eq!(self.stdout, "", "nothing on standard output: {self:#?}");
        self
    }
}

/// Run the binary with exactly this environment (logs at `warn`, so that a line on standard
/// error is the failure itself), killing it if it has not ended within `limit`: a server that
/// started when it should not have is a failure, not a hang.
fn run(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Ran {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {BIN}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for orgadmin") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let (stdout, stderr) = output_of(&mut child);
            panic!(
                "orgadmin {args:?} was still running after {limit:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = output_of(&mut child);
    Ran {
        args: args.iter().map(|a| a.to_string()).collect(),
        status: status.code().unwrap_or(-1),
        stdout,
        stderr,
        took: started.elapsed(),
    }
}

fn output_of(child: &mut Child) -> (String, String) {
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    (stdout, stderr)
}

const START_LIMIT: Duration = Duration::from_secs(30);

fn serve(database: &str) -> Ran {
    serve_on("127.0.0.1:0", database, &[])
}

fn serve_on(listen: &str, database: &str, env: &[(&str, &str)]) -> Ran {
    run(
        &["serve", "--listen", listen, "--database", database],
        env,
        START_LIMIT,
    )
}

/// `init` and `org key` on `database`, each expected to fail with `status` and `message`.
/// Their other arguments are valid, so only the database stops them.
fn assert_every_command_refuses(database: &str, status: i32, message: &str) {
    for args in [
        vec!["init", "--database", database],
        vec![
            "org",
            "key",
            "--database",
            database,
            "--org",
            "org-01jc0000000000000000000000",
        ],
    ] {
        run(&args, &[("OPENAI_ADMIN_KEY", KEY)], START_LIMIT)
            .assert_fails(status, message)
            .assert_prints_nothing();
    }
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1))
                .map(|id| id == "0")
        })
        .unwrap_or(false)
}

/// A tmpfs mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// A tmpfs mounted with `options`; fails the test, saying why, when this process may not
    /// mount.
    fn mount(test: &str, options: &str) -> Self {
        assert!(
            is_root(),
            "{test}: mounting a tmpfs needs root (CI runs as root); run this test as root"
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "mount -t tmpfs -o {options} failed");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "mount -o remount,{options} failed");
    }

    /// Fill the file system to its last byte.
    fn fill(&self) {
        let mut filler = std::fs::File::create(self.path().join("filler")).expect("a filler");
        let block = vec![0u8; 4096];
        while std::io::Write::write_all(&mut filler, &block).is_ok() {}
        let mut byte = [0u8; 1];
        while std::io::Write::write_all(&mut filler, &byte).is_ok() {
            byte[0] = 1;
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_by_every_command_and_left_as_it_was() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("x.db");
    let content = "name,email\nthis is a spreadsheet, not a database\n".repeat(20);
    std::fs::write(&file, &content).expect("a file");
    let url = sqlite_url(&file);

    let expected = format!("{url} is not a SQLite database (or it is corrupt)");
    serve(&url)
        .assert_fails(1, &format!("orgadmin: {expected}"))
        .assert_prints_nothing();
    assert_every_command_refuses(&url, 1, &expected);

    assert_eq!(std::fs::read_to_string(&file).unwrap(), content);
    assert_eq!(listing(dir.path()), ["x.db"], "nothing written beside it");
}

#[test]
fn a_model_catalogue_that_does_not_check_is_a_usage_error_naming_the_entry_and_nothing_starts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let models = dir.path().join("models.json");
    std::fs::write(
        &models,
        r#"{"models": [
            {"id": "ok", "max_requests_per_1_minute": 1, "max_tokens_per_1_minute": 1},
            {"id": "gpt-4o", "max_requests_per_1_minute": 10, "max_tokens_per_1_minute": 0}
        ]}"#,
    )
    .expect("a file");
    let url = sqlite_url(&dir.path().join("db").join("x.db"));
    let models_arg = models.display().to_string();
    let said = format!(
        "models file {models_arg}: entry 2 ('gpt-4o'): max_tokens_per_1_minute must be a positive integer, not 0"
    );
    let serve_with = |models: Option<&str>, env: &[(&str, &str)]| {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--database", &url];
        if let Some(models) = models {
            args.extend(["--models", models]);
        }
        run(&args, env, START_LIMIT)
    };
    for ran in [
        serve_with(Some(&models_arg), &[]),
        serve_with(None, &[("ORGADMIN_MODELS", &models_arg)]),
    ] {
        assert_eq!(ran.status, 2, "a usage error: {ran:#?}");
        assert!(ran.stderr.contains(&said), "{ran:#?}");
        assert!(!ran.stderr.contains("panicked"), "{ran:#?}");
        assert_eq!(ran.stdout, "", "{ran:#?}");
    }
    let missing = dir.path().join("absent.json").display().to_string();
    let ran = serve_with(Some(&missing), &[]);
    assert_eq!(ran.status, 2, "{ran:#?}");
    assert!(
        ran.stderr
            .contains(&format!("models file {missing}: cannot be read")),
        "{ran:#?}"
    );
    assert_eq!(listing(dir.path()), ["models.json"], "no database was made");
}

#[test]
fn a_fixture_that_breaks_a_rule_is_a_usage_error_naming_every_problem_and_nothing_starts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fixture = dir.path().join("team.yaml");
    std::fs::write(
        &fixture,
        "users:\n  - {email: not-an-email}\nprojects:\n  - {name: P, members: [{user: nobody@x.test}]}\n",
    )
    .expect("a file");
    let fixture_arg = fixture.display().to_string();
    let url = sqlite_url(&dir.path().join("x.db"));
    let ran = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &url,
            "--fixture",
            &fixture_arg,
        ],
        &[],
        START_LIMIT,
    );
    assert_eq!(ran.status, 2, "a usage error: {ran:#?}");
    for said in [
        fixture_arg.as_str(),
        "The fixture breaks 2 rules",
        "users[0].email",
        "projects[0].members[0].user",
    ] {
        assert!(ran.stderr.contains(said), "{said:?} in {ran:#?}");
    }
    assert!(!ran.stderr.contains("panicked"), "{ran:#?}");
    std::fs::write(&fixture, "users:\n  - {emial: a@x.test}\n").expect("a file");
    let ran = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &url,
            "--fixture",
            &fixture_arg,
        ],
        &[],
        START_LIMIT,
    );
    assert_eq!(ran.status, 2, "a usage error: {ran:#?}");
    assert!(
        ran.stderr
            .contains("at users[0].emial: unknown field `emial`"),
        "{ran:#?}"
    );
    assert_eq!(listing(dir.path()), ["team.yaml"], "no database was made");
}

#[test]
fn the_first_start_creates_the_organization_of_its_fixture() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fixture = dir.path().join("team.yaml");
    let key = "sk-admin-fixture-first-start-00000000000000";
    std::fs::write(
        &fixture,
        format!(
            "admin_key: {key}\nowner: {{id: user-first, email: first@x.test}}\nusers:\n  - {{id: user-second, email: second@x.test}}\n"
        ),
    )
    .expect("a file");
    let db = dir.path().join("x.db");
    let log = dir.path().join("log");
    let (child, port) =
        start_server_with(&db, &log, &["--fixture", &fixture.display().to_string()]);
    let users = http_get(port, "/v1/organization/users", key);
    stop(child);
    assert!(users.starts_with("HTTP/1.1 200"), "{users}");
    for id in ["user-first", "user-second"] {
        assert!(
            users.contains(&format!("\"id\":\"{id}\"")),
            "{id} in {users}"
        );
    }
    // The fixture chose the first key: it is not written down.
    assert!(!dir.path().join("initial-admin-key").exists());
}

/// `GET path` with `key`, the whole answer (status line, headers and body).
fn http_get(port: u16, path: &str, key: &str) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    answer
}

#[test]
fn a_directory_that_cannot_be_written_is_refused_and_nothing_is_created() {
    let test = "a_directory_that_cannot_be_written_is_refused_and_nothing_is_created";
    let disk = Tmpfs::mount(test, "size=4m,mode=0755");
    // A database made while the directory could be written, then the directory made read-only:
    // the file is there, but neither it nor its -wal can be written.
    let existing = disk.path().join("existing.db");
    run(
        &["init", "--database", &sqlite_url(&existing)],
        &[],
        START_LIMIT,
    );
    assert!(existing.exists(), "init made the database");
    let before = listing(disk.path());
    disk.remount("ro");

    // The database file itself cannot be created, nor a directory for it.
    for path in [disk.path().join("new.db"), disk.path().join("sub/new.db")] {
        let url = sqlite_url(&path);
        serve(&url)
            .assert_fails(1, "Read-only file system")
            .assert_prints_nothing();
        assert_every_command_refuses(&url, 1, "Read-only file system");
    }
    let url = sqlite_url(&existing);
    serve(&url)
        .assert_fails(1, &format!("cannot write {}", existing.display()))
        .assert_prints_nothing();
    assert_every_command_refuses(&url, 1, "Read-only file system");
    disk.remount("rw");
    assert_eq!(listing(disk.path()), before, "nothing written");
}

#[test]
fn a_full_disk_at_start_is_refused_and_nothing_is_left_behind() {
    let test = "a_full_disk_at_start_is_refused_and_nothing_is_left_behind";
    let disk = Tmpfs::mount(test, "size=256k,mode=0755");
    disk.fill();
    for path in [disk.path().join("o.db"), disk.path().join("data/o.db")] {
        let url = sqlite_url(&path);
        serve(&url)
            .assert_fails(1, &format!("orgadmin: {url}: "))
            .assert_fails(1, "the disk is full; free some space and start again")
            .assert_prints_nothing();
        assert_every_command_refuses(&url, 1, "the disk is full");
        assert_eq!(listing(disk.path()), ["filler"], "nothing left behind");
    }
}

/// The highest migration this binary has: the number before the `_` of the last file name.
fn newest_migration() -> i64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations/sqlite");
    listing(&dir)
        .iter()
        .filter_map(|name| name.split('_').next()?.parse().ok())
        .max()
        .expect("migrations")
}

/// Record in `url`'s migration table that a newer orgadmin applied migration `version`.
async fn record_newer_migration(url: &str, version: i64) {
    let insert =
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                  VALUES ($1, 'from a newer orgadmin', TRUE, $2, 0)";
    match backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url)
                .await
                .expect("connects");
            sqlx::query(insert)
                .bind(version)
                .bind(vec![0u8; 48])
                .execute(&mut conn)
                .await
                .expect("recorded");
            conn.close().await.expect("closed");
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connects");
            sqlx::query(insert)
                .bind(version)
                .bind(vec![0u8; 48])
                .execute(&mut conn)
                .await
                .expect("recorded");
            conn.close().await.expect("closed");
        }
    }
}

async fn organizations_in(url: &str) -> i64 {
    let count = "SELECT COUNT(*) FROM organizations";
    match backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url)
                .await
                .expect("connects");
            let n = sqlx::query_scalar(count).fetch_one(&mut conn).await;
            conn.close().await.expect("closed");
            n.expect("counted")
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connects");
            let n = sqlx::query_scalar(count).fetch_one(&mut conn).await;
            conn.close().await.expect("closed");
            n.expect("counted")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_binary_is_refused_naming_both_versions() {
    let database = TestDatabase::persistent().await;
    let url = database.url().to_owned();
    // The schema as this binary makes it, with no organization yet: a start that did not check
    // the schema would bootstrap it.
    let store = orgadmin_store::open(&url, Arc::new(SystemClock))
        .await
        .expect("the store opens");
    drop(store);
    let known = newest_migration();
    let found = known + 7;
    record_newer_migration(&url, found).await;

    let expected =
        format!("has schema version {found}, newer than this orgadmin knows (up to {known})");
    let ran = tokio::task::spawn_blocking({
        let url = url.clone();
        move || serve(&url)
    })
    .await
    .unwrap();
    ran.assert_fails(1, &expected).assert_prints_nothing();
    let url_for_commands = url.clone();
    let expected_for_commands = expected.clone();
    tokio::task::spawn_blocking(move || {
        assert_every_command_refuses(&url_for_commands, 1, &expected_for_commands)
    })
    .await
    .unwrap();

    assert_eq!(organizations_in(&url).await, 0, "nothing bootstrapped");
    if let Some(dir) = database.sqlite_dir() {
        assert_eq!(listing(dir), ["orgadmin.db"], "no key written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_listen_address_bootstraps_nothing_and_hands_out_no_key() {
    let database = TestDatabase::persistent().await;
    let url = database.url().to_owned();
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let listen = taken.local_addr().unwrap().to_string();

    let ran = tokio::task::spawn_blocking({
        let (url, listen) = (url.clone(), listen.clone());
        move || serve_on(&listen, &url, &[])
    })
    .await
    .unwrap();
    ran.assert_fails(1, &format!("orgadmin: cannot listen on {listen}: "))
        .assert_prints_nothing();
    drop(taken);

    match database.sqlite_dir() {
        // Not even the database file.
        Some(dir) => assert_eq!(listing(dir), Vec::<String>::new(), "nothing written"),
        None => {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connects");
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            assert_eq!(tables, 0, "the database was not even migrated");
            conn.close().await.unwrap();
        }
    }
}

#[test]
fn an_unreachable_postgresql_is_named_after_a_bounded_wait() {
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://orgadmin:secret@127.0.0.1:{port}/orgadmin");
    let expected = format!("cannot reach PostgreSQL at 127.0.0.1:{port} (tried for 10 s)");
    let bounds = Duration::from_secs(9)..Duration::from_secs(25);

    let init = std::thread::spawn({
        let (url, expected) = (url.clone(), expected.clone());
        move || {
            // For the commands, no answer is exit status 3, as for a server that does not answer.
            run(&["init", "--database", &url], &[], START_LIMIT)
                .assert_fails(3, &expected)
                .assert_prints_nothing()
                .took
        }
    });
    let ran = serve(&url);
    ran.assert_fails(1, &format!("orgadmin: {expected}: "))
        .assert_prints_nothing();
    assert!(!ran.stderr.contains("secret"), "no password: {ran:#?}");
    assert!(bounds.contains(&ran.took), "waited {:?}", ran.took);
    let took = init.join().expect("init ran");
    assert!(bounds.contains(&took), "init waited {took:?}");
}

/// Start `orgadmin serve` on `db` and wait for it to answer; the child's standard error goes to
/// `log`.
fn start_server(db: &Path, log: &Path) -> (Child, u16) {
    start_server_with(db, log, &[])
}

/// [`start_server`] with more arguments for `serve`.
fn start_server_with(db: &Path, log: &Path, args: &[&str]) -> (Child, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--database")
        .arg(sqlite_url(db))
        .args(args)
        .env_clear()
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("a log file"))
        .spawn()
        .expect("orgadmin starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !answers_healthz(port) {
        assert!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// Does the server answer `GET /healthz`? (The port accepts connections as soon as it is bound,
/// before the database is open.)
fn answers_healthz(port: u16) -> bool {
    use std::io::Write;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let sent = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    sent.is_ok() && stream.read_to_string(&mut answer).is_ok() && answer.starts_with("HTTP/1.1 200")
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn a_sqlite_file_has_one_serving_process_and_its_lease_dies_with_it() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let db = root.path().join("orgadmin.db");
    let url = sqlite_url(&db);
    let (mut first, port) = start_server(&db, &root.path().join("first.log"));
    let holder = format!("is in use by another orgadmin process (PID {}", first.id());

    // A second server, and every command that opens the database, is refused at once, naming
    // the holder and where replicas go.
    let second = serve(&url);
    second.assert_fails(1, &holder).assert_prints_nothing();
    assert!(
        second.stderr.contains("use PostgreSQL to run replicas"),
        "{second:#?}"
    );
    assert!(second.took < Duration::from_secs(5), "at once: {second:#?}");
    assert_every_command_refuses(&url, 1, &holder);
    assert!(answers_healthz(port), "the holder serves on");

    // `kill -9`: the operating system drops the lock with the process, and a new server starts.
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    let (next, port) = start_server(&db, &root.path().join("next.log"));
    assert!(answers_healthz(port));
    stop(next);
    // A server that stops lets go of its lease and leaves no lease file.
    assert!(
        !listing(root.path()).contains(&"orgadmin.db.lease".to_owned()),
        "{:?}",
        listing(root.path())
    );
}

#[test]
fn a_new_database_its_wal_and_its_directory_are_private_to_their_owner() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let data = root.path().join("data");
    let db = data.join("nested/orgadmin.db");
    let log = root.path().join("serve.log");
    let (server, _) = start_server(&db, &log);
    let file = |suffix: &str| -> PathBuf {
        let mut name = db.clone().into_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    let modes = [
        (data.clone(), 0o700),
        (data.join("nested"), 0o700),
        (file(""), 0o600),
        (file("-wal"), 0o600),
        (file("-shm"), 0o600),
        (data.join("nested/initial-admin-key"), 0o600),
        (file(".lease"), 0o600),
    ];
    let found: Vec<(PathBuf, u32)> = modes.iter().map(|(p, _)| (p.clone(), mode(p))).collect();
    stop(server);
    for ((path, want), (_, got)) in modes.iter().zip(&found) {
        assert_eq!(
            *got,
            *want,
            "{} is {got:04o}, should be {want:04o}",
            path.display()
        );
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        !logged.contains("WARN"),
        "no warning for private files: {logged}"
    );
}

#[test]
fn an_existing_database_open_to_others_keeps_its_mode_and_is_warned_about() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("shared.db");
    run(&["init", "--database", &sqlite_url(&db)], &[], START_LIMIT);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
    let log = dir.path().join("serve.log");
    let (server, _) = start_server(&db, &log);
    stop(server);

    assert_eq!(mode(&db), 0o640, "the operator's choice is kept");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("WARN")
            && logged.contains("can be read or written by other users")
            && logged.contains("0640"),
        "a warning naming the mode: {logged}"
    );
}
