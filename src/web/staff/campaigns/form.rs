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

use super::super::super::Web;
use super::super::super::client::ClientAddress;
use super::super::super::session::{SignedInUser, StaffForm};
use super::super::{Lang, at_least, frame, page};
use super::{NEXT_FIRINGS, channel_options, local_time, options};
use crate::Application;
use crate::domain::Actor;
use crate::domain::account::Role;
use crate::domain::campaign::Schedule;
use crate::domain::campaign::schedule::parse_local_datetime;
use crate::domain::plan::{Channel, Plan};
use crate::domain::text;
use crate::error::ErrorKind;
use crate::services::CampaignRequest;

/// Schedules staff use most, as cron in Tokyo time: `(cron, 日本語, English)`.
const PRESETS: &[(&str, &str, &str)] = &[
    ("0 9 * * MON#1", "毎月第1月曜 9:00", "First Monday of each month, 9:00"),
    ("0 9 * * MON", "毎週月曜 9:00", "Every Monday, 9:00"),
    ("0 9 1 * *", "毎月1日 9:00", "The 1st of each month, 9:00"),
];

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

/// The next firing times of a schedule as typed, or a plain message saying why there are none.
pub(super) fn firings(app: &Application, lang: Lang, at: &str, cron: &str) -> Result<Vec<i64>, String> {
    let tz = app.settings.schedule.tz();
    let schedule = if !at.trim().is_empty() {
        let at_ms = parse_local_datetime("at", at, tz).map_err(|_| {
            lang.pick(
                "日時を 2020-06-01T09:00 の形（東京時間）で入力してください。",
                "Enter the date and time, Tokyo time, as 2020-06-01T09:00.",
            )
            .to_owned()
        })?;
        Schedule::Once { at_ms }
    } else if !cron.trim().is_empty() {
        Schedule::cron(cron, &app.settings.schedule.time_zone).map_err(|_| {
            lang.pick(
                "cron の書式が正しくありません。「分 時 日 月 曜日」の5項目で書いてください（例：0 9 * * MON#1 は毎月第1月曜 9:00）。",
                "The cron expression does not parse. Write five fields, minute hour day month weekday \
                 (e.g. 0 9 * * MON#1 is the first Monday of each month at 9:00).",
            )
            .to_owned()
        })?
    } else {
        return Err(lang
            .pick("スケジュールを入力してください。", "Enter a schedule.")
            .to_owned());
    };
    let ticks = schedule.ticks_within(app.now(), NEXT_FIRINGS, None, None);
    if ticks.is_empty() {
        return Err(if schedule.is_once() {
            lang.pick("この日時はもう過ぎています。", "That time has passed.")
        } else {
            lang.pick(
                "このスケジュールでは、今後一度も配信されません（たとえば 2月31日は来ません）。",
                "This schedule never fires from now on (February 31st, for one, never comes).",
            )
        }
        .to_owned());
    }
    Ok(ticks)
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct PreviewQuery {
    #[serde(default)]
    at: String,
    #[serde(default)]
    cron: String,
}

/// `GET /staff/schedule/preview?cron=…` (or `?at=…`): `{"times": [...], "error": null}`, or 422 with the error.
pub(super) async fn schedule_preview(
    State(web): State<Web>,
    headers: HeaderMap,
    who: SignedInUser,
    Query(query): Query<PreviewQuery>,
) -> Response {
    if let Some(refused) = at_least(&web, &who, Role::Staff) {
        return refused;
    }
    let lang = Lang::of(&headers);
    match firings(&web.app, lang, &query.at, &query.cron) {
        Ok(ticks) => {
            let times: Vec<String> = ticks.into_iter().map(|t| local_time(&web.app, lang, t)).collect();
            Json(json!({"times": times, "error": null})).into_response()
        }
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"times": [], "error": error})),
        )
            .into_response(),
    }
}

/// `GET /staff/campaigns/new`.
pub(super) async fn new(State(web): State<Web>, headers: HeaderMap, who: SignedInUser) -> Response {
    if let Some(refused) = at_least(&web, &who, Role::Staff) {
        return refused;
    }
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
}

/// A text field's problem under the rules every way in shares (`domain::text`), if any, in the reader's language.
fn text_problem(lang: Lang, field: text::Field, value: &str) -> String {
    field
        .check(value)
        .err()
        .map(|e| e.explain(lang == Lang::En))
        .unwrap_or_default()
}

/// The form's checks, field by field.
pub(super) fn check(app: &Application, lang: Lang, plan: Option<&Plan>, form: &CampaignForm) -> (Errors, Vec<i64>) {
    let mut errors = Errors::default();
    if plan.and_then(|p| p.theme(&form.theme)).is_none() {
        errors.theme = lang.pick("テーマを選んでください。", "Choose a theme.").to_owned();
    }
    let channel = Channel::from_slug(&form.channel);
    if channel.is_none() {
        errors.channel = lang.pick("配信経路を選んでください。", "Choose a channel.").to_owned();
    }
    if form.name.trim().is_empty() {
        errors.name = lang
            .pick("管理用の名前を入力してください。", "Enter the internal name.")
            .to_owned();
    } else {
        errors.name = text_problem(lang, text::CAMPAIGN_NAME, &form.name);
    }
    errors.title = text_problem(lang, text::TITLE, &form.title);
    errors.issue = text_problem(lang, text::ISSUE, &form.issue);
    if errors.issue.is_empty() && !form.issue.trim().is_empty() && channel != Some(Channel::ToshoShimbun) {
        errors.issue = lang
            .pick(
                "号は東商新聞のときだけ入力します。",
                "The issue is for Tosho Shimbun only.",
            )
            .to_owned();
    }
    let (at, cron) = schedule_fields(form);
    let ticks = firings(app, lang, at, cron).unwrap_or_else(|e| {
        errors.schedule = e;
        Vec::new()
    });
    if channel.is_some()
        && errors.theme.is_empty()
        && let Some(theme) = plan.and_then(|p| p.theme(&form.theme))
        && channel.and_then(|c| theme.duty_for(c)).is_none()
    {
        errors.channel = lang
            .pick(
                "計画では、このテーマのこの配信経路に事業がありません。",
                "The plan names no duty for this theme on this channel.",
            )
            .to_owned();
    }
    (errors, ticks)
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
    StaffForm { signed_in: who, form }: StaffForm<CampaignForm>,
) -> Response {
    if let Some(refused) = at_least(&web, &who, Role::Staff) {
        return refused;
    }
    let lang = Lang::of(&headers);
    let mut form = form;
    if form.kind != "at" && form.cron.trim().is_empty() && !form.preset.is_empty() {
        form.cron = form.preset.clone();
    }
    let plan = web.app.plan(None).await.ok();
    let (mut errors, ticks) = check(&web.app, lang, plan.as_ref(), &form);
    if errors.any() {
        return render(
            &web,
            &who,
            lang,
            &form,
            &errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
        .await;
    }
    if form.preview.is_some() {
        return render(&web, &who, lang, &form, &errors, Some(ticks), StatusCode::OK, None).await;
    }
    let (at, cron) = schedule_fields(&form);
    let optional = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let request = CampaignRequest {
        name: form.name.trim().to_owned(),
        title: optional(&form.title),
        issue: optional(&form.issue),
        theme_slug: form.theme.clone(),
        channel: Channel::from_slug(&form.channel).unwrap_or(Channel::Newsletter),
        at: optional(at),
        cron: optional(cron),
        from: None,
        until: None,
        fiscal_year: None,
    };
    let app = web.app.for_client(&client.to_string());
    let actor = Actor::User {
        email: who.user.email.clone(),
        role: who.user.role,
    };
    let created = match app.templates() {
        Ok(templates) => app.create_campaign(&actor, &templates, &request).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(id) => Redirect::to(&format!("/staff/campaigns/{id}")).into_response(),
        Err(e) if matches!(e.kind(), ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Config) => {
            errors.form = e.to_string();
            render(
                &web,
                &who,
                lang,
                &form,
                &errors,
                Some(ticks),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => super::failed(&web, &who, lang, &e),
    }
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
    let themes: Vec<(String, String)> = plan
        .iter()
        .flat_map(|p| &p.themes)
        .map(|t| {
            let title = if lang == Lang::En && !t.title_en.is_empty() {
                &t.title_en
            } else {
                &t.title_ja
            };
            (t.slug.clone(), format!("{title} ({})", t.slug))
        })
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
            let channels: Vec<&str> = d.channels.iter().map(|c| super::channel_label(lang, *c)).collect();
            json!({"theme": t.slug, "channels": channels.join(", "), "duty": d.text})
        })
        .collect();
    let presets: Vec<(String, String)> = PRESETS
        .iter()
        .map(|(cron, ja, en)| ((*cron).to_owned(), format!("{} ({cron})", lang.pick(ja, en))))
        .collect();
    let title = match editing {
        Some(_) => lang.pick("キャンペーンの編集", "Edit the campaign"),
        None => lang.pick("キャンペーンの作成", "New campaign"),
    };
    let mut context = frame(web, who, lang, title, "/staff/campaigns");
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
    context["zone"] = app.settings.schedule.time_zone.clone().into();
    context["editing"] = editing.is_some().into();
    context["action"] = editing
        .map_or_else(
            || "/staff/campaigns".to_owned(),
            |id| format!("/staff/campaigns/{id}/edit"),
        )
        .into();
    (status, page(web, "staff/campaign-form", &context)).into_response()
}
