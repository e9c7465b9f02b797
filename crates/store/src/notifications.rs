//! In-app notifications: the trait the notifier role and the notification
//! routes use, and the SQL both backends share. One notification per fired
//! reminder event, so a redelivered event notifies nobody twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dueflow_domain::event::Event;
use serde::Serialize;

use crate::Result;
use crate::codec::ms;
use crate::row::RowAccess;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: String,
    /// The `reminder.due` event it announces.
    pub event_id: String,
    pub task_id: String,
    pub reminder_id: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A fired reminder's in-app notification, with the `reminder.delivered`
/// event that records it.
#[derive(Debug, Clone)]
pub struct InApp {
    pub user_id: String,
    pub notification: Notification,
    pub delivered: Event,
}

/// A mail waiting to be sent, keyed by the event it tells of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEmail {
    pub event_id: String,
    pub user_id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How an attempt to send a mail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    Sent,
    Retry { at_ms: i64, error: String },
    Failed { error: String },
}

impl MailOutcome {
    /// State, next attempt and error to store.
    pub(crate) fn values(&self, now_ms: i64) -> (&'static str, i64, Option<&str>) {
        match self {
            MailOutcome::Sent => ("sent", now_ms, None),
            MailOutcome::Retry { at_ms, error } => ("pending", *at_ms, Some(error)),
            MailOutcome::Failed { error } => ("failed", now_ms, Some(error)),
        }
    }
}

/// Where a user's fired reminders go; every channel until they choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReminderChannels {
    /// A notification in the app (and a toast in open pages).
    pub in_app: bool,
    /// A mail to the verified address.
    pub email: bool,
    /// A `reminder.due` message to the webhooks that subscribed to it.
    pub webhook: bool,
}

impl Default for ReminderChannels {
    fn default() -> Self {
        ReminderChannels {
            in_app: true,
            email: true,
            webhook: true,
        }
    }
}

/// A page of a user's notifications, newest first; `before` is the last
/// one seen (created_at ms, id).
#[derive(Debug, Clone, Default)]
pub struct NotificationQuery {
    pub unread_only: bool,
    pub before: Option<(i64, String)>,
    pub limit: u32,
}

#[async_trait]
pub trait Notifications: Send + Sync {
    /// Store each notification (unless its event was stored already) with
    /// its `delivered` event, all in one transaction; how many were new.
    async fn notify_in_app(&self, notes: &[InApp]) -> Result<usize>;
    async fn list_notifications(
        &self,
        user_id: &str,
        q: &NotificationQuery,
    ) -> Result<Vec<Notification>>;
    /// Where a user's reminders go (all channels for one who never chose).
    async fn reminder_channels(&self, user_id: &str) -> Result<ReminderChannels>;
    async fn set_reminder_channels(&self, user_id: &str, channels: ReminderChannels) -> Result<()>;
    /// The address a user's reminders may be mailed to: set and verified.
    async fn verified_email(&self, user_id: &str) -> Result<Option<String>>;
    /// Queue a mail (once per event); `false` if it was queued before.
    async fn queue_email(&self, mail: &QueuedEmail, now: DateTime<Utc>) -> Result<bool>;
    /// Lease up to `limit` due mails until `now + lease_ms`.
    async fn claim_emails(
        &self,
        now: DateTime<Utc>,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(QueuedEmail, i64)>>;
    /// Keep the mails of `event_ids` that are still leased until `held_ms`
    /// (by this sender's claim or last renewal) leased until `until_ms`;
    /// one finished, or leased to another sender since, is left alone.
    async fn renew_emails(&self, event_ids: &[String], held_ms: i64, until_ms: i64) -> Result<()>;
    async fn finish_email(
        &self,
        event_id: &str,
        outcome: &MailOutcome,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// When the soonest pending mail is due (ms).
    async fn next_email_at(&self) -> Result<Option<i64>>;
    /// Mark read (idempotent); `None` if the user has no such notification.
    async fn mark_notification_read(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Notification>>;
}

pub(crate) const REMINDER_CHANNELS: &str =
    "SELECT in_app, email, webhook FROM reminder_channels WHERE user_id = $1";
/// Reads a row of [`REMINDER_CHANNELS`].
pub(crate) fn reminder_channels<R: RowAccess>(row: &R) -> Result<ReminderChannels, R::Error> {
    Ok(ReminderChannels {
        in_app: row.at(0)?,
        email: row.at(1)?,
        webhook: row.at(2)?,
    })
}

pub(crate) const SET_REMINDER_CHANNELS: &str = "INSERT INTO reminder_channels \
     (user_id, in_app, email, webhook) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE \
     SET in_app = excluded.in_app, email = excluded.email, webhook = excluded.webhook";
pub(crate) const VERIFIED_EMAIL: &str = "SELECT email FROM users WHERE id = $1 AND email_verified";
pub(crate) const QUEUE_EMAIL: &str = "INSERT INTO emails (event_id, user_id, to_addr, subject, \
     body, state, attempts, next_attempt_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) ON CONFLICT (event_id) DO NOTHING";
pub(crate) const CLAIMABLE_EMAILS: &str = "SELECT event_id FROM emails \
     WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, event_id LIMIT $2";
pub(crate) const LEASE_EMAIL: &str = "UPDATE emails SET attempts = attempts + 1, \
     next_attempt_at = $2, updated_at = $3 WHERE event_id = $1 AND state = 'pending' \
     RETURNING event_id, user_id, to_addr, subject, body, attempts";
/// Reads a row [`LEASE_EMAIL`] returns: the mail and its attempts so far.
pub(crate) fn leased_email<R: RowAccess>(row: &R) -> Result<(QueuedEmail, i64), R::Error> {
    Ok((
        QueuedEmail {
            event_id: row.at(0)?,
            user_id: row.at(1)?,
            to: row.at(2)?,
            subject: row.at(3)?,
            body: row.at(4)?,
        },
        row.at(5)?,
    ))
}

pub(crate) const RENEW_EMAIL: &str = "UPDATE emails SET next_attempt_at = $3 \
     WHERE event_id = $1 AND state = 'pending' AND next_attempt_at = $2";
/// A mail that carries a secret forgets its body once it is done with.
pub(crate) const FINISH_EMAIL: &str = "UPDATE emails SET state = $2, next_attempt_at = $3, \
     last_error = $4, updated_at = $5, \
     body = CASE WHEN holds_secret AND $2 <> 'pending' THEN '' ELSE body END WHERE event_id = $1";
pub(crate) const NEXT_EMAIL: &str =
    "SELECT MIN(next_attempt_at) FROM emails WHERE state = 'pending'";

pub(crate) const COLUMNS: &str =
    "id, event_id, task_id, reminder_id, title, body, created_at, read_at";

pub(crate) const INSERT: &str = "INSERT INTO notifications (id, user_id, event_id, task_id, \
     reminder_id, title, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (event_id) DO NOTHING";

pub(crate) fn mark_read_sql() -> String {
    format!(
        "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2 \
         RETURNING {COLUMNS}"
    )
}

/// The page query; parameters: `$1` user, then `$2`/`$3` the cursor.
pub(crate) fn list_sql(q: &NotificationQuery) -> String {
    let mut sql = format!("SELECT {COLUMNS} FROM notifications WHERE user_id = $1");
    if q.unread_only {
        sql += " AND read_at IS NULL";
    }
    if q.before.is_some() {
        sql += " AND (created_at < $2 OR (created_at = $2 AND id < $3))";
    }
    sql += &format!(" ORDER BY created_at DESC, id DESC LIMIT {}", q.limit);
    sql
}

pub(crate) struct RawNotification {
    pub id: String,
    pub event_id: String,
    pub task_id: String,
    pub reminder_id: String,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Reads [`COLUMNS`].
pub(crate) fn raw_notification<R: RowAccess>(row: &R) -> Result<RawNotification, R::Error> {
    Ok(RawNotification {
        id: row.at(0)?,
        event_id: row.at(1)?,
        task_id: row.at(2)?,
        reminder_id: row.at(3)?,
        title: row.at(4)?,
        body: row.at(5)?,
        created_at: row.at(6)?,
        read_at: row.at(7)?,
    })
}

impl RawNotification {
    pub fn decode(self) -> Result<Notification> {
        Ok(Notification {
            id: self.id,
            event_id: self.event_id,
            task_id: self.task_id,
            reminder_id: self.reminder_id,
            title: self.title,
            body: self.body,
            created_at: ms(self.created_at)?,
            read_at: self.read_at.map(ms).transpose()?,
        })
    }
}
