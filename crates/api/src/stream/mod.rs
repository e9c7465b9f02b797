//! `GET /api/v1/stream`: the caller's events, live, as a WebSocket or as
//! Server-Sent Events (`Accept: text/event-stream`). Each message is the
//! CloudEvents document; its `usersequence` is the position to resume from
//! with `?after=N` (or SSE's `Last-Event-ID`), within a bounded window. A
//! client too far behind, or resuming on a process that cannot vouch for
//! what came after its position (one that started since), receives a
//! `dueflow.stream.reset` message and should reload its data.

pub mod connections;
pub mod hub;

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{
    CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade, close_code,
};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::IntoParams;

use crate::auth::{self, Caller};
use crate::json::Query;
use crate::problem::ApiError;
use crate::state::AppState;
use hub::{Item, Resume, StreamHub};

pub const RESET: &str = "dueflow.stream.reset";
/// Read buffer and largest accepted message of a WebSocket, in bytes.
const READ_BUFFER: usize = 4096;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// The last `usersequence` seen (0 for none); what came after it is replayed first.
    #[param(minimum = 0)]
    after: Option<i64>,
}

/// Feed one connection: the backlog, then live events, never a number twice
/// or out of order.
async fn pump(hub: &StreamHub, user_id: &str, resume: Option<Resume>, out: mpsc::Sender<Item>) {
    let sub = hub.subscribe(user_id, resume);
    let mut last = resume.map_or(0, |r| r.after);
    if sub.gap {
        let reset = Item {
            seq: 0,
            kind: RESET.into(),
            json: format!(r#"{{"type":"{RESET}","after":{last}}}"#).into(),
        };
        if out.send(reset).await.is_err() {
            return;
        }
    }
    for item in sub.backlog {
        last = item.seq;
        if out.send(item).await.is_err() {
            return;
        }
    }
    let mut live = sub.live;
    loop {
        match live.recv().await {
            Ok(item) if item.seq > last => {
                last = item.seq;
                if out.send(item).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // This connection saw `last` here: only the window's end
                // can be past it.
                let at = Resume {
                    after: last,
                    latest: last,
                };
                let catch_up = hub.subscribe(user_id, Some(at));
                live = catch_up.live;
                for item in catch_up.backlog {
                    last = item.seq;
                    if out.send(item).await.is_err() {
                        return;
                    }
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// One connection's events (WebSocket or Server-Sent Events), counted in
/// `dueflow_live_connections` while it is open; refused past the caps, and
/// ended when the credential it was opened with is revoked or the process
/// shuts down.
fn connection(
    state: &AppState,
    caller: &Caller,
    resume: Option<Resume>,
) -> Result<mpsc::Receiver<Item>, ApiError> {
    let permit = state.streams.open(caller)?;
    state
        .streams
        .watch(state.store.clone(), state.tokens.clone());
    let user_id = caller.user.id.clone();
    let (tx, rx) = mpsc::channel(64);
    let hub = state.hub.clone();
    tokio::spawn(async move {
        metrics::gauge!("dueflow_live_connections").increment(1.0);
        tokio::select! {
            () = pump(&hub, &user_id, resume, tx.clone()) => {}
            () = tx.closed() => {}
            () = permit.revoked() => {}
        }
        metrics::gauge!("dueflow_live_connections").decrement(1.0);
    });
    Ok(rx)
}

async fn websocket(mut socket: WebSocket, mut events: mpsc::Receiver<Item>) {
    loop {
        tokio::select! {
            item = events.recv() => {
                let Some(item) = item else {
                    let _ = socket.send(WsMessage::Close(Some(CloseFrame {
                        code: close_code::POLICY,
                        reason: "the token or session of this stream was revoked, or the server is shutting down".into(),
                    }))).await;
                    break;
                };
                if socket.send(WsMessage::Text(item.json.as_ref().into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[utoipa::path(get, path = "/api/v1/stream", tag = "tasks", operation_id = "open_stream",
    params(StreamParams,
        ("Last-Event-ID" = Option<String>, Header, description = "SSE: the last `usersequence` seen, instead of `after`")),
    responses(
        (status = 101, description = "WebSocket: one CloudEvents JSON document per text message"),
        (status = 200, description = "Server-Sent Events (Accept: text/event-stream): id = usersequence, event = type, data = the CloudEvent", content_type = "text/event-stream"),
        (status = 400, description = "`after` is not a sequence number, or the WebSocket upgrade is malformed"),
        (status = 403, description = "opened with the session cookie from another site's page"),
        (status = 429, description = "the caller's or the server's cap on live streams is reached (the detail says which); see Retry-After"),
    ),
    security(("bearer" = [])))]
pub async fn stream(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (mut parts, _) = req.into_parts();
    let caller = auth::authenticate(&parts, &state, true).await?;
    let Query(p) = Query::<StreamParams>::from_request_parts(&mut parts, &state).await?;
    let last_event_id = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    if p.after.is_some_and(|a| a < 0) {
        return Err(ApiError::invalid(
            "after",
            "after is a usersequence: 0 or more",
        ));
    }
    let resume = match p.after.or(last_event_id) {
        Some(after) => Some(Resume {
            after,
            latest: state.store.event_sequence(&caller.user.id).await?,
        }),
        None => None,
    };
    if parts.headers.contains_key(header::UPGRADE) {
        let ws = WebSocketUpgrade::from_request_parts(&mut parts, &state)
            .await
            .map_err(|e| ApiError::invalid("Upgrade", e.body_text()))?;
        let events = connection(&state, &caller, resume)?;
        // Clients only ever send control frames: small buffers keep ten
        // thousand idle connections cheap (the defaults reserve 128 KiB).
        return Ok(ws
            .read_buffer_size(READ_BUFFER)
            .max_message_size(READ_BUFFER)
            .max_frame_size(READ_BUFFER)
            .on_upgrade(move |socket| websocket(socket, events)));
    }
    let events = ReceiverStream::new(connection(&state, &caller, resume)?).map(|item| {
        let mut e = SseEvent::default()
            .event(item.kind.as_ref())
            .data(item.json.as_ref());
        if item.seq > 0 {
            e = e.id(item.seq.to_string());
        }
        Ok::<_, Infallible>(e)
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
