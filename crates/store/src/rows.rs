//! Rows as both backends read them, and their conversion into domain models. The column lists
//! are plain SQL shared by both dialects; `sqlx::FromRow` decodes them from either database.

use orgadmin_core::actor::OrgVersion;
use orgadmin_core::audit::{AuditActor, AuditEvent};
use orgadmin_core::email::Email;
use orgadmin_core::id::*;
use orgadmin_core::model::{
    AdminKey, Invite, InviteProject, KeyOwner, Member, MemberProject, OrgUser, Project,
    ProjectUser, User,
};
use orgadmin_core::permission::PermissionSet;
use orgadmin_core::role::{OrgBaseRole, ProjectBaseRole, ResourceType, Role};
use serde::{Deserialize, Serialize};

pub(crate) fn permissions_json(set: PermissionSet) -> String {
    serde_json::to_string(&set.names()).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn permissions_from_json(raw: &str) -> PermissionSet {
    let names: Vec<String> = serde_json::from_str(raw).unwrap_or_default();
    PermissionSet::from_stored_names(&names)
}

/// What a member answer reads beside each row, in the same statement (`ops/users.rs`,
/// `push_member_select`): the latest use of the member's admin keys, one of their project
/// memberships (all `None` for a member of no project), and the organization's version, so the
/// answer can be filed in the read cache (`read_cache.rs`) exactly under the state it shows.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberExtra {
    pub(crate) api_key_last_used_at: Option<i64>,
    pub(crate) member_project_id: Option<String>,
    pub(crate) member_project_name: Option<String>,
    pub(crate) member_project_role: Option<String>,
    pub(crate) generation: i64,
    pub(crate) key_use: i64,
}

impl MemberExtra {
    pub(crate) fn version(&self) -> OrgVersion {
        OrgVersion {
            generation: self.generation,
            key_use: self.key_use,
        }
    }

    fn project(&mut self) -> Option<MemberProject> {
        Some(MemberProject {
            id: ProjectId::from_raw(self.member_project_id.take()?),
            name: self.member_project_name.take().unwrap_or_default(),
            role: ProjectBaseRole::from_stored(self.member_project_role.as_deref().unwrap_or("")),
        })
    }
}

/// A member's row with one of their project memberships.
#[derive(sqlx::FromRow)]
pub(crate) struct OrgMemberRow {
    #[sqlx(flatten)]
    pub(crate) user: UserRow,
    #[sqlx(flatten)]
    pub(crate) extra: MemberExtra,
}

impl From<OrgMemberRow> for (Member, MemberExtra) {
    fn from(r: OrgMemberRow) -> Self {
        let member = Member {
            user: r.user.into(),
            api_key_last_used_at: r.extra.api_key_last_used_at,
            projects: Vec::new(),
        };
        (member, r.extra)
    }
}

/// An entry of the directory (a member or a service account) with one project membership.
#[derive(sqlx::FromRow)]
pub(crate) struct DirectoryRow {
    #[sqlx(flatten)]
    pub(crate) entry: OrgUserRow,
    #[sqlx(flatten)]
    pub(crate) extra: MemberExtra,
}

impl From<DirectoryRow> for (OrgUser, MemberExtra) {
    fn from(r: DirectoryRow) -> Self {
        (r.entry.into_entry(r.extra.api_key_last_used_at), r.extra)
    }
}

/// An answer [`fold_members`] gathers project memberships into.
pub(crate) trait MemberEntry {
    fn entry_id(&self) -> &str;
    /// `None` for an entry that has no memberships of its own (a service account).
    fn projects_mut(&mut self) -> Option<&mut Vec<MemberProject>>;
}

impl MemberEntry for Member {
    fn entry_id(&self) -> &str {
        self.user.id.as_str()
    }
    fn projects_mut(&mut self) -> Option<&mut Vec<MemberProject>> {
        Some(&mut self.projects)
    }
}

impl MemberEntry for OrgUser {
    fn entry_id(&self) -> &str {
        match self {
            OrgUser::Person(member) => member.entry_id(),
            OrgUser::ServiceAccount(account) => account.id.as_str(),
        }
    }
    fn projects_mut(&mut self) -> Option<&mut Vec<MemberProject>> {
        match self {
            OrgUser::Person(member) => member.projects_mut(),
            OrgUser::ServiceAccount(_) => None,
        }
    }
}

/// Rows of a member answer, one per project membership (or one for a member of none), each
/// member's rows next to each other, folded into one answer per member in the order read; with
/// the version they were read at (`None` when there are no rows).
pub(crate) fn fold_members<T: MemberEntry>(
    rows: impl IntoIterator<Item = (T, MemberExtra)>,
) -> (Vec<T>, Option<OrgVersion>) {
    let mut out: Vec<T> = Vec::new();
    let mut version = None;
    for (entry, mut extra) in rows {
        version.get_or_insert(extra.version());
        if out
            .last()
            .is_none_or(|last| last.entry_id() != entry.entry_id())
        {
            out.push(entry);
        }
        if let (Some(last), Some(project)) = (out.last_mut(), extra.project()) {
            if let Some(projects) = last.projects_mut() {
                projects.push(project);
            }
        }
    }
    (out, version)
}

pub(crate) const USER_COLUMNS: &str =
    "id, email, name, role, added_at, developer_persona, technical_level, created, is_default, \
     is_scim_managed, is_scale_tier_authorized_purchaser";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) name: Option<String>,
    pub(crate) role: String,
    pub(crate) added_at: i64,
    pub(crate) developer_persona: Option<String>,
    pub(crate) technical_level: Option<String>,
    pub(crate) created: i64,
    pub(crate) is_default: bool,
    pub(crate) is_scim_managed: bool,
    pub(crate) is_scale_tier_authorized_purchaser: bool,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId::from_raw(r.id),
            email: Email::from_stored(r.email),
            name: r.name,
            role: OrgBaseRole::from_stored(&r.role),
            added_at: r.added_at,
            developer_persona: r.developer_persona,
            technical_level: r.technical_level,
            created: r.created,
            is_default: r.is_default,
            is_scim_managed: r.is_scim_managed,
            is_scale_tier_authorized_purchaser: r.is_scale_tier_authorized_purchaser,
        }
    }
}

pub(crate) const PROJECT_COLUMNS: &str =
    "id, name, created_at, archived_at, is_default, external_key_id, residency";

#[derive(sqlx::FromRow)]
pub(crate) struct ProjectRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created_at: i64,
    pub(crate) archived_at: Option<i64>,
    pub(crate) is_default: bool,
    pub(crate) external_key_id: Option<String>,
    pub(crate) residency: Option<String>,
}

impl From<ProjectRow> for Project {
    fn from(r: ProjectRow) -> Self {
        Project {
            id: ProjectId::from_raw(r.id),
            name: r.name,
            created_at: r.created_at,
            archived_at: r.archived_at,
            is_default: r.is_default,
            external_key_id: r.external_key_id,
            residency: r.residency,
        }
    }
}

pub(crate) const MEMBER_COLUMNS: &str = "pu.user_id, u.email, u.name, pu.role, pu.added_at";

#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    pub(crate) user_id: String,
    pub(crate) email: String,
    pub(crate) name: Option<String>,
    pub(crate) role: String,
    pub(crate) added_at: i64,
}

impl From<MemberRow> for ProjectUser {
    fn from(r: MemberRow) -> Self {
        ProjectUser {
            user_id: UserId::from_raw(r.user_id),
            email: Email::from_stored(r.email),
            name: r.name,
            role: ProjectBaseRole::from_stored(&r.role),
            added_at: r.added_at,
        }
    }
}

pub(crate) const ROLE_COLUMNS: &str =
    "id, project_id, name, description, permissions, created_at, updated_at, created_by";

#[derive(sqlx::FromRow)]
pub(crate) struct RoleRow {
    pub(crate) id: String,
    pub(crate) project_id: Option<String>,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) permissions: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) created_by: Option<String>,
}

impl From<RoleRow> for Role {
    fn from(r: RoleRow) -> Self {
        Role {
            id: r.id,
            resource_type: if r.project_id.is_some() {
                ResourceType::Project
            } else {
                ResourceType::Organization
            },
            project_id: r.project_id.map(ProjectId::from_raw),
            name: r.name,
            description: r.description,
            permissions: permissions_from_json(&r.permissions),
            predefined: false,
            created_at: Some(r.created_at),
            updated_at: Some(r.updated_at),
            created_by: r.created_by.map(UserId::from_raw),
        }
    }
}

pub(crate) const INVITE_COLUMNS: &str =
    "id, email, role, created_at, expires_at, accepted_at, projects";

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredProject {
    pub(crate) id: String,
    pub(crate) role: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct InviteRow {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) role: String,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) accepted_at: Option<i64>,
    pub(crate) projects: String,
}

impl From<InviteRow> for Invite {
    fn from(r: InviteRow) -> Self {
        let stored: Vec<StoredProject> = serde_json::from_str(&r.projects).unwrap_or_default();
        Invite {
            id: InviteId::from_raw(r.id),
            email: Email::from_stored(r.email),
            role: OrgBaseRole::from_stored(&r.role),
            created_at: r.created_at,
            expires_at: r.expires_at,
            accepted_at: r.accepted_at,
            projects: stored
                .into_iter()
                .map(|p| InviteProject {
                    project_id: ProjectId::from_raw(p.id),
                    role: ProjectBaseRole::from_stored(&p.role),
                })
                .collect(),
        }
    }
}

pub(crate) const KEY_COLUMNS: &str =
    "k.id, k.name, k.redacted_value, k.created_at, k.expires_at, k.last_used_at, k.scopes, \
     u.id AS owner_id, u.name AS owner_name, u.added_at AS owner_added_at, u.role AS owner_role";

pub(crate) const KEY_FROM: &str =
    "admin_api_keys k JOIN users u ON u.org_id = k.org_id AND u.id = k.owner_user_id";

#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) redacted_value: String,
    pub(crate) created_at: i64,
    pub(crate) expires_at: Option<i64>,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) scopes: Option<String>,
    pub(crate) owner_id: String,
    pub(crate) owner_name: Option<String>,
    pub(crate) owner_added_at: i64,
    pub(crate) owner_role: String,
}

impl From<KeyRow> for AdminKey {
    fn from(r: KeyRow) -> Self {
        AdminKey {
            id: AdminKeyId::from_raw(r.id),
            name: r.name,
            redacted_value: r.redacted_value,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            owner: KeyOwner {
                id: UserId::from_raw(r.owner_id),
                name: r.owner_name,
                added_at: r.owner_added_at,
                role: OrgBaseRole::from_stored(&r.owner_role),
            },
            scopes: r.scopes.as_deref().map(permissions_from_json),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuthRow {
    pub(crate) org_id: String,
    pub(crate) id: String,
    pub(crate) secret_hash: String,
    pub(crate) expires_at: Option<i64>,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) scopes: Option<String>,
    pub(crate) user_id: String,
    pub(crate) email: String,
    pub(crate) role: String,
    /// The organization's write generation, read with the key.
    pub(crate) generation: i64,
    /// The organization's clock, read with the generation.
    pub(crate) clock_offset_seconds: i64,
    pub(crate) clock_frozen_at: Option<i64>,
    /// The organization's key-use epoch, read with the key.
    pub(crate) key_use: i64,
}

impl AuthRow {
    pub(crate) fn clock(&self) -> orgadmin_core::clock::OrgClock {
        orgadmin_core::clock::OrgClock {
            offset_seconds: self.clock_offset_seconds,
            frozen_at: self.clock_frozen_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub(crate) id: String,
    pub(crate) r#type: String,
    pub(crate) effective_at: i64,
    pub(crate) actor_key_id: Option<String>,
    pub(crate) actor_user_id: Option<String>,
    pub(crate) actor_email: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) project_name: Option<String>,
    pub(crate) details: String,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            id: AuditLogId::from_raw(r.id),
            kind: r.r#type,
            effective_at: r.effective_at,
            actor: match (r.actor_key_id, r.actor_user_id) {
                (Some(key_id), Some(user_id)) => Some(AuditActor {
                    key_id,
                    user_id,
                    user_email: r.actor_email.unwrap_or_default(),
                }),
                _ => None,
            },
            project: r
                .project_id
                .map(|p| (ProjectId::from_raw(p), r.project_name)),
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

pub(crate) const SERVICE_ACCOUNT_COLUMNS: &str = "id, project_id, name, role, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ServiceAccountRow {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) created_at: i64,
}

impl From<ServiceAccountRow> for orgadmin_core::model::ServiceAccount {
    fn from(r: ServiceAccountRow) -> Self {
        orgadmin_core::model::ServiceAccount {
            id: ServiceAccountId::from_raw(r.id),
            project_id: ProjectId::from_raw(r.project_id),
            name: r.name,
            role: orgadmin_core::model::ServiceAccountRole::from_stored(&r.role),
            created_at: r.created_at,
        }
    }
}

/// A project API key with its owner as the answer shows them (`ops/project_keys.rs`,
/// `KEY_SELECT`): a member's current details while they have access, the remembered ones
/// otherwise; a service account's from its row.
#[derive(sqlx::FromRow)]
pub(crate) struct ProjectKeyRow {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) name: String,
    pub(crate) redacted_value: String,
    pub(crate) created_at: i64,
    pub(crate) expires_at: Option<i64>,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) scopes: Option<String>,
    pub(crate) owner_user_id: Option<String>,
    pub(crate) owner_service_account_id: Option<String>,
    pub(crate) owner_email: Option<String>,
    pub(crate) owner_name: Option<String>,
    pub(crate) owner_created: Option<i64>,
    pub(crate) owner_role: Option<String>,
    pub(crate) account_name: Option<String>,
    pub(crate) account_role: Option<String>,
    pub(crate) account_created_at: Option<i64>,
    pub(crate) active: i64,
}

impl From<ProjectKeyRow> for orgadmin_core::model::ProjectKey {
    fn from(r: ProjectKeyRow) -> Self {
        use orgadmin_core::model::{ProjectKeyOwner, ProjectKeyUser, ServiceAccount};
        let project_id = ProjectId::from_raw(r.project_id);
        let owner = match (r.owner_service_account_id, r.owner_user_id) {
            (Some(account), _) => ProjectKeyOwner::ServiceAccount(ServiceAccount {
                id: ServiceAccountId::from_raw(account),
                project_id: project_id.clone(),
                name: r.account_name.unwrap_or_default(),
                role: orgadmin_core::model::ServiceAccountRole::from_stored(
                    r.account_role.as_deref().unwrap_or("none"),
                ),
                created_at: r.account_created_at.unwrap_or_default(),
            }),
            (None, user) => ProjectKeyOwner::User(ProjectKeyUser {
                id: UserId::from_raw(user.unwrap_or_default()),
                email: r.owner_email.unwrap_or_default(),
                name: r.owner_name,
                created: r.owner_created.unwrap_or_default(),
                role: r.owner_role.unwrap_or_default(),
            }),
        };
        orgadmin_core::model::ProjectKey {
            id: ProjectApiKeyId::from_raw(r.id),
            project_id,
            name: r.name,
            redacted_value: r.redacted_value,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            scopes: r.scopes.as_deref().map(permissions_from_json),
            owner,
            owner_has_access: r.active != 0,
        }
    }
}

/// A row of the user list with service accounts among the users: `project_id` is set exactly
/// for service accounts.
#[derive(sqlx::FromRow)]
pub(crate) struct OrgUserRow {
    pub(crate) id: String,
    pub(crate) project_id: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) role: String,
    pub(crate) added_at: i64,
    pub(crate) developer_persona: Option<String>,
    pub(crate) technical_level: Option<String>,
    pub(crate) created: i64,
    pub(crate) is_default: bool,
    pub(crate) is_scim_managed: bool,
    pub(crate) is_scale_tier_authorized_purchaser: bool,
}

impl OrgUserRow {
    /// The directory entry of this row; a member's last key use is given, their projects are
    /// added by [`fold_members`].
    pub(crate) fn into_entry(self, api_key_last_used_at: Option<i64>) -> OrgUser {
        let r = self;
        match r.project_id {
            Some(project_id) => OrgUser::ServiceAccount(
                ServiceAccountRow {
                    id: r.id,
                    project_id,
                    name: r.name.unwrap_or_default(),
                    role: r.role,
                    created_at: r.added_at,
                }
                .into(),
            ),
            None => OrgUser::Person(Member {
                user: UserRow {
                    id: r.id,
                    email: r.email.unwrap_or_default(),
                    name: r.name,
                    role: r.role,
                    added_at: r.added_at,
                    developer_persona: r.developer_persona,
                    technical_level: r.technical_level,
                    created: r.created,
                    is_default: r.is_default,
                    is_scim_managed: r.is_scim_managed,
                    is_scale_tier_authorized_purchaser: r.is_scale_tier_authorized_purchaser,
                }
                .into(),
                api_key_last_used_at,
                projects: Vec::new(),
            }),
        }
    }
}
