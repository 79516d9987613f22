//! Page requests and pages. Two list styles exist on the wire: `after`/`before` object IDs with
//! `first_id`/`last_id` (users, projects, invites, audit logs, admin keys), and an opaque `next`
//! cursor (roles and role assignments). Both are keyset-paginated: a page costs the same wherever
//! it is in the list, and a cursor that names a deleted object keeps its place.

use crate::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

impl SortOrder {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "asc" => Ok(SortOrder::Asc),
            "desc" => Ok(SortOrder::Desc),
            _ => Err(DomainError::invalid(
                "order",
                "order must be 'asc' or 'desc'.",
            )),
        }
    }
}

/// A request for one page of a list ordered by a string key (an object ID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub limit: u32,
    /// Return objects whose key comes after this one in `order`.
    pub after: Option<String>,
    /// Return the objects just before this one in `order` (the previous page).
    pub before: Option<String>,
    pub order: SortOrder,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            after: None,
            before: None,
            order: SortOrder::Asc,
        }
    }
}

/// One page: the items and whether more exist beyond it in the direction of travel.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Build a page from up to `limit + 1` rows fetched in the direction of travel.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Page {
            items: rows,
            has_more,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_more: self.has_more,
        }
    }
}

/// Paginate an already sorted, complete, in-memory list by `key` (used for the short lists of
/// predefined roles merged with stored ones).
pub fn page_in_memory<T>(
    mut all: Vec<T>,
    req: &PageRequest,
    key: impl Fn(&T) -> String,
) -> Page<T> {
    if req.order == SortOrder::Desc {
        all.reverse();
    }
    let after = |k: &str, cursor: &str| match req.order {
        SortOrder::Asc => k > cursor,
        SortOrder::Desc => k < cursor,
    };
    let rows: Vec<T> = all
        .into_iter()
        .filter(|item| req.after.as_deref().is_none_or(|c| after(&key(item), c)))
        .take(req.limit as usize + 1)
        .collect();
    Page::from_overfetch(rows, req.limit)
}
