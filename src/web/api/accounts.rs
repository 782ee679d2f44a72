//! Accounts and API tokens: the admin's. Tokens are created at the command line only, where the secret is
//! shown once; here they are listed and revoked.

use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, ErrorBody};
use super::kit::{Admin, Api, Body, Changed, Segments, iso};
use crate::Application;
use crate::domain::account::{ApiToken, Role, User};
use crate::domain::{Field, FieldError, Problem};
use crate::error::AppError;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(list_users, add_user))
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_token))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView {
    pub id: i64,
    pub email: String,
    /// admin, staff or auditor.
    pub role: String,
    pub active: bool,
    pub created_at: String,
}

impl UserView {
    fn of(app: &Application, u: User) -> Self {
        UserView {
            id: u.id,
            email: u.email,
            role: u.role.as_str().to_owned(),
            active: u.active,
            created_at: iso(app, u.created_at),
        }
    }
}

/// An API token as listed; its secret was shown once, at creation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenView {
    pub id: i64,
    pub user: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl TokenView {
    fn of(app: &Application, t: ApiToken) -> Self {
        TokenView {
            id: t.id,
            user: t.user_email,
            name: t.name,
            created_at: iso(app, t.created_at),
            expires_at: t.expires_at.map(|m| iso(app, m)),
            revoked_at: t.revoked_at.map(|m| iso(app, m)),
            last_used_at: t.last_used_at.map(|m| iso(app, m)),
        }
    }
}

/// An account to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserRequest {
    pub email: String,
    /// admin, staff or auditor.
    pub role: String,
    /// At least 12 characters, not a common password, not mostly the address.
    pub password: String,
}

/// Every account.
#[utoipa::path(get, path = "/users", tag = "accounts", security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "The accounts", body = Vec<UserView>),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "Not an admin's token", body = ErrorBody),
    ))]
async fn list_users(caller: Admin) -> ApiResult<Json<Vec<UserView>>> {
    let app = &caller.app;
    let users = app.users().await?;
    Ok(Json(users.into_iter().map(|u| UserView::of(app, u)).collect()))
}

/// Adds an account.
#[utoipa::path(post, path = "/users", tag = "accounts", security(("bearer" = ["admin"])),
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "Added", body = UserView),
        (status = 400, description = "A bad address, role or password", body = ErrorBody),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "Not an admin's token", body = ErrorBody),
        (status = 409, description = "The address has an account already", body = ErrorBody),
        (status = 422, description = "The body is not an account", body = ErrorBody),
    ))]
async fn add_user(caller: Admin, Body(req): Body<NewUserRequest>) -> ApiResult<(StatusCode, Json<UserView>)> {
    let role = Role::parse(&req.role)
        .ok_or_else(|| AppError::from(FieldError::new(Field::Role, Problem::UnknownRole(req.role.clone()))))?;
    let app = &caller.app;
    let user = app.add_user(&caller.actor, &req.email, role, &req.password).await?;
    Ok((StatusCode::CREATED, Json(UserView::of(app, user))))
}

/// Every API token, live or not.
#[utoipa::path(get, path = "/tokens", tag = "accounts", security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "The tokens", body = Vec<TokenView>),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "Not an admin's token", body = ErrorBody),
    ))]
async fn list_tokens(caller: Admin) -> ApiResult<Json<Vec<TokenView>>> {
    let app = &caller.app;
    let tokens = app.api_tokens().await?;
    Ok(Json(tokens.into_iter().map(|t| TokenView::of(app, t)).collect()))
}

/// Revokes an API token at once.
#[utoipa::path(post, path = "/tokens/{id}/revoke", tag = "accounts", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 200, description = "`changed` is false when it already was revoked", body = Changed),
        (status = 401, description = "No live API token", body = ErrorBody),
        (status = 403, description = "Not an admin's token", body = ErrorBody),
        (status = 404, description = "No such token", body = ErrorBody),
    ))]
async fn revoke_token(caller: Admin, Segments(id): Segments<i64>) -> ApiResult<Json<Changed>> {
    let changed = caller.app.revoke_token(&caller.actor, id).await?;
    Ok(Json(Changed { changed }))
}
