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
mod postgres;
mod read_cache;
mod rows;
mod sqlite;

use std::sync::Arc;

use orgadmin_core::store::UserIds;
use orgadmin_core::{Clock, DomainError, Store};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Open the store named by a database URL (`sqlite://PATH`, `sqlite::memory:`), run its
/// migrations, and return it behind the trait, with global user IDs.
pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, DomainError> {
    open_with(url, clock, UserIds::Global).await
}

/// [`open`], giving people user IDs as `user_ids` says.
pub async fn open_with(
    url: &str,
    clock: Arc<dyn Clock>,
    user_ids: UserIds,
) -> Result<Arc<dyn Store>, DomainError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            SqliteStore::open(url, clock).await?.with_user_ids(user_ids),
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            PgStore::open(url, clock).await?.with_user_ids(user_ids),
        ))
    } else {
        Err(DomainError::invalid(
            "database",
            format!("unsupported database URL '{url}': use sqlite://PATH, sqlite::memory: or postgres://USER@HOST/DB"),
        ))
    }
}

/// The file a `sqlite://PATH` URL names, if any (`None` for in-memory databases and other
/// backends). The server writes the initial admin key beside it.
pub fn sqlite_file_path(url: &str) -> Option<std::path::PathBuf> {
    sqlite::file_path(url)
}
