//! SCIM 2.0 provisioning (RFC 7643, RFC 7644) as the domain sees it: the SCIM user and group
//! (the organization's members and groups, with what SCIM adds: `userName`, `externalId`, the
//! attributes a provider sent), the filter grammar ([`filter`]), versions (ETags) and what the
//! store is asked. The JSON documents are `orgadmin_api::scim`'s; the routes the server's.

pub mod fields;
pub mod filter;

use async_trait::async_trait;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::actor::Actor;
use crate::clock::Timestamp;
use crate::email::Email;
use crate::error::Result;
use crate::id::{GroupId, InviteId, UserId};
use crate::role::OrgBaseRole;
use filter::Filter;

/// What provisioning a SCIM user does (`--scim-provisioning`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Provisioning {
    /// The person becomes a member at once (as an invite sent and accepted).
    #[default]
    Member,
    /// The person gets a pending invite, as the real platform does, and is a member once they
    /// accept it.
    Invite,
}

impl Provisioning {
    pub fn as_str(self) -> &'static str {
        match self {
            Provisioning::Member => "member",
            Provisioning::Invite => "invite",
        }
    }
}

impl std::str::FromStr for Provisioning {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "member" => Ok(Provisioning::Member),
            "invite" => Ok(Provisioning::Invite),
            other => Err(format!(
                "'{other}' is not a SCIM provisioning mode: expected 'member' or 'invite'"
            )),
        }
    }
}

/// A SCIM user: a person the identity provider manages. The resource outlives the membership:
/// `active: false` removes the member (as the Admin API's delete does) and keeps this, so that
/// `active: true` adds them back under the same ID.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUser {
    /// The member's user ID (also while they are not a member).
    pub id: UserId,
    pub user_name: String,
    pub external_id: Option<String>,
    /// The member's email.
    pub email: Email,
    /// The member's name.
    pub name: Option<String>,
    /// The member's base role now; while not a member, the one they come back with.
    pub role: OrgBaseRole,
    /// A member, or (invite provisioning) holding a pending invite.
    pub active: bool,
    /// Whether the person is a member now.
    pub member: bool,
    /// The pending invite of a person provisioned by invite who has not accepted yet.
    pub pending_invite: Option<InviteId>,
    /// The SCIM attributes as the provider last set them (without `id`, `meta`, `schemas`).
    pub attributes: Map<String, Value>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    /// The ETag: changes with every change of the resource, by SCIM or by the Admin API.
    pub version: String,
}

/// What a SCIM write makes of a user: the whole new state (a PUT, or a PATCH applied).
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUserWrite {
    pub user_name: String,
    pub external_id: Option<String>,
    pub email: Email,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub role: OrgBaseRole,
    pub active: bool,
    pub attributes: Map<String, Value>,
}

/// A change computed from the current state inside the store's write transaction (so nothing
/// can come between reading and writing): PUT ignores it, PATCH applies its operations to it.
pub type ScimUserEdit = Box<dyn FnOnce(&ScimUser) -> Result<ScimUserWrite> + Send>;

/// A member of a SCIM group.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroupMember {
    pub id: UserId,
    /// Their email, shown as the member's `display`.
    pub email: String,
}

/// An orgadmin group seen through SCIM.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroup {
    pub id: GroupId,
    pub display_name: String,
    pub external_id: Option<String>,
    /// Ordered by user ID.
    pub members: Vec<ScimGroupMember>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroupWrite {
    pub display_name: String,
    pub external_id: Option<String>,
    /// The whole new member list.
    pub members: Vec<UserId>,
}

pub type ScimGroupEdit = Box<dyn FnOnce(&ScimGroup) -> Result<ScimGroupWrite> + Send>;

/// A list request: a filter, and the window of the answer (RFC 7644 §3.4.2.4: `startIndex`
/// counts from 1). Results are ordered by ID.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimQuery {
    pub filter: Option<Filter>,
    pub start_index: u64,
    pub count: u64,
    /// Whether group answers need their members (not when `members` is excluded).
    pub with_members: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScimPage<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// The ETag of a state: a weak tag, the write counter and a digest of what else shows.
pub fn version_tag(counter: i64, parts: &[&str]) -> String {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    let digest = digest.finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{counter}-{hex}\"")
}

/// Whether an `If-Match` header's value allows a change of a resource at `version`: `*`, or a
/// list of tags one of which names it (compared weakly, as RFC 7232 §2.3.2 allows for
/// `If-Match` on a server whose tags are all weak).
pub fn if_match_allows(header: &str, version: &str) -> bool {
    let opaque = |tag: &str| {
        let tag = tag.trim();
        tag.strip_prefix("W/").unwrap_or(tag).to_owned()
    };
    let wanted = opaque(version);
    header
        .split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == wanted)
}

/// What the server asks of its storage for SCIM. Every write runs in one transaction with the
/// same rules and audit events as the Admin API's operations (the last owner, unique emails,
/// grants), and checks `if_match` against the version inside it. Reads take the actor for its
/// organization and its organization's time (an invite's status).
#[async_trait]
pub trait ScimStore: Send + Sync {
    async fn scim_create_user(
        &self,
        actor: &Actor,
        mode: Provisioning,
        user: ScimUserWrite,
    ) -> Result<ScimUser>;
    async fn scim_get_user(&self, actor: &Actor, id: &UserId) -> Result<ScimUser>;
    async fn scim_list_users(&self, actor: &Actor, query: &ScimQuery)
        -> Result<ScimPage<ScimUser>>;
    async fn scim_edit_user(
        &self,
        actor: &Actor,
        mode: Provisioning,
        id: &UserId,
        if_match: Option<&str>,
        edit: ScimUserEdit,
    ) -> Result<ScimUser>;
    /// Remove the member (or their pending invite) and the SCIM resource.
    async fn scim_delete_user(
        &self,
        actor: &Actor,
        id: &UserId,
        if_match: Option<&str>,
    ) -> Result<()>;

    async fn scim_create_group(&self, actor: &Actor, group: ScimGroupWrite) -> Result<ScimGroup>;
    async fn scim_get_group(&self, actor: &Actor, id: &GroupId) -> Result<ScimGroup>;
    async fn scim_list_groups(
        &self,
        actor: &Actor,
        query: &ScimQuery,
    ) -> Result<ScimPage<ScimGroup>>;
    async fn scim_edit_group(
        &self,
        actor: &Actor,
        id: &GroupId,
        if_match: Option<&str>,
        edit: ScimGroupEdit,
    ) -> Result<ScimGroup>;
    async fn scim_delete_group(
        &self,
        actor: &Actor,
        id: &GroupId,
        if_match: Option<&str>,
    ) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_tags_weakly_and_takes_lists_and_star() {
        let v = version_tag(3, &["a", "b"]);
        assert!(v.starts_with("W/\"3-"));
        assert_ne!(v, version_tag(3, &["a", "c"]));
        assert_ne!(version_tag(3, &["ab", ""]), version_tag(3, &["a", "b"]));
        assert!(if_match_allows(&v, &v));
        assert!(if_match_allows(v.trim_start_matches("W/"), &v));
        assert!(if_match_allows(&format!("\"x\", {v}"), &v));
        assert!(if_match_allows("*", &v));
        assert!(!if_match_allows("W/\"2-000000000000\"", &v));
    }
}
