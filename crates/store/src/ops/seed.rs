//! Writing a fixture's seed (`core::fixture`) into a new organization, after what creation
//! itself made, in creation's transaction; and again on reset, from the seed kept in
//! `organization_origins.fixture`.
//!
//! The core checked every rule the document alone can break. What only the database knows is
//! checked here, before anything is written, and refused in the same form (a problem per entry,
//! with its place in the document): a person's user ID in the server's other organizations (one
//! person, one ID, unless IDs are per organization) and a chosen secret that a key of another
//! organization already has.
//!
//! A seed writes no audit event: like creation, it is the organization's starting state.

use std::collections::BTreeMap;

use orgadmin_core::email::Email;
use orgadmin_core::fixture::{FixtureProblem, Seed, SeedProject, DEFAULT_PROJECT_NAME};
use orgadmin_core::id::{OrgId, UserId};
use orgadmin_core::model::{User, INVITE_TTL_SECONDS};
use orgadmin_core::role::OrgBaseRole;
use orgadmin_core::store::UserIds;
use orgadmin_core::{ConflictKind, DomainError, Result};
use serde_json::json;

use super::{db_error, is_unique_violation, users, Backend, DbResult, Tx};

/// A member as the seed's rows need them: by normalized email.
#[derive(Debug, Clone)]
pub(crate) struct SeededMember {
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    /// When this person first joined any organization of the server.
    pub created: i64,
}

/// Give every user of the seed its ID: the fixed one, the one the person has in the server's
/// other organizations, or a new one; the seed then holds it, for reset. The owner is settled the
/// same way (`owner_email` with `owner_id`, at `owner`). Refused whole, with a problem per
/// conflict, where a fixed ID disagrees with the server or a chosen secret (the seed's, or the
/// first admin key's, hashed as `first_key_hash`) is another organization's key's.
pub(crate) async fn settle_users(
    store: &Backend,
    tx: &mut Tx,
    seed: &mut Seed,
    owner_email: &Email,
    owner_id: Option<&UserId>,
    first_key_hash: &str,
) -> Result<(UserId, Option<i64>)> {
    let mut problems = Vec::new();
    let owner = settle(store, tx, owner_email, owner_id, "owner", &mut problems).await?;
    for user in &mut seed.users {
        let email = Email::from_stored(user.email.clone());
        let path = user.path.clone();
        if let Some((id, _)) =
            settle(store, tx, &email, user.id.as_ref(), &path, &mut problems).await?
        {
            user.id = Some(id);
        }
    }
    let keys = std::iter::once(("admin_key".to_owned(), first_key_hash)).chain(
        seed.keys()
            .map(|key| (format!("{}.secret", key.path), key.secret_hash.as_str())),
    );
    for (path, hash) in keys {
        if secret_in_use(tx, hash).await? {
            problems.push(FixtureProblem::new(
                path,
                "A key of another organization on this server has this secret, and secrets are unique on the server; choose another, or omit it for a random one",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(FixtureProblem::refusal(&problems));
    }
    Ok(owner.expect("settled without a problem"))
}

/// One person's ID and first date elsewhere (`None` for a first membership); a problem at
/// `path` when a fixed ID disagrees with the server.
async fn settle(
    store: &Backend,
    tx: &mut Tx,
    email: &Email,
    fixed: Option<&UserId>,
    path: &str,
    problems: &mut Vec<FixtureProblem>,
) -> Result<Option<(UserId, Option<i64>)>> {
    let elsewhere = users::existing_id_for_email(store, tx, email).await?;
    let Some(fixed) = fixed else {
        return Ok(Some(match elsewhere {
            Some((id, created)) => (id, Some(created)),
            None => (UserId::generate(store.millis()), None),
        }));
    };
    if store.user_ids == UserIds::PerOrganization {
        return Ok(Some((fixed.clone(), None)));
    }
    if let Some((id, _)) = elsewhere.as_ref().filter(|(id, _)| id != fixed) {
        problems.push(FixtureProblem::new(
            format!("{path}.id"),
            format!(
                "{} is {id} in this server's other organizations, and a person keeps one user ID across them; give that ID, or none",
                email.as_str()
            ),
        ));
        return Ok(None);
    }
    let holder: Option<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE id = $1 AND email_norm <> $2 LIMIT 1")
            .bind(fixed.as_str())
            .bind(email.normalized())
            .fetch_optional(&mut **tx)
            .await
            .db()?;
    if let Some(holder) = holder {
        problems.push(FixtureProblem::new(
            format!("{path}.id"),
            format!("{fixed} is the user ID of {holder} in another organization of this server; choose another ID"),
        ));
        return Ok(None);
    }
    Ok(Some((fixed.clone(), elsewhere.map(|(_, created)| created))))
}

/// Whether a key of the server has the secret hashed as `hash`.
async fn secret_in_use(tx: &mut Tx, hash: &str) -> Result<bool> {
    let taken: Option<String> = sqlx::query_scalar(
        "SELECT id FROM admin_api_keys WHERE secret_hash = $1 \
         UNION ALL SELECT id FROM project_api_keys WHERE secret_hash = $1 LIMIT 1",
    )
    .bind(hash)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    Ok(taken.is_some())
}

/// Write the seed into `org`, everything at `now` (creation's time). `owner` is the member
/// creation made; every seed user has its ID (settled at creation).
pub(crate) async fn write(
    store: &Backend,
    tx: &mut Tx,
    org: &OrgId,
    seed: &Seed,
    owner: SeededMember,
    now: i64,
) -> Result<()> {
    let owner_email = orgadmin_core::email::identity(&owner.email);
    let mut members: BTreeMap<String, SeededMember> = BTreeMap::new();
    members.insert(owner_email, owner.clone());
    for user in &seed.users {
        let id = user
            .id
            .clone()
            .ok_or_else(|| DomainError::internal("a seed user without an ID reached the store"))?;
        let email = Email::from_stored(user.email.clone());
        let created = first_joined(store, tx, &id).await?.unwrap_or(now);
        let member = User::joining(
            id.clone(),
            email.clone(),
            user.name.clone(),
            OrgBaseRole::from_stored(&user.role),
            now,
            Some(created),
        );
        users::insert(tx, org, &member).await?;
        members.insert(
            email.normalized().to_owned(),
            SeededMember {
                id,
                email: user.email.clone(),
                name: user.name.clone(),
                created,
            },
        );
    }
    let member = |norm: &str| {
        members.get(norm).cloned().ok_or_else(|| {
            DomainError::internal(format!("the seed refers to {norm}, who is not in it"))
        })
    };

    if seed.default_project.name != DEFAULT_PROJECT_NAME {
        exec(
            tx,
            sqlx::query("UPDATE projects SET name = $3 WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(seed.default_project.id.as_str())
                .bind(&seed.default_project.name),
        )
        .await?;
    }
    for project in &seed.projects {
        exec(
            tx,
            sqlx::query(
                "INSERT INTO projects (org_id, id, name, created_at, archived_at, is_default) \
                 VALUES ($1, $2, $3, $4, $5, FALSE)",
            )
            .bind(org.as_str())
            .bind(project.id.as_str())
            .bind(&project.name)
            .bind(now)
            .bind(project.archived.then_some(now)),
        )
        .await?;
    }
    for role in &seed.roles {
        exec(
            tx,
            sqlx::query(
                "INSERT INTO roles (org_id, id, project_id, scope_key, name, name_norm, description, \
                 permissions, created_at, updated_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
            )
            .bind(org.as_str())
            .bind(role.id.as_str())
            .bind(role.project.as_ref().map(|p| p.as_str()))
            .bind(role.project.as_ref().map(|p| p.as_str()).unwrap_or(""))
            .bind(&role.name)
            .bind(role.name.to_lowercase())
            .bind(role.description.as_deref())
            .bind(json!(role.permissions).to_string())
            .bind(now)
            .bind(owner.id.as_str()),
        )
        .await?;
    }
    for user in &seed.users {
        let id = user.id.as_ref().map(UserId::as_str).unwrap_or_default();
        for role in &user.roles {
            assign(tx, org, "user", id, role.as_str(), "", now).await?;
        }
    }
    for group in &seed.groups {
        exec(
            tx,
            sqlx::query(
                "INSERT INTO groups (org_id, id, name, name_norm, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(org.as_str())
            .bind(group.id.as_str())
            .bind(&group.name)
            .bind(group.name.to_lowercase())
            .bind(now),
        )
        .await?;
        for norm in &group.members {
            exec(
                tx,
                sqlx::query(
                    "INSERT INTO group_users (org_id, group_id, user_id, added_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(org.as_str())
                .bind(group.id.as_str())
                .bind(member(norm)?.id.as_str())
                .bind(now),
            )
            .await?;
        }
        for role in &group.roles {
            assign(tx, org, "group", group.id.as_str(), role, "", now).await?;
        }
    }
    for project in std::iter::once(&seed.default_project).chain(&seed.projects) {
        write_project(tx, org, project, &member, &owner, seed, now).await?;
    }
    for invite in &seed.invites {
        let projects: Vec<_> = invite
            .projects
            .iter()
            .map(|(id, role)| json!({ "id": id, "role": role }))
            .collect();
        let email = Email::from_stored(invite.email.clone());
        exec(
            tx,
            sqlx::query(
                "INSERT INTO invites (org_id, id, email, email_norm, role, created_at, expires_at, projects) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(org.as_str())
            .bind(invite.id.as_str())
            .bind(email.as_str())
            .bind(email.normalized())
            .bind(&invite.role)
            .bind(now)
            .bind(now + INVITE_TTL_SECONDS)
            .bind(serde_json::Value::from(projects).to_string()),
        )
        .await?;
    }
    for admin_key in &seed.admin_keys {
        let key = &admin_key.key;
        exec(
            tx,
            sqlx::query(
                "INSERT INTO admin_api_keys (org_id, id, name, secret_hash, redacted_value, owner_user_id, \
                 created_at, expires_at, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(org.as_str())
            .bind(&key.id)
            .bind(&key.name)
            .bind(&key.secret_hash)
            .bind(&key.redacted_value)
            .bind(member(&admin_key.owner)?.id.as_str())
            .bind(now)
            .bind(key.expires_in_seconds.map(|s| now + s))
            .bind(admin_key.scopes.as_ref().map(|s| json!(s).to_string())),
        )
        .await?;
    }
    Ok(())
}

/// A project's members, groups, service accounts and keys (the project row is written).
async fn write_project(
    tx: &mut Tx,
    org: &OrgId,
    project: &SeedProject,
    member: &impl Fn(&str) -> Result<SeededMember>,
    owner: &SeededMember,
    seed: &Seed,
    now: i64,
) -> Result<()> {
    let project_id = project.id.as_str();
    let is_default = project.id == seed.default_project.id;
    for m in &project.members {
        let user = member(&m.user)?;
        exec(
            tx,
            sqlx::query(
                "INSERT INTO project_users (org_id, project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(org.as_str())
            .bind(project_id)
            .bind(user.id.as_str())
            .bind(&m.role)
            .bind(now),
        )
        .await?;
        for role in &m.roles {
            assign(
                tx,
                org,
                "user",
                user.id.as_str(),
                role.as_str(),
                project_id,
                now,
            )
            .await?;
        }
    }
    for g in &project.groups {
        exec(
            tx,
            sqlx::query(
                "INSERT INTO project_groups (org_id, project_id, group_id, added_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(org.as_str())
            .bind(project_id)
            .bind(g.group.as_str())
            .bind(now),
        )
        .await?;
        for role in &g.roles {
            assign(tx, org, "group", g.group.as_str(), role, project_id, now).await?;
        }
    }
    for account in &project.service_accounts {
        exec(
            tx,
            sqlx::query(
                "INSERT INTO service_accounts (org_id, id, project_id, name, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(org.as_str())
            .bind(account.id.as_str())
            .bind(project_id)
            .bind(&account.name)
            .bind(&account.role)
            .bind(now),
        )
        .await?;
        let key = &account.key;
        exec(
            tx,
            sqlx::query(
                "INSERT INTO project_api_keys (org_id, id, project_id, name, secret_hash, redacted_value, \
                 created_at, expires_at, owner_service_account_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(org.as_str())
            .bind(&key.id)
            .bind(project_id)
            .bind(&key.name)
            .bind(&key.secret_hash)
            .bind(&key.redacted_value)
            .bind(now)
            .bind(key.expires_in_seconds.map(|s| now + s))
            .bind(account.id.as_str()),
        )
        .await?;
    }
    for project_key in &project.api_keys {
        let user = member(&project_key.user)?;
        let role = project
            .members
            .iter()
            .find(|m| m.user == project_key.user)
            .map(|m| m.role.as_str())
            .or_else(|| (is_default && user.id == owner.id).then_some("owner"))
            .ok_or_else(|| DomainError::internal("a seed key's owner is not in its project"))?;
        let key = &project_key.key;
        exec(
            tx,
            sqlx::query(
                "INSERT INTO project_api_keys (org_id, id, project_id, name, secret_hash, redacted_value, \
                 created_at, expires_at, owner_user_id, owner_email, owner_name, owner_created, owner_role) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(org.as_str())
            .bind(&key.id)
            .bind(project_id)
            .bind(&key.name)
            .bind(&key.secret_hash)
            .bind(&key.redacted_value)
            .bind(now)
            .bind(key.expires_in_seconds.map(|s| now + s))
            .bind(user.id.as_str())
            .bind(&user.email)
            .bind(user.name.as_deref())
            .bind(user.created)
            .bind(role),
        )
        .await?;
    }
    Ok(())
}

/// When the person with this ID first joined another organization of the server (a person
/// keeps one ID across them, unless IDs are per organization).
async fn first_joined(store: &Backend, tx: &mut Tx, id: &UserId) -> Result<Option<i64>> {
    if store.user_ids == UserIds::PerOrganization {
        return Ok(None);
    }
    let created: Option<i64> = sqlx::query_scalar("SELECT MIN(created) FROM users WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(&mut **tx)
        .await
        .db()?;
    Ok(created)
}

/// A role assignment: `principal_type` `user` or `group`, `scope_key` `` for the
/// organization or the project's ID.
async fn assign(
    tx: &mut Tx,
    org: &OrgId,
    principal_type: &str,
    principal: &str,
    role: &str,
    scope_key: &str,
    now: i64,
) -> Result<()> {
    exec(
        tx,
        sqlx::query(
            "INSERT INTO role_assignments (org_id, principal_type, principal_id, role_id, scope_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org.as_str())
        .bind(principal_type)
        .bind(principal)
        .bind(role)
        .bind(scope_key)
        .bind(now),
    )
    .await
}

async fn exec<'q>(
    tx: &mut Tx,
    query: sqlx::query::Query<'q, super::Db, <super::Db as sqlx::Database>::Arguments<'q>>,
) -> Result<()> {
    query.execute(&mut **tx).await.map_err(|e| {
        // The core and `settle_users` checked what makes a seed's rows unique; what the
        // database can still refuse is a secret another organization took since (a reset, or a
        // creation racing another), reported, never as the server's failure.
        if is_unique_violation(&e) {
            DomainError::conflict(
                ConflictKind::AlreadyExists,
                "A key of the fixture has a secret that another organization on this server uses now; delete that organization or its key, or give the fixture other secrets.",
                Some("fixture"),
            )
        } else {
            db_error(e)
        }
    })?;
    Ok(())
}
