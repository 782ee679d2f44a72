//! What every handler of the web server is given: the application, the page templates, the keys member links
//! verify with, the transport fresh links go out by, and the limits of the forms anyone may post.

use std::sync::Arc;

use axum::extract::FromRef;

use super::limits::{LinkLimits, SignInLimits};
use super::pages::Pages;
use crate::Application;
use crate::error::AppError;
use crate::mail::transport::Transport;

#[derive(Clone)]
pub(super) struct Web {
    pub(super) app: Arc<Application>,
    pub(super) pages: Arc<Pages>,
    /// The keys links verify with, read once: the key file is not read again for every request.
    pub(super) keys: Arc<Vec<Vec<u8>>>,
    /// Fresh member links are mailed by this transport, and limited by these.
    pub(super) transport: Arc<dyn Transport>,
    pub(super) link_limits: Arc<LinkLimits>,
    /// Sign-in attempts counted per typed address and per client.
    pub(super) sign_in_limits: Arc<SignInLimits>,
}

impl Web {
    pub(super) fn new(app: Arc<Application>) -> Result<Web, AppError> {
        let pages = Arc::new(Pages::load()?);
        // Without a key no link verifies: every one gets the 400 page.
        let keys = Arc::new(app.verification_keys().unwrap_or_else(|e| {
            tracing::error!(error = %e, "web: no key to verify member links");
            Vec::new()
        }));
        Ok(Web {
            transport: app.transport()?,
            link_limits: Arc::new(LinkLimits::new()),
            sign_in_limits: Arc::new(SignInLimits::new(&app.settings.web)),
            app,
            pages,
            keys,
        })
    }
}

impl FromRef<Web> for Arc<Application> {
    fn from_ref(web: &Web) -> Self {
        web.app.clone()
    }
}
