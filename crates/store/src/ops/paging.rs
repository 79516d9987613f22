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

/// A page of rows read with their organization's generation (`AtGeneration`), ready for the read
/// cache: the page, the generation (none for an empty page) and its weight.
pub(crate) fn finish_page_at<R, T>(
    rows: Vec<crate::rows::AtGeneration<R>>,
    page: &PageRequest,
    reversed: bool,
    convert: impl Fn(R) -> T,
) -> (Page<T>, Option<i64>, usize) {
    let generation = rows.first().map(|r| r.generation);
    let found = finish_page(
        rows.into_iter().map(|r| convert(r.row)).collect(),
        page,
        reversed,
    );
    let weight = found.items.len();
    (found, generation, weight)
}
