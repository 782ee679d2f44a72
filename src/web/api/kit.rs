//! What the API's handlers share: the state, the caller (a bearer of a live token with at least the route's
//! role), the request's body, query and path read with JSON errors, times as ISO 8601, and the answer of a
//! change.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use super::super::client;
use super::super::role::{self, Least};
use super::error::{ApiError, ApiResult};
use crate::Application;
use crate::domain::Actor;
use crate::error::AppError;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Api {
    pub(super) app: Arc<Application>,
    /// The OpenAPI document as served, rendered once.
    pub(super) document: Arc<String>,
}

/// The client's address for the staff-action log: the peer of the connection, or behind a trusted proxy the
/// address it forwards (see [`client::client_address`]).
fn client_address(parts: &Parts, app: &Application) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| {
            client::client_address(peer.ip(), &parts.headers, &app.settings.web.trusted_proxy_addresses).to_string()
        })
        .unwrap_or_default()
}

/// The bearer of a live API token whose role is at least `R`, with the application acting for their client
/// address.
pub(crate) struct Caller<R: Least> {
    pub actor: Actor,
    pub app: Application,
    role: PhantomData<R>,
}

/// Any role: reads.
pub(crate) type Reader = Caller<role::Auditor>;
/// Staff or admin: changes.
pub(crate) type Staff = Caller<role::Staff>;
/// Admin: accounts and tokens.
pub(crate) type Admin = Caller<role::Admin>;

impl<R: Least> FromRequestParts<Api> for Caller<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::Unauthorized("send an API token: Authorization: Bearer <token>".to_owned()))?;
        let user = api
            .app
            .token_user(token)
            .await?
            .ok_or_else(|| AppError::Unauthorized("the API token is unknown, revoked or expired".to_owned()))?;
        if !role::admits::<R>(user.role) {
            return Err(AppError::Forbidden(format!(
                "{} is {}; this route needs the {} role",
                user.email,
                user.role,
                R::ROLE
            ))
            .into());
        }
        Ok(Caller {
            actor: Actor::User {
                email: user.email,
                role: user.role,
            },
            app: api.app.for_client(&client_address(parts, &api.app)),
            role: PhantomData,
        })
    }
}

/// A JSON request body; one that does not deserialize is a 422 naming the field at fault.
pub(crate) struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || v.to_ascii_lowercase().ends_with("+json")
            });
        if !json {
            return Err(ApiError::request(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON (Content-Type: application/json)",
                None,
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::request(StatusCode::BAD_REQUEST, "invalid_body", e.body_text(), None))?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let path = e.path().to_string();
            let field = (path != ".").then_some(path);
            ApiError::request(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.into_inner().to_string(),
                field,
            )
        })?;
        deserializer
            .end()
            .map_err(|e| ApiError::request(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", e.to_string(), None))?;
        Ok(Body(value))
    }
}

/// Query parameters; ones that do not parse are a 400.
pub(crate) struct Params<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::request(StatusCode::BAD_REQUEST, "invalid_query", e.body_text(), None))
    }
}

/// Path parameters; ones that do not parse (`/campaigns/abc`) are a 400.
pub(crate) struct Segments<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Segments<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Segments(p.0))
            .map_err(|e| ApiError::request(StatusCode::BAD_REQUEST, "invalid_path", e.body_text(), None))
    }
}

/// Epoch milliseconds as ISO 8601 with the offset of the configured time zone.
pub(crate) fn iso(app: &Application, ms: i64) -> String {
    crate::domain::campaign::schedule::format_iso(ms, app.settings.schedule.tz())
}

/// An ISO 8601 time with an offset (`2020-06-01T09:00:00+09:00`) from a query parameter.
pub(crate) fn parse_time(field: &str, value: &str) -> ApiResult<i64> {
    chrono::DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            ApiError::field(
                field,
                format!(
                    "{field} {value:?}: give an ISO 8601 time with its offset, e.g. 2020-06-01T09:00:00+09:00 ({e})"
                ),
            )
        })
}

/// Whether a change changed something (`false`: it already was so, nothing was recorded).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Changed {
    pub changed: bool,
}
