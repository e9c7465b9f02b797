//! The notification centre (`/notifications`): fired reminders, newest
//! first, unread ones marked; each can be marked read, snoozed, dismissed,
//! or its task completed, and acting on one marks it read. The count of
//! unread ones shows in every page's header ([`unread`]).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dueflow_api::AppState;
use dueflow_api::RequestTrace;
use dueflow_app::{AppError, SnoozeFor};
use dueflow_store::User;
use serde::Deserialize;

use crate::dates::Dates;
use crate::page::{Chrome, PageError, chrome_for, encode, render, see_other};
use crate::session::{Posted, Viewer};

/// Notifications on one page of the centre.
const PAGE_SIZE: u32 = 50;
/// Unread notifications counted for the header; more show as "99+".
const COUNTED: u32 = 100;

/// The header's count of unread notifications ("99+" past 99; empty for none).
pub async fn unread(state: &AppState, user: &User) -> Result<String, AppError> {
    let (items, _) = state
        .app
        .notifications(user, true, Some(COUNTED), None)
        .await?;
    Ok(match items.len() {
        0 => String::new(),
        n if n > 99 => "99+".into(),
        n => n.to_string(),
    })
}

struct Line {
    id: String,
    task_id: String,
    title: String,
    body: String,
    when: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct CentrePage {
    chrome: Chrome,
    lines: Vec<Line>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct CentreParams {
    #[serde(default)]
    cursor: Option<String>,
}

/// `GET /notifications`
pub async fn centre(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<CentreParams>,
) -> Response {
    let user = viewer.user();
    let page = async {
        let (items, next) = state
            .app
            .notifications(user, false, Some(PAGE_SIZE), params.cursor.as_deref())
            .await?;
        Ok::<_, PageError>(CentrePage {
            chrome: chrome_for(&state, &viewer, "Notifications").await?,
            lines: items
                .into_iter()
                .map(|n| Line {
                    unread: n.read_at.is_none(),
                    when: Dates::of(user).stamp(n.created_at),
                    id: n.id,
                    task_id: n.task_id,
                    title: n.title,
                    body: n.body,
                })
                .collect(),
            next: next.map(|c| format!("/notifications?cursor={}", encode(&c))),
        })
    };
    match page.await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    /// `read`, `snooze`, `dismiss` or `complete`.
    act: String,
    /// For `snooze`: an ISO 8601 duration such as `PT10M`.
    #[serde(default)]
    r#for: String,
}

/// `POST /notifications/{id}`: act on a notification, which marks it read.
pub async fn act(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RequestTrace(trace): RequestTrace,
    posted: Posted<ActForm>,
) -> Response {
    let Posted { viewer, form } = posted;
    let user = viewer.user();
    let done = async {
        let n = state.app.read_notification(user, &id).await?;
        match form.act.as_str() {
            "read" => {}
            "snooze" => {
                state
                    .app
                    .snooze_reminder(user, &n.reminder_id, &SnoozeFor::For(form.r#for.clone()))
                    .await?;
            }
            "dismiss" => {
                state.app.dismiss_reminder(user, &n.reminder_id).await?;
            }
            "complete" => {
                state.app.complete_task(user, &n.task_id, trace).await?;
            }
            other => {
                return Err(AppError::invalid(
                    "act",
                    format!("'{other}' is not an action; use read, snooze, dismiss or complete"),
                ));
            }
        }
        Ok(())
    };
    match done.await {
        Ok(()) => see_other("/notifications"),
        Err(e) => PageError::from(e).into_response(),
    }
}
