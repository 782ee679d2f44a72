//! What every response of the web server gets, member pages included: security headers (no inline script or
//! style, no framing, no referrer to other sites: member URLs carry tokens), a request body limit (413) and a
//! request timeout (408); and the one stylesheet, served from the binary.

use std::sync::LazyLock;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header::{self, HeaderValue};
use axum::http::{StatusCode, header::CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// A larger request body is refused with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// The limit of the member CSV upload, the one route with a larger one.
pub const UPLOAD_LIMIT_BYTES: usize = 10 * 1024 * 1024;
/// A request not answered by then gets 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const STYLESHEET: &str = include_str!("../../templates/web/static/site.css");

/// The stylesheet's URL, with a version taken from its contents: it can be cached for a year.
pub(super) static STYLESHEET_URL: LazyLock<String> = LazyLock::new(|| {
    let digest = hex::encode(Sha256::digest(STYLESHEET));
    format!("/static/site.css?v={}", &digest[..12])
});

const SCRIPT: &str = include_str!("../../templates/web/static/staff.js");

/// The staff pages' one script (progressive enhancement only), versioned like the stylesheet.
pub(super) static SCRIPT_URL: LazyLock<String> = LazyLock::new(|| {
    let digest = hex::encode(Sha256::digest(SCRIPT));
    format!("/static/staff.js?v={}", &digest[..12])
});

async fn script() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        SCRIPT,
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
}

/// The stylesheet's and the script's routes and the layers, around all of `router`'s routes and `uploads'`
/// (which get [`UPLOAD_LIMIT_BYTES`] instead of [`BODY_LIMIT_BYTES`]). A response that sets its own
/// `Content-Security-Policy` and `X-Frame-Options` keeps them (only the staff pages' mail preview, framed by its
/// own page, does); every other response gets the strict ones. Likewise `Cache-Control: no-store` unless a
/// response sets its own (only the static files do).
pub(super) fn protect(router: Router, uploads: Router) -> Router {
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Not `no-referrer`: under it browsers send `Origin: null` with the site's own form posts, and the
        // same-origin check (sign-in, sign-out, staff forms) refuses them. `same-origin` still tells other sites
        // nothing, tokens included.
        (header::REFERRER_POLICY, "same-origin"),
    ];
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Member pages, staff pages and API answers hold personal data or working member links: no browser
        // or proxy keeps them. Only the versioned stylesheet and script set their own, long, cache.
        (header::CACHE_CONTROL, "no-store"),
    ];
    let uploads = uploads
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES))
        .layer(RequestBodyLimitLayer::new(UPLOAD_LIMIT_BYTES));
    let mut router = router
        .route("/static/site.css", get(stylesheet))
        .route("/static/staff.js", get(script))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .merge(uploads)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    // Outermost, so the 408 and 413 answers carry them too.
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    for (name, value) in defaults {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}
