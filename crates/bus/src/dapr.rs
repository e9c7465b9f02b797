//! Dapr transport: events go out through the sidecar's publish API
//! (`POST /v1.0/publish/{pubsub}/{topic}` with the user id as
//! `metadata.partitionKey`) and come in through Dapr's programmatic
//! subscription: the sidecar reads `GET /dapr/subscribe` and POSTs each
//! event to the route given there.
//!
//! Events are published with `metadata.rawPayload=true`, so the broker
//! holds the CloudEvent exactly as dueflow wrote it — the bytes the Kafka
//! transport writes, so roles on either transport share topics — and a
//! subscription without `rawPayload` receives those bytes unchanged. A
//! delivery may still come in the other forms Dapr documents, and each is
//! read back to the event as its publisher sent it ([`as_published`]):
//! a CloudEvent published through Dapr's own envelope, to which the
//! sidecar adds `topic`, `pubsubname`, `traceid`, `traceparent` and
//! `tracestate`, or the wrapper a `rawPayload` subscription gets, the
//! payload base64-encoded in `data_base64`.
//!
//! The answer follows Dapr's contract —
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
use tokio::sync::Notify;

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

/// Calls to the sidecar's API, with its API token.
struct SidecarApi {
    http: reqwest::Client,
    config: DaprConfig,
}

impl SidecarApi {
    fn new(config: DaprConfig) -> Result<Self, BusError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| BusError::Unavailable(format!("cannot build the Dapr client: {e}")))?;
        Ok(Self { http, config })
    }

    /// A POST to `path` of the sidecar's API.
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.post(format!("{}{path}", self.config.endpoint));
        match &self.config.api_token {
            Some(token) => req.header(TOKEN_HEADER, token),
            None => req,
        }
    }

    /// Send `req`; an error unless the sidecar answers 2xx, saying `doing` what.
    async fn send(req: reqwest::RequestBuilder, doing: &str) -> Result<(), BusError> {
        let res = req
            .send()
            .await
            .map_err(|e| BusError::Unavailable(format!("Dapr sidecar unreachable: {e}")))?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let body = res.text().await.unwrap_or_default();
        let why = format!("Dapr sidecar answered {status} {doing}: {body}");
        // A 4xx other than a refused or unrecognised token (the sidecar's
        // may be rotating) will be refused again.
        Err(
            if status.is_client_error() && status != reqwest::StatusCode::UNAUTHORIZED {
                BusError::Refused(why)
            } else {
                BusError::Unavailable(why)
            },
        )
    }
}

pub struct DaprPublisher(SidecarApi);

impl DaprPublisher {
    pub fn new(config: DaprConfig) -> Result<Self, BusError> {
        SidecarApi::new(config).map(Self)
    }
}

#[async_trait]
impl Publisher for DaprPublisher {
    fn system(&self) -> &'static str {
        "dapr"
    }

    /// One request per message, in order, so one user's events stay in
    /// order. Each carries its event's `traceparent` as a header too, so
    /// that the sidecar's spans join the event's trace.
    async fn publish(&self, messages: &[Message]) -> Result<(), BusError> {
        let c = &self.0.config;
        for m in messages {
            let topic = c.topics.wire(&m.topic);
            let mut req = self
                .0
                .post(&format!("/v1.0/publish/{}/{topic}", c.pubsub))
                .query(&[
                    ("metadata.partitionKey", m.key.as_str()),
                    ("metadata.rawPayload", "true"),
                ])
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/cloudevents+json",
                );
            if let Some(trace) = traceparent(&m.payload) {
                req = req.header("traceparent", trace);
            }
            let req = req.body(m.payload.clone());
            SidecarApi::send(req, &format!("publishing to {topic}")).await?;
        }
        Ok(())
    }
}

/// The `traceparent` of a CloudEvent, when it has one that can be a
/// header's value (one that cannot would fail every retry of the publish).
fn traceparent(payload: &str) -> Option<reqwest::header::HeaderValue> {
    let doc: Value = serde_json::from_str(payload).ok()?;
    reqwest::header::HeaderValue::from_str(doc.get("traceparent")?.as_str()?).ok()
}

const TOKEN_HEADER: &str = "dapr-api-token";

/// Dapr's Jobs API (alpha, as of Dapr 1.16): one-shot jobs that the
/// sidecar's scheduler calls back, `POST /job/{name}` on the app, at their
/// due time, at least once, and then deletes.
pub struct DaprJobs(SidecarApi);

impl DaprJobs {
    pub fn new(config: DaprConfig) -> Result<Self, BusError> {
        SidecarApi::new(config).map(Self)
    }

    /// The job `name`, due at `due_time` (RFC 3339) with `data`, replacing
    /// any job of that name.
    pub async fn schedule(&self, name: &str, due_time: &str, data: Value) -> Result<(), BusError> {
        let req = self
            .0
            .post(&format!("/v1.0-alpha1/jobs/{name}"))
            .json(&json!({ "dueTime": due_time, "data": data, "overwrite": true }));
        SidecarApi::send(req, &format!("scheduling the job {name}")).await
    }
}

struct Routes {
    config: DaprConfig,
    subscriber: Arc<Subscribers>,
    /// Woken by every job the sidecar calls back.
    jobs: Option<Arc<Notify>>,
}

/// `GET /dapr/subscribe` and the event routes it names, and, with `jobs`,
/// the route the sidecar calls when a job falls due, which wakes `jobs`.
pub fn router(
    config: DaprConfig,
    subscriber: Arc<Subscribers>,
    jobs: Option<Arc<Notify>>,
) -> Router {
    Router::new()
        .route("/dapr/subscribe", get(subscriptions))
        .route("/dapr/events/{topic}", post(event))
        .route("/job/{name}", post(job))
        .with_state(Arc::new(Routes {
            config,
            subscriber,
            jobs,
        }))
}

/// A job fell due. Without a timer to wake, a 404: Dapr takes it as done.
async fn job(
    State(r): State<Arc<Routes>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> StatusCode {
    if !r.is_sidecar(&headers) {
        return StatusCode::UNAUTHORIZED;
    }
    match &r.jobs {
        Some(wake) => {
            tracing::debug!(%name, "a Dapr job fell due");
            wake.notify_one();
            StatusCode::OK
        }
        None => StatusCode::NOT_FOUND,
    }
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

/// The fields a sidecar adds to a CloudEvent published through its own
/// envelope; dueflow's events carry none of them but `traceparent`.
const SIDECAR_FIELDS: [&str; 4] = ["topic", "pubsubname", "traceid", "tracestate"];

/// The event as its publisher sent it, from a delivery in any of the forms
/// Dapr documents: as published (a raw-payload publish), a `rawPayload`
/// subscription's wrapper (type `com.dapr.event.sent`, the stored bytes in
/// `data_base64`), and within either the publisher's CloudEvent with the
/// sidecar's fields added, which are taken off again (the `traceparent`
/// the sidecar put in place of the publisher's stays: it is the span of
/// the sidecar's publishing).
fn as_published(body: String) -> Result<(String, Value), String> {
    let doc: Value =
        serde_json::from_str(&body).map_err(|e| format!("the delivery is not JSON: {e}"))?;
    let (body, doc) = if doc.get("type").and_then(Value::as_str) == Some("com.dapr.event.sent")
        && let Some(encoded) = doc.get("data_base64").and_then(Value::as_str)
    {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("data_base64 is not base64: {e}"))?;
        let payload =
            String::from_utf8(raw).map_err(|_| "the raw payload is not UTF-8".to_owned())?;
        let inner = serde_json::from_str(&payload)
            .map_err(|e| format!("the raw payload is not JSON: {e}"))?;
        (payload, inner)
    } else {
        (body, doc)
    };
    match doc {
        Value::Object(mut fields) if SIDECAR_FIELDS.iter().any(|k| fields.contains_key(*k)) => {
            for k in SIDECAR_FIELDS {
                fields.remove(k);
            }
            let doc = Value::Object(fields);
            Ok((doc.to_string(), doc))
        }
        doc => Ok((body, doc)),
    }
}

/// Hand one delivered event to every handler of its topic.
async fn deliver(r: &Routes, topic: String, body: String) -> Json<Value> {
    let (payload, doc) = match as_published(body) {
        Ok(read) => read,
        Err(reason) => {
            tracing::error!(%topic, %reason, "Dapr delivered what is not an event; dropped");
            return status("DROP");
        }
    };
    let text = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let m = Message {
        id: text("id"),
        topic: topic.clone(),
        key: text("partitionkey"),
        payload,
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
    fn a_traceparent_is_sent_only_as_a_valid_header() {
        let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let event = json!({"id": "evt_1", "traceparent": trace}).to_string();
        assert_eq!(traceparent(&event).unwrap(), trace);
        let broken = json!({"id": "evt_1", "traceparent": "00-a\nb"}).to_string();
        assert_eq!(traceparent(&broken), None);
        assert_eq!(traceparent(r#"{"id":"evt_1"}"#), None);
        assert_eq!(traceparent("not json"), None);
    }

    #[test]
    fn every_delivery_form_reads_back_to_the_event_as_published() {
        use base64::Engine;
        let published = r#"{"specversion":"1.0","id":"evt_1","type":"dueflow.task.created.v1","partitionkey":"usr_1","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","data":{"n":1}}"#;
        let (as_is, _) = as_published(published.to_owned()).unwrap();
        assert_eq!(as_is, published, "unchanged bytes stay unchanged");

        let wrapped = json!({
            "id": "6f0c…", "specversion": "1.0", "datacontenttype": "application/octet-stream",
            "source": "Dapr", "type": "com.dapr.event.sent", "topic": "task-events",
            "pubsubname": "dueflow-pubsub",
            "data_base64": base64::engine::general_purpose::STANDARD.encode(published),
        });
        let (unwrapped, _) = as_published(wrapped.to_string()).unwrap();
        assert_eq!(unwrapped, published, "the raw payload, byte for byte");

        let mut enriched: Value = serde_json::from_str(published).unwrap();
        let sidecar_span = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01";
        for (k, v) in [
            ("topic", "task-events"),
            ("pubsubname", "dueflow-pubsub"),
            ("traceid", sidecar_span),
            ("traceparent", sidecar_span),
            ("tracestate", ""),
        ] {
            enriched[k] = json!(v);
        }
        let (_, read) = as_published(enriched.to_string()).unwrap();
        let mut want: Value = serde_json::from_str(published).unwrap();
        want["traceparent"] = json!(sidecar_span);
        assert_eq!(read, want);

        for bad in [
            "not json",
            r#"{"type":"com.dapr.event.sent","data_base64":"%%%"}"#,
            r#"{"type":"com.dapr.event.sent","data_base64":"bm90IGpzb24="}"#,
        ] {
            assert!(as_published(bad.to_owned()).is_err(), "{bad}");
        }
    }

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
