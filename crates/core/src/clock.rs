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

/// Seconds since the Unix epoch as an RFC 3339 UTC time.
pub fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// An RFC 3339 time (`2024-03-26T16:45:33Z`, `…T16:45:33.120+02:00`) as seconds since the Unix
/// epoch (fractions dropped); `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits =
        |from: usize, len: usize| -> Option<i64> { digits_of(text.get(from..from + len)?) };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        rest = &fraction[end..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (h, m) = (digits_of(&rest[1..3])?, digits_of(&rest[4..6])?);
            sign * (h * 3600 + m * 60)
        }
    };
    // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm, the inverse of the one
    // above).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    if rfc3339(days * 86_400)[..10] != text[..10] {
        // A day the month does not have (2023-02-30).
        return None;
    }
    Some(days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset)
}

fn digits_of(part: &str) -> Option<i64> {
    part.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| part.parse().ok())?
}

#[cfg(test)]
mod rfc3339_tests {
    use super::*;

    #[test]
    fn rfc3339_times_read_back_what_they_print() {
        for t in [0, 1_711_471_533, 951_825_600, -1, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        assert_eq!(
            parse_rfc3339("2024-03-26T18:45:33.5+02:00"),
            Some(1_711_471_533)
        );
        for bad in [
            "",
            "2024-03-26",
            "2024-02-30T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-03-26T16:45:33",
            "x024-03-26T16:45:33Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
