//! The trace a request belongs to: the one its `traceparent` header names,
//! continued with a span of this server's own, or else a new one. Every
//! request runs inside that span: its log lines carry the trace id (and at
//! `debug`, one line per request says how it was answered), and
//! with traces exported (`dueflow_telemetry`) it is the request's server
//! span. The events a request makes carry it, so the roles that react to
//! them stay in the caller's trace. The span is in the request's
//! extensions as a `TraceParent`, for the doors that are not axum handlers
//! (the MCP server's tools).

use std::convert::Infallible;

use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use dueflow_domain::trace::TraceParent;
use dueflow_telemetry::{Span, SpanKind};
use tracing::Instrument;

#[derive(Clone, Copy)]
pub struct RequestTrace(pub TraceParent);

/// The caller's span, if its `traceparent` header names a valid one.
fn caller(headers: &HeaderMap) -> Option<TraceParent> {
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)
}

/// Runs each request in its span (see the module's comment).
pub async fn traced(mut req: Request, next: Next) -> Response {
    let caller = caller(req.headers());
    let mut me = caller.map_or_else(TraceParent::root, |t| t.child());
    // The route's template, shared: no copy per request.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map(MatchedPath::as_str);
    // Probes and scrapes would bury the requests: no spans for them.
    let probe = matches!(route, Some("/healthz" | "/readyz" | "/metrics"));
    let mut span = if dueflow_telemetry::enabled() && !probe {
        let name = format!("{} {}", req.method(), route.unwrap_or("unmatched"));
        let mut span = Span::start(SpanKind::Server, name, me, caller);
        span.set("http.request.method", req.method().to_string());
        if let Some(r) = route {
            span.set("http.route", r.to_owned());
        }
        if caller.is_none() {
            me = me.sampled(span.sampled().unwrap_or(true));
        }
        Some(span)
    } else {
        None
    };
    req.extensions_mut().insert(me);
    let logged = tracing::info_span!(
        "request",
        trace_id = %me.trace_id_hex(),
        method = %req.method(),
        route = route.unwrap_or("unmatched"),
    );
    let started = std::time::Instant::now();
    let res = next.run(req).instrument(logged.clone()).await;
    // The access log, for `dueflow_api=debug`.
    logged.in_scope(|| {
        tracing::debug!(
            status = res.status().as_u16(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "answered"
        );
    });
    if let Some(span) = &mut span {
        let status = res.status();
        span.set("http.response.status_code", i64::from(status.as_u16()));
        if status.is_server_error() {
            span.fail(status.to_string());
        }
    }
    res
}

impl<S: Send + Sync> FromRequestParts<S> for RequestTrace {
    type Rejection = Infallible;

    /// The request's span from [`traced`], or, where that does not run, a
    /// span continuing the caller's trace.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(t) = parts.extensions.get::<TraceParent>() {
            return Ok(RequestTrace(*t));
        }
        Ok(RequestTrace(
            caller(&parts.headers).map_or_else(TraceParent::root, |t| t.child()),
        ))
    }
}
