//! The one error type of the HTTP layer and its one rendering: RFC 9457
//! `application/problem+json` with a message a person can act on. Internal
//! causes are logged, never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dueflow_app::AppError;
use dueflow_domain::FieldError;
use dueflow_domain::query::QueryError;
use dueflow_store::StoreError;
use serde::Serialize;

#[derive(Debug)]
pub enum ApiError {
    /// The request is malformed or a field is invalid (400).
    Invalid {
        field: Option<String>,
        detail: String,
    },
    /// The `q` query could not be parsed (400), with where it failed.
    Query(QueryError),
    Unauthorized,
    Forbidden(String),
    /// Missing, or another user's (they look the same).
    NotFound,
    /// A conflicting write (409), e.g. a taken user name or a stale `version`.
    Conflict(String),
    /// `If-Match` did not match the current version (412).
    PreconditionFailed(String),
    PayloadTooLarge(String),
    TooManyRequests {
        retry_after_secs: u64,
    },
    Internal(String),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<usize>,
}

impl ApiError {
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: Some(field.to_owned()),
            detail: detail.into(),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Invalid {
            detail: e.to_string(),
            field: Some(e.field),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::Query(e)
    }
}

/// Storage errors map once, in the application layer.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { field, detail } => ApiError::Invalid { field, detail },
            AppError::Query(q) => ApiError::Query(q),
            AppError::NotFound => ApiError::NotFound,
            AppError::Conflict(d) => ApiError::Conflict(d),
            // Refined to 412 by the routes whose caller sent `If-Match`.
            e @ AppError::Stale { .. } => ApiError::Conflict(e.detail()),
            e @ AppError::Unavailable => ApiError::Internal(e.detail()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title, detail, field, position) = match &self {
            ApiError::Invalid { field, detail } => (
                StatusCode::BAD_REQUEST,
                "urn:dueflow:problem:invalid-request",
                "Invalid request",
                detail.clone(),
                field.as_deref(),
                None,
            ),
            ApiError::Query(e) => (
                StatusCode::BAD_REQUEST,
                "urn:dueflow:problem:invalid-query",
                "Invalid query",
                format!("q: {e}"),
                Some("q"),
                Some(e.position),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "urn:dueflow:problem:unauthorized",
                "Authentication required",
                "send 'Authorization: Bearer <token>' with a valid API token, or log in".into(),
                None,
                None,
            ),
            ApiError::Forbidden(d) => (
                StatusCode::FORBIDDEN,
                "urn:dueflow:problem:forbidden",
                "Forbidden",
                d.clone(),
                None,
                None,
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "urn:dueflow:problem:not-found",
                "Not found",
                "no such resource".into(),
                None,
                None,
            ),
            ApiError::Conflict(d) => (
                StatusCode::CONFLICT,
                "urn:dueflow:problem:conflict",
                "Conflict",
                d.clone(),
                None,
                None,
            ),
            ApiError::PreconditionFailed(d) => (
                StatusCode::PRECONDITION_FAILED,
                "urn:dueflow:problem:precondition-failed",
                "Precondition failed",
                d.clone(),
                None,
                None,
            ),
            ApiError::PayloadTooLarge(d) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "urn:dueflow:problem:too-large",
                "Payload too large",
                d.clone(),
                None,
                None,
            ),
            ApiError::TooManyRequests { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "urn:dueflow:problem:rate-limited",
                "Too many requests",
                format!("too many failed attempts; try again in {retry_after_secs} s"),
                None,
                None,
            ),
            ApiError::Internal(d) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "urn:dueflow:problem:internal",
                "Internal error",
                d.clone(),
                None,
                None,
            ),
        };
        let body = serde_json::to_vec(&Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: &detail,
            field,
            position,
        })
        .expect("problem serialises");
        let mut res = (status, body).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        res
    }
}

/// Answer for a path no route matches.
pub async fn no_route() -> ApiError {
    ApiError::NotFound
}
