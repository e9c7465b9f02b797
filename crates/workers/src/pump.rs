//! The loop shared by the senders that work off a durable queue (webhook
//! deliveries, mails): send a round of what is due, then sleep until the
//! soonest pending item, a wake-up (something was queued) or a short
//! safety interval, whichever comes first. A claimed item is leased for a
//! few seconds and the lease renewed while it is being sent, so the items
//! of a sender that was killed are taken over by another within
//! [`LEASE_MS`]; on shutdown a round's sends are finished first.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The longest a sender sleeps without looking (another replica may have
/// queued something this one was not woken for).
const MAX_SLEEP: Duration = Duration::from_secs(2);

/// How long a claimed item stays leased to its sender without a renewal.
pub const LEASE_MS: i64 = 3_000;
/// How often the leases of the items being sent are renewed.
const RENEW: Duration = Duration::from_secs(1);

/// Wait for a round's `sending` (each send yields its item's key once the
/// outcome is recorded), renewing the leases of the unfinished of `keys`,
/// claimed until `held_ms`, with `renew(keys, held_ms, until_ms)`.
pub async fn while_leased<R, F>(
    what: &str,
    mut sending: tokio::task::JoinSet<String>,
    keys: Vec<String>,
    mut held_ms: i64,
    renew: R,
) where
    R: Fn(Vec<String>, i64, i64) -> F,
    F: Future<Output = Result<(), String>>,
{
    let mut open: HashSet<String> = keys.into_iter().collect();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + RENEW, RENEW);
    // After a slow renewal, the next a full interval later, not at once.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            done = sending.join_next() => match done {
                Some(Ok(key)) => {
                    open.remove(&key);
                }
                // A send that panicked: its item is renewed until the round
                // ends, then its lease ends and it is sent again.
                Some(Err(e)) => tracing::error!(what, error = %e, "a send failed"),
                None => return,
            },
            _ = tick.tick(), if !open.is_empty() => {
                let until_ms = Utc::now().timestamp_millis() + LEASE_MS;
                match renew(open.iter().cloned().collect(), held_ms, until_ms).await {
                    Ok(()) => held_ms = until_ms,
                    Err(e) => tracing::warn!(what, error = %e, "cannot renew the leases of the items being sent"),
                }
            }
        }
    }
}

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
