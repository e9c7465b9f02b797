//! SQLite side of webhook endpoints and deliveries.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{SqliteStore, sql};
use crate::Result;
use crate::webhooks::{
    CLAIMABLE, DELETE_WEBHOOK, DELETE_WEBHOOK_DELIVERIES, DISABLE, Delivery, DeliveryJob, ENDPOINT,
    Endpoint, FINISH, INSERT_DELIVERY, INSERT_WEBHOOK, LEASE, NEXT_DUE, NewDelivery, OWNED,
    Outcome, REDELIVER, RENEW, ROTATE_SECRET, RawDelivery, WEBHOOK_COLUMNS, Webhook, Webhooks,
    claimed, finish_values, list_deliveries_sql, raw_delivery, raw_webhook,
};

fn webhooks_of(c: &Connection, user_ids: &[&str]) -> Result<Vec<Webhook>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks \
         WHERE user_id IN (SELECT value FROM json_each(?1)) ORDER BY created_at, id"
    ))?;
    let users = serde_json::to_string(user_ids).expect("strings serialise");
    let rows = stmt.query_map([users], |r| raw_webhook(r))?;
    rows.map(|r| r?.decode()).collect()
}

/// Write an attempt's end within `tx`, turning the endpoint off if asked.
fn finish(tx: &Transaction<'_>, id: &str, outcome: &Outcome, now_ms: i64) -> Result<()> {
    let (state, next, status, error) = finish_values(outcome, now_ms);
    let webhook_id: Option<String> = tx
        .prepare_cached(&sql(FINISH))?
        .query_row(params![id, state, next, status, error, now_ms], |r| {
            r.get(0)
        })
        .optional()?;
    if let (
        Some(w),
        Outcome::Failed {
            error,
            disable: true,
            ..
        },
    ) = (webhook_id, outcome)
    {
        tx.prepare_cached(&sql(DISABLE))?.execute([&w, error])?;
    }
    Ok(())
}

#[async_trait]
impl Webhooks for SqliteStore {
    async fn insert_webhook(&self, w: &Webhook) -> Result<()> {
        let events = serde_json::to_string(&w.events).expect("strings serialise");
        let w = w.clone();
        self.write(move |tx| {
            tx.prepare_cached(&sql(INSERT_WEBHOOK))?.execute(params![
                w.id,
                w.user_id,
                w.url,
                events,
                w.secret,
                w.enabled,
                w.disabled_reason,
                w.created_at.timestamp_millis()
            ])?;
            Ok(())
        })
        .await
    }

    async fn list_webhooks(&self, user_ids: &[&str]) -> Result<Vec<Webhook>> {
        self.read(|c| webhooks_of(c, user_ids))
    }

    async fn delete_webhook(&self, user_id: &str, id: &str) -> Result<bool> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.write(move |tx| {
            let gone = tx
                .prepare_cached(&sql(DELETE_WEBHOOK))?
                .execute([&id, &user_id])?
                == 1;
            if gone {
                tx.prepare_cached(&sql(DELETE_WEBHOOK_DELIVERIES))?
                    .execute([&id])?;
            }
            Ok(gone)
        })
        .await
    }

    async fn rotate_webhook_secret(
        &self,
        user_id: &str,
        id: &str,
        secret: &str,
        previous_until: DateTime<Utc>,
    ) -> Result<bool> {
        let (user_id, id, secret) = (user_id.to_owned(), id.to_owned(), secret.to_owned());
        self.write(move |tx| {
            let n = tx.prepare_cached(&sql(ROTATE_SECRET))?.execute(params![
                id,
                user_id,
                secret,
                previous_until.timestamp_millis()
            ])?;
            Ok(n == 1)
        })
        .await
    }

    async fn enqueue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let deliveries = deliveries.to_vec();
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(&sql(INSERT_DELIVERY))?;
            let mut n = 0;
            for d in &deliveries {
                n += stmt.execute(params![
                    new_id(IdKind::Delivery),
                    d.webhook_id,
                    d.user_id,
                    d.event_id,
                    d.event_type,
                    d.payload,
                    now.timestamp_millis()
                ])?;
            }
            Ok(n)
        })
        .await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryJob>> {
        let now_ms = now.timestamp_millis();
        self.write(move |tx| {
            let ids = tx
                .prepare_cached(&sql(CLAIMABLE))?
                .query_map(params![now_ms, i64::from(limit)], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut jobs = Vec::with_capacity(ids.len());
            for id in ids {
                let (id, webhook_id, payload, attempts): (String, String, String, i64) = tx
                    .prepare_cached(&sql(LEASE))?
                    .query_row(params![id, now_ms + lease_ms, now_ms], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?;
                let endpoint: Option<Endpoint> = tx
                    .prepare_cached(&sql(ENDPOINT))?
                    .query_row(params![webhook_id, now_ms], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .optional()?;
                match claimed((id, webhook_id, payload, attempts), endpoint) {
                    Ok(job) => jobs.push(job),
                    Err((id, gone)) => finish(tx, &id, &gone, now_ms)?,
                }
            }
            Ok(jobs)
        })
        .await
    }

    async fn renew_deliveries(&self, ids: &[String], held_ms: i64, until_ms: i64) -> Result<()> {
        self.renew_leases(RENEW, ids, held_ms, until_ms).await
    }

    async fn finish_delivery(&self, id: &str, outcome: &Outcome, now: DateTime<Utc>) -> Result<()> {
        let (id, outcome) = (id.to_owned(), outcome.clone());
        self.write(move |tx| finish(tx, &id, &outcome, now.timestamp_millis()))
            .await
    }

    async fn next_delivery_at(&self) -> Result<Option<i64>> {
        self.read(|c| Ok(c.query_row(NEXT_DUE, [], |r| r.get(0))?))
    }

    async fn list_deliveries(
        &self,
        user_id: &str,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>> {
        let rows = self.read(|c| {
            let owned = c
                .prepare_cached(&sql(OWNED))?
                .query_row([webhook_id, user_id], |_| Ok(()))
                .optional()?;
            if owned.is_none() {
                return Ok(None);
            }
            let mut stmt = c.prepare_cached(&sql(&list_deliveries_sql(limit)))?;
            let rows = stmt.query_map([webhook_id], |r| raw_delivery(r))?;
            Ok(Some(rows.collect::<rusqlite::Result<Vec<_>>>()?))
        })?;
        rows.map(|v| v.into_iter().map(RawDelivery::decode).collect())
            .transpose()
    }

    async fn redeliver(
        &self,
        user_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (user_id, webhook_id, delivery_id) = (
            user_id.to_owned(),
            webhook_id.to_owned(),
            delivery_id.to_owned(),
        );
        self.write(move |tx| {
            Ok(tx.prepare_cached(&sql(REDELIVER))?.execute(params![
                user_id,
                webhook_id,
                delivery_id,
                now.timestamp_millis()
            ])? == 1)
        })
        .await
    }
}
