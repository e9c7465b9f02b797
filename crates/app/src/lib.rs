//! The application layer: the operations every door offers — REST, the web
//! app, chat, MCP and the admin CLI — written once. An operation validates
//! its input into domain types, reads what it needs, checks the version,
//! writes the change together with its events, and retries when a
//! concurrent writer moved the version. Doors only translate: their input
//! into a call here, and [`AppError`] into their own answer. None of them
//! talks to the store for an operation this layer offers.
//!
//! Each module adds the operations of one area to [`App`].

pub mod accounts;
mod activity;
mod bulk;
mod conversations;
mod error;
mod notifications;
mod paging;
mod quick_add;
mod reminders;
mod tags;
mod tasks;
mod views;
mod webhooks;

use std::sync::Arc;

use dueflow_store::Store;

use crate::accounts::limiter::LoginLimiter;

pub use accounts::{ProfileChange, Session, VerificationSent};
pub use activity::ActivityFilter;
pub use bulk::BulkChange;
pub use error::AppError;
pub use reminders::SnoozeFor;
pub use tags::TagChange;
pub use tasks::{Expected, TaskListing};
pub use views::ViewFields;

/// Settings that change what the operations accept.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Whether people may create their own accounts.
    pub open_registration: bool,
    /// How long a login session lasts.
    pub session_days: i64,
    /// Accept webhook URLs on loopback and private addresses.
    pub webhooks_allow_private: bool,
    /// An SMTP server is configured: verification mail can go out.
    pub mail: bool,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            open_registration: false,
            session_days: 30,
            webhooks_allow_private: false,
            mail: false,
        }
    }
}

/// The operations, over one store. Cheap to clone (shared handles).
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    config: Arc<AppConfig>,
    /// Failed logins of this process.
    limiter: Arc<LoginLimiter>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, config: AppConfig) -> Self {
        Self {
            store,
            config: Arc::new(config),
            limiter: Arc::new(LoginLimiter::default()),
        }
    }
}
