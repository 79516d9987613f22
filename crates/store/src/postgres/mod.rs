//! The PostgreSQL backend, for running several server replicas against one database.
//!
//! Correctness across replicas comes from the database, never from process memory: every write
//! transaction first locks its organization's row (the generation `UPDATE` of `begin_for`), so the writes of one
//! organization are serialized across all replicas exactly as the SQLite backend serializes them
//! on its single writer connection, and a rule checked at the start of a transaction still holds
//! at its commit. Unique keys back the membership and role-name rules as well. The first-start
//! bootstrap holds a transaction-scoped advisory lock, so replicas starting together create one
//! organization. An unreachable database makes requests fail fast (`Unavailable`, HTTP 503, and
//! the circuit breaker of `guard.rs`); the pool reconnects by itself when the database is back.

mod listener;
#[path = "../ops/mod.rs"]
mod ops;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::store::{Consistency, UserIds};
use orgadmin_core::{Clock, DomainError, Result};

use orgadmin_core::OutageKind;

use crate::auth_cache::AuthCache;
use crate::faults::FaultClass;
use crate::guard::{Guard, Probe};
use crate::open::{self, OpenError};
use crate::read_cache::ReadCache;
use crate::versions::{Notified, VersionSource};
use crate::StoreOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool, Postgres, QueryBuilder};

// The names the shared operations (`ops/mod.rs`) are written against.
pub(crate) type Db = Postgres;
pub(crate) type Conn = sqlx::PgConnection;
pub(crate) type Pool = PgPool;
pub(crate) type Backend = PgStore;
use ops::group_commit::GroupCommit;
use ops::{email_identity, Tx};

/// The `application_name` of a `--consistency bounded` store's listening connection, as
/// `pg_stat_activity` shows it.
pub use listener::APPLICATION_NAME as LISTENER_APPLICATION_NAME;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a starting server waits for another one's migrations (the migration lock).
const MIGRATION_LOCK_WAIT: &str = "120s";

/// Key of the advisory lock the bootstrap holds ("orgadmin" in ASCII).
const BOOTSTRAP_LOCK_KEY: i64 = 0x6f72_6761_646d_696e;

/// How long a request waits for a pooled connection before answering 503 (the store call's
/// deadline usually answers first).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long opening a connection may take (a server that accepts TCP but does not answer).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

pub struct PgStore {
    /// Reads and writes share one pool; the names mirror the SQLite backend's two pools.
    reader: PgPool,
    writer: PgPool,
    /// Always `None`: PostgreSQL's writers commit concurrently, each its own transaction.
    group_commit: Option<Arc<GroupCommit>>,
    clock: Arc<dyn Clock>,
    auth_cache: AuthCache,
    read_cache: ReadCache,
    /// The database (`--consistency strict`: replicas write it too), or memory kept current by
    /// the listener's notifications (`bounded`), `versions.rs`.
    versions: VersionSource,
    /// The listener of `--consistency bounded`, stopped with the store.
    _listening: Option<listener::Listening>,
    guard: Guard,
    /// What a person known in another organization is given (`--user-ids`).
    pub(crate) user_ids: UserIds,
    server_version: u32,
}

/// A pooled connection idle for longer than this is pinged before it is used again.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// How long `open` keeps trying a server that does not answer (yet) before giving up: a server
/// started together with its database has time to wait for it, and one pointed at the wrong
/// host says so soon.
pub const START_WAIT: Duration = Duration::from_secs(10);
/// The pause between two attempts to connect at start.
const START_RETRY_AFTER: Duration = Duration::from_millis(250);

/// `HOST:PORT` (or the socket directory) of the server `options` name, for messages.
fn server_name(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(socket) => format!("{} (port {})", socket.display(), options.get_port()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

/// One connection, retried for [`START_WAIT`] while the server does not answer or is starting
/// up; a refusal that waiting cannot change (authentication, a missing database) ends it at
/// once. Each attempt is bounded too, since connecting to a host that drops packets would
/// otherwise wait for the operating system's own timeout.
async fn connect_at_start(
    options: &PgConnectOptions,
    server: &str,
) -> Result<sqlx::PgConnection, OpenError> {
    let started = tokio::time::Instant::now();
    let deadline = started + START_WAIT;
    loop {
        let attempt = tokio::time::timeout_at(deadline, sqlx::PgConnection::connect_with(options));
        let failed = match attempt.await {
            Ok(Ok(connection)) => return Ok(connection),
            Ok(Err(e)) => e,
            Err(_) => sqlx::Error::PoolTimedOut,
        };
        let now = tokio::time::Instant::now();
        if !open::postgres_may_come_back(&failed) || now + START_RETRY_AFTER >= deadline {
            let failed = match failed {
                sqlx::Error::PoolTimedOut => sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no answer",
                )),
                other => other,
            };
            return Err(open::postgres_connect_error(server, &failed, now - started));
        }
        tokio::time::sleep(START_RETRY_AFTER).await;
    }
}

impl PgStore {
    /// Connect to the database `url` names (waiting up to [`START_WAIT`] for a server that is
    /// not answering yet), check that the server is recent enough, and bring the schema up to
    /// date. Each way this can fail is an [`OpenError`] naming the server and what was found.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self, OpenError> {
        Self::open_with(url, clock, StoreOptions::default()).await
    }

    /// [`open`](Self::open), with `store_options` guarding every call.
    pub async fn open_with(
        url: &str,
        clock: Arc<dyn Clock>,
        store_options: StoreOptions,
    ) -> Result<Self, OpenError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| OpenError::Url(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("orgadmin")
            // A request never waits long on a lock or a runaway statement. The lock wait is
            // shorter than a server's 2 s deadline, so a lock held elsewhere (an import) reads as
            // busy, not as a database that stopped answering.
            .options([("lock_timeout", "1500ms"), ("statement_timeout", "30s")]);
        let server = server_name(&options);
        let mut first = connect_at_start(&options, &server).await?;
        let version = sqlx::query_scalar::<_, String>("SHOW server_version_num")
            .fetch_one(&mut first)
            .await
            .map_err(|e| open::postgres_error(url, e));
        let _ = first.close().await;
        let server_version = open::check_postgres_version(&server, &version?)?;

        let max_connections = std::env::var("ORGADMIN_DATABASE_MAX_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n: &u32| *n > 0)
            .unwrap_or(16);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Duration::from_secs(300))
            // A connection in steady use is known good: pinging it before every use would double
            // the round trips of a point read. One that sat idle (as every connection does
            // through a database restart) is pinged, and replaced if it is dead.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < PING_WHEN_IDLE_FOR {
                        return Ok(true);
                    }
                    Ok(conn.ping().await.is_ok())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(|e| open::postgres_error(url, e))?;
        // Migrations run on a connection of their own that may wait for the migration lock as long
        // as another replica starting at the same moment needs to migrate: the 1.5 s lock wait of
        // requests would fail every replica but the first on a slow or loaded machine.
        // (A pool of one: sqlx's migrator on a bare connection makes the future not `Send`.)
        let migrating = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .options([("lock_timeout", MIGRATION_LOCK_WAIT)]),
            )
            .await
            .map_err(|e| open::postgres_error(url, e))?;
        let migrated = MIGRATOR.run(&migrating).await;
        migrating.close().await;
        match migrated {
            Ok(()) => {}
            Err(sqlx::migrate::MigrateError::VersionMissing(_)) => {
                let found: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
                    .fetch_one(&pool)
                    .await
                    .map_err(|e| open::postgres_error(url, e))?;
                return Err(open::schema_too_new(
                    url,
                    found,
                    open::newest_known(&MIGRATOR),
                ));
            }
            Err(e) => return Err(open::migrate_error(url, e, open::postgres_error)),
        }
        email_identity::bring_up_to_date(&pool)
            .await
            .map_err(|e| open::upgrade_error(url, e))?;
        let (versions, listening) = match store_options.consistency {
            Consistency::Strict => (VersionSource::Database, None),
            Consistency::Bounded => {
                let notified = Arc::new(Notified::default());
                let listening = listener::spawn(&options, notified.clone());
                (VersionSource::notified(notified), Some(listening))
            }
        };
        Ok(Self {
            guard: Guard::new(&store_options, connect_probe(options)),
            reader: pool.clone(),
            writer: pool,
            clock,
            auth_cache: AuthCache::new(&store_options.metrics),
            read_cache: ReadCache::new(&store_options.metrics),
            versions,
            _listening: listening,
            group_commit: None,
            user_ids: store_options.user_ids,
            server_version,
        })
    }

    /// Give people user IDs as `user_ids` says (global unless set).
    pub fn with_user_ids(mut self, user_ids: UserIds) -> Self {
        self.user_ids = user_ids;
        self
    }

    /// The server's `server_version_num`, as read when the store was opened.
    pub fn server_version(&self) -> u32 {
        self.server_version
    }

    /// After a bulk write (an import) has committed: nothing to do (the SQLite backend
    /// truncates its write-ahead log here).
    pub(crate) async fn after_bulk_write(&self) {}

    /// The backend a snapshot names (`ops/snapshot.rs`): snapshots restore only on their own.
    pub(crate) const NAME: &'static str = "postgres";

    /// The pools by name, for the metrics (`HealthStore::pool_use`): reads and writes share one.
    pub(crate) fn pools(&self) -> Vec<(&'static str, &Pool)> {
        vec![("shared", &self.writer)]
    }

    /// The schema version a snapshot records: the latest migration this binary has (a database
    /// with a newer one is refused at open).
    pub(crate) fn schema_version() -> i64 {
        open::newest_known(&MIGRATOR)
    }

    /// How a snapshot's consistent read begins: every statement of a repeatable-read
    /// transaction sees the database as of its first.
    pub(crate) const BEGIN_SNAPSHOT: &'static str =
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

    /// Every column of every table of the schema in use: `(table, column, type, not null 0/1,
    /// position in the primary key, 0 when not in it)`, in table and column order.
    pub(crate) const SCHEMA_COLUMNS: &'static str =
        "SELECT CAST(c.relname AS TEXT), CAST(a.attname AS TEXT), format_type(a.atttypid, a.atttypmod), \
                CAST(CASE WHEN a.attnotnull THEN 1 ELSE 0 END AS BIGINT), \
                CAST(COALESCE(array_position(CAST(string_to_array(CAST(i.indkey AS TEXT), ' ') AS SMALLINT[]), a.attnum), 0) AS BIGINT) \
         FROM pg_class AS c \
         JOIN pg_namespace AS n ON n.oid = c.relnamespace \
         JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_index AS i ON i.indrelid = c.oid AND i.indisprimary \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' \
         ORDER BY c.relname, a.attnum";

    /// One text value, the JSON array of `table`'s rows of the organization `$1` (every column),
    /// in the order of `key` (the primary key).
    pub(crate) fn rows_as_json(table: &str, _columns: &[&str], key: &[&str]) -> String {
        format!(
            "SELECT CAST(COALESCE(json_agg(t ORDER BY {}), '[]') AS TEXT) FROM {table} AS t WHERE org_id = $1",
            key.iter().map(|k| format!("t.{k}")).collect::<Vec<_>>().join(", ")
        )
    }

    /// Insert the rows of the JSON array `$2` (objects of `columns`, checked beforehand) into
    /// `table`, with `org_id` `$1`.
    pub(crate) fn insert_rows_from_json(table: &str, columns: &[&str]) -> String {
        format!(
            "INSERT INTO {table} (org_id, {}) SELECT $1, {} \
             FROM json_populate_recordset(NULL::{table}, CAST($2 AS JSON)) AS r",
            columns.join(", "),
            columns
                .iter()
                .map(|c| format!("r.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// How a write transaction begins.
    pub(crate) const BEGIN: &'static str = "BEGIN";

    /// The first statement of a write transaction of the organization `$1` (`begin_with_clock`):
    /// its generation incremented, returning it, the key-use epoch and the clock. It also
    /// notifies the listeners of `--consistency bounded` (`listener.rs`), at commit and only if
    /// it commits; every server sends it, strict or not, so replicas of either mode may share the
    /// database.
    pub(crate) const BUMP_GENERATION: &'static str =
        "UPDATE organizations SET generation = generation + 1 WHERE id = $1 \
         RETURNING generation, COALESCE((SELECT epoch FROM key_use WHERE org_id = $1), 0), \
         clock_offset_seconds, clock_frozen_at, pg_notify('orgadmin_versions', id)";

    /// The key-use epoch of the organization `$1` incremented (`keys::touch_last_used`),
    /// returning it, with the notification of [`BUMP_GENERATION`](Self::BUMP_GENERATION).
    pub(crate) const BUMP_KEY_USE: &'static str =
        "INSERT INTO key_use (org_id, epoch) VALUES ($1, 1) \
         ON CONFLICT (org_id) DO UPDATE SET epoch = key_use.epoch + 1 \
         RETURNING epoch, pg_notify('orgadmin_versions', org_id)";

    /// After a failure: `ROLLBACK` ends whatever transaction the session is in (outside one it
    /// only warns), so its success proves the connection idle; a connection that cannot say
    /// it (broken, or a server not answering) is closed.
    pub(crate) async fn prove_idle(conn: &mut Conn) -> bool {
        conn.execute("ROLLBACK").await.is_ok()
    }

    /// The error PostgreSQL reports for a fault of `class` (the fault hook).
    pub(crate) fn injected_error(class: FaultClass) -> sqlx::Error {
        class.error([
            ("53100", "could not extend file: No space left on device"),
            ("58030", "could not write to file: Input/output error"),
            ("55P03", "canceling statement due to lock timeout"),
        ])
    }

    /// Begin the bootstrap transaction, holding the bootstrap advisory lock until commit.
    pub(crate) async fn begin_bootstrap(&self) -> Result<Tx> {
        let mut tx = self.begin_write().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BOOTSTRAP_LOCK_KEY)
            .execute(&mut *tx)
            .await
            .db()?;
        Ok(tx)
    }
}

/// Turn storage failures into domain errors: an unreachable, restarting or overloaded database is
/// `Unavailable` (retryable, HTTP 503), anything else is a bug and `Internal`.
pub(crate) trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(db_error)
    }
}

pub(crate) fn db_error(e: sqlx::Error) -> DomainError {
    let kind = match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => Some(OutageKind::Unreachable),
        sqlx::Error::Database(db) => db.code().and_then(|code| match code.as_ref() {
            "53100" => Some(OutageKind::DiskFull),
            // io_error, data_corrupted, index_corrupted.
            "58030" | "XX001" | "XX002" => Some(OutageKind::StorageFailure),
            // 40001/40P01: serialization failure or deadlock; 55P03: lock timeout; 53: out of
            // memory or connections. All safe to retry.
            "40001" | "40P01" | "55P03" => Some(OutageKind::Busy),
            c if c.starts_with("53") => Some(OutageKind::Busy),
            // 08: connection exception; 57P0x: shutting down, starting up, or the server cannot
            // be reached; 57014: a statement cancelled (statement_timeout).
            c if c.starts_with("08") || c.starts_with("57P") || c == "57014" => {
                Some(OutageKind::Unreachable)
            }
            // 25006: read-only transaction (a standby promoted away from us).
            "25006" => Some(OutageKind::StorageFailure),
            _ => None,
        }),
        _ => None,
    };
    match kind {
        Some(kind) => DomainError::unavailable(kind, e),
        None => DomainError::internal(e),
    }
}

/// The breaker's probe: a fresh connection (not one from the pool, which may be stuck on the
/// server that stopped answering) answers `SELECT 1`.
fn connect_probe(options: PgConnectOptions) -> Probe {
    Arc::new(move || {
        let options = options.clone();
        Box::pin(async move {
            let Ok(Ok(mut conn)) =
                tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await
            else {
                return false;
            };
            let answered = conn.execute("SELECT 1").await.is_ok();
            let _ = conn.close().await;
            answered
        })
    })
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Append `AND column IN (…)` unless `values` is empty.
/// Whether the database refused the data itself (class 23, integrity constraints: unique,
/// foreign key, NOT NULL, CHECK; class 22, a value it cannot take), not the storage.
pub(crate) fn refuses_data(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if db.code().is_some_and(|code| code.starts_with("23") || code.starts_with("22")))
}

pub(crate) fn push_in(qb: &mut QueryBuilder<'_, Postgres>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    qb.push(format!(" AND {column} = ANY("));
    qb.push_bind(values.to_vec());
    qb.push(")");
}
