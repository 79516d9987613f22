//! The audit log: writing events inside each change's transaction, and listing them with the
//! filters of the official API.

use async_trait::async_trait;
use orgadmin_core::actor::Actor;
use orgadmin_core::audit::{AuditEvent, AuditFilter, NewAuditEvent};
use orgadmin_core::id::*;
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::store::AuditStore;
use orgadmin_core::Result;
use sqlx::QueryBuilder;

use super::{finish_page, push_in, push_keyset, Backend, Db, DbResult, Tx};
use crate::rows::*;

#[async_trait]
impl AuditStore for Backend {
    async fn list_audit_logs(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>> {
        self.guarded(async {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT a.id, a.type, a.effective_at, a.actor_key_id, a.actor_user_id, a.actor_email, a.project_id, \
                 p.name AS project_name, a.details \
                 FROM audit_logs a LEFT JOIN projects p ON p.org_id = a.org_id AND p.id = a.project_id \
                 WHERE a.org_id = ",
            );
            qb.push_bind(org.as_str());
            for (op, value) in [
                (">", filter.effective_at_gt),
                (">=", filter.effective_at_gte),
                ("<", filter.effective_at_lt),
                ("<=", filter.effective_at_lte),
            ] {
                if let Some(v) = value {
                    qb.push(format!(" AND a.effective_at {op} "));
                    qb.push_bind(v);
                }
            }
            push_in(&mut qb, "a.type", &filter.event_types);
            if !filter.actor_ids.is_empty() {
                qb.push(" AND (1 = 0");
                for column in ["a.actor_user_id", "a.actor_key_id"] {
                    qb.push(format!(" OR {column} IN ("));
                    let mut sep = qb.separated(", ");
                    for v in &filter.actor_ids {
                        sep.push_bind(v.clone());
                    }
                    sep.push_unseparated(")");
                }
                qb.push(")");
            }
            push_in(&mut qb, "a.actor_email_norm", &filter.actor_emails);
            push_in(&mut qb, "a.resource_id", &filter.resource_ids);
            push_in(&mut qb, "a.project_id", &filter.project_ids);
            let reversed = push_keyset(&mut qb, "a.id", page);
            let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(&self.reader).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(AuditEvent::from).collect(),
                page,
                reversed,
            ))
        })
        .await
    }
}

impl Backend {
    /// Write an audit event inside the change's transaction.
    pub(crate) async fn audit(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        event: NewAuditEvent,
    ) -> Result<()> {
        let id = self.next_audit_id(tx, &actor.org_id).await?;
        sqlx::query(
            "INSERT INTO audit_logs (org_id, id, type, effective_at, actor_key_id, actor_user_id, \
             actor_email, actor_email_norm, project_id, resource_id, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(actor.org_id.as_str())
        .bind(id.as_str())
        .bind(event.kind)
        .bind(tx.now())
        .bind(actor.key_id.as_str())
        .bind(actor.user_id.as_str())
        .bind(actor.user_email.as_str())
        .bind(actor.user_email.normalized())
        .bind(event.project_id.as_ref().map(|p| p.as_str()))
        .bind(&event.resource_id)
        .bind(event.details.to_string())
        .execute(&mut **tx)
        .await
        .db()?;
        Ok(())
    }

    /// The ID of the next event of `org`'s audit log: after the newest one it holds, as this
    /// transaction sees it. Every transaction that writes events holds its organization's write
    /// lock from its first statement to its commit (`begin_for`, `begin_in`: the generation
    /// `UPDATE` on PostgreSQL, the one writer under `BEGIN IMMEDIATE` on SQLite), so the previous
    /// writer has committed, and is visible, before this one reads the newest ID. Events are thus
    /// numbered in the order they commit, whichever replica writes them and whatever its clock
    /// says, and one committed later can never sort behind a cursor a reader has passed (walking
    /// the newest-first log towards older events). One backward step on the primary key.
    pub(crate) async fn next_audit_id(&self, tx: &mut Tx, org: &OrgId) -> Result<AuditLogId> {
        let newest: Option<String> = sqlx::query_scalar(
            "SELECT id FROM audit_logs WHERE org_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(org.as_str())
        .fetch_optional(&mut **tx)
        .await
        .db()?;
        Ok(AuditLogId::generate_after(
            self.millis(),
            newest.map(AuditLogId::from_raw).as_ref(),
        ))
    }
}
