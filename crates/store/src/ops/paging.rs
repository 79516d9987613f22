//! Keyset pagination helpers shared by both backends.

use orgadmin_core::page::{Page, PageRequest, SortOrder};
use sqlx::QueryBuilder;

use super::Db;

/// Append the keyset condition and ordering for a page over `column`, fetching one row more
/// than the limit to learn `has_more` exactly. Returns whether rows come back in reverse of the
/// requested order (a `before` page), to be flipped by [`finish_page`].
pub(crate) fn push_keyset(qb: &mut QueryBuilder<'_, Db>, column: &str, page: &PageRequest) -> bool {
    let desc = page.order == SortOrder::Desc;
    if let Some(after) = &page.after {
        qb.push(format!(" AND {column} {} ", if desc { "<" } else { ">" }));
        qb.push_bind(after.clone());
    }
    if let Some(before) = &page.before {
        qb.push(format!(" AND {column} {} ", if desc { ">" } else { "<" }));
        qb.push_bind(before.clone());
    }
    let reversed = page.before.is_some();
    let travel_desc = desc != reversed;
    qb.push(format!(
        " ORDER BY {column} {} LIMIT ",
        if travel_desc { "DESC" } else { "ASC" }
    ));
    qb.push_bind(i64::from(page.limit) + 1);
    reversed
}

pub(crate) fn finish_page<T>(rows: Vec<T>, page: &PageRequest, reversed: bool) -> Page<T> {
    let mut page = Page::from_overfetch(rows, page.limit);
    if reversed {
        page.items.reverse();
    }
    page
}

/// A page of member answers from their rows (one per project membership, folded by
/// `rows::fold_members`), ready for the read cache: the page, the version it was read at (none
/// for an empty page) and its weight (the members and their memberships).
pub(crate) fn finish_member_page<T: crate::rows::MemberEntry>(
    rows: impl IntoIterator<Item = (T, crate::rows::MemberExtra)>,
    page: &PageRequest,
    reversed: bool,
) -> (Page<T>, Option<orgadmin_core::actor::OrgVersion>, usize) {
    let (entries, version) = crate::rows::fold_members(rows);
    let mut found = finish_page(entries, page, reversed);
    let weight = found
        .items
        .iter_mut()
        .map(|e| 1 + e.projects_mut().map_or(0, |p| p.len()))
        .sum();
    (found, version, weight)
}
