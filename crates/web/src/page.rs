//! Answers as pages: a rendered template with the headers every page
//! carries (a strict content security policy among them), the redirect
//! after a form, and errors as a page that says what to do next.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dueflow_api::AppState;
use dueflow_api::problem::ApiError;
use dueflow_app::AppError;

use crate::assets;
use crate::session::Viewer;

/// What every page's frame shows and links to.
pub struct Chrome {
    pub title: String,
    /// The signed-in user's name; `None` on sign-in and error pages.
    pub user: Option<String>,
    /// The session's form token.
    pub csrf: String,
    /// Unread notifications, as the header shows them ("" for none).
    pub unread: String,
    /// Whether fired reminders show in the page (the in-app channel).
    pub toasts: bool,
    pub css: &'static str,
    pub js: &'static str,
    pub htmx: &'static str,
    pub icon: &'static str,
    pub manifest: &'static str,
}

impl Chrome {
    pub fn new(title: impl Into<String>, user: Option<String>, csrf: String) -> Self {
        Chrome {
            title: title.into(),
            user,
            csrf,
            unread: String::new(),
            toasts: false,
            css: assets::href("app.css"),
            js: assets::href("app.js"),
            htmx: assets::href("htmx.js"),
            icon: assets::href("icon.svg"),
            manifest: assets::href("app.webmanifest"),
        }
    }
}

/// The frame of a page `viewer` sees: their name, form token and unread
/// notifications.
pub async fn chrome_for(
    state: &AppState,
    viewer: &Viewer,
    title: impl Into<String>,
) -> Result<Chrome, PageError> {
    let user = viewer.user();
    let mut chrome = Chrome::new(title, Some(user.name.clone()), viewer.csrf.clone());
    chrome.unread = crate::pages::notifications::unread(state, user).await?;
    chrome.toasts = state.app.reminder_channels(user).await?.in_app;
    Ok(chrome)
}

/// Only this server's own scripts, styles and connections; no frames.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Bytes a page's buffer starts with.
const PAGE_CAPACITY: usize = 96 * 1024;

/// `template` as an HTML page with `status`.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    // Room for a list of a hundred tasks at once, rather than growing to it
    // by copying.
    let mut html = String::with_capacity(PAGE_CAPACITY);
    match template.render_into(&mut html) {
        Ok(()) => {
            let mut res = (status, html).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            // Pages hold one user's data.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// `303 See Other` to `to`, where a form's answer lives.
pub fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/")),
    );
    res
}

/// `value` percent-encoded for a query string.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)]).map_or_else(|_| String::new(), |s| s[1..].to_owned())
}

/// Where a form may send its user back to: a path on this server (never
/// another site's address), else the task list.
pub fn local_path(raw: &str) -> &str {
    let local = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && !raw.chars().any(|c| c.is_control());
    if local { raw } else { "/" }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    detail: &'a str,
}

/// An error answered as a page.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    title: String,
    detail: String,
}

impl PageError {
    pub fn new(status: StatusCode, title: &str, detail: &str) -> Self {
        PageError {
            status,
            title: title.to_owned(),
            detail: detail.to_owned(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::from(ApiError::from(e))
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let title = match &e {
            ApiError::NotFound => "Not found",
            ApiError::Forbidden(_) => "Not allowed",
            ApiError::Unauthorized => "Signed out",
            ApiError::TooManyRequests { .. } | ApiError::Busy { .. } => "Too many requests",
            ApiError::Internal(_) => "Something went wrong",
            _ => "That did not work",
        };
        let (status, detail) = e.status_and_detail();
        PageError {
            status,
            title: title.to_owned(),
            detail,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        render(
            self.status,
            &ErrorPage {
                chrome: Chrome::new(self.title, None, String::new()),
                status: self.status.as_u16(),
                detail: &self.detail,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/?view=today"), "/?view=today");
        for foreign in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "",
            "x",
            "/a\nb",
        ] {
            assert_eq!(local_path(foreign), "/", "{foreign:?}");
        }
    }

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(encode("/?q=a b&view=x"), "%2F%3Fq%3Da+b%26view%3Dx");
    }
}
