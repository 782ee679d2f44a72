//! Who is signed in, with what role, and the checks every state-changing form of a signed-in page passes: the
//! request comes from our own pages (`Origin`, `Sec-Fetch-Site`) and carries the session's CSRF token. A page
//! takes [`Signed<R>`] and a form [`StaffForm<T, R>`]: a visitor is sent to sign in, a user below the role `R`
//! gets the 403 page, before the handler runs. The member pages (`/u/…`, `/p/…`) have no session and must take
//! mail providers' one-click POSTs: none of this applies there.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::catalogue::{Lang, both};
use super::pages::Pages;
use super::role::{self, Auditor, Least};
use super::state::Web;
use super::status::{BAD_INPUT, status_of};
use crate::Application;
use crate::domain::account::{Role, User};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "outreach_session";

/// A signed-in user, from a live session: a page that takes it is for signed-in users only, and anyone else is
/// sent to the sign-in page (303), to come back after.
#[derive(Debug, Clone)]
pub struct SignedInUser {
    pub user: User,
    /// The token the session's forms carry (see [`StaffForm`]).
    pub csrf: String,
    pub session_id: String,
}

impl<S> FromRequestParts<S> for SignedInUser
where
    S: Send + Sync,
    Arc<Application>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let app = Arc::<Application>::from_ref(state);
        let Some(session_id) = session_cookie(&parts.headers) else {
            return Err(to_sign_in(parts));
        };
        match app.session(&session_id).await {
            Ok(Some((user, csrf))) => Ok(SignedInUser { user, csrf, session_id }),
            Ok(None) => Err(to_sign_in(parts)),
            Err(e) => {
                tracing::error!(error = %e, "web: a session could not be read");
                // This extractor has no templates (it serves any state): the words of the "unavailable" page, in
                // both languages, as text.
                Err((status_of(e.kind()), both("unavailable-text")).into_response())
            }
        }
    }
}

/// To the sign-in page, coming back to this page after (a GET's; a form's POST cannot be repeated).
fn to_sign_in(parts: &Parts) -> Response {
    let back = (parts.method == Method::GET || parts.method == Method::HEAD)
        .then(|| parts.uri.path_and_query().map(|p| p.as_str()))
        .flatten()
        .and_then(local_path);
    let location = match back {
        Some(next) => format!(
            "/sign-in?{}",
            serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
        ),
        None => "/sign-in".to_owned(),
    };
    Redirect::to(&location).into_response()
}

/// `next` if it is a path of this site (`/staff?x=1`), not another site's (`//evil.example`, `/\evil`,
/// `https://…`) nor anything a browser might read as one (control characters, backslashes, non-ASCII).
pub(super) fn local_path(next: &str) -> Option<&str> {
    let safe =
        next.starts_with('/') && !next.starts_with("//") && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    safe.then_some(next)
}

/// A signed-in user whose role is at least `R` (see [`role`]): anyone else gets what [`SignedInUser`] answers,
/// and a user below `R` the 403 page. Derefs to the user.
#[derive(Debug, Clone)]
pub(super) struct Signed<R: Least> {
    user: SignedInUser,
    role: PhantomData<R>,
}

impl<R: Least> Signed<R> {
    /// `user` if their role is at least `R`, else why not.
    fn admit(user: SignedInUser) -> Result<Self, Refusal> {
        if role::admits::<R>(user.user.role) {
            Ok(Signed {
                user,
                role: PhantomData,
            })
        } else {
            Err(Refusal::Role(user.user.role))
        }
    }
}

impl<R: Least> Deref for Signed<R> {
    type Target = SignedInUser;

    fn deref(&self) -> &SignedInUser {
        &self.user
    }
}

impl<R: Least> FromRequestParts<Web> for Signed<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Response> {
        let user = SignedInUser::from_request_parts(parts, web).await?;
        Signed::admit(user).map_err(|why| forbidden(web, Lang::of(&parts.headers), why))
    }
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

/// The 403 page in the reader's language, kept out of caches.
pub(super) fn forbidden(web: &Web, lang: Lang, why: Refusal) -> Response {
    let message = match why {
        Refusal::ForeignOrigin | Refusal::Csrf => lang.t("forbidden-form"),
        Refusal::Role(role) => lang.t_with("forbidden-role", &[("role", &lang.label("role", role.as_str()))]),
    };
    let mut context = Pages::base(&web.app, lang.code(), &lang.t("forbidden-title"));
    context["message"] = message.into();
    let html = web.pages.render("forbidden", &context);
    private((StatusCode::FORBIDDEN, Html(html)).into_response())
}

/// Not kept by the browser's cache or a proxy.
pub(super) fn private(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The value of the session cookie the request brought, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value of a session (`max_age` 0 removes it): never readable by scripts, not sent along
/// with other sites' POSTs, and only over https when the site is https.
pub fn session_set_cookie(app: &Application, value: &str, max_age: u64) -> Option<HeaderValue> {
    let secure = if app.settings.web.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// Whether a state-changing request comes from our own pages, as far as the browser tells: `Sec-Fetch-Site`,
/// when sent, is `same-origin` or `none` (typed by the user); `Origin`, when sent, is `web.base_url`'s origin
/// or the host the request came to. Without either header (an older browser, a script), it passes: the CSRF
/// token (signed-in forms) or the SameSite cookie still stand.
pub fn same_origin(headers: &HeaderMap, base_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.to_str(), Ok("same-origin" | "none"))
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if origin == origin_of(base_url) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((origin_host, host), (Some(o), Some(h)) if !o.is_empty() && o == h)
}

/// `scheme://host[:port]` of a URL, lower case.
fn origin_of(url: &str) -> String {
    let url = url.to_ascii_lowercase();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{authority}")
        }
        None => url,
    }
}

/// Whether `given` is the session's token, compared in constant time (over hashes, so the length is not
/// told either).
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(Sha256::digest(expected).ct_eq(&Sha256::digest(given)))
}

/// A form posted from a signed-in page, checked: our own origin (else 403), a live session (else 303 to the
/// sign-in page), the session's CSRF token in the field `csrf` (else 403), fields that read as `T` (else 400),
/// and a role of at least `R` (else 403). `T` gets the other fields (it must not deny unknown fields: `csrf`
/// is there too).
#[derive(Debug)]
pub(super) struct StaffForm<T, R: Least = Auditor> {
    pub(super) signed_in: Signed<R>,
    pub(super) form: T,
}

/// No fields besides the CSRF token.
#[derive(Debug, serde::Deserialize)]
pub(super) struct NoFields {}

/// The field the CSRF token travels in.
#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T, R> FromRequest<Web> for StaffForm<T, R>
where
    T: DeserializeOwned + Send,
    R: Least,
{
    type Rejection = Response;

    async fn from_request(request: Request, web: &Web) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let lang = Lang::of(&parts.headers);
        if !same_origin(&parts.headers, &web.app.settings.web.base_url) {
            return Err(forbidden(web, lang, Refusal::ForeignOrigin));
        }
        let signed_in = SignedInUser::from_request_parts(&mut parts, web).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), web)
            .await
            .map_err(IntoResponse::into_response)?;
        let token = serde_urlencoded::from_bytes::<CsrfField>(&bytes)
            .map(|f| f.csrf)
            .unwrap_or_default();
        if !csrf_matches(&signed_in.csrf, &token) {
            return Err(forbidden(web, lang, Refusal::Csrf));
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            // Only a form that was not ours (fields missing or of the wrong kind) gets here.
            tracing::info!(error = %e, "web: a staff form was refused as incomplete");
            (BAD_INPUT, lang.t("form-incomplete")).into_response()
        })?;
        Ok(StaffForm {
            signed_in: Signed::admit(signed_in).map_err(|why| forbidden(web, lang, why))?,
            form,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn only_our_own_origin_passes() {
        let base = "https://outreach.example.org";
        assert!(same_origin(&headers(&[]), base));
        assert!(same_origin(
            &headers(&[("origin", "https://outreach.example.org")]),
            base
        ));
        assert!(same_origin(
            &headers(&[("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:8080")]),
            base
        ));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), base));
        assert!(!same_origin(&headers(&[("origin", "https://evil.example")]), base));
        assert!(!same_origin(&headers(&[("origin", "null"), ("host", "null")]), base));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")]), base));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")]), base));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; outreach_session=abc ; b=2")]);
        assert_eq!(session_cookie(&h).as_deref(), Some("abc"));
        assert_eq!(session_cookie(&headers(&[("cookie", "outreach_session=")])), None);
        assert!(csrf_matches("token", "token"));
        assert!(!csrf_matches("token", "tokem"));
        assert!(!csrf_matches("", ""));
    }

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
