//! A campaign's moves: pause, resume, cancel and send now, each first on a confirmation page that says what
//! will happen and to how many recipients, then posted with the session's CSRF token; the test mail to
//! oneself; and the mail preview served for the page's sandboxed frame, with its own strict policy.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::super::super::client::ClientAddress;
use super::super::super::role::Staff;
use super::super::super::session::{NoFields, Signed, StaffForm};
use super::super::super::state::Web;
use super::super::frame::{Lang, frame, page};
use super::shared::{failed, message, state_label};
use crate::Application;
use crate::domain::Actor;
use crate::domain::campaign::{Campaign, CampaignState};

/// The mail preview's own policy: no script at all, the mail's inline styles, images inline or over https;
/// framed by our own page only.
const PREVIEW_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; \
     frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

/// The moves a confirmation page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    Pause,
    Resume,
    Cancel,
    SendNow,
}

impl Move {
    fn parse(s: &str) -> Option<Move> {
        match s {
            "pause" => Some(Move::Pause),
            "resume" => Some(Move::Resume),
            "cancel" => Some(Move::Cancel),
            "send-now" => Some(Move::SendNow),
            _ => None,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Move::Pause => "pause",
            Move::Resume => "resume",
            Move::Cancel => "cancel",
            Move::SendNow => "send-now",
        }
    }

    fn title(self, lang: Lang) -> String {
        match self {
            Move::Pause => lang.t("pause-2"),
            Move::Resume => lang.t("resume-2"),
            Move::Cancel => lang.t("cancel-2"),
            Move::SendNow => lang.t("send-now-2"),
        }
    }

    /// What will happen, with the audience size.
    fn consequence(self, lang: Lang, audience: i64) -> String {
        let key = match self {
            Move::Pause => "consequence-pause",
            Move::Resume => "consequence-resume",
            Move::Cancel => "consequence-cancel",
            Move::SendNow => "consequence-send-now",
        };
        lang.t_with(key, &[("audience", &audience.to_string())])
    }
}

/// What the campaign page says after a move (`?done=…`).
pub(super) fn done_text(lang: Lang, done: &str) -> String {
    match done {
        "pause" => lang.t("paused-2"),
        "resume" => lang.t("resumed"),
        "cancel" => lang.t("cancelled-2"),
        "send-now" => lang.t("the-run-has-started"),
        "send-now-exists" => lang.t("a-run-for-this-instant-exists"),
        "edit" => lang.t("the-changes-are-saved"),
        "edit-same" => lang.t("nothing-was-changed"),
        "send-test" => lang.t("the-test-mail-was-sent-to"),
        _ => String::new(),
    }
}

/// Who looks at a preview, through which client: a member's mail shown is recorded as theirs.
#[derive(Clone, Copy)]
pub(super) struct Viewer<'a> {
    pub(super) app: &'a Application,
    pub(super) actor: &'a Actor,
}

/// Adds the mail preview (subject, frame URL, text part) to a campaign page's context, or why it failed.
pub(super) async fn with_preview(
    viewer: Viewer<'_>,
    lang: Lang,
    context: &mut Value,
    c: &Campaign,
    member: Option<&str>,
) {
    let app = viewer.app;
    let rendered = match app.templates() {
        Ok(templates) => app.campaign_mail(viewer.actor, &templates, c, member).await,
        Err(e) => Err(e),
    };
    let query = serde_urlencoded::to_string([("member", member.unwrap_or_default())]).unwrap_or_default();
    // A member previewed who does not get this theme would never receive this mail: said above it.
    let not_on_theme = match (member, &rendered) {
        (Some(email), Ok(_)) => app
            .member(email)
            .await
            .is_ok_and(|m| m.status != crate::domain::MemberStatus::Active || !m.themes.contains(&c.theme_slug)),
        _ => false,
    };
    context["preview"] = match rendered {
        Ok(mail) => json!({
            "subject": mail.subject,
            "text": mail.text,
            "src": format!("/staff/campaigns/{}/preview.html?{query}", c.id),
            "error": "",
            "not_on_theme": not_on_theme && c.channel == crate::domain::Channel::Newsletter,
        }),
        Err(e) => json!({
            "subject": "", "text": "", "src": "",
            "error": format!("{}: {e}", lang.t("the-preview-failed")),
        }),
    };
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct MemberQuery {
    #[serde(default)]
    member: String,
}

/// `GET /staff/campaigns/{id}/preview.html?member=…`: the mail's HTML part alone, for the sandboxed frame.
pub(super) async fn preview_html(
    State(web): State<Web>,
    headers: HeaderMap,
    client: ClientAddress,
    who: Signed<Staff>,
    Path(id): Path<i64>,
    Query(query): Query<MemberQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let app = &web.app.for_client(&client.to_string());
    let member = Some(query.member.trim()).filter(|m| !m.is_empty());
    let rendered = match (app.campaign(id).await, app.templates()) {
        (Ok(c), Ok(t)) => app.campaign_mail(&super::super::kit::actor(&who), &t, &c, member).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let mail = match rendered {
        Ok(mail) => mail,
        Err(e) => return failed(&web, &who, lang, &e),
    };
    let mut response = Html(mail.html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PREVIEW_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /staff/campaigns/{id}/confirm/{move}`: what the move will do, and the button that does it.
pub(super) async fn confirm(
    State(web): State<Web>,
    headers: HeaderMap,
    who: Signed<Staff>,
    Path((id, action)): Path<(i64, String)>,
) -> Response {
    let lang = Lang::of(&headers);
    let Some(the_move) = Move::parse(&action) else {
        return message(&web, &who, lang, StatusCode::NOT_FOUND, &lang.t("not-found"));
    };
    let campaign = match web.app.campaign(id).await {
        Ok(c) => c,
        Err(e) => return failed(&web, &who, lang, &e),
    };
    let audience = match web.app.audience_size(&campaign).await {
        Ok(n) => n,
        Err(e) => return failed(&web, &who, lang, &e),
    };
    let title = lang.t_with(
        "move-on-campaign",
        &[("move", &the_move.title(lang)), ("name", &campaign.name)],
    );
    let mut context = frame(&web, &who, lang, &title, "/staff/campaigns");
    context["campaign"] = json!({"id": campaign.id, "name": campaign.name, "state": state_label(lang, campaign.state),
               "state_code": campaign.state.as_str()});
    context["action"] = the_move.slug().into();
    context["action_title"] = the_move.title(lang).into();
    context["consequence"] = the_move.consequence(lang, audience).into();
    context["audience"] = audience.into();
    page(&web, "staff/campaign-confirm", &context)
}

/// `POST /staff/campaigns/{id}/{move}` (CSRF-checked): does the move, back to the campaign's page.
pub(super) async fn act(
    State(web): State<Web>,
    headers: HeaderMap,
    client: ClientAddress,
    Path((id, action)): Path<(i64, String)>,
    StaffForm { signed_in: who, .. }: StaffForm<NoFields, Staff>,
) -> Response {
    let lang = Lang::of(&headers);
    let app = web.app.for_client(&client.to_string());
    let actor = Actor::User {
        email: who.user.email.clone(),
        role: who.user.role,
    };
    let done = {
        let Some(the_move) = Move::parse(&action) else {
            return message(&web, &who, lang, StatusCode::NOT_FOUND, &lang.t("not-found"));
        };
        let state = |to| app.set_campaign_state(&actor, id, to);
        match the_move {
            Move::Pause => state(CampaignState::Paused).await.map(|()| "pause"),
            Move::Resume => state(CampaignState::Scheduled).await.map(|()| "resume"),
            Move::Cancel => state(CampaignState::Cancelled).await.map(|()| "cancel"),
            Move::SendNow => app
                .send_now(&actor, id)
                .await
                .map(|run| if run.is_some() { "send-now" } else { "send-now-exists" }),
        }
    };
    match done {
        Ok(done) => Redirect::to(&format!("/staff/campaigns/{id}?done={done}")).into_response(),
        Err(e) => failed(&web, &who, lang, &e),
    }
}
