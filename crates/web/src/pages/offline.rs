//! Working offline: the service worker (`/sw.js`) that an installed app (or
//! any tab) registers, and the page it shows (`/offline`) when the server
//! cannot be reached. The page holds no one's data, so it is the same for
//! everyone and needs no session.

use std::sync::LazyLock;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::assets;
use crate::page::{Chrome, render};

#[derive(Template)]
#[template(path = "offline.html")]
struct OfflinePage {
    chrome: Chrome,
}

/// `GET /offline`
pub async fn page() -> Response {
    render(
        StatusCode::OK,
        &OfflinePage {
            chrome: Chrome::new("Offline", None, String::new()),
        },
    )
}

/// The worker's script, told which files the offline page needs (their
/// names carry their content's hash, so a new release installs anew).
static WORKER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "const OFFLINE = [\"/offline\", \"{}\", \"{}\"];\n{}",
        assets::href("app.css"),
        assets::href("icon.svg"),
        include_str!("../../assets/sw.js")
    )
});

/// `GET /sw.js`: checked again on every use, so a new release takes over.
pub async fn worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        WORKER.as_str(),
    )
        .into_response()
}
