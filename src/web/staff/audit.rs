//! What every role may read: the send log and the staff-action log with filters, a page at a time by id
//! (next and previous), one mail's full record with every attempt of its delivery, and both tables as CSV
//! (`audit_csv`). Both logs are one page, [`log_page`], over what [`AuditLog`] says of each. Dates are days in
//! the configured zone (Asia/Tokyo), the "to" day included.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use chrono_tz::Tz;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::super::keyset::{self, ActionLog, Asked, Paged, Paging, SendLog};
use super::super::role::Auditor;
use super::super::session::Signed;
use super::super::state::Web;
use super::super::status::BAD_INPUT;
use super::campaigns::shared::{channel_options, options};
use super::frame::{Lang, frame, page};
use super::kit::{ThemeNames, failure, given, page_with, when};
use super::sentences::{CampaignNames, sentence};
use crate::domain::ActionRecord;
use crate::domain::Outcome;
use crate::domain::campaign::schedule::parse_local_date;
use crate::export::{ACTION_COLUMNS, LOG_COLUMNS, action_row, log_row};
use crate::store::{ActionFilter, LogEntry, LogFilter};

/// Rows per page unless `limit` says otherwise (1 to 500; another number is brought into range).
const PAGING: Paging = Paging { default: 100, max: 500 };

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/audit/log", get(log_page::<SendLog>))
        .route("/audit/log/{id}", get(entry))
        .route("/audit/actions", get(log_page::<ActionLog>))
}

/// A log as the audit pages show it: its filter form, its page and its rows.
pub(super) trait AuditLog: Paged {
    /// The filters as typed, kept in the form.
    type Filters: DeserializeOwned + Serialize + Clone + Default + Send + Sync + 'static;
    const PATH: &'static str;
    const TEMPLATE: &'static str;
    /// The page's title in the message catalogue.
    const TITLE: &'static str;
    /// Every field of the filter form: the template reads an error for each.
    const FIELDS: &'static [&'static str];
    /// The name of its CSV download, and the header.
    const FILE: &'static str;
    const COLUMNS: &'static [&'static str];

    /// The store's filter, or the message of every field at fault.
    fn filter(filters: &Self::Filters, web: &Web, lang: Lang) -> Result<Self::Filter, FieldErrors>;

    /// A row as the template shows it, named in the page's language.
    fn view(web: &Web, names: &Names, row: &Self::Row) -> Value;

    /// The filter form's choices (`<select>` options) in the page's language, merged into the page.
    fn choices(_filters: &Self::Filters, _names: &Names) -> Map<String, Value> {
        Map::new()
    }

    /// A row of the CSV download, under [`AuditLog::COLUMNS`].
    fn cells(row: &Self::Row, tz: Tz) -> Vec<String>;
}

/// What the rows name by id or slug, in the page's language: themes by the plan's titles, campaigns by name.
pub(super) struct Names {
    lang: Lang,
    themes: ThemeNames,
    campaigns: CampaignNames,
}

impl Names {
    async fn of(web: &Web, lang: Lang) -> Result<Self, crate::error::AppError> {
        let themes = ThemeNames::of(&web.app, lang).await?;
        let campaigns = web.app.campaigns().await?.into_iter().map(|c| (c.id, c.name)).collect();
        Ok(Self {
            lang,
            themes,
            campaigns,
        })
    }
}

/// The filters as typed (kept in the form), and the page's cursor. The filters are flattened in: they are all
/// text, which is what a flattened struct of a query string can read.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub(super) struct LogQuery<F> {
    #[serde(flatten)]
    pub(super) filters: F,
    #[serde(default)]
    pub(super) after: Option<i64>,
    #[serde(default)]
    pub(super) before: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) limit: Option<u32>,
    #[serde(default)]
    pub(super) encoding: String,
}

impl<F: Serialize + Clone> LogQuery<F> {
    fn asked(&self) -> Asked {
        Asked {
            after: self.after,
            before: self.before,
            limit: self.limit,
        }
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

/// The errors of a filter form, by field.
pub(super) type FieldErrors = Map<String, Value>;

/// The errors with every field of the form present (empty when fine): the templates are strict.
fn every_field(mut errors: FieldErrors, fields: &[&str]) -> Value {
    for field in fields {
        errors.entry(field.to_string()).or_insert_with(|| "".into());
    }
    errors.into()
}

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

/// `GET /audit/log` and `GET /audit/actions`: a page of the log, filtered, with the links to the pages before
/// and after it and to its CSV.
async fn log_page<L: AuditLog>(
    State(web): State<Web>,
    signed_in: Signed<Auditor>,
    headers: HeaderMap,
    Query(q): Query<LogQuery<L::Filters>>,
) -> Response {
    let lang = Lang::of(&headers);
    let mut context = frame(&web, &signed_in, lang, &lang.t(L::TITLE), L::PATH);
    let names = match Names::of(&web, lang).await {
        Ok(names) => names,
        Err(e) => return failure(&web, &signed_in, lang, L::PATH, &e),
    };
    for (key, value) in L::choices(&q.filters, &names) {
        context[key] = value;
    }
    context["q"] = serde_json::to_value(&q).unwrap_or_default();
    context["rows"] = Value::Array(Vec::new());
    context["prev"] = "".into();
    context["next"] = "".into();
    context["csv"] = q.with_cursor(None, None).into();
    let filter = match L::filter(&q.filters, &web, lang) {
        Ok(filter) => filter,
        Err(errors) => {
            context["errors"] = every_field(errors, L::FIELDS);
            return page_with(&web, BAD_INPUT, L::TEMPLATE, &context);
        }
    };
    context["errors"] = every_field(FieldErrors::new(), L::FIELDS);
    let found = match keyset::page::<L>(&web.app, &filter, PAGING.forgive(q.asked())).await {
        Ok(found) => found,
        Err(e) => return failure(&web, &signed_in, lang, L::PATH, &e),
    };
    if let Some(before) = found.before {
        context["prev"] = q.with_cursor(None, Some(before)).into();
    }
    if let Some(after) = found.after {
        context["next"] = q.with_cursor(Some(after), None).into();
    }
    context["rows"] = found
        .rows
        .iter()
        .map(|row| L::view(&web, &names, row))
        .collect::<Vec<_>>()
        .into();
    page(&web, L::TEMPLATE, &context)
}

/// The send log's filters as typed.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub(super) struct SendFilters {
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl AuditLog for SendLog {
    type Filters = SendFilters;
    const PATH: &'static str = "/audit/log";
    const TEMPLATE: &'static str = "staff/audit-log";
    const TITLE: &'static str = "send-log";
    const FIELDS: &'static [&'static str] = &["campaign", "theme", "channel", "recipient", "outcome", "from", "to"];
    const FILE: &'static str = "send-log.csv";
    const COLUMNS: &'static [&'static str] = &LOG_COLUMNS;

    fn filter(filters: &SendFilters, web: &Web, lang: Lang) -> Result<LogFilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let campaign_id = given(&filters.campaign).and_then(|c| match c.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.insert("campaign".into(), lang.t("give-a-number").into());
                None
            }
        });
        let channel = given(&filters.channel).and_then(|c| match c.parse::<crate::domain::Channel>() {
            Ok(c) => Some(c.slug().to_owned()),
            Err(_) => {
                errors.insert("channel".into(), lang.t("choose").into());
                None
            }
        });
        let outcome = given(&filters.outcome).and_then(|o| match Outcome::parse(&o) {
            Some(o) => Some(o),
            None => {
                errors.insert("outcome".into(), lang.t("choose").into());
                None
            }
        });
        let filter = LogFilter {
            campaign_id,
            theme_slug: given(&filters.theme),
            channel,
            recipient: given(&filters.recipient),
            outcome,
            from_ms: day(web, &mut errors, "from", &filters.from, false, lang),
            to_ms: day(web, &mut errors, "to", &filters.to, true, lang),
        };
        if errors.is_empty() { Ok(filter) } else { Err(errors) }
    }

    fn view(web: &Web, names: &Names, r: &LogEntry) -> Value {
        let lang = names.lang;
        json!({"id": r.id, "at": when(web, lang, r.at), "campaign": r.campaign_id,
               "theme": names.themes.name(&r.theme_slug), "channel": lang.label("channel", &r.channel),
               "recipient": r.recipient, "outcome": lang.label("outcome", r.outcome.as_str()),
               "outcome_code": r.outcome.as_str(), "code": r.smtp_code.map(|c| c.to_string()).unwrap_or_default()})
    }

    /// What is stored is chosen by its name: nobody types a slug to filter.
    fn choices(filters: &SendFilters, names: &Names) -> Map<String, Value> {
        let lang = names.lang;
        let outcomes = Outcome::ALL
            .iter()
            .map(|o| (o.as_str().to_owned(), lang.label("outcome", o.as_str())));
        let mut choices = Map::new();
        choices.insert("themes".into(), names.themes.options(&filters.theme).into());
        choices.insert("channels".into(), channel_options(lang, &filters.channel).into());
        choices.insert("outcomes".into(), options(outcomes, &filters.outcome).into());
        choices
    }

    fn cells(row: &LogEntry, tz: Tz) -> Vec<String> {
        log_row(row, tz).into()
    }
}

/// The action log's filters as typed.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub(super) struct ActionFilters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl AuditLog for ActionLog {
    type Filters = ActionFilters;
    const PATH: &'static str = "/audit/actions";
    const TEMPLATE: &'static str = "staff/audit-actions";
    const TITLE: &'static str = "staff-actions";
    const FIELDS: &'static [&'static str] = &["actor", "action", "from", "to"];
    const FILE: &'static str = "staff-actions.csv";
    const COLUMNS: &'static [&'static str] = &ACTION_COLUMNS;

    fn filter(filters: &ActionFilters, web: &Web, lang: Lang) -> Result<ActionFilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let filter = ActionFilter {
            actor: given(&filters.actor),
            action: given(&filters.action),
            since_ms: day(web, &mut errors, "from", &filters.from, false, lang),
            until_ms: day(web, &mut errors, "to", &filters.to, true, lang),
            target: None,
        };
        if errors.is_empty() { Ok(filter) } else { Err(errors) }
    }

    fn view(web: &Web, names: &Names, a: &ActionRecord) -> Value {
        let lang = names.lang;
        json!({"id": a.id, "at": when(web, lang, a.at), "address": a.address,
               "sentence": sentence(lang, a, &names.campaigns), "canonical": a.canonical()})
    }

    fn cells(row: &ActionRecord, tz: Tz) -> Vec<String> {
        action_row(row, tz).into()
    }
}

async fn entry(
    State(web): State<Web>,
    signed_in: Signed<Auditor>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
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
    let view = |r: &LogEntry| {
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
