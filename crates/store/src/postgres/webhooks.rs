//! PostgreSQL side of webhook endpoints and deliveries; due deliveries are
//! claimed with `FOR UPDATE SKIP LOCKED`, so several notifiers share them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use sqlx::AssertSqlSafe;

use super::{PgStore, renew_leases};
use crate::Result;
use crate::webhooks::{
    CLAIMABLE, DELETE_WEBHOOK, DELETE_WEBHOOK_DELIVERIES, DISABLE, Delivery, DeliveryJob, ENDPOINT,
    Endpoint, FINISH, INSERT_DELIVERY, INSERT_WEBHOOK, LEASE, NEXT_DUE, NewDelivery, OWNED,
    Outcome, REDELIVER, RENEW, ROTATE_SECRET, WEBHOOK_COLUMNS, Webhook, Webhooks, claimed,
    finish_values, list_deliveries_sql, raw_delivery, raw_webhook,
};

/// Write an attempt's end within `tx`, turning the endpoint off if asked.
async fn finish(tx: &mut super::Tx<'_>, id: &str, outcome: &Outcome, now_ms: i64) -> Result<()> {
    let (state, next, status, error) = finish_values(outcome, now_ms);
    let webhook_id: Option<String> = sqlx::query_scalar(FINISH)
        .bind(id)
        .bind(state)
        .bind(next)
        .bind(status)
        .bind(error)
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?;
    if let (
        Some(w),
        Outcome::Failed {
            error,
            disable: true,
            ..
        },
    ) = (webhook_id, outcome)
    {
        sqlx::query(DISABLE)
            .bind(w)
            .bind(error)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl Webhooks for PgStore {
    async fn insert_webhook(&self, w: &Webhook) -> Result<()> {
        sqlx::query(INSERT_WEBHOOK)
            .bind(&w.id)
            .bind(&w.user_id)
            .bind(&w.url)
            .bind(serde_json::to_string(&w.events).expect("strings serialise"))
            .bind(&w.secret)
            .bind(w.enabled)
            .bind(&w.disabled_reason)
            .bind(w.created_at.timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_webhooks(&self, user_ids: &[&str]) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = ANY($1) ORDER BY created_at, id"
        )))
        .bind(user_ids)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| raw_webhook(r)?.decode()).collect()
    }

    async fn delete_webhook(&self, user_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let gone = sqlx::query(DELETE_WEBHOOK)
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if gone {
            sqlx::query(DELETE_WEBHOOK_DELIVERIES)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(gone)
    }

    async fn rotate_webhook_secret(
        &self,
        user_id: &str,
        id: &str,
        secret: &str,
        previous_until: DateTime<Utc>,
    ) -> Result<bool> {
        let n = sqlx::query(ROTATE_SECRET)
            .bind(id)
            .bind(user_id)
            .bind(secret)
            .bind(previous_until.timestamp_millis())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    async fn enqueue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let mut n = 0;
        for d in deliveries {
            n += sqlx::query(INSERT_DELIVERY)
                .bind(new_id(IdKind::Delivery))
                .bind(&d.webhook_id)
                .bind(&d.user_id)
                .bind(&d.event_id)
                .bind(d.event_type)
                .bind(&d.payload)
                .bind(now.timestamp_millis())
                .execute(&mut *tx)
                .await?
                .rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryJob>> {
        let now_ms = now.timestamp_millis();
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("{CLAIMABLE} FOR UPDATE SKIP LOCKED")))
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            let (id, webhook_id, payload, attempts): (String, String, String, i64) =
                sqlx::query_as(LEASE)
                    .bind(&id)
                    .bind(now_ms + lease_ms)
                    .bind(now_ms)
                    .fetch_one(&mut *tx)
                    .await?;
            let endpoint: Option<Endpoint> = sqlx::query_as(ENDPOINT)
                .bind(&webhook_id)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
            match claimed((id, webhook_id, payload, attempts), endpoint) {
                Ok(job) => jobs.push(job),
                Err((id, gone)) => finish(&mut tx, &id, &gone, now_ms).await?,
            }
        }
        tx.commit().await?;
        Ok(jobs)
    }

    async fn renew_deliveries(&self, ids: &[String], held_ms: i64, until_ms: i64) -> Result<()> {
        renew_leases(&self.pool, RENEW, ids, held_ms, until_ms).await
    }

    async fn finish_delivery(&self, id: &str, outcome: &Outcome, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        finish(&mut tx, id, outcome, now.timestamp_millis()).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn next_delivery_at(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(NEXT_DUE).fetch_one(&self.pool).await?)
    }

    async fn list_deliveries(
        &self,
        user_id: &str,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>> {
        let owned: Option<i32> = sqlx::query_scalar(OWNED)
            .bind(webhook_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        if owned.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(AssertSqlSafe(list_deliveries_sql(limit)))
            .bind(webhook_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| raw_delivery(r)?.decode())
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    async fn redeliver(
        &self,
        user_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(sqlx::query(REDELIVER)
            .bind(user_id)
            .bind(webhook_id)
            .bind(delivery_id)
            .bind(now.timestamp_millis())
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1)
    }
}
