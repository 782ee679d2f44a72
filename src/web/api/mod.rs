//! The JSON API under `/api/v1`, for programs acting as staff, auditors or admins.
//!
//! A caller authenticates with `Authorization: Bearer <token>` (an API token from `outreach token create`), and
//! only so: no cookie is read, so no request can be forged from another site. Each route names the least role
//! it needs (the scope of its bearer requirement in the OpenAPI document): reads are open to every role,
//! changes to staff and admins, accounts and tokens to admins. The services check the role again.
//!
//! Routes are registered only through `utoipa_axum::routes!`, which takes each handler's `#[utoipa::path]`: the
//! router and the OpenAPI document (`GET /api/v1/openapi.json`, committed as `docs/openapi.json`) are built from
//! the same list and cannot drift apart.
//!
//! Errors are `{"code", "message", "field"}` with the status of their kind (`web::status`, the pages' too);
//! [`ApiError`] words an application error in one place. This module wires the routes and the document; what
//! the handlers share is `kit`, and the lists a page at a time are `paging`.

mod accounts;
mod campaigns;
mod error;
mod kit;
mod logs;
mod members;
mod paging;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Application;
use error::{ApiError, ErrorBody};
use kit::Api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "outreach API",
        description = "Campaigns, members, advisors, the send log and the staff-action log of outreach, as JSON. \
            Authenticate with `Authorization: Bearer <token>` (`outreach token create --user EMAIL`). The scope of \
            each operation's `bearer` requirement names the least role it needs: auditor (reads), staff (changes) \
            or admin (accounts and tokens). Errors are `{\"code\", \"message\", \"field\"}`. Times are ISO 8601 \
            with the offset of the configured time zone."
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerScheme),
    components(schemas(ErrorBody)),
    tags(
        (name = "campaigns", description = "Campaigns, their runs and what they do next"),
        (name = "members", description = "Members and business advisors"),
        (name = "logs", description = "The plan, the send log and the staff-action log"),
        (name = "accounts", description = "Users and API tokens (admin)"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme every operation but the document's refers to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `outreach token create`"))
                    .build(),
            ),
        );
    }
}

/// Every route with its document: the one list the router and the OpenAPI document are both built from.
fn parts() -> (Router<Api>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_document))
        .merge(campaigns::routes())
        .merge(members::routes())
        .merge(logs::routes())
        .merge(accounts::routes())
        .split_for_parts()
}

/// The API's routes over an application, to nest under `/api/v1`.
pub fn router<S: Clone + Send + Sync + 'static>(app: Arc<Application>) -> Router<S> {
    let (routes, document) = parts();
    let document = Arc::new(
        document.to_pretty_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "api: the OpenAPI document does not serialise");
            "{}".to_owned()
        }) + "\n",
    );
    routes
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(Api { app, document })
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json"))
)]
async fn openapi_document(axum::extract::State(api): axum::extract::State<Api>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        api.document.as_str().to_owned(),
    )
        .into_response()
}

async fn no_route() -> ApiError {
    ApiError::request(StatusCode::NOT_FOUND, "no_route", "no such route in this API", None)
}

async fn wrong_method() -> ApiError {
    ApiError::request(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take this method",
        None,
    )
}
