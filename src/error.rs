//! One error type for the program's edge, mapped once to exit codes (and later to HTTP responses).
//!
//! Exit codes: 0 success · 1 bad input (a file, row or field is named) or a request the data refuses ·
//! 2 configuration or usage error · 3 the database failed or is unreachable · 4 the mail server could not be
//! reached, nothing was sent · 5 an internal failure (a part of `serve` stopped or panicked).

use crate::config::ConfigError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad input: the message says what and where.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Store(StoreError),
    /// The database failed where only its message survives (e.g. a group commit shared by many tasks).
    #[error("database: {0}")]
    Database(String),
    #[error("{0}")]
    Io(String),
    /// The mail server could not be reached.
    #[error("{0}")]
    Unavailable(String),
    /// A part of the program failed for good (a panicked task, the scheduler).
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::Input(m),
            StoreError::NotFound(m) => AppError::Input(format!("not found: {m}")),
            other => AppError::Store(other),
        }
    }
}

impl From<crate::delivery::WorkerError> for AppError {
    fn from(e: crate::delivery::WorkerError) -> Self {
        match e {
            crate::delivery::WorkerError::Store(s) => s.into(),
            crate::delivery::WorkerError::Task(t) => AppError::Internal(t),
            crate::delivery::WorkerError::Record(e) => AppError::Database(e),
        }
    }
}

impl From<crate::templates::TemplateError> for AppError {
    fn from(e: crate::templates::TemplateError) -> Self {
        AppError::Input(e.to_string())
    }
}

impl AppError {
    pub fn input(message: impl Into<String>) -> Self {
        AppError::Input(message.into())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Input(_) | AppError::Io(_) => 1,
            AppError::Config(_) => 2,
            AppError::Store(_) | AppError::Database(_) => 3,
            AppError::Unavailable(_) => 4,
            AppError::Internal(_) => 5,
        }
    }
}
