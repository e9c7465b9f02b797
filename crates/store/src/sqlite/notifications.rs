//! SQLite side of in-app notifications.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, insert_events, sql};
use crate::Result;
use crate::notifications::{
    CLAIMABLE_EMAILS, FINISH_EMAIL, INSERT, InApp, LEASE_EMAIL, MailOutcome, NEXT_EMAIL,
    Notification, NotificationQuery, Notifications, QUEUE_EMAIL, QueuedEmail, REMINDER_CHANNELS,
    RENEW_EMAIL, RawNotification, ReminderChannels, SET_REMINDER_CHANNELS, VERIFIED_EMAIL,
    leased_email, list_sql, mark_read_sql, raw_notification, reminder_channels,
};

#[async_trait]
impl Notifications for SqliteStore {
    async fn notify_in_app(&self, notes: &[InApp]) -> Result<usize> {
        let notes = notes.to_vec();
        self.write(move |tx| {
            let mut insert = tx.prepare_cached(&sql(INSERT))?;
            let mut delivered = Vec::new();
            for note in notes {
                let n = &note.notification;
                let added = insert.execute(params![
                    n.id,
                    note.user_id,
                    n.event_id,
                    n.task_id,
                    n.reminder_id,
                    n.title,
                    n.body,
                    n.created_at.timestamp_millis()
                ])? == 1;
                if added {
                    delivered.push(note.delivered);
                }
            }
            drop(insert);
            if !delivered.is_empty() {
                insert_events(tx, &delivered)?;
            }
            Ok(delivered.len())
        })
        .await
    }

    async fn list_notifications(
        &self,
        user_id: &str,
        q: &NotificationQuery,
    ) -> Result<Vec<Notification>> {
        let mut values = vec![Value::Text(user_id.to_owned())];
        if let Some((t, id)) = &q.before {
            values.push(Value::Integer(*t));
            values.push(Value::Text(id.clone()));
        }
        let rows = self.read(|c| {
            let mut stmt = c.prepare_cached(&sql(&list_sql(q)))?;
            let rows =
                stmt.query_map(rusqlite::params_from_iter(values), |r| raw_notification(r))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter().map(RawNotification::decode).collect()
    }

    async fn reminder_channels(&self, user_id: &str) -> Result<ReminderChannels> {
        let chosen = self.read(|c| {
            Ok(c.prepare_cached(&sql(REMINDER_CHANNELS))?
                .query_row([user_id], |r| reminder_channels(r))
                .optional()?)
        })?;
        Ok(chosen.unwrap_or_default())
    }

    async fn set_reminder_channels(&self, user_id: &str, c: ReminderChannels) -> Result<()> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            tx.prepare_cached(&sql(SET_REMINDER_CHANNELS))?
                .execute(params![user_id, c.in_app, c.email, c.webhook])?;
            Ok(())
        })
        .await
    }

    async fn verified_email(&self, user_id: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.prepare_cached(&sql(VERIFIED_EMAIL))?
                .query_row([user_id], |r| r.get(0))
                .optional()?
                .flatten())
        })
    }

    async fn queue_email(&self, m: &QueuedEmail, now: DateTime<Utc>) -> Result<bool> {
        let m = m.clone();
        self.write(move |tx| {
            Ok(tx.prepare_cached(&sql(QUEUE_EMAIL))?.execute(params![
                m.event_id,
                m.user_id,
                m.to,
                m.subject,
                m.body,
                now.timestamp_millis()
            ])? == 1)
        })
        .await
    }

    async fn claim_emails(
        &self,
        now: DateTime<Utc>,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(QueuedEmail, i64)>> {
        let now_ms = now.timestamp_millis();
        self.write(move |tx| {
            let ids = tx
                .prepare_cached(&sql(CLAIMABLE_EMAILS))?
                .query_map(params![now_ms, i64::from(limit)], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut lease = tx.prepare_cached(&sql(LEASE_EMAIL))?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.push(
                    lease.query_row(params![id, now_ms + lease_ms, now_ms], |r| leased_email(r))?,
                );
            }
            Ok(out)
        })
        .await
    }

    async fn renew_emails(&self, event_ids: &[String], held_ms: i64, until_ms: i64) -> Result<()> {
        self.renew_leases(RENEW_EMAIL, event_ids, held_ms, until_ms)
            .await
    }

    async fn finish_email(
        &self,
        event_id: &str,
        outcome: &MailOutcome,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let now_ms = now.timestamp_millis();
        let (state, next, error) = outcome.values(now_ms);
        let (event_id, error) = (event_id.to_owned(), error.map(str::to_owned));
        self.write(move |tx| {
            tx.prepare_cached(&sql(FINISH_EMAIL))?
                .execute(params![event_id, state, next, error, now_ms])?;
            Ok(())
        })
        .await
    }

    async fn next_email_at(&self) -> Result<Option<i64>> {
        self.read(|c| Ok(c.query_row(NEXT_EMAIL, [], |r| r.get(0))?))
    }

    async fn mark_notification_read(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Notification>> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        let row = self
            .write(move |tx| {
                Ok(tx
                    .prepare_cached(&sql(&mark_read_sql()))?
                    .query_row(params![id, user_id, now.timestamp_millis()], |r| {
                        raw_notification(r)
                    })
                    .optional()?)
            })
            .await?;
        row.map(RawNotification::decode).transpose()
    }
}
