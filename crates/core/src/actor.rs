//! The authenticated caller: an admin key and the permissions it carries right now.

use crate::clock::Timestamp;
use crate::email::Email;
use std::sync::OnceLock;

use crate::id::{AdminKeyId, OrgId, ProjectId, UserId};
use crate::permission::PermissionSet;
use crate::role::OrgBaseRole;

/// Resolved on every request from the presented key. Permissions are computed from the key
/// owner's current roles, so demoting or removing the owner narrows or revokes the key at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub org_id: OrgId,
    pub key_id: AdminKeyId,
    pub user_id: UserId,
    pub user_email: Email,
    pub user_role: OrgBaseRole,
    /// Organization permissions: the owner's roles, limited by the key's scopes.
    pub permissions: PermissionSet,
    /// The key's scopes; `None` for an unscoped key.
    pub scopes: Option<PermissionSet>,
    /// The organization's write generation this request was authenticated at (see [`ReadAt`]).
    pub generation: i64,
    /// The organization's key-use epoch read with [`generation`](Self::generation): how many
    /// times an admin key's `last_used_at` was refreshed, which no write transaction does.
    pub key_use: i64,
    /// The organization's time when this request was authenticated: its clock
    /// ([`OrgClock`](crate::clock::OrgClock)), read in the statement that read
    /// [`generation`](Self::generation), at the process clock's time then. What reads for the
    /// request compare with (an invite's status); a write uses its transaction's own time.
    pub now: Timestamp,
    /// When this request was authorized by permissions held in a project (not by organization
    /// permissions): that project and what the key could do there. A write re-checks it at
    /// commit time, like [`permissions`](Self::permissions).
    pub project_authority: OnceLock<(ProjectId, PermissionSet)>,
}

impl Actor {
    /// Reads made for this request: data as of the generation its authentication observed, or
    /// newer.
    pub fn read_at(&self) -> ReadAt<'_> {
        ReadAt {
            org_id: &self.org_id,
            version: Some(OrgVersion {
                generation: self.generation,
                key_use: self.key_use,
            }),
        }
    }

    /// Record that this request is authorized by `held` in `project` (set once per request).
    pub fn authorized_in_project(&self, project: &ProjectId, held: PermissionSet) {
        let _ = self.project_authority.set((project.clone(), held));
    }

    /// Limit permissions the owner holds (e.g. in a project) by the key's scopes.
    pub fn limit(&self, held: PermissionSet) -> PermissionSet {
        match self.scopes {
            Some(scopes) => held.intersection(scopes),
            None => held,
        }
    }
}

/// The organization a read is made in, and the state it may answer with.
///
/// Every write transaction increments its organization's write generation. Authentication reads
/// the generation afresh for every request, after the request arrived; an answer computed at that
/// generation is therefore as current as one read from the database now would be for this
/// request (it is the state at a moment within the request), and a store may answer from what it
/// remembers of that generation instead of asking the database again. `version: None` always
/// reads the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadAt<'a> {
    pub org_id: &'a OrgId,
    pub version: Option<OrgVersion>,
}

/// Where an organization's state stands: its write generation, which every write transaction
/// increments, and its key-use epoch, which every refresh of an admin key's `last_used_at`
/// increments (a refresh is no write transaction: it changes nothing anyone is authorized by).
/// Two reads at one version saw the same members, projects and key uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrgVersion {
    pub generation: i64,
    pub key_use: i64,
}

impl<'a> ReadAt<'a> {
    /// A read that goes to the database.
    pub fn latest(org_id: &'a OrgId) -> Self {
        Self {
            org_id,
            version: None,
        }
    }
}
