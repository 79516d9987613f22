//! The request journal (`/_orgadmin/organizations/{org_id}/requests`): the latest requests made
//! with each organization's keys, newest first, for a test to verify what its code sent. Each
//! entry has method, route template, path, query, body (every `sk-…` secret redacted), status,
//! request ID, key ID and time. Bounded per organization (`--journal-size`, 1,000 by default; 0
//! turns it off) and in all ([`MAX_TOTAL_ENTRIES`], or `--journal-size` if that is more: past
//! it, the oldest entries of the organization whose latest request is the oldest go first, so
//! the journals of organizations no longer used, such as those of finished tests or deleted on
//! another replica, make room for those in use), and kept in process memory.
//!
//! How an entry is made: the middleware ([`layer`]) puts a [`Capture`] into the request's
//! extensions; the `Auth` extractor fills in the organization and key once it has authenticated
//! the request, and `JsonBody` the body it read (the same bytes, not a copy); after the answer
//! the middleware files the entry if the request was attributed to an organization. A request
//! whose key was refused belongs to no organization and is not journaled.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use orgadmin_api::operator::{Cleared, JournalEntry, JournalList};
use orgadmin_core::id::{AdminKeyId, OrgId};
use orgadmin_core::secret::redact_any;
use orgadmin_core::{Clock, DomainError};
use serde_json::Value;

use super::{OperatorOrg, TAG};
use crate::error::ApiResult;
use crate::extract::Query;
use crate::state::AppState;

/// Entries kept per organization unless `--journal-size` says otherwise.
pub const DEFAULT_CAPACITY: usize = 1000;
/// Entries kept in all, across organizations (unless `--journal-size` is more): at most 64 KiB
/// of body each, a few hundred bytes for most.
pub const MAX_TOTAL_ENTRIES: usize = 100_000;
/// A body larger than this is not kept, only its size.
const MAX_KEPT_BODY: usize = 64 * 1024;
/// Most entries one page of the journal holds.
const MAX_PAGE: i64 = 1000;

/// Every organization's latest requests.
pub struct Journal {
    capacity: usize,
    total_capacity: usize,
    clock: Arc<dyn Clock>,
    book: Mutex<Book>,
}

/// The entries, by organization, and which organization was journaled longest ago.
#[derive(Default)]
struct Book {
    by_org: HashMap<OrgId, Entries>,
    /// Each organization under the number of its latest entry: the first is the one whose
    /// latest request is the oldest.
    by_latest: BTreeMap<u64, OrgId>,
    total: usize,
    recorded: u64,
}

/// One organization's entries, newest first, and the number of its latest one.
struct Entries {
    entries: VecDeque<JournalEntry>,
    latest: u64,
}

impl Book {
    fn remove(&mut self, org: &OrgId) -> usize {
        let Some(gone) = self.by_org.remove(org) else {
            return 0;
        };
        self.by_latest.remove(&gone.latest);
        self.total -= gone.entries.len();
        gone.entries.len()
    }
}

/// What the request's extractors tell the journal about it.
#[derive(Default)]
pub(crate) struct Capture {
    attribution: OnceLock<(OrgId, AdminKeyId)>,
    body: OnceLock<Bytes>,
}

impl Capture {
    /// The request was authenticated as `key` of `org` (the `Auth` extractor).
    pub(crate) fn attribute(&self, org: &OrgId, key: &AdminKeyId) {
        let _ = self.attribution.set((org.clone(), key.clone()));
    }

    /// The body the handler read (`JsonBody`).
    pub(crate) fn body(&self, bytes: &Bytes) {
        let _ = self.body.set(bytes.clone());
    }
}

/// The request's ID, as `x-request-id` will say (set by the request context in `app.rs`).
#[derive(Clone)]
pub(crate) struct RequestId(pub(crate) String);

impl Journal {
    pub fn new(capacity: usize, clock: Arc<dyn Clock>) -> Self {
        Self::with_total(capacity, MAX_TOTAL_ENTRIES.max(capacity), clock)
    }

    fn with_total(capacity: usize, total_capacity: usize, clock: Arc<dyn Clock>) -> Self {
        Self {
            capacity,
            total_capacity,
            clock,
            book: Mutex::default(),
        }
    }

    /// Whether requests are journaled at all (`--journal-size 0` turns it off).
    pub fn is_on(&self) -> bool {
        self.capacity > 0
    }

    fn record(&self, org: OrgId, entry: JournalEntry) {
        let mut guard = self.book.lock().unwrap_or_else(|e| e.into_inner());
        let book = &mut *guard;
        book.recorded += 1;
        let number = book.recorded;
        let kept = book.by_org.entry(org.clone()).or_insert_with(|| Entries {
            entries: VecDeque::new(),
            latest: 0,
        });
        book.by_latest.remove(&kept.latest);
        kept.latest = number;
        book.by_latest.insert(number, org);
        if kept.entries.len() == self.capacity {
            kept.entries.pop_back();
            book.total -= 1;
        }
        kept.entries.push_front(entry);
        book.total += 1;
        // Over the total: the oldest entries of the organization journaled longest ago.
        while book.total > self.total_capacity {
            let Some((_, idle)) = book.by_latest.first_key_value() else {
                break;
            };
            let idle = idle.clone();
            let entries = &mut book.by_org.get_mut(&idle).expect("indexed").entries;
            entries.pop_back();
            book.total -= 1;
            if entries.is_empty() {
                book.remove(&idle);
            }
        }
    }

    /// A page of `org`'s entries, newest first, after the entry `after` if given.
    fn page(
        &self,
        org: &OrgId,
        filter: &Filter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<JournalEntry>, bool), DomainError> {
        let book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        let Some(Entries { entries, .. }) = book.by_org.get(org) else {
            return match after {
                Some(after) => Err(unknown_cursor(after)),
                None => Ok((Vec::new(), false)),
            };
        };
        let start = match after {
            Some(after) => {
                entries
                    .iter()
                    .position(|e| e.id == after)
                    .ok_or_else(|| unknown_cursor(after))?
                    + 1
            }
            None => 0,
        };
        let mut matching = entries.iter().skip(start).filter(|e| filter.admits(e));
        let page: Vec<JournalEntry> = matching.by_ref().take(limit).cloned().collect();
        let has_more = matching.next().is_some();
        Ok((page, has_more))
    }

    /// Forget every entry of `org`; how many there were.
    pub(crate) fn clear(&self, org: &OrgId) -> usize {
        let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        book.remove(org)
    }
}

fn unknown_cursor(after: &str) -> DomainError {
    DomainError::invalid(
        "after",
        format!(
            "after must name an entry the journal still holds, not '{}'.",
            orgadmin_core::text::clip(after)
        ),
    )
}

/// The middleware: journals every request that authentication attributed to an organization.
pub(crate) async fn layer(
    State(journal): State<Arc<Journal>>,
    mut request: Request,
    next: Next,
) -> Response {
    let capture = Arc::new(Capture::default());
    request.extensions_mut().insert(capture.clone());
    let started = Instant::now();
    let created_at = journal.clock.now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let response = next.run(request).await;
    if let Some((org, key)) = capture.attribution.get() {
        let entry = JournalEntry {
            object: "organization.request".into(),
            id,
            method,
            route,
            path,
            query,
            body: capture.body.get().and_then(kept_body),
            status: response.status().as_u16(),
            key_id: key.to_string(),
            created_at,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        journal.record(org.clone(), entry);
    }
    response
}

/// The body as the journal keeps it: JSON with its secrets redacted, other text as a string,
/// nothing for an empty body, only the size of one too large to keep.
fn kept_body(bytes: &Bytes) -> Option<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    if bytes.len() > MAX_KEPT_BODY {
        return Some(Value::String(format!(
            "({} bytes, larger than the journal keeps)",
            bytes.len()
        )));
    }
    Some(match serde_json::from_slice::<Value>(bytes) {
        Ok(mut value) => {
            redact_secrets(&mut value);
            value
        }
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            Value::String(
                text.split_inclusive(char::is_whitespace)
                    .map(|word| match word.trim_end() {
                        w if w.starts_with("sk-") => word.replace(w, &redact_any(w)),
                        _ => word.to_owned(),
                    })
                    .collect(),
            )
        }
    })
}

/// Replace every string that is a secret (`sk-…`) with its redacted form.
fn redact_secrets(value: &mut Value) {
    match value {
        Value::String(s) if s.starts_with("sk-") => *s = redact_any(s),
        Value::Array(items) => items.iter_mut().for_each(redact_secrets),
        Value::Object(fields) => fields.values_mut().for_each(redact_secrets),
        _ => {}
    }
}

/// The list's filters: `method` and `route` (a template), each exact.
struct Filter {
    method: Option<String>,
    route: Option<String>,
}

impl Filter {
    fn admits(&self, entry: &JournalEntry) -> bool {
        self.method.as_ref().is_none_or(|m| *m == entry.method)
            && self
                .route
                .as_ref()
                .is_none_or(|r| entry.route.as_ref() == Some(r))
    }
}

#[utoipa::path(get, path = "/_orgadmin/organizations/{org_id}/requests", tag = TAG,
    security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path),
        ("method" = Option<String>, Query, description = "Only requests of this method."),
        ("route" = Option<String>, Query, description = "Only requests that matched this route template, e.g. /v1/organization/users/{user_id}."),
        ("limit" = Option<i64>, Query, description = "1 to 1000, default 100."),
        ("after" = Option<String>, Query, description = "The ID of the entry after which the page starts (older entries).")),
    responses((status = 200, body = JournalList)))]
pub async fn list(
    State(s): State<AppState>,
    org: OperatorOrg,
    q: Query,
) -> ApiResult<Json<JournalList>> {
    let limit = match q.integer("limit")? {
        None => 100,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n as usize,
        Some(_) => {
            return Err(DomainError::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_PAGE}."),
            )
            .into())
        }
    };
    let filter = Filter {
        method: q.one("method")?.map(str::to_ascii_uppercase),
        route: q.one("route")?.map(str::to_owned),
    };
    let (page, has_more) = s.journal.page(org.id(), &filter, q.one("after")?, limit)?;
    Ok(Json(JournalList::new(page, has_more, |e| &e.id)))
}

#[utoipa::path(delete, path = "/_orgadmin/organizations/{org_id}/requests", tag = TAG,
    security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = Cleared)))]
pub async fn clear(State(s): State<AppState>, org: OperatorOrg) -> ApiResult<Json<Cleared>> {
    Ok(Json(Cleared {
        object: "organization.requests.cleared".into(),
        deleted: s.journal.clear(org.id()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_kept_body_are_redacted_wherever_they_are() {
        let key = format!("sk-admin-{}", "x".repeat(40));
        let body = serde_json::json!({"key": key, "nested": [{"value": key}], "name": "sk"});
        let kept = kept_body(&Bytes::from(body.to_string())).unwrap();
        assert_eq!(kept["key"], "sk-admin...xxxx");
        assert_eq!(kept["nested"][0]["value"], "sk-admin...xxxx");
        assert_eq!(kept["name"], "sk");
        let text = kept_body(&Bytes::from(format!("email,key\na@b.c {key}\n"))).unwrap();
        assert_eq!(text, "email,key\na@b.c sk-admin...xxxx\n");
        assert_eq!(kept_body(&Bytes::from_static(b"  \n")), None);
    }

    fn entry(id: &str, method: &str) -> JournalEntry {
        JournalEntry {
            object: "organization.request".into(),
            id: id.into(),
            method: method.into(),
            route: None,
            path: "/v1/organization/users".into(),
            query: None,
            body: None,
            status: 200,
            key_id: "key_1".into(),
            created_at: 0,
            duration_ms: 0.0,
        }
    }

    const ALL: Filter = Filter {
        method: None,
        route: None,
    };

    fn ids(journal: &Journal, org: &str) -> Vec<String> {
        let (page, _) = journal
            .page(&OrgId::from_raw(org), &ALL, None, 100)
            .unwrap();
        page.into_iter().map(|e| e.id).collect()
    }

    #[test]
    fn the_journal_keeps_the_newest_entries_up_to_its_capacity() {
        let journal = Journal::new(2, Arc::new(orgadmin_core::SystemClock));
        let org = OrgId::from_raw("org-a");
        for (id, method) in [("r1", "GET"), ("r2", "POST"), ("r3", "GET")] {
            journal.record(org.clone(), entry(id, method));
        }
        let all = ALL;
        let (page, more) = journal.page(&org, &all, None, 10).unwrap();
        let ids: Vec<_> = page.iter().map(|e| e.id.as_str()).collect();
        assert_eq!((ids, more), (vec!["r3", "r2"], false));
        let (page, more) = journal.page(&org, &all, None, 1).unwrap();
        assert_eq!((page[0].id.as_str(), more), ("r3", true));
        let (page, _) = journal.page(&org, &all, Some("r3"), 1).unwrap();
        assert_eq!(page[0].id, "r2");
        let gets = Filter {
            method: Some("GET".into()),
            route: None,
        };
        assert_eq!(journal.page(&org, &gets, None, 10).unwrap().0.len(), 1);
        assert!(journal.page(&org, &all, Some("r1"), 10).is_err());
        assert_eq!(journal.clear(&org), 2);
    }

    #[test]
    fn past_the_total_the_organization_journaled_longest_ago_gives_way() {
        let journal = Journal::with_total(3, 5, Arc::new(orgadmin_core::SystemClock));
        let record = |org: &str, id: &str| journal.record(OrgId::from_raw(org), entry(id, "GET"));
        record("org-a", "a1");
        record("org-a", "a2");
        record("org-b", "b1");
        record("org-c", "c1");
        record("org-a", "a3");
        // Five in all; a sixth takes b's oldest: b's latest request is the oldest of the three.
        record("org-c", "c2");
        assert_eq!(ids(&journal, "org-b"), Vec::<String>::new());
        assert_eq!(ids(&journal, "org-a"), ["a3", "a2", "a1"]);
        assert_eq!(ids(&journal, "org-c"), ["c2", "c1"]);
        // Then a's: its latest (a3) is now older than c's.
        record("org-c", "c3");
        assert_eq!(ids(&journal, "org-a"), ["a3", "a2"]);
        assert_eq!(ids(&journal, "org-c"), ["c3", "c2", "c1"]);
        // One organization alone keeps its own capacity, never more than the total.
        assert_eq!(journal.clear(&OrgId::from_raw("org-a")), 2);
        for i in 0..10 {
            record("org-d", &format!("d{i}"));
        }
        assert_eq!(ids(&journal, "org-d"), ["d9", "d8", "d7"]);
        assert_eq!(ids(&journal, "org-c"), ["c3", "c2"]);
        let book = journal.book.lock().unwrap();
        assert_eq!(book.total, 5);
        assert_eq!(book.by_latest.len(), book.by_org.len());
    }
}
