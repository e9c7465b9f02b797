//! What every handler can reach: the application layer (and the store
//! beneath it), the HTTP settings, the token cache, the live streams and
//! the metrics handle. Cheap to clone (all shared).

use std::sync::Arc;

use dueflow_app::{App, AppConfig};
use dueflow_assistant::chat::{Chat, LlmConfig};
use dueflow_bus::health::BusHealth;
use dueflow_store::Store;

use crate::auth::cache::TokenCache;
use crate::stream::connections::Connections;
use crate::stream::hub::StreamHub;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// What the operations accept: registration, session length, webhook
    /// targets, mail.
    pub app: AppConfig,
    /// This server's address as its users reach it; its origin is the one
    /// cookie-authenticated requests must come from.
    pub public_url: Option<url::Url>,
    /// Mark the session cookie `Secure`; `None`: when `public_url` is https.
    pub secure_cookies: Option<bool>,
    /// Live streams one user may hold open on this process.
    pub max_streams_per_user: usize,
    /// Live streams this process holds open at most.
    pub max_streams: usize,
    /// This process serves the API (and keeps accepting writes into the
    /// outbox while the bus is down); otherwise it only consumes.
    pub api_role: bool,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The model chat asks; `None`: chat answers offline.
    pub assistant: Option<LlmConfig>,
}

impl ApiConfig {
    /// Whether the session cookie is marked `Secure`.
    pub fn cookie_secure(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| {
            self.public_url
                .as_ref()
                .is_some_and(|u| u.scheme() == "https")
        })
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            app: AppConfig::default(),
            public_url: None,
            secure_cookies: None,
            max_streams_per_user: 20,
            max_streams: 512,
            api_role: true,
            trusted_proxies: Vec::new(),
            assistant: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    /// The operations every door shares.
    pub app: App,
    pub store: Arc<dyn Store>,
    pub config: Arc<ApiConfig>,
    /// Tokens looked up a moment ago.
    pub tokens: Arc<TokenCache>,
    /// Live events for this process's stream connections.
    pub hub: Arc<StreamHub>,
    /// This process's open stream connections, capped and closed on revocation.
    pub streams: Arc<Connections>,
    /// Whether this process's relay and consumers reach the event bus.
    pub bus: Arc<BusHealth>,
    /// The assistant's conversations.
    pub chat: Chat,
    /// Set once the process is asked to stop: it answers meanwhile, but
    /// no longer reports itself ready.
    pub stopping: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    /// Also installs the process's metrics recorder, so that it records
    /// from before the first role starts.
    pub fn new(store: Arc<dyn Store>, config: ApiConfig) -> Self {
        crate::metrics::handle();
        let app = App::new(store.clone(), config.app.clone());
        let chat = match config.assistant.clone() {
            Some(model) => Chat::with_model(app.clone(), model).unwrap_or_else(|e| {
                tracing::error!(error = %e, "chat answers offline");
                Chat::offline(app.clone())
            }),
            None => Chat::offline(app.clone()),
        };
        Self {
            app,
            chat,
            store,
            tokens: Arc::new(TokenCache::default()),
            hub: Arc::new(StreamHub::default()),
            streams: Arc::new(Connections::new(
                config.max_streams_per_user,
                config.max_streams,
            )),
            bus: Arc::new(BusHealth::default()),
            config: Arc::new(config),
            stopping: Arc::default(),
        }
    }
}
