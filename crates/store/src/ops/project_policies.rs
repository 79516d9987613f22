//! What a project may use (tables of migration 0009): its model permissions, its hosted tools and
//! its rate limit overrides. Only what was set is stored; the defaults (nothing denied, every
//! tool enabled, the organization's limits) are the absence of a row, and the model catalogue,
//! configuration of the server, is not stored at all. Kept as data: nothing enforces them yet.

use async_trait::async_trait;
use orgadmin_core::actor::Actor;
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::catalogue::{LimitField, RateLimits};
use orgadmin_core::id::*;
use orgadmin_core::policy::{
    HostedTool, HostedTools, HostedToolsChange, ModelPermissionMode, ModelPermissions,
};
use orgadmin_core::store::ProjectPolicyStore;
use orgadmin_core::Result;
use serde_json::{json, Map, Value};

use super::{projects, Backend, Db, DbResult, Tx};

/// The override columns, in [`LimitField::ALL`]'s order (their names are the fields').
const LIMIT_COLUMNS: &str = "max_requests_per_1_minute, max_tokens_per_1_minute, \
     max_images_per_1_minute, max_audio_megabytes_per_1_minute, max_requests_per_1_day, \
     batch_1_day_max_input_tokens";

type LimitRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn limits_of(row: LimitRow) -> (String, RateLimits) {
    let (model, a, b, c, d, e, f) = row;
    let mut limits = RateLimits::default();
    for (field, value) in LimitField::ALL.into_iter().zip([a, b, c, d, e, f]) {
        limits.set(field, value);
    }
    (model, limits)
}

async fn model_permissions<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    project: &ProjectId,
) -> Result<Option<ModelPermissions>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT mode, model_ids FROM project_model_permissions WHERE org_id = $1 AND project_id = $2",
    )
    .bind(org.as_str())
    .bind(project.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    Ok(row.map(|(mode, ids)| ModelPermissions {
        mode: ModelPermissionMode::from_stored(&mode),
        model_ids: serde_json::from_str(&ids).unwrap_or_default(),
    }))
}

async fn hosted_tools<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    project: &ProjectId,
) -> Result<HostedTools> {
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT tool, enabled FROM project_hosted_tools WHERE org_id = $1 AND project_id = $2",
    )
    .bind(org.as_str())
    .bind(project.as_str())
    .fetch_all(db)
    .await
    .db()?;
    let mut tools = HostedTools::default();
    for (name, enabled) in rows {
        if let Some(tool) = HostedTool::parse(&name) {
            tools.set(tool, enabled);
        }
    }
    Ok(tools)
}

async fn rate_limit_override<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    project: &ProjectId,
    model: &str,
) -> Result<RateLimits> {
    let row: Option<LimitRow> = sqlx::query_as(&format!(
        "SELECT model, {LIMIT_COLUMNS} FROM project_rate_limits \
         WHERE org_id = $1 AND project_id = $2 AND model = $3"
    ))
    .bind(org.as_str())
    .bind(project.as_str())
    .bind(model)
    .fetch_optional(db)
    .await
    .db()?;
    Ok(row.map(|r| limits_of(r).1).unwrap_or_default())
}

/// `project.updated` of `project` with `changes_requested` (an extension of the official detail
/// shape, which lists only `title`): `{"model_permissions": …}` or `{"hosted_tool_permissions": …}`.
fn project_updated(project: &ProjectId, requested: Value) -> NewAuditEvent {
    NewAuditEvent::new(
        kind::PROJECT_UPDATED,
        project.as_str(),
        json!({ "id": project, "changes_requested": requested }),
    )
    .in_project(project)
}

impl Backend {
    /// The project of a change, which must exist and be open.
    async fn open_project(&self, tx: &mut Tx, org: &OrgId, project: &ProjectId) -> Result<()> {
        projects::get(&mut **tx, org, project).await?.ensure_open()
    }
}

#[async_trait]
impl ProjectPolicyStore for Backend {
    async fn get_model_permissions(
        &self,
        org: &OrgId,
        project: &ProjectId,
    ) -> Result<Option<ModelPermissions>> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            projects::get(&mut *conn, org, project).await?;
            model_permissions(&mut *conn, org, project).await
        })
        .await
    }

    async fn set_model_permissions(
        &self,
        actor: &Actor,
        project: &ProjectId,
        policy: ModelPermissions,
    ) -> Result<ModelPermissions> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            self.open_project(&mut tx, org, project).await?;
            let ids = serde_json::to_string(&policy.model_ids)
                .map_err(orgadmin_core::DomainError::internal)?;
            sqlx::query(
                "INSERT INTO project_model_permissions (org_id, project_id, mode, model_ids) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, project_id) \
                 DO UPDATE SET mode = excluded.mode, model_ids = excluded.model_ids",
            )
            .bind(org.as_str())
            .bind(project.as_str())
            .bind(policy.mode.as_str())
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .db()?;
            let event = project_updated(
                project,
                json!({ "model_permissions": {
                    "mode": policy.mode.as_str(),
                    "model_ids": policy.model_ids,
                } }),
            );
            self.audit(&mut tx, actor, event).await?;
            tx.commit().await?;
            Ok(policy)
        })
        .await
    }

    async fn delete_model_permissions(&self, actor: &Actor, project: &ProjectId) -> Result<bool> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            self.open_project(&mut tx, org, project).await?;
            let deleted = sqlx::query(
                "DELETE FROM project_model_permissions WHERE org_id = $1 AND project_id = $2",
            )
            .bind(org.as_str())
            .bind(project.as_str())
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
                > 0;
            if deleted {
                let event = project_updated(project, json!({ "model_permissions": null }));
                self.audit(&mut tx, actor, event).await?;
            }
            tx.commit().await?;
            Ok(deleted)
        })
        .await
    }

    async fn get_hosted_tools(&self, org: &OrgId, project: &ProjectId) -> Result<HostedTools> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            projects::get(&mut *conn, org, project).await?;
            hosted_tools(&mut *conn, org, project).await
        })
        .await
    }

    async fn update_hosted_tools(
        &self,
        actor: &Actor,
        project: &ProjectId,
        change: &HostedToolsChange,
    ) -> Result<HostedTools> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            self.open_project(&mut tx, org, project).await?;
            if !change.is_empty() {
                let mut requested = Map::new();
                for &(tool, enabled) in change {
                    sqlx::query(
                        "INSERT INTO project_hosted_tools (org_id, project_id, tool, enabled) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, project_id, tool) \
                         DO UPDATE SET enabled = excluded.enabled",
                    )
                    .bind(org.as_str())
                    .bind(project.as_str())
                    .bind(tool.name())
                    .bind(enabled)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    requested.insert(tool.name().into(), json!({ "enabled": enabled }));
                }
                let event =
                    project_updated(project, json!({ "hosted_tool_permissions": requested }));
                self.audit(&mut tx, actor, event).await?;
            }
            let tools = hosted_tools(&mut *tx, org, project).await?;
            tx.commit().await?;
            Ok(tools)
        })
        .await
    }

    async fn rate_limit_overrides(
        &self,
        org: &OrgId,
        project: &ProjectId,
    ) -> Result<Vec<(String, RateLimits)>> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            projects::get(&mut *conn, org, project).await?;
            let rows: Vec<LimitRow> = sqlx::query_as(&format!(
                "SELECT model, {LIMIT_COLUMNS} FROM project_rate_limits \
                 WHERE org_id = $1 AND project_id = $2"
            ))
            .bind(org.as_str())
            .bind(project.as_str())
            .fetch_all(&mut *conn)
            .await
            .db()?;
            Ok(rows.into_iter().map(limits_of).collect())
        })
        .await
    }

    async fn update_rate_limit(
        &self,
        actor: &Actor,
        project: &ProjectId,
        rate_limit_id: &str,
        model: &str,
        change: RateLimits,
    ) -> Result<RateLimits> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            self.open_project(&mut tx, org, project).await?;
            let merged = rate_limit_override(&mut *tx, org, project, model)
                .await?
                .merged(&change);
            let sql = format!(
                "INSERT INTO project_rate_limits (org_id, project_id, model, {LIMIT_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (org_id, project_id, model) DO UPDATE SET \
                 max_requests_per_1_minute = excluded.max_requests_per_1_minute, \
                 max_tokens_per_1_minute = excluded.max_tokens_per_1_minute, \
                 max_images_per_1_minute = excluded.max_images_per_1_minute, \
                 max_audio_megabytes_per_1_minute = excluded.max_audio_megabytes_per_1_minute, \
                 max_requests_per_1_day = excluded.max_requests_per_1_day, \
                 batch_1_day_max_input_tokens = excluded.batch_1_day_max_input_tokens"
            );
            let mut query = sqlx::query(&sql)
                .bind(org.as_str())
                .bind(project.as_str())
                .bind(model);
            for field in LimitField::ALL {
                query = query.bind(merged.get(field));
            }
            query.execute(&mut *tx).await.db()?;
            let requested: Map<String, Value> = change
                .iter()
                .map(|(field, value)| (field.name().to_owned(), json!(value)))
                .collect();
            let event = NewAuditEvent::new(
                kind::RATE_LIMIT_UPDATED,
                rate_limit_id,
                json!({ "id": rate_limit_id, "changes_requested": requested }),
            )
            .in_project(project);
            self.audit(&mut tx, actor, event).await?;
            tx.commit().await?;
            Ok(merged)
        })
        .await
    }
}
