//! Members and business advisors: reading them, and the changes staff make on a member's behalf.

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::keyset::{Asked, Paged};
use super::error::{ApiResult, ErrorBody};
use super::kit::{Api, Body, Changed, Params, Reader, Segments, Staff};
use super::paging::{ApiList, answer};
use crate::Application;
use crate::domain::member::{Advisor, Member};
use crate::error::AppError;
use crate::store::Keyset;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(unsubscribe))
        .routes(routes!(suppress))
        .routes(routes!(unsuppress))
        .routes(routes!(list_advisors))
        .routes(routes!(activate))
        .routes(routes!(deactivate))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberView {
    pub id: i64,
    pub email: String,
    pub company: String,
    pub contact_name: String,
    /// ja or en.
    pub locale: String,
    /// active, unsubscribed or suppressed.
    pub status: String,
    /// The theme slugs the member receives.
    pub themes: Vec<String>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            id: m.id,
            email: m.email,
            company: m.company,
            contact_name: m.contact_name,
            locale: m.locale,
            status: m.status.as_str().to_owned(),
            themes: m.themes,
        }
    }
}

/// One page of members, by id.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberPage {
    pub items: Vec<MemberView>,
    /// The `after` of the next page; null on the last.
    pub next: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MembersQuery {
    /// Only members subscribed to this theme.
    theme: Option<String>,
    /// The `next` of the previous page.
    after: Option<i64>,
    /// Rows per page, 1 to 1000 (default 100).
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AdvisorView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub branch: String,
    pub active: bool,
}

impl From<Advisor> for AdvisorView {
    fn from(a: Advisor) -> Self {
        AdvisorView {
            id: a.id,
            email: a.email,
            name: a.name,
            branch: a.branch,
            active: a.active,
        }
    }
}

/// Unsubscribes from one theme, or from everything when no theme is given.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnsubscribeRequest {
    pub theme: Option<String>,
}

/// Why staff make this change; kept in the member's history and the staff-action log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonRequest {
    pub reason: String,
}

/// Members by id, a page at a time.
#[utoipa::path(get, path = "/members", tag = "members", security(("bearer" = ["auditor"])),
    params(MembersQuery),
    responses(
        (status = 200, description = "A page of members", body = MemberPage),
        (status = 400, description = "A bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 404, description = "No such theme", body = ErrorBody),
    ))]
async fn list_members(caller: Reader, Params(q): Params<MembersQuery>) -> ApiResult<Json<MemberPage>> {
    answer::<Members>(caller, q).await
}

/// The members, by id; the filter is the theme they are subscribed to, if one is given.
enum Members {}

impl Paged for Members {
    type Filter = Option<String>;
    type Row = Member;

    fn id(member: &Member) -> i64 {
        member.id
    }

    /// Every member is read and the page cut from them: the store has no keyset over members (their number is
    /// that of a chamber's, not of a log's).
    async fn read(
        app: &Application,
        theme: &Option<String>,
        keyset: Keyset,
        limit: u32,
    ) -> Result<Vec<Member>, AppError> {
        let mut members = app.members(theme.as_deref()).await?;
        members.sort_by_key(|m| m.id);
        let limit = limit as usize;
        Ok(match keyset {
            Keyset::After(id) => members.into_iter().filter(|m| m.id > id).take(limit).collect(),
            Keyset::Before(id) => {
                members.retain(|m| m.id < id);
                members.split_off(members.len().saturating_sub(limit))
            }
        })
    }
}

impl ApiList for Members {
    type Query = MembersQuery;
    type View = MemberView;
    type Page = MemberPage;

    fn asked(q: &MembersQuery) -> Asked {
        Asked {
            after: q.after,
            limit: q.limit,
            ..Asked::default()
        }
    }

    async fn filter(_app: &Application, q: MembersQuery) -> ApiResult<Option<String>> {
        Ok(q.theme)
    }

    fn view(_app: &Application, member: Member) -> MemberView {
        member.into()
    }

    fn page(items: Vec<MemberView>, next: Option<i64>) -> MemberPage {
        MemberPage { items, next }
    }
}

/// Unsubscribes a member on their behalf.
#[utoipa::path(post, path = "/members/{email}/unsubscribe", tag = "members", security(("bearer" = ["staff"])),
    params(("email" = String, Path, description = "The member's address")),
    request_body = UnsubscribeRequest,
    responses(
        (status = 200, description = "`changed` is false when the member already was out", body = Changed),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such member or theme", body = ErrorBody),
        (status = 422, description = "The body is not an unsubscription", body = ErrorBody),
    ))]
async fn unsubscribe(
    caller: Staff,
    Segments(email): Segments<String>,
    Body(req): Body<UnsubscribeRequest>,
) -> ApiResult<Json<Changed>> {
    let changed = caller
        .app
        .unsubscribe(&caller.actor, &email, req.theme.as_deref())
        .await?;
    Ok(Json(Changed { changed }))
}

/// Stops all mail to a member.
#[utoipa::path(post, path = "/members/{email}/suppress", tag = "members", security(("bearer" = ["staff"])),
    params(("email" = String, Path, description = "The member's address")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "`changed` is false when the member already was suppressed", body = Changed),
        (status = 400, description = "No reason", body = ErrorBody),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 422, description = "The body is not a reason", body = ErrorBody),
    ))]
async fn suppress(
    caller: Staff,
    Segments(email): Segments<String>,
    Body(req): Body<ReasonRequest>,
) -> ApiResult<Json<Changed>> {
    let changed = caller.app.suppress(&caller.actor, &email, &req.reason).await?;
    Ok(Json(Changed { changed }))
}

/// Lifts a member's suppression.
#[utoipa::path(post, path = "/members/{email}/unsuppress", tag = "members", security(("bearer" = ["staff"])),
    params(("email" = String, Path, description = "The member's address")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Lifted", body = Changed),
        (status = 400, description = "No reason", body = ErrorBody),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 409, description = "The member is not suppressed", body = ErrorBody),
        (status = 422, description = "The body is not a reason", body = ErrorBody),
    ))]
async fn unsuppress(
    caller: Staff,
    Segments(email): Segments<String>,
    Body(req): Body<ReasonRequest>,
) -> ApiResult<Json<Changed>> {
    caller.app.unsuppress(&caller.actor, &email, &req.reason).await?;
    Ok(Json(Changed { changed: true }))
}

/// Every business advisor.
#[utoipa::path(get, path = "/advisors", tag = "members", security(("bearer" = ["auditor"])),
    responses(
        (status = 200, description = "The advisors", body = Vec<AdvisorView>),
        (status = 401, description = "No live API token", body = ErrorBody),
    ))]
async fn list_advisors(caller: Reader) -> ApiResult<Json<Vec<AdvisorView>>> {
    let advisors = caller.app.advisors().await?;
    Ok(Json(advisors.into_iter().map(AdvisorView::from).collect()))
}

async fn set_active(caller: &Staff, email: &str, active: bool) -> ApiResult<Json<Changed>> {
    let changed = caller.app.set_advisor_active(&caller.actor, email, active).await?;
    Ok(Json(Changed { changed }))
}

/// Activates an advisor: they receive advisor handouts again.
#[utoipa::path(post, path = "/advisors/{email}/activate", tag = "members", security(("bearer" = ["staff"])),
    params(("email" = String, Path, description = "The advisor's address")),
    responses(
        (status = 200, description = "`changed` is false when already active", body = Changed),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such advisor", body = ErrorBody),
    ))]
async fn activate(caller: Staff, Segments(email): Segments<String>) -> ApiResult<Json<Changed>> {
    set_active(&caller, &email, true).await
}

/// Deactivates an advisor: no more advisor handouts.
#[utoipa::path(post, path = "/advisors/{email}/deactivate", tag = "members", security(("bearer" = ["staff"])),
    params(("email" = String, Path, description = "The advisor's address")),
    responses(
        (status = 200, description = "`changed` is false when already inactive", body = Changed),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "An auditor's token", body = ErrorBody),
        (status = 404, description = "No such advisor", body = ErrorBody),
    ))]
async fn deactivate(caller: Staff, Segments(email): Segments<String>) -> ApiResult<Json<Changed>> {
    set_active(&caller, &email, false).await
}
