//! The send log and the staff-action log, read a page at a time by id: the audit pages (with links to the pages
//! before and after), their CSV downloads (batch after batch) and the API (`next` until it is null) all go
//! through [`Paging`] (the page asked for, checked) and [`page`] (its rows and the cursors around it); each list
//! is described once, by [`Paged`].

use std::future::Future;

use crate::Application;
use crate::domain::ActionRecord;
use crate::error::AppError;
use crate::store::{ActionFilter, Keyset, LogEntry, LogFilter};

/// A list read by id, a page at a time, with its filters: the two logs here, the API's members beside it.
pub(super) trait Paged: Send + Sync + 'static {
    type Filter: Send + Sync + 'static;
    type Row: Send + 'static;

    fn id(row: &Self::Row) -> i64;

    /// Up to `limit` rows on the keyset's side of its id, in id order.
    fn read(
        app: &Application,
        filter: &Self::Filter,
        keyset: Keyset,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Self::Row>, AppError>> + Send;
}

/// The send log: one row per SMTP attempt.
pub(super) enum SendLog {}

/// The staff-action log.
pub(super) enum ActionLog {}

impl Paged for SendLog {
    type Filter = LogFilter;
    type Row = LogEntry;

    fn id(row: &LogEntry) -> i64 {
        row.id
    }

    async fn read(
        app: &Application,
        filter: &LogFilter,
        keyset: Keyset,
        limit: u32,
    ) -> Result<Vec<LogEntry>, AppError> {
        app.send_log_page(filter, keyset, limit).await
    }
}

impl Paged for ActionLog {
    type Filter = ActionFilter;
    type Row = ActionRecord;

    fn id(row: &ActionRecord) -> i64 {
        row.id
    }

    async fn read(
        app: &Application,
        filter: &ActionFilter,
        keyset: Keyset,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, AppError> {
        app.actions_keyset(filter, keyset, limit).await
    }
}

/// The page a request asks for, as given: after an id (a next page), before one (a previous page), how many rows.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Asked {
    pub(super) after: Option<i64>,
    pub(super) before: Option<i64>,
    pub(super) limit: Option<u32>,
}

/// A page to read: on which side of which id, and how many rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cursor {
    keyset: Keyset,
    limit: u32,
}

impl Cursor {
    /// `limit` rows after `id`: the next batch of a download.
    pub(super) fn after(id: i64, limit: u32) -> Cursor {
        Cursor {
            keyset: Keyset::After(id),
            limit: limit.max(1),
        }
    }
}

/// How a way in pages: how many rows unless asked, and at most.
#[derive(Debug, Clone, Copy)]
pub(super) struct Paging {
    pub(super) default: u32,
    pub(super) max: u32,
}

/// A parameter of the page asked for that is out of range, named.
#[derive(Debug)]
pub(super) struct BadCursor {
    pub(super) parameter: &'static str,
    pub(super) message: String,
}

impl Paging {
    /// The page asked for, or the parameter out of range: for programs, which should learn of their mistake.
    /// `before` wins over `after`; neither is the start.
    pub(super) fn check(self, asked: Asked) -> Result<Cursor, BadCursor> {
        let limit = match asked.limit {
            None => self.default,
            Some(n) if (1..=self.max).contains(&n) => n,
            Some(n) => {
                return Err(BadCursor {
                    parameter: "limit",
                    message: format!("limit {n}: give 1 to {}", self.max),
                });
            }
        };
        let keyset = match (asked.before, asked.after) {
            (Some(b), _) if b < 0 => {
                return Err(BadCursor {
                    parameter: "before",
                    message: format!("before {b}: give an id from a page"),
                });
            }
            (Some(b), _) => Keyset::Before(b),
            (None, Some(a)) if a < 0 => {
                return Err(BadCursor {
                    parameter: "after",
                    message: format!("after {a}: give an id from a page's `next`"),
                });
            }
            (None, a) => Keyset::After(a.unwrap_or(0)),
        };
        Ok(Cursor { keyset, limit })
    }

    /// The page asked for, brought into range: for people, who edit links (a size clamped, a negative cursor
    /// the start).
    pub(super) fn forgive(self, asked: Asked) -> Cursor {
        let limit = asked.limit.unwrap_or(self.default).clamp(1, self.max);
        let keyset = match (asked.before, asked.after) {
            (Some(b), _) => Keyset::Before(b.max(0)),
            (None, a) => Keyset::After(a.unwrap_or(0).max(0)),
        };
        Cursor { keyset, limit }
    }
}

/// One page of a list: its rows in id order, and the cursors of the pages before and after it, when there are.
#[derive(Debug)]
pub(super) struct Page<R> {
    pub(super) rows: Vec<R>,
    /// The `before` of the previous page.
    pub(super) before: Option<i64>,
    /// The `after` of the next page.
    pub(super) after: Option<i64>,
}

/// The page of `L` at `cursor`, filtered. One row more than the page is read, to know whether a page
/// follows without reading an empty one.
pub(super) async fn page<L: Paged>(
    app: &Application,
    filter: &L::Filter,
    cursor: Cursor,
) -> Result<Page<L::Row>, AppError> {
    let Cursor { keyset, limit } = cursor;
    let rows = L::read(app, filter, keyset, limit.saturating_add(1)).await?;
    let (rows, has_before, has_after) = window(rows, keyset, limit);
    Ok(Page {
        before: has_before.then(|| rows.first().map(L::id)).flatten(),
        after: has_after.then(|| rows.last().map(L::id)).flatten(),
        rows,
    })
}

/// Of `limit + 1` rows read: the page's rows, and whether there are rows before and after it.
fn window<T>(mut rows: Vec<T>, keyset: Keyset, limit: u32) -> (Vec<T>, bool, bool) {
    let extra = rows.len() > limit as usize;
    match keyset {
        Keyset::After(after) => {
            rows.truncate(limit as usize);
            (rows, after > 0, extra)
        }
        Keyset::Before(_) => {
            if extra {
                rows.remove(0);
            }
            (rows, extra, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGING: Paging = Paging {
        default: 100,
        max: 1000,
    };

    fn asked(after: Option<i64>, before: Option<i64>, limit: Option<u32>) -> Asked {
        Asked { after, before, limit }
    }

    #[test]
    fn a_page_asked_is_checked_for_programs_and_forgiven_for_people() {
        assert_eq!(PAGING.check(Asked::default()).ok(), Some(Cursor::after(0, 100)));
        assert_eq!(
            PAGING.check(asked(Some(9), None, Some(3))).ok(),
            Some(Cursor::after(9, 3))
        );
        for (bad, parameter) in [
            (asked(None, None, Some(0)), "limit"),
            (asked(None, None, Some(1001)), "limit"),
            (asked(Some(-1), None, None), "after"),
            (asked(None, Some(-1), None), "before"),
        ] {
            assert_eq!(PAGING.check(bad).map_err(|e| e.parameter).err(), Some(parameter));
        }
        assert_eq!(PAGING.forgive(asked(Some(-5), None, Some(0))), Cursor::after(0, 1));
        assert_eq!(
            PAGING.forgive(asked(Some(3), Some(7), Some(5000))),
            Cursor {
                keyset: Keyset::Before(7),
                limit: 1000
            }
        );
    }

    #[test]
    fn a_window_knows_the_pages_around_it() {
        assert_eq!(window(vec![1, 2, 3], Keyset::After(0), 2), (vec![1, 2], false, true));
        assert_eq!(window(vec![5, 6], Keyset::After(4), 2), (vec![5, 6], true, false));
        assert_eq!(window(vec![1, 2, 3], Keyset::Before(4), 2), (vec![2, 3], true, true));
        assert_eq!(window(vec![1, 2], Keyset::Before(3), 2), (vec![1, 2], false, true));
    }
}
