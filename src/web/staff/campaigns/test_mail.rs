//! `POST /staff/campaigns/{id}/send-test`: the campaign's mail, marked as a test, to up to ten addresses typed
//! on its page (the signed-in user's own when none is typed). Its links are inert: they open a page that says
//! it was a test and change nothing.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::super::super::Web;
use super::super::super::client::ClientAddress;
use super::super::super::session::StaffForm;
use super::super::{Lang, at_least};
use super::{failed, message};
use crate::domain::Actor;
use crate::domain::account::Role;
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
    StaffForm { signed_in: who, form }: StaffForm<TestMailForm>,
) -> Response {
    if let Some(refused) = at_least(&web, &who, Role::Staff) {
        return refused;
    }
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
        Err(AppError::Invalid(invalid)) => {
            let said: Vec<String> = invalid.problems().iter().map(|p| p.explain(lang == Lang::En)).collect();
            message(&web, &who, lang, StatusCode::UNPROCESSABLE_ENTITY, &said.join(" "))
        }
        Err(e) => failed(&web, &who, lang, &e),
    }
}
