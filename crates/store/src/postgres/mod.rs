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
#[path = "../ops/email_identity.rs"]
mod email_identity;
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

use orgadmin_core::store::UserIds;
use orgadmin_core::{Clock, DomainError, Result};

use crate::auth_cache::AuthCache;
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
    /// What a person known in another organization is given (`--user-ids`).
    pub(crate) user_ids: UserIds,
}

/// A pooled connection idle for longer than this is pinged before it is used again.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

impl PgStore {
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DomainError::invalid("database", format!("invalid PostgreSQL URL: {e}")))?
            .application_name("orgadmin")
            // A request never waits long on a lock or a runaway statement.
            .options([("lock_timeout", "10s"), ("statement_timeout", "30s")]);
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
            .db()?;
        MIGRATOR.run(&pool).await.map_err(DomainError::internal)?;
        email_identity::bring_up_to_date(&pool).await?;
        Ok(Self {
            reader: pool.clone(),
            writer: pool,
            clock,
            auth_cache: AuthCache::default(),
            read_cache: ReadCache::default(),
            user_ids: UserIds::Global,
        })
    }

    /// Give people user IDs as `user_ids` says (global unless set).
    pub fn with_user_ids(mut self, user_ids: UserIds) -> Self {
        self.user_ids = user_ids;
        self
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
