//! Grants checked inside their write transaction: what the acting key holds is read again there
//! (its owner's base role, custom roles and group roles, its scopes and expiry), so a demotion
//! or revocation committed meanwhile cannot be raced, and [`orgadmin_core::grant::Granter`]
//! decides. Every store operation that lets a principal do more calls [`Grants::check`] (or, for
//! a new admin key, the granter's key rules) before it writes.

use orgadmin_core::actor::Actor;
use orgadmin_core::error::KeyRejection;
use orgadmin_core::grant::Granter;
use orgadmin_core::id::{GroupId, ProjectId, UserId};
use orgadmin_core::permission::PermissionSet;
use orgadmin_core::role::OrgBaseRole;
use orgadmin_core::{DomainError, Result};

use super::roles::{self, Principal};
use super::{Conn, DbResult, Tx};
use crate::rows::permissions_from_json;

/// What the acting key may grant, read in the current transaction.
pub(crate) struct Grants {
    granter: Granter,
    owner: UserId,
}

impl Grants {
    /// Read the acting key and its owner's organization permissions in the write transaction
    /// `tx`. A key revoked or expired meanwhile (by the organization's time, `tx.now()`) grants
    /// nothing: 401, as the key would get now.
    pub(crate) async fn load(tx: &mut Tx, actor: &Actor) -> Result<Self> {
        let now = tx.now();
        let conn: &mut Conn = tx;
        let org = &actor.org_id;
        let row: Option<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT u.id, u.role, k.scopes, k.expires_at FROM admin_api_keys k \
             JOIN users u ON u.org_id = k.org_id AND u.id = k.owner_user_id \
             WHERE k.org_id = $1 AND k.id = $2",
        )
        .bind(org.as_str())
        .bind(actor.key_id.as_str())
        .fetch_optional(&mut *conn)
        .await
        .db()?;
        let Some((owner, role, scopes, expires_at)) = row else {
            return Err(DomainError::Unauthenticated(KeyRejection::Invalid));
        };
        if expires_at.is_some_and(|at| now >= at) {
            return Err(DomainError::Unauthenticated(KeyRejection::Invalid));
        }
        let owner = UserId::from_raw(owner);
        let held = OrgBaseRole::from_stored(&role)
            .predefined()
            .permissions()
            .union(roles::held_permissions(conn, org, None, &owner).await?);
        Ok(Self {
            granter: Granter::new(
                held,
                scopes.as_deref().map(permissions_from_json),
                expires_at,
            ),
            owner,
        })
    }

    pub(crate) fn granter(&self) -> &Granter {
        &self.granter
    }

    /// Refuse granting `granted` in the organization (`project` `None`) or in `project` unless
    /// the key holds all of it there. `what` names the grant in the refusal.
    pub(crate) async fn check(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        project: Option<&ProjectId>,
        granted: PermissionSet,
        what: &str,
    ) -> Result<()> {
        if granted.is_empty() {
            return Ok(());
        }
        let held = self.held_in(conn, actor, project).await?;
        self.granter.check(held, granted, project, what)
    }

    /// What the key holds in the organization (`project` `None`) or in `project`.
    pub(crate) async fn held_in(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        project: Option<&ProjectId>,
    ) -> Result<PermissionSet> {
        Ok(match project {
            None => self.granter.in_organization(),
            Some(p) => {
                let owner_in_project =
                    roles::project_permissions_in(conn, &actor.org_id, p, &self.owner).await?;
                self.granter.in_project(owner_in_project)
            }
        })
    }

    /// Refuse adding a member to `group` unless the key holds everything the group holds, in
    /// the organization and in every project where it has roles.
    pub(crate) async fn check_group_membership(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        group: &GroupId,
    ) -> Result<()> {
        let org = &actor.org_id;
        let scopes: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT scope_key FROM role_assignments \
             WHERE org_id = $1 AND principal_type = 'group' AND principal_id = $2 ORDER BY scope_key",
        )
        .bind(org.as_str())
        .bind(group.as_str())
        .fetch_all(&mut *conn)
        .await
        .db()?;
        let what = format!("Membership of group {group}");
        for scope in scopes {
            let project = (!scope.is_empty()).then(|| ProjectId::from_raw(scope));
            let granted =
                roles::assigned_permissions(conn, org, project.as_ref(), Principal::Group(group))
                    .await?;
            self.check(conn, actor, project.as_ref(), granted, &what)
                .await?;
        }
        Ok(())
    }
}
