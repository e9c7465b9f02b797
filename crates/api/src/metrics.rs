//! Prometheus metrics: request counts and latency histograms by route
//! template and status, rendered at `/metrics`. One recorder per process.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Reminder lateness: fine around the one-second promise, coarse beyond
/// (reminders missed while no scheduler ran can be hours late).
const LATENESS_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 60.0, 600.0,
    3600.0,
];

/// The process-wide recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("buckets are valid")
            .set_buckets_for_metric(
                Matcher::Full("dueflow_reminder_lateness_seconds".into()),
                LATENESS_BUCKETS,
            )
            .expect("buckets are valid")
            .install_recorder()
            .expect("no other metrics recorder is installed")
    })
}

/// The method as a label: the standard methods by name, any other as
/// `other`, so made-up methods add no series.
fn method_label(m: &Method) -> String {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    if KNOWN.contains(m) {
        m.as_str().to_owned()
    } else {
        "other".to_owned()
    }
}

/// Records every request under its route template (never the raw path, so
/// ids do not explode the label set; paths no route matches are
/// `unmatched`) and its method (made-up ones as `other`).
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}

/// The exposition, with `dueflow_bus_up` read from the bus health at the
/// scrape (so it is right however early in the process the bus failed).
pub async fn render(State(state): State<AppState>) -> String {
    let up = if state.bus.failing_for().is_some() {
        0.0
    } else {
        1.0
    };
    metrics::gauge!("dueflow_bus_up").set(up);
    handle().render()
}
