//! Storage backends of orgadmin, behind the [`orgadmin_core::Store`] trait. This is the only
//! crate that knows SQL. Each backend runs every write in one transaction together with its audit
//! event and enforces the domain rules there.
//!
//! The operations are written once, in `ops/`, against the few names each backend module
//! defines — the contract is written out in `ops/mod.rs` — and compiled into both backend
//! modules: the rules cannot drift apart between SQLite and PostgreSQL. The SQL in `ops/`
//! is the dialect both accept (`$N` placeholders, `CAST`, `TRUE`, `ON CONFLICT`); what differs —
//! connection setup, write serialization, error classification, array binds — lives in
//! `sqlite/mod.rs` and `postgres/mod.rs`.
#![expect(
    clippy::duplicate_mod,
    reason = "the shared operations in ops/ are compiled once per backend on purpose"
)]

mod auth_cache;
pub mod faults;
mod group_commit;
mod guard;
mod health;
mod lease;
mod open;
mod postgres;
mod read_cache;
mod rows;
mod sqlite;
mod versions;

use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::store::{Consistency, UserIds};
use orgadmin_core::{Clock, Store};
use orgadmin_metrics::StoreMetrics;

pub use faults::Faults;
pub use group_commit::{GroupCommitLimits, GroupCommitStats};
pub use guard::{PROBE_EVERY, TRIP_AFTER};

pub use open::{postgres_version_text, redact_url, OpenError, MIN_POSTGRES_VERSION};
pub use postgres::{PgStore, LISTENER_APPLICATION_NAME, START_WAIT};
pub use sqlite::SqliteStore;
/// Every table holding an organization's rows, and what reset does with them (for the schema
/// check in `tests/organization_tables.rs`).
pub use sqlite::{OnReset, ORGANIZATION_TABLES};

/// How a store guards its calls (see `guard.rs`).
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Longest a store call may take before it answers 503 (`Unreachable`) and counts towards
    /// opening the circuit breaker. `None`: no deadline (a command-line import of millions of
    /// rows may legitimately take minutes).
    pub deadline: Option<Duration>,
    /// The fault hook, armed by tests; `None` for a hook that never strikes.
    pub faults: Option<Arc<Faults>>,
    /// What a person known in another organization is given (`--user-ids`).
    pub user_ids: UserIds,
    /// How SQLite's writer groups durable writes into one `COMMIT` (`group_commit.rs`);
    /// PostgreSQL does not group.
    pub group_commit: GroupCommitLimits,
    /// Where the store records its metrics (the server's, which `/metrics` renders; a store
    /// of its own otherwise).
    pub metrics: Arc<StoreMetrics>,
    /// Whether a PostgreSQL store reads an organization's version at every request or trusts
    /// what it remembers until notified (`--consistency`, `versions.rs`). SQLite ignores it.
    pub consistency: Consistency,
}

impl StoreOptions {
    /// What a server uses: a 2 s deadline on every store call (a request is answered, 503 at
    /// worst, within about 2 s even when the database stops answering).
    pub fn server() -> Self {
        Self {
            deadline: Some(Duration::from_secs(2)),
            ..Self::default()
        }
    }
}

/// Open the store named by a database URL (`sqlite://PATH`, `sqlite::memory:`,
/// `postgres://…`), run its migrations, and return it behind the trait, with no deadline on
/// calls (see [`open_with`]). A database that cannot be used is an [`OpenError`] whose message
/// says why and names the database.
pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, OpenError> {
    open_with(url, clock, StoreOptions::default()).await
}

/// [`open`], with `options` guarding every call.
pub async fn open_with(
    url: &str,
    clock: Arc<dyn Clock>,
    options: StoreOptions,
) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("sqlite:") {
        if options.consistency == Consistency::Bounded {
            tracing::info!(
                "--consistency bounded changes nothing on SQLite: this process is the file's only writer, so the versions it keeps in memory are exact"
            );
        }
        Ok(Arc::new(SqliteStore::open_with(url, clock, options).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open_with(url, clock, options).await?))
    } else {
        Err(OpenError::Url(format!(
            "unsupported database URL '{}': use sqlite://PATH, sqlite::memory: or postgres://USER@HOST/DB",
            redact_url(url)
        )))
    }
}

/// The file a `sqlite://PATH` URL names, if any (`None` for in-memory databases and other
/// backends). The server writes the initial admin key beside it.
pub fn sqlite_file_path(url: &str) -> Option<std::path::PathBuf> {
    sqlite::file_path(url)
}
