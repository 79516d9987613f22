//! Answers remembered per organization version (write generation and key-use epoch), so that a
//! read the organization has not changed since costs no database statement.
//!
//! Every write transaction increments its organization's generation (`begin_for`), in whichever
//! process or replica it runs; every refresh of an admin key's `last_used_at`, which is no write
//! transaction, increments its key-use epoch (`keys::touch_last_used`), which is what a member's
//! `api_key_last_used_at` is read from. An answer is filed under the version read in the same SQL
//! statement as the answer itself, so it is exactly the organization's state at that version.
//! A request may be answered from it only when the request's own authentication observed that
//! same version (`ReadAt`) after the request arrived — read from the database, or on SQLite from
//! the process's memory, which is never older than the database (`versions.rs`): the answer is
//! then the state at a moment within the request, as an answer read from the database would be.
//! Anything else — a cache miss, an older or newer version, a read with no version — goes
//! to the database.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use orgadmin_core::actor::OrgVersion;
use orgadmin_core::id::{OrgId, ProjectId, UserId};
use orgadmin_core::model::{AssignedRole, Member, OrgUser, ProjectUser};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::{PermissionSet, Result};
use orgadmin_metrics::{CacheCounters, StoreMetrics};

/// One kind of answer. Bounded by a total weight (objects held); when a new answer would exceed
/// it, everything is forgotten and filling starts over, which keeps the bound exact and costs
/// one miss per key.
pub(crate) struct GenerationCache<K, V> {
    state: Mutex<State<K, V>>,
    max_weight: usize,
    counters: CacheCounters,
}

struct State<K, V> {
    entries: HashMap<K, (OrgVersion, V)>,
    weight: usize,
}

impl<K: Hash + Eq, V: Clone> GenerationCache<K, V> {
    /// A cache of at most `max_weight` objects, counting its hits and misses in `counters`.
    pub(crate) fn new(max_weight: usize, counters: CacheCounters) -> Self {
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                weight: 0,
            }),
            max_weight,
            counters,
        }
    }

    /// The answer filed under `key` at exactly `version`. Every call is a hit or a miss (a read
    /// with no version is a miss: it goes to the database).
    pub(crate) fn get(&self, key: &K, version: Option<OrgVersion>) -> Option<V> {
        let found = version.and_then(|version| {
            let state = self.lock();
            match state.entries.get(key) {
                Some((at, value)) if *at == version => Some(value.clone()),
                _ => None,
            }
        });
        match found {
            Some(_) => self.counters.hit(),
            None => self.counters.miss(),
        }
        found
    }

    /// File `value`, read at `version`, under `key`; `weight` is the number of objects it holds.
    pub(crate) fn insert(&self, key: K, version: OrgVersion, value: V, weight: usize) {
        let weight = weight.max(1);
        if weight > self.max_weight {
            return;
        }
        let mut state = self.lock();
        if state.weight + weight > self.max_weight {
            state.entries.clear();
            state.weight = 0;
        }
        state.weight += weight;
        // A replaced entry's weight stays counted until the next clear: an over-estimate only.
        state.entries.insert(key, (version, value));
    }

    /// The answer for `key` as of `version`: from memory when filed under exactly that
    /// version, otherwise from `load`, which returns the answer, the version it was read at
    /// (`None` when it cannot be filed, e.g. an empty page, which carries no version) and its
    /// weight; a loaded answer is filed for the next request.
    pub(crate) async fn get_or_load<Load, Loaded>(
        &self,
        key: K,
        version: Option<OrgVersion>,
        load: Load,
    ) -> Result<V>
    where
        Load: FnOnce() -> Loaded,
        Loaded: Future<Output = Result<(V, Option<OrgVersion>, usize)>>,
    {
        if let Some(cached) = self.get(&key, version) {
            return Ok(cached);
        }
        let (value, read_at, weight) = load().await?;
        if let Some(read_at) = read_at {
            self.insert(key, read_at, value.clone(), weight);
        }
        Ok(value)
    }

    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Objects held per kind of answer: about 60 MB in all at most, whatever the organization's size.
const USERS: usize = 20_000;
const PAGES: usize = 20_000;

const PERMISSIONS: usize = 20_000;

/// Whose roles a page of role assignments lists: a user's or a group's (`"user"`/`"group"` and
/// the ID), in the organization or in a project.
pub(crate) type RoleHolder = (OrgId, Option<ProjectId>, &'static str, String);

/// The reads answered from memory: the hot reads of a directory (retrieve a member, list the
/// members, look members up by email, a project's members, the roles a user or group holds)
/// and of authorization (what a user may do in a project, which every project route asks).
pub(crate) struct ReadCache {
    pub(crate) users: GenerationCache<(OrgId, UserId), Member>,
    pub(crate) member_pages: GenerationCache<(OrgId, Vec<String>, PageRequest), Page<Member>>,
    pub(crate) directory_pages: GenerationCache<(OrgId, PageRequest), Page<OrgUser>>,
    pub(crate) project_users: GenerationCache<(OrgId, ProjectId, PageRequest), Page<ProjectUser>>,
    pub(crate) role_pages: GenerationCache<(RoleHolder, PageRequest), Page<AssignedRole>>,
    pub(crate) project_permissions: GenerationCache<(OrgId, ProjectId, UserId), PermissionSet>,
}

impl ReadCache {
    /// Each cache counts its hits and misses under its field's name (`orgadmin_cache_hits_total{cache="users"}`, …).
    pub(crate) fn new(metrics: &StoreMetrics) -> Self {
        Self {
            users: GenerationCache::new(USERS, metrics.cache("users")),
            member_pages: GenerationCache::new(PAGES, metrics.cache("member_pages")),
            directory_pages: GenerationCache::new(PAGES, metrics.cache("directory_pages")),
            project_users: GenerationCache::new(PAGES, metrics.cache("project_users")),
            role_pages: GenerationCache::new(PAGES, metrics.cache("role_pages")),
            project_permissions: GenerationCache::new(
                PERMISSIONS,
                metrics.cache("project_permissions"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(generation: i64) -> OrgVersion {
        OrgVersion {
            generation,
            key_use: 0,
        }
    }

    #[test]
    fn answers_only_at_the_version_it_was_filed_under() {
        let cache = GenerationCache::new(10, CacheCounters::default());
        cache.insert("k", at(7), "seven", 1);
        assert_eq!(cache.get(&"k", Some(at(7))), Some("seven"));
        assert_eq!(cache.get(&"k", Some(at(8))), None);
        assert_eq!(cache.get(&"k", Some(at(6))), None);
        assert_eq!(cache.get(&"k", None), None);
        assert_eq!(cache.get(&"other", Some(at(7))), None);
        let used = OrgVersion {
            generation: 7,
            key_use: 1,
        };
        assert_eq!(cache.get(&"k", Some(used)), None, "a key used since");
        cache.insert("k", at(8), "eight", 1);
        assert_eq!(cache.get(&"k", Some(at(8))), Some("eight"));
        assert_eq!(cache.get(&"k", Some(at(7))), None);
    }

    #[test]
    fn holds_no_more_than_its_weight() {
        let cache = GenerationCache::new(10, CacheCounters::default());
        for i in 0..10 {
            cache.insert(i, at(1), i, 1);
        }
        assert_eq!(cache.get(&0, Some(at(1))), Some(0));
        cache.insert(10, at(1), 10, 3);
        assert_eq!(cache.get(&0, Some(at(1))), None, "filling starts over");
        assert_eq!(cache.get(&10, Some(at(1))), Some(10));
        cache.insert(11, at(1), 11, 11);
        assert_eq!(
            cache.get(&11, Some(at(1))),
            None,
            "an answer heavier than the bound is not kept"
        );
        assert!(cache.lock().weight <= 10);
    }
}
