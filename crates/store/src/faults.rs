//! The fault hook at the store seam, for tests: make the next write statements or commits fail
//! with a chosen class of storage error, exactly where a real one would strike.
//!
//! A server is given a [`Faults`] handle through [`StoreOptions`](crate::StoreOptions); the
//! binary never arms one, and an unarmed hook costs one atomic load per write transaction.
//! An injected failure does what the database itself does on such an error — the transaction is
//! rolled back — and then reports the error, so the recovery path that runs is the real one.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Where in a write transaction a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// The transaction's first statement (the generation `UPDATE` that every write begins with).
    Statement,
    /// The `COMMIT`: the database rolls the transaction back and reports the error.
    Commit,
    /// The `COMMIT` reaches the database, but the answer is an error (a connection lost on the
    /// way back): the write is durable, and still must not be acknowledged.
    CommitAnswer,
}

/// The class of storage error a fault reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    /// The disk is full (SQLite `SQLITE_FULL`, PostgreSQL `53100`).
    DiskFull,
    /// An I/O error (SQLite `SQLITE_IOERR`, PostgreSQL `58030`).
    StorageIo,
    /// A lock held elsewhere (SQLite `SQLITE_BUSY`, PostgreSQL `55P03`).
    Busy,
    /// The connection broke.
    ConnectionLost,
}

/// Faults waiting to strike, in order.
#[derive(Debug, Default)]
pub struct Faults {
    armed: AtomicBool,
    queue: Mutex<VecDeque<(FaultPoint, FaultClass)>>,
}

impl Faults {
    /// Make the next write transaction that reaches `point` fail with `class`.
    pub fn fail_next(&self, point: FaultPoint, class: FaultClass) {
        self.fail_times(point, class, 1);
    }

    /// Make the next `times` transactions that reach `point` fail with `class`.
    pub fn fail_times(&self, point: FaultPoint, class: FaultClass, times: usize) {
        let mut queue = self.queue.lock().expect("fault queue");
        queue.extend(std::iter::repeat_n((point, class), times));
        self.armed.store(true, Ordering::Release);
    }

    /// Faults armed and not yet struck.
    pub fn pending(&self) -> usize {
        self.queue.lock().expect("fault queue").len()
    }

    /// The fault due at `point`, if the next one armed is for it: at a commit, either
    /// [`FaultPoint::Commit`] or [`FaultPoint::CommitAnswer`].
    pub(crate) fn take(&self, point: FaultPoint) -> Option<(FaultPoint, FaultClass)> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let mut queue = self.queue.lock().expect("fault queue");
        let due = *queue.front()?;
        let at_commit = matches!(due.0, FaultPoint::Commit | FaultPoint::CommitAnswer);
        if due.0 != point && !(point == FaultPoint::Commit && at_commit) {
            return None;
        }
        queue.pop_front();
        if queue.is_empty() {
            self.armed.store(false, Ordering::Release);
        }
        Some(due)
    }
}

impl FaultClass {
    /// The error a database reports for a fault of this class, given what it says for a full
    /// disk, an I/O error and a lock held elsewhere (`(code, message)` each; the backend's
    /// `injected_error`). A lost connection is an I/O error on every backend.
    pub(crate) fn error(self, said: [(&'static str, &'static str); 3]) -> sqlx::Error {
        let (code, message) = match self {
            FaultClass::DiskFull => said[0],
            FaultClass::StorageIo => said[1],
            FaultClass::Busy => said[2],
            FaultClass::ConnectionLost => {
                return sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection lost (injected)",
                ))
            }
        };
        sqlx::Error::Database(Box::new(InjectedError { code, message }))
    }
}

/// A database error made up by the fault hook, with the code the real database would report.
#[derive(Debug)]
pub(crate) struct InjectedError {
    pub code: &'static str,
    pub message: &'static str,
}

impl std::fmt::Display for InjectedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code: {}, injected)", self.message, self.code)
    }
}

impl std::error::Error for InjectedError {}

impl sqlx::error::DatabaseError for InjectedError {
    fn message(&self) -> &str {
        self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.code))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::Other
    }
}
