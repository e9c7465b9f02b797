//! A stand-in for a Dapr sidecar, the one place the tests play Dapr's
//! part, following Dapr's published HTTP contract (1.16):
//! - publish, `POST /v1.0/publish/{pubsub}/{topic}`: with
//!   `metadata.rawPayload=true` the broker keeps the body as sent;
//!   otherwise a CloudEvent body is enriched as Dapr's `FromCloudEvent`
//!   does (`topic` and `pubsubname` set, `traceid` and `traceparent` set
//!   to the sidecar's span when the event has no `traceid`, `tracestate`
//!   when it has none);
//! - delivery to the routes of the app's `GET /dapr/subscribe`, in order:
//!   the stored bytes as they are, or, for a subscription with
//!   `rawPayload`, Dapr's `FromRawPayload` wrapper (`com.dapr.event.sent`,
//!   the bytes in `data_base64`); `content-type:
//!   application/cloudevents+json`, the `pubsubname` and `traceparent`
//!   headers and the app token; a 2xx answer of `SUCCESS` (or an empty or
//!   unreadable one) or `DROP` settles it, a 404 drops it, anything else
//!   is delivered again;
//! - secrets, `GET /v1.0/secrets/{store}/{name}`: the secret's map of keys
//!   to values; an unknown store is a 401 `ERR_SECRET_STORE_NOT_FOUND`, a
//!   missing secret a 500 `ERR_SECRET_GET` (as the `local.file` store has
//!   it), each with Dapr's `{"errorCode", "message"}` body;
//! - jobs (alpha), `POST /v1.0-alpha1/jobs/{name}` with `dueTime` (RFC
//!   3339), `data` and `overwrite`: 204; a name that exists without
//!   `overwrite` is a 409. At its due time the sidecar calls the app,
//!   `POST /job/{name}` with the data as the JSON body; a 2xx or a 404 is
//!   done and the job deleted, anything else is called again after 1 s, up
//!   to 3 times (Dapr's default failure policy);
//! - Dapr's API tokens both ways: every API call must carry
//!   [`SIDECAR_TOKEN`] (else 401 `invalid api token`), deliveries carry
//!   [`APP_TOKEN`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Dapr's API tokens: the app sends `SIDECAR_TOKEN`, the sidecar `APP_TOKEN`.
pub const SIDECAR_TOKEN: &str = "sidecar-secret";
pub const APP_TOKEN: &str = "app-secret";

/// One publish, as the sidecar received it.
#[derive(Clone, Debug)]
pub struct Published {
    pub pubsub: String,
    pub topic: String,
    pub partition_key: String,
    pub content_type: String,
    pub raw_payload: bool,
    /// The request's `traceparent` header.
    pub traceparent: Option<String>,
    /// The request's body: what the app published.
    pub body: String,
}

/// How the stand-in treats the app's subscriptions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Subscriptions {
    /// As the app declares them.
    AsDeclared,
    /// Each with `rawPayload`, as a declarative Subscription may set it.
    Raw,
}

/// Secret stores: store → secret name → keys and values.
type Stores = HashMap<String, HashMap<String, BTreeMap<String, String>>>;

/// One job as the app scheduled it.
#[derive(Clone, Debug)]
pub struct Job {
    pub name: String,
    pub due: chrono::DateTime<chrono::Utc>,
    pub data: Value,
}

#[derive(Default)]
struct Jobs {
    /// Pending jobs by name, with the generation that replaced the last.
    pending: HashMap<String, (u64, Job)>,
    generation: u64,
    scheduled: Vec<Job>,
    /// (name, when) of every call to the app.
    called: Vec<(String, chrono::DateTime<chrono::Utc>)>,
}

#[derive(Clone)]
pub struct Sidecar {
    pub port: u16,
    app: String,
    published: Arc<Mutex<Vec<Published>>>,
    deliver: mpsc::UnboundedSender<(String, String)>,
    stores: Arc<Mutex<Stores>>,
    jobs: Arc<Mutex<Jobs>>,
}

impl Sidecar {
    /// A sidecar delivering to the app at `app_port`.
    pub async fn start(app_port: u16, subscriptions: Subscriptions) -> Sidecar {
        let (tx, rx) = mpsc::unbounded_channel();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let s = Sidecar {
            port: listener.local_addr().unwrap().port(),
            app: format!("http://127.0.0.1:{app_port}"),
            published: Arc::default(),
            deliver: tx,
            stores: Arc::default(),
            jobs: Arc::default(),
        };
        let router = Router::new()
            .route(
                "/v1.0/publish/{pubsub}/{topic}",
                axum::routing::post(publish),
            )
            .route("/v1.0/secrets/{store}/{name}", axum::routing::get(secret))
            .route(
                "/v1.0-alpha1/jobs/{name}",
                axum::routing::post(schedule_job),
            )
            .with_state(s.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        tokio::spawn(delivery(
            format!("http://127.0.0.1:{app_port}"),
            subscriptions,
            rx,
        ));
        s
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment of an app on the Dapr bus over this sidecar, with
    /// its data in `dir` and both API tokens.
    pub fn app_env(&self, dir: &std::path::Path) -> Vec<(&'static str, String)> {
        vec![
            ("DUEFLOW_DATA_DIR", dir.join("data").display().to_string()),
            ("DUEFLOW_BUS", "dapr".to_owned()),
            ("DUEFLOW_DAPR_HTTP_ENDPOINT", self.endpoint()),
            ("DUEFLOW_DAPR_API_TOKEN", SIDECAR_TOKEN.to_owned()),
            ("DUEFLOW_DAPR_APP_TOKEN", APP_TOKEN.to_owned()),
        ]
    }

    pub fn published(&self) -> Vec<Published> {
        self.published.lock().unwrap().clone()
    }

    /// Every job the app scheduled, in order.
    pub fn jobs_scheduled(&self) -> Vec<Job> {
        self.jobs.lock().unwrap().scheduled.clone()
    }

    /// (name, when) of every call the sidecar made to the app for a job.
    pub fn jobs_called(&self) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
        self.jobs.lock().unwrap().called.clone()
    }

    /// Keep `values` as the secret `name` of the secret store `store`.
    pub fn keep_secret(&self, store: &str, name: &str, values: &[(&str, &str)]) {
        self.stores
            .lock()
            .unwrap()
            .entry(store.to_owned())
            .or_default()
            .insert(
                name.to_owned(),
                values
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            );
    }
}

async fn schedule_job(
    State(s): State<Sidecar>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    if !authorised(&headers) {
        return (StatusCode::UNAUTHORIZED, "invalid api token".into());
    }
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return dapr_error(
            StatusCode::BAD_REQUEST,
            "ERR_MALFORMED_REQUEST",
            "the body is not JSON".into(),
        );
    };
    let Some(due) = req["dueTime"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    else {
        return dapr_error(
            StatusCode::BAD_REQUEST,
            "ERR_MALFORMED_REQUEST",
            format!("dueTime is not an RFC 3339 time: {}", req["dueTime"]),
        );
    };
    let job = Job {
        name: name.clone(),
        due: due.with_timezone(&chrono::Utc),
        data: req["data"].clone(),
    };
    let generation = {
        let mut jobs = s.jobs.lock().unwrap();
        if jobs.pending.contains_key(&name) && req["overwrite"] != true {
            return dapr_error(
                StatusCode::CONFLICT,
                "DAPR_SCHEDULER_SCHEDULE_JOB",
                format!("job {name} already exists"),
            );
        }
        jobs.generation += 1;
        let generation = jobs.generation;
        jobs.pending.insert(name.clone(), (generation, job.clone()));
        jobs.scheduled.push(job.clone());
        generation
    };
    tokio::spawn(fire_job(s.clone(), job, generation));
    (StatusCode::NO_CONTENT, String::new())
}

/// Call the app when `job` falls due, unless a later one replaced it.
async fn fire_job(s: Sidecar, job: Job, generation: u64) {
    let wait = (job.due - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
    let http = reqwest::Client::new();
    for _attempt in 0..4 {
        {
            let mut jobs = s.jobs.lock().unwrap();
            if jobs.pending.get(&job.name).map(|(g, _)| *g) != Some(generation) {
                return;
            }
            jobs.called.push((job.name.clone(), chrono::Utc::now()));
        }
        let res = http
            .post(format!("{}/job/{}", s.app, job.name))
            .header("dapr-api-token", APP_TOKEN)
            .header("content-type", "application/json")
            .body(job.data.to_string())
            .send()
            .await;
        let done =
            res.is_ok_and(|r| r.status().is_success() || r.status() == StatusCode::NOT_FOUND);
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut jobs = s.jobs.lock().unwrap();
    if jobs.pending.get(&job.name).map(|(g, _)| *g) == Some(generation) {
        jobs.pending.remove(&job.name);
    }
}

/// Whether a call to the sidecar's API carries its token.
fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get("dapr-api-token")
        .is_some_and(|t| t == SIDECAR_TOKEN)
}

fn dapr_error(status: StatusCode, code: &str, message: String) -> (StatusCode, String) {
    (
        status,
        json!({"errorCode": code, "message": message}).to_string(),
    )
}

async fn secret(
    State(s): State<Sidecar>,
    Path((store, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    if !authorised(&headers) {
        return (StatusCode::UNAUTHORIZED, "invalid api token".into());
    }
    let stores = s.stores.lock().unwrap();
    let Some(secrets) = stores.get(&store) else {
        return dapr_error(
            StatusCode::UNAUTHORIZED,
            "ERR_SECRET_STORE_NOT_FOUND",
            format!("failed finding secret store with key {store}"),
        );
    };
    match secrets.get(&name) {
        Some(values) => (StatusCode::OK, json!(values).to_string()),
        None => dapr_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_SECRET_GET",
            format!(
                "failed getting secret with key {name} from secret store {store}: \
                 secret {name} not found"
            ),
        ),
    }
}

/// A span id of the sidecar's own in the trace `traceparent` names, or in
/// a new one.
fn sidecar_span(traceparent: Option<&str>) -> String {
    let trace = traceparent.and_then(|t| t.split('-').nth(1)).map_or_else(
        || format!("{:032x}", uuid::Uuid::new_v4().as_u128()),
        str::to_owned,
    );
    let span = uuid::Uuid::new_v4().as_u64_pair().0 | 1;
    format!("00-{trace}-{span:016x}-01")
}

/// Dapr's `FromCloudEvent`: the CloudEvent as the broker stores it.
fn enriched(body: &str, topic: &str, pubsub: &str, span: &str) -> Option<String> {
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    if !m.contains_key("traceid") {
        m.insert("traceid".into(), json!(span));
        m.insert("traceparent".into(), json!(span));
    }
    m.entry("tracestate").or_insert(json!(""));
    m.insert("topic".into(), json!(topic));
    m.insert("pubsubname".into(), json!(pubsub));
    Some(Value::Object(m).to_string())
}

/// Dapr's `FromRawPayload`: what a `rawPayload` subscription receives.
pub fn raw_payload_wrapper(stored: &str, topic: &str, pubsub: &str) -> String {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "specversion": "1.0",
        "datacontenttype": "application/octet-stream",
        "source": "Dapr",
        "type": "com.dapr.event.sent",
        "topic": topic,
        "pubsubname": pubsub,
        "data_base64": base64::engine::general_purpose::STANDARD.encode(stored),
    })
    .to_string()
}

async fn publish(
    State(s): State<Sidecar>,
    Path((pubsub, topic)): Path<(String, String)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    if !authorised(&headers) {
        return (StatusCode::UNAUTHORIZED, "invalid api token".into());
    }
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let raw_payload = q
        .get("metadata.rawPayload")
        .is_some_and(|v| v.parse::<bool>() == Ok(true));
    let content_type = header("content-type").unwrap_or_default();
    let stored = if raw_payload {
        body.clone()
    } else {
        let span = sidecar_span(header("traceparent").as_deref());
        match enriched(&body, &topic, &pubsub, &span) {
            Some(e) => e,
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    json!({"errorCode": "ERR_PUBSUB_CLOUD_EVENTS_SER"}).to_string(),
                );
            }
        }
    };
    s.published.lock().unwrap().push(Published {
        pubsub: pubsub.clone(),
        topic: topic.clone(),
        partition_key: q.get("metadata.partitionKey").cloned().unwrap_or_default(),
        content_type,
        raw_payload,
        traceparent: header("traceparent"),
        body,
    });
    s.deliver.send((topic, stored)).unwrap();
    (StatusCode::NO_CONTENT, String::new())
}

/// Whether the app's answer settles a delivery, as Dapr reads it.
fn settled(status: StatusCode, body: &str) -> bool {
    if status == StatusCode::NOT_FOUND {
        return true;
    }
    if !status.is_success() {
        return false;
    }
    match serde_json::from_str::<Value>(body) {
        Ok(v) => matches!(v["status"].as_str().unwrap_or(""), "" | "SUCCESS" | "DROP"),
        Err(_) => true,
    }
}

/// Deliver stored events to the app in order, as Dapr would.
async fn delivery(
    app: String,
    subscriptions: Subscriptions,
    mut queue: mpsc::UnboundedReceiver<(String, String)>,
) {
    let http = reqwest::Client::new();
    let subs: Value = loop {
        let asked = http
            .get(format!("{app}/dapr/subscribe"))
            .header("dapr-api-token", APP_TOKEN)
            .send()
            .await;
        if let Ok(r) = asked {
            break r.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    while let Some((topic, stored)) = queue.recv().await {
        let Some(sub) = subs
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["topic"] == topic.as_str())
        else {
            continue; // nobody subscribed to this topic
        };
        let route = sub["route"].as_str().unwrap();
        let pubsub = sub["pubsubname"].as_str().unwrap();
        let raw = subscriptions == Subscriptions::Raw
            || sub["metadata"]["rawPayload"].as_str() == Some("true");
        let body = if raw {
            raw_payload_wrapper(&stored, &topic, pubsub)
        } else if serde_json::from_str::<serde_json::Map<String, Value>>(&stored).is_ok() {
            stored
        } else {
            continue; // not a CloudEvent: Dapr dead-letters it
        };
        let traceparent = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["traceparent"].as_str().map(str::to_owned));
        loop {
            let res = http
                .post(format!("{app}{route}"))
                .header("dapr-api-token", APP_TOKEN)
                .header("content-type", "application/cloudevents+json")
                .header("pubsubname", pubsub)
                .header("traceparent", sidecar_span(traceparent.as_deref()))
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = res.status();
            if settled(status, &res.text().await.unwrap()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
