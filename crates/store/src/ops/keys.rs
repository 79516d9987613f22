//! Admin API keys and authentication.

use async_trait::async_trait;
use orgadmin_core::actor::{Actor, OrgVersion};
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::email::Email;
use orgadmin_core::id::*;
use orgadmin_core::model::{AdminKey, NewAdminKey};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::role::OrgBaseRole;
use orgadmin_core::secret::constant_time_eq;
use orgadmin_core::store::AdminKeyStore;
use orgadmin_core::{DomainError, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use orgadmin_core::permission::PermissionSet;

use super::grants::Grants;
use super::{finish_page, push_keyset, roles, users, Backend, Db, DbResult, Tx};
use crate::auth_cache::CachedAuth;
use crate::rows::*;
use crate::versions::OrgState;

/// `last_used_at` is refreshed at most this often, so authentication rarely writes.
const LAST_USED_GRANULARITY_SECONDS: i64 = 60;

/// Whether a key's (admin or project key) stored `last_used_at` should be refreshed by a use at `now` (the
/// organization's time): once it is [`LAST_USED_GRANULARITY_SECONDS`] old, or when it lies after
/// `now` (the organization's clock was set back), so it never shows a use later than the clock.
pub(crate) fn last_use_is_stale(last_used_at: Option<i64>, now: i64) -> bool {
    last_used_at.is_none_or(|at| now < at || now - at >= LAST_USED_GRANULARITY_SECONDS)
}

pub(crate) async fn get<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    key: &AdminKeyId,
) -> Result<AdminKey> {
    let row: Option<KeyRow> = sqlx::query_as(&format!(
        "SELECT {KEY_COLUMNS} FROM {KEY_FROM} WHERE k.org_id = $1 AND k.id = $2"
    ))
    .bind(org.as_str())
    .bind(key.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    row.map(AdminKey::from)
        .ok_or_else(|| DomainError::not_found("admin API key", key, "key_id"))
}

#[async_trait]
impl AdminKeyStore for Backend {
    async fn authenticate(&self, secret_hash: &str) -> Result<Option<Actor>> {
        self.guarded(async {
            let wall = self.wall();
            if let Some(cached) = self.auth_cache.get(secret_hash) {
                // The organization's version and clock: from memory where this process is the
                // only writer, else one statement (`Backend::org_state`).
                if let Some(state) = self
                    .org_state(&cached.actor.org_id)
                    .await?
                    .filter(|state| state.version.generation == cached.generation)
                {
                    self.auth_cache.counters.hit();
                    let now = state.clock.now(wall);
                    if cached.expires_at.is_some_and(|at| now >= at) {
                        self.auth_cache.remove(secret_hash);
                        return Ok(None);
                    }
                    let stored = touch_last_used(self, &cached.actor, cached.last_used_at, now).await?;
                    if stored != cached.last_used_at {
                        self.auth_cache.touch(secret_hash, now);
                    }
                    // The version and time just read, after the request arrived: what the
                    // request may read at.
                    let mut actor = cached.actor;
                    actor.generation = state.version.generation;
                    actor.key_use = state.version.key_use;
                    actor.now = now;
                    return Ok(Some(actor));
                }
                self.auth_cache.remove(secret_hash);
            }
            self.auth_cache.counters.miss();

            let ticket = self.versions.ticket();
            let mut conn = self.reader.acquire().await.db()?;
            // The generation (and the organization's clock) is read in the same statement as the
            // key, before the roles: what is cached is never older than the generation it is filed
            // under.
            let row: Option<AuthRow> = sqlx::query_as(
                "SELECT k.org_id, k.id, k.secret_hash, k.expires_at, k.last_used_at, k.scopes, u.id AS user_id, u.email, u.role, o.generation, \
                 o.clock_offset_seconds, o.clock_frozen_at, \
                 COALESCE((SELECT epoch FROM key_use WHERE org_id = k.org_id), 0) AS key_use \
                 FROM admin_api_keys k JOIN users u ON u.org_id = k.org_id AND u.id = k.owner_user_id \
                 JOIN organizations o ON o.id = k.org_id \
                 WHERE k.secret_hash = $1",
            )
            .bind(secret_hash)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
            let Some(row) = row else {
                return Ok(None);
            };
            // The index lookup found the row by hash; compare again in constant time so that the final
            // decision never depends on how many leading characters matched.
            if !constant_time_eq(row.secret_hash.as_bytes(), secret_hash.as_bytes()) {
                return Ok(None);
            }
            let state = OrgState {
                version: OrgVersion {
                    generation: row.generation,
                    key_use: row.key_use,
                },
                clock: row.clock(),
            };
            let org = OrgId::from_raw(row.org_id);
            self.versions.offer(&org, state, ticket);
            let now = state.clock.now(wall);
            if row.expires_at.is_some_and(|at| now >= at) {
                return Ok(None);
            }
            let user_id = UserId::from_raw(row.user_id);
            let role = OrgBaseRole::from_stored(&row.role);
            let custom = roles::held_permissions(&mut conn, &org, None, &user_id).await?;
            drop(conn);
            let held = role.predefined().permissions().union(custom);
            let scopes = row.scopes.as_deref().map(permissions_from_json);
            let actor = Actor {
                org_id: org,
                key_id: AdminKeyId::from_raw(row.id),
                user_id,
                user_email: Email::from_stored(row.email),
                user_role: role,
                permissions: match scopes {
                    Some(s) => held.intersection(s),
                    None => held,
                },
                scopes,
                generation: row.generation,
                key_use: row.key_use,
                now,
                project_authority: Default::default(),
            };
            let last_used_at = touch_last_used(self, &actor, row.last_used_at, now).await?;
            self.auth_cache.insert(
                secret_hash,
                CachedAuth {
                    actor: actor.clone(),
                    generation: row.generation,
                    expires_at: row.expires_at,
                    last_used_at,
                },
            );
            Ok(Some(actor))
        })
        .await
    }

    async fn list_admin_keys(&self, org: &OrgId, page: &PageRequest) -> Result<Page<AdminKey>> {
        self.guarded(async {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {KEY_COLUMNS} FROM {KEY_FROM} WHERE k.org_id = "
            ));
            qb.push_bind(org.as_str());
            let reversed = push_keyset(&mut qb, "k.id", page);
            let rows: Vec<KeyRow> = qb.build_query_as().fetch_all(&self.reader).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(AdminKey::from).collect(),
                page,
                reversed,
            ))
        })
        .await
    }

    async fn get_admin_key(&self, org: &OrgId, key: &AdminKeyId) -> Result<AdminKey> {
        self.guarded(get(&self.reader, org, key)).await
    }

    async fn create_admin_key(&self, actor: &Actor, new: NewAdminKey) -> Result<AdminKey> {
        self.guarded(async {
            let org = &actor.org_id;
            let id = AdminKeyId::generate(self.millis());
            let mut tx = self.begin_for(actor).await?;
            let now = tx.now();
            // The new key may do no more than the key creating it, nor outlive it.
            let grants = Grants::load(&mut tx, actor).await?;
            let scopes = grants.granter().scopes_for_new_key(new.scopes)?;
            let expires_at = grants
                .granter()
                .expiry_for_new_key(now, new.expires_in_seconds)?;
            sqlx::query(
                "INSERT INTO admin_api_keys (org_id, id, name, secret_hash, redacted_value, owner_user_id, created_at, expires_at, scopes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(new.name.as_deref())
            .bind(&new.secret_hash)
            .bind(&new.redacted_value)
            .bind(actor.user_id.as_str())
            .bind(now)
            .bind(expires_at)
            .bind(scopes.map(permissions_json))
            .execute(&mut *tx)
            .await
            .db()?;
            // `data.scopes` is an array in the official schema: present only for a scoped key.
            let data = match scopes {
                Some(scopes) => json!({ "scopes": scopes.names() }),
                None => json!({}),
            };
            let event = NewAuditEvent::new(
                kind::API_KEY_CREATED,
                id.as_str(),
                json!({ "id": id, "data": data }),
            );
            self.audit(&mut tx, actor, event).await?;
            let key = get(&mut *tx, org, &id).await?;
            tx.commit().await?;
            Ok(key)
        })
        .await
    }

    async fn delete_admin_key(&self, actor: &Actor, key: &AdminKeyId) -> Result<()> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            get(&mut *tx, org, key).await?;
            sqlx::query("DELETE FROM admin_api_keys WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(key.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
            self.audit(
                &mut tx,
                actor,
                NewAuditEvent::new(kind::API_KEY_DELETED, key.as_str(), json!({ "id": key })),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// A new admin key for an owner of `org`, made server-side (`orgadmin org key`) when no key is
    /// left to make one through the API. The owner is the member with `owner_email`, who must be an
    /// owner, or else the organization's longest-standing owner. The audit log records
    /// `api_key.created` with the new key and its owner as the actor, as no other actor exists.
    async fn recover_admin_key(
        &self,
        org: &OrgId,
        owner_email: Option<&Email>,
        new: NewAdminKey,
    ) -> Result<AdminKey> {
        let id = AdminKeyId::generate(self.millis());
        let (mut tx, generation) = self.begin_in(org).await?;
        if generation.is_none() {
            return Err(DomainError::not_found("organization", org, "org"));
        }
        let now = tx.now();
        let owner = match owner_email {
            Some(email) => {
                let member = users::find_by_email(&mut *tx, org, email)
                    .await?
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "owner",
                            format!("No member of {org} has the email address {email}."),
                        )
                    })?;
                if member.role != OrgBaseRole::Owner {
                    return Err(DomainError::invalid(
                        "owner",
                        format!(
                            "{email} is a {} of {org}, not an owner; a recovery key is made only for an owner.",
                            member.role.as_str()
                        ),
                    ));
                }
                member
            }
            None => {
                let row: Option<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND role = 'owner' \
                     ORDER BY added_at, id LIMIT 1"
                ))
                .bind(org.as_str())
                .fetch_optional(&mut *tx)
                .await
                .db()?;
                row.map(orgadmin_core::model::User::from)
                    .ok_or_else(|| DomainError::internal(format!("{org} has no owner")))?
            }
        };
        sqlx::query(
            "INSERT INTO admin_api_keys (org_id, id, name, secret_hash, redacted_value, owner_user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(new.name.as_deref())
        .bind(&new.secret_hash)
        .bind(&new.redacted_value)
        .bind(owner.id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        let actor = Actor {
            org_id: org.clone(),
            key_id: id.clone(),
            user_id: owner.id.clone(),
            user_email: owner.email.clone(),
            user_role: owner.role,
            permissions: Default::default(),
            scopes: None,
            generation: 0,
            key_use: 0,
            now,
            project_authority: Default::default(),
        };
        let event = NewAuditEvent::new(
            kind::API_KEY_CREATED,
            id.as_str(),
            json!({ "id": id, "data": {} }),
        );
        self.audit(&mut tx, &actor, event).await?;
        let key = get(&mut *tx, org, &id).await?;
        tx.commit().await?;
        Ok(key)
    }
}

/// Inside a write transaction whose organization changed since `actor` was authenticated: is
/// the key still there, unexpired, and able to do at least what it was authorized with? Its
/// owner's permissions are computed afresh under the transaction's lock, so a revocation or a
/// demotion that committed while this request was in flight (its body still arriving, say)
/// binds it: it writes nothing.
pub(crate) async fn reauthorize(tx: &mut Tx, actor: &Actor) -> Result<()> {
    // The key read as a grant reads it (`grants.rs`): gone or expired is 401.
    let held = Grants::load(tx, actor).await?.granter().in_organization();
    // What the request was authorized with and the key no longer holds.
    let lost = |before: PermissionSet, now: PermissionSet| -> Result<()> {
        let missing = before.difference(now);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DomainError::narrowed_in_flight(missing))
        }
    };
    lost(actor.permissions, held)?;
    if let Some((project, before)) = actor.project_authority.get() {
        let held =
            roles::project_permissions_in(tx, &actor.org_id, project, &actor.user_id).await?;
        lost(*before, actor.limit(held))?;
    }
    Ok(())
}

/// Record that the key was used, at most once per [`LAST_USED_GRANULARITY_SECONDS`]; returns the
/// `last_used_at` now stored. Not a write transaction of the organization: it changes nothing
/// anyone is authorized by, so it leaves the organization's generation alone. It then increments
/// the organization's key-use epoch, which the member answers remembered by every server are
/// filed under with the generation (their `api_key_last_used_at`, `read_cache.rs`): the next
/// member read anywhere sees the use. The epoch goes up after the key's row, so an answer filed
/// under the old epoch never lacks a use the new one counts; should the increment fail, the
/// request fails and the next use of the key refreshes both again.
///
/// Both statements run in one transaction, and the epoch is written only when the key's row
/// still exists: a delete of the organization (`organizations.rs`, which empties `admin_api_keys`
/// before `key_use`) either waits for this one's key row lock and then deletes its epoch, or
/// takes the lock first and leaves this one nothing to touch. Either way no epoch of a deleted
/// organization is left behind.
async fn touch_last_used(
    store: &Backend,
    actor: &Actor,
    last_used_at: Option<i64>,
    now: i64,
) -> Result<Option<i64>> {
    if !last_use_is_stale(last_used_at, now) {
        return Ok(last_used_at);
    }
    let mut tx = store.begin_write().await?;
    let touched =
        sqlx::query("UPDATE admin_api_keys SET last_used_at = $1 WHERE org_id = $2 AND id = $3")
            .bind(now)
            .bind(actor.org_id.as_str())
            .bind(actor.key_id.as_str())
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
    if touched == 0 {
        // Deleted meanwhile (with its organization, perhaps): nothing to count.
        tx.rollback().await?;
        return Ok(last_used_at);
    }
    // The backend's statement: PostgreSQL's also notifies other replicas at commit.
    let epoch: i64 = sqlx::query_scalar(Backend::BUMP_KEY_USE)
        .bind(actor.org_id.as_str())
        .fetch_one(&mut *tx)
        .await
        .db()?;
    // Memory learns the new epoch at the commit (`versions.rs`), with the generation and clock
    // as this transaction reads them: in a group (`group_commit.rs`) an operation before this
    // one may have changed them, uncommitted, so memory's are not the latest.
    let after = match store.versions.known(&actor.org_id) {
        Some(_) if store.versions.keeps_published_states() => {
            users::state_in(&mut tx, &actor.org_id)
                .await?
                .map(|mut state| {
                    state.version.key_use = epoch;
                    state
                })
        }
        _ => None,
    };
    tx.publish_at_commit(store.versions.publication(&actor.org_id, after));
    tx.commit().await?;
    Ok(Some(now))
}
