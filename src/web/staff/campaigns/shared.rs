//! What the campaign pages share, and the dashboard with them: times with their weekday, the labels of states
//! and channels, the options of a `<select>`, and the page that only says something (a failure, a missing
//! campaign).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, TimeZone};
use serde_json::{Value, json};

use super::super::super::session::SignedInUser;
use super::super::super::state::Web;
use super::super::super::status::status_of;
use super::super::frame::{Lang, frame, page};
use crate::Application;
use crate::domain::campaign::{Campaign, CampaignState};
use crate::domain::plan::Channel;
use crate::error::{AppError, ErrorKind};

/// How many firing times a campaign shows.
pub(in crate::web::staff) const NEXT_FIRINGS: usize = 5;

/// `2020-06-01（月）09:00 JST` in the configured zone (Tokyo), with the weekday in the page's language.
pub(in crate::web::staff) fn local_time(app: &Application, lang: Lang, ms: i64) -> String {
    const JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let tz = app.settings.schedule.tz();
    match tz.timestamp_millis_opt(ms).single() {
        Some(t) => {
            let day = t.weekday().num_days_from_monday() as usize;
            let weekday = lang.pick(JA[day], EN[day]);
            format!("{} ({weekday}) {}", t.format("%Y-%m-%d"), t.format("%H:%M %Z"))
        }
        None => ms.to_string(),
    }
}

/// A campaign's next firing times from now (none unless it is scheduled).
pub(in crate::web::staff) fn next_firings(app: &Application, c: &Campaign, n: usize) -> Vec<i64> {
    if c.state == CampaignState::Scheduled {
        c.ticks_after(app.now().max(c.settled_ms), n)
    } else {
        Vec::new()
    }
}

pub(in crate::web::staff) fn state_label(lang: Lang, state: CampaignState) -> &'static str {
    match state {
        CampaignState::Scheduled => lang.pick("予定どおり配信", "Scheduled"),
        CampaignState::Paused => lang.pick("一時停止中", "Paused"),
        CampaignState::Cancelled => lang.pick("中止", "Cancelled"),
        CampaignState::Finished => lang.pick("終了", "Finished"),
    }
}

pub(in crate::web::staff) fn channel_label(lang: Lang, channel: Channel) -> &'static str {
    match channel {
        Channel::Newsletter => lang.pick("メールマガジン", "Newsletter"),
        Channel::ToshoShimbun => lang.pick("東商新聞", "Tosho Shimbun"),
        Channel::AdvisorHandout => lang.pick("経営指導員による資料配布", "Advisor handout"),
    }
}

/// A page that only says something (a failure, a missing campaign), with `status`.
pub(in crate::web::staff) fn message(
    web: &Web,
    who: &SignedInUser,
    lang: Lang,
    status: StatusCode,
    text: &str,
) -> Response {
    let title = lang.pick("お知らせ", "Notice");
    let mut context = frame(web, who, lang, title, "/staff/campaigns");
    context["message"] = text.into();
    (status, page(web, "staff/message", &context)).into_response()
}

/// A service's failure as the staff pages show it, with its kind's status: the user's mistake, or ours. A
/// configuration or mail-server problem is said (staff can have it fixed); the database's and the program's
/// are logged and not shown.
pub(in crate::web::staff) fn failed(web: &Web, who: &SignedInUser, lang: Lang, e: &AppError) -> Response {
    let text = match e.kind() {
        ErrorKind::NotFound => lang.pick("見つかりません。", "Not found.").to_owned(),
        ErrorKind::Database | ErrorKind::Internal => {
            tracing::error!(error = %e, "web: a staff request failed");
            lang.pick(
                "ただいま処理できません。しばらくしてからお試しください。",
                "Try again later.",
            )
            .to_owned()
        }
        _ => e.to_string(),
    };
    message(web, who, lang, status_of(e.kind()), &text)
}

/// Options of a `<select>`: `(value, label)`, the chosen one marked.
pub(in crate::web::staff) fn options(pairs: impl IntoIterator<Item = (String, String)>, chosen: &str) -> Vec<Value> {
    pairs
        .into_iter()
        .map(|(value, label)| json!({"value": value, "label": label, "selected": value == chosen}))
        .collect()
}

pub(in crate::web::staff) fn channel_options(lang: Lang, chosen: &str) -> Vec<Value> {
    let channels = [Channel::Newsletter, Channel::ToshoShimbun, Channel::AdvisorHandout];
    options(
        channels.map(|c| (c.slug().to_owned(), channel_label(lang, c).to_owned())),
        chosen,
    )
}
