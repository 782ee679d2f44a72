//! The staff, auditor and admin pages: server-rendered from `templates/web/staff/`, every form working without
//! JavaScript. Each area is a file with its own routes, wired here; `frame` gives them the page frame (the menu
//! the role may use, the language switch), and each page names the least role it needs in its extractor
//! (`Signed<R>`, `StaffForm<T, R>`), checked on the server.

mod admin;
mod audit;
mod audit_csv;
mod campaigns;
mod config_view;
mod dashboard;
mod frame;
pub(super) mod import_problems;
mod kit;
mod members;
mod members_import;
mod sentences;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::header::{self, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::menu::home_of;
use super::role::Auditor;
use super::session::{Signed, local_path};
use super::state::Web;
use frame::LANG_COOKIE;

/// Every staff, auditor and admin page.
pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/", get(root))
        .route("/lang/{lang}", get(switch_language))
        .merge(dashboard::routes())
        .merge(campaigns::routes())
        .merge(members::routes())
        .merge(audit::routes())
        .merge(audit_csv::routes())
        .merge(admin::routes())
}

/// The routes that take larger bodies (the member CSV upload), kept apart for their own body limit.
pub(super) fn upload_routes() -> Router<Web> {
    members_import::routes()
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

/// `/`: the signed-in user's first page (a visitor is sent to sign in first, then comes back here).
async fn root(signed_in: Signed<Auditor>) -> Response {
    Redirect::to(home_of(signed_in.user.role)).into_response()
}
