//! Per-key rate limiting: a token bucket per authenticated admin key (per key and endpoint in
//! the `official` imitation), refilled continuously from the server's [`Clock`], so a test moves
//! the clock instead of sleeping. Off unless configured.
//!
//! The check runs in the [`Auth`](crate::auth::Auth) extractor, right after the key is
//! authenticated and before the handler: a refused request has done nothing. A layer
//! ([`layer`]) hands the limiter to the extractor through the request's extensions and, with
//! `--rate-limit N`, puts the `x-ratelimit-*` headers (and `Retry-After` on a 429) on the
//! response; the `official` imitation sends none, as the real Admin API was seen to. The buckets
//! live in this process: replicas each count their own requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use orgadmin_core::id::AdminKeyId;
use orgadmin_core::Clock;

use crate::error::{ApiError, Code};

/// How requests are limited; see the README ("Rate limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateLimit {
    /// No limit (the default).
    #[default]
    Off,
    /// `per_minute` requests per minute per key, at most `burst` at once.
    PerKey { per_minute: u32, burst: u32 },
    /// An imitation of what users have observed of the real Admin API: one bucket per key and
    /// endpoint (method and route template) of [`OFFICIAL_PER_MINUTE`] requests a minute, burst
    /// the same, and no rate-limit headers. OpenAI publishes no numbers for it.
    Official,
}

impl RateLimit {
    /// The configuration `--rate-limit` and `--rate-limit-burst` describe: `N` (requests per
    /// minute, burst `N` unless given) or `official`.
    pub fn from_flags(limit: Option<&str>, burst: Option<u32>) -> Result<Self, String> {
        match (limit.map(str::trim), burst) {
            (None, None) => Ok(Self::Off),
            (None, Some(_)) => Err("--rate-limit-burst needs --rate-limit N".into()),
            (Some(v), burst) if v.eq_ignore_ascii_case("official") => match burst {
                None => Ok(Self::Official),
                Some(_) => {
                    Err("--rate-limit-burst applies to --rate-limit N, not to `official`".into())
                }
            },
            (Some(v), burst) => {
                let per_minute = v.parse::<u32>().ok().filter(|&n| n > 0).ok_or_else(|| {
                    format!(
                        "--rate-limit: expected requests per minute (1 or more) or `official`, got {v:?}"
                    )
                })?;
                let burst = burst.unwrap_or(per_minute);
                if burst == 0 {
                    return Err("--rate-limit-burst must be 1 or more".into());
                }
                Ok(Self::PerKey { per_minute, burst })
            }
        }
    }
}

/// Requests a minute per key and per endpoint in the `official` imitation (the burst is the
/// same): about what users have seen the real Admin API allow.
pub const OFFICIAL_PER_MINUTE: u32 = 7;

/// One token, in the units buckets count in: a rate of `per_minute` tokens per minute then adds
/// exactly `per_minute` units per millisecond, so the arithmetic is exact.
const TOKEN: u64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rate {
    per_minute: u32,
    burst: u32,
}

impl Rate {
    fn capacity(self) -> u64 {
        u64::from(self.burst) * TOKEN
    }

    /// Milliseconds until a bucket holding `units` holds `level`.
    fn ms_until(self, units: u64, level: u64) -> u64 {
        level
            .saturating_sub(units)
            .div_ceil(u64::from(self.per_minute))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bucket {
    units: u64,
    at_ms: u64,
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Whole requests left after this one.
    pub remaining: u64,
    /// Milliseconds until the bucket is full again.
    pub reset_ms: u64,
    /// Seconds until one request is allowed again (0 when this one was).
    pub retry_after: u64,
}

impl Bucket {
    fn full(rate: Rate, now_ms: u64) -> Self {
        Self {
            units: rate.capacity(),
            at_ms: now_ms,
        }
    }

    fn refill(&mut self, rate: Rate, now_ms: u64) {
        // A clock set back refills nothing, and refilling resumes from the new time.
        let elapsed = now_ms.saturating_sub(self.at_ms);
        self.units = self
            .units
            .saturating_add(elapsed.saturating_mul(u64::from(rate.per_minute)))
            .min(rate.capacity());
        self.at_ms = now_ms;
    }

    /// Whether the bucket would be full at `now_ms` (so forgetting it changes nothing).
    fn idle(&self, rate: Rate, now_ms: u64) -> bool {
        let mut b = *self;
        b.refill(rate, now_ms);
        b.units >= rate.capacity()
    }

    fn take(&mut self, rate: Rate, now_ms: u64) -> Decision {
        self.refill(rate, now_ms);
        let allowed = self.units >= TOKEN;
        if allowed {
            self.units -= TOKEN;
        }
        Decision {
            allowed,
            limit: rate.per_minute,
            remaining: self.units / TOKEN,
            reset_ms: rate.ms_until(self.units, rate.capacity()),
            retry_after: if allowed {
                0
            } else {
                rate.ms_until(self.units, TOKEN).div_ceil(1000).max(1)
            },
        }
    }
}

/// Buckets are forgotten once full (idle) when their number reaches this…
const PRUNE_AT: usize = 1024;
/// …and all of them if that leaves more than this (only with this many keys busy at once).
const MAX_BUCKETS: usize = 100_000;

/// A key's buckets, by endpoint (`"POST /v1/organization/projects"`; the one bucket of
/// `--rate-limit N` has the endpoint `""`).
type KeyBuckets = HashMap<Box<str>, Bucket>;

struct Buckets {
    by_key: HashMap<AdminKeyId, KeyBuckets>,
    /// Buckets held, over all keys.
    count: usize,
    prune_at: usize,
}

pub(crate) struct RateLimiter {
    rate: Rate,
    /// Per endpoint and silent (`official`), or one bucket per key with headers (`N`).
    official: bool,
    clock: Arc<dyn Clock>,
    buckets: Mutex<Buckets>,
}

impl RateLimiter {
    /// The limiter `config` describes; `None` when it is off.
    pub(crate) fn new(config: RateLimit, clock: Arc<dyn Clock>) -> Option<Self> {
        let (rate, official) = match config {
            RateLimit::Off => return None,
            RateLimit::PerKey { per_minute, burst } => (
                Rate {
                    per_minute: per_minute.max(1),
                    burst: burst.max(1),
                },
                false,
            ),
            RateLimit::Official => (
                Rate {
                    per_minute: OFFICIAL_PER_MINUTE,
                    burst: OFFICIAL_PER_MINUTE,
                },
                true,
            ),
        };
        Some(Self {
            rate,
            official,
            clock,
            buckets: Mutex::new(Buckets {
                by_key: HashMap::new(),
                count: 0,
                prune_at: PRUNE_AT,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take one request from `key`'s bucket for `endpoint` (method and route template).
    fn take(&self, key: &AdminKeyId, endpoint: &str) -> Decision {
        let endpoint = if self.official { endpoint } else { "" };
        let now = self.clock.now_millis();
        let mut buckets = self.lock();
        let known = buckets
            .by_key
            .get(key)
            .is_some_and(|k| k.contains_key(endpoint));
        if !known {
            buckets.prune(self.rate, now);
            buckets.count += 1;
        }
        let rate = self.rate;
        buckets
            .by_key
            .entry(key.clone())
            .or_default()
            .entry(endpoint.into())
            .or_insert_with(|| Bucket::full(rate, now))
            .take(rate, now)
    }
}

impl Buckets {
    fn prune(&mut self, rate: Rate, now: u64) {
        if self.count < self.prune_at {
            return;
        }
        self.by_key.retain(|_, buckets| {
            buckets.retain(|_, b| !b.idle(rate, now));
            !buckets.is_empty()
        });
        self.count = self.by_key.values().map(HashMap::len).sum();
        if self.count >= MAX_BUCKETS {
            self.by_key.clear();
            self.count = 0;
        }
        self.prune_at = (self.count * 2).max(PRUNE_AT);
    }
}

/// What the layer hands the `Auth` extractor: the limiter and a place for its decision (read
/// back for the headers).
#[derive(Clone)]
pub(crate) struct Slot {
    limiter: Arc<RateLimiter>,
    decision: Arc<Mutex<Option<Decision>>>,
}

impl Slot {
    /// Count this request against `key`'s bucket for the route `path` (the matched template):
    /// `Err` (429) when it is empty.
    pub(crate) fn check(
        &self,
        key: &AdminKeyId,
        method: &Method,
        path: &str,
    ) -> Result<(), ApiError> {
        let endpoint = format!("{method} {path}");
        let decision = self.limiter.take(key, &endpoint);
        if !self.limiter.official {
            *self.decision.lock().unwrap_or_else(|e| e.into_inner()) = Some(decision);
        }
        if decision.allowed {
            return Ok(());
        }
        let on = if self.limiter.official {
            endpoint.as_str()
        } else {
            "requests"
        };
        Err(ApiError::new(
            Code::RateLimitExceeded,
            None,
            format!(
                "Rate limit reached for admin key {key} on {on} per min (RPM): Limit {}, Requested 1. Please try again in {}s.",
                decision.limit, decision.retry_after
            ),
        ))
    }
}

/// The middleware: lends the limiter to the `Auth` extractor and writes its decision into the
/// response headers (with `--rate-limit N`; the `official` imitation records none).
pub(crate) async fn layer(
    State(limiter): State<Arc<RateLimiter>>,
    mut request: Request,
    next: Next,
) -> Response {
    let decision = Arc::new(Mutex::new(None));
    request.extensions_mut().insert(Slot {
        limiter,
        decision: decision.clone(),
    });
    let mut response = next.run(request).await;
    let decision = *decision.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = decision {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit-requests", HeaderValue::from(d.limit));
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from(d.remaining),
        );
        if let Ok(v) = HeaderValue::from_str(&duration_text(d.reset_ms)) {
            headers.insert("x-ratelimit-reset-requests", v);
        }
        if !d.allowed {
            headers.insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(d.retry_after),
            );
        }
    }
    response
}

/// A duration as the `x-ratelimit-reset-*` headers write it: `250ms`, `2s`, `1m30s`.
fn duration_text(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms.div_ceil(1000);
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m{}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate {
        per_minute: 60,
        burst: 3,
    };

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let mut b = Bucket::full(RATE, 1_000);
        for left in [2, 1, 0] {
            let d = b.take(RATE, 1_000);
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
            assert_eq!(d.retry_after, 0);
        }
        let refused = b.take(RATE, 1_000);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        // 60 per minute: one per second; the bucket is full again after three.
        assert_eq!(refused.retry_after, 1);
        assert_eq!(refused.reset_ms, 3_000);
        // Half a second refills half a token: still refused, retry in (rounded up) one second.
        let half = b.take(RATE, 1_500);
        assert!(!half.allowed);
        assert_eq!(half.retry_after, 1);
        assert_eq!(half.reset_ms, 2_500);
        // One second after the start: exactly one token.
        let one = b.take(RATE, 2_000);
        assert!(one.allowed);
        assert_eq!(one.remaining, 0);
        // Long idle: capped at the burst.
        let later = b.take(RATE, 1_000_000);
        assert!(later.allowed);
        assert_eq!(later.remaining, 2);
        assert!(b.idle(RATE, 1_001_000));
        assert!(!b.idle(RATE, 1_000_500));
    }

    #[test]
    fn slow_rates_give_whole_second_retry_after() {
        let rate = Rate {
            per_minute: 1,
            burst: 1,
        };
        let mut b = Bucket::full(rate, 0);
        assert!(b.take(rate, 0).allowed);
        let d = b.take(rate, 0);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, 60);
        assert_eq!(b.take(rate, 59_999).retry_after, 1);
        assert!(b.take(rate, 60_000).allowed);
    }

    #[test]
    fn a_clock_set_back_refills_nothing() {
        let mut b = Bucket::full(RATE, 10_000);
        for _ in 0..3 {
            assert!(b.take(RATE, 10_000).allowed);
        }
        assert!(!b.take(RATE, 5_000).allowed);
        // Refilling resumes from the earlier time.
        assert!(b.take(RATE, 6_000).allowed);
    }

    #[test]
    fn flags() {
        assert_eq!(RateLimit::from_flags(None, None), Ok(RateLimit::Off));
        assert_eq!(
            RateLimit::from_flags(Some("100"), None),
            Ok(RateLimit::PerKey {
                per_minute: 100,
                burst: 100
            })
        );
        assert_eq!(
            RateLimit::from_flags(Some("100"), Some(5)),
            Ok(RateLimit::PerKey {
                per_minute: 100,
                burst: 5
            })
        );
        assert_eq!(
            RateLimit::from_flags(Some("official"), None),
            Ok(RateLimit::Official)
        );
        for (limit, burst) in [
            (Some("0"), None),
            (Some("x"), None),
            (Some("10"), Some(0)),
            (None, Some(3)),
            (Some("official"), Some(3)),
        ] {
            assert!(
                RateLimit::from_flags(limit, burst).is_err(),
                "{limit:?} {burst:?}"
            );
        }
    }

    #[test]
    fn the_official_imitation_counts_each_endpoint_of_a_key_apart() {
        struct Frozen;
        impl Clock for Frozen {
            fn now(&self) -> orgadmin_core::Timestamp {
                0
            }
            fn now_millis(&self) -> u64 {
                0
            }
        }
        let limiter = RateLimiter::new(RateLimit::Official, Arc::new(Frozen)).expect("on");
        let (a, b) = (AdminKeyId::from_raw("key_a"), AdminKeyId::from_raw("key_b"));
        let list = "GET /v1/organization/users";
        for _ in 0..OFFICIAL_PER_MINUTE {
            assert!(limiter.take(&a, list).allowed);
        }
        assert!(!limiter.take(&a, list).allowed);
        // Another method on the same route, another route, another key: buckets of their own.
        assert!(
            limiter
                .take(&a, "POST /v1/organization/users/{user_id}")
                .allowed
        );
        assert!(
            limiter
                .take(&a, "GET /v1/organization/users/{user_id}")
                .allowed
        );
        assert!(limiter.take(&b, list).allowed);
        // `--rate-limit N` has one bucket per key, whatever the endpoint.
        let per_key = RateLimiter::new(
            RateLimit::PerKey {
                per_minute: 2,
                burst: 2,
            },
            Arc::new(Frozen),
        )
        .expect("on");
        assert!(per_key.take(&a, list).allowed);
        assert!(
            per_key
                .take(&a, "DELETE /v1/organization/users/{user_id}")
                .allowed
        );
        assert!(!per_key.take(&a, "GET /v1/organization/projects").allowed);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_text(0), "0ms");
        assert_eq!(duration_text(250), "250ms");
        assert_eq!(duration_text(1_001), "2s");
        assert_eq!(duration_text(90_000), "1m30s");
    }
}
