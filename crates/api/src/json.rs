//! Request extractors whose rejections are problem+json: a JSON object body
//! that rejects unknown fields and oversize payloads with a clear message, and a
//! query string with the same treatment.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;
use crate::text::{json_has_nul, nul_refused, uri_part_has_nul};

pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(&req) {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with 'Content-Type: application/json'".into(),
            ));
        }
        let body = Bytes::from_request(req, state).await.map_err(unread)?;
        read(&body).map(Json)
    }
}

/// `application/json` or a `+json` type, as axum's own extractor takes.
fn json_content_type(req: &Request) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// Why a body could not be read: it stalled (408), it is too large (413),
/// or the connection broke off or sent it malformed (400).
fn unread(e: BytesRejection) -> ApiError {
    match e {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::UnknownBodyError(e))
            if stalled(&e) =>
        {
            ApiError::BodyTimeout
        }
        BytesRejection::FailedToBufferBody(e @ FailedToBufferBody::LengthLimitError(_)) => {
            ApiError::PayloadTooLarge(format!("request body rejected: {}", e.body_text()))
        }
        e => ApiError::Invalid {
            field: None,
            detail: format!("the request body could not be read: {}", e.body_text()),
        },
    }
}

/// Parse a body straight into `T`, once. Every body is an object (serde
/// would also read a struct from an array), and no text holds a NUL: JSON
/// can only write one as `\u0000`, so only a body with that escape is
/// parsed a second time to look.
fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::Invalid {
            field: None,
            detail: "the body is a JSON object, {…}".into(),
        });
    }
    if body.windows(6).any(|w| w == b"\\u0000")
        && serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| json_has_nul(&v))
    {
        return Err(nul_refused());
    }
    // The path names the field at fault, e.g. `reminders[0].before`.
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let detail = format!("{field}: {}", e.inner());
        ApiError::Invalid {
            field: (field != ".").then_some(field),
            detail,
        }
    })?;
    de.end().map_err(|e| ApiError::Invalid {
        field: None,
        detail: format!("after the JSON object: {e}"),
    })?;
    Ok(value)
}

/// Whether a body failed because it paused longer than the body timeout
/// (not because it was cut off or malformed).
fn stalled(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Drop axum's generic preamble, keeping the part that names the field.
fn clean(text: &str) -> String {
    text.split_once(": ")
        .map_or(text, |(_, rest)| rest)
        .to_owned()
}

pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(uri_part_has_nul) {
            return Err(nul_refused());
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e: QueryRejection| ApiError::Invalid {
                field: None,
                detail: clean(&e.body_text()),
            })
    }
}

/// For a body field that may be `null`: `Some(None)` for an explicit
/// `null`, `None` (with `#[serde(default)]`) when the field is absent.
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}
