//! The frame every staff page shares: its language (Japanese unless the user switched, a cookie), the menu the
//! role may use, the user and the CSRF token for its forms; and the page rendered, kept out of caches.

use axum::http::header::{self, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use super::super::layers::SCRIPT_URL;
use super::super::menu::MENU;
use super::super::pages::Pages;
use super::super::session::SignedInUser;
use super::super::state::Web;
use crate::domain::account::Role;

pub(super) use super::super::catalogue::Lang;

pub(super) use super::super::catalogue::LANG_COOKIE;

impl Lang {
    /// `ja` or `en` of the two: for data that carries both (a theme's titles), not for words of the pages.
    pub(super) fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// What every staff page's template gets: the language, the user, the CSRF token for its forms, the menu the
/// role may use with `current` marked, and the title. Pages add their own keys.
pub(super) fn frame(web: &Web, signed_in: &SignedInUser, lang: Lang, title: &str, current: &str) -> Value {
    let role = signed_in.user.role;
    let menu: Vec<Value> = MENU
        .iter()
        .filter(|m| role >= m.least)
        .map(|m| json!({"path": m.path, "label": lang.t(m.key), "current": m.path == current}))
        .collect();
    let mut context = Pages::base(&web.app, lang.code(), title);
    context["en"] = (lang == Lang::En).into();
    let role_label = lang.label("role", role.as_str());
    context["user"] = json!({"email": signed_in.user.email, "role": role.as_str(), "role_label": role_label});
    context["csrf"] = signed_in.csrf.clone().into();
    context["menu"] = menu.into();
    context["script"] = SCRIPT_URL.as_str().into();
    context["current"] = current.into();
    context["is_staff"] = (role >= Role::Staff).into();
    context["is_admin"] = (role >= Role::Admin).into();
    context
}

/// A staff page, rendered and kept out of caches (it shows what only this user may see).
pub(super) fn page(web: &Web, template: &str, context: &Value) -> Response {
    let mut response = Html(web.pages.render(template, context)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
