//! The HTTP surface of dueflow: the REST API under `/api/v1`, its OpenAPI
//! document, health probes and Prometheus metrics, around the pages of the
//! web app (another crate's router, merged in by [`app`]). [`serve`] takes
//! a bound listener and a shutdown future, so tests run it on port 0 and
//! the binary wires it to signals.

pub mod auth;
pub mod connections;
mod json;
mod metrics;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod state;
pub mod stream;
mod text;
mod trace;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::net::TcpListener;

pub use connections::HttpLimits;
pub use state::{ApiConfig, AppState};
pub use trace::RequestTrace;

/// Largest accepted request body (64 KiB of notes, escaped, plus the rest).
pub const BODY_LIMIT: usize = 256 * 1024;

/// The whole application router: the API and `pages` (the web app), under
/// the same limits, metrics and error answers.
pub fn app(state: AppState, pages: Router<AppState>) -> Router {
    let (api, doc) = routes::api();
    let doc = std::sync::Arc::new(doc);
    Router::new()
        .merge(api)
        .merge(routes::mcp::routes(&state, BODY_LIMIT))
        .merge(pages)
        .merge(routes::probes())
        .route("/metrics", get(metrics::render))
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(problem::no_route)
        .layer(axum::middleware::from_fn(text::refuse_nul_in_path))
        .layer(axum::middleware::map_response(problem::stray_errors))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(trace::traced))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Probes and metrics only, for processes that run no `api` role.
pub fn ops_app(state: AppState) -> Router {
    routes::probes()
        .route("/metrics", get(metrics::render))
        .fallback(problem::no_route)
        .layer(axum::middleware::map_response(problem::stray_errors))
        .with_state(state)
}

/// Serve `router` under the default [`HttpLimits`] until `shutdown`
/// resolves, then finish in-flight requests.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    connections::serve(listener, router, HttpLimits::default(), shutdown).await
}

/// Serve the API and `pages` until `shutdown` resolves, then finish
/// in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    pages: Router<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, app(state, pages), shutdown).await
}
