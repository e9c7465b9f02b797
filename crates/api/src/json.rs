//! Request extractors whose rejections are problem+json: a JSON object body
//! that rejects unknown fields and oversize payloads with a clear message, and a
//! query string with the same treatment.

use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;
use crate::text::{json_has_nul, nul_refused, uri_part_has_nul};

pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            // Every body is an object: serde would also read a struct from an array.
            Ok(axum::Json(v)) if !v.is_object() => Err(ApiError::Invalid {
                field: None,
                detail: "the body is a JSON object, {…}".into(),
            }),
            Ok(axum::Json(v)) if json_has_nul(&v) => Err(nul_refused()),
            // The path names the field at fault, e.g. `reminders[0].before`.
            Ok(axum::Json(v)) => serde_path_to_error::deserialize(v).map(Json).map_err(|e| {
                let field = e.path().to_string();
                let detail = format!("{field}: {}", e.inner());
                ApiError::Invalid {
                    field: (field != ".").then_some(field),
                    detail,
                }
            }),
            // The connection's body timeout ran out while the body arrived.
            Err(JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::UnknownBodyError(e),
            ))) if stalled(&e) => Err(ApiError::BodyTimeout),
            Err(JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                e @ FailedToBufferBody::LengthLimitError(_),
            ))) => Err(ApiError::PayloadTooLarge(format!(
                "request body rejected: {}",
                e.body_text()
            ))),
            Err(JsonRejection::BytesRejection(e)) => Err(ApiError::Invalid {
                field: None,
                detail: format!("the request body could not be read: {}", e.body_text()),
            }),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with 'Content-Type: application/json'".into(),
            )),
            Err(e) => Err(ApiError::Invalid {
                field: None,
                detail: clean(&e.body_text()),
            }),
        }
    }
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
