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
use utoipa::ToSchema;

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
    /// The request body stalled past the server's body timeout (408).
    BodyTimeout,
    /// The body is not sent as the media type the route reads (415).
    UnsupportedMediaType(String),
    /// A limit was reached (429); `detail` says which.
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// Too many password checks at once (429); nothing was checked.
    Busy {
        retry_after_secs: u64,
    },
    Internal(String),
    /// Any other status, for the errors the router answers by itself
    /// ([`stray_errors`]).
    Http {
        status: StatusCode,
        detail: String,
    },
}

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer (RFC 9457), sent as `application/problem+json`.
#[derive(Serialize, ToSchema)]
pub struct Problem<'a> {
    /// What kind of problem, e.g. `urn:dueflow:problem:invalid-request`.
    #[serde(rename = "type")]
    #[schema(format = "uri", example = "urn:dueflow:problem:invalid-request")]
    kind: &'a str,
    /// A short summary of the kind.
    title: &'a str,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// What went wrong with this request, and how to put it right.
    detail: &'a str,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    field: Option<&'a str>,
    /// Where in the `q` query parsing failed (0-based byte offset).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
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
            AppError::Forbidden(d) => ApiError::Forbidden(d),
            AppError::BadCredentials => ApiError::Unauthorized,
            AppError::TooManyRequests {
                detail,
                retry_after_secs,
            } => ApiError::TooManyRequests {
                detail,
                retry_after_secs,
            },
            AppError::Busy { retry_after_secs } => ApiError::Busy { retry_after_secs },
            e @ (AppError::Unavailable | AppError::Internal) => ApiError::Internal(e.detail()),
        }
    }
}

/// How an error is told: status, problem type, title, detail, field and
/// query position.
type Told<'a> = (
    StatusCode,
    &'static str,
    &'static str,
    String,
    Option<&'a str>,
    Option<usize>,
);

impl ApiError {
    /// The status and the detail a person reads, for doors that answer in
    /// another form than problem+json (the web app's pages).
    pub fn status_and_detail(&self) -> (StatusCode, String) {
        let (status, _, _, detail, _, _) = self.told();
        (status, detail)
    }

    fn told(&self) -> Told<'_> {
        match self {
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
            ApiError::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "urn:dueflow:problem:request-timeout",
                "Request timeout",
                "the request body stopped arriving; send it again without pausing".into(),
                None,
                None,
            ),
            ApiError::UnsupportedMediaType(d) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "urn:dueflow:problem:unsupported-media-type",
                "Unsupported media type",
                d.clone(),
                None,
                None,
            ),
            ApiError::TooManyRequests { detail, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "urn:dueflow:problem:rate-limited",
                "Too many requests",
                detail.clone(),
                None,
                None,
            ),
            ApiError::Busy { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "urn:dueflow:problem:busy",
                "Too many requests",
                AppError::Busy {
                    retry_after_secs: *retry_after_secs,
                }
                .detail(),
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
            ApiError::Http { status, detail } => (
                *status,
                "urn:dueflow:problem:http",
                status.canonical_reason().unwrap_or("Error"),
                detail.clone(),
                None,
                None,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title, detail, field, position) = self.told();
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
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooManyRequests {
                retry_after_secs, ..
            }
            | ApiError::Busy { retry_after_secs } => {
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

/// The most of a stray error's own text that is kept as its detail.
const STRAY_TEXT_MAX: usize = 1024;

/// Errors the router and axum's extractors answer by themselves — a method
/// the route does not take (405, empty), a path segment that is not UTF-8
/// (400, text/plain), a failed upgrade — rendered as problems like every
/// other error, keeping their headers (`Allow`) and their text as detail.
pub async fn stray_errors(res: Response) -> Response {
    let status = res.status();
    // Problems are answered already; pages answer their errors as pages,
    // and MCP as JSON-RPC errors.
    let answered = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"application/problem+json")
            || v.starts_with(b"text/html")
            || v.starts_with(b"application/json")
    });
    if !(status.is_client_error() || status.is_server_error()) || answered {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, STRAY_TEXT_MAX)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let detail = match status {
        // The router adds `Allow` after this, once the route is known.
        StatusCode::METHOD_NOT_ALLOWED => {
            "this path does not take that method; the Allow header lists those it takes".into()
        }
        _ if !text.is_empty() => text,
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let mut out = ApiError::Http { status, detail }.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name, value.clone());
        }
    }
    out
}
