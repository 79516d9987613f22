//! The authenticated caller: an admin key and the permissions it carries right now.

use crate::email::Email;
use crate::id::{AdminKeyId, OrgId, UserId};
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
}

impl Actor {
    /// Limit permissions the owner holds (e.g. in a project) by the key's scopes.
    pub fn limit(&self, held: PermissionSet) -> PermissionSet {
        match self.scopes {
            Some(scopes) => held.intersection(scopes),
            None => held,
        }
    }
}
