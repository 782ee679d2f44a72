//! `GET /staff`, the dashboard: runs in progress and runs finished in the last 24 hours with their counts, the
//! figures of the fiscal year (cards, a chart of mails per theme and month drawn as SVG, the same counts as a
//! table), what fires in the next 14 days, campaigns paused and why, recent failures grouped by the mail
//! server's reply, and the live instances. Everything is on the page without JavaScript; the staff script
//! polls `GET /staff/runs/live` (the set of runs to watch) and adds, updates and removes runs without a reload.
//! Staff and admins only: an auditor gets 403 (and lands on the send log after signing in).

mod figures;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::super::role::Staff;
use super::super::session::Signed;
use super::super::state::Web;
use super::campaigns::shared::{failed, reason_label, state_label};
use super::frame::{Lang, frame, page};
use super::kit::local_time;
use crate::Application;
use crate::domain::RunStatus;
use crate::domain::campaign::{Campaign, CampaignState};
use crate::error::AppError;
use crate::export::svg::group_digits;
use crate::services::RunReport;

/// How far ahead the dashboard lists firings.
const DAYS_AHEAD: i64 = 14;
/// How far back it groups failures.
const FAILURE_DAYS: i64 = 7;
/// How long a finished run stays on it.
const FINISHED_HOURS: i64 = 24;
const HOUR_MS: i64 = 60 * 60 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/staff", get(dashboard))
        .route("/staff/runs/live", get(live))
        .route("/staff/runs/{id}/progress", get(progress))
}

/// A run's figures: sent, waiting (queued or on the wire), failed, skipped (cancelled or left since).
fn figures(r: &RunReport) -> Value {
    let c = r.counts;
    json!({
        "run": r.run.id,
        "campaign": r.run.campaign_id,
        "status": r.run.status.as_str(),
        "audience": r.run.audience,
        "sent": c.sent,
        "waiting": c.queued + c.sending,
        "failed": c.failed,
        "skipped": c.cancelled,
        "done": r.run.status == RunStatus::Done,
    })
}

/// `GET /staff/runs/{id}/progress`: one run's figures as JSON.
async fn progress(State(web): State<Web>, headers: HeaderMap, who: Signed<Staff>, Path(id): Path<i64>) -> Response {
    match web.app.run_report(id).await {
        Ok(report) => unstored(Json(figures(&report)).into_response()),
        Err(e) => failed(&web, &who, Lang::of(&headers), &e),
    }
}

/// Kept out of caches: the figures change from one poll to the next.
fn unstored(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The runs to watch as the page and the script show them: `active` (sending) and `finished` (in the last
/// [`FINISHED_HOURS`], newest first), each with its campaign's name, its times in Tokyo time and its counts
/// both as numbers (for the progress bar) and written with thousands separators.
async fn runs_to_watch(app: &Application, lang: Lang, campaigns: &[Campaign]) -> Result<Value, AppError> {
    let now = app.now();
    let runs = app.runs_to_watch(now - FINISHED_HOURS * HOUR_MS).await?;
    let card = |r: &RunReport| {
        let mut v = figures(r);
        let c = r.counts;
        v["name"] = campaigns
            .iter()
            .find(|c| c.id == r.run.campaign_id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
            .into();
        v["scheduled_for"] = local_time(app, lang, r.run.scheduled_for).into();
        v["finished_at"] = r
            .run
            .finished_at
            .map(|t| local_time(app, lang, t))
            .unwrap_or_default()
            .into();
        v["finished"] = (c.sent + c.failed + c.cancelled).into();
        v["max"] = r.run.audience.max(1).into();
        v["text"] = json!({
            "audience": group_digits(r.run.audience),
            "sent": group_digits(c.sent),
            "waiting": group_digits(c.queued + c.sending),
            "failed": group_digits(c.failed),
            "skipped": group_digits(c.cancelled),
        });
        v
    };
    let active: Vec<Value> = runs
        .iter()
        .filter(|r| r.run.status == RunStatus::Sending)
        .map(card)
        .collect();
    let mut finished: Vec<&RunReport> = runs.iter().filter(|r| r.run.status == RunStatus::Done).collect();
    finished.sort_by_key(|r| std::cmp::Reverse((r.run.finished_at, r.run.id)));
    let finished: Vec<Value> = finished.into_iter().map(card).collect();
    Ok(json!({"active": active, "finished": finished}))
}

/// `GET /staff/runs/live`: the runs to watch, as the page shows them on load, for the staff script to add,
/// update and remove runs without reloading.
async fn live(State(web): State<Web>, headers: HeaderMap, who: Signed<Staff>) -> Response {
    let lang = Lang::of(&headers);
    let read = async { runs_to_watch(&web.app, lang, &web.app.campaigns().await?).await };
    match read.await {
        Ok(runs) => unstored(Json(runs).into_response()),
        Err(e) => failed(&web, &who, lang, &e),
    }
}

/// The instance's program in words.
fn program_label(lang: Lang, role: &str) -> String {
    match role {
        "serve" => lang.t("serve").to_owned(),
        "send-due" => lang.t("send-due").to_owned(),
        other => other.to_owned(),
    }
}

async fn dashboard(State(web): State<Web>, headers: HeaderMap, who: Signed<Staff>) -> Response {
    let lang = Lang::of(&headers);
    let app = &web.app;
    let now = app.now();
    let read = async {
        let campaigns = app.campaigns().await?;
        let runs = runs_to_watch(app, lang, &campaigns).await?;
        Ok::<_, AppError>((
            runs,
            app.year_figures(now).await?,
            app.plan(None).await.ok(),
            app.recent_failures(now - FAILURE_DAYS * DAY_MS, 10).await?,
            app.instances().await?,
            campaigns,
        ))
    };
    let (runs, year, plan, failures, instances, campaigns) = match read.await {
        Ok(read) => read,
        Err(e) => return failed(&web, &who, lang, &e),
    };
    let theme_title = |slug: &str| {
        plan.as_ref()
            .and_then(|p| p.theme(slug))
            .map_or_else(|| slug.to_owned(), |t| lang.pick(&t.title_ja, &t.title_en).to_owned())
    };
    let horizon = now + DAYS_AHEAD * DAY_MS;
    let mut due: Vec<(i64, Value)> = campaigns
        .iter()
        .filter(|c| c.state == CampaignState::Scheduled)
        .flat_map(|c| {
            c.ticks_after(now.max(c.settled_ms), 60)
                .into_iter()
                .take_while(|t| *t <= horizon)
                .map(|t| {
                    let at = local_time(app, lang, t);
                    (
                        t,
                        json!({"id": c.id, "name": c.name, "theme": theme_title(&c.theme_slug), "at": at}),
                    )
                })
        })
        .collect();
    due.sort_by_key(|(t, _)| *t);
    let held: Vec<Value> = campaigns
        .iter()
        .filter(|c| c.state == CampaignState::Paused)
        .map(|c| {
            json!({"id": c.id, "name": c.name, "state": state_label(lang, c.state), "state_code": c.state.as_str(),
                   "reason": reason_label(lang, &c.state_reason)})
        })
        .collect();
    let failures: Vec<Value> = failures
        .iter()
        .map(|f| {
            json!({"code": f.smtp_code, "reply": f.reply, "attempts": group_digits(f.attempts),
                   "last": local_time(app, lang, f.last_at)})
        })
        .collect();
    let live: Vec<Value> = instances
        .iter()
        .filter(|i| i.state == "live")
        .map(|i| {
            json!({"id": i.id, "host": i.host, "pid": i.pid, "program": program_label(lang, &i.role),
                   "version": i.version, "holding": group_digits(i.holding), "started": local_time(app, lang, i.started_at)})
        })
        .collect();
    let mut context = frame(&web, &who, lang, &lang.t("dashboard"), "/staff");
    context["runs"] = runs;
    context["figures"] = figures::context(lang, &year);
    context["due"] = due.into_iter().map(|(_, v)| v).collect::<Vec<_>>().into();
    context["held"] = held.into();
    context["failures"] = failures.into();
    context["instances"] = live.into();
    context["days"] = DAYS_AHEAD.into();
    context["failure_days"] = FAILURE_DAYS.into();
    context["finished_hours"] = FINISHED_HOURS.into();
    page(&web, "staff/dashboard", &context)
}
