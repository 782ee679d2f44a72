//! What auditors read: the plan, the send log and the staff-action log, both logs a page at a time by id
//! (`paging`).

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::keyset::{ActionLog, Asked, SendLog};
use super::error::{ApiResult, ErrorBody};
use super::kit::{Api, Params, Reader, iso, parse_time};
use super::paging::{ApiList, answer};
use crate::Application;
use crate::domain::plan::Plan;
use crate::domain::{ActionRecord, Field, FieldError, Outcome, Problem};
use crate::error::AppError;
use crate::store::{ActionFilter, LogEntry, LogFilter};

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(plan))
        .routes(routes!(send_log))
        .routes(routes!(actions))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanView {
    pub fiscal_year: i32,
    pub title: String,
    /// SHA-256 of the imported plan file.
    pub sha256: String,
    pub themes: Vec<ThemeView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ThemeView {
    pub slug: String,
    pub title_ja: String,
    pub title_en: String,
    pub programmes: Vec<PlanItemView>,
    pub duties: Vec<DutyView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanItemView {
    pub text: String,
    pub sub_items: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DutyView {
    pub text: String,
    pub sub_items: Vec<String>,
    /// The channels this duty is carried out on.
    pub channels: Vec<String>,
}

impl From<Plan> for PlanView {
    fn from(p: Plan) -> Self {
        PlanView {
            fiscal_year: p.fiscal_year,
            title: p.title,
            sha256: p.sha256,
            themes: p
                .themes
                .into_iter()
                .map(|t| ThemeView {
                    slug: t.slug,
                    title_ja: t.title_ja,
                    title_en: t.title_en,
                    programmes: t
                        .programmes
                        .into_iter()
                        .map(|i| PlanItemView {
                            text: i.text,
                            sub_items: i.sub_items,
                        })
                        .collect(),
                    duties: t
                        .duties
                        .into_iter()
                        .map(|d| DutyView {
                            text: d.text,
                            sub_items: d.sub_items,
                            channels: d.channels.iter().map(|c| c.slug().to_owned()).collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PlanQuery {
    /// The plan of this fiscal year (default: the latest).
    fiscal_year: Option<i32>,
}

/// One SMTP attempt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LogEntryView {
    pub id: i64,
    pub at: String,
    pub delivery_id: i64,
    pub attempt: i64,
    pub run_id: i64,
    pub campaign_id: i64,
    pub theme: String,
    pub duty: String,
    pub channel: String,
    pub recipient: String,
    pub message_id: String,
    pub template: String,
    pub content_sha256: String,
    pub smtp_code: Option<i64>,
    pub smtp_reply: String,
    /// The instance that made the attempt.
    pub sender: String,
    /// sent, deferred, failed or skipped.
    pub outcome: String,
}

/// One page of the send log, by id.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LogPage {
    pub items: Vec<LogEntryView>,
    /// The `after` of the next page; null on the last.
    pub next: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogQuery {
    /// The `next` of the previous page (default: from the start).
    after: Option<i64>,
    /// Rows per page, 1 to 1000 (default 100).
    limit: Option<u32>,
    /// Only this campaign.
    campaign: Option<i64>,
    /// Only this theme.
    theme: Option<String>,
    /// Only this channel: newsletter, tosho-shimbun or advisor-handout.
    channel: Option<String>,
    /// Only this recipient's address.
    recipient: Option<String>,
    /// Only this outcome: sent, deferred, failed or skipped.
    outcome: Option<String>,
    /// Attempts at or after this time (ISO 8601 with offset).
    since: Option<String>,
    /// Attempts before this time (ISO 8601 with offset).
    until: Option<String>,
}

/// A row of the staff-action log.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActionView {
    pub id: i64,
    pub at: String,
    /// operator, user, member, smtp or scheduler.
    pub actor_kind: String,
    pub actor: String,
    /// The client's address of a change made over the web; empty otherwise.
    pub address: String,
    pub action: String,
    pub target: String,
    /// What changed.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
}

/// One page of the staff-action log, by id.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActionPage {
    pub items: Vec<ActionView>,
    /// The `after` of the next page; null on the last.
    pub next: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActionQuery {
    /// The `next` of the previous page (default: from the start).
    after: Option<i64>,
    /// Rows per page, 1 to 1000 (default 100).
    limit: Option<u32>,
    /// Only this actor (an address or a name).
    actor: Option<String>,
    /// Only this action, e.g. campaign.pause.
    action: Option<String>,
    /// Actions at or after this time (ISO 8601 with offset).
    since: Option<String>,
}

/// The plan: themes, their programmes and the duties campaigns carry out.
#[utoipa::path(get, path = "/plan", tag = "logs", security(("bearer" = ["auditor"])),
    params(PlanQuery),
    responses(
        (status = 200, description = "The plan", body = PlanView),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 404, description = "No plan for that fiscal year", body = ErrorBody),
    ))]
async fn plan(caller: Reader, Params(q): Params<PlanQuery>) -> ApiResult<Json<PlanView>> {
    Ok(Json(caller.app.plan(q.fiscal_year).await?.into()))
}

/// The send log, a page at a time in id order: follow `next` until it is null.
#[utoipa::path(get, path = "/send-log", tag = "logs", security(("bearer" = ["auditor"])),
    params(LogQuery),
    responses(
        (status = 200, description = "A page of the send log", body = LogPage),
        (status = 400, description = "A bad filter, limit or cursor; `field` names it", body = ErrorBody),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 404, description = "No such campaign or theme", body = ErrorBody),
    ))]
async fn send_log(caller: Reader, Params(q): Params<LogQuery>) -> ApiResult<Json<LogPage>> {
    answer::<SendLog>(caller, q).await
}

impl ApiList for SendLog {
    type Query = LogQuery;
    type View = LogEntryView;
    type Page = LogPage;

    fn asked(q: &LogQuery) -> Asked {
        Asked {
            after: q.after,
            limit: q.limit,
            ..Asked::default()
        }
    }

    async fn filter(app: &Application, q: LogQuery) -> ApiResult<LogFilter> {
        let channel = q
            .channel
            .map(|c| match crate::domain::Channel::from_slug(&c) {
                Some(channel) => Ok(channel.slug().to_owned()),
                None => Err(AppError::from(FieldError::new(
                    Field::Channel,
                    Problem::UnknownChannel(c),
                ))),
            })
            .transpose()?;
        let outcome = q
            .outcome
            .map(|o| {
                Outcome::parse(&o)
                    .ok_or_else(|| AppError::from(FieldError::new(Field::Status, Problem::UnknownOutcome(o))))
            })
            .transpose()?;
        let filter = LogFilter {
            campaign_id: q.campaign,
            theme_slug: q.theme,
            channel,
            recipient: q.recipient,
            outcome,
            from_ms: q.since.map(|t| parse_time("since", &t)).transpose()?,
            to_ms: q.until.map(|t| parse_time("until", &t)).transpose()?,
        };
        app.check_log_filter(&filter).await?;
        Ok(filter)
    }

    fn view(app: &Application, r: LogEntry) -> LogEntryView {
        log_view(app, r)
    }

    fn page(items: Vec<LogEntryView>, next: Option<i64>) -> LogPage {
        LogPage { items, next }
    }
}

fn log_view(app: &Application, r: LogEntry) -> LogEntryView {
    LogEntryView {
        id: r.id,
        at: iso(app, r.at),
        delivery_id: r.delivery_id,
        attempt: r.attempt,
        run_id: r.run_id,
        campaign_id: r.campaign_id,
        theme: r.theme_slug,
        duty: r.duty,
        channel: r.channel,
        recipient: r.recipient,
        message_id: r.message_id,
        template: r.template,
        content_sha256: r.content_sha256,
        smtp_code: r.smtp_code,
        smtp_reply: r.smtp_reply,
        sender: r.sender,
        outcome: r.outcome.as_str().to_owned(),
    }
}

/// The staff-action log, a page at a time in id order: follow `next` until it is null.
#[utoipa::path(get, path = "/actions", tag = "logs", security(("bearer" = ["auditor"])),
    params(ActionQuery),
    responses(
        (status = 200, description = "A page of the staff-action log", body = ActionPage),
        (status = 400, description = "A bad filter, limit or cursor; `field` names it", body = ErrorBody),
        (status = 401, description = "No live API token", body = ErrorBody),
    ))]
async fn actions(caller: Reader, Params(q): Params<ActionQuery>) -> ApiResult<Json<ActionPage>> {
    answer::<ActionLog>(caller, q).await
}

impl ApiList for ActionLog {
    type Query = ActionQuery;
    type View = ActionView;
    type Page = ActionPage;

    fn asked(q: &ActionQuery) -> Asked {
        Asked {
            after: q.after,
            limit: q.limit,
            ..Asked::default()
        }
    }

    async fn filter(_app: &Application, q: ActionQuery) -> ApiResult<ActionFilter> {
        Ok(ActionFilter {
            actor: q.actor,
            action: q.action,
            since_ms: q.since.map(|t| parse_time("since", &t)).transpose()?,
            ..ActionFilter::default()
        })
    }

    fn view(app: &Application, r: ActionRecord) -> ActionView {
        action_view(app, r)
    }

    fn page(items: Vec<ActionView>, next: Option<i64>) -> ActionPage {
        ActionPage { items, next }
    }
}

fn action_view(app: &Application, r: ActionRecord) -> ActionView {
    let summary = serde_json::from_str(&r.summary).unwrap_or(serde_json::Value::String(r.summary));
    ActionView {
        id: r.id,
        at: iso(app, r.at),
        actor_kind: r.actor_kind,
        actor: r.actor,
        address: r.address,
        action: r.action,
        target: r.target,
        summary,
    }
}
