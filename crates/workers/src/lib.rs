//! The roles that run beside the API: the outbox relay that publishes
//! committed events, and the roles that react to them — recurring (next
//! occurrences), scheduler (fires reminders), notifier (in-app
//! notifications, mail, webhooks) and audit (activity log).
//! [`spawn_embedded`] wires them all over the in-process bus for `dueflow
//! serve`; each role only sees the store and the bus traits.

pub mod audit;
pub mod email;
pub mod notifier;
mod pump;
pub mod recurring;
pub mod relay;
pub mod scheduler;
mod traced;
pub mod webhook;

pub use traced::{traced, traced_batches};

use std::sync::Arc;

use dueflow_bus::dapr::DaprJobs;
use dueflow_bus::health::BusHealth;
use dueflow_bus::inproc::InProcBus;
use dueflow_bus::{Handler, Publisher};
use dueflow_domain::event::{REMINDERS, TASK_EVENTS, TASK_UPDATES};
use dueflow_store::Store;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Consumer group of the audit role.
pub const AUDIT_GROUP: &str = "dueflow-audit";
/// Consumer group of the notifier role.
pub const NOTIFIER_GROUP: &str = "dueflow-notifier";
/// Consumer group of the recurring role.
pub const RECURRING_GROUP: &str = "dueflow-recurring";
/// The topics the audit, scheduler and notifier roles consume.
pub const EVENT_TOPICS: [&str; 2] = [TASK_EVENTS, REMINDERS];

/// A started role: what it consumes, and its own background task, if any.
pub struct Started {
    pub handler: Arc<dyn Handler>,
    pub task: JoinHandle<()>,
}

/// Start the scheduler's timer, timed by its own sleeps or, with `jobs`, by
/// Dapr's jobs; its handler wakes it (or sets the jobs) on events. Also
/// returns what wakes the timer, for the route the sidecar calls when a job
/// falls due.
pub fn start_scheduler(
    store: Arc<dyn Store>,
    jobs: Option<Arc<DaprJobs>>,
    shutdown: CancellationToken,
) -> (Started, Arc<Notify>) {
    let wake = Arc::new(Notify::new());
    let timing = if jobs.is_some() {
        scheduler::Timing::DaprJobs
    } else {
        scheduler::Timing::Own
    };
    let started = Started {
        handler: Arc::new(scheduler::Wake {
            timer: wake.clone(),
            jobs,
        }),
        task: tokio::spawn(scheduler::run(store, wake.clone(), timing, shutdown)),
    };
    (started, wake)
}

/// How the notifier reaches people beyond the in-app list.
#[derive(Clone, Default)]
pub struct NotifierConfig {
    /// Let webhooks reach loopback and private addresses.
    pub allow_private_webhooks: bool,
    /// Mail reminders through this server; `None`: no mail.
    pub smtp: Option<email::SmtpConfig>,
}

/// Start the notifier's senders (webhooks, mail); its handler notifies
/// and queues.
pub fn start_notifier(
    store: Arc<dyn Store>,
    config: &NotifierConfig,
    shutdown: CancellationToken,
) -> Result<Started, String> {
    let wake = Arc::new(Notify::new());
    let sender = Arc::new(webhook::Sender::new(
        store.clone(),
        config.allow_private_webhooks,
    )?);
    let webhooks = tokio::spawn(pump::pump(sender, wake.clone(), shutdown.clone()));
    let mail = match &config.smtp {
        Some(smtp) => {
            let mailer = Arc::new(email::Mailer::new(smtp, store.clone())?);
            let wake = Arc::new(Notify::new());
            let sending = tokio::spawn(pump::pump(mailer, wake.clone(), shutdown));
            Some((wake, sending))
        }
        None => None,
    };
    let handler = Arc::new(notifier::Notifier {
        notifications: store.clone(),
        webhooks: store,
        wake,
        mail: mail.as_ref().map(|(w, _)| w.clone()),
    });
    let task = tokio::spawn(async move {
        let _ = webhooks.await;
        if let Some((_, sending)) = mail {
            let _ = sending.await;
        }
    });
    Ok(Started { handler, task })
}

/// Start every role in this process over the in-process bus, plus `live`
/// (the API's stream hub); they stop when `shutdown` is cancelled.
pub fn spawn_embedded(
    store: Arc<dyn Store>,
    live: Arc<dyn Handler>,
    notifier: &NotifierConfig,
    health: Arc<BusHealth>,
    shutdown: CancellationToken,
) -> Result<Vec<JoinHandle<()>>, String> {
    let bus = Arc::new(InProcBus::new());
    let audit = traced_batches(AUDIT_GROUP, Arc::new(audit::Audit::new(store.clone())));
    bus.subscribe(
        TASK_EVENTS,
        RECURRING_GROUP,
        traced(
            RECURRING_GROUP,
            Arc::new(recurring::Recurring::new(store.clone())),
        ),
    );
    let (scheduler, _) = start_scheduler(store.clone(), None, shutdown.clone());
    let notifier = start_notifier(store.clone(), notifier, shutdown.clone())?;
    let notifications = traced_batches(NOTIFIER_GROUP, notifier.handler.clone());
    for topic in EVENT_TOPICS {
        bus.subscribe(topic, AUDIT_GROUP, audit.clone());
        bus.subscribe(topic, NOTIFIER_GROUP, notifications.clone());
    }
    let schedule = traced("dueflow-scheduler", scheduler.handler.clone());
    for topic in scheduler::TOPICS {
        bus.subscribe(topic, "dueflow-scheduler", schedule.clone());
    }
    bus.subscribe(
        TASK_UPDATES,
        "dueflow-stream",
        traced("dueflow-stream", live),
    );
    Ok(vec![
        scheduler.task,
        notifier.task,
        spawn_relay(store, bus, health, shutdown),
    ])
}

/// Start the outbox relay publishing to `bus`, reporting to `health`.
pub fn spawn_relay(
    store: Arc<dyn Store>,
    bus: Arc<dyn Publisher>,
    health: Arc<BusHealth>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(relay::run(store, bus, health, shutdown))
}
