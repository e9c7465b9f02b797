//! `dueflow serve`: open and migrate the store, start the relay and the
//! event consumers, bind the listener, serve until SIGINT or SIGTERM, then
//! drain in-flight requests and let the relay finish its batch.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dueflow_api::stream::hub::HubFeed;
use dueflow_api::{ApiConfig, AppState};
use dueflow_bus::dapr::{DaprConfig, DaprJobs, DaprPublisher};
use dueflow_bus::kafka::{KafkaConfig, KafkaPublisher, Start, consume};
use dueflow_bus::subscribers::Subscribers;
use dueflow_bus::{Handler, Publisher};
use dueflow_domain::event::{REMINDERS, TASK_EVENTS, TASK_UPDATES};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_workers::{AUDIT_GROUP, EVENT_TOPICS, NOTIFIER_GROUP, NotifierConfig, RECURRING_GROUP};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::cli::ServerArgs;
use crate::config::{Config, redact};
use crate::roles::Role;

/// Log to stderr under `filter` (checked with the configuration): as
/// `json`, one object per line, each with the span it happened in (the
/// request's or the event's, with its `trace_id`); as `text`, in colour
/// only on a terminal and without `NO_COLOR` (files and pipes get plain
/// text). The MCP library's own lines ("Service initialized", "serve
/// finished") come twice for every stateless MCP request, so they are kept
/// to warnings unless a directive names `rmcp`.
pub fn init_logging(filter: &str, format: &str) {
    use std::io::IsTerminal;
    let filter = if filter.contains("rmcp") {
        filter.to_owned()
    } else {
        format!("{filter},rmcp=warn")
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        logs.with_ansi(colour).try_init()
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// A role's subscription: the topics it consumes, under which group.
struct Consumer {
    topics: &'static [&'static str],
    group: String,
    start: Start,
    handler: Arc<dyn Handler>,
}

/// What the chosen roles run: their subscriptions, their own background
/// tasks, and what wakes the scheduler's timer when it runs here.
struct Consumers {
    subs: Vec<Consumer>,
    tasks: Vec<JoinHandle<()>>,
    scheduler_wake: Option<Arc<tokio::sync::Notify>>,
}

/// The subscriptions of the chosen roles (and their own background tasks);
/// with `jobs`, Dapr's jobs time the reminders.
fn consumers(
    roles: &[Role],
    state: &AppState,
    notifier: &NotifierConfig,
    jobs: Option<Arc<DaprJobs>>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Consumers> {
    let store = &state.store;
    // Groups named per process see every event from now on (live clients,
    // timer wake-ups); shared groups split the work and resume where they were.
    let own_group = |role: &str| format!("dueflow-{role}-{}", new_id(IdKind::Event));
    let shared = |group: &str| (group.to_owned(), Start::Earliest);
    let mut subs = Vec::new();
    let mut tasks = Vec::new();
    let mut scheduler_wake = None;
    for role in roles {
        let (topics, (group, start), handler): (_, _, Arc<dyn Handler>) = match role {
            Role::Api => (
                &[TASK_UPDATES][..],
                (own_group("stream"), Start::Latest),
                Arc::new(HubFeed::new(state.hub.clone(), state.store.clone())),
            ),
            Role::Recurring => (
                &[TASK_EVENTS][..],
                shared(RECURRING_GROUP),
                Arc::new(dueflow_workers::recurring::Recurring::new(store.clone())),
            ),
            Role::Scheduler => {
                let (s, wake) =
                    dueflow_workers::start_scheduler(store.clone(), jobs.clone(), shutdown.clone());
                scheduler_wake = Some(wake);
                tasks.push(s.task);
                (
                    &dueflow_workers::scheduler::TOPICS[..],
                    (own_group("scheduler"), Start::Latest),
                    s.handler,
                )
            }
            Role::Notifier => {
                let n = dueflow_workers::start_notifier(store.clone(), notifier, shutdown.clone())
                    .map_err(|e| anyhow::anyhow!(e))?;
                tasks.push(n.task);
                (&EVENT_TOPICS[..], shared(NOTIFIER_GROUP), n.handler)
            }
            Role::Audit => (
                &EVENT_TOPICS[..],
                shared(AUDIT_GROUP),
                Arc::new(dueflow_workers::audit::Audit::new(store.clone())),
            ),
        };
        let handler = if matches!(role, Role::Notifier | Role::Audit) {
            dueflow_workers::traced_batches(&group, handler)
        } else {
            dueflow_workers::traced(&group, handler)
        };
        subs.push(Consumer {
            topics,
            group,
            start,
            handler,
        });
    }
    Ok(Consumers {
        subs,
        tasks,
        scheduler_wake,
    })
}

/// Start the event side of this process: every role over the in-process
/// bus, or the relay (with the api role) and the chosen roles' consumers
/// over Kafka or Dapr. With Dapr, also the routes its sidecar calls.
fn spawn_workers(
    config: &Config,
    roles: &[Role],
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<(Vec<JoinHandle<()>>, Option<axum::Router>)> {
    let store = state.store.clone();
    let notifier = NotifierConfig {
        allow_private_webhooks: config.webhooks_allow_private,
        smtp: config.smtp()?,
    };
    if config.bus == "inproc" {
        let live = Arc::new(HubFeed::new(state.hub.clone(), state.store.clone()));
        let tasks = dueflow_workers::spawn_embedded(
            store,
            live,
            &notifier,
            state.bus.clone(),
            shutdown.clone(),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        return Ok((tasks, None));
    }
    let dapr = (config.bus == "dapr")
        .then(|| -> anyhow::Result<DaprConfig> {
            Ok(DaprConfig {
                endpoint: config.dapr_http_endpoint.trim_end_matches('/').to_owned(),
                pubsub: config.dapr_pubsub.clone(),
                topics: config.topics()?,
                api_token: non_empty(&config.dapr_api_token),
                app_token: non_empty(&config.dapr_app_token),
            })
        })
        .transpose()?;
    let jobs = match (&dapr, config.scheduler_timer.as_str()) {
        (Some(dapr), "dapr_jobs") => Some(Arc::new(
            DaprJobs::new(dapr.clone()).map_err(|e| anyhow::anyhow!("{e}"))?,
        )),
        _ => None,
    };
    let Consumers {
        subs,
        mut tasks,
        scheduler_wake,
    } = consumers(roles, state, &notifier, jobs.clone(), shutdown)?;
    let relay = |publisher: Arc<dyn Publisher>| {
        dueflow_workers::spawn_relay(
            store.clone(),
            publisher,
            state.bus.clone(),
            shutdown.clone(),
        )
    };
    if let Some(dapr) = dapr {
        if roles.contains(&Role::Api) {
            let publisher = DaprPublisher::new(dapr.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
            tasks.push(relay(Arc::new(publisher)));
        }
        let subscriber = Arc::new(Subscribers::default());
        for c in subs {
            for topic in c.topics {
                subscriber.subscribe(topic, &c.group, c.handler.clone());
            }
        }
        let jobs_wake = jobs.and(scheduler_wake);
        return Ok((
            tasks,
            Some(dueflow_bus::dapr::router(dapr, subscriber, jobs_wake)),
        ));
    }
    let kafka = KafkaConfig {
        brokers: config.kafka_brokers.clone(),
        properties: config.kafka_properties.clone(),
        session_timeout_ms: config.kafka_session_timeout_ms,
        topics: config.topics()?,
    };
    if roles.contains(&Role::Api) {
        let publisher = KafkaPublisher::new(&kafka).map_err(|e| anyhow::anyhow!("{e}"))?;
        tasks.push(relay(Arc::new(publisher)));
    }
    for c in subs {
        let (kafka, shutdown, health) = (kafka.clone(), shutdown.clone(), state.bus.clone());
        tasks.push(tokio::spawn(async move {
            let group = c.group.clone();
            if let Err(e) = consume(
                kafka, c.topics, c.group, c.start, c.handler, health, shutdown,
            )
            .await
            {
                tracing::error!(%group, error = %e, "consumer stopped");
            }
        }));
    }
    Ok((tasks, None))
}

/// The series the alerts and the dashboard read, at zero from the start: an
/// alert on `increase()` sees a first dead letter or failed delivery only
/// if its series was there before it.
fn zero_series(roles: &[Role], config: &Config) -> anyhow::Result<()> {
    let topics = config.topics()?;
    for topic in [TASK_EVENTS, REMINDERS, TASK_UPDATES] {
        metrics::counter!("dueflow_dead_letters_total", "topic" => topics.wire(topic)).absolute(0);
    }
    if roles.contains(&Role::Notifier) {
        for outcome in ["delivered", "retry", "failed"] {
            metrics::counter!("dueflow_webhook_attempts_total", "outcome" => outcome).absolute(0);
        }
        for outcome in ["sent", "retry", "failed"] {
            metrics::counter!("dueflow_mail_attempts_total", "outcome" => outcome).absolute(0);
        }
        metrics::counter!("dueflow_notifications_total", "channel" => "in_app").absolute(0);
    }
    if roles.contains(&Role::Scheduler) {
        metrics::counter!("dueflow_reminders_fired_total").absolute(0);
    }
    if roles.contains(&Role::Api) {
        metrics::gauge!("dueflow_live_connections").set(0.0);
    }
    Ok(())
}

pub async fn serve(args: ServerArgs) -> anyhow::Result<()> {
    let config = Config::load(&args).await?;
    init_logging(&config.log, &config.log_format);
    config.warn_of_unread_variables();
    let roles = config.roles()?;
    let telemetry =
        dueflow_telemetry::Telemetry::from_env(&config.roles).map_err(|e| anyhow::anyhow!(e))?;
    let store = config.open_store().await?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    // The routes the Dapr sidecar calls, on a loopback listener of their own.
    let dapr_listener = match config.bus.as_str() {
        "dapr" => match config.dapr_app_listen()? {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on dapr_app_listen {addr}"))?,
            ),
            None => None,
        },
        _ => None,
    };
    tracing::info!(
        listen = %listener.local_addr()?,
        database = %redact(&config.database_url()),
        backend = store.backend(),
        bus = %config.bus,
        roles = %config.roles,
        "dueflow serving"
    );
    let state = AppState::new(
        store,
        ApiConfig {
            app: config.app()?,
            public_url: config.public_url()?,
            secure_cookies: config.secure_cookies,
            max_streams_per_user: config.max_streams_per_user,
            max_streams: config.max_streams,
            api_role: roles.contains(&Role::Api),
            trusted_proxies: config.trusted_proxies()?,
            assistant: config.assistant()?,
        },
    );
    // After the state: it installs the metrics recorder.
    zero_series(&roles, &config)?;
    let shutdown = CancellationToken::new();
    let (mut workers, dapr_routes) = spawn_workers(&config, &roles, &state, &shutdown)?;
    let (streams, stopping) = (state.streams.clone(), state.stopping.clone());
    // Only the api role is behind a load balancer.
    let delay = if roles.contains(&Role::Api) {
        Duration::from_secs(config.shutdown_delay_secs)
    } else {
        Duration::ZERO
    };
    let mut router = if roles.contains(&Role::Api) {
        dueflow_api::app(state, dueflow_web::pages())
    } else {
        dueflow_api::ops_app(state)
    };
    match (dapr_routes, dapr_listener) {
        (Some(routes), Some(listener)) => {
            tracing::info!(listen = %listener.local_addr()?, "serving the Dapr sidecar's routes");
            let stop = shutdown.clone().cancelled_owned();
            workers.push(tokio::spawn(async move {
                if let Err(e) = dueflow_api::serve_router(listener, routes, stop).await {
                    tracing::error!(error = %e, "the Dapr sidecar's listener failed");
                }
            }));
        }
        (Some(routes), None) => router = router.merge(routes),
        (None, _) => {}
    }
    let served =
        dueflow_api::connections::serve(listener, router, config.http_limits(), async move {
            shutdown_signal().await;
            // Load balancers see the process leave before its listener closes.
            if !delay.is_zero() {
                stopping.store(true, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(
                    delay_secs = delay.as_secs(),
                    "stopping: not ready, serving until the delay ends"
                );
                tokio::time::sleep(delay).await;
            }
            // Live streams never end by themselves: end them, so that the
            // requests still in flight are all that shutdown waits for.
            streams.close_all();
        })
        .await;
    shutdown.cancel();
    for w in workers {
        let _ = w.await;
    }
    if let Some(t) = telemetry {
        // The exporter sends from a thread of its own and blocks.
        let _ = tokio::task::spawn_blocking(move || t.shutdown()).await;
    }
    Ok(served?)
}
