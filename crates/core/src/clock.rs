//! Time as the domain sees it: Unix seconds, read through a [`Clock`] so tests can move it, and
//! each organization's own clock on top of it ([`OrgClock`]).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{DomainError, Result};

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

/// The latest time an organization's clock may show: 9999-12-31T23:59:59Z, so that every
/// timestamp computed from it (an invite's expiry, a key's) stays a date every client can print.
pub const LATEST_TIMESTAMP: Timestamp = 253_402_300_799;

/// An organization's clock: the process clock ([`Clock`], the "wall") shifted by an offset, or
/// stopped at a moment. Every timestamp the store writes or compares for the organization
/// (`created_at`, `added_at`, expiry, `last_used_at`, an audit event's `effective_at`) is read
/// from it, so a test can move one organization through time while the others stay where they
/// are. IDs keep the process clock, so they stay ordered however this one moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgClock {
    /// Seconds added to the wall while the clock runs (negative once it was set back).
    pub offset_seconds: i64,
    /// While frozen, the time it shows.
    pub frozen_at: Option<Timestamp>,
}

/// One change of an organization's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockChange {
    /// Move it forward by this many seconds (frozen or not); never backwards.
    Advance(i64),
    /// Show this time from now on (earlier than it shows is allowed: setting the clock back).
    SetNow(Timestamp),
    /// Stop at the time it shows (`true`), or run on from the time it stopped at (`false`).
    Frozen(bool),
}

/// What an organization's clock shows at a moment of the wall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    pub now: Timestamp,
    pub frozen: bool,
    /// How far it is from the wall: `now` minus the wall's time.
    pub offset_seconds: i64,
}

impl OrgClock {
    /// The organization's time when the wall shows `wall`.
    pub fn now(&self, wall: Timestamp) -> Timestamp {
        self.frozen_at
            .unwrap_or_else(|| wall.saturating_add(self.offset_seconds))
    }

    pub fn read(&self, wall: Timestamp) -> ClockReading {
        let now = self.now(wall);
        ClockReading {
            now,
            frozen: self.frozen_at.is_some(),
            offset_seconds: now.saturating_sub(wall),
        }
    }

    /// This clock after `change`, made when the wall shows `wall`.
    pub fn apply(self, change: ClockChange, wall: Timestamp) -> Result<Self> {
        match change {
            ClockChange::Advance(seconds) => self.advance(seconds, wall),
            ClockChange::SetNow(t) => self.set_now(t, wall),
            ClockChange::Frozen(true) => Ok(self.freeze(wall)),
            ClockChange::Frozen(false) => Ok(self.unfreeze(wall)),
        }
    }

    /// Forward by `seconds` (0 or more), frozen or running.
    pub fn advance(self, seconds: i64, wall: Timestamp) -> Result<Self> {
        if seconds < 0 {
            return Err(DomainError::invalid(
                "advance_seconds",
                format!(
                    "advance_seconds must be 0 or more, not {seconds}; to set the clock back, set \
                     \"now\" to the earlier time."
                ),
            ));
        }
        let target = self
            .now(wall)
            .checked_add(seconds)
            .filter(|t| *t <= LATEST_TIMESTAMP);
        let Some(target) = target else {
            return Err(DomainError::invalid(
                "advance_seconds",
                format!(
                    "Advancing by {seconds} seconds would take the clock past \
                     {LATEST_TIMESTAMP} (9999-12-31T23:59:59Z)."
                ),
            ));
        };
        Ok(self.shown_at(target, wall))
    }

    /// Show `t` from now on; earlier than the clock shows is allowed (setting it back).
    pub fn set_now(self, t: Timestamp, wall: Timestamp) -> Result<Self> {
        if !(0..=LATEST_TIMESTAMP).contains(&t) {
            return Err(DomainError::invalid(
                "now",
                format!(
                    "now must be a Unix time in seconds from 0 to {LATEST_TIMESTAMP} \
                     (9999-12-31T23:59:59Z), not {t}."
                ),
            ));
        }
        Ok(self.shown_at(t, wall))
    }

    /// Stop at the time it shows; a frozen clock stays where it is.
    pub fn freeze(self, wall: Timestamp) -> Self {
        Self {
            offset_seconds: self.offset_seconds,
            frozen_at: Some(self.now(wall)),
        }
    }

    /// Run on from the time it shows (where it was frozen); a running clock stays as it is.
    pub fn unfreeze(self, wall: Timestamp) -> Self {
        Self {
            offset_seconds: self.now(wall).saturating_sub(wall),
            frozen_at: None,
        }
    }

    /// The clock showing `t` at `wall`, frozen or running as it was.
    fn shown_at(self, t: Timestamp, wall: Timestamp) -> Self {
        match self.frozen_at {
            Some(_) => Self {
                offset_seconds: self.offset_seconds,
                frozen_at: Some(t),
            },
            None => Self {
                offset_seconds: t.saturating_sub(wall),
                frozen_at: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WALL: Timestamp = 1_800_000_000;

    #[test]
    fn the_default_clock_is_the_wall() {
        assert_eq!(OrgClock::default().now(WALL), WALL);
        assert_eq!(
            OrgClock::default().read(WALL),
            ClockReading {
                now: WALL,
                frozen: false,
                offset_seconds: 0
            }
        );
    }

    #[test]
    fn advancing_moves_a_running_clock_and_it_keeps_running() {
        let clock = OrgClock::default().advance(8 * 86_400, WALL).unwrap();
        assert_eq!(clock.now(WALL), WALL + 8 * 86_400);
        assert_eq!(clock.now(WALL + 5), WALL + 8 * 86_400 + 5);
        let twice = clock.advance(10, WALL + 5).unwrap();
        assert_eq!(twice.now(WALL + 5), WALL + 8 * 86_400 + 15);
        assert_eq!(twice.read(WALL + 5).offset_seconds, 8 * 86_400 + 10);
    }

    #[test]
    fn advancing_backwards_is_refused_naming_the_field() {
        let err = OrgClock::default().advance(-1, WALL).unwrap_err();
        assert_eq!(err.param(), Some("advance_seconds"));
        assert!(err.to_string().contains("not -1"), "{err}");
        let err = OrgClock::default().advance(i64::MAX, WALL).unwrap_err();
        assert_eq!(err.param(), Some("advance_seconds"));
    }

    #[test]
    fn setting_the_clock_back_is_allowed() {
        let clock = OrgClock::default().set_now(WALL - 86_400, WALL).unwrap();
        assert_eq!(clock.now(WALL), WALL - 86_400);
        assert_eq!(clock.now(WALL + 1), WALL - 86_400 + 1);
        assert_eq!(clock.read(WALL).offset_seconds, -86_400);
        for bad in [-1, LATEST_TIMESTAMP + 1] {
            let err = OrgClock::default().set_now(bad, WALL).unwrap_err();
            assert_eq!(err.param(), Some("now"));
        }
    }

    #[test]
    fn frozen_time_does_not_move_until_changed() {
        let frozen = OrgClock::default().advance(100, WALL).unwrap().freeze(WALL);
        assert_eq!(frozen.now(WALL + 3_600), WALL + 100);
        assert!(frozen.read(WALL).frozen);
        // Freezing a frozen clock keeps its time.
        assert_eq!(frozen.freeze(WALL + 50).now(WALL + 50), WALL + 100);
        // Advancing or setting a frozen clock moves it and leaves it frozen.
        let advanced = frozen.advance(20, WALL + 10).unwrap();
        assert_eq!(advanced.now(WALL + 999), WALL + 120);
        let set = frozen.set_now(WALL - 5, WALL + 10).unwrap();
        assert_eq!(set.now(WALL + 999), WALL - 5);
        assert!(set.read(WALL).frozen);
    }

    #[test]
    fn unfreezing_continues_from_the_frozen_time() {
        let frozen = OrgClock::default().freeze(WALL);
        let running = frozen.unfreeze(WALL + 3_600);
        assert_eq!(running.now(WALL + 3_600), WALL);
        assert_eq!(running.now(WALL + 3_601), WALL + 1);
        assert_eq!(running.frozen_at, None);
        // Unfreezing a running clock changes nothing.
        assert_eq!(running.unfreeze(WALL + 7_200), running);
    }

    #[test]
    fn apply_dispatches_each_change() {
        let c = OrgClock::default();
        assert_eq!(
            c.apply(ClockChange::Advance(5), WALL).unwrap().now(WALL),
            WALL + 5
        );
        assert_eq!(c.apply(ClockChange::SetNow(7), WALL).unwrap().now(WALL), 7);
        assert!(c
            .apply(ClockChange::Frozen(true), WALL)
            .unwrap()
            .frozen_at
            .is_some());
        assert!(c
            .apply(ClockChange::Frozen(false), WALL)
            .unwrap()
            .frozen_at
            .is_none());
        assert!(c.apply(ClockChange::Advance(-5), WALL).is_err());
    }
}
