//! A stand-in for an OpenAI-compatible Chat Completions API, the one place
//! the tests play the model: `POST /v1/chat/completions` answers with what
//! the test's script makes of each request (tool calls, a text, a delay or
//! an error status), in the published response shape, and keeps every
//! request for the test to read.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the model does with one request.
pub enum Step {
    /// Ask for these tool calls: (name, arguments).
    Call(Vec<(&'static str, Value)>),
    /// Answer in words.
    Say(&'static str),
    /// Answer after this long.
    Stall(Duration),
    /// Answer with this HTTP status.
    Fail(u16),
}

/// Makes the next step from the request body (its `messages`).
pub type Script = Arc<dyn Fn(&Value) -> Step + Send + Sync>;

#[derive(Clone)]
struct Model {
    script: Script,
    seen: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

pub struct StandIn {
    /// The base URL, as `assistant_url` takes it.
    pub url: String,
    seen: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl StandIn {
    pub async fn start(script: Script) -> StandIn {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let model = Model {
            script,
            seen: seen.clone(),
        };
        let router = axum::Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(model);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        StandIn { url, seen }
    }

    /// The requests received so far, with their headers.
    pub fn requests(&self) -> Vec<(HeaderMap, Value)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn complete(State(m): State<Model>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    m.seen.lock().unwrap().push((headers, body.clone()));
    let message = match (m.script)(&body) {
        Step::Call(calls) => json!({
            "role": "assistant",
            "content": null,
            "tool_calls": calls.iter().enumerate().map(|(i, (name, args))| json!({
                "id": format!("call_{i}"),
                "type": "function",
                "function": { "name": name, "arguments": args.to_string() },
            })).collect::<Vec<_>>(),
        }),
        Step::Say(text) => json!({ "role": "assistant", "content": text }),
        Step::Stall(d) => {
            tokio::time::sleep(d).await;
            json!({ "role": "assistant", "content": "too late" })
        }
        Step::Fail(status) => {
            return (StatusCode::from_u16(status).unwrap(), "model overloaded").into_response();
        }
    };
    Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
    }))
    .into_response()
}

/// The content of the last `tool` message of a request, as JSON.
pub fn last_tool_result(body: &Value) -> Value {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "tool"))
        .and_then(|m| m["content"].as_str())
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(Value::Null)
}

/// The last message the user wrote in a request.
pub fn last_user_message(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned()
}

/// Whether the request's last message is a tool result (the model's
/// second step of a call).
pub fn after_tool(body: &Value) -> bool {
    body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .is_some_and(|m| m["role"] == "tool")
}
