//! `/filter/suggest`: what the list's filter field offers as a query is
//! typed (filter names, then their values, the user's tags among them), for
//! the page script to show under the field. The language's knowledge stays
//! in `dueflow_domain::query::suggest`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use dueflow_api::AppState;
use dueflow_domain::query::{self, MAX_QUERY_CHARS, Suggestions};
use serde::Deserialize;

use crate::page::PageError;
use crate::session::Viewer;

#[derive(Deserialize)]
pub struct SuggestParams {
    #[serde(default)]
    q: String,
    /// The caret, in characters from the start.
    #[serde(default)]
    at: usize,
}

/// `GET /filter/suggest?q=…&at=…`: `{"from", "to", "items": [{"text", "hint"}]}`,
/// the characters `from..to` to replace with an item's text.
pub async fn filter(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<SuggestParams>,
) -> Response {
    if p.q.chars().count() > MAX_QUERY_CHARS {
        return axum::Json(Suggestions::default()).into_response();
    }
    match state.app.tags(viewer.user()).await {
        Ok(tags) => {
            let names: Vec<String> = tags.into_iter().map(|t| t.name).collect();
            axum::Json(query::suggest(&p.q, p.at, &names)).into_response()
        }
        Err(e) => PageError::from(e).into_response(),
    }
}
