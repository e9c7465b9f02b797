//! The scheduler role: fires reminders at their instant. A timer sleeps
//! until the soonest pending reminder; a reminder scheduled or snoozed
//! wakes it early, because it may be sooner. Firing is a
//! store transaction (mark fired + `reminder.due` in the outbox), so a
//! reminder fires once however many schedulers run, and one missed while
//! no scheduler ran fires on the next start, marked late.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use dueflow_bus::{Handler, HandlerError, Message};
use dueflow_domain::event::{Envelope, EventType, REMINDERS};
use dueflow_store::Reminders;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Reminders fired per transaction.
const BATCH: u32 = 500;
/// The longest the timer sleeps without looking (a safety net: a wake-up
/// event may be lost when the bus delivers it to another replica).
const MAX_SLEEP: Duration = Duration::from_secs(2);
const RETRY: Duration = Duration::from_secs(1);
const CONTENDED: Duration = Duration::from_millis(50);

/// Wakes the scheduler timer on the events that may bring a reminder
/// sooner than the one it sleeps for (scheduled or snoozed); others only
/// ever remove reminders, and the timer finds that out when it wakes.
pub struct Wake(pub Arc<Notify>);

const WAKING: [EventType; 2] = [EventType::ReminderScheduled, EventType::ReminderSnoozed];
/// The topics the waking events are published on: all a scheduler reads.
pub const TOPICS: [&str; 1] = [REMINDERS];

#[async_trait]
impl Handler for Wake {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        let head = Envelope::parse(&m.payload).map_err(HandlerError::Reject)?;
        if WAKING.iter().any(|t| head.is(*t)) {
            self.0.notify_one();
        }
        Ok(())
    }
}

async fn tick(store: &dyn Reminders) -> Duration {
    loop {
        let now = Utc::now();
        match store.next_reminder_at().await {
            Ok(Some(at)) if at <= now => {}
            Ok(Some(at)) => return (at - now).to_std().unwrap_or(Duration::ZERO).min(MAX_SLEEP),
            Ok(None) => return MAX_SLEEP,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the next reminder");
                return RETRY;
            }
        }
        match store.fire_due_reminders(now, BATCH).await {
            Ok(late) => {
                for ms in &late {
                    metrics::histogram!("dueflow_reminder_lateness_seconds")
                        .record(*ms as f64 / 1000.0);
                }
                metrics::counter!("dueflow_reminders_fired_total").increment(late.len() as u64);
                if late.is_empty() {
                    // Another scheduler holds them; it is firing them now.
                    return CONTENDED;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot fire reminders");
                return RETRY;
            }
        }
    }
}

pub async fn run(store: Arc<dyn Reminders>, wake: Arc<Notify>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let sleep = tick(store.as_ref()).await;
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_waking_event_is_on_a_topic_the_scheduler_reads() {
        for t in WAKING {
            assert!(TOPICS.contains(&t.topic()), "{t:?} is on {}", t.topic());
        }
    }
}
