//! Signing in, registering (where the server allows it) and signing out.
//! Sign-in and registration forms prove they come from this server's own
//! page by their `Origin`; signing out is a form like any other.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use dueflow_api::AppState;
use dueflow_api::auth::client_address::ClientAddress;
use dueflow_api::auth::{revoke, session_cookie};
use dueflow_app::AppError;
use dueflow_domain::quickadd::DateOrder;
use serde::Deserialize;

use crate::page::{Chrome, PageError, local_path, render, see_other};
use crate::session::{NoFields, Posted, SameOrigin};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    /// Where to go once signed in.
    next: String,
    name: String,
    error: Option<String>,
    can_register: bool,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    chrome: Chrome,
    name: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `GET /login`
pub async fn login_form(State(state): State<AppState>, Query(q): Query<Next>) -> Response {
    login_page(
        &state,
        StatusCode::OK,
        q.next.unwrap_or_default(),
        String::new(),
        None,
    )
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    next: String,
    name: String,
    error: Option<String>,
) -> Response {
    render(
        status,
        &LoginPage {
            chrome: Chrome::new("Sign in", None, String::new()),
            next: local_path(&next).to_owned(),
            name,
            error,
            can_register: state.config.app.open_registration,
        },
    )
}

/// Signed in with `token`: the session cookie set, on the way to `to`.
fn signed_in(state: &AppState, token: &str, to: &str) -> Response {
    let mut res = see_other(to);
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(state, token, state.config.app.session_days * 86_400),
    );
    res
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: start a session and go where the visitor was headed.
pub async fn log_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    SameOrigin(form): SameOrigin<LoginForm>,
) -> Response {
    match state.app.log_in(&form.name, form.password, address).await {
        Ok(session) => signed_in(&state, &session.token, local_path(&form.next)),
        Err(AppError::BadCredentials) => login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            form.next,
            form.name,
            Some("Wrong name or password.".into()),
        ),
        Err(e) => {
            let e = PageError::from(e);
            login_page(
                &state,
                e.status(),
                form.next,
                form.name,
                Some(e.detail().into()),
            )
        }
    }
}

/// `GET /register`
pub async fn register_form(State(state): State<AppState>) -> Response {
    if !state.config.app.open_registration {
        return closed();
    }
    render(
        StatusCode::OK,
        &RegisterPage {
            chrome: Chrome::new("Create an account", None, String::new()),
            name: String::new(),
            error: None,
        },
    )
}

fn closed() -> Response {
    axum::response::IntoResponse::into_response(PageError::new(
        StatusCode::FORBIDDEN,
        "Registration is closed",
        "This server does not take new accounts; ask its operator for one.",
    ))
}

#[derive(Deserialize)]
pub struct RegisterForm {
    name: String,
    password: String,
    /// The browser's zone, filled in by the page's script; UTC without it.
    #[serde(default)]
    tz: String,
}

/// `POST /register`: create the account and sign it in.
pub async fn register(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    SameOrigin(form): SameOrigin<RegisterForm>,
) -> Response {
    if !state.config.app.open_registration {
        return closed();
    }
    // A zone the server does not know is left out rather than refused: the
    // visitor did not type it, and can set it later.
    let tz = Some(form.tz.as_str()).filter(|tz| tz.parse::<chrono_tz::Tz>().is_ok());
    // Dates are read in the order of the browser's first language.
    let order = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split([',', ';']).next())
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "*")
        .map(|l| DateOrder::for_locale(l).as_str());
    let created = state
        .app
        .register(&form.name, form.password.clone(), tz, order)
        .await;
    let session = match created {
        Ok(_) => state.app.log_in(&form.name, form.password, address).await,
        Err(e) => Err(e),
    };
    match session {
        Ok(session) => signed_in(&state, &session.token, "/"),
        Err(e) => {
            let e = PageError::from(e);
            render(
                e.status(),
                &RegisterPage {
                    chrome: Chrome::new("Create an account", None, String::new()),
                    name: form.name,
                    error: Some(e.detail().into()),
                },
            )
        }
    }
}

/// `POST /logout`: end this session everywhere it is open.
pub async fn log_out(State(state): State<AppState>, posted: Posted<NoFields>) -> Response {
    let caller = &posted.viewer.caller;
    if let Err(e) = revoke(&state, &caller.user, &caller.token_id).await {
        return axum::response::IntoResponse::into_response(PageError::from(e));
    }
    let mut res = see_other("/login");
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    // Nothing of the signed-out user's pages stays in this browser.
    res.headers_mut()
        .insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    res
}
