//! Settings (`/settings`): the time zone and e-mail address, API tokens and
//! signed-in sessions (a new token's secret is shown once, on the page that
//! answers its creation), and webhook endpoints (likewise their signing
//! secret), and where fired reminders go. Revoking a token or session
//! closes its live streams at once.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dueflow_api::AppState;
use dueflow_api::auth::revoke;
use dueflow_app::{AppError, ProfileChange};
use dueflow_domain::event::EventType;
use dueflow_domain::quickadd::DateOrder;
use dueflow_store::{ReminderChannels, TokenKind};
use serde::Deserialize;

use crate::dates::Dates;
use crate::page::{Chrome, PageError, chrome_for, render, see_other};
use crate::session::{NoFields, Posted, Viewer};

struct TokenLine {
    id: String,
    name: String,
    created: String,
    expires: String,
    /// The session this page is seen with.
    current: bool,
}

/// A date order the profile offers, with how it writes a date.
struct OrderOption {
    value: &'static str,
    label: String,
    selected: bool,
}

struct HookLine {
    id: String,
    url: String,
    events: String,
    state: String,
}

/// A secret to show once, with what it belongs to.
struct Shown {
    what: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    tz: String,
    zones: Vec<&'static str>,
    orders: Vec<OrderOption>,
    email: String,
    email_verified: bool,
    tokens: Vec<TokenLine>,
    sessions: Vec<TokenLine>,
    hooks: Vec<HookLine>,
    event_names: Vec<&'static str>,
    channels: ReminderChannels,
    shown: Option<Shown>,
    error: Option<String>,
}

async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    shown: Option<Shown>,
    error: Option<String>,
) -> Result<SettingsPage, PageError> {
    let user = viewer.user();
    let dates = Dates::of(user);
    let day = |t: chrono::DateTime<chrono::Utc>| dates.stamp(t);
    let (mut tokens, mut sessions) = (Vec::new(), Vec::new());
    for t in state.app.tokens(user).await? {
        let line = TokenLine {
            current: t.id == viewer.caller.token_id,
            created: day(t.created_at),
            expires: t.expires_at.map(day).unwrap_or_default(),
            id: t.id,
            name: t.name,
        };
        match t.kind {
            TokenKind::Api => tokens.push(line),
            TokenKind::Session => sessions.push(line),
        }
    }
    let hooks = state
        .app
        .webhooks(user)
        .await?
        .into_iter()
        .map(|w| HookLine {
            state: match (&w.enabled, &w.disabled_reason) {
                (true, _) => "active".into(),
                (false, Some(why)) => format!("disabled: {why}"),
                (false, None) => "disabled".into(),
            },
            events: w.events.join(", "),
            id: w.id,
            url: w.url,
        })
        .collect();
    Ok(SettingsPage {
        chrome: chrome_for(state, viewer, "Settings").await?,
        tz: user.tz.name().to_owned(),
        zones: chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect(),
        orders: DateOrder::ALL
            .into_iter()
            .map(|order| {
                let example = chrono::NaiveDate::from_ymd_opt(2027, 3, 31).expect("a date");
                let numeric = match order {
                    DateOrder::Dmy => "31/3/2027",
                    DateOrder::Mdy => "3/31/2027",
                    DateOrder::Ymd => "2027/3/31",
                };
                OrderOption {
                    value: order.as_str(),
                    label: format!(
                        "{numeric}, shown as {}",
                        Dates { order, tz: user.tz }.day(example)
                    ),
                    selected: order == user.date_order,
                }
            })
            .collect(),
        email: user.email.clone().unwrap_or_default(),
        email_verified: user.email_verified,
        tokens,
        sessions,
        hooks,
        event_names: EventType::ALL.iter().map(|e| e.short()).collect(),
        channels: state.app.reminder_channels(user).await?,
        shown,
        error,
    })
}

fn answer(page: Result<SettingsPage, PageError>, status: StatusCode) -> Response {
    match page {
        Ok(page) => render(status, &page),
        Err(e) => e.into_response(),
    }
}

/// The settings page again, with why `e` refused the form.
async fn refused(state: &AppState, viewer: &Viewer, e: AppError) -> Response {
    let e = PageError::from(e);
    answer(
        settings_page(state, viewer, None, Some(e.detail().to_owned())).await,
        e.status(),
    )
}

/// `GET /settings`
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> Response {
    answer(
        settings_page(&state, &viewer, None, None).await,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct ProfileForm {
    tz: String,
    date_order: String,
    #[serde(default)]
    email: String,
}

/// `POST /settings/profile`: the zone, and the e-mail address (a new one
/// is mailed a code; an empty field removes it).
pub async fn profile(State(state): State<AppState>, posted: Posted<ProfileForm>) -> Response {
    let Posted { viewer, form } = posted;
    let user = viewer.user();
    let email = form.email.trim();
    let email = match (email.is_empty(), user.email.as_deref()) {
        (true, None) => None,
        (true, Some(_)) => Some(None),
        (false, current) if current == Some(email) => None,
        (false, _) => Some(Some(email)),
    };
    let change = ProfileChange {
        tz: Some(form.tz.trim()),
        date_order: Some(&form.date_order),
        email,
    };
    match state.app.update_profile(user, change).await {
        Ok(_) => {
            // The cached user carries the old profile.
            state.tokens.forget_user(&user.id);
            see_other("/settings")
        }
        Err(e) => refused(&state, &viewer, e).await,
    }
}

/// Ticked boxes arrive as fields; unticked ones do not.
#[derive(Deserialize)]
pub struct ChannelsForm {
    in_app: Option<String>,
    email: Option<String>,
    webhook: Option<String>,
}

/// `POST /settings/reminders`: where fired reminders go.
pub async fn reminder_channels(
    State(state): State<AppState>,
    posted: Posted<ChannelsForm>,
) -> Response {
    let Posted { viewer, form } = posted;
    let channels = ReminderChannels {
        in_app: form.in_app.is_some(),
        email: form.email.is_some(),
        webhook: form.webhook.is_some(),
    };
    match state
        .app
        .set_reminder_channels(viewer.user(), channels)
        .await
    {
        Ok(_) => see_other("/settings"),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

/// `POST /settings/tokens`: a new API token, its secret shown this once.
pub async fn create_token(State(state): State<AppState>, posted: Posted<TokenForm>) -> Response {
    let Posted { viewer, form } = posted;
    match state.app.issue_token(&viewer.user().id, &form.name).await {
        Ok((record, secret)) => {
            let shown = Shown {
                what: format!("API token “{}”", record.name),
                secret,
            };
            answer(
                settings_page(&state, &viewer, Some(shown), None).await,
                StatusCode::CREATED,
            )
        }
        Err(e) => refused(&state, &viewer, e).await,
    }
}

/// `POST /settings/tokens/{id}/revoke`: an API token or a session (this
/// one too: then the next page asks to sign in).
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NoFields>,
) -> Response {
    match revoke(&state, posted.viewer.user(), &id).await {
        Ok(()) => see_other("/settings"),
        Err(e) => PageError::from(e).into_response(),
    }
}

/// `POST /settings/webhooks`: a new endpoint for the ticked events, its
/// signing secret shown this once. (Read as pairs: the events repeat.)
pub async fn create_webhook(
    State(state): State<AppState>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { viewer, form } = posted;
    let url = form
        .iter()
        .find(|(k, _)| k == "url")
        .map_or("", |(_, v)| v.trim());
    let events: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "events")
        .map(|(_, v)| v.clone())
        .collect();
    match state
        .app
        .create_webhook(viewer.user(), url, &events, None)
        .await
    {
        Ok(hook) => {
            let shown = Shown {
                what: format!("the webhook to {}", hook.url),
                secret: hook.secret,
            };
            answer(
                settings_page(&state, &viewer, Some(shown), None).await,
                StatusCode::CREATED,
            )
        }
        Err(e) => refused(&state, &viewer, e).await,
    }
}

/// `POST /settings/webhooks/{id}/delete`
pub async fn delete_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NoFields>,
) -> Response {
    match state.app.delete_webhook(posted.viewer.user(), &id).await {
        Ok(()) => see_other("/settings"),
        Err(e) => PageError::from(e).into_response(),
    }
}
