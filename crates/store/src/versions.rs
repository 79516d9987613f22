//! Where an organization's version (write generation, key-use epoch) and clock come from when a
//! request is authenticated: the one seam between "ask the database" and "ask memory".
//!
//! - [`VersionSource::Database`] (PostgreSQL): every request reads them with one statement, since
//!   replicas write the same database and only it knows what they did.
//! - [`VersionSource::Memory`] (SQLite): the process holds the database's lease (`lease.rs`), or
//!   the database is `sqlite::memory:`, which no other process can open, so every change to an
//!   organization's version is a commit of this process. Each write transaction publishes the
//!   version it wrote when its `COMMIT` succeeded ([`Publication`], carried by `WriteTx`), and
//!   authentication reads memory: a request answered from the caches issues no statement.
//!
//! Memory is never older than the database. An organization's record is marked *committing*
//! before `COMMIT` is sent and holds the new version only once `COMMIT` succeeded; while it is
//! marked, and whenever it is not known (a new organization, one deleted, a `COMMIT` whose
//! outcome is unknown), the version is read from the database as on PostgreSQL, and that read
//! is offered back to memory. An offer is taken only if no commit was marked or settled since
//! the read began (`Ticket`), so a read that raced a commit never files an older version over
//! it. A rolled-back transaction publishes nothing: memory keeps the old version, as the
//! database does.
//!
//! - [`VersionSource::Notified`] (PostgreSQL with `--consistency bounded`): memory as above, but
//!   other replicas write too, so what memory knows of an organization holds only until a
//!   notification says it changed. Every write transaction on PostgreSQL sends one
//!   (`pg_notify` in the statement that bumps the generation or the key-use epoch, delivered
//!   only if it commits); the store's listener (`postgres/listener.rs`) makes memory forget the
//!   organization ([`Notified::changed`]), and its next request reads the database again. Own
//!   commits publish no state, only that it must be read again (the key-use epoch may have
//!   moved on another replica meanwhile). Memory is trusted only while the listener is
//!   listening: when its connection is lost, memory forgets everything and every read goes to
//!   the database until `LISTEN` is in place again ([`Notified::lost`],
//!   [`Notified::listening`]); a read is offered back only if its ticket was taken while
//!   listening and nothing changed since, so a state read before a notification or before the
//!   `LISTEN` never stays. How stale an answer may be is how long a notification takes from the
//!   writer's commit to this process (BENCHMARKS.md has the figures).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use orgadmin_core::actor::OrgVersion;
use orgadmin_core::clock::OrgClock;
use orgadmin_core::id::OrgId;

/// What authentication reads of an organization: its version and its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrgState {
    pub(crate) version: OrgVersion,
    pub(crate) clock: OrgClock,
}

/// Where a backend's organization versions come from (see the module's header).
pub(crate) enum VersionSource {
    Database,
    Memory(Arc<Versions>),
    Notified(Arc<Notified>),
}

/// Taken before a version is read from the database, for [`VersionSource::offer`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(Option<u64>);

impl VersionSource {
    /// A store whose process is the only writer of its database.
    pub(crate) fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// A store whose memory is kept current by notifications (`--consistency bounded`); it
    /// trusts nothing until [`Notified::listening`] is called.
    pub(crate) fn notified(notified: Arc<Notified>) -> Self {
        Self::Notified(notified)
    }

    /// Whether a commit's publication carries the state it wrote (`Memory`); `Notified` only
    /// says "read it again", and `Database` publishes nothing.
    pub(crate) fn keeps_published_states(&self) -> bool {
        matches!(self, Self::Memory(_))
    }

    /// The organization's state, when memory knows it for certain.
    pub(crate) fn known(&self, org: &OrgId) -> Option<OrgState> {
        match self {
            Self::Database => None,
            Self::Memory(versions) => match versions.lock().slots.get(org) {
                Some(Slot::Known(state)) => Some(*state),
                Some(Slot::Committing) | None => None,
            },
            Self::Notified(notified) => {
                let inner = notified.versions.lock();
                match inner.slots.get(org) {
                    Some(Slot::Known(state)) if notified.is_listening() => Some(*state),
                    _ => None,
                }
            }
        }
    }

    /// Take before reading the state from the database.
    pub(crate) fn ticket(&self) -> Ticket {
        match self {
            Self::Database => Ticket(None),
            Self::Memory(versions) => Ticket(Some(versions.lock().changes)),
            Self::Notified(notified) => {
                let inner = notified.versions.lock();
                // Read while not listening, a state may miss a commit nobody told us of.
                Ticket(notified.is_listening().then_some(inner.changes))
            }
        }
    }

    /// `state`, read from the database after `ticket` was taken: kept if memory knows nothing
    /// of the organization and no commit was marked or settled since.
    pub(crate) fn offer(&self, org: &OrgId, state: OrgState, ticket: Ticket) {
        let Ticket(Some(taken)) = ticket else {
            return;
        };
        let versions = match self {
            Self::Database => return,
            Self::Memory(versions) => versions,
            // A ticket is taken only while listening, and every change of that bumps `changes`.
            Self::Notified(notified) => &notified.versions,
        };
        let mut inner = versions.lock();
        if inner.changes == taken && !inner.slots.contains_key(org) {
            inner.slots.insert(org.clone(), Slot::Known(state));
        }
    }

    /// What a write transaction of `org` publishes when it commits: `after`, the state it
    /// wrote, or `None` for "read it from the database again". `None` on PostgreSQL.
    pub(crate) fn publication(&self, org: &OrgId, after: Option<OrgState>) -> Option<Publication> {
        match self {
            Self::Database => None,
            Self::Memory(versions) => Some(Publication {
                versions: versions.clone(),
                org: org.clone(),
                after,
                armed: false,
            }),
            // Another replica may have moved the key-use epoch since this process last read it,
            // so an own commit says only "read it again".
            Self::Notified(notified) => Some(Publication {
                versions: notified.versions.clone(),
                org: org.clone(),
                after: None,
                armed: false,
            }),
        }
    }
}

/// Memory kept current by notifications (PostgreSQL, `--consistency bounded`): the states
/// known, and whether the listener is listening. `listening` changes only under the lock of
/// `versions`, together with its count of changes, so a [`Ticket`] taken while listening is
/// honoured only if the listener has not lost its connection since.
pub(crate) struct Notified {
    versions: Arc<Versions>,
    listening: AtomicBool,
}

impl Default for Notified {
    fn default() -> Self {
        Self {
            versions: Arc::default(),
            listening: AtomicBool::new(false),
        }
    }
}

impl Notified {
    fn is_listening(&self) -> bool {
        // Read and written under the lock of `versions`; the lock orders them.
        self.listening.load(Ordering::Relaxed)
    }

    /// `LISTEN` is in place: a commit from now on is notified, so states read from now on may
    /// be kept (one read before is not, its ticket is older).
    pub(crate) fn listening(&self) {
        let mut inner = self.versions.lock();
        inner.changes += 1;
        inner.slots.clear();
        self.listening.store(true, Ordering::Relaxed);
    }

    /// The listener's connection is lost: a commit now would go unnoticed, so memory forgets
    /// everything and every read goes to the database until [`listening`](Self::listening).
    pub(crate) fn lost(&self) {
        let mut inner = self.versions.lock();
        self.listening.store(false, Ordering::Relaxed);
        inner.changes += 1;
        inner.slots.clear();
    }

    /// A commit of `org` was notified: its next request reads the database.
    pub(crate) fn changed(&self, org: &OrgId) {
        let mut inner = self.versions.lock();
        inner.changes += 1;
        inner.slots.remove(org);
    }
}

/// The organizations' states this process knows, and a count of the commits marked and settled
/// (for [`Ticket`]s).
#[derive(Default)]
pub(crate) struct Versions {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    slots: HashMap<OrgId, Slot>,
    changes: u64,
}

enum Slot {
    Known(OrgState),
    /// A `COMMIT` is in flight: the database may hold the old state or the new one.
    Committing,
}

impl Versions {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the map consistent; a panicking holder breaks nothing half-way.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn settle(&self, org: &OrgId, after: Option<OrgState>) {
        let mut inner = self.lock();
        inner.changes += 1;
        match after {
            Some(state) => inner.slots.insert(org.clone(), Slot::Known(state)),
            None => inner.slots.remove(org),
        };
    }
}

/// The state one write transaction publishes at its commit (held by `WriteTx`).
pub(crate) struct Publication {
    versions: Arc<Versions>,
    org: OrgId,
    after: Option<OrgState>,
    /// Marked committing: dropped before [`committed`](Self::committed), the outcome is unknown.
    armed: bool,
}

impl Publication {
    /// The transaction changed the organization's clock to `clock`.
    pub(crate) fn set_clock(&mut self, clock: OrgClock) {
        if let Some(state) = &mut self.after {
            state.clock = clock;
        }
    }

    /// The transaction changes more than memory follows (it deletes the organization, or resets
    /// its clock): read the state from the database again after it.
    pub(crate) fn forget(&mut self) {
        self.after = None;
    }

    /// Just before `COMMIT` is sent: the organization's state is unknown until it is answered.
    pub(crate) fn arm(&mut self) {
        let mut inner = self.versions.lock();
        inner.changes += 1;
        inner.slots.insert(self.org.clone(), Slot::Committing);
        self.armed = true;
    }

    /// `COMMIT` succeeded: the new state is the organization's.
    pub(crate) fn committed(mut self) {
        self.armed = false;
        self.versions.settle(&self.org, self.after);
    }
}

impl Drop for Publication {
    fn drop(&mut self) {
        if self.armed {
            // `COMMIT` failed or was abandoned: it may have committed or not.
            self.versions.settle(&self.org, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(generation: i64) -> OrgState {
        OrgState {
            version: OrgVersion {
                generation,
                key_use: 0,
            },
            clock: OrgClock::default(),
        }
    }

    fn org() -> OrgId {
        OrgId::from_raw("org-1".to_owned())
    }

    #[test]
    fn published_only_when_the_commit_succeeded() {
        let source = VersionSource::memory();
        source.offer(&org(), state(1), source.ticket());
        assert_eq!(source.known(&org()), Some(state(1)));

        let mut publication = source.publication(&org(), Some(state(2))).unwrap();
        assert_eq!(source.known(&org()), Some(state(1)), "not before COMMIT");
        publication.arm();
        assert_eq!(
            source.known(&org()),
            None,
            "unknown while COMMIT is in flight"
        );
        publication.committed();
        assert_eq!(source.known(&org()), Some(state(2)));

        // Rolled back before COMMIT: nothing changes.
        drop(source.publication(&org(), Some(state(3))).unwrap());
        assert_eq!(source.known(&org()), Some(state(2)));

        // COMMIT failed: unknown, read from the database again.
        let mut failed = source.publication(&org(), Some(state(3))).unwrap();
        failed.arm();
        drop(failed);
        assert_eq!(source.known(&org()), None);
    }

    #[test]
    fn a_read_that_raced_a_commit_is_not_kept() {
        let source = VersionSource::memory();
        let ticket = source.ticket();
        // A commit is marked and fails while the read is under way.
        let mut publication = source.publication(&org(), Some(state(2))).unwrap();
        publication.arm();
        drop(publication);
        source.offer(&org(), state(1), ticket);
        assert_eq!(
            source.known(&org()),
            None,
            "the read may predate the commit"
        );
        source.offer(&org(), state(2), source.ticket());
        assert_eq!(source.known(&org()), Some(state(2)));
        // An offer never replaces what memory knows.
        source.offer(&org(), state(1), source.ticket());
        assert_eq!(source.known(&org()), Some(state(2)));
    }

    #[test]
    fn the_database_source_knows_nothing() {
        let source = VersionSource::Database;
        source.offer(&org(), state(1), source.ticket());
        assert_eq!(source.known(&org()), None);
        assert!(source.publication(&org(), None).is_none());
    }

    /// `state(1)`, read with `ticket` before a change, is not kept; `state(2)`, read after, is.
    fn a_raced_read_is_not_kept_a_later_one_is(source: &VersionSource, ticket: Ticket) {
        source.offer(&org(), state(1), ticket);
        assert_eq!(
            source.known(&org()),
            None,
            "the read may predate the commit"
        );
        source.offer(&org(), state(2), source.ticket());
        assert_eq!(source.known(&org()), Some(state(2)));
    }

    fn notified() -> (VersionSource, Arc<Notified>) {
        let notified = Arc::new(Notified::default());
        (VersionSource::notified(notified.clone()), notified)
    }

    /// [`notified`], listening, with the organization known at `state(1)`.
    fn listening_knowing_org() -> (VersionSource, Arc<Notified>) {
        let (source, notified) = notified();
        notified.listening();
        source.offer(&org(), state(1), source.ticket());
        assert_eq!(source.known(&org()), Some(state(1)));
        (source, notified)
    }

    #[test]
    fn notified_memory_is_trusted_only_while_listening() {
        let (source, notified) = notified();
        source.offer(&org(), state(1), source.ticket());
        assert_eq!(source.known(&org()), None, "nothing before LISTEN");

        notified.listening();
        source.offer(&org(), state(1), source.ticket());
        assert_eq!(source.known(&org()), Some(state(1)));

        // A read that began while listening and ended after the connection was lost.
        let ticket = source.ticket();
        notified.lost();
        assert_eq!(
            source.known(&org()),
            None,
            "forgotten when the connection is lost"
        );
        source.offer(&org(), state(2), ticket);
        source.offer(&org(), state(2), source.ticket());
        assert_eq!(source.known(&org()), None, "strict until LISTEN is back");

        // A read that began before LISTEN was back is not kept either.
        let before = source.ticket();
        notified.listening();
        source.offer(&org(), state(2), before);
        assert_eq!(source.known(&org()), None);
        source.offer(&org(), state(2), source.ticket());
        assert_eq!(source.known(&org()), Some(state(2)));
    }

    #[test]
    fn a_notification_forgets_the_organization_and_the_reads_it_raced() {
        let (source, notified) = listening_knowing_org();
        let other = OrgId::from_raw("org-2".to_owned());
        source.offer(&other, state(7), source.ticket());

        // A read of the old state, under way when another replica's commit is notified.
        let ticket = source.ticket();
        notified.changed(&org());
        assert_eq!(source.known(&org()), None);
        assert_eq!(
            source.known(&other),
            Some(state(7)),
            "other organizations stay"
        );
        a_raced_read_is_not_kept_a_later_one_is(&source, ticket);
    }

    #[test]
    fn an_own_commit_under_notifications_publishes_only_that_it_changed() {
        let (source, _) = listening_knowing_org();
        let mut publication = source.publication(&org(), Some(state(2))).unwrap();
        publication.arm();
        assert_eq!(source.known(&org()), None);
        publication.committed();
        assert_eq!(source.known(&org()), None, "read from the database again");
    }
}
