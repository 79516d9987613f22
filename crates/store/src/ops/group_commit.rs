//! Group commit: many durable writes acknowledged by one `COMMIT`, and so by one `fsync`. The
//! SQLite writer uses it (`GroupCommitLimits` in the crate's `group_commit.rs` bounds a group);
//! compiled into both backends like the rest of `ops/`, PostgreSQL's transactions do not use
//! it, since its writers commit concurrently.
//!
//! The writer connection serves one operation at a time: a *turn*, held as the lock of the
//! writer's [`Slot`]. The first operation of a group begins the group's transaction
//! (`BEGIN IMMEDIATE`); each operation runs in a `SAVEPOINT` of its own inside it, so it sees
//! the effects of the operations before it, and the rules it checks (the last owner, a duplicate)
//! hold at the group's commit, since nothing else writes in between.
//!
//! - An operation that fails (a rule refuses it, a statement fails, its request is dropped)
//!   rolls back to its savepoint: its effects and its audit event leave the group, it answers its
//!   own error, and the group goes on.
//! - An operation that succeeds releases its savepoint into the group and waits for the group's
//!   `COMMIT`: it is acknowledged only once that succeeded.
//! - The group commits when the operation ending its turn finds no other waiting for the writer
//!   (`commit_when_idle`), when it holds `max_operations`, or once it has been open for
//!   `max_wait` (the next turn to end commits it, or the group's timer if none comes).
//! - When the group's transaction itself fails — its `COMMIT`, or a savepoint that cannot be
//!   rolled back to because SQLite rolled the whole transaction back (it may, on a full disk or an
//!   I/O error) — every operation waiting in it gets that error: none is acknowledged, and the
//!   connection is settled (`write_tx::settle`) before the next group begins.
//!
//! The work that ends a group (its `COMMIT`, its `ROLLBACK`) runs in a task of its own, so a
//! request dropped midway cannot leave the others waiting for an answer that never comes. What
//! memory learns of the organizations' versions (`versions.rs`) is published at the commit in
//! the order the operations ran, so the last one's version is the one kept.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use orgadmin_core::{DomainError, OutageKind, Result};
use sqlx::pool::PoolConnection;
use sqlx::Executor;
use tokio::sync::{watch, Mutex, OwnedMutexGuard};

use super::write_tx::settle;
use super::{db_error, Backend, Conn, Db, Pool};
use crate::faults::{FaultPoint, Faults};
use crate::group_commit::{GroupCommitLimits, GroupCommitStats, GroupCounters};
use crate::health::Health;
use crate::versions::Publication;
use orgadmin_metrics::StoreMetrics;

/// The writer of a store that commits in groups.
pub(crate) struct GroupCommit {
    pool: Pool,
    slot: Arc<Mutex<Slot>>,
    /// Operations waiting for their turn.
    queued: AtomicUsize,
    limits: GroupCommitLimits,
    counters: GroupCounters,
    pub(crate) health: Arc<Health>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) metrics: Arc<StoreMetrics>,
    next_group: AtomicU64,
}

/// The writer's state, held by whoever has the turn: the group open on it, if any.
#[derive(Default)]
pub(crate) struct Slot {
    open: Option<OpenGroup>,
}

/// A group's transaction and the operations waiting for its `COMMIT`.
struct OpenGroup {
    id: u64,
    /// The writer pool's connection, taken for as long as the group is open.
    conn: PoolConnection<Db>,
    opened: Instant,
    /// Operations released into the group (their savepoints are part of its transaction).
    members: usize,
    /// What memory learns at the commit, in the order the operations ran.
    publications: Vec<Publication>,
    /// The group's outcome, for its members.
    outcome: watch::Sender<Option<Result<()>>>,
}

impl GroupCommit {
    #[allow(
        dead_code,
        reason = "PostgreSQL's copy of ops/ never builds one: its writers commit concurrently"
    )]
    pub(crate) fn new(
        pool: Pool,
        limits: GroupCommitLimits,
        health: Arc<Health>,
        faults: Arc<Faults>,
        metrics: Arc<StoreMetrics>,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            slot: Arc::default(),
            queued: AtomicUsize::new(0),
            limits,
            counters: GroupCounters::default(),
            health,
            faults,
            metrics,
            next_group: AtomicU64::new(0),
        })
    }

    pub(crate) fn stats(&self) -> GroupCommitStats {
        self.counters.snapshot()
    }

    /// Wait for the writer, and open a group on it if none is: the turn of one operation. The
    /// operation's savepoint is opened by the caller (`WriteTx::begin_turn`), which holds the
    /// turn before any statement is sent, so a request dropped midway is cleaned up by
    /// [`Turn`]'s drop.
    pub(crate) async fn turn(self: &Arc<Self>) -> Result<Turn> {
        let slot = {
            let _queued = Queued::enter(&self.queued);
            self.slot.clone().lock_owned().await
        };
        let mut turn = Turn {
            writer: self.clone(),
            slot: Some(slot),
        };
        if turn.slot().open.is_none() {
            let conn = self.pool.acquire().await.map_err(db_error)?;
            let id = self.next_group.fetch_add(1, Ordering::Relaxed);
            let (outcome, _) = watch::channel(None);
            // Held by the slot before `BEGIN` is sent: should the request be dropped while it
            // is in flight, the turn's drop settles the connection.
            turn.slot().open = Some(OpenGroup {
                id,
                conn,
                opened: Instant::now(),
                members: 0,
                publications: Vec::new(),
                outcome,
            });
            turn.conn()
                .execute(Backend::BEGIN)
                .await
                .map_err(db_error)?;
            self.start_timer(id);
        }
        Ok(turn)
    }

    /// Commit the group `id` once it has been open for `max_wait`, if no turn did by then (the
    /// operation after the last one may never come: a request waiting for its turn was dropped).
    fn start_timer(self: &Arc<Self>, id: u64) {
        let writer = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(writer.limits.max_wait).await;
            let slot = writer.slot.clone().lock_owned().await;
            if slot.open.as_ref().is_some_and(|group| group.id == id) {
                writer.end_group(slot);
            }
        });
    }

    /// After a turn: go on with the group, or end it (commit it, or close it when nothing in it
    /// is waiting), in a task of its own.
    fn after_turn(self: &Arc<Self>, slot: OwnedMutexGuard<Slot>) {
        let Some(group) = slot.open.as_ref() else {
            return;
        };
        // Otherwise the operation waiting for the writer goes on with the group.
        let idle = self.queued.load(Ordering::Acquire) == 0;
        if group.members >= self.limits.max_operations
            || group.opened.elapsed() >= self.limits.max_wait
            || (idle && (self.limits.commit_when_idle || group.members == 0))
        {
            self.end_group(slot);
        }
    }

    /// End the open group: `COMMIT` it, or, when no operation is waiting in it, roll it back.
    fn end_group(self: &Arc<Self>, mut slot: OwnedMutexGuard<Slot>) {
        let Some(group) = slot.open.take() else {
            return;
        };
        let writer = self.clone();
        tokio::spawn(async move {
            if group.members == 0 {
                settle(group.conn).await;
            } else {
                writer.commit(group).await;
            }
            // The connection is back in the pool (or closed) before the next turn begins.
            drop(slot);
        });
    }

    /// `COMMIT` the group and tell its members.
    async fn commit(&self, group: OpenGroup) {
        let OpenGroup {
            mut conn,
            members,
            mut publications,
            outcome,
            ..
        } = group;
        let committed = async {
            if let Some((due, class)) = self.faults.take(FaultPoint::Commit) {
                // An injected failure does what the database does: at `CommitAnswer` the group
                // commits but the answer is lost, at `Commit` it is rolled back.
                let end = if due == FaultPoint::CommitAnswer {
                    publications.iter_mut().for_each(Publication::arm);
                    "COMMIT"
                } else {
                    "ROLLBACK"
                };
                let _ = conn.execute(end).await;
                return Err(db_error(Backend::injected_error(class)));
            }
            // Memory stops trusting the old versions before `COMMIT` is sent, and learns the
            // new ones only from its success (`versions.rs`).
            publications.iter_mut().for_each(Publication::arm);
            conn.execute("COMMIT").await.map(|_| ()).map_err(db_error)
        }
        .await;
        match committed {
            Ok(()) => {
                publications.into_iter().for_each(Publication::committed);
                drop(conn);
                self.health.write_committed();
                self.counters.committed(members);
                self.metrics.group_commit_size(members);
                outcome.send_replace(Some(Ok(())));
            }
            Err(e) => {
                // Armed publications dropped: those versions are unknown until read again.
                drop(publications);
                settle(conn).await;
                self.counters.failed(members);
                outcome.send_replace(Some(Err(e)));
            }
        }
    }

    /// The group's transaction is in a state no operation can rely on (a savepoint gone, a
    /// statement that failed midway through the group's bookkeeping): roll it back, settle the
    /// connection, and fail every operation waiting in it with `error`.
    fn abandon(self: &Arc<Self>, mut slot: OwnedMutexGuard<Slot>, error: DomainError) {
        let Some(group) = slot.open.take() else {
            return;
        };
        let writer = self.clone();
        tokio::spawn(async move {
            let OpenGroup {
                conn,
                members,
                publications,
                outcome,
                ..
            } = group;
            // Never armed: memory keeps the versions it had, as the database does.
            drop(publications);
            settle(conn).await;
            writer.counters.failed(members);
            outcome.send_replace(Some(Err(error)));
            drop(slot);
        });
    }
}

/// One operation's turn at the writer. Dropped without [`release`](Self::release) or
/// [`roll_back`](Self::roll_back) having finished (an error, a request dropped midway), it rolls
/// the operation back to its savepoint in a task of its own.
pub(crate) struct Turn {
    writer: Arc<GroupCommit>,
    slot: Option<OwnedMutexGuard<Slot>>,
}

impl Turn {
    fn slot(&mut self) -> &mut Slot {
        self.slot
            .as_mut()
            .expect("a turn holds the slot until it ends")
    }

    fn group(&self) -> &OpenGroup {
        self.slot
            .as_ref()
            .and_then(|slot| slot.open.as_ref())
            .expect("a turn runs inside an open group")
    }

    pub(crate) fn conn_ref(&self) -> &Conn {
        &self.group().conn
    }

    pub(crate) fn conn(&mut self) -> &mut Conn {
        &mut self
            .slot()
            .open
            .as_mut()
            .expect("a turn runs inside an open group")
            .conn
    }

    /// The operation succeeded: release its savepoint into the group, end the turn, and wait
    /// for the group's `COMMIT`. `Ok` only once the group committed.
    pub(crate) async fn release(mut self, publication: Option<Publication>) -> Result<()> {
        if let Err(e) = self.conn().execute("RELEASE SAVEPOINT operation").await {
            let slot = self
                .slot
                .take()
                .expect("a turn holds the slot until it ends");
            self.writer.abandon(slot, group_lost(&e));
            return Err(db_error(e));
        }
        let mut slot = self
            .slot
            .take()
            .expect("a turn holds the slot until it ends");
        let group = slot
            .open
            .as_mut()
            .expect("a turn runs inside an open group");
        group.members += 1;
        group.publications.extend(publication);
        let mut outcome = group.outcome.subscribe();
        self.writer.counters.joined();
        let released = Instant::now();
        self.writer.after_turn(slot);
        let answered = outcome.wait_for(Option::is_some).await;
        self.writer
            .metrics
            .group_commit_wait_seconds(released.elapsed());
        match answered {
            Ok(outcome) => outcome.clone().expect("waited for an outcome"),
            Err(_) => Err(DomainError::internal(
                "the group's commit ended without an answer",
            )),
        }
    }

    /// The operation failed: roll back to its savepoint (its effects leave the group), and end
    /// the turn.
    pub(crate) async fn roll_back(mut self) {
        let slot = self
            .slot
            .take()
            .expect("a turn holds the slot until it ends");
        roll_back_turn(self.writer.clone(), slot).await;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        let writer = self.writer.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(roll_back_turn(writer, slot));
            }
            // No runtime to roll back with: close the connection, which rolls the group's
            // transaction back; its members are told it failed.
            Err(_) => drop(slot),
        }
    }
}

/// Undo one operation inside the group and end its turn; a savepoint that cannot be rolled back
/// to means the group's transaction is gone, and the group with it.
async fn roll_back_turn(writer: Arc<GroupCommit>, mut slot: OwnedMutexGuard<Slot>) {
    let Some(group) = slot.open.as_mut() else {
        return;
    };
    let undone = async {
        group
            .conn
            .execute("ROLLBACK TO SAVEPOINT operation")
            .await?;
        group.conn.execute("RELEASE SAVEPOINT operation").await
    }
    .await;
    match undone {
        Ok(_) => {
            writer.counters.rolled_back();
            writer.after_turn(slot);
        }
        // The database rolled the whole transaction back (SQLite may, on a full disk or an I/O
        // error): the operations waiting in the group lost their writes to another's storage
        // failure, which is theirs too.
        Err(e) => writer.abandon(slot, group_lost(&e)),
    }
}

/// What the operations waiting in a group are told when its transaction is lost: the database
/// rolled it back (SQLite may, on a full disk or an I/O error) because of another operation's
/// storage failure, which is theirs too.
fn group_lost(cause: &sqlx::Error) -> DomainError {
    DomainError::unavailable(
        OutageKind::StorageFailure,
        format_args!("the transaction of its group was rolled back: {cause}"),
    )
}

/// Counts an operation as waiting for its turn for as long as it is held.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn enter(queued: &'a AtomicUsize) -> Self {
        queued.fetch_add(1, Ordering::AcqRel);
        Self(queued)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
