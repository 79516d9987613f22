//! An organization as one document (the operator API's snapshot): every row of every table that
//! holds the organization's rows, column by column, as the database holds them. A snapshot is
//! data of one schema on one backend: it restores on a database of the same backend at the same
//! schema version, and is checked against that schema (tables, columns, value kinds, the
//! schema's constraints), not against the Admin API's rules, which govern requests.
//!
//! Restoring writes rows exactly as they are, with two exceptions: their `org_id` is the
//! organization restored into, and a restore as a new organization gives every admin key and
//! project API key a fresh secret (same ID, name, scopes and times; a new hash and redacted
//! value), because secrets are unique on the whole server and the original's keys must keep
//! opening the original alone.

use std::collections::BTreeMap;

use crate::id::{AdminKeyId, OrgId, ProjectId, UserId};
use crate::model::Organization;

/// One row: its columns by name, each value as JSON (numbers, strings, booleans, `null`).
pub type SnapshotRow = serde_json::Map<String, serde_json::Value>;

/// An organization's rows, table by table, each table's rows in primary-key order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationSnapshot {
    /// The backend it was taken on (`sqlite`, `postgres`): the only one it restores on.
    pub backend: String,
    /// The schema's latest migration number when it was taken.
    pub version: i64,
    /// The organization itself (its ID, name and creation time).
    pub organization: Organization,
    /// Every table holding the organization's rows, by name.
    pub tables: BTreeMap<String, Vec<SnapshotRow>>,
}

/// What restoring a snapshot as a new organization made.
#[derive(Debug, Clone)]
pub struct RestoredOrganization {
    pub org_id: OrgId,
    /// The snapshot's longest-standing owner holding an admin key.
    pub owner_id: UserId,
    pub default_project_id: ProjectId,
    /// That owner's oldest admin key.
    pub admin_key_id: AdminKeyId,
    /// Every admin key and project API key of the copy with its new secret, in the order of the
    /// snapshot's tables and rows.
    pub rekeyed: Vec<RekeyedKey>,
}

/// A key of a restored copy and the secret it was given.
#[derive(Debug, Clone)]
pub struct RekeyedKey {
    pub id: String,
    pub secret: String,
}
