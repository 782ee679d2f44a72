//! One error type for the services, by kind, mapped once to exit codes here (the web layer maps each kind once
//! to an HTTP status, in `web/status.rs`), keeping the source error for the log.
//!
//! | kind | exit code | HTTP |
//! |---|---|---|
//! | invalid input (a field, or a file and line, is named) | 1 | 400 |
//! | not found | 1 | 404 |
//! | conflict (the stored state refuses the request) | 1 | 409 |
//! | configuration or usage | 2 | 500 |
//! | the database failed or is unreachable | 3 | 503 |
//! | the mail server could not be reached, nothing was sent | 4 | 503 |
//! | internal (a part of `serve` stopped or panicked, a local file could not be written) | 5 | 500 |
//! | forbidden (the actor may not do this) | 6 | 403 |
//! | not signed in, or the sign-in failed | 6 | 401 |

use crate::config::ConfigError;
use crate::domain::{FieldError, Invalid, Refusal, RefusalKind};
use crate::import::csv::RowError;
use crate::store::StoreError;

/// What went wrong, as the caller must react to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    NotFound,
    Conflict,
    Config,
    Database,
    MailServer,
    Internal,
    Forbidden,
    Unauthorized,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Conflict => 1,
            ErrorKind::Config => 2,
            ErrorKind::Database => 3,
            ErrorKind::MailServer => 4,
            ErrorKind::Internal => 5,
            ErrorKind::Forbidden | ErrorKind::Unauthorized => 6,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad input in fields a person filled in, each problem naming its field: every way in words it itself.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Bad input that is not one field's (a file's line, a command's usage): the message says what and where.
    #[error("{0}")]
    Input(String),
    /// A recipient file refused as a whole (empty, or its header wrong), typed so that a page words it itself;
    /// `Display` is the parser's English (`line 1: …`).
    #[error(transparent)]
    Csv(RowError),
    /// A request the stored state refuses, typed so that every way words it itself.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts what is stored (a campaign that cannot make this move, another plan file).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// No valid session or token, or a sign-in that failed.
    #[error("{0}")]
    Unauthorized(String),
    #[error(transparent)]
    Store(StoreError),
    /// The database failed where only its message survives (e.g. a group commit shared by many tasks).
    #[error("database: {0}")]
    Database(String),
    /// A local file or the output could not be written.
    #[error("{0}")]
    Io(String),
    /// The mail server could not be reached.
    #[error("{0}")]
    Unavailable(String),
    /// The command's output was closed by its reader (a pipe to `head`).
    #[error("the output was closed")]
    OutputClosed,
    /// A part of the program failed for good (a panicked task, the scheduler).
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Refused(r) => AppError::Refused(r),
            StoreError::NotFound(m) => AppError::NotFound(format!("not found: {m}")),
            other if other.refuses_text() => {
                AppError::Input("the text must not contain control characters (the database refused a NUL)".into())
            }
            other => AppError::Store(other),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e.into())
    }
}

impl From<crate::mail::TemplateError> for AppError {
    fn from(e: crate::mail::TemplateError) -> Self {
        AppError::Input(e.to_string())
    }
}

impl AppError {
    /// A failed write to a command's output or an export: a closed pipe (`| head`) is told apart, so it ends
    /// quietly.
    pub fn from_output(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            AppError::OutputClosed
        } else {
            AppError::Io(format!("writing the output: {e}"))
        }
    }

    pub fn input(message: impl Into<String>) -> Self {
        AppError::Input(message.into())
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::Config(_) => ErrorKind::Config,
            AppError::Invalid(_) | AppError::Input(_) | AppError::Csv(_) => ErrorKind::Invalid,
            AppError::NotFound(_) => ErrorKind::NotFound,
            AppError::Refused(r) => match r.kind() {
                RefusalKind::NotFound => ErrorKind::NotFound,
                RefusalKind::Conflict => ErrorKind::Conflict,
                RefusalKind::Invalid => ErrorKind::Invalid,
            },
            AppError::Conflict(_) => ErrorKind::Conflict,
            AppError::Forbidden(_) => ErrorKind::Forbidden,
            AppError::Unauthorized(_) => ErrorKind::Unauthorized,
            // A store error that is neither "not found" nor "conflict" is the database's failure.
            AppError::Store(_) | AppError::Database(_) => ErrorKind::Database,
            AppError::Unavailable(_) => ErrorKind::MailServer,
            AppError::Io(_) | AppError::Internal(_) | AppError::OutputClosed => ErrorKind::Internal,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.kind().exit_code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_once_to_exit_codes() {
        let cases = [
            (AppError::input("x.csv: line 3: email: not an address"), 1),
            (
                AppError::Csv(RowError::new(
                    1,
                    crate::import::csv::RowProblem::EmptyFile {
                        expected: &[crate::import::csv::Column::Email],
                    },
                )),
                1,
            ),
            (
                crate::domain::FieldError::new(crate::domain::Field::Name, crate::domain::Problem::Empty).into(),
                1,
            ),
            (StoreError::NotFound("campaign 9".into()).into(), 1),
            (StoreError::Conflict("another plan file".into()).into(), 1),
            (AppError::Forbidden("auditors read only".into()), 6),
            (AppError::Unauthorized("sign in".into()), 6),
            (AppError::Unavailable("smtp down".into()), 4),
            (AppError::Internal("worker panicked".into()), 5),
            (ConfigError::new("smtp.port", "0").into(), 2),
            (AppError::Store(StoreError::Corrupt("x".into())), 3),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit_code(), code, "{error}");
        }
    }
}
