//! Storage backends of orgadmin, behind the [`orgadmin_core::Store`] trait. This is the only
//! crate that knows SQL. Each backend runs every write in one transaction together with its audit
//! event and enforces the domain rules there.

mod postgres;
mod rows;
mod sqlite;

use std::sync::Arc;

use orgadmin_core::{Clock, DomainError, Store};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Open the store named by a database URL (`sqlite://PATH`, `sqlite::memory:`), run its
/// migrations, and return it behind the trait.
pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, DomainError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, clock).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, clock).await?))
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
