//! The one error of the application layer. It says what went wrong in
//! words a person can act on; each door maps it to its own answer
//! (problem+json, a page's message, a tool error) and never shows an
//! internal cause, which is logged here instead.

use dueflow_domain::FieldError;
use dueflow_domain::query::QueryError;
use dueflow_store::StoreError;

#[derive(Debug)]
pub enum AppError {
    /// A field (or, without one, the request as a whole) is invalid.
    Invalid {
        field: Option<String>,
        detail: String,
    },
    /// The query could not be parsed, with where it failed.
    Query(QueryError),
    /// Missing, or another user's: the two look the same.
    NotFound,
    /// The change conflicts with what is stored (a taken name, a task that
    /// keeps changing).
    Conflict(String),
    /// The caller based its change on a version that is no longer current.
    Stale { current: i64 },
    /// Not allowed on this server, whoever asks (e.g. closed registration).
    Forbidden(String),
    /// A login's name and password do not match (which of them is not said).
    BadCredentials,
    /// A limit was reached; `detail` says which, and when to try again.
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// Every core is hashing passwords; nothing was checked.
    Busy { retry_after_secs: u64 },
    /// The database failed; the cause is logged.
    Unavailable,
    /// Something else failed on the server; the cause is logged.
    Internal,
}

impl AppError {
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        AppError::Invalid {
            field: Some(field.to_owned()),
            detail: detail.into(),
        }
    }

    /// What to tell a person, for doors that answer in words.
    pub fn detail(&self) -> String {
        match self {
            AppError::Invalid { detail, .. } => detail.clone(),
            AppError::Query(e) => format!("q: {e}"),
            AppError::NotFound => "no such resource".into(),
            AppError::Conflict(d) => d.clone(),
            AppError::Stale { current } => format!(
                "the task changed meanwhile (now at version {current}); fetch it and apply your change again"
            ),
            AppError::Forbidden(d) => d.clone(),
            AppError::BadCredentials => "the name or the password is wrong".into(),
            AppError::TooManyRequests { detail, .. } => detail.clone(),
            AppError::Busy { retry_after_secs } => format!(
                "the server is checking too many passwords at once; try again in {retry_after_secs} s"
            ),
            AppError::Unavailable => "the database failed to answer; try again shortly".into(),
            AppError::Internal => "the server failed to complete this; try again shortly".into(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid {
            detail: e.to_string(),
            field: Some(e.field),
        }
    }
}

impl From<QueryError> for AppError {
    fn from(e: QueryError) -> Self {
        AppError::Query(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::BadQuery(msg) => AppError::Invalid {
                field: None,
                detail: msg,
            },
            StoreError::Conflict(what) => {
                AppError::Conflict(format!("conflicts with existing data ({what})"))
            }
            other => {
                tracing::error!(error = %other, "storage failed");
                AppError::Unavailable
            }
        }
    }
}
