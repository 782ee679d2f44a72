//! `POST /link`: a member whose link expired or broke types their address and is mailed a fresh one. The page
//! answers the same whether the address is known, the mail goes out after the answer (so the time taken does
//! not tell either), and requests are limited per address and per client.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::client::ClientAddress;
use super::limits::retry_after;
use super::pages::LinkAnswer;
use super::state::Web;
use super::status::BAD_INPUT;
use crate::domain::member::normalize_email;

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
            BAD_INPUT,
            Html(web.pages.link_requested(&web.app, LinkAnswer::NotAnAddress)),
        )
            .into_response();
    }
    if let Err(wait) = web.link_limits.allows(&email, client.0) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [retry_after(wait)],
            Html(web.pages.link_requested(&web.app, LinkAnswer::TooMany)),
        )
            .into_response();
    }
    let (app, transport, ip) = (web.app.clone(), web.transport.clone(), client.to_string());
    tokio::spawn(async move {
        if let Err(e) = app.mail_fresh_link(transport.as_ref(), &email, &ip).await {
            tracing::warn!(error = %e, "web: a fresh link could not be mailed");
        }
    });
    Html(web.pages.link_requested(&web.app, LinkAnswer::Sent)).into_response()
}
