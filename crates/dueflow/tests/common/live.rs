//! WebSocket clients of `GET /api/v1/stream` for the live-stream tests.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A stream client of the server at `base` (`http://host:port`), resuming
/// after `after` if given.
pub async fn connect(base: &str, token: &str, after: Option<i64>) -> Ws {
    let mut url = format!("{}/api/v1/stream", base.replace("http://", "ws://"));
    if let Some(a) = after {
        url.push_str(&format!("?after={a}"));
    }
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket")
        .0
}

/// The next event on `ws`, or `None` after `wait`.
pub async fn next(ws: &mut Ws, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}
