//! Tags and saved views (`/organize`): give a tag a colour, rename it
//! (renaming onto another tag merges the two) or delete it from every task;
//! save the list in view as a named view, rename, change or delete one.
//! Each action goes through the application layer, so a rename is one
//! `task.updated` per task there as through the API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dueflow_api::AppState;
use dueflow_api::RequestTrace;
use dueflow_app::{AppError, TagChange, ViewFields};
use dueflow_store::{SavedView, TagCount};
use serde::Deserialize;

use crate::page::{Chrome, PageError, chrome_for, encode, render, see_other};
use crate::session::{NoFields, Posted, Viewer};
use crate::views::{View, list_href};

struct TagLine {
    tag: TagCount,
    /// The tag in a path.
    path: String,
    href: String,
}

struct ViewLine {
    view: SavedView,
    href: String,
}

#[derive(Template)]
#[template(path = "organize.html")]
struct OrganizePage {
    chrome: Chrome,
    tags: Vec<TagLine>,
    views: Vec<ViewLine>,
    error: Option<String>,
}

async fn organize_page(
    state: &AppState,
    viewer: &Viewer,
    error: Option<String>,
) -> Result<OrganizePage, PageError> {
    let user = viewer.user();
    let tags = state
        .app
        .tags(user)
        .await?
        .into_iter()
        .map(|tag| TagLine {
            path: encode(&tag.name),
            href: list_href(View::Inbox, &format!("tag:{}", tag.name), ""),
            tag,
        })
        .collect();
    let views = state
        .app
        .saved_views(user)
        .await?
        .into_iter()
        .map(|view| ViewLine {
            href: list_href(View::All, &view.query, &view.sort),
            view,
        })
        .collect();
    Ok(OrganizePage {
        chrome: chrome_for(state, viewer, "Tags and views").await?,
        tags,
        views,
        error,
    })
}

/// `GET /organize`
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> Response {
    match organize_page(&state, &viewer, None).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

/// Back to the page on success, or the page again with why `e` refused.
async fn done(state: &AppState, viewer: &Viewer, result: Result<(), AppError>) -> Response {
    let Err(e) = result else {
        return see_other("/organize");
    };
    let e = PageError::from(e);
    match organize_page(state, viewer, Some(e.detail().to_owned())).await {
        Ok(page) => render(e.status(), &page),
        Err(e) => e.into_response(),
    }
}

/// Either form of a tag: its new name, or its colour (`#rrggbb` from the
/// picker, or `plain` for none).
#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    colour: Option<String>,
    #[serde(default)]
    plain: Option<String>,
}

/// `POST /tags/{name}`: rename (or merge) a tag, or colour it.
pub async fn update_tag(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RequestTrace(trace): RequestTrace,
    posted: Posted<TagForm>,
) -> Response {
    let Posted { viewer, form } = posted;
    let colour = match (form.plain, form.colour) {
        (Some(_), _) => Some(None),
        (None, colour) => colour.map(Some),
    };
    let change = TagChange {
        name: form.name,
        colour,
    };
    let result = state
        .app
        .update_tag(viewer.user(), &name, change, trace)
        .await;
    done(&state, &viewer, result.map(drop)).await
}

/// `POST /tags/{name}/delete`: the tag off every task (the tasks stay).
pub async fn delete_tag(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RequestTrace(trace): RequestTrace,
    posted: Posted<NoFields>,
) -> Response {
    let result = state
        .app
        .delete_tag(posted.viewer.user(), &name, trace)
        .await;
    done(&state, &posted.viewer, result.map(drop)).await
}

#[derive(Deserialize)]
pub struct ViewForm {
    name: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    sort: String,
}

impl From<ViewForm> for ViewFields {
    fn from(f: ViewForm) -> Self {
        ViewFields {
            name: Some(f.name),
            query: Some(f.query),
            sort: Some(f.sort),
        }
    }
}

/// `POST /views`: save a list (from the list's filter bar) as a view and
/// open it.
pub async fn create_view(State(state): State<AppState>, posted: Posted<ViewForm>) -> Response {
    let Posted { viewer, form } = posted;
    match state
        .app
        .create_saved_view(viewer.user(), form.into())
        .await
    {
        Ok(view) => see_other(&list_href(View::All, &view.query, &view.sort)),
        Err(e) => done(&state, &viewer, Err(e)).await,
    }
}

/// `POST /views/{id}`: rename a view or change its query or sort.
pub async fn update_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ViewForm>,
) -> Response {
    let Posted { viewer, form } = posted;
    let result = state
        .app
        .update_saved_view(viewer.user(), &id, form.into())
        .await;
    done(&state, &viewer, result.map(drop)).await
}

/// `POST /views/{id}/delete`
pub async fn delete_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NoFields>,
) -> Response {
    let result = state.app.delete_saved_view(posted.viewer.user(), &id).await;
    done(&state, &posted.viewer, result).await
}
