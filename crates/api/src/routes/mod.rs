//! The router: every API route registered once, through the OpenAPI router,
//! so the published document and the served routes cannot drift apart.

pub mod account;
mod activity;
mod chat;
mod email_verification;
mod health;
pub mod mcp;
mod notifications;
mod parse;
mod reminders;
mod tags;
mod tasks;
mod tokens;
mod views;
mod webhooks;

use axum::Router;
use axum::routing::get;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "dueflow", description = "Self-hosted, event-driven task manager."),
    tags((name = "tasks"), (name = "reminders"), (name = "notifications"), (name = "webhooks"),
        (name = "activity"), (name = "accounts"), (name = "tokens"), (name = "assistant"))
)]
struct ApiDoc;

/// The API routes and the OpenAPI document describing exactly them.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tasks::create, tasks::list))
        .routes(routes!(tasks::get, tasks::update, tasks::delete))
        .routes(routes!(tasks::quick_add))
        .routes(routes!(parse::parse))
        .routes(routes!(tasks::complete))
        .routes(routes!(tasks::reopen))
        .routes(routes!(tasks::occurrences))
        .routes(routes!(tags::list))
        .routes(routes!(tags::update, tags::delete))
        .routes(routes!(views::create, views::list))
        .routes(routes!(views::get, views::update, views::delete))
        .routes(routes!(chat::chat))
        .routes(routes!(chat::list))
        .routes(routes!(chat::get, chat::delete))
        .routes(routes!(reminders::list))
        .routes(routes!(reminders::snooze))
        .routes(routes!(reminders::dismiss))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::read))
        .routes(routes!(
            notifications::channels,
            notifications::set_channels
        ))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(activity::list))
        .routes(routes!(crate::stream::stream))
        .routes(routes!(account::register))
        .routes(routes!(account::login))
        .routes(routes!(account::logout))
        .routes(routes!(account::me, account::update_me))
        .routes(routes!(email_verification::send))
        .routes(routes!(email_verification::verify))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .split_for_parts();
    // After every route is in: it completes each operation's answers.
    crate::openapi::Contract.modify(&mut doc);
    (router, doc)
}

/// Probes, outside the API document.
pub fn probes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
}
