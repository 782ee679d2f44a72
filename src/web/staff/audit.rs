//! What every role may read: the send log and the staff-action log with filters, a page at a time by id
//! (next and previous), one mail's full record with every attempt of its delivery, and both tables as CSV
//! (`audit_csv`). Dates are days in the configured zone (Asia/Tokyo), the "to" day included.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::super::Web;
use super::super::session::SignedInUser;
use super::audit_csv;
use super::campaigns::{channel_options, options};
use super::kit::{ThemeNames, failure, given, page_with, when};
use super::sentences::{CampaignNames, sentence};
use super::{Lang, frame, page};
use crate::domain::Outcome;
use crate::domain::campaign::schedule::parse_local_date;
use crate::store::{ActionFilter, Keyset, LogFilter};

/// Rows per page unless `limit` says otherwise (1 to `MAX_PAGE`).
const PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;

fn page_size(limit: Option<u32>) -> u32 {
    limit.unwrap_or(PAGE).clamp(1, MAX_PAGE)
}

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/audit/log", get(log))
        .route("/audit/log.csv", get(audit_csv::log_csv))
        .route("/audit/log/{id}", get(entry))
        .route("/audit/actions", get(actions))
        .route("/audit/actions.csv", get(audit_csv::actions_csv))
}

/// The filters as typed (kept in the form), and the page's cursor.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub(super) struct LogQuery {
    #[serde(default)]
    pub campaign: String,
    #[serde(default)]
    pub theme: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default)]
    pub encoding: String,
}

/// The errors of a filter form, by field.
pub(super) type FieldErrors = Map<String, Value>;

/// The errors with every field of the form present (empty when fine): the templates are strict.
fn every_field(mut errors: FieldErrors, fields: &[&str]) -> Value {
    for field in fields {
        errors.entry(field.to_string()).or_insert_with(|| "".into());
    }
    errors.into()
}

const LOG_FIELDS: &[&str] = &["campaign", "theme", "channel", "recipient", "outcome", "from", "to"];
const ACTION_FIELDS: &[&str] = &["actor", "action", "from", "to"];

fn day(web: &Web, errors: &mut FieldErrors, field: &'static str, value: &str, end: bool, lang: Lang) -> Option<i64> {
    let value = given(value)?;
    match parse_local_date(field, &value, web.app.settings.schedule.tz(), end) {
        // The end of the "to" day is its last millisecond; the store's bound is exclusive.
        Ok(ms) => Some(if end { ms + 1 } else { ms }),
        Err(_) => {
            errors.insert(field.into(), lang.t("use-yyyy-mm-dd").into());
            None
        }
    }
}

impl LogQuery {
    /// The store's filter, or the message of every field at fault.
    pub(super) fn filter(&self, web: &Web, lang: Lang) -> Result<LogFilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let campaign_id = given(&self.campaign).and_then(|c| match c.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.insert("campaign".into(), lang.t("give-a-number").into());
                None
            }
        });
        let channel = given(&self.channel).and_then(|c| match c.parse::<crate::domain::Channel>() {
            Ok(c) => Some(c.slug().to_owned()),
            Err(e) => {
                errors.insert("channel".into(), e.to_string().into());
                None
            }
        });
        let outcome = given(&self.outcome).and_then(|o| match Outcome::parse(&o) {
            Some(o) => Some(o),
            None => {
                errors.insert("outcome".into(), "sent, deferred, failed, skipped".into());
                None
            }
        });
        let filter = LogFilter {
            campaign_id,
            theme_slug: given(&self.theme),
            channel,
            recipient: given(&self.recipient),
            outcome,
            from_ms: day(web, &mut errors, "from", &self.from, false, lang),
            to_ms: day(web, &mut errors, "to", &self.to, true, lang),
        };
        if errors.is_empty() { Ok(filter) } else { Err(errors) }
    }

    /// The query string of these filters with another cursor (or none).
    fn with_cursor(&self, after: Option<i64>, before: Option<i64>) -> String {
        let mut q = self.clone();
        q.after = after;
        q.before = before;
        q.encoding = String::new();
        serde_urlencoded::to_string(&q).unwrap_or_default()
    }
}

/// The keyset of a page from its query: before an id, else after one (the start by default).
fn keyset(after: Option<i64>, before: Option<i64>) -> Keyset {
    match (before, after) {
        (Some(b), _) => Keyset::Before(b),
        (None, a) => Keyset::After(a.unwrap_or(0).max(0)),
    }
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

async fn log(
    State(web): State<Web>,
    signed_in: SignedInUser,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let mut context = frame(&web, &signed_in, lang, &lang.t("send-log"), "/audit/log");
    context["q"] = serde_json::to_value(&q).unwrap_or_default();
    context["rows"] = Value::Array(Vec::new());
    context["prev"] = "".into();
    context["next"] = "".into();
    context["csv"] = q.with_cursor(None, None).into();
    let themes = match ThemeNames::of(&web.app, lang).await {
        Ok(t) => t,
        Err(e) => return failure(&web, &signed_in, lang, "/audit/log", &e),
    };
    // What is stored is chosen from names: nobody types a slug to filter.
    context["themes"] = themes.options(&q.theme).into();
    context["channels"] = channel_options(lang, &q.channel).into();
    context["outcomes"] = options(
        Outcome::ALL
            .iter()
            .map(|o| (o.as_str().to_owned(), lang.label("outcome", o.as_str()))),
        &q.outcome,
    )
    .into();
    let filter = match q.filter(&web, lang) {
        Ok(filter) => filter,
        Err(errors) => {
            context["errors"] = every_field(errors, LOG_FIELDS);
            return page_with(&web, StatusCode::UNPROCESSABLE_ENTITY, "staff/audit-log", &context);
        }
    };
    context["errors"] = every_field(FieldErrors::new(), LOG_FIELDS);
    let keyset = keyset(q.after, q.before);
    let limit = page_size(q.limit);
    let rows = match web.app.send_log_page(&filter, keyset, limit + 1).await {
        Ok(rows) => rows,
        Err(e) => return failure(&web, &signed_in, lang, "/audit/log", &e),
    };
    let (rows, has_prev, has_next) = window(rows, keyset, limit);
    if let (true, Some(first)) = (has_prev, rows.first()) {
        context["prev"] = q.with_cursor(None, Some(first.id)).into();
    }
    if let (true, Some(last)) = (has_next, rows.last()) {
        context["next"] = q.with_cursor(Some(last.id), None).into();
    }
    context["rows"] = rows
        .iter()
        .map(|r| {
            json!({"id": r.id, "at": when(&web, lang, r.at), "campaign": r.campaign_id, "theme": themes.name(&r.theme_slug),
                   "channel": lang.label("channel", &r.channel), "recipient": r.recipient,
                   "outcome": lang.label("outcome", r.outcome.as_str()), "outcome_code": r.outcome.as_str(),
                   "code": r.smtp_code.map(|c| c.to_string()).unwrap_or_default()})
        })
        .collect::<Vec<_>>()
        .into();
    page(&web, "staff/audit-log", &context)
}

async fn entry(State(web): State<Web>, signed_in: SignedInUser, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let lang = Lang::of(&headers);
    let (entry, attempts) = match web.app.log_entry(id).await {
        Ok(found) => found,
        Err(e) => return failure(&web, &signed_in, lang, "/audit/log", &e),
    };
    let themes = match ThemeNames::of(&web.app, lang).await {
        Ok(t) => t,
        Err(e) => return failure(&web, &signed_in, lang, "/audit/log", &e),
    };
    let title = format!("{} #{id}", lang.t("mail-record"));
    let mut context = frame(&web, &signed_in, lang, &title, "/audit/log");
    let view = |r: &crate::store::LogEntry| {
        json!({"id": r.id, "at": when(&web, lang, r.at), "attempt": r.attempt,
               "outcome": lang.label("outcome", r.outcome.as_str()), "outcome_code": r.outcome.as_str(),
               "code": r.smtp_code.map(|c| c.to_string()).unwrap_or_default(), "reply": r.smtp_reply,
               "sender": r.sender, "current": r.id == id})
    };
    context["entry"] = json!({
        "id": entry.id, "at": when(&web, lang, entry.at), "delivery": entry.delivery_id, "attempt": entry.attempt,
        "run": entry.run_id, "campaign": entry.campaign_id, "theme": themes.name(&entry.theme_slug), "duty": entry.duty,
        "channel": lang.label("channel", &entry.channel), "recipient": entry.recipient, "message_id": entry.message_id,
        "template": entry.template, "content_sha256": entry.content_sha256,
        "code": entry.smtp_code.map(|c| c.to_string()).unwrap_or_default(), "reply": entry.smtp_reply,
        "sender": entry.sender, "outcome": lang.label("outcome", entry.outcome.as_str()),
        "outcome_code": entry.outcome.as_str(),
    });
    context["attempts"] = attempts.iter().map(view).collect::<Vec<_>>().into();
    page(&web, "staff/audit-entry", &context)
}

/// The action log's filters as typed, and the page's cursor.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub(super) struct ActionQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default)]
    pub encoding: String,
}

impl ActionQuery {
    pub(super) fn filter(&self, web: &Web, lang: Lang) -> Result<ActionFilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let filter = ActionFilter {
            actor: given(&self.actor),
            action: given(&self.action),
            since_ms: day(web, &mut errors, "from", &self.from, false, lang),
            until_ms: day(web, &mut errors, "to", &self.to, true, lang),
            target: None,
        };
        if errors.is_empty() { Ok(filter) } else { Err(errors) }
    }

    fn with_cursor(&self, after: Option<i64>, before: Option<i64>) -> String {
        let mut q = self.clone();
        q.after = after;
        q.before = before;
        q.encoding = String::new();
        serde_urlencoded::to_string(&q).unwrap_or_default()
    }
}

async fn actions(
    State(web): State<Web>,
    signed_in: SignedInUser,
    headers: HeaderMap,
    Query(q): Query<ActionQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let mut context = frame(&web, &signed_in, lang, &lang.t("staff-actions"), "/audit/actions");
    context["q"] = serde_json::to_value(&q).unwrap_or_default();
    context["rows"] = Value::Array(Vec::new());
    context["prev"] = "".into();
    context["next"] = "".into();
    context["csv"] = q.with_cursor(None, None).into();
    let filter = match q.filter(&web, lang) {
        Ok(filter) => filter,
        Err(errors) => {
            context["errors"] = every_field(errors, ACTION_FIELDS);
            return page_with(&web, StatusCode::UNPROCESSABLE_ENTITY, "staff/audit-actions", &context);
        }
    };
    context["errors"] = every_field(FieldErrors::new(), ACTION_FIELDS);
    let keyset = keyset(q.after, q.before);
    let limit = page_size(q.limit);
    let rows = match web.app.actions_keyset(&filter, keyset, limit + 1).await {
        Ok(rows) => rows,
        Err(e) => return failure(&web, &signed_in, lang, "/audit/actions", &e),
    };
    let (rows, has_prev, has_next) = window(rows, keyset, limit);
    if let (true, Some(first)) = (has_prev, rows.first()) {
        context["prev"] = q.with_cursor(None, Some(first.id)).into();
    }
    if let (true, Some(last)) = (has_next, rows.last()) {
        context["next"] = q.with_cursor(Some(last.id), None).into();
    }
    let campaigns: CampaignNames = match web.app.campaigns().await {
        Ok(all) => all.into_iter().map(|c| (c.id, c.name)).collect(),
        Err(e) => return failure(&web, &signed_in, lang, "/audit/actions", &e),
    };
    context["rows"] = rows
        .iter()
        .map(|a| {
            json!({"id": a.id, "at": when(&web, lang, a.at), "address": a.address,
                   "sentence": sentence(lang, a, &campaigns), "canonical": a.canonical()})
        })
        .collect::<Vec<_>>()
        .into();
    page(&web, "staff/audit-actions", &context)
}
