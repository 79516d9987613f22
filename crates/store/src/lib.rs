//! Storage backends of orgadmin, behind the [`orgadmin_core::Store`] trait. This is the only
//! crate that knows SQL. Each backend runs every write in one transaction together with its audit
//! event and enforces the domain rules there.
//!
//! The operations are written once, in `ops/`, against a few names each backend module defines
//! (`Db`, `Conn`, `Pool`, `Backend`, `Tx`, `begin_bootstrap`, `push_in`, …), and compiled into both
//! backend modules: the rules cannot drift apart between SQLite and PostgreSQL. The SQL in `ops/`
//! is the dialect both accept (`$N` placeholders, `CAST`, `TRUE`, `ON CONFLICT`); what differs —
//! connection setup, write serialization, error classification, array binds — lives in
//! `sqlite/mod.rs` and `postgres/mod.rs`.
#![expect(
    clippy::duplicate_mod,
    reason = "the shared operations in ops/ are compiled once per backend on purpose"
)]

mod auth_cache;
mod open;
mod postgres;
mod read_cache;
mod rows;
mod sqlite;

use std::sync::Arc;

use orgadmin_core::{Clock, Store};

pub use open::{postgres_version_text, redact_url, OpenError, MIN_POSTGRES_VERSION};
pub use postgres::{PgStore, START_WAIT};
pub use sqlite::SqliteStore;

/// Open the store named by a database URL (`sqlite://PATH`, `sqlite::memory:`,
/// `postgres://…`), run its migrations, and return it behind the trait. A database that cannot
/// be used is an [`OpenError`] whose message says why and names the database.
pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, clock).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, clock).await?))
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
