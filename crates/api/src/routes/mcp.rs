//! `/mcp`: the MCP server of `dueflow-assistant` behind the API's own
//! authentication. Every request is authenticated here, as an API request
//! is (bearer token, or the session cookie from this server's pages); one
//! without valid credentials is answered 401 before MCP sees it, and the
//! caller travels to the tools in the request's extensions.

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::auth;
use crate::state::AppState;

async fn caller(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match auth::authenticate(&parts, &state, false).await {
        Ok(caller) => {
            parts.extensions.insert(caller.user);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

pub fn routes(state: &AppState, body_limit: usize) -> Router<AppState> {
    Router::new()
        .route_service(
            "/mcp",
            dueflow_assistant::mcp::service(state.app.clone(), body_limit),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), caller))
}
