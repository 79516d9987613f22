//! The SQLite backend.
//!
//! Writes go through a pool of exactly one connection, so write transactions are serialized
//! inside the process and a rule checked at the start of a transaction (the last owner, a
//! duplicate membership) still holds at its commit. Reads use a separate pool of read-only
//! connections, which WAL mode lets run beside the writer. Durability: WAL with
//! `synchronous=FULL`, so an acknowledged write survives a crash of the process and of the
//! machine.

#[path = "../ops/audit.rs"]
mod audit;
#[path = "../ops/groups.rs"]
mod groups;
#[path = "../ops/import.rs"]
mod import;
#[path = "../ops/invites.rs"]
mod invites;
#[path = "../ops/keys.rs"]
mod keys;
#[path = "../ops/paging.rs"]
mod paging;
#[path = "../ops/projects.rs"]
mod projects;
#[path = "../ops/roles.rs"]
mod roles;
#[path = "../ops/service_accounts.rs"]
mod service_accounts;
#[path = "../ops/store_impl.rs"]
mod store_impl;
#[path = "../ops/users.rs"]
mod users;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::{Clock, DomainError, Result};

use crate::auth_cache::AuthCache;
use crate::open::{self, OpenError};
use crate::read_cache::ReadCache;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

// The names the shared operations (`ops/`) are written against.
pub(crate) type Db = Sqlite;
pub(crate) type Conn = sqlx::SqliteConnection;
pub(crate) type Pool = SqlitePool;
pub(crate) type Backend = SqliteStore;
pub(crate) type Tx = sqlx::Transaction<'static, Sqlite>;
pub(crate) use paging::{finish_page, finish_page_at, push_keyset};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    clock: Arc<dyn Clock>,
    auth_cache: AuthCache,
    read_cache: ReadCache,
}

pub(crate) fn file_path(url: &str) -> Option<PathBuf> {
    if is_memory(url) {
        return None;
    }
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then(|| PathBuf::from(path))
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl SqliteStore {
    /// Open (creating if missing) the database `url` names and bring its schema up to date. A
    /// file that is not a SQLite database, a directory that cannot be written, a full disk or a
    /// schema newer than this binary is an [`OpenError`] saying so; what this call created
    /// before failing (the file, its directory) is removed again.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self, OpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| OpenError::Url(format!("invalid SQLite URL '{url}': {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            // 8 MiB of pages per connection (five connections): enough for every inner page of
            // a database of millions of members; the leaves come from the OS's file cache, which
            // the process's memory does not count twice.
            .pragma("cache_size", "-8000");

        if is_memory(url) {
            // One connection for everything: each connection to `:memory:` is its own database,
            // and it must never be closed while the server runs.
            let pool = pool_options()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(|e| open::sqlite_error(url, e))?;
            migrate(url, &pool).await?;
            return Ok(Self {
                writer: pool.clone(),
                reader: pool,
                clock,
                auth_cache: AuthCache::default(),
                read_cache: ReadCache::default(),
            });
        }

        let created = match file_path(url) {
            Some(path) => open::prepare_sqlite_file(url, &path)?,
            None => open::Created::default(),
        };
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let writer = match pool_options()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
        {
            Ok(writer) => writer,
            Err(e) => {
                created.remove();
                return Err(open::sqlite_error(url, e));
            }
        };
        if let Err(e) = migrate(url, &writer).await {
            writer.close().await;
            created.remove();
            return Err(e);
        }
        let readers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2) as u32
            * 2;
        let reader = match pool_options()
            .max_connections(readers)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
        {
            Ok(reader) => reader,
            Err(e) => {
                writer.close().await;
                created.remove();
                return Err(open::sqlite_error(url, e));
            }
        };
        created.opened();
        Ok(Self {
            writer,
            reader,
            clock,
            auth_cache: AuthCache::default(),
            read_cache: ReadCache::default(),
        })
    }

    /// Begin the bootstrap transaction (serialized like every write).
    pub(crate) async fn begin_bootstrap(&self) -> Result<Tx> {
        self.writer.begin().await.db()
    }

    /// After a bulk write (an import) has committed: give back the disk its write-ahead log
    /// grew to (as large as the data written). Best effort; a reader still open elsewhere
    /// just leaves the log for the next checkpoint.
    pub(crate) async fn after_bulk_write(&self) {
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await;
    }
}

/// Run the migrations this binary has, refusing a schema newer than it knows.
async fn migrate(url: &str, pool: &SqlitePool) -> Result<(), OpenError> {
    match MIGRATOR.run(pool).await {
        Ok(()) => Ok(()),
        Err(sqlx::migrate::MigrateError::VersionMissing(_)) => {
            let found: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
                .fetch_one(pool)
                .await
                .map_err(|e| open::sqlite_error(url, e))?;
            Err(open::schema_too_new(
                url,
                found,
                open::newest_known(&MIGRATOR),
            ))
        }
        Err(e) => Err(open::migrate_error(url, e, open::sqlite_error)),
    }
}

/// Pool settings shared by the writer and the readers. The database is a file on this machine,
/// so connections are not pinged before use: with sqlx every statement, the ping included, is a
/// round trip to the connection's own thread, and the ping would double the cost of a point read.
fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new().test_before_acquire(false)
}

/// Turn storage failures into domain errors: an unreachable or overloaded database is
/// `Unavailable` (retryable), anything else is a bug and `Internal`.
pub(crate) trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(db_error)
    }
}

pub(crate) fn db_error(e: sqlx::Error) -> DomainError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            DomainError::Unavailable(e.to_string())
        }
        // SQLITE_BUSY and SQLITE_LOCKED and their extended codes: another process holds the file.
        sqlx::Error::Database(db)
            if matches!(db.code().as_deref(), Some("5" | "6" | "261" | "517")) =>
        {
            DomainError::Unavailable(e.to_string())
        }
        _ => DomainError::internal(e),
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Append `AND column IN (?, ?, …)` unless `values` is empty.
pub(crate) fn push_in(qb: &mut QueryBuilder<'_, Sqlite>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    qb.push(format!(" AND {column} IN ("));
    let mut sep = qb.separated(", ");
    for v in values {
        sep.push_bind(v.clone());
    }
    sep.push_unseparated(")");
}
