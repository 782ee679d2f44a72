//! `POST /staff/campaigns/{id}/send-test`: the campaign's mail, marked as a test, to up to ten addresses typed
//! on its page (the signed-in user's own when none is typed). Its links are inert: they open a page that says
//! it was a test and change nothing.

use axum::extract::{Path, State};
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::super::super::client::ClientAddress;
use super::super::super::explain::explain_all;
use super::super::super::role::Staff;
use super::super::super::session::StaffForm;
use super::super::super::state::Web;
use super::super::super::status::BAD_INPUT;
use super::super::frame::Lang;
use super::shared::{failed, message};
use crate::domain::Actor;
use crate::error::AppError;

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct TestMailForm {
    #[serde(default)]
    to: String,
}

pub(super) async fn send(
    State(web): State<Web>,
    headers: HeaderMap,
    client: ClientAddress,
    Path(id): Path<i64>,
    StaffForm { signed_in: who, form }: StaffForm<TestMailForm, Staff>,
) -> Response {
    let lang = Lang::of(&headers);
    let app = web.app.for_client(&client.to_string());
    let actor = Actor::User {
        email: who.user.email.clone(),
        role: who.user.role,
    };
    let to = if form.to.trim().is_empty() {
        who.user.email.as_str()
    } else {
        form.to.as_str()
    };
    let sent = match app.templates() {
        Ok(t) => app.send_test(&actor, &t, id, to).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(_) => Redirect::to(&format!("/staff/campaigns/{id}?done=send-test")).into_response(),
        // Which address is wrong, said in the page's language.
        Err(AppError::Invalid(invalid)) => message(&web, &who, lang, BAD_INPUT, &explain_all(lang, &invalid)),
        Err(e) => failed(&web, &who, lang, &e),
    }
}
