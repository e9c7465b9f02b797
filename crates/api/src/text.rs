//! Text a client sends never holds the NUL character: PostgreSQL cannot
//! store it, so it is refused at the door, the same way on every backend
//! (400 in a body or query; a path with one names nothing, 404). The
//! published document says so of every string it accepts.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::problem::ApiError;

/// The pattern the document gives strings that have no other constraint.
pub const NO_NUL_PATTERN: &str = r"^[^\u0000]*$";

/// Whether `v` holds a NUL anywhere, in a string or in an object's key.
pub fn json_has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

/// Whether a raw (percent-encoded) path or query carries a NUL.
pub fn uri_part_has_nul(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

pub fn nul_refused() -> ApiError {
    ApiError::Invalid {
        field: None,
        detail: "text cannot contain the NUL character (\\u0000)".into(),
    }
}

/// No resource's path holds a NUL: such a path names nothing.
pub async fn refuse_nul_in_path(req: Request, next: Next) -> Response {
    if uri_part_has_nul(req.uri().path()) {
        return ApiError::NotFound.into_response();
    }
    next.run(req).await
}
