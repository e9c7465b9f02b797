//! `dueflow serve`: open and migrate the store, start the relay and the
//! event consumers, bind the listener, serve until SIGINT or SIGTERM, then
//! drain in-flight requests and let the relay finish its batch.

use anyhow::Context;
use dueflow_api::{ApiConfig, AppState};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::cli::ServerArgs;
use crate::config::{Config, redact};

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

pub async fn serve(args: ServerArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
    init_logging(&config.log);
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
        "dueflow serving"
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let workers = dueflow_workers::spawn_embedded(store.clone(), shutdown.clone());
    let state = AppState::new(
        store,
        ApiConfig {
            open_registration: config.open_registration,
            secure_cookies: config.secure_cookies,
            ..ApiConfig::default()
        },
    );
    let served = dueflow_api::serve(listener, state, shutdown_signal()).await;
    shutdown.cancel();
    let _ = workers.await;
    Ok(served?)
}
