//! The trace a request belongs to: the one its `traceparent` header names,
//! continued with a span of this server's own, or else a new one. The
//! events a request makes carry it, so the roles that react to them stay in
//! the caller's trace.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use dueflow_domain::trace::TraceParent;

pub struct RequestTrace(pub TraceParent);

impl<S: Send + Sync> FromRequestParts<S> for RequestTrace {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let caller = parts
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(TraceParent::parse);
        Ok(RequestTrace(
            caller.map_or_else(TraceParent::root, |t| t.child()),
        ))
    }
}
