//! The web app dueflow serves at `/`: pages rendered on the server from
//! templates checked at compile time (askama), forms that work without
//! JavaScript (each posts, then redirects), and a small embedded client
//! layer (htmx, and one module of ours for shortcuts and live updates) that
//! turns the same links and forms into in-place updates. Every operation
//! goes through the application layer, exactly as the API's do.

mod assets;
mod csrf;
mod dates;
mod highlight;
mod notes;
mod page;
mod pages;
mod plain;
mod session;
mod views;

use axum::Router;
use axum::routing::{get, post};
use dueflow_api::AppState;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;

/// The web app's routes, to merge into the API's router.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::tasks::list))
        .route("/calendar", get(pages::calendar::show))
        .route("/filter/suggest", get(pages::suggest::filter))
        .route("/offline", get(pages::offline::page))
        .route("/sw.js", get(pages::offline::worker))
        .route(
            "/login",
            get(pages::auth::login_form).post(pages::auth::log_in),
        )
        .route(
            "/register",
            get(pages::auth::register_form).post(pages::auth::register),
        )
        .route("/logout", post(pages::auth::log_out))
        .route("/tasks", post(pages::tasks::add))
        .route("/tasks/bulk", post(pages::tasks::bulk))
        .route(
            "/tasks/{id}",
            get(pages::editor::edit).post(pages::editor::save),
        )
        .route("/tasks/{id}/occurrences", get(pages::editor::occurrences))
        .route("/tasks/{id}/{act}", post(pages::tasks::act))
        .route("/notifications", get(pages::notifications::centre))
        .route("/notifications/{id}", post(pages::notifications::act))
        .route("/settings", get(pages::settings::show))
        .route("/settings/profile", post(pages::settings::profile))
        .route(
            "/settings/reminders",
            post(pages::settings::reminder_channels),
        )
        .route("/settings/tokens", post(pages::settings::create_token))
        .route(
            "/settings/tokens/{id}/revoke",
            post(pages::settings::revoke_token),
        )
        .route("/settings/webhooks", post(pages::settings::create_webhook))
        .route("/settings/webhooks/{id}", get(pages::webhook::show))
        .route(
            "/settings/webhooks/{id}/rotate",
            post(pages::webhook::rotate),
        )
        .route(
            "/settings/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(pages::webhook::redeliver),
        )
        .route(
            "/settings/webhooks/{id}/delete",
            post(pages::settings::delete_webhook),
        )
        .route("/organize", get(pages::organize::show))
        .route("/tags/{name}", post(pages::organize::update_tag))
        .route("/tags/{name}/delete", post(pages::organize::delete_tag))
        .route("/views", post(pages::organize::create_view))
        .route("/views/{id}", post(pages::organize::update_view))
        .route("/views/{id}/delete", post(pages::organize::delete_view))
        .route("/assets/{file}", get(assets::serve))
        // Pages are compressed as they are sent (at the fastest level: a
        // page is small, and its render is what a request costs); assets
        // already are.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
}
