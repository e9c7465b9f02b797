//! Notification operations: the caller's in-app notifications (one per
//! fired reminder), newest first, and marking one read; which channels
//! the caller's reminders use (the notifier honours them).

use chrono::Utc;
use dueflow_store::{Notification, NotificationQuery, ReminderChannels, User};

use crate::paging::{cut, decode_cursor, page_size};
use crate::{App, AppError};

impl App {
    /// A page of notifications, newest first, and the cursor of the next.
    pub async fn notifications(
        &self,
        user: &User,
        unread_only: bool,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<(Vec<Notification>, Option<String>), AppError> {
        let limit = page_size(limit)?;
        let q = NotificationQuery {
            unread_only,
            before: decode_cursor(cursor)?,
            limit: limit + 1,
        };
        let items = self.store.list_notifications(&user.id, &q).await?;
        Ok(cut(items, limit, |n| {
            (n.created_at.timestamp_millis(), n.id.as_str())
        }))
    }

    pub async fn read_notification(&self, user: &User, id: &str) -> Result<Notification, AppError> {
        self.store
            .mark_notification_read(&user.id, id, Utc::now())
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Where the user's reminders go.
    pub async fn reminder_channels(&self, user: &User) -> Result<ReminderChannels, AppError> {
        Ok(self.store.reminder_channels(&user.id).await?)
    }

    /// Choose where the user's reminders go, from the next one that fires.
    pub async fn set_reminder_channels(
        &self,
        user: &User,
        channels: ReminderChannels,
    ) -> Result<ReminderChannels, AppError> {
        self.store.set_reminder_channels(&user.id, channels).await?;
        Ok(channels)
    }
}
