//! The web server: what members reach from a mail. `GET /u/TOKEN` shows what the link will do and changes
//! nothing (mail gateways' link scanners fetch every URL); `POST /u/TOKEN` leaves the theme at once, with no
//! cookie or session, which is RFC 8058's one-click unsubscribe (`List-Unsubscribe=One-Click`) as well as the
//! page's own button. A link that does not verify gets a 400 page in both languages, never a stack trace.
//! Staff sign in at `/sign-in` (see `auth`) and work on the pages of `staff`; every response gets the security headers of `layers`.

mod api;
mod auth;
mod catalogue;
mod client;
mod format;
mod fresh_link;
mod layers;
mod ops;
mod pages;
mod server;
mod session;
mod staff;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, FromRef, FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::Application;
use crate::error::{AppError, ErrorKind};
pub use crate::mail::token;
use crate::mail::token::{MemberToken, Purpose, TokenError};
use pages::Pages;

pub use client::ClientAddress;
pub use session::{SESSION_COOKIE, SignedInUser, StaffForm};

#[derive(Clone)]
struct Web {
    app: Arc<Application>,
    pages: Arc<Pages>,
    /// The keys links verify with, read once: the key file is not read again for every request.
    keys: Arc<Vec<Vec<u8>>>,
    link_mailer: Arc<fresh_link::LinkMailer>,
    /// Sign-in attempts counted per typed address and per client.
    limits: Arc<auth::SignInLimits>,
}

impl FromRef<Web> for Arc<Application> {
    fn from_ref(web: &Web) -> Self {
        web.app.clone()
    }
}

/// The routes, over an application (tests serve it on port 0).
pub fn router(app: Arc<Application>) -> Result<Router, AppError> {
    let pages = Arc::new(Pages::load()?);
    // Without a key no link verifies: every one gets the 400 page.
    let keys = Arc::new(app.verification_keys().unwrap_or_else(|e| {
        tracing::error!(error = %e, "web: no key to verify member links");
        Vec::new()
    }));
    let link_mailer = Arc::new(fresh_link::LinkMailer::new(app.transport()?));
    let limits = Arc::new(auth::SignInLimits::new(&app.settings.web));
    let web = Web {
        app: app.clone(),
        pages,
        keys,
        link_mailer,
        limits,
    };
    // The CSV upload takes larger bodies than the rest: its own limit (see `layers::protect`).
    let uploads = staff::upload_routes().with_state(web.clone());
    let routes = Router::new()
        .route("/u/{token}", get(confirm_leave).post(leave))
        .route("/p/{token}", get(preferences).post(change_preferences))
        .route("/link", post(fresh_link::request_link))
        .route("/sign-in", get(auth::sign_in_form).post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .nest("/api/v1", api::router(app))
        .merge(staff::routes())
        .with_state(web);
    Ok(layers::protect(routes, uploads))
}

/// Binds `web.bind` and says where; a port already taken is a configuration problem, named.
pub async fn bind(app: &Application) -> Result<TcpListener, AppError> {
    let address = &app.settings.web.bind;
    let listener = TcpListener::bind(address).await.map_err(|e| {
        AppError::Config(crate::config::ConfigError::new(
            "web.bind",
            format!("cannot listen on {address}: {e}"),
        ))
    })?;
    // Said on standard output whatever the log level: with port 0, this is the only place the port is told.
    if let Ok(bound) = listener.local_addr() {
        println!(
            "listening on http://{bound} (public address {})",
            crate::config::redact_url(&app.settings.web.base_url)
        );
    }
    Ok(listener)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    app: Arc<Application>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    let address = listener
        .local_addr()
        .map_err(|e| AppError::Internal(format!("web: {e}")))?;
    tracing::info!(
        %address,
        base_url = %crate::config::redact_url(&app.settings.web.base_url),
        "web: member pages listening"
    );
    let limits = server::Limits::of(&app.settings.web);
    server::run(router(app)?, listener, limits, shutdown).await;
    Ok(())
}

/// Counts one request of `key` against `limiter`; refused, how long until it would be allowed.
fn limited<K>(limiter: &governor::DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration>
where
    K: Clone + Eq + std::hash::Hash,
{
    use governor::clock::Clock;
    limiter
        .check_key(key)
        .map_err(|refused| refused.wait_time_from(limiter.clock().now()))
}

/// `Retry-After` for a 429: the seconds until the limit allows again, rounded up, at least one.
fn retry_after(wait: Duration) -> (HeaderName, HeaderValue) {
    let seconds = wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1);
    (header::RETRY_AFTER, HeaderValue::from(seconds))
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

/// What the preferences page confirms.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Done {
    Joined,
    /// A join the member's suppression refused.
    JoinRefused,
    Left,
    LeftAll,
}

/// A failure as a member sees it: the link's fault (400) or ours (503); the cause goes to the log only.
fn failure(web: &Web, e: &AppError) -> Response {
    match e.kind() {
        ErrorKind::NotFound | ErrorKind::Invalid => web.pages.invalid_link(&web.app, TokenError::Invalid),
        _ => {
            tracing::error!(error = %e, "web: a member's request failed");
            (StatusCode::SERVICE_UNAVAILABLE, Html(web.pages.unavailable(&web.app))).into_response()
        }
    }
}
