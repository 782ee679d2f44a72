//! Admin only (staff and auditors get 403): accounts and their roles, API tokens (the secret shown once, on
//! the page that answers its creation), and the active configuration with every secret masked.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::super::client::ClientAddress;
use super::super::explain::{explain, explain_all};
use super::super::role::Admin;
use super::super::said::said;
use super::super::session::{NoFields, Signed, SignedInUser, StaffForm};
use super::super::state::Web;
use super::super::status::{BAD_INPUT, status_of};
use super::frame::{Lang, frame, page};
use super::kit::{actor, failure, given, page_with, when};
use crate::domain::Field;
use crate::domain::account::Role;
use crate::error::{AppError, ErrorKind};

pub(super) fn routes() -> Router<Web> {
    Router::new()
        .route("/admin/users", get(users).post(add_user))
        .route("/admin/users/active", post(set_active))
        .route("/admin/users/role", post(set_role))
        .route("/admin/tokens", get(tokens).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/config", get(config))
}

/// The add-user form as typed (never the password) and its messages by field.
#[derive(Debug, Default, serde::Deserialize)]
struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

async fn users(State(web): State<Web>, signed_in: Signed<Admin>, headers: HeaderMap) -> Response {
    users_page(
        &web,
        &signed_in,
        Lang::of(&headers),
        &UserForm::default(),
        json!({"email": "", "password": ""}),
        StatusCode::OK,
    )
    .await
}

/// The users page; `errors` are the add-user form's messages by field, `status` that of their refusal.
async fn users_page(
    web: &Web,
    signed_in: &SignedInUser,
    lang: Lang,
    typed: &UserForm,
    errors: Value,
    status: StatusCode,
) -> Response {
    let list = match web.app.users().await {
        Ok(list) => list,
        Err(e) => return failure(web, signed_in, lang, "/admin/users", &e),
    };
    let mut context = frame(web, signed_in, lang, &lang.t("users"), "/admin/users");
    context["users"] = list
        .iter()
        .map(|u| {
            json!({"email": u.email, "role": u.role.as_str(), "active": u.active, "created": when(web, lang, u.created_at),
                   "roles": roles(u.role.as_str())})
        })
        .collect::<Vec<_>>()
        .into();
    let role = if typed.role.is_empty() {
        "staff"
    } else {
        typed.role.as_str()
    };
    context["typed"] = json!({"email": typed.email, "roles": roles(role)});
    context["errors"] = errors;
    page_with(web, status, "staff/admin-users", &context)
}

/// The three roles for a select, `selected` marked.
fn roles(selected: &str) -> Vec<Value> {
    ["staff", "auditor", "admin"]
        .iter()
        .map(|r| json!({"value": r, "selected": *r == selected}))
        .collect()
}

async fn add_user(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    StaffForm { signed_in, form }: StaffForm<UserForm, Admin>,
) -> Response {
    let lang = Lang::of(&headers);
    let Some(role) = Role::parse(&form.role) else {
        return (BAD_INPUT, "unknown role").into_response();
    };
    let app = web.app.for_client(&client.to_string());
    match app
        .add_user(&actor(&signed_in), &form.email, role, &form.password)
        .await
    {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        // Each problem beside the field it names, in the reader's language; the password's own field is known
        // from the error, never read from its message.
        Err(AppError::Invalid(invalid)) => {
            let (mut email, mut password) = (String::new(), String::new());
            for problem in invalid.problems() {
                let slot = if problem.field == Some(Field::Password) {
                    &mut password
                } else {
                    &mut email
                };
                if slot.is_empty() {
                    *slot = explain(lang, problem);
                }
            }
            users_page(
                &web,
                &signed_in,
                lang,
                &form,
                json!({"email": email, "password": password}),
                BAD_INPUT,
            )
            .await
        }
        Err(e) if e.kind() == ErrorKind::Conflict => {
            let errors = json!({"email": said(lang, &e), "password": ""});
            users_page(&web, &signed_in, lang, &form, errors, status_of(e.kind())).await
        }
        Err(e) => failure(&web, &signed_in, lang, "/admin/users", &e),
    }
}

#[derive(Debug, serde::Deserialize)]
struct AccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    role: String,
}

async fn set_active(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    StaffForm { signed_in, form }: StaffForm<AccountForm, Admin>,
) -> Response {
    let app = web.app.for_client(&client.to_string());
    match app
        .set_user_active(&actor(&signed_in), &form.email, form.active == "1")
        .await
    {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e) => failure(&web, &signed_in, Lang::of(&headers), "/admin/users", &e),
    }
}

async fn set_role(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    StaffForm { signed_in, form }: StaffForm<AccountForm, Admin>,
) -> Response {
    let Some(role) = Role::parse(&form.role) else {
        return (BAD_INPUT, "unknown role").into_response();
    };
    let app = web.app.for_client(&client.to_string());
    match app.set_user_role(&actor(&signed_in), &form.email, role).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e) => failure(&web, &signed_in, Lang::of(&headers), "/admin/users", &e),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct TokenForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_days: String,
}

async fn tokens(State(web): State<Web>, signed_in: Signed<Admin>, headers: HeaderMap) -> Response {
    tokens_page(&web, &signed_in, Lang::of(&headers), &TokenForm::default(), None, None).await
}

/// The tokens page; `refused` is the message of a refused form and the status of its refusal, `created` the
/// secret of the token just made, shown on this answer only.
async fn tokens_page(
    web: &Web,
    signed_in: &SignedInUser,
    lang: Lang,
    typed: &TokenForm,
    refused: Option<(&str, StatusCode)>,
    created: Option<&str>,
) -> Response {
    let list = match web.app.api_tokens().await {
        Ok(list) => list,
        Err(e) => return failure(web, signed_in, lang, "/admin/tokens", &e),
    };
    let mut context = frame(web, signed_in, lang, &lang.t("api-tokens"), "/admin/tokens");
    let at = |ms: Option<i64>| ms.map(|ms| when(web, lang, ms)).unwrap_or_default();
    context["tokens"] = list
        .iter()
        .map(|t| {
            json!({"id": t.id, "email": t.user_email, "name": t.name, "created": when(web, lang, t.created_at),
                   "expires": at(t.expires_at), "revoked": at(t.revoked_at), "used": at(t.last_used_at)})
        })
        .collect::<Vec<_>>()
        .into();
    context["typed"] = json!({"email": typed.email, "name": typed.name, "expires_days": typed.expires_days});
    let (message, status) = refused.unwrap_or(("", StatusCode::OK));
    context["message"] = message.into();
    context["created"] = created.unwrap_or_default().into();
    page_with(web, status, "staff/admin-tokens", &context)
}

async fn create_token(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    StaffForm { signed_in, form }: StaffForm<TokenForm, Admin>,
) -> Response {
    let lang = Lang::of(&headers);
    let days = match given(&form.expires_days).map(|d| d.parse::<u32>()) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            let message = lang.t("give-1-to-3650-days");
            return tokens_page(&web, &signed_in, lang, &form, Some((&message, BAD_INPUT)), None).await;
        }
    };
    let app = web.app.for_client(&client.to_string());
    match app
        .create_token(&actor(&signed_in), &form.email, &form.name, days)
        .await
    {
        Ok((_, secret)) => tokens_page(&web, &signed_in, lang, &TokenForm::default(), None, Some(&secret)).await,
        Err(AppError::Invalid(invalid)) => {
            let message = explain_all(lang, &invalid);
            tokens_page(&web, &signed_in, lang, &form, Some((&message, BAD_INPUT)), None).await
        }
        Err(e) if matches!(e.kind(), ErrorKind::Invalid | ErrorKind::NotFound) => {
            let message = said(lang, &e);
            tokens_page(
                &web,
                &signed_in,
                lang,
                &form,
                Some((&message, status_of(e.kind()))),
                None,
            )
            .await
        }
        Err(e) => failure(&web, &signed_in, lang, "/admin/tokens", &e),
    }
}

async fn revoke_token(
    State(web): State<Web>,
    client: ClientAddress,
    headers: HeaderMap,
    Path(id): Path<i64>,
    StaffForm { signed_in, .. }: StaffForm<NoFields, Admin>,
) -> Response {
    let app = web.app.for_client(&client.to_string());
    match app.revoke_token(&actor(&signed_in), id).await {
        Ok(_) => Redirect::to("/admin/tokens").into_response(),
        Err(e) => failure(&web, &signed_in, Lang::of(&headers), "/admin/tokens", &e),
    }
}

async fn config(State(web): State<Web>, signed_in: Signed<Admin>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let mut context = frame(&web, &signed_in, lang, &lang.t("configuration"), "/admin/config");
    context["config"] = super::config_view::view(lang, &web.app.settings);
    page(&web, "staff/admin-config", &context)
}
