//! The one HTTP status of each kind of error, for the member pages, the staff pages and the API alike.
//!
//! Bad input is 400 wherever it is found: a field a person or a program filled in breaks a rule, a filter or a
//! form's value cannot be read, a link does not verify; a staff form shown again with its messages beside the
//! fields is a 400 too (it was 422, unlike the API's answer to the same service error). One status keeps the
//! pages and the API telling the same thing, and 400 is the one the README and the API's document promise.
//! What the API cannot read at all keeps the answers it documents for a request (415 for a body that is not
//! JSON, 422 for JSON that is not the expected shape): those are not errors of the services.

use axum::http::StatusCode;

use crate::error::ErrorKind;

/// The status of an error of `kind`.
pub(crate) const fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        // Worth trying again later: the database or the mail server may answer then.
        ErrorKind::Database | ErrorKind::MailServer => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Config | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Bad input, wherever it is found: the status of [`ErrorKind::Invalid`].
pub(crate) const BAD_INPUT: StatusCode = status_of(ErrorKind::Invalid);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;
    use crate::error::AppError;
    use crate::store::StoreError;

    #[test]
    fn each_kind_has_one_status() {
        let cases = [
            (AppError::input("x.csv: line 3: email: not an address"), 400),
            (
                crate::domain::FieldError::new(crate::domain::Field::Name, crate::domain::Problem::Empty).into(),
                400,
            ),
            (StoreError::NotFound("campaign 9".into()).into(), 404),
            (StoreError::Conflict("another plan file".into()).into(), 409),
            (AppError::Forbidden("auditors read only".into()), 403),
            (AppError::Unauthorized("sign in".into()), 401),
            (AppError::Unavailable("smtp down".into()), 503),
            (AppError::Internal("worker panicked".into()), 500),
            (ConfigError::new("smtp.port", "0").into(), 500),
            (AppError::Store(StoreError::Corrupt("x".into())), 503),
        ];
        for (error, status) in cases {
            assert_eq!(status_of(error.kind()).as_u16(), status, "{error}");
        }
        assert_eq!(BAD_INPUT, StatusCode::BAD_REQUEST);
    }
}
