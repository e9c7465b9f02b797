//! Webhook endpoints and their deliveries: the trait the notifier role and
//! the webhook routes use, and the SQL both backends share. A delivery is
//! one event for one endpoint (unique), retried under the same id until it
//! succeeds or gives up; claiming one leases it, so several notifiers never
//! send it at the same time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::codec::ms;
use crate::row::RowAccess;
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub user_id: String,
    pub url: String,
    /// Short event types it receives, e.g. `reminder.due`.
    pub events: Vec<String>,
    /// `whsec_…`, the signing secret.
    pub secret: String,
    pub enabled: bool,
    /// Why the server turned it off (e.g. the receiver answered 410).
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether the endpoint is on and subscribed to events of this short type.
    pub fn wants(&self, short_type: &str) -> bool {
        self.enabled && self.events.iter().any(|e| e == short_type)
    }
}

/// One event to be sent to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub webhook_id: String,
    pub user_id: String,
    pub event_id: String,
    /// The event's short type, e.g. `reminder.due`.
    pub event_type: &'static str,
    /// The webhook body.
    pub payload: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(DeliveryState::Pending),
            "delivered" => Ok(DeliveryState::Delivered),
            "failed" => Ok(DeliveryState::Failed),
            _ => Err(StoreError::Corrupt(format!("delivery state {s}"))),
        }
    }
}

/// One delivery as its endpoint's log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// Also the `webhook-id` header, the same on every attempt.
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub state: DeliveryState,
    pub attempts: i64,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// HTTP status of the last attempt, if it got an answer.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A claimed delivery, with what sending it needs.
#[derive(Debug, Clone)]
pub struct DeliveryJob {
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    /// `whsec_…` secrets to sign with: the current one, then the previous
    /// one while a rotation overlaps.
    pub secrets: Vec<String>,
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered {
        status: u16,
    },
    /// Try again at `at_ms`.
    Retry {
        at_ms: i64,
        status: Option<u16>,
        error: String,
    },
    /// Give up; with `disable`, also turn the endpoint off.
    Failed {
        status: Option<u16>,
        error: String,
        disable: bool,
    },
}

#[async_trait]
pub trait Webhooks: Send + Sync {
    async fn insert_webhook(&self, w: &Webhook) -> Result<()>;
    /// The endpoints of these users, oldest first.
    async fn list_webhooks(&self, user_ids: &[&str]) -> Result<Vec<Webhook>>;
    async fn delete_webhook(&self, user_id: &str, id: &str) -> Result<bool>;
    /// Sign with `secret` from now on, and with the current secret too
    /// until `previous_until`; `false` when the user has no such endpoint.
    async fn rotate_webhook_secret(
        &self,
        user_id: &str,
        id: &str,
        secret: &str,
        previous_until: DateTime<Utc>,
    ) -> Result<bool>;
    /// Queue deliveries, all in one transaction; one whose endpoint has
    /// its event already is skipped. Returns how many were queued.
    async fn enqueue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<usize>;
    /// Lease up to `limit` due deliveries until `now + lease_ms`.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryJob>>;
    /// Keep the deliveries of `ids` that are still leased until `held_ms`
    /// (by this sender's claim or last renewal) leased until `until_ms`;
    /// one finished, or leased to another sender since, is left alone.
    async fn renew_deliveries(&self, ids: &[String], held_ms: i64, until_ms: i64) -> Result<()>;
    async fn finish_delivery(&self, id: &str, outcome: &Outcome, now: DateTime<Utc>) -> Result<()>;
    /// When the soonest pending delivery is due (ms).
    async fn next_delivery_at(&self) -> Result<Option<i64>>;
    /// An endpoint's deliveries, newest first; `None` if the user has no
    /// such endpoint.
    async fn list_deliveries(
        &self,
        user_id: &str,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>>;
    /// Send a delivery again now (same id); `false` if not found.
    async fn redeliver(
        &self,
        user_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;
}

pub(crate) const WEBHOOK_COLUMNS: &str =
    "id, user_id, url, events, secret, enabled, disabled_reason, created_at";
/// Whether `$2` has the endpoint `$1`.
pub(crate) const OWNED: &str = "SELECT 1 FROM webhooks WHERE id = $1 AND user_id = $2";
pub(crate) const INSERT_WEBHOOK: &str = "INSERT INTO webhooks (id, user_id, url, events, secret, \
     enabled, disabled_reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(crate) const DELETE_WEBHOOK: &str = "DELETE FROM webhooks WHERE id = $1 AND user_id = $2";
pub(crate) const DELETE_WEBHOOK_DELIVERIES: &str =
    "DELETE FROM webhook_deliveries WHERE webhook_id = $1";
pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, webhook_id, \
     user_id, event_id, event_type, payload, state, attempts, next_attempt_at, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7) \
     ON CONFLICT (webhook_id, event_id) DO NOTHING";
pub(crate) const CLAIMABLE: &str = "SELECT d.id FROM webhook_deliveries d \
     WHERE d.state = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id LIMIT $2";
pub(crate) const LEASE: &str = "UPDATE webhook_deliveries SET attempts = attempts + 1, \
     next_attempt_at = $2, updated_at = $3 WHERE id = $1 AND state = 'pending' \
     RETURNING id, webhook_id, payload, attempts";
pub(crate) const RENEW: &str = "UPDATE webhook_deliveries SET next_attempt_at = $3 \
     WHERE id = $1 AND state = 'pending' AND next_attempt_at = $2";
/// An endpoint's url, secret, whether it is on, and its previous secret
/// while that still signs (at `$2`).
pub(crate) const ENDPOINT: &str = "SELECT url, secret, enabled, \
     CASE WHEN previous_until > $2 THEN previous_secret END FROM webhooks WHERE id = $1";
pub(crate) const ROTATE_SECRET: &str = "UPDATE webhooks SET previous_secret = secret, \
     previous_until = $4, secret = $3 WHERE id = $1 AND user_id = $2";
/// A row of [`ENDPOINT`].
pub(crate) type Endpoint = (String, String, bool, Option<String>);
/// What a claimed delivery of a disabled endpoint ends as.
pub(crate) const ENDPOINT_DISABLED: &str = "the endpoint is disabled";

/// A leased delivery (`LEASE`: id, webhook id, payload, attempts) and its
/// endpoint (`ENDPOINT`): the job to send, or, when the endpoint is gone
/// or disabled, the outcome that ends the delivery.
pub(crate) fn claimed(
    (id, webhook_id, payload, attempts): (String, String, String, i64),
    endpoint: Option<Endpoint>,
) -> std::result::Result<DeliveryJob, (String, Outcome)> {
    match endpoint {
        Some((url, secret, true, previous)) => Ok(DeliveryJob {
            id,
            webhook_id,
            url,
            secrets: std::iter::once(secret).chain(previous).collect(),
            payload,
            attempts,
        }),
        _ => Err((
            id,
            Outcome::Failed {
                status: None,
                error: ENDPOINT_DISABLED.into(),
                disable: false,
            },
        )),
    }
}
pub(crate) const FINISH: &str = "UPDATE webhook_deliveries SET state = $2, next_attempt_at = $3, \
     last_status = $4, last_error = $5, updated_at = $6 WHERE id = $1 \
     RETURNING webhook_id";
pub(crate) const DISABLE: &str =
    "UPDATE webhooks SET enabled = FALSE, disabled_reason = $2 WHERE id = $1";
pub(crate) const NEXT_DUE: &str =
    "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'";
pub(crate) const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_type, state, \
     attempts, next_attempt_at, last_status, last_error, created_at, updated_at";
pub(crate) const REDELIVER: &str = "UPDATE webhook_deliveries SET state = 'pending', \
     next_attempt_at = $4, updated_at = $4 \
     WHERE id = $3 AND webhook_id = $2 AND user_id = $1";

pub(crate) fn list_deliveries_sql(limit: u32) -> String {
    format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT {limit}"
    )
}

/// The values a finished attempt writes: state, next attempt, status, error.
pub(crate) fn finish_values(
    outcome: &Outcome,
    now_ms: i64,
) -> (&'static str, i64, Option<i64>, Option<&str>) {
    match outcome {
        Outcome::Delivered { status } => (
            DeliveryState::Delivered.as_str(),
            now_ms,
            Some(i64::from(*status)),
            None,
        ),
        Outcome::Retry {
            at_ms,
            status,
            error,
        } => (
            DeliveryState::Pending.as_str(),
            *at_ms,
            status.map(i64::from),
            Some(error),
        ),
        Outcome::Failed { status, error, .. } => (
            DeliveryState::Failed.as_str(),
            now_ms,
            status.map(i64::from),
            Some(error),
        ),
    }
}

pub(crate) struct RawWebhook {
    pub id: String,
    pub user_id: String,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
}

/// Reads [`WEBHOOK_COLUMNS`].
pub(crate) fn raw_webhook<R: RowAccess>(row: &R) -> Result<RawWebhook, R::Error> {
    Ok(RawWebhook {
        id: row.at(0)?,
        user_id: row.at(1)?,
        url: row.at(2)?,
        events: row.at(3)?,
        secret: row.at(4)?,
        enabled: row.at(5)?,
        disabled_reason: row.at(6)?,
        created_at: row.at(7)?,
    })
}

impl RawWebhook {
    pub fn decode(self) -> Result<Webhook> {
        Ok(Webhook {
            events: serde_json::from_str(&self.events)
                .map_err(|e| StoreError::Corrupt(format!("webhook {}: events: {e}", self.id)))?,
            created_at: ms(self.created_at)?,
            id: self.id,
            user_id: self.user_id,
            url: self.url,
            secret: self.secret,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
        })
    }
}

pub(crate) struct RawDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Reads [`DELIVERY_COLUMNS`].
pub(crate) fn raw_delivery<R: RowAccess>(row: &R) -> Result<RawDelivery, R::Error> {
    Ok(RawDelivery {
        id: row.at(0)?,
        webhook_id: row.at(1)?,
        event_id: row.at(2)?,
        event_type: row.at(3)?,
        state: row.at(4)?,
        attempts: row.at(5)?,
        next_attempt_at: row.at(6)?,
        last_status: row.at(7)?,
        last_error: row.at(8)?,
        created_at: row.at(9)?,
        updated_at: row.at(10)?,
    })
}

impl RawDelivery {
    pub fn decode(self) -> Result<Delivery> {
        Ok(Delivery {
            state: DeliveryState::parse(&self.state)?,
            next_attempt_at: ms(self.next_attempt_at)?,
            created_at: ms(self.created_at)?,
            updated_at: ms(self.updated_at)?,
            id: self.id,
            webhook_id: self.webhook_id,
            event_id: self.event_id,
            event_type: self.event_type,
            attempts: self.attempts,
            last_status: self.last_status,
            last_error: self.last_error,
        })
    }
}
