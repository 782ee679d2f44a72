//! What the campaign pages share, and the dashboard with them: the names of states, reasons, schedules and
//! channels, the options of a `<select>`, and the page that only says something (a failure, a missing
//! campaign).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::super::super::session::SignedInUser;
use super::super::super::state::Web;
use super::super::frame::{Lang, frame, page};
pub(in crate::web::staff) use super::super::kit::options;
use super::super::kit::{failure, local_time};
use crate::Application;
use crate::domain::campaign::schedule::Schedule;
use crate::domain::campaign::{Campaign, CampaignState, StateReason};
use crate::domain::plan::Channel;
use crate::error::AppError;

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

/// Why a campaign is in its state, in the page's language. A mail server's reply or a template's error inside a
/// reason is shown as it was given; a reason stored as text by an earlier version, as it was stored.
pub(in crate::web::staff) fn reason_label(lang: Lang, reason: &StateReason) -> String {
    match reason {
        StateReason::None => String::new(),
        StateReason::PausedByStaff => lang.t("reason-paused-by-staff"),
        StateReason::CancelledByStaff => lang.t("reason-cancelled-by-staff"),
        StateReason::NoFiringLeft => lang.t("reason-no-firing-left"),
        StateReason::ServerRefusesSending { code, reply } => {
            let reply = match code {
                Some(code) => format!("{code} {reply}"),
                None => reply.clone(),
            };
            lang.t_with("reason-server-refuses-sending", &[("reply", &reply)])
        }
        StateReason::DoesNotRender { error } => lang.t_with("reason-does-not-render", &[("error", error)]),
        StateReason::FailureRate {
            failed,
            done,
            run,
            rate,
            limit,
        } => lang.t_with(
            "reason-failure-rate",
            &[
                ("failed", &failed.to_string()),
                ("done", &done.to_string()),
                ("run", &run.to_string()),
                ("rate", &format!("{:.0}%", rate * 100.0)),
                ("limit", &format!("{:.0}%", limit * 100.0)),
            ],
        ),
        StateReason::Text { text } => text.clone(),
    }
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

/// A service's failure on a campaign page, as every staff page shows one (`kit::failure`), with the way back to
/// the campaigns.
pub(in crate::web::staff) fn failed(web: &Web, who: &SignedInUser, lang: Lang, e: &AppError) -> Response {
    failure(web, who, lang, "/staff/campaigns", e)
}

pub(in crate::web::staff) fn channel_options(lang: Lang, chosen: &str) -> Vec<Value> {
    let channels = [Channel::Newsletter, Channel::ToshoShimbun, Channel::AdvisorHandout];
    options(channels.map(|c| (c.slug().to_owned(), channel_label(lang, c))), chosen)
}
