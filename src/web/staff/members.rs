//! Members and advisors, for staff and admins (an auditor gets 403): search, one member's themes, history and
//! mail, the changes staff make on a member's behalf (each with a reason), and advisors switched on and off.
//! The CSV upload is `members_import`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::super::client::ClientAddress;
use super::super::explain::explain_all;
use super::super::role::Staff;
use super::super::said::said;
use super::super::session::{Signed, SignedInUser, StaffForm};
use super::super::state::Web;
use super::super::status::{BAD_INPUT, status_of};
use super::frame::{Lang, frame, page};
use super::kit::{ThemeNames, actor, failure, given, page_with, when};
use super::sentences::{CampaignNames, sentence};
use crate::domain::member::Member;
use crate::error::{AppError, ErrorKind};
use crate::store::{ActionFilter, Keyset, LogFilter};

/// Members per page of the search.
const PAGE: u32 = 50;
/// Mails and actions shown on a member's page; the send log has the rest.
const SHOWN: u32 = 200;

/// The changes staff make on a member's page (`POST /staff/members/{id}/{action}`).
const ACTIONS: &[&str] = &["suppress", "unsuppress", "unsubscribe"];

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/staff/members", get(list))
        .route("/staff/members/{id}", get(show))
        .route("/staff/members/{id}/{action}", post(change))
        .route("/staff/advisors", get(advisors))
        .route("/staff/advisors/{action}", post(switch_advisor))
}

#[derive(Debug, Default, serde::Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
    /// The address the previous page ended with.
    #[serde(default)]
    after: String,
}

async fn list(
    State(web): State<Web>,
    signed_in: Signed<Staff>,
    headers: HeaderMap,
    Query(s): Query<Search>,
) -> Response {
    let lang = Lang::of(&headers);
    let mut context = frame(&web, &signed_in, lang, &lang.t("members-2"), "/staff/members");
    let found = match web.app.search_members(&s.q, &s.after, PAGE + 1).await {
        Ok(found) => found,
        Err(e) => return failure(&web, &signed_in, lang, "/staff/members", &e),
    };
    let more = found.len() > PAGE as usize;
    let rows: Vec<Value> = found.iter().take(PAGE as usize).map(|m| member_row(lang, m)).collect();
    let next = more.then(|| found.get(PAGE as usize - 1)).flatten().map(|m| {
        serde_urlencoded::to_string([
            ("q", s.q.as_str()),
            ("after", &crate::domain::member::normalize_email(&m.email)),
        ])
        .unwrap_or_default()
    });
    context["q"] = s.q.clone().into();
    context["members"] = rows.into();
    context["next"] = next.unwrap_or_default().into();
    context["searched"] = (!s.q.is_empty() || !s.after.is_empty()).into();
    page(&web, "staff/members-list", &context)
}

fn member_row(lang: Lang, m: &Member) -> Value {
    json!({"id": m.id, "email": m.email, "company": m.company, "contact": m.contact_name,
           "status": lang.label("member-status", m.status.as_str()), "status_code": m.status.as_str()})
}

/// What a staff form on the member page sent: the theme (empty: all) and the reason.
#[derive(Debug, Default, Clone, serde::Deserialize)]
struct ChangeForm {
    #[serde(default)]
    theme: String,
    #[serde(default)]
    reason: String,
}

async fn show(State(web): State<Web>, signed_in: Signed<Staff>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    member_page(&web, &signed_in, Lang::of(&headers), id, None).await
}

/// The member's page; `typed` is a refused form, shown again with its message beside the reason and the status
/// of its refusal.
async fn member_page(
    web: &Web,
    signed_in: &SignedInUser,
    lang: Lang,
    id: i64,
    typed: Option<(&str, &ChangeForm, &str, StatusCode)>,
) -> Response {
    let app = &web.app;
    let current = "/staff/members";
    let member = match app.member_by_id(id).await {
        Ok(m) => m,
        Err(e) => return failure(web, signed_in, lang, current, &e),
    };
    let loaded = async {
        let (_, history) = app.member_history(&member.email).await?;
        let by_target = ActionFilter {
            target: Some(member.email.clone()),
            ..ActionFilter::default()
        };
        let actions = app.actions_keyset(&by_target, Keyset::After(0), SHOWN).await?;
        let mails = LogFilter {
            recipient: Some(member.email.clone()),
            ..LogFilter::default()
        };
        let sent = app.send_log_page(&mails, Keyset::After(0), SHOWN + 1).await?;
        let plan = app.plan(None).await.ok();
        Ok::<_, crate::error::AppError>((history, actions, sent, plan))
    };
    let (history, actions, sent, plan) = match loaded.await {
        Ok(all) => all,
        Err(e) => return failure(web, signed_in, lang, current, &e),
    };
    let title = format!("{} {}", lang.t("member"), member.email);
    let mut context = frame(web, signed_in, lang, &title, current);
    context["member"] = member_row(lang, &member);
    let names = plan.as_ref().map(|p| ThemeNames::new(p, lang));
    let theme_name = |slug: &str| names.as_ref().map_or_else(|| slug.to_owned(), |n| n.name(slug));
    let themes: Vec<Value> = plan
        .iter()
        .flat_map(|p| &p.themes)
        .map(|t| json!({"slug": t.slug, "title": theme_name(&t.slug), "subscribed": member.themes.contains(&t.slug)}))
        .collect();
    context["themes"] = themes.into();
    // Who: the staff action recorded in the same transaction (same time) as the event, else its source.
    let history: Vec<Value> = history
        .iter()
        .map(|e| {
            let by = actions
                .iter()
                .find(|a| a.at == e.at && a.action.starts_with("member."))
                .map(|a| a.actor.clone())
                .unwrap_or_default();
            json!({"at": when(web, lang, e.at), "theme": e.theme_slug.as_deref().map(theme_name).unwrap_or_default(),
                   "event": lang.label("member-event", &e.event), "source": lang.label("member-source", &e.source),
                   "by": by, "reason": e.reason})
        })
        .collect();
    context["history"] = history.into();
    context["actions"] = actions
        .iter()
        .map(|a| {
            json!({"at": when(web, lang, a.at), "sentence": sentence(lang, a, &CampaignNames::new()),
                        "canonical": a.canonical()})
        })
        .collect::<Vec<_>>()
        .into();
    context["more_mails"] = (sent.len() > SHOWN as usize).into();
    context["mails"] = sent
        .iter()
        .take(SHOWN as usize)
        .map(|r| {
            json!({"id": r.id, "at": when(web, lang, r.at), "campaign": r.campaign_id, "theme": theme_name(&r.theme_slug),
                   "channel": lang.label("channel", &r.channel), "outcome": lang.label("outcome", r.outcome.as_str()),
                   "outcome_code": r.outcome.as_str(), "reply": r.smtp_reply})
        })
        .collect::<Vec<_>>()
        .into();
    context["mails_link"] = serde_urlencoded::to_string([("recipient", member.email.as_str())])
        .unwrap_or_default()
        .into();
    context["suppressed"] = (member.status == crate::domain::MemberStatus::Suppressed).into();
    let (form, message, typed_form, status) = match typed {
        Some((form, typed, message, status)) => (form, message, typed.clone(), status),
        None => ("", "", ChangeForm::default(), StatusCode::OK),
    };
    // A refusal (the member changed meanwhile: lifted by someone else, say) belongs to no field, and the form it
    // came from may no longer be on the page: it is said at the top.
    if status == StatusCode::CONFLICT {
        context["notice"] = message.into();
    }
    context["form"] = json!({"name": form, "message": message, "theme": typed_form.theme, "reason": typed_form.reason});
    page_with(web, status, "staff/members-show", &context)
}

async fn change(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    Path((id, what)): Path<(i64, String)>,
    StaffForm { signed_in, form }: StaffForm<ChangeForm, Staff>,
) -> Response {
    let lang = Lang::of(&headers);
    if !ACTIONS.contains(&what.as_str()) {
        return failure(&web, &signed_in, lang, "/staff/members", &AppError::NotFound(what));
    }
    let member = match web.app.member_by_id(id).await {
        Ok(m) => m,
        Err(e) => return failure(&web, &signed_in, lang, "/staff/members", &e),
    };
    let app = web.app.for_client(&client.to_string());
    let who = actor(&signed_in);
    let done = match what.as_str() {
        "suppress" => app.suppress(&who, &member.email, &form.reason).await.map(|_| ()),
        "unsuppress" => app.unsuppress(&who, &member.email, &form.reason).await,
        _ => {
            let theme = given(&form.theme);
            app.unsubscribe_for(&who, &member.email, theme.as_deref(), &form.reason)
                .await
                .map(|_| ())
        }
    };
    match done {
        Ok(()) => Redirect::to(&format!("/staff/members/{id}")).into_response(),
        // The reason's rules are the service's; its problem is said beside the field, in the reader's language.
        Err(AppError::Invalid(invalid)) => {
            let message = explain_all(lang, &invalid);
            member_page(&web, &signed_in, lang, id, Some((&what, &form, &message, BAD_INPUT))).await
        }
        Err(e) if matches!(e.kind(), ErrorKind::Invalid | ErrorKind::Conflict) => {
            let message = said(lang, &e);
            member_page(
                &web,
                &signed_in,
                lang,
                id,
                Some((&what, &form, &message, status_of(e.kind()))),
            )
            .await
        }
        Err(e) => failure(&web, &signed_in, lang, "/staff/members", &e),
    }
}

async fn advisors(State(web): State<Web>, signed_in: Signed<Staff>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let list = match web.app.advisors().await {
        Ok(list) => list,
        Err(e) => return failure(&web, &signed_in, lang, "/staff/advisors", &e),
    };
    let mut context = frame(&web, &signed_in, lang, &lang.t("business-advisors"), "/staff/advisors");
    context["advisors"] = list
        .iter()
        .map(|a| json!({"email": a.email, "name": a.name, "branch": a.branch, "active": a.active}))
        .collect::<Vec<_>>()
        .into();
    page(&web, "staff/members-advisors", &context)
}

#[derive(Debug, serde::Deserialize)]
struct AdvisorForm {
    #[serde(default)]
    email: String,
}

async fn switch_advisor(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    Path(what): Path<String>,
    StaffForm { signed_in, form }: StaffForm<AdvisorForm, Staff>,
) -> Response {
    let active = match what.as_str() {
        "activate" => true,
        "deactivate" => false,
        _ => {
            let unknown = AppError::NotFound(what);
            return failure(&web, &signed_in, Lang::of(&headers), "/staff/advisors", &unknown);
        }
    };
    let app = web.app.for_client(&client.to_string());
    match app.set_advisor_active(&actor(&signed_in), &form.email, active).await {
        Ok(_) => Redirect::to("/staff/advisors").into_response(),
        Err(e) => failure(&web, &signed_in, Lang::of(&headers), "/staff/advisors", &e),
    }
}
