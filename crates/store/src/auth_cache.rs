//! Authentication results kept between requests, so that a request with a known key costs one
//! point read (its organization's generation) instead of three (the key and its owner, the roles
//! they hold, those roles' permissions), and none on SQLite, where the generation is in memory
//! (`versions.rs`).
//!
//! Every write transaction increments its organization's generation inside the transaction
//! (`begin_for` in `ops/backend.rs`), whichever process or replica makes it. A cached entry records
//! the generation it was read at and is used only while that generation is still current, so a
//! revoked key, a demoted or removed owner or an edited role is seen by the very next request, on
//! every server. Expiry is checked on every use against the organization's clock, read in the
//! statement that reads the generation (a change of the clock increments the generation too). Only successful
//! authentications are cached; an unknown key always goes to the database.

use std::collections::HashMap;
use std::sync::Mutex;

use orgadmin_core::actor::Actor;
use orgadmin_metrics::{CacheCounters, StoreMetrics};

/// At most this many keys are remembered; when full, the cache starts over. An organization's
/// working set of admin keys is small; the bound only limits what many distinct keys can cost.
const CAPACITY: usize = 4096;

#[derive(Debug, Clone)]
pub(crate) struct CachedAuth {
    pub(crate) actor: Actor,
    /// The organization's generation when this was read.
    pub(crate) generation: i64,
    pub(crate) expires_at: Option<i64>,
    /// The `last_used_at` this process last saw or wrote.
    pub(crate) last_used_at: Option<i64>,
}

/// Keyed by the SHA-256 of the secret, never by the secret.
#[derive(Default)]
pub(crate) struct AuthCache {
    entries: Mutex<HashMap<String, CachedAuth>>,
    /// Authentications answered from here (hits) or from the database (misses), counted where
    /// that is decided (`keys::authenticate`): an entry found at an older generation is a miss.
    pub(crate) counters: CacheCounters,
}

impl AuthCache {
    pub(crate) fn new(metrics: &StoreMetrics) -> Self {
        Self {
            entries: Mutex::default(),
            counters: metrics.cache("auth"),
        }
    }

    pub(crate) fn get(&self, secret_hash: &str) -> Option<CachedAuth> {
        self.lock().get(secret_hash).cloned()
    }

    pub(crate) fn insert(&self, secret_hash: &str, entry: CachedAuth) {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY && !entries.contains_key(secret_hash) {
            entries.clear();
        }
        entries.insert(secret_hash.to_owned(), entry);
    }

    pub(crate) fn remove(&self, secret_hash: &str) {
        self.lock().remove(secret_hash);
    }

    pub(crate) fn touch(&self, secret_hash: &str, last_used_at: i64) {
        if let Some(entry) = self.lock().get_mut(secret_hash) {
            entry.last_used_at = Some(last_used_at);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedAuth>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use orgadmin_core::id::{AdminKeyId, OrgId, UserId};
    use orgadmin_core::permission::PermissionSet;
    use orgadmin_core::role::OrgBaseRole;
    use orgadmin_core::Email;

    use super::*;

    fn entry(generation: i64) -> CachedAuth {
        CachedAuth {
            actor: Actor {
                org_id: OrgId::from_raw("org-1".to_owned()),
                key_id: AdminKeyId::from_raw("key_1".to_owned()),
                user_id: UserId::from_raw("user-1".to_owned()),
                user_email: Email::from_stored("a@example.com".to_owned()),
                user_role: OrgBaseRole::Owner,
                permissions: PermissionSet::EMPTY,
                scopes: None,
                generation,
                key_use: 0,
                now: 0,
                project_authority: Default::default(),
            },
            generation,
            expires_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn remembers_replaces_and_forgets() {
        let cache = AuthCache::default();
        assert!(cache.get("h").is_none());
        cache.insert("h", entry(1));
        cache.insert("h", entry(2));
        assert_eq!(cache.get("h").map(|e| e.generation), Some(2));
        cache.touch("h", 99);
        assert_eq!(cache.get("h").and_then(|e| e.last_used_at), Some(99));
        cache.remove("h");
        assert!(cache.get("h").is_none());
    }

    #[test]
    fn stays_within_its_capacity() {
        let cache = AuthCache::default();
        for i in 0..CAPACITY + 10 {
            cache.insert(&format!("h{i}"), entry(0));
        }
        assert!(cache.lock().len() <= CAPACITY);
        assert!(cache.get(&format!("h{}", CAPACITY + 9)).is_some());
    }
}
