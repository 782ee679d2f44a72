//! Staff sign-in: `GET /sign-in` (the form), `POST /sign-in` and `POST /sign-out`. A wrong address and a wrong
//! password get the same page; attempts are limited per typed address and per client address (429, the
//! password not checked); after signing in, the browser goes back only to a path of this site, else to the
//! first page of the menu the role may use (`menu::home_of`).

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::catalogue::Lang;
use super::client::ClientAddress;
use super::limits::retry_after;
use super::menu::home_of;
use super::pages::Pages;
use super::session::{
    NoFields, Refusal, StaffForm, forbidden, local_path, private, same_origin, session_cookie, session_set_cookie,
};
use super::state::Web;
use super::status::status_of;
use crate::Application;
use crate::error::ErrorKind;

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
fn sign_in_page(web: &Web, lang: Lang, status: StatusCode, email: &str, next: &str, message: &str) -> Response {
    let mut context = Pages::base(&web.app, lang.code(), &lang.t("sign-in-title"));
    context["en"] = (lang == Lang::En).into();
    context["email"] = email.into();
    context["next"] = local_path(next).unwrap_or_default().into();
    context["message"] = message.into();
    private((status, Html(web.pages.render("sign-in", &context))).into_response())
}

pub(super) async fn sign_in_form(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Response {
    sign_in_page(&web, Lang::of(&headers), StatusCode::OK, "", &query.next, "")
}

pub(super) async fn sign_in(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let app = &web.app;
    let lang = Lang::of(&headers);
    // Login CSRF: another site must not sign the browser in to an account of its choosing.
    if !same_origin(&headers, &app.settings.web.base_url) {
        return forbidden(&web, lang, Refusal::ForeignOrigin);
    }
    if let Err(wait) = web.sign_in_limits.allow(&form.email, client.0) {
        tracing::info!(%client, "web: sign-in attempts over the limit, refused unchecked");
        let message = lang.t("sign-in-too-many");
        let mut page = sign_in_page(
            &web,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &form.email,
            &form.next,
            &message,
        );
        let (name, value) = retry_after(wait);
        page.headers_mut().insert(name, value);
        return page;
    }
    let signed_in = match app.sign_in(&form.email, &form.password, &client.to_string()).await {
        Ok(signed_in) => signed_in,
        Err(e) if e.kind() == ErrorKind::Unauthorized => {
            let message = lang.t("sign-in-wrong");
            return sign_in_page(&web, lang, status_of(e.kind()), &form.email, &form.next, &message);
        }
        Err(e) if e.kind() == ErrorKind::Invalid => {
            let message = lang.t("sign-in-control");
            let typed = crate::domain::text::cleaned(&form.email, 254);
            return sign_in_page(&web, lang, status_of(e.kind()), &typed, &form.next, &message);
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
    let target = local_path(&form.next).unwrap_or(home_of(signed_in.user.role));
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
