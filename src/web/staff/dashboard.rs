//! `GET /staff`, the dashboard: runs in progress with their progress (refreshed by the staff script from
//! `GET /staff/runs/{id}/progress`; the figures are on the page without it), what fires in the next 14 days,
//! campaigns paused and why, recent failures grouped by the mail server's reply, and the live instances.
//! Staff and admins only: an auditor gets 403 (and lands on the send log after signing in).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::super::Web;
use super::super::auth::role_label;
use super::super::session::SignedInUser;
use super::campaigns::{failed, local_time, state_label};
use super::{Lang, at_least, frame, page};
use crate::domain::RunStatus;
use crate::domain::account::Role;
use crate::domain::campaign::CampaignState;
use crate::services::RunReport;

/// How far ahead the dashboard lists firings.
const DAYS_AHEAD: i64 = 14;
/// How far back it groups failures.
const FAILURE_DAYS: i64 = 7;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/staff", get(dashboard))
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

/// `GET /staff/runs/{id}/progress`: the run's figures as JSON, for the dashboard's script.
async fn progress(State(web): State<Web>, headers: HeaderMap, who: SignedInUser, Path(id): Path<i64>) -> Response {
    if let Some(refused) = at_least(&web, &who, Role::Staff) {
        return refused;
    }
    match web.app.run_report(id).await {
        Ok(report) => {
            let mut response = Json(figures(&report)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => failed(&web, &who, Lang::of(&headers), &e),
    }
}

async fn dashboard(State(web): State<Web>, headers: HeaderMap, who: SignedInUser) -> Response {
    if let Some(refused) = at_least(&web, &who, Role::Staff) {
        return refused;
    }
    let lang = Lang::of(&headers);
    let app = &web.app;
    let now = app.now();
    let read = async {
        Ok::<_, crate::error::AppError>((
            app.campaigns().await?,
            app.all_runs().await?,
            app.recent_failures(now - FAILURE_DAYS * DAY_MS, 10).await?,
            app.instances().await?,
        ))
    };
    let (campaigns, runs, failures, instances) = match read.await {
        Ok(read) => read,
        Err(e) => return failed(&web, &who, lang, &e),
    };
    let name_of = |id: i64| {
        campaigns
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let in_progress: Vec<Value> = runs
        .iter()
        .filter(|r| r.run.status == RunStatus::Sending)
        .map(|r| {
            let mut v = figures(r);
            v["name"] = name_of(r.run.campaign_id).into();
            v["scheduled_for"] = local_time(app, lang, r.run.scheduled_for).into();
            v["finished"] = (r.counts.sent + r.counts.failed + r.counts.cancelled).into();
            v["max"] = r.run.audience.max(1).into();
            v
        })
        .collect();
    let horizon = now + DAYS_AHEAD * DAY_MS;
    let mut due: Vec<(i64, Value)> = campaigns
        .iter()
        .filter(|c| c.state == CampaignState::Scheduled)
        .flat_map(|c| {
            c.ticks_after(now.max(c.settled_ms), 60)
                .into_iter()
                .take_while(|t| *t <= horizon)
                .map(|t| {
                    (
                        t,
                        json!({"id": c.id, "name": c.name, "theme": c.theme_slug, "at": local_time(app, lang, t)}),
                    )
                })
        })
        .collect();
    due.sort_by_key(|(t, _)| *t);
    let held: Vec<Value> = campaigns
        .iter()
        .filter(|c| c.state == CampaignState::Paused)
        .map(|c| json!({"id": c.id, "name": c.name, "state": state_label(lang, c.state), "reason": c.state_reason}))
        .collect();
    let failures: Vec<Value> = failures
        .iter()
        .map(|f| json!({"code": f.smtp_code, "reply": f.reply, "attempts": f.attempts, "last": local_time(app, lang, f.last_at)}))
        .collect();
    let live: Vec<Value> = instances
        .iter()
        .filter(|i| i.state == "live")
        .map(|i| json!({"id": i.id, "host": i.host, "pid": i.pid, "role": i.role, "version": i.version, "holding": i.holding, "started": local_time(app, lang, i.started_at)}))
        .collect();
    let mut context = frame(&web, &who, lang, lang.pick("ダッシュボード", "Dashboard"), "/staff");
    context["role_label"] = role_label(who.user.role).into();
    context["runs"] = in_progress.into();
    context["due"] = due.into_iter().map(|(_, v)| v).collect::<Vec<_>>().into();
    context["held"] = held.into();
    context["failures"] = failures.into();
    context["instances"] = live.into();
    context["days"] = DAYS_AHEAD.into();
    context["failure_days"] = FAILURE_DAYS.into();
    page(&web, "staff/dashboard", &context)
}
