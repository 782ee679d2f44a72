//! The web server: the member pages reached from a mail (`member`, `fresh_link`), staff sign-in and sessions
//! (`auth`, `session`), the staff, auditor and admin pages (`staff`), the JSON API (`api`) and the probes
//! (`ops`); every response gets the security headers of `layers`. This module only wires them: what several of
//! them share is a module of its own (`state`, `session`, `role`, `status`, `keyset`, `menu`), so that no
//! module of the web server uses one that uses it back (`tests/layers.rs` checks it).

mod api;
mod auth;
mod catalogue;
mod client;
mod explain;
mod format;
mod fresh_link;
mod keyset;
mod layers;
mod limits;
mod member;
mod menu;
mod ops;
mod pages;
mod role;
mod said;
mod server;
mod session;
mod staff;
mod state;
mod status;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::Application;
use crate::error::AppError;
use state::Web;

pub use crate::mail::token;
pub use client::ClientAddress;
pub use session::{SESSION_COOKIE, SignedInUser};

/// The routes, over an application (tests serve it on port 0).
pub fn router(app: Arc<Application>) -> Result<Router, AppError> {
    let web = Web::new(app.clone())?;
    // The CSV upload takes larger bodies than the rest: its own limit (see `layers::protect`).
    let uploads = staff::upload_routes().with_state(web.clone());
    let routes = Router::new()
        .merge(member::routes())
        .route("/link", post(fresh_link::request_link))
        .route("/sign-in", get(auth::sign_in_form).post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/audit/checkpoint", get(ops::audit_checkpoint))
        .route("/audit/key", get(ops::audit_key))
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
