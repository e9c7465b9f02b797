//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`:
//! the process is not stopping, the database answers, and the event bus
//! has not been failing for long),
//! for load balancers and Kubernetes probes. A process serving the API
//! stays ready through a bus outage, since writes wait in the outbox; one
//! that only consumes is not ready while it cannot reach the bus.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

/// How long the bus may fail before a consuming process reports it.
const BUS_GRACE: Duration = Duration::from_secs(10);

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if state.stopping.load(std::sync::atomic::Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down".into());
    }
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "not ready: database");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable".into(),
        );
    }
    match state.bus.failing_for() {
        Some(d) if d >= BUS_GRACE && !state.config.api_role => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("event bus unavailable for {} s", d.as_secs()),
        ),
        Some(d) if d >= BUS_GRACE => (
            StatusCode::OK,
            format!(
                "ready; event bus unavailable for {} s (writes wait in the outbox)",
                d.as_secs()
            ),
        ),
        _ => (StatusCode::OK, "ready".into()),
    }
}
