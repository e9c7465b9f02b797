//! `dueflow serve`: open and migrate the store, start the relay and the
//! event consumers, bind the listener, serve until SIGINT or SIGTERM, then
//! drain in-flight requests and let the relay finish its batch.

use std::sync::Arc;

use anyhow::Context;
use dueflow_api::stream::hub::HubFeed;
use dueflow_api::{ApiConfig, AppState};
use dueflow_bus::Handler;
use dueflow_bus::kafka::{KafkaConfig, KafkaPublisher, Start, consume};
use dueflow_domain::event::TASK_UPDATES;
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_workers::{AUDIT_GROUP, EVENT_TOPICS, NOTIFIER_GROUP, NotifierConfig};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::cli::ServerArgs;
use crate::config::{Config, redact};
use crate::roles::Role;

pub fn init_logging(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
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

/// Start the event side of this process: everything over the in-process
/// bus, or the relay and/or consumers of the chosen roles over Kafka.
fn spawn_workers(
    config: &Config,
    roles: &[Role],
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let store = state.store.clone();
    let live = Arc::new(HubFeed(state.hub.clone()));
    let notifier = NotifierConfig {
        allow_private_webhooks: config.webhooks_allow_private,
        smtp: config.smtp()?,
    };
    if config.bus == "inproc" {
        return dueflow_workers::spawn_embedded(store, live, &notifier, shutdown.clone())
            .map_err(|e| anyhow::anyhow!(e));
    }
    let kafka = KafkaConfig {
        brokers: config.kafka_brokers.clone(),
        properties: config.kafka_properties.clone(),
        session_timeout_ms: config.kafka_session_timeout_ms,
        topic_prefix: config.topic_prefix.clone(),
    };
    let consumer = |topics: &'static [&'static str],
                    group: String,
                    start: Start,
                    handler: Arc<dyn Handler>| {
        let (kafka, shutdown) = (kafka.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(e) = consume(kafka, topics, group.clone(), start, handler, shutdown).await {
                tracing::error!(%group, error = %e, "consumer stopped");
            }
        })
    };
    // Groups named per process see every event from now on (live clients,
    // timer wake-ups); shared groups split the work and resume where they were.
    let own_group = |role: &str| format!("dueflow-{role}-{}", new_id(IdKind::Event));
    let mut tasks = Vec::new();
    for role in roles {
        match role {
            Role::Api => {
                let publisher = KafkaPublisher::new(&kafka).map_err(|e| anyhow::anyhow!("{e}"))?;
                tasks.push(dueflow_workers::spawn_relay(
                    store.clone(),
                    Arc::new(publisher),
                    shutdown.clone(),
                ));
                tasks.push(consumer(
                    &[TASK_UPDATES],
                    own_group("stream"),
                    Start::Latest,
                    live.clone(),
                ));
            }
            Role::Scheduler => {
                let s = dueflow_workers::start_scheduler(store.clone(), shutdown.clone());
                tasks.push(s.task);
                tasks.push(consumer(
                    &EVENT_TOPICS,
                    own_group("scheduler"),
                    Start::Latest,
                    s.handler,
                ));
            }
            Role::Notifier => {
                let n = dueflow_workers::start_notifier(store.clone(), &notifier, shutdown.clone())
                    .map_err(|e| anyhow::anyhow!(e))?;
                tasks.push(n.task);
                tasks.push(consumer(
                    &EVENT_TOPICS,
                    NOTIFIER_GROUP.to_owned(),
                    Start::Earliest,
                    n.handler,
                ));
            }
            Role::Audit => {
                let audit = Arc::new(dueflow_workers::audit::Audit::new(store.clone()));
                tasks.push(consumer(
                    &EVENT_TOPICS,
                    AUDIT_GROUP.to_owned(),
                    Start::Earliest,
                    audit,
                ));
            }
        }
    }
    Ok(tasks)
}

pub async fn serve(args: ServerArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
    init_logging(&config.log);
    let roles = config.roles()?;
    let store = config.open_store().await?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
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
            open_registration: config.open_registration,
            secure_cookies: config.secure_cookies,
            webhooks_allow_private: config.webhooks_allow_private,
            ..ApiConfig::default()
        },
    );
    let shutdown = CancellationToken::new();
    let workers = spawn_workers(&config, &roles, &state, &shutdown)?;
    let router = if roles.contains(&Role::Api) {
        dueflow_api::app(state)
    } else {
        dueflow_api::ops_app(state)
    };
    let served = dueflow_api::serve_router(listener, router, shutdown_signal()).await;
    shutdown.cancel();
    for w in workers {
        let _ = w.await;
    }
    Ok(served?)
}
