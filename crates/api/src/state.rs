//! What every handler can reach: the application layer (and the store
//! beneath it), the HTTP settings, the login limiter and the metrics
//! handle. Cheap to clone (all shared).

use std::sync::Arc;

use dueflow_app::{App, AppConfig};
use dueflow_bus::health::BusHealth;
use dueflow_store::Store;

use crate::auth::cache::TokenCache;
use crate::auth::limiter::LoginLimiter;
use crate::stream::hub::StreamHub;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Whether `POST /api/v1/auth/register` creates accounts.
    pub open_registration: bool,
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub secure_cookies: bool,
    /// How long a web session lasts.
    pub session_days: i64,
    /// Accept webhook URLs on loopback and private addresses.
    pub webhooks_allow_private: bool,
    /// This process serves the API (and keeps accepting writes into the
    /// outbox while the bus is down); otherwise it only consumes.
    pub api_role: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            open_registration: false,
            secure_cookies: false,
            session_days: 30,
            webhooks_allow_private: false,
            api_role: true,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    /// The operations every door shares.
    pub app: App,
    pub store: Arc<dyn Store>,
    pub config: Arc<ApiConfig>,
    pub limiter: Arc<LoginLimiter>,
    /// Tokens looked up a moment ago.
    pub tokens: Arc<TokenCache>,
    /// Live events for this process's stream connections.
    pub hub: Arc<StreamHub>,
    /// Whether this process's relay and consumers reach the event bus.
    pub bus: Arc<BusHealth>,
}

impl AppState {
    /// Also installs the process's metrics recorder, so that it records
    /// from before the first role starts.
    pub fn new(store: Arc<dyn Store>, config: ApiConfig) -> Self {
        crate::metrics::handle();
        Self {
            app: App::new(
                store.clone(),
                AppConfig {
                    webhooks_allow_private: config.webhooks_allow_private,
                },
            ),
            store,
            config: Arc::new(config),
            limiter: Arc::new(LoginLimiter::default()),
            tokens: Arc::new(TokenCache::default()),
            hub: Arc::new(StreamHub::default()),
            bus: Arc::new(BusHealth::default()),
        }
    }
}
