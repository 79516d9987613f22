//! Answers remembered per organization write generation, so that a read the organization has
//! not changed since costs no database statement.
//!
//! Every write transaction increments its organization's generation (`begin_for`), in whichever
//! process or replica it runs. An answer is filed under the generation read in the same SQL
//! statement as the answer itself, so it is exactly the organization's state at that generation.
//! A request may be answered from it only when the request's own authentication observed that
//! same generation (`ReadAt`), read from the database after the request arrived: the answer is
//! then the state at a moment within the request, as an answer read from the database would be.
//! Anything else — a cache miss, an older or newer generation, a read with no generation — goes
//! to the database.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use orgadmin_core::id::{OrgId, UserId};
use orgadmin_core::model::{OrgUser, User};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::Result;

/// One kind of answer. Bounded by a total weight (objects held); when a new answer would exceed
/// it, everything is forgotten and filling starts over, which keeps the bound exact and costs
/// one miss per key.
pub(crate) struct GenerationCache<K, V> {
    state: Mutex<State<K, V>>,
    max_weight: usize,
}

struct State<K, V> {
    entries: HashMap<K, (i64, V)>,
    weight: usize,
}

impl<K: Hash + Eq, V: Clone> GenerationCache<K, V> {
    pub(crate) fn new(max_weight: usize) -> Self {
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                weight: 0,
            }),
            max_weight,
        }
    }

    /// The answer filed under `key` at exactly `generation`.
    pub(crate) fn get(&self, key: &K, generation: Option<i64>) -> Option<V> {
        let generation = generation?;
        let state = self.lock();
        match state.entries.get(key) {
            Some((at, value)) if *at == generation => Some(value.clone()),
            _ => None,
        }
    }

    /// File `value`, read at `generation`, under `key`; `weight` is the number of objects it holds.
    pub(crate) fn insert(&self, key: K, generation: i64, value: V, weight: usize) {
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
        state.entries.insert(key, (generation, value));
    }

    /// The answer for `key` as of `generation`: from memory when filed under exactly that
    /// generation, otherwise from `load`, which returns the answer, the generation it was read at
    /// (`None` when it cannot be filed, e.g. an empty page, which carries no generation) and its
    /// weight; a loaded answer is filed for the next request.
    pub(crate) async fn get_or_load<Load, Loaded>(
        &self,
        key: K,
        generation: Option<i64>,
        load: Load,
    ) -> Result<V>
    where
        Load: FnOnce() -> Loaded,
        Loaded: Future<Output = Result<(V, Option<i64>, usize)>>,
    {
        if let Some(cached) = self.get(&key, generation) {
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

/// Objects held per kind of answer: about 40 MB in all at most, whatever the organization's size.
const USERS: usize = 20_000;
const PAGES: usize = 20_000;

/// The reads answered from memory: the hot reads of a directory (retrieve a member, list the
/// members, look members up by email).
pub(crate) struct ReadCache {
    pub(crate) users: GenerationCache<(OrgId, UserId), User>,
    pub(crate) member_pages: GenerationCache<(OrgId, Vec<String>, PageRequest), Page<User>>,
    pub(crate) directory_pages: GenerationCache<(OrgId, PageRequest), Page<OrgUser>>,
}

impl Default for ReadCache {
    fn default() -> Self {
        Self {
            users: GenerationCache::new(USERS),
            member_pages: GenerationCache::new(PAGES),
            directory_pages: GenerationCache::new(PAGES),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_only_at_the_generation_it_was_filed_under() {
        let cache = GenerationCache::new(10);
        cache.insert("k", 7, "seven", 1);
        assert_eq!(cache.get(&"k", Some(7)), Some("seven"));
        assert_eq!(cache.get(&"k", Some(8)), None);
        assert_eq!(cache.get(&"k", Some(6)), None);
        assert_eq!(cache.get(&"k", None), None);
        assert_eq!(cache.get(&"other", Some(7)), None);
        cache.insert("k", 8, "eight", 1);
        assert_eq!(cache.get(&"k", Some(8)), Some("eight"));
        assert_eq!(cache.get(&"k", Some(7)), None);
    }

    #[test]
    fn holds_no_more_than_its_weight() {
        let cache = GenerationCache::new(10);
        for i in 0..10 {
            cache.insert(i, 1, i, 1);
        }
        assert_eq!(cache.get(&0, Some(1)), Some(0));
        cache.insert(10, 1, 10, 3);
        assert_eq!(cache.get(&0, Some(1)), None, "filling starts over");
        assert_eq!(cache.get(&10, Some(1)), Some(10));
        cache.insert(11, 1, 11, 11);
        assert_eq!(
            cache.get(&11, Some(1)),
            None,
            "an answer heavier than the bound is not kept"
        );
        assert!(cache.lock().weight <= 10);
    }
}
