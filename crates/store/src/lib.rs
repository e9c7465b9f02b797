//! Storage for dueflow behind [`Store`], made of one trait per part
//! (accounts, tasks, outbox, activity, reminders, notifications, webhooks,
//! e-mail verification, saved views, conversations), with one module per
//! backend: SQLite (the embedded default, through rusqlite) and
//! PostgreSQL (through sqlx). [`connect`] picks the backend from the URL.
//! Each record's row mapper (over [`row::RowAccess`]) and the task and
//! account statements both dialects share live beside their part, written
//! once; the backend modules hold the writer thread, grouped commits, the
//! leader lock, migrations, and the statements whose shape differs.
//!
//! The domain decides what a change is; a store only persists it, scoped to
//! its owner on every query, and checks the version so that a stale write
//! never lands.

pub mod accounts;
pub mod activity;
mod codec;
pub mod conversations;
mod error;
pub mod listing;
mod model;
pub mod notifications;
pub mod outbox;
mod postgres;
pub mod reminders;
mod row;
mod sqlite;
mod tags;
pub mod tasks;
pub mod verification;
pub mod views;
pub mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use dueflow_domain::event::Event;

pub use accounts::{Accounts, Preferences};
pub use activity::Activity;
pub use conversations::{Conversation, ConversationHead, Conversations};
pub use error::StoreError;
pub use listing::{ListQuery, Page};
pub use model::{ActivityQuery, OutboxMessage, TagCount, TokenKind, TokenOwner, TokenRecord, User};
pub use notifications::{
    InApp, MailOutcome, Notification, NotificationQuery, Notifications, QueuedEmail,
    ReminderChannels,
};
pub use outbox::Outbox;
pub use reminders::{Fired, ReminderQuery, Reminders};
pub use tasks::Tasks;
pub use verification::{EmailVerification, Requested, VerificationMail};
pub use views::{SavedView, SavedViews};
pub use webhooks::{Delivery, DeliveryJob, DeliveryState, NewDelivery, Outcome, Webhook, Webhooks};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything a dueflow process stores. The roles that need only part of it
/// (the scheduler, notifier, relay, audit, recurring, the live stream) see
/// it through that part's trait.
#[async_trait]
pub trait Store:
    Accounts
    + Tasks
    + Outbox
    + Activity
    + Reminders
    + Notifications
    + Webhooks
    + EmailVerification
    + SavedViews
    + Conversations
    + Send
    + Sync
    + 'static
{
    /// Bring the schema up to date (idempotent).
    async fn migrate(&self) -> Result<()>;
    /// Whether the database answers.
    async fn ping(&self) -> Result<()>;
    /// The backend's name, for logs and metrics.
    fn backend(&self) -> &'static str;
}

/// The span a write works in: its first event's (the reminder events a
/// task write adds join it); a write without events starts a trace.
pub(crate) fn write_trace(events: &[Event]) -> dueflow_domain::trace::TraceParent {
    events
        .first()
        .map_or_else(dueflow_domain::trace::TraceParent::root, |e| e.trace)
}

/// Open the store named by `url`: `sqlite:PATH` (or a bare path) or
/// `postgres://…`. The schema is not touched; call [`Store::migrate`].
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Ok(Arc::new(sqlite::SqliteStore::open(path)?))
    }
}
