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
