//! Dapr transport: events go out through the sidecar's publish API
//! (`POST /v1.0/publish/{pubsub}/{topic}`, the CloudEvent as is, with
//! `content-type: application/cloudevents+json` and the user id as
//! `metadata.partitionKey`) and come in through Dapr's programmatic
//! subscription: the sidecar reads `GET /dapr/subscribe` and POSTs each
//! event to the route given there, and the answer follows Dapr's contract —
//! `SUCCESS` (handled), `RETRY` (a passing failure: deliver again) or
//! `DROP` (it can never be handled: Dapr dead-letters it when the
//! component has a dead-letter topic). Within one app id Dapr delivers
//! each event to one replica: consumer groups are app ids. With Dapr's API
//! tokens configured, requests to the sidecar carry `dapr-api-token` and
//! only requests carrying the app token are taken as deliveries; without
//! an app token these routes are served only on a loopback listener of
//! their own, never beside the public API.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::subscribers::Subscribers;
use crate::{BusError, HandlerError, Message, Publisher, TopicNames};

#[derive(Clone)]
pub struct DaprConfig {
    /// The sidecar's HTTP API, e.g. `http://127.0.0.1:3500`.
    pub endpoint: String,
    /// Name of the Dapr pub/sub component.
    pub pubsub: String,
    /// The topics' names on the broker.
    pub topics: TopicNames,
    /// Sent to the sidecar as `dapr-api-token` (Dapr's `DAPR_API_TOKEN`).
    pub api_token: Option<String>,
    /// Required from the sidecar as `dapr-api-token` (Dapr's `APP_API_TOKEN`).
    pub app_token: Option<String>,
}

/// Shows whether the tokens are set, never their values.
impl std::fmt::Debug for DaprConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |t: &Option<String>| if t.is_some() { "***" } else { "none" };
        f.debug_struct("DaprConfig")
            .field("endpoint", &self.endpoint)
            .field("pubsub", &self.pubsub)
            .field("topics", &self.topics)
            .field("api_token", &set(&self.api_token))
            .field("app_token", &set(&self.app_token))
            .finish()
    }
}

pub struct DaprPublisher {
    http: reqwest::Client,
    config: DaprConfig,
}

impl DaprPublisher {
    pub fn new(config: DaprConfig) -> Result<Self, BusError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| BusError::Unavailable(format!("cannot build the Dapr client: {e}")))?;
        Ok(Self { http, config })
    }
}

#[async_trait]
impl Publisher for DaprPublisher {
    /// One request per message, in order, so one user's events stay in order.
    async fn publish(&self, messages: &[Message]) -> Result<(), BusError> {
        let c = &self.config;
        for m in messages {
            let topic = c.topics.wire(&m.topic);
            let mut req = self
                .http
                .post(format!("{}/v1.0/publish/{}/{topic}", c.endpoint, c.pubsub));
            if let Some(token) = &c.api_token {
                req = req.header(TOKEN_HEADER, token);
            }
            let res = req
                .query(&[("metadata.partitionKey", m.key.as_str())])
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/cloudevents+json",
                )
                .body(m.payload.clone())
                .send()
                .await
                .map_err(|e| BusError::Unavailable(format!("Dapr sidecar unreachable: {e}")))?;
            if !res.status().is_success() {
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                return Err(BusError::Unavailable(format!(
                    "Dapr sidecar answered {status} publishing to {topic}: {body}"
                )));
            }
        }
        Ok(())
    }
}

const TOKEN_HEADER: &str = "dapr-api-token";

struct Routes {
    config: DaprConfig,
    subscriber: Arc<Subscribers>,
}

/// `GET /dapr/subscribe` and the event routes it names.
pub fn router(config: DaprConfig, subscriber: Arc<Subscribers>) -> Router {
    Router::new()
        .route("/dapr/subscribe", get(subscriptions))
        .route("/dapr/events/{topic}", post(event))
        .with_state(Arc::new(Routes { config, subscriber }))
}

impl Routes {
    /// Whether a request comes from the sidecar: it carries the app token
    /// (compared in constant time), or, without one, the routes are served
    /// only on a loopback listener of their own (the configuration ensures it).
    fn is_sidecar(&self, headers: &HeaderMap) -> bool {
        let Some(want) = &self.config.app_token else {
            return true;
        };
        let got = headers
            .get(TOKEN_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        got.ct_eq(want.as_bytes()).into()
    }
}

async fn subscriptions(
    State(r): State<Arc<Routes>>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    if !r.is_sidecar(&headers) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let list: Vec<Value> = r
        .subscriber
        .topics()
        .into_iter()
        .map(|t| {
            json!({
                "pubsubname": r.config.pubsub,
                "topic": r.config.topics.wire(&t),
                "route": format!("/dapr/events/{t}"),
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

fn status(s: &str) -> Json<Value> {
    Json(json!({ "status": s }))
}

async fn event(
    State(r): State<Arc<Routes>>,
    Path(topic): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Result<Json<Value>, StatusCode> {
    if !r.is_sidecar(&headers) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    Ok(deliver(&r, topic, body).await)
}

/// Hand one delivered event to every handler of its topic.
async fn deliver(r: &Routes, topic: String, body: String) -> Json<Value> {
    let Ok(doc) = serde_json::from_str::<Value>(&body) else {
        tracing::error!(%topic, "Dapr delivered an event that is not JSON; dropped");
        return status("DROP");
    };
    let text = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let m = Message {
        id: text("id"),
        topic: topic.clone(),
        key: text("partitionkey"),
        payload: body,
    };
    for (group, handler) in r.subscriber.handlers(&topic) {
        match handler.handle(&m).await {
            Ok(()) => {
                metrics::counter!("dueflow_consumed_total", "topic" => topic.clone(), "group" => group)
                    .increment(1);
            }
            Err(HandlerError::Retry(reason)) => {
                metrics::counter!("dueflow_consume_failures_total", "topic" => topic.clone(), "group" => group.clone())
                    .increment(1);
                tracing::warn!(%group, id = %m.id, %reason, "handler failed; Dapr will retry");
                return status("RETRY");
            }
            Err(HandlerError::Reject(reason)) => {
                metrics::counter!("dueflow_dead_letters_total", "topic" => topic.clone())
                    .increment(1);
                tracing::error!(%group, id = %m.id, %reason, "event dropped");
                return status("DROP");
            }
        }
    }
    status("SUCCESS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_tokens() {
        let c = DaprConfig {
            endpoint: "http://127.0.0.1:3500".into(),
            pubsub: "p".into(),
            topics: TopicNames::default(),
            api_token: Some("sidecar-secret".into()),
            app_token: Some("app-secret".into()),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("127.0.0.1:3500"), "{shown}");
    }
}
