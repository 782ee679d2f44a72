//! What the campaign pages share, and the dashboard with them: the names of states, reasons, schedules and
//! channels, the options of a `<select>`, and the page that only says something (a failure, a missing
//! campaign).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::super::super::session::SignedInUser;
use super::super::super::state::Web;
use super::super::super::status::status_of;
use super::super::frame::{Lang, frame, page};
use super::super::kit::local_time;
pub(in crate::web::staff) use super::super::kit::options;
use crate::Application;
use crate::domain::campaign::schedule::Schedule;
use crate::domain::campaign::{Campaign, CampaignState};
use crate::domain::plan::Channel;
use crate::error::{AppError, ErrorKind};

/// How many firing times a campaign shows.
pub(in crate::web::staff) const NEXT_FIRINGS: usize = 5;

/// Repeating schedules offered in the form, as cron in Tokyo time: the expression and its name in the catalogue.
pub(in crate::web::staff) const PRESETS: &[(&str, &str)] = &[
    ("0 9 * * MON#1", "preset-first-monday"),
    ("0 9 * * MON", "preset-every-monday"),
    ("0 9 1 * *", "preset-first-of-month"),
];

/// A campaign's next firing times from now (none unless it is scheduled).
pub(in crate::web::staff) fn next_firings(app: &Application, c: &Campaign, n: usize) -> Vec<i64> {
    if c.state == CampaignState::Scheduled {
        c.ticks_after(app.now().max(c.settled_ms), n)
    } else {
        Vec::new()
    }
}

pub(in crate::web::staff) fn state_label(lang: Lang, state: CampaignState) -> String {
    lang.label("campaign-state", state.as_str())
}

/// Why a campaign is in its state, in the page's language. The reasons the service writes are named; a mail
/// server's reply inside one is shown as the server gave it.
pub(in crate::web::staff) fn reason_label(lang: Lang, reason: &str) -> String {
    const SMTP: &str = "paused: the mail server refuses the sending, not a recipient: ";
    const RENDER: &str = "held: the mail does not render: ";
    const RATE: &str = "paused automatically: ";
    match reason {
        "" => String::new(),
        "paused by staff" => lang.t("reason-paused-by-staff"),
        "cancelled by staff" => lang.t("reason-cancelled-by-staff"),
        "no firing time left inside the campaign's bounds" => lang.t("reason-no-firing-left"),
        _ => {
            if let Some(reply) = reason.strip_prefix(SMTP) {
                lang.t_with("reason-server-refuses-sending", &[("reply", reply)])
            } else if let Some(error) = reason.strip_prefix(RENDER) {
                lang.t_with("reason-does-not-render", &[("error", error)])
            } else if let Some(rest) = reason.strip_prefix(RATE) {
                failure_rate_label(lang, rest).unwrap_or_else(|| reason.to_owned())
            } else {
                reason.to_owned()
            }
        }
    }
}

/// `3 of 10 deliveries of run 5 failed (30% > 20%)`, as the worker writes it.
fn failure_rate_label(lang: Lang, rest: &str) -> Option<String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let [
        failed,
        "of",
        done,
        "deliveries",
        "of",
        "run",
        run,
        "failed",
        rate,
        ">",
        limit,
    ] = words.as_slice()
    else {
        return None;
    };
    let rate = rate.trim_start_matches('(');
    let limit = limit.trim_end_matches(')');
    Some(lang.t_with(
        "reason-failure-rate",
        &[
            ("failed", failed),
            ("done", done),
            ("run", run),
            ("rate", rate),
            ("limit", limit),
        ],
    ))
}

/// A schedule in words: the one time, or the name of a repeating schedule the form offers (any other cron
/// expression is shown beside it as typed).
pub(in crate::web::staff) fn schedule_label(app: &Application, lang: Lang, schedule: &Schedule) -> String {
    match schedule {
        Schedule::Once { at_ms } => lang.t_with("schedule-once", &[("at", &local_time(app, lang, *at_ms))]),
        Schedule::Cron { expr, .. } => PRESETS
            .iter()
            .find(|(cron, _)| cron == expr)
            .map_or_else(|| lang.t("schedule-cron"), |(_, key)| lang.t(key)),
    }
}

pub(in crate::web::staff) fn channel_label(lang: Lang, channel: Channel) -> String {
    lang.label("channel", channel.slug())
}

/// A page that only says something (a failure, a missing campaign), with `status`.
pub(in crate::web::staff) fn message(
    web: &Web,
    who: &SignedInUser,
    lang: Lang,
    status: StatusCode,
    text: &str,
) -> Response {
    let title = lang.t("notice");
    let mut context = frame(web, who, lang, &title, "/staff/campaigns");
    context["message"] = text.into();
    (status, page(web, "staff/message", &context)).into_response()
}

/// A service's failure as the staff pages show it, with its kind's status: the user's mistake, or ours. A
/// configuration or mail-server problem is said (staff can have it fixed); the database's and the program's
/// are logged and not shown.
pub(in crate::web::staff) fn failed(web: &Web, who: &SignedInUser, lang: Lang, e: &AppError) -> Response {
    let text = match e.kind() {
        ErrorKind::NotFound => lang.t("not-found"),
        ErrorKind::Database | ErrorKind::Internal => {
            tracing::error!(error = %e, "web: a staff request failed");
            lang.t("try-again-later")
        }
        // What is wrong with what was given, in the page's language.
        ErrorKind::Invalid => match e {
            AppError::Invalid(invalid) => {
                let said: Vec<String> = invalid.problems().iter().map(|p| p.explain(lang == Lang::En)).collect();
                said.join(" ")
            }
            _ => e.to_string(),
        },
        _ => e.to_string(),
    };
    message(web, who, lang, status_of(e.kind()), &text)
}

pub(in crate::web::staff) fn channel_options(lang: Lang, chosen: &str) -> Vec<Value> {
    let channels = [Channel::Newsletter, Channel::ToshoShimbun, Channel::AdvisorHandout];
    options(channels.map(|c| (c.slug().to_owned(), channel_label(lang, c))), chosen)
}
