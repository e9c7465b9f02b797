//! Traces for operators. With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, each HTTP request, each event
//! the relay publishes and each event a role handles becomes a span,
//! exported over OTLP (HTTP and protobuf) to a collector. The spans carry
//! the ids dueflow already puts in every event's `traceparent`, so one
//! trace follows a request through the outbox and the broker to every
//! role, in every process, and the trace id in a log line is the one the
//! collector shows. Without an endpoint nothing is recorded and a span
//! costs nothing.
//!
//! The OpenTelemetry SDK chooses span ids itself; [`Chosen`] hands it the
//! ids dueflow chose, on the thread that starts the span.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;

use dueflow_domain::trace::TraceParent;
use opentelemetry::trace::{
    SpanContext, SpanId, Status, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SdkTracer, SdkTracerProvider};

pub use opentelemetry::trace::SpanKind;
pub use opentelemetry::{Key, Value};

static TRACER: OnceLock<SdkTracer> = OnceLock::new();

/// The exporter of this process, from `init`; shut it down at exit so the
/// last spans are sent.
pub struct Telemetry(SdkTracerProvider);

impl Telemetry {
    /// Export spans when the environment names an OTLP endpoint (the
    /// standard `OTEL_*` variables: endpoint, headers, timeout,
    /// `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`);
    /// `None` when it does not. `roles` is recorded on every span.
    pub fn from_env(roles: &str) -> Result<Option<Telemetry>, String> {
        let endpoint = [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ]
        .into_iter()
        .find_map(|k| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (k, v))
        });
        let Some((name, endpoint)) = endpoint else {
            return Ok(None);
        };
        if !endpoint.starts_with("http://") {
            return Err(format!(
                "{name} = '{endpoint}': traces are sent over plain http to an OpenTelemetry \
                 Collector (e.g. http://otel-collector:4318), which forwards them on with TLS"
            ));
        }
        let protocol = std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .unwrap_or_default();
        if !matches!(protocol.as_str(), "" | "http/protobuf") {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_PROTOCOL = '{protocol}': dueflow exports traces as \
                 http/protobuf"
            ));
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| format!("cannot export traces to {endpoint}: {e}"))?;
        let mut resource = Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("dueflow");
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_id_generator(Chosen)
            .with_resource(
                resource
                    .with_attributes([
                        KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
                        KeyValue::new("dueflow.roles", roles.to_owned()),
                    ])
                    .build(),
            )
            .build();
        let _ = TRACER.set(provider.tracer("dueflow"));
        Ok(Some(Telemetry(provider)))
    }

    /// Send what is buffered and stop.
    pub fn shutdown(self) {
        if let Err(e) = self.0.shutdown() {
            eprintln!("warning: the last traces were not all sent: {e}");
        }
    }
}

/// Whether spans are recorded in this process.
pub fn enabled() -> bool {
    TRACER.get().is_some()
}

thread_local! {
    /// The ids of the span being started on this thread.
    static NEXT: Cell<Option<TraceParent>> = const { Cell::new(None) };
}

/// Gives the SDK the ids dueflow chose for the span being started, or
/// random ones when it starts a span of its own.
#[derive(Debug)]
struct Chosen;

impl IdGenerator for Chosen {
    fn new_trace_id(&self) -> TraceId {
        NEXT.with(Cell::get).map_or_else(
            || RandomIdGenerator::default().new_trace_id(),
            |t| TraceId::from(t.trace_id),
        )
    }

    fn new_span_id(&self) -> SpanId {
        NEXT.with(Cell::get).map_or_else(
            || RandomIdGenerator::default().new_span_id(),
            |t| SpanId::from(t.span_id),
        )
    }
}

/// One unit of work, exported when it is dropped (nothing when spans are
/// not recorded).
pub struct Span(Option<opentelemetry_sdk::trace::Span>);

impl Span {
    /// No span: nothing to record.
    pub fn none() -> Span {
        Span(None)
    }

    /// The span `me`, caused by `parent` (another process's span, or this
    /// one's), or the first of its trace.
    pub fn start(
        kind: SpanKind,
        name: impl Into<Cow<'static, str>>,
        me: TraceParent,
        parent: Option<TraceParent>,
    ) -> Span {
        let Some(tracer) = TRACER.get() else {
            return Span(None);
        };
        // The SDK takes a child's trace id from its parent.
        debug_assert!(parent.is_none_or(|p| p.trace_id == me.trace_id));
        let parent_cx = parent.map_or_else(Context::new, |p| {
            Context::new().with_remote_span_context(SpanContext::new(
                TraceId::from(p.trace_id),
                SpanId::from(p.span_id),
                TraceFlags::new(p.flags),
                true,
                TraceState::default(),
            ))
        });
        NEXT.with(|n| n.set(Some(me)));
        let span = tracer
            .span_builder(name)
            .with_kind(kind)
            .start_with_context(tracer, &parent_cx);
        NEXT.with(|n| n.set(None));
        Span(Some(span))
    }

    /// Whether the sampler kept this span; `None` when spans are not recorded.
    pub fn sampled(&self) -> Option<bool> {
        use opentelemetry::trace::Span as _;
        self.0.as_ref().map(|s| s.span_context().is_sampled())
    }

    pub fn set(&mut self, key: &'static str, value: impl Into<Value>) {
        use opentelemetry::trace::Span as _;
        if let Some(s) = &mut self.0 {
            s.set_attribute(KeyValue::new(key, value));
        }
    }

    /// Mark the work as failed, saying why.
    pub fn fail(&mut self, reason: impl Into<Cow<'static, str>>) {
        use opentelemetry::trace::Span as _;
        if let Some(s) = &mut self.0 {
            s.set_status(Status::error(reason));
        }
    }
}
