//! Each organization's clock (`core::clock::OrgClock`, columns of `organizations` from migration
//! 0010): read, and changed by the operator. Every other operation reads it in the statement that
//! reads the generation (authentication in `keys.rs`, `Backend::begin_in`), so this is the only
//! place it is written.

use orgadmin_core::clock::{ClockChange, ClockReading, OrgClock};
use orgadmin_core::id::OrgId;
use orgadmin_core::{DomainError, Result};

use super::{Backend, DbResult};

fn unknown(org: &OrgId) -> DomainError {
    DomainError::not_found("organization", org, "org_id")
}

impl Backend {
    pub(crate) async fn read_org_clock(&self, org: &OrgId) -> Result<ClockReading> {
        let row: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT clock_offset_seconds, clock_frozen_at FROM organizations WHERE id = $1",
        )
        .bind(org.as_str())
        .fetch_optional(&self.reader)
        .await
        .db()?;
        let (offset_seconds, frozen_at) = row.ok_or_else(|| unknown(org))?;
        Ok(OrgClock {
            offset_seconds,
            frozen_at,
        }
        .read(self.wall()))
    }

    /// In a write transaction of the organization: it increments the generation, so every
    /// server's remembered authentications (which carry the organization's time) and answers
    /// are read again at their next request, on every replica.
    pub(crate) async fn apply_org_clock(
        &self,
        org: &OrgId,
        change: ClockChange,
    ) -> Result<ClockReading> {
        let (mut tx, begun) = self.begin_with_clock(org).await?;
        let (_, clock) = begun.ok_or_else(|| unknown(org))?;
        let wall = self.wall();
        let changed = clock.apply(change, wall)?;
        sqlx::query(
            "UPDATE organizations SET clock_offset_seconds = $1, clock_frozen_at = $2 WHERE id = $3",
        )
        .bind(changed.offset_seconds)
        .bind(changed.frozen_at)
        .bind(org.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
        if let Some(publication) = tx.publication() {
            publication.set_clock(changed);
        }
        tx.commit().await?;
        Ok(changed.read(wall))
    }
}
