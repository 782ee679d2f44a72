//! The member pages: what members reach from a mail. `GET /u/TOKEN` shows what the link will do and changes
//! nothing (mail gateways' link scanners fetch every URL); `POST /u/TOKEN` leaves the theme at once, with no
//! cookie or session, which is RFC 8058's one-click unsubscribe (`List-Unsubscribe=One-Click`) as well as the
//! page's own button. `/p/TOKEN` is the member's preferences. A link that does not verify gets a 400 page in
//! both languages, never a stack trace.

use axum::Router;
use axum::extract::{Form, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::client::ClientAddress;
use super::pages::Done;
use super::state::Web;
use super::status::status_of;
use crate::error::{AppError, ErrorKind};
use crate::mail::token::{MemberToken, Purpose, TokenError};

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/u/{token}", get(confirm_leave).post(leave))
        .route("/p/{token}", get(preferences).post(change_preferences))
}

/// A member route's token. One that is not UTF-8 once decoded (`/u/%FF%FE`) gets the bilingual invalid-link
/// page, like any broken link, instead of axum's plain-text rejection.
struct LinkToken(String);

impl FromRequestParts<Web> for LinkToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Response> {
        match Path::<String>::from_request_parts(parts, web).await {
            Ok(Path(token)) => Ok(LinkToken(token)),
            Err(_) => Err(web.pages.invalid_link(&web.app, TokenError::Invalid)),
        }
    }
}

/// The token, if it verifies with the current key or the previous one, has not expired, and is a live one (a
/// preview's link is answered with what it would do, and nothing is done).
fn verified(web: &Web, token: &str) -> Result<MemberToken, TokenError> {
    let keys: Vec<&[u8]> = web.keys.iter().map(Vec::as_slice).collect();
    match MemberToken::verify(token, &keys, web.app.now())? {
        MemberToken { inert: true, .. } => Err(TokenError::Inert),
        live => Ok(live),
    }
}

/// The member and theme an unsubscribe link names, or why it cannot be used.
fn unsubscribe_token(web: &Web, token: &str) -> Result<(i64, String), TokenError> {
    match verified(web, token)? {
        MemberToken {
            member_id,
            purpose: Purpose::Unsubscribe { theme_slug },
            ..
        } => Ok((member_id, theme_slug)),
        _ => Err(TokenError::Invalid),
    }
}

async fn confirm_leave(State(web): State<Web>, LinkToken(token): LinkToken) -> Response {
    let (member_id, theme) = match unsubscribe_token(&web, &token) {
        Ok(named) => named,
        Err(why) => return web.pages.invalid_link(&web.app, why),
    };
    match web.app.member_by_id(member_id).await {
        Ok(member) => web.pages.leave_confirm(&web.app, &member, &theme).await,
        Err(e) => failure(&web, &e),
    }
}

async fn leave(State(web): State<Web>, client: ClientAddress, LinkToken(token): LinkToken) -> Response {
    let (member_id, theme) = match unsubscribe_token(&web, &token) {
        Ok(named) => named,
        Err(why) => return web.pages.invalid_link(&web.app, why),
    };
    match web.app.leave_by_link(member_id, &theme, &client.to_string()).await {
        Ok((member, left)) => {
            let back = preferences_path(&web, member_id);
            web.pages.left(&web.app, &member, &theme, !left, &back).await
        }
        Err(e) => failure(&web, &e),
    }
}

/// A fresh preferences link for a member who just left a theme by link: the way back (undo, other themes).
/// Signed with the current key, for `web.link_ttl_days`; relative, as `base_url` may have a path; empty without
/// a key.
fn preferences_path(web: &Web, member_id: i64) -> String {
    let Some(key) = web.keys.first() else {
        return String::new();
    };
    let token = MemberToken::preferences(member_id, web.app.now(), web.app.settings.web.link_ttl_days);
    format!("../p/{}", token.sign(key))
}

/// The member a preferences link names, or why it cannot be used.
fn preferences_token(web: &Web, token: &str) -> Result<i64, TokenError> {
    match verified(web, token)? {
        MemberToken {
            member_id,
            purpose: Purpose::Preferences,
            ..
        } => Ok(member_id),
        _ => Err(TokenError::Invalid),
    }
}

async fn preferences(State(web): State<Web>, LinkToken(token): LinkToken) -> Response {
    let member_id = match preferences_token(&web, &token) {
        Ok(id) => id,
        Err(why) => return web.pages.invalid_link(&web.app, why),
    };
    match web.app.member_by_id(member_id).await {
        Ok(member) => web.pages.preferences(&web.app, &member, None).await,
        Err(e) => failure(&web, &e),
    }
}

/// One change from the preferences page: join or leave a theme, or leave everything.
#[derive(Debug, serde::Deserialize)]
struct PreferencesForm {
    #[serde(rename = "do")]
    change: String,
    #[serde(default)]
    theme: String,
}

async fn change_preferences(
    State(web): State<Web>,
    client: ClientAddress,
    LinkToken(token): LinkToken,
    Form(form): Form<PreferencesForm>,
) -> Response {
    let member_id = match preferences_token(&web, &token) {
        Ok(id) => id,
        Err(why) => return web.pages.invalid_link(&web.app, why),
    };
    let app = &web.app;
    let client = client.to_string();
    let changed = match form.change.as_str() {
        "join" => app
            .join_by_link(member_id, &form.theme, &client)
            .await
            .map(|c| (Done::Joined, c)),
        "leave" => app
            .leave_by_link(member_id, &form.theme, &client)
            .await
            .map(|(_, c)| (Done::Left, c)),
        "leave-all" => app
            .leave_all_by_link(member_id, &client)
            .await
            .map(|c| (Done::LeftAll, c)),
        _ => return web.pages.invalid_link(app, TokenError::Invalid),
    };
    let (done, changed) = match changed {
        Ok(done) => done,
        Err(e) => return failure(&web, &e),
    };
    match app.member_by_id(member_id).await {
        Ok(member) => {
            // A suppressed member's join changes nothing: the page says so rather than that mail will come.
            let done = match done {
                Done::Joined if !changed && member.status == crate::domain::MemberStatus::Suppressed => {
                    Done::JoinRefused
                }
                done => done,
            };
            web.pages.preferences(app, &member, Some((done, &form.theme))).await
        }
        Err(e) => failure(&web, &e),
    }
}

/// A failure as a member sees it: the link's fault or ours (logged, the cause never shown). From a member
/// every request is a link and a button, so a member or theme the link names that is not there is a link that
/// does not work: the same page and status as one that does not verify.
fn failure(web: &Web, e: &AppError) -> Response {
    match e.kind() {
        ErrorKind::NotFound | ErrorKind::Invalid => web.pages.invalid_link(&web.app, TokenError::Invalid),
        kind => {
            tracing::error!(error = %e, "web: a member's request failed");
            (status_of(kind), Html(web.pages.unavailable(&web.app))).into_response()
        }
    }
}
