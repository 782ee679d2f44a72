//! Creating a campaign: the form (theme, channel, names, issue, and a schedule given as a Tokyo date and time
//! or as cron, with presets), its next five firing times (as you type with the script, or with the preview
//! button without it), and the plan duty the campaign serves. Bad input comes back with the message beside
//! its field and what was typed kept.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::super::super::client::ClientAddress;
use super::super::super::explain::explain;
use super::super::super::role::Staff;
use super::super::super::said::said;
use super::super::super::session::{Signed, SignedInUser, StaffForm};
use super::super::super::state::Web;
use super::super::super::status::{BAD_INPUT, status_of};
use super::super::frame::{Lang, frame, page};
use super::super::kit::{ThemeNames, local_time};
use super::shared::{NEXT_FIRINGS, PRESETS, channel_label, channel_options, failed, options};
use crate::Application;
use crate::domain::Actor;
use crate::domain::campaign::{CampaignRequest, fires, schedule_of};
use crate::domain::plan::Channel;
use crate::domain::{Field, FieldError, Invalid, Problem};
use crate::error::{AppError, ErrorKind};

/// What the form sends; every field kept as typed to show again.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(super) struct CampaignForm {
    #[serde(default)]
    pub(super) theme: String,
    #[serde(default)]
    pub(super) channel: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) issue: String,
    /// `at` (one date and time) or `cron`.
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) at: String,
    #[serde(default)]
    pub(super) cron: String,
    #[serde(default)]
    pub(super) preset: String,
    /// Present when the preview button was pressed: show the firing times, create nothing.
    #[serde(default)]
    pub(super) preview: Option<String>,
}

/// The next firing times of a schedule as typed, or why there are none in the reader's language: the domain's
/// schedule rules, the same the service applies.
pub(super) fn firings(app: &Application, lang: Lang, at: &str, cron: &str) -> Result<Vec<i64>, String> {
    let zone = app.zone();
    let say = |e: FieldError| explain(lang, &e);
    let schedule = schedule_of(Some(at), Some(cron), zone).map_err(say)?;
    fires(&schedule, zone.tz, app.now(), NEXT_FIRINGS, (None, None)).map_err(say)
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct PreviewQuery {
    #[serde(default)]
    at: String,
    #[serde(default)]
    cron: String,
}

/// `GET /staff/schedule/preview?cron=…` (or `?at=…`): `{"times": [...], "error": null}`, or 400 with the error.
pub(super) async fn schedule_preview(
    State(web): State<Web>,
    headers: HeaderMap,
    _who: Signed<Staff>,
    Query(query): Query<PreviewQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    match firings(&web.app, lang, &query.at, &query.cron) {
        Ok(ticks) => {
            let times: Vec<String> = ticks.into_iter().map(|t| local_time(&web.app, lang, t)).collect();
            Json(json!({"times": times, "error": null})).into_response()
        }
        Err(error) => (BAD_INPUT, Json(json!({"times": [], "error": error}))).into_response(),
    }
}

/// `GET /staff/campaigns/new`.
pub(super) async fn new(State(web): State<Web>, headers: HeaderMap, who: Signed<Staff>) -> Response {
    let lang = Lang::of(&headers);
    let form = CampaignForm {
        channel: Channel::Newsletter.slug().to_owned(),
        kind: "cron".to_owned(),
        ..CampaignForm::default()
    };
    render(&web, &who, lang, &form, &Errors::default(), None, StatusCode::OK, None).await
}

/// Messages beside the fields, and one above the form.
#[derive(Debug, Default)]
pub(super) struct Errors {
    pub(super) theme: String,
    pub(super) channel: String,
    pub(super) name: String,
    pub(super) title: String,
    pub(super) issue: String,
    pub(super) schedule: String,
    pub(super) form: String,
}

impl Errors {
    pub(super) fn any(&self) -> bool {
        [
            &self.theme,
            &self.channel,
            &self.name,
            &self.title,
            &self.issue,
            &self.schedule,
            &self.form,
        ]
        .iter()
        .any(|e| !e.is_empty())
    }

    /// Each problem beside the form field it names (the first one per field), in the reader's language; one
    /// that names no field of this form goes above it.
    pub(super) fn of(lang: Lang, invalid: &Invalid) -> Errors {
        let mut errors = Errors::default();
        for problem in invalid.problems() {
            let slot = match problem.field {
                Some(Field::Theme) => &mut errors.theme,
                Some(Field::Channel) => &mut errors.channel,
                Some(Field::Name) => &mut errors.name,
                Some(Field::Title) => &mut errors.title,
                Some(Field::Issue) => &mut errors.issue,
                Some(Field::Schedule | Field::At | Field::Cron | Field::From | Field::Until) => &mut errors.schedule,
                _ => &mut errors.form,
            };
            if slot.is_empty() {
                *slot = explain(lang, problem);
            }
        }
        errors
    }
}

/// A text field as the form sends it: left empty (or only spaces) is not given, so the default applies.
pub(super) fn typed(value: &str) -> Option<String> {
    let blank = value.chars().all(|c| c.is_whitespace() && !c.is_control());
    (!blank).then(|| value.to_owned())
}

/// The request the form makes; the domain checks it (the channel is a choice of the form's, read here).
fn request_of(form: &CampaignForm) -> Result<CampaignRequest, Invalid> {
    let channel = Channel::from_slug(&form.channel)
        .ok_or_else(|| FieldError::new(Field::Channel, Problem::UnknownChannel(form.channel.clone())))?;
    let (at, cron) = schedule_fields(form);
    Ok(CampaignRequest {
        name: form.name.clone(),
        title: typed(&form.title),
        issue: typed(&form.issue),
        theme_slug: form.theme.clone(),
        channel,
        at: typed(at),
        cron: typed(cron),
        from: None,
        until: None,
        fiscal_year: None,
    })
}

/// The schedule as the form gives it: `(at, cron)`, one of them empty; a preset stands in for an empty cron.
pub(super) fn schedule_fields(form: &CampaignForm) -> (&str, &str) {
    if form.kind == "at" {
        (form.at.as_str(), "")
    } else if form.cron.trim().is_empty() {
        ("", form.preset.as_str())
    } else {
        ("", form.cron.as_str())
    }
}

/// `POST /staff/campaigns`: creates the campaign, or shows the form again (the preview button, or bad input).
pub(super) async fn create(
    State(web): State<Web>,
    headers: HeaderMap,
    client: ClientAddress,
    StaffForm { signed_in: who, form }: StaffForm<CampaignForm, Staff>,
) -> Response {
    let lang = Lang::of(&headers);
    let mut form = form;
    if form.kind != "at" && form.cron.trim().is_empty() && !form.preset.is_empty() {
        form.cron = form.preset.clone();
    }
    let (at, cron) = schedule_fields(&form);
    let ticks = firings(&web.app, lang, at, cron).ok();
    let app = web.app.for_client(&client.to_string());
    let actor = Actor::User {
        email: who.user.email.clone(),
        role: who.user.role,
    };
    let done = match request_of(&form) {
        Err(invalid) => Err(invalid.into()),
        // The preview button: the service's checks, nothing stored.
        Ok(request) if form.preview.is_some() => app.check_campaign(&request).await.map(|_| None),
        Ok(request) => match app.templates() {
            Ok(templates) => app.create_campaign(&actor, &templates, &request).await.map(Some),
            Err(e) => Err(e),
        },
    };
    let (errors, status) = match done {
        Ok(Some(id)) => return Redirect::to(&format!("/staff/campaigns/{id}")).into_response(),
        Ok(None) => (Errors::default(), StatusCode::OK),
        Err(AppError::Invalid(invalid)) => (Errors::of(lang, &invalid), BAD_INPUT),
        Err(e) if matches!(e.kind(), ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Config) => {
            let errors = Errors {
                form: said(lang, &e),
                ..Errors::default()
            };
            (errors, status_of(e.kind()))
        }
        Err(e) => return failed(&web, &who, lang, &e),
    };
    render(&web, &who, lang, &form, &errors, ticks, status, None).await
}

/// The form with what was typed, the messages, the firing times and the plan's duties.
/// `editing`: the campaign being edited (its theme and channel are shown, not chosen).
#[allow(clippy::too_many_arguments, reason = "one form shown in several states")]
pub(super) async fn render(
    web: &Web,
    who: &SignedInUser,
    lang: Lang,
    form: &CampaignForm,
    errors: &Errors,
    ticks: Option<Vec<i64>>,
    status: StatusCode,
    editing: Option<i64>,
) -> Response {
    let app = &web.app;
    let plan = app.plan(None).await.ok();
    let names = plan.as_ref().map(|p| ThemeNames::new(p, lang));
    let theme_name = |slug: &str| names.as_ref().map_or_else(|| slug.to_owned(), |n| n.name(slug));
    let themes: Vec<(String, String)> = plan
        .iter()
        .flat_map(|p| &p.themes)
        .map(|t| (t.slug.clone(), theme_name(&t.slug)))
        .collect();
    let channel = Channel::from_slug(&form.channel);
    let duty = plan
        .as_ref()
        .and_then(|p| p.theme(&form.theme))
        .zip(channel)
        .and_then(|(t, c)| t.duty_for(c))
        .map(|d| d.text.clone())
        .unwrap_or_default();
    let duties: Vec<Value> = plan
        .iter()
        .flat_map(|p| &p.themes)
        .flat_map(|t| t.duties.iter().map(move |d| (t, d)))
        .map(|(t, d)| {
            let channels: Vec<String> = d.channels.iter().map(|c| channel_label(lang, *c)).collect();
            json!({"theme": theme_name(&t.slug), "channels": channels.join(&lang.t("list-separator")), "duty": d.text})
        })
        .collect();
    let presets: Vec<(String, String)> = PRESETS
        .iter()
        .map(|(cron, key)| {
            (
                (*cron).to_owned(),
                lang.t_with("preset-with-cron", &[("name", &lang.t(key)), ("cron", cron)]),
            )
        })
        .collect();
    let title = match editing {
        Some(_) => lang.t("edit-the-campaign"),
        None => lang.t("new-campaign-2"),
    };
    let mut context = frame(web, who, lang, &title, "/staff/campaigns");
    context["form"] = json!({
        "theme": form.theme, "channel": form.channel, "name": form.name, "title": form.title,
        "issue": form.issue, "at": form.at, "cron": form.cron, "kind_at": form.kind == "at",
    });
    context["errors"] = json!({
        "theme": errors.theme, "channel": errors.channel, "name": errors.name, "title": errors.title,
        "issue": errors.issue, "schedule": errors.schedule, "form": errors.form, "any": errors.any(),
    });
    context["themes"] = options(themes, &form.theme).into();
    context["channels"] = channel_options(lang, &form.channel).into();
    context["presets"] = options(presets, &form.preset).into();
    context["duty"] = duty.into();
    context["duties"] = duties.into();
    context["times"] = ticks
        .unwrap_or_default()
        .into_iter()
        .map(|t| local_time(app, lang, t))
        .collect::<Vec<_>>()
        .into();
    let zone = &app.settings.schedule.time_zone;
    context["zone"] = if zone == "Asia/Tokyo" {
        lang.t("tokyo-time")
    } else {
        zone.clone()
    }
    .into();
    context["editing"] = editing.is_some().into();
    context["action"] = editing
        .map_or_else(
            || "/staff/campaigns".to_owned(),
            |id| format!("/staff/campaigns/{id}/edit"),
        )
        .into();
    (status, page(web, "staff/campaign-form", &context)).into_response()
}
