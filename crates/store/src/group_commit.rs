//! What is public of group commit, SQLite's way of making many durable writes cost one `fsync`
//! (the mechanism is `ops/group_commit.rs`): the bounds of a group, and counters of what the
//! writer did.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How large a group of writes may grow and how long it may stay open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitLimits {
    /// Most operations one `COMMIT` acknowledges.
    pub max_operations: usize,
    /// Longest a group stays open after its first operation began: the next operation to end
    /// after that commits it, or a timer does if none comes.
    pub max_wait: Duration,
    /// Commit as soon as no operation is waiting for the writer (the server's setting: a write
    /// alone waits for no one). Off, a group commits only when full or at `max_wait`, which
    /// only tests want: it makes the membership of a group certain.
    pub commit_when_idle: bool,
}

impl Default for GroupCommitLimits {
    fn default() -> Self {
        Self {
            max_operations: 64,
            max_wait: Duration::from_millis(2),
            commit_when_idle: true,
        }
    }
}

/// What the writer committed, counted since the store opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Groups whose `COMMIT` succeeded.
    pub groups: u64,
    /// Operations those groups acknowledged.
    pub operations: u64,
    /// Operations whose own savepoint was rolled back (a rule refused them, a statement
    /// failed) while the group went on.
    pub rolled_back: u64,
    /// Groups that failed as a whole (their `COMMIT` or the transaction failed): none of their
    /// operations was acknowledged.
    pub failed_groups: u64,
    /// The largest group committed.
    pub largest: u64,
    /// Operations waiting in the open group for its `COMMIT` right now.
    pub pending: u64,
}

/// The counters behind [`GroupCommitStats`].
#[derive(Debug, Default)]
pub(crate) struct GroupCounters {
    groups: AtomicU64,
    operations: AtomicU64,
    rolled_back: AtomicU64,
    failed_groups: AtomicU64,
    largest: AtomicU64,
    pending: AtomicU64,
}

impl GroupCounters {
    pub(crate) fn joined(&self) {
        self.pending.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rolled_back(&self) {
        self.rolled_back.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn committed(&self, members: usize) {
        let members = members as u64;
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.operations.fetch_add(members, Ordering::Relaxed);
        self.largest.fetch_max(members, Ordering::Relaxed);
        self.pending.fetch_sub(members, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self, members: usize) {
        self.failed_groups.fetch_add(1, Ordering::Relaxed);
        self.pending.fetch_sub(members as u64, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> GroupCommitStats {
        GroupCommitStats {
            groups: self.groups.load(Ordering::Relaxed),
            operations: self.operations.load(Ordering::Relaxed),
            rolled_back: self.rolled_back.load(Ordering::Relaxed),
            failed_groups: self.failed_groups.load(Ordering::Relaxed),
            largest: self.largest.load(Ordering::Relaxed),
            pending: self.pending.load(Ordering::Relaxed),
        }
    }
}
