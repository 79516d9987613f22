//! Bringing stored email identities up to the current rule (`orgadmin_core::email`), once, when
//! migration 0005 asks for it: SQL cannot compute NFC, IDNA or Unicode case folding.

use std::collections::BTreeSet;

use orgadmin_core::email;
use orgadmin_core::Result;

use super::{Backend, DbResult, Pool, Tx};

/// Recompute `users.email_norm`, `invites.email_norm` and `audit_logs.actor_email_norm` where
/// the current rule gives another value than the stored one, if the marker row of migration 0005
/// is there; delete the marker in the same transaction. Only addresses with a non-ASCII character
/// can differ (for ASCII the rule is still lower case). Replicas starting together do it once:
/// the first to delete the marker holds its row until it commits, the others then find none.
///
/// Two members of one organization whose addresses were distinct under the old rule but are one
/// address now (`josé` typed precomposed and decomposed) cannot both have it: the older member
/// (the lower ID) gets it, the newer keeps the old form, and a warning names both, for an
/// operator to remove one of them.
pub(crate) async fn bring_up_to_date(pool: &Pool) -> Result<()> {
    // Before the store is built: a write transaction of its own, with no outage to report to
    // and no fault hook.
    let mut tx = Tx::begin(
        pool,
        &Default::default(),
        &Default::default(),
        &Default::default(),
    )
    .await?;
    let pending = sqlx::query("DELETE FROM email_identity_pending")
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
    if pending == 0 {
        return Ok(());
    }
    let mut changed_orgs = BTreeSet::new();

    let users: Vec<(String, String, String, String)> = sqlx::query_as(&format!(
        "SELECT org_id, id, email, email_norm FROM users WHERE {} ORDER BY org_id, id",
        non_ascii("email")
    ))
    .fetch_all(&mut *tx)
    .await
    .db()?;
    for (org, id, address, stored) in users {
        let current = email::identity(&address);
        if current == stored {
            continue;
        }
        let holder: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE org_id = $1 AND email_norm = $2")
                .bind(&org)
                .bind(&current)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if let Some(holder) = holder {
            tracing::warn!(
                org.id = %org,
                user.id = %id,
                other_user.id = %holder,
                "two members now have the same email address; {holder} keeps it, and {id} is found by ID only until one of them is removed"
            );
            continue;
        }
        sqlx::query("UPDATE users SET email_norm = $1 WHERE org_id = $2 AND id = $3")
            .bind(&current)
            .bind(&org)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .db()?;
        changed_orgs.insert(org);
    }

    for (table, column) in [
        ("invites", "email_norm"),
        ("audit_logs", "actor_email_norm"),
    ] {
        let address = if table == "invites" {
            "email"
        } else {
            "actor_email"
        };
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&format!(
            "SELECT org_id, id, {address}, {column} FROM {table} WHERE {}",
            non_ascii(address)
        ))
        .fetch_all(&mut *tx)
        .await
        .db()?;
        for (org, id, address, stored) in rows {
            let current = email::identity(&address);
            if stored.as_deref() == Some(current.as_str()) {
                continue;
            }
            sqlx::query(&format!(
                "UPDATE {table} SET {column} = $1 WHERE org_id = $2 AND id = $3"
            ))
            .bind(&current)
            .bind(&org)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .db()?;
            changed_orgs.insert(org);
        }
    }

    // What another process remembers of these organizations was read before the change.
    for org in &changed_orgs {
        sqlx::query(Backend::BUMP_GENERATION)
            .bind(org)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    tx.commit().await?;
    if !changed_orgs.is_empty() {
        tracing::info!(
            orgs = changed_orgs.len(),
            "stored email addresses brought up to the current identity rule"
        );
    }
    Ok(())
}

/// SQL that holds for a non-ASCII value of `column` (fewer characters than UTF-8 bytes), in the
/// dialect both databases accept.
fn non_ascii(column: &str) -> String {
    format!("length({column}) <> octet_length({column})")
}
