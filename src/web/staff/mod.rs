//! The staff, auditor and admin pages: server-rendered from `templates/web/staff/`, every form working without
//! JavaScript. Each area is a file with its own routes; this module gives them the page frame (the menu the
//! role may use, the language switch) and the role check every page makes on the server.

#![allow(dead_code, reason = "scaffold: the pages that use all of it are being built")]

mod admin;
mod audit;
mod audit_csv;
mod campaigns;
mod config_view;
mod dashboard;
mod kit;
mod members;
mod members_import;
mod sentences;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::Web;
use super::auth::{Refusal, forbidden, local_path};
use super::session::SignedInUser;
use crate::domain::account::Role;

/// Every staff, auditor and admin page.
pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/", get(root))
        .route("/lang/{lang}", get(switch_language))
        .merge(dashboard::routes())
        .merge(campaigns::routes())
        .merge(members::routes())
        .merge(audit::routes())
        .merge(admin::routes())
}

/// The routes that take larger bodies (the member CSV upload), kept apart for their own body limit.
pub(super) fn upload_routes() -> Router<Web> {
    members_import::routes()
}

pub(super) use super::catalogue::Lang;

const LANG_COOKIE: &str = "outreach_lang";

impl Lang {
    /// The language of the staff pages: Japanese unless the user switched to English (a cookie).
    pub(super) fn of(headers: &HeaderMap) -> Lang {
        let en = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == LANG_COOKIE && value == "en");
        if en { Lang::En } else { Lang::Ja }
    }

    /// `ja` or `en` of the two, as the language asks.
    pub(super) fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

#[derive(Debug, serde::Deserialize)]
struct Back {
    #[serde(default)]
    back: String,
}

/// `GET /lang/en?back=/staff/campaigns`: switches the language and goes back (to a page of this site only).
async fn switch_language(Path(lang): Path<String>, Query(back): Query<Back>) -> Response {
    let lang = if lang == "en" { "en" } else { "ja" };
    let back = local_path(&back.back).unwrap_or("/staff").to_owned();
    let mut response = Redirect::to(&back).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&format!("{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000"))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// One entry of the menu: shown to roles at or above `least`.
struct MenuItem {
    path: &'static str,
    /// Its label in the message catalogue.
    key: &'static str,
    least: Role,
}

const MENU: &[MenuItem] = &[
    MenuItem {
        path: "/staff",
        key: "menu-dashboard",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/campaigns",
        key: "menu-campaigns",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/members",
        key: "menu-members",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/advisors",
        key: "menu-advisors",
        least: Role::Staff,
    },
    MenuItem {
        path: "/audit/log",
        key: "menu-send-log",
        least: Role::Auditor,
    },
    MenuItem {
        path: "/audit/actions",
        key: "menu-staff-actions",
        least: Role::Auditor,
    },
    MenuItem {
        path: "/admin/users",
        key: "menu-users",
        least: Role::Admin,
    },
    MenuItem {
        path: "/admin/tokens",
        key: "menu-api-tokens",
        least: Role::Admin,
    },
    MenuItem {
        path: "/admin/config",
        key: "menu-configuration",
        least: Role::Admin,
    },
];

/// Where a role lands after signing in: the first page of the menu it may use.
pub(super) fn home_of(role: Role) -> &'static str {
    MENU.iter().find(|m| role >= m.least).map_or("/audit/log", |m| m.path)
}

/// `/`: the signed-in user's first page (a visitor is sent to sign in first, then comes back here).
async fn root(signed_in: SignedInUser) -> Response {
    Redirect::to(home_of(signed_in.user.role)).into_response()
}

/// The 403 page unless the signed-in user's role is at least `least`: every page checks on the server.
pub(super) fn at_least(web: &Web, signed_in: &SignedInUser, least: Role) -> Option<Response> {
    (signed_in.user.role < least).then(|| forbidden(web, Refusal::Role(signed_in.user.role)))
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
    let mut context = super::pages::Pages::base(&web.app, lang.code(), title);
    context["en"] = (lang == Lang::En).into();
    let role_label = lang.label("role", role.as_str());
    context["user"] = json!({"email": signed_in.user.email, "role": role.as_str(), "role_label": role_label});
    context["csrf"] = signed_in.csrf.clone().into();
    context["menu"] = menu.into();
    context["script"] = super::layers::SCRIPT_URL.as_str().into();
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
