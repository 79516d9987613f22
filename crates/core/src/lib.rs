//! The domain core of orgadmin: identifiers, validated values, permissions, roles, the domain
//! models, the errors every layer speaks, and the [`Store`] trait that storage backends implement.
//!
//! This crate knows nothing of HTTP or SQL. The server turns its errors into status codes; the
//! store crate turns its operations into transactions.

pub mod actor;
pub mod audit;
pub mod catalogue;
pub mod clock;
pub mod email;
pub mod error;
pub mod fixture;
pub mod grant;
pub mod id;
pub mod import;
pub mod model;
pub mod page;
pub mod permission;
pub mod policy;
pub mod role;
pub mod scim;
pub mod secret;
pub mod snapshot;
pub mod store;
pub mod text;

pub use actor::{Actor, OrgVersion, ReadAt};
pub use clock::{Clock, ClockChange, ClockReading, OrgClock, SystemClock, Timestamp};
pub use email::Email;
pub use error::{ConflictKind, DomainError, Outage, OutageKind, Remedy, Result};
pub use permission::{Permission, PermissionSet};
pub use store::Store;
