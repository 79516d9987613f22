//! Time as the domain sees it: Unix seconds, read through a [`Clock`] so tests can move it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in seconds, the unit of every timestamp on the wire.
pub type Timestamp = i64;

/// Source of the current time. The store reads it for `created_at`, expiry checks and audit
/// events, so a test can advance it instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;

    /// Milliseconds since the epoch; used for time-ordered identifiers.
    fn now_millis(&self) -> u64 {
        u64::try_from(self.now()).unwrap_or(0) * 1000
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as Timestamp)
            .unwrap_or(0)
    }

    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The wall clock shifted by an adjustable offset: lets tests make invites and keys expire.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_seconds: AtomicI64,
}

impl OffsetClock {
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        SystemClock.now() + self.offset_seconds.load(Ordering::SeqCst)
    }

    fn now_millis(&self) -> u64 {
        let offset_ms = self.offset_seconds.load(Ordering::SeqCst) * 1000;
        (SystemClock.now_millis() as i64 + offset_ms).max(0) as u64
    }
}
