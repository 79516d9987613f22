//! The database a test server runs on, on the backend the environment selects:
//!
//! - `ORGADMIN_TEST_BACKEND=sqlite` (the default): an in-memory database, or a file in a temporary
//!   directory when the test needs the data to outlive a server (restarts, reading the store
//!   after stopping).
//! - `ORGADMIN_TEST_BACKEND=postgres`: a database of its own, `orgadmin_test_<random>`, created on
//!   the server `ORGADMIN_TEST_POSTGRES_URL` names (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`, an admin connection that may create
//!   databases) and dropped (`WITH (FORCE)`) when the [`TestDatabase`] is dropped — also when the
//!   test panics. `ORGADMIN_TEST_RUN_ID` (letters and digits), if set, goes into the name
//!   (`orgadmin_test_<run>_<random>`) so a test run can check afterwards that it left nothing.
//!
//! Shared by several test binaries, each of which uses only part of it.

use std::path::Path;

use rand::distributions::Alphanumeric;
use rand::Rng;
use sqlx::{Connection, Executor, PgConnection};

/// The default admin connection for `ORGADMIN_TEST_BACKEND=postgres`.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend `ORGADMIN_TEST_BACKEND` selects (`sqlite` when unset).
pub fn backend() -> Backend {
    match std::env::var("ORGADMIN_TEST_BACKEND") {
        Err(std::env::VarError::NotPresent) => Backend::Sqlite,
        Ok(v) if v.is_empty() || v.eq_ignore_ascii_case("sqlite") => Backend::Sqlite,
        Ok(v) if v.eq_ignore_ascii_case("postgres") || v.eq_ignore_ascii_case("postgresql") => {
            Backend::Postgres
        }
        other => panic!("ORGADMIN_TEST_BACKEND must be 'sqlite' or 'postgres', not {other:?}"),
    }
}

/// The admin connection URL for PostgreSQL test databases.
pub fn postgres_admin_url() -> String {
    std::env::var("ORGADMIN_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned())
}

/// One test's database; dropping it deletes it (the SQLite directory, the PostgreSQL database).
/// Drop it only after every server on it has stopped or is no longer needed: on PostgreSQL the
/// drop ends any connection still open.
pub struct TestDatabase {
    url: String,
    dir: Option<tempfile::TempDir>,
    postgres: Option<PostgresDatabase>,
}

impl TestDatabase {
    /// A fresh database for one server's lifetime: `sqlite::memory:` on SQLite.
    pub async fn ephemeral() -> Self {
        match backend() {
            Backend::Sqlite => Self {
                url: "sqlite::memory:".to_owned(),
                dir: None,
                postgres: None,
            },
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh database that outlives a server, so the next server (or a store opened directly)
    /// on [`url`](Self::url) sees the same data: a file in a temporary directory on SQLite.
    pub async fn persistent() -> Self {
        match backend() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                Self {
                    url: format!("sqlite://{}/orgadmin.db", dir.path().display()),
                    dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh PostgreSQL database whatever the backend under test, for the tests of what only
    /// PostgreSQL does (several servers on one database).
    pub async fn on_postgres() -> Self {
        Self::postgres().await
    }

    /// A connection to a PostgreSQL test database, for checking its tables directly.
    pub async fn postgres_connection(&self) -> PgConnection {
        assert!(
            self.postgres.is_some(),
            "{} is not a PostgreSQL database",
            self.url
        );
        PgConnection::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url))
    }

    async fn postgres() -> Self {
        let database = PostgresDatabase::create().await;
        Self {
            url: database.url.clone(),
            dir: None,
            postgres: Some(database),
        }
    }

    /// The URL to give the server (`--database`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every table with an `org_id` column, read from the schema (`sqlite_master` or
    /// `information_schema`), sorted: the tables that hold organizations' rows. Needs a
    /// [`persistent`](Self::persistent) database on SQLite.
    pub async fn tables_with_org_id(&self) -> Vec<String> {
        let mut tables: Vec<String> = match backend() {
            Backend::Sqlite => {
                let mut conn = self.sqlite_connection().await;
                sqlx::query_scalar(
                    "SELECT m.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c \
                     WHERE m.type = 'table' AND c.name = 'org_id'",
                )
                .fetch_all(&mut conn)
                .await
                .expect("reading the SQLite schema")
            }
            Backend::Postgres => {
                let mut conn = self.postgres_connection().await;
                sqlx::query_scalar(
                    "SELECT CAST(table_name AS TEXT) FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND column_name = 'org_id'",
                )
                .fetch_all(&mut conn)
                .await
                .expect("reading the PostgreSQL schema")
            }
        };
        tables.sort();
        tables
    }

    /// For each table with an `org_id` column ([`tables_with_org_id`](Self::tables_with_org_id)),
    /// how many of its rows belong to no existing organization; only the tables that have any.
    /// Empty when deleted organizations left nothing behind.
    pub async fn rows_of_missing_organizations(&self) -> Vec<(String, i64)> {
        let mut left = Vec::new();
        for table in self.tables_with_org_id().await {
            let sql = format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} \
                 WHERE org_id NOT IN (SELECT id FROM organizations)"
            );
            let count: i64 = match backend() {
                Backend::Sqlite => {
                    let mut conn = self.sqlite_connection().await;
                    sqlx::query_scalar(&sql).fetch_one(&mut conn).await
                }
                Backend::Postgres => {
                    let mut conn = self.postgres_connection().await;
                    sqlx::query_scalar(&sql).fetch_one(&mut conn).await
                }
            }
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
            if count > 0 {
                left.push((table, count));
            }
        }
        left
    }

    /// A read connection to a persistent SQLite test database.
    async fn sqlite_connection(&self) -> sqlx::SqliteConnection {
        assert!(
            self.dir.is_some(),
            "{} is not a persistent SQLite database",
            self.url
        );
        sqlx::SqliteConnection::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url))
    }

    /// The directory holding the SQLite file, for a persistent SQLite database.
    pub fn sqlite_dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

/// A PostgreSQL database made for one test, dropped on drop.
struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    async fn create() -> Self {
        let admin_url = postgres_admin_url();
        let suffix: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(16)
            .map(|c| char::from(c).to_ascii_lowercase())
            .collect();
        let name = match std::env::var("ORGADMIN_TEST_RUN_ID") {
            Ok(run) if !run.is_empty() => {
                assert!(
                    run.len() <= 24 && run.bytes().all(|b| b.is_ascii_alphanumeric()),
                    "ORGADMIN_TEST_RUN_ID must be at most 24 letters and digits, not {run:?}"
                );
                format!("orgadmin_test_{}_{suffix}", run.to_ascii_lowercase())
            }
            _ => format!("orgadmin_test_{suffix}"),
        };
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "ORGADMIN_TEST_BACKEND=postgres, but the PostgreSQL server at \
                 ORGADMIN_TEST_POSTGRES_URL={admin_url} is unreachable: {e}"
            )
        });
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {admin_url}: {e}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime (which must not be blocked on) or while a panic
        // unwinds: drop the database from a thread of its own with a runtime of its own.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let outcome = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .map_err(|e| format!("connecting to {admin_url}: {e}"))?;
                admin
                    .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = admin.close().await;
                Ok(())
            })
        })
        .join()
        .unwrap_or_else(|_| Err("the dropping thread panicked".to_owned()));
        if let Err(e) = outcome {
            let message = format!("DROP DATABASE {}: {e}", self.name);
            if std::thread::panicking() {
                eprintln!("{message}");
            } else {
                panic!("{message}");
            }
        }
    }
}

/// `url` (`postgres://user@host:port/db?params`) with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
}

#[test]
fn a_database_url_names_the_new_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/postgres?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
}
