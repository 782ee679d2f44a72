//! `/audit/log.csv` and `/audit/actions.csv`: the filtered tables as CSV, safe for Excel (`crate::export`),
//! UTF-8 with a byte order mark unless `encoding=utf-8` or `shift_jis`. Streamed: the rows are read in keyset
//! batches and each batch is written to the response as it comes, so the table is never held in memory. A
//! failure part-way (the database, a character Shift_JIS lacks) ends the response early, which the
//! browser reports as a failed download rather than a short file.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::stream;

use super::super::keyset::{self, ActionLog, Cursor as Batch, SendLog};
use super::super::role::Auditor;
use super::super::said::said;
use super::super::session::Signed;
use super::super::state::Web;
use super::super::status::{BAD_INPUT, status_of};
use super::audit::{AuditLog, LogQuery};
use super::frame::Lang;
use crate::Application;
use crate::error::AppError;
use crate::export::{Encoding, SafeCsv};

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/audit/log.csv", get(download::<SendLog>))
        .route("/audit/actions.csv", get(download::<ActionLog>))
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
fn attachment(name: &'static str, encoding: Encoding, body: Body) -> Response {
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

/// Where a download of log `L` stands: the writer (it remembers whether the byte order mark is out), the id the
/// next batch reads after, or none when the log is done.
struct Stream<L: AuditLog> {
    app: Arc<Application>,
    filter: L::Filter,
    tz: chrono_tz::Tz,
    csv: SafeCsv<Vec<u8>>,
    after: Option<i64>,
}

impl<L: AuditLog> Stream<L> {
    fn new(web: &Web, filter: L::Filter, encoding_name: &str) -> Result<Stream<L>, AppError> {
        let mut csv = SafeCsv::new(Vec::new(), encoding(encoding_name));
        csv.write(L::COLUMNS)?;
        Ok(Stream {
            app: web.app.clone(),
            filter,
            tz: web.app.settings.schedule.tz(),
            csv,
            after: Some(0),
        })
    }

    /// Writes the next batch, and notes where the one after it starts.
    async fn batch(&mut self, after: i64) -> Result<(), AppError> {
        let batch = keyset::page::<L>(&self.app, &self.filter, Batch::after(after, BATCH)).await?;
        for row in &batch.rows {
            self.csv.write(L::cells(row, self.tz))?;
        }
        self.after = batch.after;
        Ok(())
    }
}

/// The CSV as a stream of chunks: the header with the first batch, then one chunk per batch, until the last.
fn chunks<L: AuditLog>(stream: Stream<L>) -> impl futures::Stream<Item = Result<Bytes, AppError>> + Send + 'static {
    stream::unfold(stream, |mut s| async move {
        let after = s.after?;
        let chunk = match s.batch(after).await {
            Ok(()) => Ok(Bytes::from(std::mem::take(s.csv.get_mut()))),
            Err(e) => {
                tracing::error!(error = %e, "web: a CSV download stopped");
                s.after = None;
                Err(e)
            }
        };
        Some((chunk, s))
    })
}

/// `GET /audit/log.csv` and `GET /audit/actions.csv`: the log as its page filters it, every row.
async fn download<L: AuditLog>(
    State(web): State<Web>,
    _signed_in: Signed<Auditor>,
    headers: HeaderMap,
    Query(q): Query<LogQuery<L::Filters>>,
) -> Response {
    let lang = Lang::of(&headers);
    let filter = match L::filter(&q.filters, &web, lang) {
        Ok(filter) => filter,
        // The page of the same filters says which one is wrong; a download only says so.
        Err(_) => return (BAD_INPUT, lang.t_with("said-input", &[("detail", L::PATH)])).into_response(),
    };
    match Stream::<L>::new(&web, filter, &q.encoding) {
        Ok(stream) => attachment(L::FILE, encoding(&q.encoding), Body::from_stream(chunks(stream))),
        Err(e) => (status_of(e.kind()), said(lang, &e)).into_response(),
    }
}
