//! The loop shared by the senders that work off a durable queue (webhook
//! deliveries, mails): send a round of what is due, then sleep until the
//! soonest pending item, a wake-up (something was queued) or a short
//! safety interval, whichever comes first.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The longest a sender sleeps without looking (another replica may have
/// queued something this one was not woken for).
const MAX_SLEEP: Duration = Duration::from_secs(2);

/// A durable queue and its sender.
#[async_trait]
pub trait Queue: Send + Sync {
    /// For logs.
    const WHAT: &'static str;
    /// Items claimed per round; a full round means more may be due.
    const BATCH: usize;
    /// Claim and send one batch; how many were claimed.
    async fn round(&self) -> Result<usize, String>;
    /// When the soonest pending item is due (ms since the epoch).
    async fn next_at(&self) -> Result<Option<i64>, String>;
}

pub async fn pump<Q: Queue>(queue: Arc<Q>, wake: Arc<Notify>, shutdown: CancellationToken) {
    let what = Q::WHAT;
    while !shutdown.is_cancelled() {
        let sleep = match queue.round().await {
            Ok(n) if n >= Q::BATCH => continue,
            Ok(_) => match queue.next_at().await {
                Ok(Some(at)) => {
                    Duration::from_millis((at - Utc::now().timestamp_millis()).max(0) as u64)
                        .min(MAX_SLEEP)
                }
                Ok(None) => MAX_SLEEP,
                Err(e) => {
                    tracing::warn!(what, error = %e, "cannot read the next due item");
                    MAX_SLEEP
                }
            },
            Err(e) => {
                tracing::warn!(what, error = %e, "cannot claim due items");
                MAX_SLEEP
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}
