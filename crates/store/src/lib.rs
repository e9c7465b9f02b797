//! Storage for dueflow behind one narrow trait, [`Store`], with one module
//! per backend: SQLite (the embedded default, through rusqlite) and
//! PostgreSQL (through sqlx). [`connect`] picks the backend from the URL.
//!
//! The domain decides what a change is; a store only persists it, scoped to
//! its owner on every query, and checks the version so that a stale write
//! never lands.

mod activity;
mod codec;
pub mod conversations;
mod error;
pub mod listing;
mod model;
pub mod notifications;
mod postgres;
pub mod reminders;
mod sqlite;
mod tags;
mod users;
pub mod verification;
pub mod views;
pub mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use dueflow_domain::event::Event;
use dueflow_domain::task::Task;

pub use conversations::{Conversation, ConversationHead, Conversations};
pub use error::StoreError;
pub use listing::{ListQuery, Page};
pub use model::{ActivityQuery, OutboxMessage, TagCount, TokenKind, TokenOwner, TokenRecord, User};
pub use notifications::{
    InApp, MailOutcome, Notification, NotificationQuery, Notifications, QueuedEmail,
    ReminderChannels,
};
pub use reminders::{Fired, ReminderQuery, Reminders};
pub use users::Preferences;
pub use verification::{EmailVerification, Requested, VerificationMail};
pub use views::{SavedView, SavedViews};
pub use webhooks::{Delivery, DeliveryJob, DeliveryState, NewDelivery, Outcome, Webhook, Webhooks};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything a dueflow process stores. The roles and routes that need only
/// one part (reminders, notifications, webhooks) see it through its own
/// trait.
#[async_trait]
pub trait Store:
    Reminders
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

    /// Create a user; [`StoreError::Conflict`] when the name is taken.
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<()>;
    /// A user and their password hash, by (lower-case) name.
    async fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>>;
    /// Change what `p` sets; `None` when there is no such user.
    async fn set_preferences(&self, user_id: &str, p: Preferences) -> Result<Option<User>>;

    async fn insert_token(&self, token: &TokenRecord, digest: &[u8; 32]) -> Result<()>;
    /// The user a live token belongs to.
    async fn user_by_token(&self, digest: &[u8; 32], now_ms: i64) -> Result<Option<TokenOwner>>;
    async fn list_tokens(&self, user_id: &str) -> Result<Vec<TokenRecord>>;
    async fn revoke_token(&self, user_id: &str, token_id: &str) -> Result<bool>;
    /// The user's latest event number (`usersequence`); 0 before any.
    async fn event_sequence(&self, user_id: &str) -> Result<i64>;

    // Every write takes the events describing it; they are appended to the
    // outbox in the same transaction, or not at all.
    async fn insert_task(&self, user_id: &str, task: &Task, events: &[Event]) -> Result<()>;
    async fn task(&self, user_id: &str, id: &str) -> Result<Option<Task>>;
    /// Replace a task if it is still at `prev_version`; `false` otherwise.
    async fn replace_task(
        &self,
        user_id: &str,
        task: &Task,
        prev_version: i64,
        events: &[Event],
    ) -> Result<bool>;
    /// Insert the next occurrence of a recurring task unless its series
    /// position is taken already (then nothing, `false`): replaying one
    /// completion creates one occurrence.
    async fn insert_occurrence(&self, user_id: &str, task: &Task, event: &Event) -> Result<bool>;
    /// Delete a task; `event` is recorded only if it existed.
    async fn delete_task(&self, user_id: &str, id: &str, event: &Event) -> Result<bool>;
    async fn list_tasks(&self, user_id: &str, query: &ListQuery) -> Result<Page>;
    /// The user's tags (those on at least one task), by name.
    async fn tags(&self, user_id: &str) -> Result<Vec<TagCount>>;
    /// Give a tag a colour (`#rrggbb`), or take it away (`None`).
    async fn set_tag_colour(&self, user_id: &str, name: &str, colour: Option<&str>) -> Result<()>;

    /// The oldest unpublished outbox messages, in commit-independent
    /// sequence order.
    async fn outbox_batch(&self, limit: u32) -> Result<Vec<OutboxMessage>>;
    /// Whether this process is the one that relays the outbox: it takes
    /// the role when no live process holds it. Asked again before relaying
    /// on, since a holder can lose it (its database session ended).
    async fn relay_leader(&self) -> Result<bool>;
    /// Remove published messages from the outbox.
    async fn outbox_ack(&self, seqs: &[i64]) -> Result<()>;
    /// How many messages wait to be published.
    async fn outbox_backlog(&self) -> Result<i64>;

    /// Record events (each with its CloudEvents JSON) in the activity log,
    /// in one transaction; events recorded already are left as they are.
    async fn record_activity(&self, events: &[(Event, String)]) -> Result<()>;
    /// A user's activity, newest first, as stored CloudEvents JSON.
    async fn list_activity(
        &self,
        user_id: &str,
        q: &ActivityQuery,
    ) -> Result<Vec<(i64, String, String)>>;
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
