//! Invites: pending until accepted, deleted or expired.

use async_trait::async_trait;
use orgadmin_core::actor::Actor;
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::id::*;
use orgadmin_core::model::{
    Invite, InviteProject, InviteStatus, Member, NewInvite, User, INVITE_TTL_SECONDS,
};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::role::ProjectBaseRole;
use orgadmin_core::store::InviteStore;
use orgadmin_core::{ConflictKind, DomainError, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::{finish_page, projects, push_keyset, users, Backend, Db, DbResult, Tx};
use crate::rows::*;

pub(crate) async fn get<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    invite: &InviteId,
) -> Result<Invite> {
    let row: Option<InviteRow> = sqlx::query_as(&format!(
        "SELECT {INVITE_COLUMNS} FROM invites WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_str())
    .bind(invite.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    row.map(Invite::from)
        .ok_or_else(|| DomainError::not_found("invite", invite, "invite_id"))
}

/// Send an invite, as the Admin API's create does (and SCIM's provisioning by invite): refused
/// for a member or a second pending invite; the projects checked (the default project when
/// none are given), the grant checked, `invite.sent` written.
pub(crate) async fn send_invite(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    new: NewInvite,
) -> Result<InviteId> {
    let org = &actor.org_id;
    let now = tx.now();
    if users::find_by_email(&mut **tx, org, &new.email)
        .await?
        .is_some()
    {
        return Err(users::already_member(&new.email, "email"));
    }
    let pending: Option<String> = sqlx::query_scalar(
        "SELECT id FROM invites WHERE org_id = $1 AND email_norm = $2 AND accepted_at IS NULL AND expires_at > $3",
    )
    .bind(org.as_str())
    .bind(new.email.normalized())
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    if let Some(existing) = pending {
        return Err(DomainError::conflict(
            ConflictKind::AlreadyExists,
            format!(
                "{} already has a pending invite ({existing}); delete it first to send a new one.",
                new.email
            ),
            Some("email"),
        ));
    }

    let projects = match new.projects {
        Some(list) => {
            for (i, p) in list.iter().enumerate() {
                let project = projects::get(&mut **tx, org, &p.project_id)
                    .await
                    .map_err(|e| match e {
                        // An outage stays an outage (503); only a missing project is the caller's.
                        DomainError::NotFound { .. } => DomainError::invalid(
                            "projects",
                            format!(
                                "projects[{i}]: no project found with id '{}'.",
                                p.project_id
                            ),
                        ),
                        other => other,
                    })?;
                project.ensure_open().map_err(|e| {
                    DomainError::conflict(
                        ConflictKind::ProjectArchived,
                        format!("projects[{i}]: {e}"),
                        Some("projects"),
                    )
                })?;
            }
            list
        }
        None => default_projects(tx, org).await?,
    };
    // The invitee will hold the invite's role and project roles: only a key holding them may
    // offer them.
    let grants = Grants::load(tx, actor).await?;
    let what = format!("An invite with role '{}'", new.role.as_str());
    grants
        .check(tx, actor, None, new.role.predefined().permissions(), &what)
        .await?;
    for p in &projects {
        let what = format!("An invite with project role '{}'", p.role.as_str());
        grants
            .check(
                tx,
                actor,
                Some(&p.project_id),
                p.role.predefined().permissions(),
                &what,
            )
            .await?;
    }
    let stored: Vec<StoredProject> = projects
        .iter()
        .map(|p| StoredProject {
            id: p.project_id.to_string(),
            role: p.role.as_str().to_owned(),
        })
        .collect();

    let id = InviteId::generate(store.millis());
    sqlx::query(
        "INSERT INTO invites (org_id, id, email, email_norm, role, created_at, expires_at, projects) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(new.email.as_str())
    .bind(new.email.normalized())
    .bind(new.role.as_str())
    .bind(now)
    .bind(now + INVITE_TTL_SECONDS)
    .bind(serde_json::to_string(&stored).map_err(DomainError::internal)?)
    .execute(&mut **tx)
    .await
    .db()?;
    let event = NewAuditEvent::new(
        kind::INVITE_SENT,
        id.as_str(),
        json!({ "id": id, "data": { "email": new.email.as_str(), "role": new.role.as_str() } }),
    );
    store.audit(tx, actor, event).await?;
    Ok(id)
}

#[async_trait]
impl InviteStore for Backend {
    async fn list_invites(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Invite>> {
        self.guarded(async {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {INVITE_COLUMNS} FROM invites WHERE org_id = "
            ));
            qb.push_bind(org.as_str());
            let reversed = push_keyset(&mut qb, "id", page);
            let rows: Vec<InviteRow> = qb.build_query_as().fetch_all(&self.reader).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(Invite::from).collect(),
                page,
                reversed,
            ))
        })
        .await
    }

    async fn get_invite(&self, org: &OrgId, invite: &InviteId) -> Result<Invite> {
        self.guarded(get(&self.reader, org, invite)).await
    }

    async fn create_invite(&self, actor: &Actor, new: NewInvite) -> Result<Invite> {
        self.guarded(async {
            let mut tx = self.begin_for(actor).await?;
            let id = send_invite(self, &mut tx, actor, new).await?;
            let invite = get(&mut *tx, &actor.org_id, &id).await?;
            tx.commit().await?;
            Ok(invite)
        })
        .await
    }

    async fn delete_invite(&self, actor: &Actor, invite_id: &InviteId) -> Result<()> {
        self.guarded(async {
            let mut tx = self.begin_for(actor).await?;
            withdraw_invite(self, &mut tx, actor, invite_id).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn accept_invite(
        &self,
        actor: &Actor,
        invite_id: &InviteId,
        name: Option<String>,
    ) -> Result<Member> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let now = tx.now();
            let invite = get(&mut *tx, org, invite_id).await?;
            let status = invite.status(now);
            if status != InviteStatus::Pending {
                return Err(DomainError::conflict(
                    ConflictKind::InviteNotPending,
                    format!(
                        "Invite {invite_id} is {} and can no longer be accepted.",
                        status.as_str()
                    ),
                    Some("invite_id"),
                ));
            }
            let mut user =
                users::joining(self, &mut tx, &invite.email, name, invite.role, now).await?;
            // A person provisioned by SCIM (by invite) joins under the ID their SCIM resource
            // has, marked as SCIM's.
            if let Some(scim_id) = super::scim::claim_invite(&mut tx, org, invite_id).await? {
                user.id = scim_id;
                user.is_scim_managed = true;
            }
            admit(
                self,
                &mut tx,
                actor,
                &user,
                &invite.projects,
                "Accepting an invite",
            )
            .await?;
            let id = user.id.clone();
            sqlx::query("UPDATE invites SET accepted_at = $1 WHERE org_id = $2 AND id = $3")
                .bind(now)
                .bind(org.as_str())
                .bind(invite_id.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
            self.audit(
                &mut tx,
                actor,
                NewAuditEvent::new(
                    kind::INVITE_ACCEPTED,
                    invite_id.as_str(),
                    json!({ "id": invite_id }),
                ),
            )
            .await?;
            self.audit(
                &mut tx,
                actor,
                NewAuditEvent::new(
                    kind::USER_ADDED,
                    id.as_str(),
                    json!({ "id": id, "data": { "role": invite.role.as_str() } }),
                ),
            )
            .await?;
            let member = users::member(&mut *tx, org, &id).await?;
            tx.commit().await?;
            Ok(member)
        })
        .await
    }
}

/// Delete a pending (or expired) invite, as the Admin API's delete does: an accepted one is
/// refused; `invite.deleted` written.
pub(crate) async fn withdraw_invite(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    invite_id: &InviteId,
) -> Result<()> {
    let org = &actor.org_id;
    let invite = get(&mut **tx, org, invite_id).await?;
    if invite.status(tx.now()) == InviteStatus::Accepted {
        return Err(DomainError::conflict(
            ConflictKind::InviteNotPending,
            format!("Invite {invite_id} has been accepted and cannot be deleted; remove the user instead."),
            Some("invite_id"),
        ));
    }
    sqlx::query("DELETE FROM invites WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(invite_id.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
    store
        .audit(
            tx,
            actor,
            NewAuditEvent::new(
                kind::INVITE_DELETED,
                invite_id.as_str(),
                json!({ "id": invite_id }),
            ),
        )
        .await
}

/// Make `user` a member, as accepting an invite does (and SCIM's provisioning): the acting key
/// must hold the role given (`subject` names the grant in a refusal), the member is written, and
/// added to each of `projects` that is not archived (checked as a grant too), with a
/// `user.added` event per project. The caller writes the organization's `user.added`.
pub(crate) async fn admit(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    user: &User,
    projects: &[InviteProject],
    subject: &str,
) -> Result<()> {
    let org = &actor.org_id;
    let now = tx.now();
    let id = &user.id;
    // The grant the invite offered; the accepting key must hold it too, so an invite sent by
    // someone since demoted does not outlast their demotion.
    let grants = Grants::load(tx, actor).await?;
    let what = format!("{subject} with role '{}'", user.role.as_str());
    grants
        .check(tx, actor, None, user.role.predefined().permissions(), &what)
        .await?;
    users::insert(tx, org, user).await?;
    for p in projects {
        // A project archived since the invite was sent accepts no new members; skip it.
        match projects::get(&mut **tx, org, &p.project_id).await {
            Ok(project) if !project.is_archived() => {
                let what = format!("{subject} with project role '{}'", p.role.as_str());
                grants
                    .check(
                        tx,
                        actor,
                        Some(&p.project_id),
                        p.role.predefined().permissions(),
                        &what,
                    )
                    .await?;
                projects::insert_member(tx, org, &p.project_id, id, p.role, now).await?;
                let event = NewAuditEvent::new(
                    kind::USER_ADDED,
                    id.as_str(),
                    json!({ "id": id, "data": { "role": p.role.as_str() } }),
                )
                .in_project(&p.project_id);
                store.audit(tx, actor, event).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The projects a member joins when none are named: the default project, as a member.
pub(crate) async fn default_projects(tx: &mut Tx, org: &OrgId) -> Result<Vec<InviteProject>> {
    let default: String =
        sqlx::query_scalar("SELECT id FROM projects WHERE org_id = $1 AND is_default")
            .bind(org.as_str())
            .fetch_one(&mut **tx)
            .await
            .db()?;
    Ok(vec![InviteProject {
        project_id: ProjectId::from_raw(default),
        role: ProjectBaseRole::Member,
    }])
}
