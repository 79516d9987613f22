//! What every operation stands on: the [`Backend`] helpers that run a call under the guard
//! (`guarded`), begin write transactions (`begin_for`, `begin_in`) and read the clock, and the
//! [`HealthStore`] the health endpoints ask; compiled into each backend module like the rest of
//! `ops/`.

use std::future::Future;

use async_trait::async_trait;
use orgadmin_core::actor::{Actor, OrgVersion, ReadAt};
use orgadmin_core::clock::OrgClock;
use orgadmin_core::error::KeyRejection;
use orgadmin_core::id::OrgId;
use orgadmin_core::store::{HealthStore, PoolUse, StorageOutage};
use orgadmin_core::{DomainError, Result};

use crate::faults::FaultPoint;
use crate::group_commit::GroupCommitStats;
use crate::read_cache::GenerationCache;
use crate::versions::OrgState;

use super::{keys, users, Backend, Conn, DbResult, Tx};

impl Backend {
    /// An answer remembered per organization version (`read_cache.rs`): from `cache` when it
    /// holds `key` at exactly the request's version (`at`), otherwise `read` in one consistent
    /// snapshot of the database that also reads the organization's version, filed under that
    /// version for the next request. `weight` is the number of objects the answer holds.
    pub(crate) async fn remembered<K, V>(
        &self,
        cache: &GenerationCache<K, V>,
        key: K,
        at: ReadAt<'_>,
        weight: impl FnOnce(&V) -> usize,
        read: impl AsyncFnOnce(&mut Conn) -> Result<V>,
    ) -> Result<V>
    where
        K: std::hash::Hash + Eq,
        V: Clone,
    {
        cache
            .get_or_load(key, at.version, || async {
                let mut tx = self.reader.begin_with(Backend::BEGIN_SNAPSHOT).await.db()?;
                let value = read(&mut tx).await?;
                let version = users::version_in(&mut tx, at.org_id).await?;
                tx.commit().await.db()?;
                let weight = weight(&value);
                Ok((value, version, weight))
            })
            .await
    }

    /// Run one store call under the guard (`guard.rs`: the deadline, the circuit breaker, the
    /// outage episodes): each operation's body runs in `self.guarded(async { … }).await`.
    pub(crate) async fn guarded<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        self.guard.run(call).await
    }

    /// [`guarded`](Self::guarded) with the longer deadline of a call whose work grows with a
    /// document the client sent (`guard::BULK_DEADLINE`): snapshots, taken and restored.
    pub(crate) async fn guarded_bulk<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        self.guard.run_bulk(call).await
    }

    /// The process clock: the wall every organization's clock is set against
    /// (`core::clock::OrgClock`). Timestamps of an organization come from its own clock
    /// (`WriteTx::now`, `Actor::now`), never from this directly.
    pub(crate) fn wall(&self) -> i64 {
        self.clock.now()
    }

    /// The process clock in milliseconds, for time-ordered IDs: they stay ordered within an
    /// organization however its own clock moves (set back, frozen).
    pub(crate) fn millis(&self) -> u64 {
        self.clock.now_millis()
    }

    /// Begin a write transaction for `actor`'s organization (`write_tx.rs`: the one place write transactions
    /// begin and end). Its first statement increments the organization's write generation,
    /// which cached authentications and reads are checked against (`auth_cache.rs`,
    /// `read_cache.rs`). On PostgreSQL that `UPDATE` is also the row lock that serializes the
    /// organization's writes across replicas until commit; on SQLite the single writer
    /// connection serializes the process's writes, and `BEGIN IMMEDIATE` takes the database's
    /// write lock against other processes.
    ///
    /// A write commits only if what it was authorized with still holds: when the generation
    /// moved since `actor` was authenticated (anything at all was written in the organization
    /// meanwhile), the key and its owner's permissions are checked again under the lock
    /// (`keys::reauthorize`).
    ///
    /// An organization deleted since (the operator API) leaves the key nothing to act in: the
    /// write is refused as for a revoked key, and the transaction is rolled back.
    pub(crate) async fn begin_for(&self, actor: &Actor) -> Result<Tx> {
        let (mut tx, generation) = self.begin_in(&actor.org_id).await?;
        let Some(generation) = generation else {
            tx.rollback().await?;
            return Err(DomainError::Unauthenticated(KeyRejection::Invalid));
        };
        if generation != actor.generation + 1 {
            keys::reauthorize(&mut tx, actor).await?;
        }
        Ok(tx)
    }

    /// [`begin_for`](Self::begin_for) without a key to re-authorize: for the server-side
    /// administration (`orgadmin org key`, the operator's changes), which has no actor. Returns
    /// the generation the transaction wrote (`None` for an organization that does not exist).
    /// The same statement reads the organization's clock, which gives the transaction its time
    /// (`tx.now()`).
    pub(crate) async fn begin_in(&self, org: &OrgId) -> Result<(Tx, Option<i64>)> {
        let (tx, begun) = self.begin_with_clock(org).await?;
        Ok((tx, begun.map(|(generation, _)| generation)))
    }

    /// [`begin_in`](Self::begin_in), also giving the organization's clock as the transaction
    /// read it (to change it).
    pub(crate) async fn begin_with_clock(
        &self,
        org: &OrgId,
    ) -> Result<(Tx, Option<(i64, OrgClock)>)> {
        let mut tx = self.begin_write().await?;
        tx.fault_point(FaultPoint::Statement).await?;
        // The backend's statement: PostgreSQL's also notifies other replicas at commit.
        let row: Option<(i64, i64, i64, Option<i64>)> = sqlx::query_as(Backend::BUMP_GENERATION)
            .bind(org.as_str())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        let begun = row.map(|(generation, key_use, offset_seconds, frozen_at)| {
            let clock = OrgClock {
                offset_seconds,
                frozen_at,
            };
            tx.set_now(clock.now(self.wall()));
            (generation, key_use, clock)
        });
        if let Some((generation, key_use, clock)) = begun {
            // What memory holds of the organization once this commits: all as this transaction
            // read it (the clock changed by `set_clock` if the transaction changes it), so in a
            // group (`group_commit.rs`) the version published last is the latest. Unknown in
            // memory: read from the database again after. (Memory fed by notifications takes
            // only "read it again": other replicas write too, `versions.rs`.)
            let after = self.versions.known(org).map(|_| OrgState {
                version: OrgVersion {
                    generation,
                    key_use,
                },
                clock,
            });
            tx.publish_at_commit(self.versions.publication(org, after));
        }
        Ok((tx, begun.map(|(generation, _, clock)| (generation, clock))))
    }

    /// Begin a write transaction on the writer: a turn in its group on a store that commits
    /// in groups (`group_commit.rs`), otherwise a transaction of its own; guarded and timed as
    /// every one is (`WriteTx`). Every write of a built store begins here.
    pub(crate) async fn begin_write(&self) -> Result<Tx> {
        match &self.group_commit {
            Some(writer) => Tx::begin_turn(writer).await,
            None => {
                Tx::begin(
                    &self.writer,
                    &self.guard.health,
                    &self.guard.faults,
                    &self.guard.metrics,
                )
                .await
            }
        }
    }

    /// What the writer's groups committed since the store opened (all zero on a store that does
    /// not commit in groups).
    pub fn group_commit_stats(&self) -> GroupCommitStats {
        self.group_commit
            .as_ref()
            .map(|writer| writer.stats())
            .unwrap_or_default()
    }

    /// The organization's version and clock as of now, for authentication: from memory when
    /// this process is the database's only writer and knows them (`versions.rs`: no statement
    /// at all), otherwise read with one statement, which memory is then offered. `None`: no
    /// such organization.
    pub(crate) async fn org_state(&self, org: &OrgId) -> Result<Option<OrgState>> {
        if let Some(state) = self.versions.known(org) {
            return Ok(Some(state));
        }
        let ticket = self.versions.ticket();
        let mut conn = self.reader.acquire().await.db()?;
        let state = users::state_in(&mut conn, org).await?;
        if let Some(state) = state {
            self.versions.offer(org, state, ticket);
        }
        Ok(state)
    }

    /// A write that only proves writes commit again (while an outage is in progress, for
    /// `/readyz`): it rewrites the one row of `storage_probe` with 64 KiB that do not compress,
    /// so it commits only where a write of a usual size has room.
    async fn probe_write(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE storage_probe SET probed_at = $1, pad = $2 WHERE id = 1")
            .bind(self.wall())
            .bind(probe_payload())
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await
    }
}

#[async_trait]
impl HealthStore for Backend {
    async fn ping(&self) -> Result<()> {
        self.guarded(async {
            sqlx::query("SELECT 1").execute(&self.reader).await.db()?;
            if self.guard.health.current().is_some() {
                self.probe_write().await?;
            }
            Ok(())
        })
        .await
    }

    async fn ping_reads(&self) -> Result<()> {
        self.guarded(async {
            sqlx::query("SELECT 1").execute(&self.reader).await.db()?;
            Ok(())
        })
        .await
    }

    fn current_outage(&self) -> Option<StorageOutage> {
        self.guard.health.current()
    }

    fn pool_use(&self) -> Vec<PoolUse> {
        self.pools()
            .into_iter()
            .map(|(pool, connections)| PoolUse {
                pool,
                size: connections.size(),
                idle: u32::try_from(connections.num_idle()).unwrap_or(u32::MAX),
                max: connections.options().get_max_connections(),
            })
            .collect()
    }
}

/// 64 KiB of bytes that do not compress (PostgreSQL would shrink zeros to nothing).
fn probe_payload() -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..64 * 1024)
        .map(|_| {
            // xorshift32: cheap bytes that no compressor shrinks.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}
