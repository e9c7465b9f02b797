//! The roles that run beside the API: the outbox relay that publishes
//! committed events, and the consumers that react to them (the audit log
//! so far). [`spawn_embedded`] wires them over the in-process bus for
//! `dueflow serve`; each role only sees the store and the bus traits.

pub mod audit;
pub mod relay;

use std::sync::Arc;

use dueflow_bus::inproc::InProcBus;
use dueflow_bus::{Handler, Publisher};
use dueflow_domain::event::TASK_EVENTS;
use dueflow_store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Consumer group of the audit role.
pub const AUDIT_GROUP: &str = "dueflow-audit";

/// Start the relay and every consumer in this process over the in-process
/// bus, plus `live` (the API's stream hub); they stop when `shutdown` is
/// cancelled.
pub fn spawn_embedded(
    store: Arc<dyn Store>,
    live: Arc<dyn Handler>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let bus = Arc::new(InProcBus::new());
    bus.subscribe(
        TASK_EVENTS,
        AUDIT_GROUP,
        Arc::new(audit::Audit::new(store.clone())),
    );
    bus.subscribe(TASK_EVENTS, "dueflow-stream", live);
    spawn_relay(store, bus, shutdown)
}

/// Start the outbox relay publishing to `bus`.
pub fn spawn_relay(
    store: Arc<dyn Store>,
    bus: Arc<dyn Publisher>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(relay::run(store, bus, shutdown))
}
