//! `/audit/log.csv` and `/audit/actions.csv`: the filtered tables as CSV, safe for Excel (`crate::export`),
//! UTF-8 with a byte order mark unless `encoding=utf-8` or `shift_jis`. Streamed: the rows are read in keyset
//! batches and each batch is written to the response as it comes, so the table is never held in memory. A
//! failure part-way (the database, a character Shift_JIS lacks) ends the response early, which the
//! browser reports as a failed download rather than a short file.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::stream;

use super::super::role::Auditor;
use super::super::session::Signed;
use super::super::state::Web;
use super::super::status::{BAD_INPUT, status_of};
use super::audit::{ActionQuery, LogQuery};
use super::frame::Lang;
use crate::Application;
use crate::error::AppError;
use crate::export::{ACTION_COLUMNS, Encoding, LOG_COLUMNS, SafeCsv, action_row, log_row};
use crate::store::{ActionFilter, Keyset, LogFilter};
use std::sync::Arc;

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/audit/log.csv", get(log_csv))
        .route("/audit/actions.csv", get(actions_csv))
}

/// Rows read per batch.
const BATCH: u32 = 1000;

fn encoding(name: &str) -> Encoding {
    match name {
        "utf-8" => Encoding::Utf8,
        "shift_jis" => Encoding::ShiftJis,
        _ => Encoding::Utf8Bom,
    }
}

/// The response headers of a download named `name`, in `encoding`.
fn download(name: &'static str, encoding: Encoding, body: Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.csv_content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The table a download reads.
enum Table {
    Log(LogFilter),
    Actions(ActionFilter),
}

/// Where a stream stands: the writer (it remembers whether the byte order mark is out), the last id read,
/// and whether the table is done.
struct Cursor {
    app: Arc<Application>,
    table: Table,
    tz: chrono_tz::Tz,
    csv: SafeCsv<Vec<u8>>,
    last: i64,
    done: bool,
}

impl Cursor {
    fn new(web: &Web, table: Table, encoding_name: &str, columns: &[&str]) -> Result<Cursor, AppError> {
        let mut csv = SafeCsv::new(Vec::new(), encoding(encoding_name));
        csv.write(columns)?;
        Ok(Cursor {
            app: web.app.clone(),
            table,
            tz: web.app.settings.schedule.tz(),
            csv,
            last: 0,
            done: false,
        })
    }

    /// Writes the next batch; how many rows it had.
    async fn batch(&mut self) -> Result<usize, AppError> {
        let (csv, tz, after) = (&mut self.csv, self.tz, Keyset::After(self.last));
        let (n, last) = match &self.table {
            Table::Log(filter) => {
                let rows = self.app.send_log_page(filter, after, BATCH).await?;
                for e in &rows {
                    csv.write(log_row(e, tz))?;
                }
                (rows.len(), rows.last().map(|r| r.id))
            }
            Table::Actions(filter) => {
                let rows = self.app.actions_keyset(filter, after, BATCH).await?;
                for a in &rows {
                    csv.write(action_row(a, tz))?;
                }
                (rows.len(), rows.last().map(|r| r.id))
            }
        };
        if let Some(last) = last {
            self.last = last;
        }
        Ok(n)
    }
}

/// The CSV as a stream of chunks: the header with the first batch, then one chunk per batch, until a batch
/// is short.
fn chunks(cursor: Cursor) -> impl futures::Stream<Item = Result<Bytes, AppError>> + Send + 'static {
    stream::unfold(cursor, |mut c| async move {
        if c.done {
            return None;
        }
        let chunk = match c.batch().await {
            Ok(n) => {
                c.done = n < BATCH as usize;
                Ok(Bytes::from(std::mem::take(c.csv.get_mut())))
            }
            Err(e) => {
                tracing::error!(error = %e, "web: a CSV download stopped");
                c.done = true;
                Err(e)
            }
        };
        Some((chunk, c))
    })
}

/// A download of `table`, or why not.
fn stream_of(web: &Web, name: &'static str, table: Table, encoding_name: &str, columns: &[&str]) -> Response {
    match Cursor::new(web, table, encoding_name, columns) {
        Ok(cursor) => download(name, encoding(encoding_name), Body::from_stream(chunks(cursor))),
        Err(e) => (status_of(e.kind()), e.to_string()).into_response(),
    }
}

async fn log_csv(
    State(web): State<Web>,
    _signed_in: Signed<Auditor>,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    match q.filter(&web, Lang::of(&headers)) {
        Ok(filter) => stream_of(&web, "send-log.csv", Table::Log(filter), &q.encoding, &LOG_COLUMNS),
        Err(_) => (BAD_INPUT, "a filter is not valid: see /audit/log").into_response(),
    }
}

async fn actions_csv(
    State(web): State<Web>,
    _signed_in: Signed<Auditor>,
    headers: HeaderMap,
    Query(q): Query<ActionQuery>,
) -> Response {
    match q.filter(&web, Lang::of(&headers)) {
        Ok(filter) => stream_of(
            &web,
            "staff-actions.csv",
            Table::Actions(filter),
            &q.encoding,
            &ACTION_COLUMNS,
        ),
        Err(_) => (BAD_INPUT, "a filter is not valid: see /audit/actions").into_response(),
    }
}
