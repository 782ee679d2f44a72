//! What the member, audit and admin pages share: who acts, times in the configured zone, answers for
//! failures, and the multipart-free checks of a form.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::super::session::SignedInUser;
use super::super::state::Web;
use super::super::status::status_of;
use super::frame::{Lang, frame, page};
use crate::domain::Actor;
use crate::domain::campaign::schedule::format_local;
use crate::error::{AppError, ErrorKind};

/// The signed-in user as the actor of a change.
pub(super) fn actor(signed_in: &SignedInUser) -> Actor {
    Actor::User {
        email: signed_in.user.email.clone(),
        role: signed_in.user.role,
    }
}

/// A time for people, in the configured zone (Asia/Tokyo): `2020-06-01 09:00:00 JST`.
pub(super) fn when(web: &Web, ms: i64) -> String {
    format_local(ms, web.app.settings.schedule.tz())
}

/// A page with a status other than 200.
pub(super) fn page_with(web: &Web, status: StatusCode, template: &str, context: &Value) -> Response {
    let mut response = page(web, template, context);
    *response.status_mut() = status;
    response
}

/// A failure as staff see it, with its kind's status: not found, a refused request, or ours (logged).
pub(super) fn failure(web: &Web, signed_in: &SignedInUser, lang: Lang, current: &str, e: &AppError) -> Response {
    let status = status_of(e.kind());
    let (ja, en) = match e.kind() {
        ErrorKind::NotFound => ("見つかりません", "Not found"),
        ErrorKind::Invalid => ("入力に誤りがあります", "Invalid input"),
        ErrorKind::Conflict => ("この操作はできません", "Cannot do this"),
        ErrorKind::Forbidden | ErrorKind::Unauthorized => ("操作できません", "Not allowed"),
        _ => {
            tracing::error!(error = %e, "web: a staff request failed");
            ("ただいま処理できません", "Temporarily unavailable")
        }
    };
    let mut context = frame(web, signed_in, lang, lang.pick(ja, en), current);
    // Only messages written for people: a database error is not shown.
    let shown = !status.is_server_error();
    context["message"] = if shown { e.to_string() } else { String::new() }.into();
    page_with(web, status, "staff/members-notice", &context)
}

/// A text field as typed, or none when left empty.
pub(super) fn given(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_owned())
}
