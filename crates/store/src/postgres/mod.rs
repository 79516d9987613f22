//! The PostgreSQL backend, for running several server replicas against one database.
//!
//! Correctness across replicas comes from the database, never from process memory: every write
//! transaction first locks its organization's row (`SELECT … FOR UPDATE`), so the writes of one
//! organization are serialized across all replicas exactly as the SQLite backend serializes them
//! on its single writer connection, and a rule checked at the start of a transaction still holds
//! at its commit. Unique keys back the membership and role-name rules as well. The first-start
//! bootstrap holds a transaction-scoped advisory lock, so replicas starting together create one
//! organization. An unreachable database makes requests fail fast (`Unavailable`, HTTP 503); the
//! pool reconnects by itself when the database is back.

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

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::{Clock, DomainError, Result};

use crate::auth_cache::AuthCache;
use crate::open::{self, OpenError};
use crate::read_cache::ReadCache;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool, Postgres, QueryBuilder};

// The names the shared operations (`ops/`) are written against.
pub(crate) type Db = Postgres;
pub(crate) type Conn = sqlx::PgConnection;
pub(crate) type Pool = PgPool;
pub(crate) type Backend = PgStore;
pub(crate) type Tx = sqlx::Transaction<'static, Postgres>;
pub(crate) use paging::{finish_page, finish_page_at, push_keyset};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Key of the advisory lock the bootstrap holds ("orgadmin" in ASCII).
const BOOTSTRAP_LOCK_KEY: i64 = 0x6f72_6761_646d_696e;

/// How long a request waits for a pooled connection before answering 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct PgStore {
    /// Reads and writes share one pool; the names mirror the SQLite backend's two pools.
    reader: PgPool,
    writer: PgPool,
    clock: Arc<dyn Clock>,
    auth_cache: AuthCache,
    read_cache: ReadCache,
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
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| OpenError::Url(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("orgadmin")
            // A request never waits long on a lock or a runaway statement.
            .options([("lock_timeout", "10s"), ("statement_timeout", "30s")]);
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
            .connect_with(options)
            .await
            .map_err(|e| open::postgres_error(url, e))?;
        match MIGRATOR.run(&pool).await {
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
        Ok(Self {
            reader: pool.clone(),
            writer: pool,
            clock,
            auth_cache: AuthCache::default(),
            read_cache: ReadCache::default(),
            server_version,
        })
    }

    /// The server's `server_version_num`, as read when the store was opened.
    pub fn server_version(&self) -> u32 {
        self.server_version
    }

    /// After a bulk write (an import) has committed: nothing to do (the SQLite backend
    /// truncates its write-ahead log here).
    pub(crate) async fn after_bulk_write(&self) {}

    /// Begin the bootstrap transaction, holding the bootstrap advisory lock until commit.
    pub(crate) async fn begin_bootstrap(&self) -> Result<Tx> {
        let mut tx = self.writer.begin().await.db()?;
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
    let unavailable = match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P0x: shutdown or starting up; 53: insufficient
            // resources; 40001/40P01: serialization failure or deadlock, safe to retry.
            code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
                || code == "40001"
                || code == "40P01"
                || code == "55P03"
        }),
        _ => false,
    };
    if unavailable {
        DomainError::Unavailable(e.to_string())
    } else {
        DomainError::internal(e)
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Append `AND column IN (…)` unless `values` is empty.
pub(crate) fn push_in(qb: &mut QueryBuilder<'_, Postgres>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    qb.push(format!(" AND {column} = ANY("));
    qb.push_bind(values.to_vec());
    qb.push(")");
}
