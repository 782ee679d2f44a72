//! Editing a scheduled or paused campaign with the create form: its names, issue and schedule; theme and
//! channel stay. The form comes back with the message beside the field and what was typed when it is refused.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::TimeZone;

use super::super::super::client::ClientAddress;
use super::super::super::role::Staff;
use super::super::super::said::said;
use super::super::super::session::{Signed, SignedInUser, StaffForm};
use super::super::super::state::Web;
use super::super::super::status::{BAD_INPUT, status_of};
use super::super::frame::Lang;
use super::form::{CampaignForm, Errors, firings, render, schedule_fields, typed};
use super::shared::{NEXT_FIRINGS, failed, message};
use crate::domain::Actor;
use crate::domain::campaign::{Campaign, CampaignEdit, CampaignState, Schedule};
use crate::error::{AppError, ErrorKind};

/// The form as the stored campaign fills it.
fn filled(web: &Web, c: &Campaign) -> CampaignForm {
    let tz = web.app.settings.schedule.tz();
    let (kind, at, cron) = match &c.schedule {
        Schedule::Once { at_ms } => {
            let at = tz
                .timestamp_millis_opt(*at_ms)
                .single()
                .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default();
            ("at", at, String::new())
        }
        Schedule::Cron { expr, .. } => ("cron", String::new(), expr.clone()),
    };
    CampaignForm {
        theme: c.theme_slug.clone(),
        channel: c.channel.slug().to_owned(),
        name: c.name.clone(),
        title: c.title.clone().unwrap_or_default(),
        issue: c.issue.clone().unwrap_or_default(),
        kind: kind.to_owned(),
        at,
        cron,
        preset: String::new(),
        preview: None,
    }
}

/// The campaign if it can still be edited, or the page that says why not.
async fn editable(web: &Web, who: &SignedInUser, lang: Lang, id: i64) -> Result<Campaign, Response> {
    let campaign = web.app.campaign(id).await.map_err(|e| failed(web, who, lang, &e))?;
    if matches!(campaign.state, CampaignState::Scheduled | CampaignState::Paused) {
        Ok(campaign)
    } else {
        Err(message(
            web,
            who,
            lang,
            StatusCode::CONFLICT,
            &lang.t("a-cancelled-or-finished-campaign-cannot"),
        ))
    }
}

/// `GET /staff/campaigns/{id}/edit`.
pub(super) async fn edit_form(
    State(web): State<Web>,
    headers: HeaderMap,
    who: Signed<Staff>,
    Path(id): Path<i64>,
) -> Response {
    let lang = Lang::of(&headers);
    let campaign = match editable(&web, &who, lang, id).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let form = filled(&web, &campaign);
    let ticks = campaign.ticks_after(web.app.now().max(campaign.settled_ms), NEXT_FIRINGS);
    render(
        &web,
        &who,
        lang,
        &form,
        &Errors::default(),
        Some(ticks),
        StatusCode::OK,
        Some(id),
    )
    .await
}

/// `POST /staff/campaigns/{id}/edit`: saves, or shows the form again (the preview button, or bad input).
pub(super) async fn save(
    State(web): State<Web>,
    headers: HeaderMap,
    client: ClientAddress,
    Path(id): Path<i64>,
    StaffForm { signed_in: who, form }: StaffForm<CampaignForm, Staff>,
) -> Response {
    let lang = Lang::of(&headers);
    let campaign = match editable(&web, &who, lang, id).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    // Theme and channel are the stored ones, whatever the form says.
    let stored = filled(&web, &campaign);
    let mut form = CampaignForm {
        theme: stored.theme,
        channel: stored.channel,
        ..form
    };
    if form.kind != "at" && form.cron.trim().is_empty() && !form.preset.is_empty() {
        form.cron = form.preset.clone();
    }
    let (at, cron) = schedule_fields(&form);
    let ticks = firings(&web.app, lang, at, cron).ok();
    let edit = CampaignEdit {
        name: form.name.clone(),
        title: typed(&form.title),
        issue: typed(&form.issue),
        at: typed(at),
        cron: typed(cron),
    };
    let app = web.app.for_client(&client.to_string());
    let actor = Actor::User {
        email: who.user.email.clone(),
        role: who.user.role,
    };
    let saved = if form.preview.is_some() {
        // The preview button: the service's checks, nothing stored.
        app.check_edit(id, &edit).await.map(|_| None)
    } else {
        match app.templates() {
            Ok(templates) => app.edit_campaign(&actor, &templates, id, &edit).await.map(Some),
            Err(e) => Err(e),
        }
    };
    let (errors, status) = match saved {
        Ok(Some(true)) => return Redirect::to(&format!("/staff/campaigns/{id}?done=edit")).into_response(),
        Ok(Some(false)) => return Redirect::to(&format!("/staff/campaigns/{id}?done=edit-same")).into_response(),
        Ok(None) => (Errors::default(), StatusCode::OK),
        Err(AppError::Invalid(invalid)) => (Errors::of(lang, &invalid), BAD_INPUT),
        Err(e) if matches!(e.kind(), ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::Config) => {
            let errors = Errors {
                form: said(lang, &e),
                ..Errors::default()
            };
            (errors, status_of(e.kind()))
        }
        Err(e) => return failed(&web, &who, lang, &e),
    };
    render(&web, &who, lang, &form, &errors, ticks, status, Some(id)).await
}
