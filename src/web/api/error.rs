//! The API's errors: `{"code", "message", "field"}` with the status of the error's kind (`web::status`, the one
//! mapping the pages use too). An [`AppError`] is worded here and nowhere else; a 5xx answer never carries the
//! cause, which goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::keyset::BadCursor;
use super::super::status::{BAD_INPUT, status_of};
use crate::domain::Field;
use crate::domain::problem::Naming;
use crate::error::{AppError, ErrorKind};

/// An error as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong, for programs: invalid, not_found, conflict, forbidden, unauthorized, invalid_body,
    /// invalid_query, invalid_path, unsupported_media_type, unavailable, internal, no_route, method_not_allowed.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The request field at fault, when one is known.
    pub field: Option<String>,
}

/// An application error, or a request the API could not read.
#[derive(Debug)]
pub(crate) enum ApiError {
    App(AppError),
    Request {
        status: StatusCode,
        code: &'static str,
        message: String,
        field: Option<String>,
    },
}

impl ApiError {
    pub(super) fn request(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        ApiError::Request {
            status,
            code,
            message: message.into(),
            field,
        }
    }

    /// Bad input in a named request field.
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::request(BAD_INPUT, "invalid", message, Some(field.to_owned()))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

impl From<BadCursor> for ApiError {
    fn from(e: BadCursor) -> Self {
        ApiError::field(e.parameter, e.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Request {
                status,
                code,
                message,
                field,
            } => (
                status,
                ErrorBody {
                    code: code.to_owned(),
                    message,
                    field,
                },
            ),
            ApiError::App(e) => {
                let kind = e.kind();
                let status = status_of(kind);
                let code = match kind {
                    ErrorKind::Invalid => "invalid",
                    ErrorKind::NotFound => "not_found",
                    ErrorKind::Conflict => "conflict",
                    ErrorKind::Forbidden => "forbidden",
                    ErrorKind::Unauthorized => "unauthorized",
                    ErrorKind::Database | ErrorKind::MailServer => "unavailable",
                    ErrorKind::Config | ErrorKind::Internal => "internal",
                };
                let body = if status.is_server_error() {
                    // The cause is for the log only: it may name hosts, files or SQL.
                    tracing::error!(error = %e, "api: a request failed");
                    let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                        "a service this request needs is unavailable; try again later"
                    } else {
                        "the request failed on the server; the cause is in its log"
                    };
                    ErrorBody {
                        code: code.to_owned(),
                        message: message.to_owned(),
                        field: None,
                    }
                } else {
                    // A typed problem names its field as a value; the message words it with the API's names.
                    let (message, field) = match &e {
                        AppError::Invalid(invalid) => (
                            invalid.english(Naming::Api),
                            invalid
                                .first()
                                .and_then(|p| p.field)
                                .and_then(Field::api_name)
                                .map(str::to_owned),
                        ),
                        other => (other.to_string(), None),
                    };
                    ErrorBody {
                        code: code.to_owned(),
                        message,
                        field,
                    }
                };
                (status, body)
            }
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FieldError, Problem};

    async fn body(e: AppError) -> serde_json::Value {
        let response = ApiError::App(e).into_response();
        let bytes = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn an_input_error_names_its_field_as_the_api_does() {
        let answer = body(FieldError::new(Field::FiscalYear, Problem::Empty).into()).await;
        assert_eq!(answer["field"], "fiscal_year");
        assert_eq!(answer["message"], "fiscal_year must not be empty");
        let answer = body(FieldError::new(Field::Schedule, Problem::OneSchedule).into()).await;
        assert_eq!(
            (&answer["field"], &answer["message"]),
            (&serde_json::Value::Null, &"give exactly one of at and cron".into())
        );
        let answer = body(AppError::input("x.csv: line 3: --email is bad")).await;
        assert_eq!(
            answer["field"],
            serde_json::Value::Null,
            "a message is never read for a field"
        );
    }
}
