//! What the member, audit and admin pages share: who acts, times in the configured zone, answers for
//! failures, and the multipart-free checks of a form.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::said::said;
use super::super::session::SignedInUser;
use super::super::state::Web;
use super::super::status::status_of;
use super::frame::{Lang, frame, page};
use crate::domain::Actor;
use chrono::{Datelike, TimeZone};

use crate::Application;
use crate::domain::plan::Plan;
use crate::error::{AppError, ErrorKind};

/// The signed-in user as the actor of a change.
pub(super) fn actor(signed_in: &SignedInUser) -> Actor {
    Actor::User {
        email: signed_in.user.email.clone(),
        role: signed_in.user.role,
    }
}

/// A time for people to the second, in the configured zone: `2020年6月1日(月) 09:00:05`, `Mon 1 Jun 2020 09:00:05`.
pub(super) fn when(web: &Web, lang: Lang, ms: i64) -> String {
    local(&web.app, lang, ms, true)
}

/// A time for people to the minute, in the configured zone: `2027年1月4日(月) 10:00`, `Mon 4 Jan 2027 10:00`.
pub(super) fn local_time(app: &Application, lang: Lang, ms: i64) -> String {
    local(app, lang, ms, false)
}

fn local(app: &Application, lang: Lang, ms: i64, seconds: bool) -> String {
    let tz = app.settings.schedule.tz();
    let Some(t) = tz.timestamp_millis_opt(ms).single() else {
        return ms.to_string();
    };
    let names = lang.t("weekdays");
    let day = t.weekday().num_days_from_monday() as usize;
    let weekday = names.split(',').nth(day).unwrap_or_default().trim();
    let clock = if seconds { "%H:%M:%S" } else { "%H:%M" };
    let mut text = match lang {
        Lang::Ja => format!("{}({weekday}) {}", t.format("%Y年%-m月%-d日"), t.format(clock)),
        Lang::En => format!("{weekday} {} {}", t.format("%-d %b %Y"), t.format(clock)),
    };
    // Tokyo is what every reader assumes; any other zone is named.
    if tz != chrono_tz::Asia::Tokyo {
        text.push_str(&t.format(" %Z").to_string());
    }
    text
}

/// A page with a status other than 200.
pub(super) fn page_with(web: &Web, status: StatusCode, template: &str, context: &Value) -> Response {
    let mut response = page(web, template, context);
    *response.status_mut() = status;
    response
}

/// A failure as staff see it, with its kind's status: not found, a refused request, or ours (logged).
pub(super) fn failure(web: &Web, signed_in: &SignedInUser, lang: Lang, current: &str, e: &AppError) -> Response {
    let status = status_of(e.kind());
    let title = match e.kind() {
        ErrorKind::NotFound => "failure-not-found",
        ErrorKind::Invalid => "failure-invalid",
        ErrorKind::Conflict => "failure-conflict",
        ErrorKind::Forbidden | ErrorKind::Unauthorized => "failure-forbidden",
        _ => {
            tracing::error!(error = %e, "web: a staff request failed");
            "failure-ours"
        }
    };
    let mut context = frame(web, signed_in, lang, &lang.t(title), current);
    // Only messages written for people, in the page's language: a database error is not shown.
    let message = if status.is_server_error() && e.kind() != ErrorKind::Config {
        String::new()
    } else {
        said(lang, e)
    };
    context["message"] = message.into();
    page_with(web, status, "staff/members-notice", &context)
}

/// A text field as typed, or none when left empty.
pub(super) fn given(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// The plan's theme names in the page's language, by slug: what staff and auditors read instead of a slug.
pub(super) struct ThemeNames(Vec<(String, String)>);

impl ThemeNames {
    pub(super) async fn of(app: &Application, lang: Lang) -> Result<Self, AppError> {
        Ok(Self::new(&app.plan(None).await?, lang))
    }

    pub(super) fn new(plan: &Plan, lang: Lang) -> Self {
        let names = plan
            .themes
            .iter()
            .map(|t| {
                let name = match lang {
                    Lang::En if !t.title_en.is_empty() => t.title_en.clone(),
                    _ => t.title_ja.clone(),
                };
                (t.slug.clone(), name)
            })
            .collect();
        Self(names)
    }

    /// The theme's name; a slug the plan no longer has shows as stored.
    pub(super) fn name(&self, slug: &str) -> String {
        self.0
            .iter()
            .find(|(s, _)| s == slug)
            .map_or_else(|| slug.to_owned(), |(_, name)| name.clone())
    }

    /// Options of a theme `<select>`, the chosen one marked.
    pub(super) fn options(&self, chosen: &str) -> Vec<Value> {
        options(self.0.iter().cloned(), chosen)
    }
}

/// Options of a `<select>`: `(value, label)`, the chosen one marked.
pub(super) fn options(pairs: impl IntoIterator<Item = (String, String)>, chosen: &str) -> Vec<Value> {
    pairs
        .into_iter()
        .map(|(value, label)| json!({"value": value, "label": label, "selected": value == chosen}))
        .collect()
}
