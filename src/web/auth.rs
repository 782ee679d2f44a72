//! Staff sign-in: `GET /sign-in` (the form), `POST /sign-in` and `POST /sign-out`. A wrong address and a wrong
//! password get the same page; attempts are limited per typed address and per client address (429, the
//! password not checked); after signing in, the browser goes back only to a path of this site, else to the
//! first page of the menu the role may use (`staff::home_of`).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::Web;
use super::client::ClientAddress;
use super::session::{SignedInUser, StaffForm, same_origin, session_cookie, session_set_cookie};
use super::status::status_of;
use crate::Application;
use crate::config::WebSettings;
use crate::domain::account::Role;
use crate::domain::member::normalize_email;
use crate::error::ErrorKind;

/// Sign-in attempts per typed address and per client address.
pub(super) struct SignInLimits {
    by_address: DefaultKeyedRateLimiter<String>,
    by_client: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl SignInLimits {
    pub(super) fn new(web: &WebSettings) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            by_address: RateLimiter::keyed(quota(web.sign_in_per_minute_per_address)),
            by_client: RateLimiter::keyed(quota(web.sign_in_per_minute_per_client)),
            checks: AtomicU64::new(0),
        }
    }

    /// Whether one more attempt is allowed (and counts it), or how long until the limit that refused allows
    /// again. A client over its limit does not use up the typed address's attempts too.
    fn allow(&self, email: &str, client: IpAddr) -> Result<(), std::time::Duration> {
        // Forget keys whose limit has refilled now and then, so that memory stays bounded.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 64 == 63 {
            self.by_address.retain_recent();
            self.by_client.retain_recent();
            self.by_address.shrink_to_fit();
            self.by_client.shrink_to_fit();
        }
        // The key is the form the account lookup uses: another spelling of the same address (full-width letters,
        // an ideographic full stop) counts against the same limit.
        let key: String = normalize_email(email).chars().take(254).collect();
        super::limited(&self.by_client, &client)?;
        super::limited(&self.by_address, &key)
    }
}

/// `next` if it is a path of this site (`/staff?x=1`), not another site's (`//evil.example`, `/\evil`,
/// `https://…`) nor anything a browser might read as one (control characters, backslashes, non-ASCII).
pub(super) fn local_path(next: &str) -> Option<&str> {
    let safe =
        next.starts_with('/') && !next.starts_with("//") && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    safe.then_some(next)
}

/// Why a request is refused with 403.
#[derive(Debug, Clone, Copy)]
pub(super) enum Refusal {
    /// Another site's page posted the form.
    ForeignOrigin,
    /// The form did not carry the session's token.
    Csrf,
    /// The user's role may not do this.
    Role(Role),
}

/// The 403 page.
pub(super) fn forbidden(web: &Web, why: Refusal) -> Response {
    let message = match why {
        Refusal::ForeignOrigin | Refusal::Csrf => {
            "フォームの有効期限が切れたか、ほかのサイトから送信されました。ページを開き直してから、もう一度お試しください。"
                .to_owned()
        }
        Refusal::Role(role) => format!("この操作は、あなたの権限（{}）では行えません。", role_label(role)),
    };
    let mut context = super::pages::Pages::base(&web.app, "ja", "操作できません");
    context["message"] = message.into();
    let html = web.pages.render("forbidden", &context);
    private((StatusCode::FORBIDDEN, Html(html)).into_response())
}

/// The 403 page if the signed-in user's role may not do `action` (`campaign.pause`, …):
/// `if let Some(refused) = require(&web, &signed_in, "campaign.pause") { return refused; }`.
#[allow(dead_code, reason = "the staff pages of the next issue call it")]
pub(super) fn require(web: &Web, signed_in: &SignedInUser, action: &str) -> Option<Response> {
    (!signed_in.user.role.may(action)).then(|| forbidden(web, Refusal::Role(signed_in.user.role)))
}

pub(super) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "管理者 admin",
        Role::Staff => "スタッフ staff",
        Role::Auditor => "監査 auditor",
    }
}

/// Not kept by the browser's cache or a proxy.
fn private(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct SignInQuery {
    #[serde(default)]
    next: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The sign-in page with what was typed (never the password) and why it is shown again.
fn sign_in_page(web: &Web, status: StatusCode, email: &str, next: &str, message: &str) -> Response {
    let mut context = super::pages::Pages::base(&web.app, "ja", "ログイン");
    context["email"] = email.into();
    context["next"] = local_path(next).unwrap_or_default().into();
    context["message"] = message.into();
    private((status, Html(web.pages.render("sign-in", &context))).into_response())
}

pub(super) async fn sign_in_form(State(web): State<Web>, Query(query): Query<SignInQuery>) -> Response {
    sign_in_page(&web, StatusCode::OK, "", &query.next, "")
}

pub(super) async fn sign_in(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let app = &web.app;
    // Login CSRF: another site must not sign the browser in to an account of its choosing.
    if !same_origin(&headers, &app.settings.web.base_url) {
        return forbidden(&web, Refusal::ForeignOrigin);
    }
    if let Err(wait) = web.limits.allow(&form.email, client.0) {
        tracing::info!(%client, "web: sign-in attempts over the limit, refused unchecked");
        let message = "ログインの試行が多すぎます。しばらく待ってから、もう一度お試しください。";
        let mut page = sign_in_page(&web, StatusCode::TOO_MANY_REQUESTS, &form.email, &form.next, message);
        let (name, value) = super::retry_after(wait);
        page.headers_mut().insert(name, value);
        return page;
    }
    let signed_in = match app.sign_in(&form.email, &form.password, &client.to_string()).await {
        Ok(signed_in) => signed_in,
        Err(e) if e.kind() == ErrorKind::Unauthorized => {
            let message = "メールアドレスまたはパスワードが正しくありません。";
            return sign_in_page(&web, status_of(e.kind()), &form.email, &form.next, message);
        }
        Err(e) if e.kind() == ErrorKind::Invalid => {
            let message = "メールアドレスに使えない文字（改行や制御文字）が含まれています。";
            let typed = crate::domain::text::cleaned(&form.email, 254);
            return sign_in_page(&web, status_of(e.kind()), &typed, &form.next, message);
        }
        Err(e) => return unavailable(&web, status_of(e.kind()), &e),
    };
    // The session the browser brought, if still live, ends: one browser, one session.
    if let Some(old) = session_cookie(&headers) {
        end_session(app, &old, &client).await;
    }
    let Some(cookie) = session_set_cookie(app, &signed_in.session_id, max_age(app)) else {
        return unavailable(
            &web,
            StatusCode::INTERNAL_SERVER_ERROR,
            &"the session cookie is not a header value",
        );
    };
    let target = local_path(&form.next).unwrap_or(super::staff::home_of(signed_in.user.role));
    let mut response = private(Redirect::to(target).into_response());
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// Ends the session `id` if it is live (recorded); a failure is logged only.
async fn end_session(app: &Application, id: &str, client: &ClientAddress) {
    if let Ok(Some((user, _))) = app.session(id).await
        && let Err(e) = app.sign_out(id, &user, &client.to_string()).await
    {
        tracing::error!(error = %e, "web: a session could not be ended");
    }
}

/// The cookie lives no longer than the session can.
fn max_age(app: &Application) -> u64 {
    app.settings.web.session_absolute_hours.saturating_mul(3600)
}

/// No fields besides the CSRF token.
#[derive(Debug, serde::Deserialize)]
pub(super) struct NoFields {}

pub(super) async fn sign_out(
    State(web): State<Web>,
    client: ClientAddress,
    StaffForm { signed_in, .. }: StaffForm<NoFields>,
) -> Response {
    let app = &web.app;
    if let Err(e) = app
        .sign_out(&signed_in.session_id, &signed_in.user, &client.to_string())
        .await
    {
        return unavailable(&web, status_of(e.kind()), &e);
    }
    let mut response = private(Redirect::to("/sign-in").into_response());
    if let Some(cookie) = session_set_cookie(app, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Our failure (logged, the cause never shown) with `status`.
fn unavailable(web: &Web, status: StatusCode, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "web: a sign-in request failed");
    let html = web.pages.unavailable(&web.app);
    private((status, Html(html)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        for good in ["/staff", "/staff/campaigns?page=2", "/"] {
            assert_eq!(local_path(good), Some(good));
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "staff",
            "/\t/evil.example",
            "/staff\r\nSet-Cookie: x=1",
            "/ページ",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
