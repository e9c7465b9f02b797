//! PostgreSQL side of in-app notifications.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{PgStore, insert_events, renew_leases};
use crate::Result;
use crate::notifications::{
    CLAIMABLE_EMAILS, FINISH_EMAIL, INSERT, InApp, LEASE_EMAIL, MailOutcome, NEXT_EMAIL,
    Notification, NotificationQuery, Notifications, QUEUE_EMAIL, QueuedEmail, REMINDER_CHANNELS,
    RENEW_EMAIL, ReminderChannels, SET_REMINDER_CHANNELS, VERIFIED_EMAIL, leased_email, list_sql,
    mark_read_sql, raw_notification, reminder_channels,
};

#[async_trait]
impl Notifications for PgStore {
    async fn notify_in_app(&self, notes: &[InApp]) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let mut delivered = Vec::new();
        for note in notes {
            let n = &note.notification;
            let added = sqlx::query(INSERT)
                .bind(&n.id)
                .bind(&note.user_id)
                .bind(&n.event_id)
                .bind(&n.task_id)
                .bind(&n.reminder_id)
                .bind(&n.title)
                .bind(&n.body)
                .bind(n.created_at.timestamp_millis())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if added {
                delivered.push(note.delivered.clone());
            }
        }
        if !delivered.is_empty() {
            insert_events(&mut tx, &delivered).await?;
        }
        tx.commit().await?;
        Ok(delivered.len())
    }

    async fn list_notifications(
        &self,
        user_id: &str,
        q: &NotificationQuery,
    ) -> Result<Vec<Notification>> {
        let sql = list_sql(q);
        // Fixed fragments only; the cursor is bound.
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str())).bind(user_id);
        if let Some((t, id)) = &q.before {
            query = query.bind(*t).bind(id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(|r| raw_notification(r)?.decode()).collect()
    }

    async fn reminder_channels(&self, user_id: &str) -> Result<ReminderChannels> {
        let chosen = sqlx::query(REMINDER_CHANNELS)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(chosen
            .map(|r| reminder_channels(&r))
            .transpose()?
            .unwrap_or_default())
    }

    async fn set_reminder_channels(&self, user_id: &str, c: ReminderChannels) -> Result<()> {
        sqlx::query(SET_REMINDER_CHANNELS)
            .bind(user_id)
            .bind(c.in_app)
            .bind(c.email)
            .bind(c.webhook)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn verified_email(&self, user_id: &str) -> Result<Option<String>> {
        let email: Option<Option<String>> = sqlx::query_scalar(VERIFIED_EMAIL)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(email.flatten())
    }

    async fn queue_email(&self, m: &QueuedEmail, now: DateTime<Utc>) -> Result<bool> {
        Ok(sqlx::query(QUEUE_EMAIL)
            .bind(&m.event_id)
            .bind(&m.user_id)
            .bind(&m.to)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(now.timestamp_millis())
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1)
    }

    async fn claim_emails(
        &self,
        now: DateTime<Utc>,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(QueuedEmail, i64)>> {
        let now_ms = now.timestamp_millis();
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "{CLAIMABLE_EMAILS} FOR UPDATE SKIP LOCKED"
        )))
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(LEASE_EMAIL)
                .bind(&id)
                .bind(now_ms + lease_ms)
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
            out.push(leased_email(&row)?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn renew_emails(&self, event_ids: &[String], held_ms: i64, until_ms: i64) -> Result<()> {
        renew_leases(&self.pool, RENEW_EMAIL, event_ids, held_ms, until_ms).await
    }

    async fn finish_email(
        &self,
        event_id: &str,
        outcome: &MailOutcome,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let now_ms = now.timestamp_millis();
        let (state, next, error) = outcome.values(now_ms);
        sqlx::query(FINISH_EMAIL)
            .bind(event_id)
            .bind(state)
            .bind(next)
            .bind(error)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn next_email_at(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(NEXT_EMAIL).fetch_one(&self.pool).await?)
    }

    async fn mark_notification_read(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Notification>> {
        let row = sqlx::query(AssertSqlSafe(mark_read_sql()))
            .bind(id)
            .bind(user_id)
            .bind(now.timestamp_millis())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| raw_notification(&r)?.decode()).transpose()
    }
}
