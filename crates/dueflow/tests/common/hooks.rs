//! A webhook receiver for tests: an HTTP server on loopback that keeps
//! every request it gets (task id, arrival, `webhook-id`, body), and can
//! be made to answer slowly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Hit {
    pub task: String,
    pub arrived: DateTime<Utc>,
    pub webhook_id: String,
    pub body: Value,
}

pub type Received = Arc<Mutex<Vec<Hit>>>;

#[derive(Clone)]
struct Receiver {
    got: Received,
    /// How long it takes to answer, after keeping the request.
    answer_after: Duration,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let arrived = Utc::now();
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let task = body["data"]["task"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let webhook_id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    r.got.lock().unwrap().push(Hit {
        task,
        arrived,
        webhook_id,
        body,
    });
    tokio::time::sleep(r.answer_after).await;
    StatusCode::NO_CONTENT
}

/// Start a receiver; what it gets, and its URL.
pub async fn receiver() -> (Received, String) {
    receiver_answering_after(Duration::ZERO).await
}

/// Start a receiver that answers each request `answer_after` it came.
pub async fn receiver_answering_after(answer_after: Duration) -> (Received, String) {
    let got = Received::default();
    let app = Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(Receiver {
            got: got.clone(),
            answer_after,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (got, url)
}
