//! The API's lists, a page at a time by id (the send log, the staff-action log, the members): one handler,
//! [`answer`], over what [`ApiList`] says of each. A page holds `limit` rows (1 to 1000, 100 unless asked) after
//! the id `after`; a limit or a cursor out of range is refused, naming it. `next` is the `after` of the next
//! page, null on the last.

use std::future::Future;

use axum::Json;

use super::super::keyset::{self, Asked, Paged, Paging};
use super::error::ApiResult;
use super::kit::Reader;
use crate::Application;

const PAGING: Paging = Paging {
    default: 100,
    max: 1000,
};

/// A list as the API answers it: its query, the filter that query makes, and its rows as JSON.
pub(super) trait ApiList: Paged {
    type Query: Send;
    type View;
    type Page: serde::Serialize;

    /// The page the query asks for.
    fn asked(query: &Self::Query) -> Asked;

    /// The filter of the query, checked.
    fn filter(app: &Application, query: Self::Query) -> impl Future<Output = ApiResult<Self::Filter>> + Send;

    fn view(app: &Application, row: Self::Row) -> Self::View;

    fn page(items: Vec<Self::View>, next: Option<i64>) -> Self::Page;
}

/// A page of `L`: the body of each list's handler (their `#[utoipa::path]` documents them one by one).
pub(super) async fn answer<L: ApiList>(caller: Reader, query: L::Query) -> ApiResult<Json<L::Page>> {
    let cursor = PAGING.check(L::asked(&query))?;
    let app = &caller.app;
    let filter = L::filter(app, query).await?;
    let found = keyset::page::<L>(app, &filter, cursor).await?;
    let items = found.rows.into_iter().map(|row| L::view(app, row)).collect();
    Ok(Json(L::page(items, found.after)))
}
