//! A stand-in for an OpenTelemetry Collector's OTLP/HTTP receiver, the one
//! place the tests play it: `POST /v1/traces` takes an
//! `ExportTraceServiceRequest` in protobuf and answers with an empty
//! `ExportTraceServiceResponse`, as the OTLP specification has it; the
//! spans are kept for the test to read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;

/// One span as the collector received it; ids in lowercase hex.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub trace_id: String,
    pub span_id: String,
    /// Empty for the first span of a trace.
    pub parent_span_id: String,
    pub name: String,
    /// OTLP's `SpanKind`: 1 internal, 2 server, 4 producer, 5 consumer.
    pub kind: i32,
    pub attributes: HashMap<String, String>,
    /// The exporting process's resource attributes.
    pub resource: HashMap<String, String>,
}

pub const INTERNAL: i32 = 1;
pub const SERVER: i32 = 2;
pub const PRODUCER: i32 = 4;
pub const CONSUMER: i32 = 5;

#[derive(Clone)]
pub struct Collector {
    pub endpoint: String,
    spans: Arc<Mutex<Vec<Recorded>>>,
}

fn text(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn map(kvs: &[KeyValue]) -> HashMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn export(
    State(spans): State<Arc<Mutex<Vec<Recorded>>>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], Vec<u8>) {
    let protobuf = [("content-type", "application/x-protobuf")];
    if headers.get("content-type").map(|v| v.as_bytes()) != Some(b"application/x-protobuf") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, protobuf, Vec::new());
    }
    let Ok(req) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, protobuf, Vec::new());
    };
    let mut kept = spans.lock().unwrap();
    for rs in req.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map(|r| map(&r.attributes))
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for s in ss.spans {
                kept.push(Recorded {
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    name: s.name,
                    kind: s.kind,
                    attributes: map(&s.attributes),
                    resource: resource.clone(),
                });
            }
        }
    }
    (
        StatusCode::OK,
        protobuf,
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
}

impl Collector {
    pub async fn start() -> Collector {
        let spans: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let router = Router::new()
            .route("/v1/traces", axum::routing::post(export))
            .with_state(spans.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Collector { endpoint, spans }
    }

    /// Every span received so far.
    pub fn all(&self) -> Vec<Recorded> {
        self.spans.lock().unwrap().clone()
    }

    /// The spans of `trace_id` once `done` holds for them.
    pub async fn trace_when(
        &self,
        trace_id: &str,
        within: Duration,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        let deadline = Instant::now() + within;
        loop {
            let spans: Vec<Recorded> = self
                .all()
                .into_iter()
                .filter(|s| s.trace_id == trace_id)
                .collect();
            if done(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "trace {trace_id} incomplete: {spans:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
