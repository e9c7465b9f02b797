//! Webhook delivery, part of the notifier role: claims due deliveries from
//! the store, sends each as a signed Standard Webhooks POST (no redirects
//! followed, private targets refused), and records the outcome: 2xx
//! delivered, 410 turns the endpoint off, anything else is retried on the
//! schedule in [`retry`] or at the receiver's `Retry-After`.

mod resolve;
mod retry;
mod sign;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dueflow_domain::webhook::{check_url, secret_key};
use dueflow_store::{DeliveryJob, Outcome, Webhooks};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use tokio::task::JoinSet;

use crate::pump::{LEASE_MS, Queue, while_leased};

/// Deliveries claimed (and sent concurrently) at once.
const BATCH: u32 = 32;
const TIMEOUT: Duration = Duration::from_secs(15);

/// Cheap to clone: the store and the HTTP client are shared handles.
#[derive(Clone)]
pub struct Sender {
    store: Arc<dyn Webhooks>,
    http: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(store: Arc<dyn Webhooks>, allow_private: bool) -> Result<Self, String> {
        // No proxy: the guard must see (and vet) the target's own addresses.
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(concat!("dueflow-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(resolve::GuardedResolver { allow_private }))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self {
            store,
            http,
            allow_private,
        })
    }

    /// Send one claimed delivery; what became of it.
    async fn send(&self, job: &DeliveryJob, now: DateTime<Utc>) -> Outcome {
        let fail = |status: Option<u16>, error: String| Outcome::Failed {
            status,
            error,
            disable: false,
        };
        let url = match check_url(&job.url, self.allow_private) {
            Ok(u) => u,
            Err(e) => return fail(None, e),
        };
        let keys = match job
            .secrets
            .iter()
            .map(|s| secret_key(s))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(k) => k,
            Err(e) => return fail(None, e),
        };
        let timestamp = now.timestamp();
        // During a rotation, one signature per secret, space-separated.
        let signatures = keys
            .iter()
            .map(|k| sign::signature(k, &job.id, timestamp, &job.payload))
            .collect::<Vec<_>>()
            .join(" ");
        let response = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &job.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures)
            .body(job.payload.clone())
            .send()
            .await;
        let (status, error, asked) = match response {
            Ok(r) if r.status().is_success() => {
                return Outcome::Delivered {
                    status: r.status().as_u16(),
                };
            }
            Ok(r) if r.status() == reqwest::StatusCode::GONE => {
                return Outcome::Failed {
                    status: Some(410),
                    error: "the receiver answered 410 Gone; endpoint disabled".into(),
                    disable: true,
                };
            }
            Ok(r) => {
                let asked = r
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry::retry_after(v, now));
                let status = r.status();
                (
                    Some(status.as_u16()),
                    format!("receiver answered {status}"),
                    asked,
                )
            }
            Err(e) => (None, describe(&e), None),
        };
        match asked.or_else(|| retry::backoff(job.attempts)) {
            Some(wait) if job.attempts < retry::ATTEMPTS => Outcome::Retry {
                at_ms: now.timestamp_millis() + wait.as_millis() as i64,
                status,
                error,
            },
            _ => fail(
                status,
                format!("{error}; gave up after {} attempts", job.attempts),
            ),
        }
    }

    /// Claim and send what is due; how many were claimed.
    async fn round(&self) -> Result<usize, String> {
        let now = Utc::now();
        let jobs = self
            .store
            .claim_deliveries(now, LEASE_MS, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        let n = jobs.len();
        let ids = jobs.iter().map(|j| j.id.clone()).collect();
        let mut sending = JoinSet::new();
        for job in jobs {
            let me = self.clone();
            sending.spawn(async move {
                let outcome = me.send(&job, Utc::now()).await;
                let label = match &outcome {
                    Outcome::Delivered { .. } => "delivered",
                    Outcome::Retry { .. } => "retry",
                    Outcome::Failed { .. } => "failed",
                };
                metrics::counter!("dueflow_webhook_attempts_total", "outcome" => label)
                    .increment(1);
                if let Err(e) = me.store.finish_delivery(&job.id, &outcome, Utc::now()).await {
                    // The lease runs out and the delivery is sent again.
                    tracing::warn!(delivery = %job.id, error = %e, "cannot record a webhook attempt");
                }
                job.id
            });
        }
        let store = &self.store;
        while_leased(
            <Self as Queue>::WHAT,
            sending,
            ids,
            now.timestamp_millis() + LEASE_MS,
            |ids, held, until| async move {
                store
                    .renew_deliveries(&ids, held, until)
                    .await
                    .map_err(|e| e.to_string())
            },
        )
        .await;
        Ok(n)
    }
}

#[async_trait]
impl Queue for Sender {
    const WHAT: &'static str = "webhook deliveries";
    const BATCH: usize = BATCH as usize;

    async fn round(&self) -> Result<usize, String> {
        Sender::round(self).await
    }

    async fn next_at(&self) -> Result<Option<i64>, String> {
        self.store
            .next_delivery_at()
            .await
            .map_err(|e| e.to_string())
    }
}

/// A transport error with its cause, not just "error sending request"; a
/// target the guard refused is only "target not allowed".
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if cause.is::<resolve::NotAllowed>() {
            return resolve::NotAllowed.to_string();
        }
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}
