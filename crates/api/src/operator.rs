//! The operator API's shapes (`/_orgadmin/…`): what a test harness or an operator sends and reads
//! to manage a server's organizations. Not part of the Admin API, so these shapes are ours; they
//! reuse the Admin API's objects (user, project, admin key) and list envelope wherever one fits.
//! Bodies refuse fields they do not know, unlike the Admin API's: every field here is optional,
//! so a misspelt one would otherwise be dropped without a word.

use std::collections::BTreeMap;

use orgadmin_core::clock::{ClockReading, Timestamp};
use orgadmin_core::id::OrgId;
use orgadmin_core::page::Page;
use orgadmin_core::{model, snapshot};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::requests::{present, present_whole_number};
use crate::responses::{AdminKey, IdList, Project, User};

/// `organization`: one tenant of the server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Organization {
    /// Always `organization`.
    pub object: String,
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
}

impl From<&model::Organization> for Organization {
    fn from(org: &model::Organization) -> Self {
        Self {
            object: "organization".into(),
            id: org.id.to_string(),
            name: org.name.clone(),
            created_at: org.created_at,
        }
    }
}

/// `GET /_orgadmin/organizations`.
pub type OrganizationList = IdList<Organization>;

impl From<Page<model::Organization>> for OrganizationList {
    fn from(page: Page<model::Organization>) -> Self {
        IdList::new(
            page.items.iter().map(Organization::from).collect(),
            page.has_more,
            |org| &org.id,
        )
    }
}

/// `POST /_orgadmin/organizations`: every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationCreateRequest {
    /// The organization's name; `Default Organization` when omitted.
    pub name: Option<String>,
    /// The owner's email; `owner@example.com` when omitted.
    pub owner_email: Option<String>,
    /// The owner's name; `Owner` when omitted.
    pub owner_name: Option<String>,
    /// The first admin key's secret (`sk-admin-` and at least 32 letters, digits, `-` or `_`),
    /// so a test can hard-code it; a random one when omitted.
    pub admin_key: Option<String>,
    /// A snapshot (`GET /_orgadmin/organizations/{org_id}/snapshot`) to restore as the new
    /// organization, with none of the other fields: a new organization ID, every other ID and
    /// value kept, except that every admin key and project API key gets a new secret (same ID,
    /// name, scopes and times; a new hash and redacted value), listed in `api_keys`. Secrets
    /// are unique on the server, and the original's keys keep opening the original alone.
    pub snapshot: Option<OrganizationSnapshot>,
    /// A fixture (docs/fixtures.md) the organization starts from: the document as an object, or
    /// its text (YAML or JSON). Its `organization.name`, `owner` and `admin_key` may instead come
    /// from the fields above, not from both. A fixture that breaks a rule is refused whole, every
    /// problem listed with its place (`fixture.users[1].email`), and nothing is created. Reset
    /// brings the organization back to it, with the same IDs.
    pub fixture: Option<serde_json::Value>,
}

/// What creating an organization made, the admin key with its `value` (shown only in the answer
/// to create). Reset answers the same document, the organization as it is again, without the
/// key's `value` (the caller has it; the server keeps only its hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedOrganization {
    pub organization: Organization,
    pub owner: User,
    pub default_project: Project,
    pub admin_key: AdminKey,
    /// Only when a snapshot was restored: every key of the copy with its new secret (the
    /// `admin_key` among them); or when a fixture was given: every key of it whose secret the
    /// server chose (the fixture gave none). Shown only here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_keys: Option<Vec<RekeyedKey>>,
}

/// A key of an organization restored from a snapshot, or made from a fixture, with the secret
/// it was given.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RekeyedKey {
    /// The key's ID, the snapshot's or the fixture's (an admin key `key_…` or a project API key).
    pub id: String,
    /// Its new secret.
    pub value: String,
}

/// `organization.snapshot`: the whole organization as one document, every row of every table
/// holding its rows. It restores (`PUT …/snapshot`, or `POST /_orgadmin/organizations` with
/// `snapshot`) only on the backend and schema version it was taken on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSnapshot {
    /// Always `organization.snapshot`.
    pub object: String,
    /// The schema's latest migration number when it was taken.
    pub version: i64,
    /// The backend it was taken on: `sqlite` or `postgres`.
    pub backend: String,
    pub organization: SnapshotOrganization,
    /// Every table holding the organization's rows, by name: its rows in primary-key order, each
    /// an object of every column of the table, as the database holds it.
    #[schema(value_type = Object)]
    pub tables: BTreeMap<String, Vec<snapshot::SnapshotRow>>,
}

/// The organization a snapshot is of. Restoring in place takes its name and creation time; its
/// ID is the organization restored into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotOrganization {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
}

/// The `object` of a snapshot.
pub const SNAPSHOT_OBJECT: &str = "organization.snapshot";

impl From<snapshot::OrganizationSnapshot> for OrganizationSnapshot {
    fn from(taken: snapshot::OrganizationSnapshot) -> Self {
        Self {
            object: SNAPSHOT_OBJECT.into(),
            version: taken.version,
            backend: taken.backend,
            organization: SnapshotOrganization {
                id: taken.organization.id.to_string(),
                name: taken.organization.name,
                created_at: taken.organization.created_at,
            },
            tables: taken.tables,
        }
    }
}

/// `POST /_orgadmin/organizations/{org_id}/faults`: an answer to inject into the organization's
/// matching requests before they do anything.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultCreateRequest {
    /// `GET`, `POST`, `DELETE`, …; every method when omitted.
    pub method: Option<String>,
    /// A route template exactly as the OpenAPI document names it
    /// (`/v1/organization/users/{user_id}`), or a path prefix without placeholders
    /// (`/v1/organization/projects`, `/v1/organization/users/user-alice`). Required.
    pub path: Option<String>,
    /// 429, 500, 502, 503 or 504. Without it the fault only delays the request
    /// (`latency_ms`, then required), which then runs as usual.
    pub status: Option<u16>,
    /// The JSON body to answer with; the Admin API's error envelope for `status` when omitted.
    #[schema(value_type = Option<Object>)]
    pub body: Option<serde_json::Value>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
    /// Milliseconds to wait before answering, at most 30,000.
    pub latency_ms: Option<u64>,
    /// Fire for this many matching requests, then no more.
    pub times: Option<u64>,
    /// Fire for each matching request with this probability (above 0, at most 1). Not with
    /// `times`. Every matching request when neither is given.
    pub probability: Option<f64>,
}

/// `organization.fault`: an injected answer and how often it fired.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Fault {
    /// Always `organization.fault`.
    pub object: String,
    pub id: String,
    pub method: Option<String>,
    pub path: String,
    pub status: Option<u16>,
    #[schema(value_type = Option<Object>)]
    pub body: Option<serde_json::Value>,
    pub retry_after: Option<u64>,
    pub latency_ms: Option<u64>,
    pub times: Option<u64>,
    pub probability: Option<f64>,
    /// How many requests it answered (or delayed) so far.
    pub fired: u64,
    pub created_at: Timestamp,
}

/// `GET /_orgadmin/organizations/{org_id}/faults`.
pub type FaultList = IdList<Fault>;

/// What `DELETE …/faults` and `DELETE …/requests` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Cleared {
    /// `organization.faults.cleared` or `organization.requests.cleared`.
    pub object: String,
    /// How many were removed.
    pub deleted: usize,
}

/// `organization.request`: one request made with the organization's keys, as the journal
/// recorded it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JournalEntry {
    /// Always `organization.request`.
    pub object: String,
    /// The request's ID, as its `x-request-id` header said.
    pub id: String,
    pub method: String,
    /// The route template it matched (`/v1/organization/users/{user_id}`).
    pub route: Option<String>,
    pub path: String,
    /// The query string as sent, without the `?`.
    pub query: Option<String>,
    /// The JSON body as sent, every secret (`sk-…`) redacted; `null` for none.
    #[schema(value_type = Option<Object>)]
    pub body: Option<serde_json::Value>,
    pub status: u16,
    /// The admin key the request was made with.
    pub key_id: String,
    /// Unix seconds when the request arrived.
    pub created_at: Timestamp,
    /// How long the answer took, in milliseconds.
    pub duration_ms: f64,
}

/// `GET /_orgadmin/organizations/{org_id}/requests`.
pub type JournalList = IdList<JournalEntry>;

/// `organization.clock`: what an organization's clock shows (`GET`/`POST
/// /_orgadmin/organizations/{org_id}/clock`). Every timestamp of the organization follows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganizationClock {
    /// Always `organization.clock`.
    pub object: String,
    pub organization_id: String,
    /// The organization's time, Unix seconds.
    pub now: Timestamp,
    /// Whether it stands still.
    pub frozen: bool,
    /// How far it is from the server's own clock, in seconds (negative once set back).
    pub offset_seconds: i64,
}

impl OrganizationClock {
    pub fn new(org: &OrgId, reading: &ClockReading) -> Self {
        Self {
            object: "organization.clock".into(),
            organization_id: org.to_string(),
            now: reading.now,
            frozen: reading.frozen,
            offset_seconds: reading.offset_seconds,
        }
    }
}

/// `POST /_orgadmin/organizations/{org_id}/clock`: exactly one of the three changes. A present
/// `null` is `Some(None)`, so it can be refused by name; so is a field that is none of the
/// three (`unknown`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OrganizationClockUpdateRequest {
    /// Move the clock forward by this many seconds (0 or more).
    #[serde(default, deserialize_with = "present_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub advance_seconds: Option<Option<i64>>,
    /// Set the clock to this Unix time in seconds; earlier than it shows sets it back.
    #[serde(default, deserialize_with = "present_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub now: Option<Option<i64>>,
    /// Stop the clock (`true`) or let it run on from where it stopped (`false`).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub frozen: Option<Option<bool>>,
    /// Every other field of the body.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}
