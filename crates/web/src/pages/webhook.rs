//! One webhook endpoint (`/settings/webhooks/{id}`): what it receives, its
//! latest deliveries with how each went, a redelivery of any of them, and a
//! new signing secret (shown once, on the page that answers the rotation;
//! the previous one still signs for a while, so the receiver can switch).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dueflow_api::AppState;
use dueflow_app::AppError;
use dueflow_store::Webhook;

use crate::dates::Dates;
use crate::page::{Chrome, PageError, chrome_for, render, see_other};
use crate::session::{NoFields, Posted, Viewer};

/// Deliveries the page lists, newest first.
const DELIVERIES: u32 = 50;

struct DeliveryLine {
    id: String,
    when: String,
    event: String,
    state: &'static str,
    attempts: i64,
    /// The receiver's last answer, or why there was none.
    answer: String,
}

/// A new secret, and until when the previous one also signs.
struct Rotated {
    secret: String,
    until: String,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    chrome: Chrome,
    hook: Webhook,
    deliveries: Vec<DeliveryLine>,
    rotated: Option<Rotated>,
}

async fn webhook_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    rotated: Option<Rotated>,
) -> Result<WebhookPage, PageError> {
    let user = viewer.user();
    let hook = state
        .app
        .webhooks(user)
        .await?
        .into_iter()
        .find(|w| w.id == id)
        .ok_or(AppError::NotFound)?;
    let dates = Dates::of(user);
    let deliveries = state
        .app
        .webhook_deliveries(user, id, Some(DELIVERIES))
        .await?
        .into_iter()
        .map(|d| DeliveryLine {
            when: dates.stamp(d.created_at),
            event: d.event_type,
            state: d.state.as_str(),
            attempts: d.attempts,
            answer: match (d.last_status, d.last_error) {
                (Some(status), _) => format!("HTTP {status}"),
                (None, Some(error)) => error,
                (None, None) => String::new(),
            },
            id: d.id,
        })
        .collect();
    Ok(WebhookPage {
        chrome: chrome_for(state, viewer, format!("Webhook to {}", hook.url)).await?,
        hook,
        deliveries,
        rotated,
    })
}

fn answer(page: Result<WebhookPage, PageError>) -> Response {
    match page {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

/// `GET /settings/webhooks/{id}`
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    answer(webhook_page(&state, &viewer, &id, None).await)
}

/// `POST /settings/webhooks/{id}/rotate`: a new secret, shown once.
pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NoFields>,
) -> Response {
    let viewer = posted.viewer;
    match state
        .app
        .rotate_webhook_secret(viewer.user(), &id, None)
        .await
    {
        Ok((secret, until)) => {
            let rotated = Rotated {
                secret,
                until: Dates::of(viewer.user()).stamp(until),
            };
            answer(webhook_page(&state, &viewer, &id, Some(rotated)).await)
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

/// `POST /settings/webhooks/{id}/deliveries/{delivery}/redeliver`: send
/// it again now, then back to the endpoint's page.
pub async fn redeliver(
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
    posted: Posted<NoFields>,
) -> Response {
    let viewer = posted.viewer;
    match state.app.redeliver(viewer.user(), &id, &delivery).await {
        Ok(()) => see_other(&format!("/settings/webhooks/{id}")),
        Err(e) => PageError::from(e).into_response(),
    }
}
