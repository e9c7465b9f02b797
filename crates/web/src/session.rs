//! Who is looking at a page: the user of the session cookie (a bearer
//! token works too), and the form token their forms carry. A signed-out
//! visitor is sent to the sign-in page, which brings them back. Forms are
//! read through [`Posted`] (signed in, form token checked) or
//! [`SameOrigin`] (sign-in and registration, before there is a session).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use dueflow_api::AppState;
use dueflow_api::auth::{self, Caller};
use dueflow_api::problem::ApiError;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::csrf;
use crate::page::{self, PageError};

/// The signed-in user of a page request.
pub struct Viewer {
    pub caller: Caller,
    /// The form token of this session.
    pub csrf: String,
}

impl Viewer {
    pub fn user(&self) -> &dueflow_store::User {
        &self.caller.user
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match auth::authenticate(parts, state, false).await {
            Ok(caller) => Ok(Viewer {
                csrf: csrf::token(&caller.digest),
                caller,
            }),
            Err(ApiError::Unauthorized) => {
                // Only a page can be come back to; a form is posted again
                // by hand.
                let next = match parts.method {
                    Method::GET | Method::HEAD => parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str())
                        .filter(|p| *p != "/"),
                    _ => None,
                };
                Err(page::see_other(&match next {
                    Some(next) => format!("/login?next={}", page::encode(next)),
                    None => "/login".to_owned(),
                }))
            }
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

#[derive(Deserialize)]
struct FormToken {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// A form with nothing in it but its token: a button that acts.
#[derive(Deserialize)]
pub struct NoFields {}

/// A form posted by the signed-in user, its form token checked.
pub struct Posted<T> {
    pub viewer: Viewer,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let sent = serde_urlencoded::from_bytes::<FormToken>(&bytes)
            .map(|t| t.csrf)
            .unwrap_or_default();
        if !csrf::matches(&viewer.csrf, &sent) {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent with this session's form token (it may come from \
                 another site, or from before you signed in again). Reload the page and \
                 send it again.",
            )
            .into_response());
        }
        let form = read_form(&bytes).map_err(IntoResponse::into_response)?;
        Ok(Posted { viewer, form })
    }
}

/// A form posted from this server's own page, by anyone (sign-in and
/// registration): its `Origin` must be this server's.
pub struct SameOrigin<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for SameOrigin<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        auth::origin::check(&parts, state.config.public_url.as_ref())
            .map_err(|e| PageError::from(e).into_response())?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        read_form(&bytes)
            .map(SameOrigin)
            .map_err(IntoResponse::into_response)
    }
}

fn read_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PageError> {
    serde_urlencoded::from_bytes(bytes).map_err(|e| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "This form could not be read",
            &format!("The form's fields are not what this page sends ({e}). Reload the page and try again."),
        )
    })
}
