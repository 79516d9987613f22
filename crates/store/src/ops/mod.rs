//! The store's operations, written once and compiled into each backend module
//! (`#[path = "../ops/mod.rs"] mod ops;` in `sqlite/mod.rs` and in `postgres/mod.rs`), so a rule
//! cannot differ between SQLite and PostgreSQL. The SQL here is the dialect both accept (`$N`
//! placeholders, `CAST(… AS BIGINT)`, `TRUE`, `ON CONFLICT`, `RETURNING`).
//!
//! # What a backend provides
//! The backend module (the parent of this one) defines exactly these names, re-exported below,
//! and nothing else of it is used here:
//!
//! | name | what it is |
//! | --- | --- |
//! | `Db`, `Conn`, `Pool` | the sqlx database, connection and pool types |
//! | `Backend` | the store type (`SqliteStore`, `PgStore`), with fields `reader`, `writer` (the pool writes go through), `group_commit` (`Some` where writes commit in groups: `group_commit.rs`), `clock`, `guard`, `auth_cache`, `read_cache`, `versions` (`versions.rs`: `Memory` on SQLite, `Database` or `Notified` on PostgreSQL), `user_ids` |
//! | `Backend::BEGIN` | how a write transaction begins (`BEGIN IMMEDIATE` on SQLite) |
//! | `Backend::BUMP_GENERATION`, `Backend::BUMP_KEY_USE` | the statements that increment an organization's generation and key-use epoch, returning them (PostgreSQL's also notify other replicas at commit, `postgres/listener.rs`) |
//! | `Backend::prove_idle(conn)` | after a failure: roll back and prove the connection is outside any transaction |
//! | `Backend::injected_error(class)` | the error the database reports for a fault of that class (the fault hook) |
//! | `Backend::begin_bootstrap()` | the first start's transaction (PostgreSQL adds an advisory lock) |
//! | `Backend::after_bulk_write()` | what to do after an import committed (SQLite truncates its WAL) |
//! | `db_error`, `DbResult::db` | a sqlx error as a `DomainError`, outages classed by `OutageKind` |
//! | `is_unique_violation` | whether an error is a unique-key violation |
//! | `push_in` | `AND column IN (…)` in the backend's form |
//! | `Backend::pools()` | the connection pools by name (`writer`, `reader` or `shared`), sampled for the metrics |
//! | `Backend::NAME`, `Backend::schema_version()` | what a snapshot records of where it was taken (`sqlite`/`postgres`, the latest migration) |
//! | `Backend::BEGIN_SNAPSHOT`, `Backend::SCHEMA_COLUMNS` | a snapshot's consistent read; every table's columns, types, NOT NULL and primary key |
//! | `Backend::rows_as_json`, `Backend::insert_rows_from_json` | a table's rows of one organization as one JSON array, and back, with the backend's JSON functions |
//! | `refuses_data` | whether an error is the database refusing the data (a constraint), not the storage |
//!
//! What the operations give back to the backend: [`Tx`] (the write transaction type), the
//! per-resource store traits (`impl UserStore for Backend` in `users.rs`, and so on; each method
//! is the operation, its body run under `self.guarded(…)`), `begin_for` and the other helpers of
//! `backend.rs`, and the helpers below.
//!
//! # Adding an operation
//! 1. Declare the method on its resource's trait in `core::store` (`UserStore`, `ProjectStore`…).
//! 2. Implement it in this directory's file of that resource, once for both backends: a read
//!    takes a connection of `self.reader`; a write begins with `self.begin_for(actor)` (which
//!    serializes the organization's writes and re-checks the key), checks its rules and grants
//!    (`Grants::load`), writes, pushes its audit event and commits, all inside
//!    `self.guarded(async { … })` (deadline and circuit breaker).
//! 3. Refuse with `DomainError`; never name an HTTP route in a message: a remedy the client can
//!    take is a `Remedy` (`.with_remedy(..)`), which the server words with its route.

pub(crate) use super::{
    db_error, is_unique_violation, push_in, refuses_data, Backend, Conn, Db, DbResult, Pool,
};

pub(crate) mod audit;
mod backend;
pub(crate) mod email_identity;
pub(crate) mod grants;
pub(crate) mod group_commit;
pub(crate) mod groups;
pub(crate) mod import;
pub(crate) mod invites;
pub(crate) mod keys;
mod org_clock;
pub(crate) mod organizations;
pub(crate) mod paging;
pub(crate) mod project_keys;
pub(crate) mod project_policies;
pub(crate) mod projects;
pub(crate) mod roles;
pub(crate) mod scim;
pub(crate) mod seed;
pub(crate) mod service_accounts;
pub(crate) mod snapshot;

pub(crate) mod users;
pub(crate) mod write_tx;

/// Every write transaction (`write_tx.rs`).
pub(crate) type Tx = write_tx::WriteTx;
pub(crate) use paging::{finish_member_page, finish_page, push_keyset};
