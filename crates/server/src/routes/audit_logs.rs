//! `/v1/organization/audit_logs`.

use axum::extract::State;
use axum::Json;
use orgadmin_api::responses::AuditLogList;
use orgadmin_core::audit::{AuditFilter, KNOWN_EVENT_TYPES};
use orgadmin_core::Permission;

use super::MAX_FILTER_VALUES;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::state::AppState;
use orgadmin_core::DomainError;

#[utoipa::path(get, path = "/v1/organization/audit_logs", tag = "Audit Logs",
    params(
        ("effective_at[gt]" = Option<i64>, Query), ("effective_at[gte]" = Option<i64>, Query),
        ("effective_at[lt]" = Option<i64>, Query), ("effective_at[lte]" = Option<i64>, Query),
        ("event_types[]" = Option<Vec<String>>, Query), ("actor_ids[]" = Option<Vec<String>>, Query),
        ("actor_emails[]" = Option<Vec<String>>, Query), ("resource_ids[]" = Option<Vec<String>>, Query),
        ("project_ids[]" = Option<Vec<String>>, Query),
        ("tenant_only" = Option<bool>, Query),
        ("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("before" = Option<String>, Query),
        ("order" = Option<String>, Query, description = "`desc` (the default: newest first) or `asc`; an orgadmin extension")),
    responses((status = 200, body = AuditLogList)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    q: Query,
) -> ApiResult<Json<AuditLogList>> {
    auth.require(Permission::AuditLogsRead)?;
    let page = q.audit_page()?;
    // orgadmin writes no tenant-scoped events, so asking for only those finds none.
    let tenant_only = q.boolean("tenant_only")?.unwrap_or(false);
    let many = |name: &str| -> ApiResult<Vec<String>> {
        let values: Vec<String> = q.many(name).into_iter().filter(|v| !v.is_empty()).collect();
        if values.len() > MAX_FILTER_VALUES {
            return Err(DomainError::invalid(
                name,
                format!("Give at most {MAX_FILTER_VALUES} values of '{name}'."),
            )
            .into());
        }
        Ok(values)
    };
    let event_types = many("event_types")?;
    let actor_emails = many("actor_emails")?;
    if let Some(unknown) = event_types
        .iter()
        .find(|t| !KNOWN_EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(DomainError::invalid(
            "event_types",
            format!(
                "'{}' is not an audit log event type (for example 'user.added' or 'project.created').",
                orgadmin_core::text::clip(unknown)
            ),
        ).into());
    }
    // `effective_at=N` (bare) means exactly N.
    let exact = q.integer("effective_at")?;
    let filter = AuditFilter {
        effective_at_gt: q.integer("effective_at[gt]")?,
        effective_at_gte: q.integer("effective_at[gte]")?.or(exact),
        effective_at_lt: q.integer("effective_at[lt]")?,
        effective_at_lte: q.integer("effective_at[lte]")?.or(exact),
        event_types,
        actor_ids: many("actor_ids")?,
        actor_emails: actor_emails
            .iter()
            .filter_map(|e| orgadmin_core::Email::filter_key(e))
            .collect(),
        resource_ids: many("resource_ids")?,
        project_ids: many("project_ids")?,
    };
    // Emails compare by the rule that decides who is a member: a value that is no address
    // matches no actor, so a filter of only such values matches nothing.
    if tenant_only || (!actor_emails.is_empty() && filter.actor_emails.is_empty()) {
        return Ok(Json(AuditLogList::new(Vec::new(), false, |l| &l.id)));
    }
    Ok(Json(
        s.store
            .list_audit_logs(&auth.0.org_id, &filter, &page)
            .await?
            .into(),
    ))
}
