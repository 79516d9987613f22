//! Identifiers. Every ID is its prefix followed by a time-ordered part and a random part, so that
//! sorting IDs as strings sorts objects by creation time: keyset pagination orders by ID, and a
//! cursor naming a deleted object still has a place in that order.

use std::fmt;
use std::sync::Mutex;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Lower-case Crockford base32: ASCII-ordered, so encoded numbers sort like the numbers.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const TIME_CHARS: usize = 10;
const RANDOM_CHARS: usize = 14;

/// IDs longer than this cannot have been issued by any version of the server; lookups of them
/// are answered as "not found" without touching storage.
pub const MAX_ID_LEN: usize = 128;

/// The last body issued by this process, so that IDs made within one millisecond (or while the
/// clock steps back) still sort in the order they were made.
static LAST_ISSUED: Mutex<(u64, u128)> = Mutex::new((0, 0));

const RANDOM_BITS: u32 = (RANDOM_CHARS as u32) * 5;

/// Build a new time-ordered identifier body (without prefix) from a millisecond timestamp:
/// ten characters of time, fourteen of randomness. Within a process the result is strictly
/// increasing: a second ID in the same millisecond takes the previous random part plus one.
pub fn time_ordered_body(millis: u64) -> String {
    let (millis, random) = {
        let mut last = LAST_ISSUED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = if millis > last.0 {
            (
                millis,
                rand::thread_rng().gen::<u128>() >> (128 - RANDOM_BITS + 1),
            )
        } else {
            // Same millisecond, or the clock stepped back: continue from the last ID.
            let random = last.1 + 1;
            if random >> RANDOM_BITS == 0 {
                (last.0, random)
            } else {
                (last.0 + 1, 0)
            }
        };
        *last = next;
        next
    };
    encode_body(millis, random)
}

/// The body of the ID made at `millis` with the random part `random`.
fn encode_body(millis: u64, random: u128) -> String {
    let mut out = String::with_capacity(TIME_CHARS + RANDOM_CHARS);
    for i in (0..TIME_CHARS).rev() {
        let digit = (millis >> (i * 5)) & 31;
        out.push(ALPHABET[digit as usize] as char);
    }
    for i in (0..RANDOM_CHARS).rev() {
        let digit = (random >> (i * 5)) & 31;
        out.push(ALPHABET[digit as usize] as char);
    }
    out
}

/// Random characters from the ID alphabet, for secrets and suffixes.
pub fn random_chars(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..32)] as char)
        .collect()
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered ID created at `millis` (milliseconds since the epoch).
            pub fn generate(millis: u64) -> Self {
                Self(format!("{}{}", $prefix, time_ordered_body(millis)))
            }

            /// Wrap an ID as received from a client or read from storage. No validation: an
            /// ID that was never issued simply matches nothing.
            pub fn from_raw(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// The body that sorts next after `body`: the same number plus one when `body` is one this module
/// made (ten characters of time and fourteen random ones, all from the alphabet, not all the last
/// one); otherwise `body` followed by the alphabet's first character, which also sorts after it.
fn successor_body(body: &str) -> String {
    let digits: Option<Vec<u8>> = body
        .bytes()
        .map(|b| ALPHABET.iter().position(|&a| a == b).map(|d| d as u8))
        .collect();
    if let Some(mut digits) = digits.filter(|d| d.len() == TIME_CHARS + RANDOM_CHARS) {
        if let Some(last_below_top) = digits.iter().rposition(|&d| d < 31) {
            digits[last_below_top] += 1;
            for d in &mut digits[last_below_top + 1..] {
                *d = 0;
            }
            return digits
                .iter()
                .map(|&d| ALPHABET[d as usize] as char)
                .collect();
        }
    }
    format!("{body}{}", ALPHABET[0] as char)
}

define_id!(/// An organization, `org-…`.
    OrgId, "org-");
define_id!(/// A user (a person), `user-…`; the same across the organizations they belong to.
    UserId, "user-");
define_id!(/// A project, `proj_…`.
    ProjectId, "proj_");
define_id!(/// An invite, `invite-…`.
    InviteId, "invite-");
define_id!(/// A custom role, `role_…`. Predefined roles have fixed IDs (see [`crate::role`]).
    RoleId, "role_");
define_id!(/// An admin API key, `key_…`.
    AdminKeyId, "key_");
define_id!(/// An audit log event, `audit_log-…`.
    AuditLogId, "audit_log-");
define_id!(/// A group of users, `group_…`.
    GroupId, "group_");
define_id!(/// A project service account, `svc_acct_…`.
    ServiceAccountId, "svc_acct_");
define_id!(/// A project API key (a service account's key), `key_…` as in the official API.
    ProjectApiKeyId, "key_");

impl AuditLogId {
    /// A new event ID created at `millis` that sorts after `newest`, the newest event ID of the
    /// organization read inside the writing transaction: the audit log's order is the order its
    /// events were committed in, whichever process wrote them and whatever its clock said (a
    /// replica whose clock is behind, two processes in one millisecond). When the fresh ID would
    /// not sort after `newest`, the ID is `newest` plus one.
    pub fn generate_after(millis: u64, newest: Option<&AuditLogId>) -> Self {
        let fresh = Self::generate(millis);
        match newest {
            Some(newest) if fresh <= *newest => {
                let next = match newest.0.strip_prefix(Self::PREFIX) {
                    Some(body) => format!("{}{}", Self::PREFIX, successor_body(body)),
                    None => format!("{}{}", newest.0, ALPHABET[0] as char),
                };
                Self(next)
            }
            _ => fresh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = UserId::generate(1_700_000_000_000);
        let b = UserId::generate(1_700_000_000_001);
        let c = UserId::generate(1_800_000_000_000);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert!(a.as_str().starts_with("user-"));
        assert_eq!(a.as_str().len(), "user-".len() + TIME_CHARS + RANDOM_CHARS);
    }

    #[test]
    fn ids_made_in_the_same_millisecond_or_after_the_clock_steps_back_keep_increasing() {
        let mut previous = ProjectId::generate(1_900_000_000_000);
        for millis in [
            1_900_000_000_000,
            1_900_000_000_000,
            1_899_999_999_000,
            1_900_000_000_000,
        ] {
            let next = ProjectId::generate(millis);
            assert!(next > previous, "{next} after {previous}");
            previous = next;
        }
    }

    #[test]
    fn an_audit_id_sorts_after_the_newest_one_even_from_a_clock_behind() {
        // The newest event as another process wrote it, its clock a minute ahead of ours (this
        // process never issued it, so its own order cannot help).
        let millis = 3_000_000_000_000;
        let newest = AuditLogId::from_raw(format!(
            "audit_log-{}",
            encode_body(millis + 60_000, 12_345)
        ));
        let behind = AuditLogId::generate_after(millis, Some(&newest));
        assert!(behind > newest, "{behind} after {newest}");
        assert_eq!(
            behind.as_str(),
            format!("audit_log-{}", encode_body(millis + 60_000, 12_346))
        );
        let next = AuditLogId::generate_after(millis, Some(&behind));
        assert!(next > behind, "{next} after {behind}");
        // Once the clock passes the newest event, IDs are fresh again.
        let later = AuditLogId::generate_after(millis + 120_000, Some(&next));
        assert!(later > next, "{later} after {next}");
        assert_eq!(
            later.as_str()[..AuditLogId::PREFIX.len() + TIME_CHARS],
            format!("audit_log-{}", encode_body(millis + 120_000, 0))
                [..AuditLogId::PREFIX.len() + TIME_CHARS]
        );
        assert!(AuditLogId::generate_after(1, None)
            .as_str()
            .starts_with("audit_log-"));
    }

    #[test]
    fn the_successor_of_a_body_is_the_next_number_or_a_longer_string() {
        assert_eq!(
            successor_body("0000000000000000000000zz"),
            "000000000000000000000100"
        );
        assert_eq!(
            successor_body("00000000000000000000000a"),
            "00000000000000000000000b"
        );
        let top = "z".repeat(TIME_CHARS + RANDOM_CHARS);
        assert!(successor_body(&top) > top);
        assert_eq!(successor_body("imported"), "imported0");
        for body in ["0000000000000000000000zz", "imported", top.as_str()] {
            assert!(successor_body(body).as_str() > body);
        }
    }
}
