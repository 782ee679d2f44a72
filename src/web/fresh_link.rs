//! `POST /link`: a member whose link expired or broke types their address and is mailed a fresh one. The page
//! answers the same whether the address is known, the mail goes out after the answer (so the time taken does
//! not tell either), and requests are limited per address and per client.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{ClientAddress, Web};
use crate::domain::member::normalize_email;
use crate::mail::transport::Transport;

/// How often one address may be sent a link, and how often one client may ask.
const PER_ADDRESS_PER_HOUR: NonZeroU32 = NonZeroU32::new(3).expect("nonzero");
const PER_CLIENT_PER_HOUR: NonZeroU32 = NonZeroU32::new(20).expect("nonzero");

/// What sending fresh links needs: the transport, and the two limits.
pub(super) struct LinkMailer {
    transport: Arc<dyn Transport>,
    per_address: DefaultKeyedRateLimiter<String>,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
}

impl LinkMailer {
    pub(super) fn new(transport: Arc<dyn Transport>) -> Self {
        Self {
            transport,
            per_address: RateLimiter::keyed(Quota::per_hour(PER_ADDRESS_PER_HOUR)),
            per_client: RateLimiter::keyed(Quota::per_hour(PER_CLIENT_PER_HOUR)),
        }
    }

    /// Whether this client may ask for this address now (each check uses up one request of both), or how
    /// long until the limit that refused allows again.
    fn allows(&self, address: &str, client: IpAddr) -> Result<(), Duration> {
        // Keys of clients and addresses that have been quiet long enough are forgotten: memory stays bounded.
        if self.per_client.len() > 10_000 {
            self.per_client.retain_recent();
            self.per_address.retain_recent();
        }
        super::limited(&self.per_client, &client)?;
        super::limited(&self.per_address, &address.to_owned())
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct LinkForm {
    #[serde(default)]
    email: String,
}

pub(super) async fn request_link(
    State(web): State<Web>,
    client: ClientAddress,
    Form(form): Form<LinkForm>,
) -> Response {
    // The limit counts the address in the form the member lookup uses, so another spelling of it (full-width
    // letters, an ideographic full stop) is the same address to both.
    let typed = crate::domain::Field::Email.required(&form.email);
    let email = typed.map(normalize_email).unwrap_or_default();
    if email.is_empty() || email.len() > 254 || !email.contains('@') {
        return (
            super::status::BAD_INPUT,
            Html(web.pages.link_requested(&web.app, LinkAnswer::NotAnAddress)),
        )
            .into_response();
    }
    if let Err(wait) = web.link_mailer.allows(&email, client.0) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [super::retry_after(wait)],
            Html(web.pages.link_requested(&web.app, LinkAnswer::TooMany)),
        )
            .into_response();
    }
    let (app, mailer, ip) = (web.app.clone(), web.link_mailer.clone(), client.to_string());
    tokio::spawn(async move {
        if let Err(e) = app.mail_fresh_link(mailer.transport.as_ref(), &email, &ip).await {
            tracing::warn!(error = %e, "web: a fresh link could not be mailed");
        }
    });
    Html(web.pages.link_requested(&web.app, LinkAnswer::Sent)).into_response()
}

/// What the page says after a request for a fresh link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LinkAnswer {
    /// "If the address is registered, a link is on its way" — the same for known and unknown addresses.
    Sent,
    TooMany,
    NotAnAddress,
}
