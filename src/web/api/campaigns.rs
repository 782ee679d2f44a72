//! Campaigns, their runs, and the moves staff make on them.

use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, ErrorBody};
use super::kit::{Api, Body, Params, Reader, Segments, Staff, iso};
use crate::Application;
use crate::domain::campaign::{Campaign, CampaignState};
use crate::domain::plan::Channel;
use crate::domain::{Field, FieldError, Problem};
use crate::error::AppError;
use crate::services::{CampaignRequest, RunReport};
use crate::store::{Run, RunCounts};

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(campaign))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(cancel))
        .routes(routes!(send_now))
        .routes(routes!(list_runs))
        .routes(routes!(retry_run))
}

/// How many firing times a campaign lists.
const NEXT_FIRINGS: usize = 5;

/// A campaign as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CampaignView {
    pub id: i64,
    /// What staff call it.
    pub name: String,
    /// What members see (default: the theme's title).
    pub title: Option<String>,
    pub issue: Option<String>,
    pub fiscal_year: i32,
    pub theme: String,
    pub duty: String,
    /// newsletter, tosho-shimbun or advisor-handout.
    pub channel: String,
    pub template: String,
    /// The schedule in words, in the configured time zone.
    pub schedule: String,
    pub from: Option<String>,
    pub until: Option<String>,
    /// scheduled, paused, cancelled or finished.
    pub state: String,
    pub state_reason: String,
    pub created_at: String,
    pub updated_at: String,
    /// The next times it fires (at most five; none unless scheduled), ISO 8601 with offset.
    pub next_firings: Vec<String>,
}

impl CampaignView {
    fn of(app: &Application, c: &Campaign) -> Self {
        let tz = app.settings.schedule.tz();
        let next_firings = if c.state == CampaignState::Scheduled {
            c.ticks_after(app.now().max(c.settled_ms), NEXT_FIRINGS)
                .into_iter()
                .map(|t| iso(app, t))
                .collect()
        } else {
            Vec::new()
        };
        CampaignView {
            id: c.id,
            name: c.name.clone(),
            title: c.title.clone(),
            issue: c.issue.clone(),
            fiscal_year: c.fiscal_year,
            theme: c.theme_slug.clone(),
            duty: c.duty.clone(),
            channel: c.channel.slug().to_owned(),
            template: c.template.clone(),
            schedule: c.schedule.describe(tz),
            from: c.from_ms.map(|t| iso(app, t)),
            until: c.until_ms.map(|t| iso(app, t)),
            state: c.state.as_str().to_owned(),
            state_reason: c.state_reason.to_string(),
            created_at: iso(app, c.created_at),
            updated_at: iso(app, c.updated_at),
            next_firings,
        }
    }
}

/// Deliveries of a run by status.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CountsView {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl From<RunCounts> for CountsView {
    fn from(c: RunCounts) -> Self {
        CountsView {
            queued: c.queued,
            sending: c.sending,
            sent: c.sent,
            failed: c.failed,
            cancelled: c.cancelled,
        }
    }
}

/// A run: one firing of a campaign, its audience frozen into deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunView {
    pub id: i64,
    pub campaign_id: i64,
    pub scheduled_for: String,
    /// schedule, catch-up or manual.
    pub trigger: String,
    /// sending or done.
    pub status: String,
    /// How many recipients it had when it started.
    pub audience: i64,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// Delivery counts (absent where not read, e.g. right after send-now).
    pub counts: Option<CountsView>,
}

impl RunView {
    fn of(app: &Application, run: &Run, counts: Option<RunCounts>) -> Self {
        RunView {
            id: run.id,
            campaign_id: run.campaign_id,
            scheduled_for: iso(app, run.scheduled_for),
            trigger: run.trigger.as_str().to_owned(),
            status: run.status.as_str().to_owned(),
            audience: run.audience,
            created_at: iso(app, run.created_at),
            finished_at: run.finished_at.map(|t| iso(app, t)),
            counts: counts.map(CountsView::from),
        }
    }

    fn report(app: &Application, r: &RunReport) -> Self {
        Self::of(app, &r.run, Some(r.counts))
    }
}

/// A campaign with its runs, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CampaignDetail {
    pub campaign: CampaignView,
    pub runs: Vec<RunView>,
}

/// A campaign to create; the same rules as `outreach campaign create`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCampaignRequest {
    pub name: String,
    pub title: Option<String>,
    /// The Tosho Shimbun issue a manuscript is for (tosho-shimbun only).
    pub issue: Option<String>,
    /// A theme slug of the plan.
    pub theme: String,
    /// newsletter, tosho-shimbun or advisor-handout.
    pub channel: String,
    /// Once, at this local time (`2020-06-01T09:00`); give `at` or `cron`.
    pub at: Option<String>,
    /// A cron expression in the configured time zone.
    pub cron: Option<String>,
    /// First local day (`2020-06-01`).
    pub from: Option<String>,
    /// Last local day.
    pub until: Option<String>,
    /// The plan's fiscal year (default: the latest plan).
    pub fiscal_year: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunsQuery {
    /// Only this campaign's runs.
    campaign: Option<i64>,
}

/// The run send-now started; none when a run for this instant exists already.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SendNowResult {
    pub run: Option<RunView>,
}

/// How many failed deliveries were queued again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RetryResult {
    pub queued_again: u64,
}

/// Every campaign, each with its next firing times.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns", security(("bearer" = ["auditor"])),
    responses(
        (status = 200, description = "The campaigns", body = Vec<CampaignView>),
        (status = 401, description = "No live API token", body = ErrorBody),
    ))]
async fn list_campaigns(caller: Reader) -> ApiResult<Json<Vec<CampaignView>>> {
    let app = &caller.app;
    let campaigns = app.campaigns().await?;
    Ok(Json(campaigns.iter().map(|c| CampaignView::of(app, c)).collect()))
}

/// Creates a campaign; it must render for its audience and fire at least once.
#[utoipa::path(post, path = "/campaigns", tag = "campaigns", security(("bearer" = ["staff"])),
    request_body = NewCampaignRequest,
    responses(
        (status = 201, description = "Created", body = CampaignView),
        (status = 400, description = "The campaign is refused; `field` names the field at fault when known", body = ErrorBody),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No plan for that fiscal year", body = ErrorBody),
        (status = 422, description = "The body is not a campaign", body = ErrorBody),
    ))]
async fn create_campaign(
    caller: Staff,
    Body(req): Body<NewCampaignRequest>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let channel = Channel::from_slug(&req.channel).ok_or_else(|| {
        AppError::from(FieldError::new(
            Field::Channel,
            Problem::UnknownChannel(req.channel.clone()),
        ))
    })?;
    let request = CampaignRequest {
        name: req.name,
        title: req.title,
        issue: req.issue,
        theme_slug: req.theme,
        channel,
        at: req.at,
        cron: req.cron,
        from: req.from,
        until: req.until,
        fiscal_year: req.fiscal_year,
    };
    let app = &caller.app;
    let templates = app.templates()?;
    let id = app.create_campaign(&caller.actor, &templates, &request).await?;
    let campaign = app.campaign(id).await?;
    Ok((StatusCode::CREATED, Json(CampaignView::of(app, &campaign))))
}

/// One campaign with its runs and their delivery counts.
#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns", security(("bearer" = ["auditor"])),
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "The campaign", body = CampaignDetail),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
async fn campaign(caller: Reader, Segments(id): Segments<i64>) -> ApiResult<Json<CampaignDetail>> {
    let app = &caller.app;
    let campaign = app.campaign(id).await?;
    let runs = app.runs(id).await?;
    Ok(Json(CampaignDetail {
        campaign: CampaignView::of(app, &campaign),
        runs: runs.iter().map(|r| RunView::report(app, r)).collect(),
    }))
}

async fn move_to(caller: &Staff, id: i64, to: CampaignState) -> ApiResult<Json<CampaignView>> {
    let app = &caller.app;
    app.set_campaign_state(&caller.actor, id, to).await?;
    Ok(Json(CampaignView::of(app, &app.campaign(id).await?)))
}

/// Pauses a scheduled campaign.
#[utoipa::path(post, path = "/campaigns/{id}/pause", tag = "campaigns", security(("bearer" = ["staff"])),
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "Paused", body = CampaignView),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is not scheduled", body = ErrorBody),
    ))]
async fn pause(caller: Staff, Segments(id): Segments<i64>) -> ApiResult<Json<CampaignView>> {
    move_to(&caller, id, CampaignState::Paused).await
}

/// Resumes a paused campaign; the firings missed while paused never fire.
#[utoipa::path(post, path = "/campaigns/{id}/resume", tag = "campaigns", security(("bearer" = ["staff"])),
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "Scheduled again", body = CampaignView),
        (status = 400, description = "Its mail does not render: it stays paused", body = ErrorBody),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is not paused", body = ErrorBody),
    ))]
async fn resume(caller: Staff, Segments(id): Segments<i64>) -> ApiResult<Json<CampaignView>> {
    move_to(&caller, id, CampaignState::Scheduled).await
}

/// Cancels a campaign; its unsent mail is not sent.
#[utoipa::path(post, path = "/campaigns/{id}/cancel", tag = "campaigns", security(("bearer" = ["staff"])),
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "Cancelled", body = CampaignView),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is cancelled or finished already", body = ErrorBody),
    ))]
async fn cancel(caller: Staff, Segments(id): Segments<i64>) -> ApiResult<Json<CampaignView>> {
    move_to(&caller, id, CampaignState::Cancelled).await
}

/// Starts a run now, outside the schedule.
#[utoipa::path(post, path = "/campaigns/{id}/send-now", tag = "campaigns", security(("bearer" = ["staff"])),
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "The run started, or none when one for this instant exists", body = SendNowResult),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is not scheduled", body = ErrorBody),
    ))]
async fn send_now(caller: Staff, Segments(id): Segments<i64>) -> ApiResult<Json<SendNowResult>> {
    let app = &caller.app;
    let run = app.send_now(&caller.actor, id).await?;
    Ok(Json(SendNowResult {
        run: run.map(|r| RunView::of(app, &r, None)),
    }))
}

/// Runs, oldest first, with their delivery counts.
#[utoipa::path(get, path = "/runs", tag = "campaigns", security(("bearer" = ["auditor"])),
    params(RunsQuery),
    responses(
        (status = 200, description = "The runs", body = Vec<RunView>),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    ))]
async fn list_runs(caller: Reader, Params(q): Params<RunsQuery>) -> ApiResult<Json<Vec<RunView>>> {
    let app = &caller.app;
    let reports = match q.campaign {
        Some(id) => {
            app.campaign(id).await?;
            app.runs(id).await?
        }
        None => app.all_runs().await?,
    };
    Ok(Json(reports.iter().map(|r| RunView::report(app, r)).collect()))
}

/// Queues the failed deliveries of a run again (never the sent ones).
#[utoipa::path(post, path = "/runs/{id}/retry", tag = "campaigns", security(("bearer" = ["staff"])),
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "How many were queued again", body = RetryResult),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
async fn retry_run(caller: Staff, Segments(id): Segments<i64>) -> ApiResult<Json<RetryResult>> {
    let queued_again = caller.app.retry_run(&caller.actor, id).await?;
    Ok(Json(RetryResult { queued_again }))
}
