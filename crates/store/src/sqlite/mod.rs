//! The SQLite backend.
//!
//! Writes go through a pool of exactly one connection, so write transactions are serialized
//! inside the process and a rule checked at the start of a transaction (the last owner, a
//! duplicate membership) still holds at its commit. Reads use a separate pool of read-only
//! connections, which WAL mode lets run beside the writer. Durability: WAL with
//! `synchronous=FULL`, so an acknowledged write survives a crash of the process and of the
//! machine.

#[path = "../ops/mod.rs"]
mod ops;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::store::UserIds;
use orgadmin_core::{Clock, DomainError, Result};

use orgadmin_core::OutageKind;

use crate::auth_cache::AuthCache;
use crate::faults::FaultClass;
use crate::guard::{Guard, Probe};
use crate::lease::{self, Lease};
use crate::open::{self, OpenError};
use crate::read_cache::ReadCache;
use crate::versions::VersionSource;
use crate::StoreOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, QueryBuilder, Sqlite, SqlitePool};

// The names the shared operations (`ops/mod.rs`) are written against.
pub(crate) type Db = Sqlite;
pub(crate) type Conn = sqlx::SqliteConnection;
pub(crate) type Pool = SqlitePool;
pub(crate) type Backend = SqliteStore;
use ops::group_commit::GroupCommit;
/// The tables of an organization's rows (the same list in both backends: `ops/organizations.rs`).
pub use ops::organizations::{OnReset, ORGANIZATION_TABLES};
use ops::{email_identity, Tx};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    writer: SqlitePool,
    /// Every write of the built store goes through it: durable writes share `COMMIT`s.
    group_commit: Option<Arc<GroupCommit>>,
    reader: SqlitePool,
    clock: Arc<dyn Clock>,
    auth_cache: AuthCache,
    read_cache: ReadCache,
    /// Memory: this process is the database's only writer (`versions.rs`).
    versions: VersionSource,
    guard: Guard,
    /// What a person known in another organization is given (`--user-ids`).
    pub(crate) user_ids: UserIds,
    /// The file's lease (`lease.rs`), held for as long as the store lives; `None` in memory.
    _lease: Option<Lease>,
}

/// How long a statement waits for another process's write lock (an import, say) before
/// answering 503 `Busy`: less than a server's 2 s deadline, so a lock held elsewhere reads as
/// busy, not as a database that stopped answering.
const BUSY_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long a request waits for the writer connection (held by the write before it).
const WRITER_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// The group commit of a store's writer (`ops/group_commit.rs`).
fn grouped(writer: &SqlitePool, options: &StoreOptions, guard: &Guard) -> Arc<GroupCommit> {
    GroupCommit::new(
        writer.clone(),
        options.group_commit,
        guard.health.clone(),
        guard.faults.clone(),
        guard.metrics.clone(),
    )
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
        Self::open_with(url, clock, StoreOptions::default()).await
    }

    /// [`open`](Self::open), with `store_options` guarding every call.
    pub async fn open_with(
        url: &str,
        clock: Arc<dyn Clock>,
        store_options: StoreOptions,
    ) -> Result<Self, OpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| OpenError::Url(format!("invalid SQLite URL '{url}': {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
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
            let guard = Guard::new(&store_options, writer_probe(&pool));
            return Ok(Self {
                group_commit: Some(grouped(&pool, &store_options, &guard)),
                guard,
                writer: pool.clone(),
                reader: pool,
                clock,
                auth_cache: AuthCache::new(&store_options.metrics),
                read_cache: ReadCache::new(&store_options.metrics),
                // Each connection to `:memory:` is its own database: no other process, nor
                // another store of this one, can write it.
                versions: VersionSource::memory(),
                user_ids: store_options.user_ids,
                _lease: None,
            });
        }

        let Some(path) = file_path(url) else {
            return Err(OpenError::Url(format!(
                "invalid SQLite URL '{url}': it names no file"
            )));
        };
        let created = open::prepare_sqlite_file(url, &path)?;
        // Before SQLite opens the file: a second store of it is refused before it reads
        // anything, and no migration runs beside a server.
        let lease = match lease::take(&path, url) {
            Ok(lease) => lease,
            Err(e) => {
                created.remove();
                return Err(e);
            }
        };
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let writer = match pool_options()
            .max_connections(1)
            .acquire_timeout(WRITER_ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
        {
            Ok(writer) => writer,
            Err(e) => {
                drop(lease);
                created.remove();
                return Err(open::sqlite_error(url, e));
            }
        };
        if let Err(e) = migrate(url, &writer).await {
            writer.close().await;
            drop(lease);
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
                drop(lease);
                created.remove();
                return Err(open::sqlite_error(url, e));
            }
        };
        created.opened();
        let guard = Guard::new(&store_options, writer_probe(&writer));
        Ok(Self {
            group_commit: Some(grouped(&writer, &store_options, &guard)),
            guard,
            writer,
            reader,
            clock,
            auth_cache: AuthCache::new(&store_options.metrics),
            read_cache: ReadCache::new(&store_options.metrics),
            versions: VersionSource::memory(),
            user_ids: store_options.user_ids,
            _lease: Some(lease),
        })
    }

    /// Begin the bootstrap transaction (serialized like every write).
    pub(crate) async fn begin_bootstrap(&self) -> Result<Tx> {
        self.begin_write().await
    }

    /// How a write transaction begins: `IMMEDIATE` takes the database's write lock at once, so
    /// a transaction never has to upgrade its lock midway (and fail) when another process
    /// writes. SQLite refuses `BEGIN` on a connection already inside a transaction, so a write
    /// can never silently nest inside one left open.
    pub(crate) const BEGIN: &'static str = "BEGIN IMMEDIATE";

    /// The first statement of a write transaction of the organization `$1` (`begin_with_clock`):
    /// its generation incremented, returning it, the key-use epoch and the clock. (PostgreSQL's also notifies the
    /// other replicas; one process owns a SQLite file.)
    pub(crate) const BUMP_GENERATION: &'static str =
        "UPDATE organizations SET generation = generation + 1 WHERE id = $1 \
         RETURNING generation, COALESCE((SELECT epoch FROM key_use WHERE org_id = $1), 0), \
         clock_offset_seconds, clock_frozen_at";

    /// The key-use epoch of the organization `$1` incremented (`keys::touch_last_used`),
    /// returning it.
    pub(crate) const BUMP_KEY_USE: &'static str =
        "INSERT INTO key_use (org_id, epoch) VALUES ($1, 1) \
         ON CONFLICT (org_id) DO UPDATE SET epoch = key_use.epoch + 1 RETURNING epoch";

    /// After a failure: roll back, then prove the connection is outside any transaction. SQLite
    /// may have rolled back already (it does on a full disk or an I/O error), so the `ROLLBACK`
    /// may fail with "no transaction is active"; the proof is a `BEGIN` that succeeds, which
    /// SQLite allows only in autocommit mode, and its `ROLLBACK`.
    pub(crate) async fn prove_idle(conn: &mut Conn) -> bool {
        let _ = conn.execute("ROLLBACK").await;
        conn.execute("BEGIN").await.is_ok() && conn.execute("ROLLBACK").await.is_ok()
    }

    /// The error SQLite reports for a fault of `class` (the fault hook).
    pub(crate) fn injected_error(class: FaultClass) -> sqlx::Error {
        class.error([
            ("13", "database or disk is full"),
            ("10", "disk I/O error"),
            ("5", "database is locked"),
        ])
    }

    /// The backend a snapshot names (`ops/snapshot.rs`): snapshots restore only on their own.
    pub(crate) const NAME: &'static str = "sqlite";

    /// The pools by name, for the metrics (`HealthStore::pool_use`): a file has a writer and
    /// readers; `:memory:` (no lease) one connection for both.
    pub(crate) fn pools(&self) -> Vec<(&'static str, &Pool)> {
        if self._lease.is_none() {
            vec![("shared", &self.writer)]
        } else {
            vec![("writer", &self.writer), ("reader", &self.reader)]
        }
    }

    /// The schema version a snapshot records: the latest migration this binary has (a database
    /// with a newer one is refused at open).
    pub(crate) fn schema_version() -> i64 {
        open::newest_known(&MIGRATOR)
    }

    /// How a snapshot's consistent read begins: a deferred transaction on a reader, whose first
    /// `SELECT` fixes the WAL snapshot it reads until its end.
    pub(crate) const BEGIN_SNAPSHOT: &'static str = "BEGIN";

    /// Every column of every table: `(table, column, declared type, not null 0/1, position in
    /// the primary key, 0 when not in it)`, in table and column order.
    pub(crate) const SCHEMA_COLUMNS: &'static str =
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk \
         FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
         WHERE m.type = 'table' ORDER BY m.name, p.cid";

    /// One text value, the JSON array of `table`'s rows of the organization `$1`, each an object
    /// of `columns`, in the order of `key` (the primary key).
    pub(crate) fn rows_as_json(table: &str, columns: &[&str], key: &[&str]) -> String {
        let fields: Vec<String> = columns.iter().map(|c| format!("'{c}', {c}")).collect();
        format!(
            "SELECT json_group_array(json_object({}) ORDER BY {}) FROM {table} WHERE org_id = $1",
            fields.join(", "),
            key.join(", ")
        )
    }

    /// Insert the rows of the JSON array `$2` (objects of `columns`, checked beforehand) into
    /// `table`, with `org_id` `$1`.
    pub(crate) fn insert_rows_from_json(table: &str, columns: &[&str]) -> String {
        let values: Vec<String> = columns
            .iter()
            .map(|c| format!("json_extract(value, '$.\"{c}\"')"))
            .collect();
        format!(
            "INSERT INTO {table} (org_id, {}) SELECT $1, {} FROM json_each($2)",
            columns.join(", "),
            values.join(", ")
        )
    }

    /// Give people user IDs as `user_ids` says (global unless set).
    pub fn with_user_ids(mut self, user_ids: UserIds) -> Self {
        self.user_ids = user_ids;
        self
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

/// The breaker's probe: the writer connection answers a statement (so neither the file nor the
/// thread that writes it is stuck).
fn writer_probe(writer: &SqlitePool) -> Probe {
    let writer = writer.clone();
    Arc::new(move || {
        let writer = writer.clone();
        Box::pin(async move { sqlx::query("SELECT 1").execute(&writer).await.is_ok() })
    })
}

/// Run the migrations this binary has, refusing a schema newer than it knows.
async fn migrate(url: &str, pool: &SqlitePool) -> Result<(), OpenError> {
    match MIGRATOR.run(pool).await {
        Ok(()) => email_identity::bring_up_to_date(pool)
            .await
            .map_err(|e| open::upgrade_error(url, e)),
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

/// SQLite's result codes, classed. The primary code is the low byte of the extended code sqlx
/// reports.
pub(crate) fn db_error(e: sqlx::Error) -> DomainError {
    let kind = match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => Some(OutageKind::Unreachable),
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => Some(OutageKind::StorageFailure),
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<u32>().ok())
            .and_then(|code| match code & 0xff {
                // SQLITE_FULL.
                13 => Some(OutageKind::DiskFull),
                // SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_CANTOPEN, SQLITE_PROTOCOL, SQLITE_NOTADB,
                // SQLITE_READONLY (a file system remounted read-only, a file replaced), and
                // SQLITE_NOMEM: the storage, not the request.
                10 | 11 | 14 | 15 | 26 | 8 | 7 => Some(OutageKind::StorageFailure),
                // SQLITE_BUSY and SQLITE_LOCKED: another process holds the file.
                5 | 6 => Some(OutageKind::Busy),
                _ => None,
            }),
        _ => None,
    };
    match kind {
        Some(kind) => DomainError::unavailable(kind, e),
        None => DomainError::internal(e),
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether the database refused the data itself (SQLITE_CONSTRAINT: unique, foreign key, NOT
/// NULL, CHECK), not the storage.
pub(crate) fn refuses_data(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if db.code().and_then(|code| code.parse::<u32>().ok()).is_some_and(|code| code & 0xff == 19))
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
