//! Campaigns on the staff pages: the list with its filters, one campaign with its next firing times, runs and
//! failures, and (in `form`) creating one, (in `actions`) the confirmed moves, the mail preview and the test
//! mail. Staff and admins only: an auditor gets 403 on every one of them.

mod actions;
mod edit;
mod form;
pub(super) mod shared;
mod test_mail;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::super::client::ClientAddress;
use super::super::role::Staff;
use super::super::session::Signed;
use super::super::state::Web;
use super::frame::{Lang, frame, page};
use super::kit::{ThemeNames, local_time};
use crate::Application;
use crate::domain::campaign::schedule::Schedule;
use crate::domain::campaign::{Campaign, CampaignState};
use shared::{
    NEXT_FIRINGS, channel_label, channel_options, failed, next_firings, options, reason_label, schedule_label,
    state_label,
};

/// Staff or admin only, every one (tests/it/web_staff.rs lists them all and checks an auditor gets 403). In
/// `POST /staff/campaigns/{id}/{action}`, `{action}` is pause, resume, cancel, send-now (each after its
/// confirmation page) or send-test (the test mail to oneself).
pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/staff/campaigns", get(list).post(form::create))
        .route("/staff/campaigns/new", get(form::new))
        .route("/staff/schedule/preview", get(form::schedule_preview))
        .route("/staff/campaigns/{id}", get(show))
        .route("/staff/campaigns/{id}/edit", get(edit::edit_form).post(edit::save))
        .route("/staff/campaigns/{id}/preview.html", get(actions::preview_html))
        .route("/staff/campaigns/{id}/confirm/{action}", get(actions::confirm))
        .route("/staff/campaigns/{id}/send-test", post(test_mail::send))
        .route("/staff/campaigns/{id}/{action}", post(actions::act))
}

/// The list's filters, from the query string; empty means any.
#[derive(Debug, Default, serde::Deserialize)]
struct Filters {
    #[serde(default)]
    theme: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    fy: String,
}

impl Filters {
    fn keeps(&self, c: &Campaign) -> bool {
        (self.theme.is_empty() || c.theme_slug == self.theme)
            && (self.channel.is_empty() || c.channel.slug() == self.channel)
            && (self.state.is_empty() || c.state.as_str() == self.state)
            && (self.fy.is_empty() || c.fiscal_year.to_string() == self.fy.trim())
    }
}

/// A campaign as a row of the list and the head of its page.
fn summary(app: &Application, lang: Lang, themes: &ThemeNames, c: &Campaign) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "title": c.title.clone().unwrap_or_default(),
        "issue": c.issue.clone().unwrap_or_default(),
        "theme": themes.name(&c.theme_slug),
        "duty": c.duty,
        "channel": channel_label(lang, c.channel),
        "fiscal_year": c.fiscal_year,
        "schedule": schedule_label(app, lang, &c.schedule),
        "cron": match &c.schedule { Schedule::Cron { expr, .. } => expr.as_str(), Schedule::Once { .. } => "" },
        "state": c.state.as_str(),
        "state_label": state_label(lang, c.state),
        "state_reason": reason_label(lang, &c.state_reason),
        "next": next_firings(app, c, NEXT_FIRINGS).into_iter().map(|t| local_time(app, lang, t)).collect::<Vec<_>>(),
    })
}

async fn list(
    State(web): State<Web>,
    headers: HeaderMap,
    who: Signed<Staff>,
    Query(filters): Query<Filters>,
) -> Response {
    let lang = Lang::of(&headers);
    let app = &web.app;
    let (campaigns, themes) = match (app.campaigns().await, ThemeNames::of(app, lang).await) {
        (Ok(c), Ok(t)) => (c, t),
        (Err(e), _) | (_, Err(e)) => return failed(&web, &who, lang, &e),
    };
    let mut years: Vec<i32> = campaigns.iter().map(|c| c.fiscal_year).collect();
    years.sort_unstable();
    years.dedup();
    let rows: Vec<Value> = campaigns
        .iter()
        .filter(|c| filters.keeps(c))
        .map(|c| summary(app, lang, &themes, c))
        .collect();
    let states = [
        CampaignState::Scheduled,
        CampaignState::Paused,
        CampaignState::Cancelled,
        CampaignState::Finished,
    ];
    let mut context = frame(&web, &who, lang, &lang.t("campaigns-2"), "/staff/campaigns");
    context["campaigns"] = rows.into();
    context["themes"] = themes.options(&filters.theme).into();
    context["channels"] = channel_options(lang, &filters.channel).into();
    context["states"] = options(
        states.map(|s| (s.as_str().to_owned(), state_label(lang, s).to_owned())),
        &filters.state,
    )
    .into();
    context["years"] = options(years.iter().map(|y| (y.to_string(), y.to_string())), filters.fy.trim()).into();
    page(&web, "staff/campaigns", &context)
}

/// `?member=ADDRESS` previews the mail as that member gets it; `?done=pause` says what was just done.
#[derive(Debug, Default, serde::Deserialize)]
struct ShowQuery {
    #[serde(default)]
    member: String,
    #[serde(default)]
    done: String,
}

async fn show(
    State(web): State<Web>,
    headers: HeaderMap,
    client: ClientAddress,
    who: Signed<Staff>,
    Path(id): Path<i64>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let app = &web.app;
    let campaign = match app.campaign(id).await {
        Ok(c) => c,
        Err(e) => return failed(&web, &who, lang, &e),
    };
    let (runs, audience) = match (app.runs(id).await, app.audience_size(&campaign).await) {
        (Ok(r), Ok(a)) => (r, a),
        (Err(e), _) | (_, Err(e)) => return failed(&web, &who, lang, &e),
    };
    let failures = match app
        .send_log(
            &crate::store::LogFilter {
                campaign_id: Some(id),
                outcome: Some(crate::domain::Outcome::Failed),
                ..Default::default()
            },
            0,
            500,
        )
        .await
    {
        Ok(f) => f,
        Err(e) => return failed(&web, &who, lang, &e),
    };
    // Runs are numbered within their campaign (its first run is 1), oldest first; the page lists the newest first.
    let runs: Vec<Value> = runs
        .iter()
        .enumerate()
        .rev()
        .map(|(index, r)| {
            let c = r.counts;
            let failures: Vec<Value> = failures
                .iter()
                .filter(|f| f.run_id == r.run.id)
                .map(|f| json!({"recipient": f.recipient, "code": f.smtp_code, "reply": f.smtp_reply, "at": local_time(app, lang, f.at)}))
                .collect();
            json!({
                "id": r.run.id,
                "number": index + 1,
                "scheduled_for": local_time(app, lang, r.run.scheduled_for),
                "started": local_time(app, lang, r.run.created_at),
                "finished": r.run.finished_at.map(|t| local_time(app, lang, t)).unwrap_or_default(),
                "trigger": lang.label("trigger", r.run.trigger.as_str()),
                "status": lang.label("run-status", r.run.status.as_str()),
                "status_code": r.run.status.as_str(),
                "audience": r.run.audience,
                "sent": c.sent,
                "waiting": c.queued + c.sending,
                "failed": c.failed,
                "skipped": c.cancelled,
                "failures": failures,
            })
        })
        .collect();
    let mut context = frame(&web, &who, lang, &campaign.name, "/staff/campaigns");
    let themes = match ThemeNames::of(app, lang).await {
        Ok(t) => t,
        Err(e) => return failed(&web, &who, lang, &e),
    };
    context["campaign"] = summary(app, lang, &themes, &campaign);
    context["audience"] = audience.into();
    context["runs"] = runs.into();
    context["can_pause"] = (campaign.state == CampaignState::Scheduled).into();
    context["can_resume"] = (campaign.state == CampaignState::Paused).into();
    context["can_cancel"] = matches!(campaign.state, CampaignState::Scheduled | CampaignState::Paused).into();
    context["can_send_now"] = (campaign.state == CampaignState::Scheduled).into();
    context["test_to"] = who.user.email.clone().into();
    context["done"] = actions::done_text(lang, &query.done).into();
    let member = query.member.trim();
    context["member"] = member.into();
    let viewer = actions::Viewer {
        app: &app.for_client(&client.to_string()),
        actor: &super::kit::actor(&who),
    };
    actions::with_preview(
        viewer,
        lang,
        &mut context,
        &campaign,
        Some(member).filter(|m| !m.is_empty()),
    )
    .await;
    page(&web, "staff/campaign", &context)
}
