//! The scheduler role: fires reminders at their instant. A timer sleeps
//! until the soonest pending reminder; a reminder scheduled or snoozed
//! wakes it early, because it may be sooner. Firing is a
//! store transaction (mark fired + `reminder.due` in the outbox), so a
//! reminder fires once however many schedulers run, and one missed while
//! no scheduler ran fires on the next start, marked late.
//!
//! With Dapr's Jobs API as the timer, the scheduler sets a one-shot job
//! for each reminder scheduled or snoozed (named after the reminder, so a
//! snooze replaces it) and the sidecar's call when it falls due wakes the
//! timer, which fires what is due then, as above; between calls the timer
//! only looks every [`JOBS_SWEEP`], which catches up with any reminder
//! whose job was never set (one scheduled while no scheduler ran).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use dueflow_bus::dapr::DaprJobs;
use dueflow_bus::{BusError, Handler, HandlerError, Message};
use dueflow_domain::event::{Envelope, EventType, REMINDERS};
use dueflow_store::{Fired, Reminders};
use dueflow_telemetry::{Span, SpanKind};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Reminders fired per transaction.
const BATCH: u32 = 500;
/// The longest the timer sleeps without looking (a safety net: a wake-up
/// event may be lost when the bus delivers it to another replica).
pub const MAX_SLEEP: Duration = Duration::from_secs(2);
/// The longest the timer sleeps when Dapr's jobs wake it.
pub const JOBS_SWEEP: Duration = Duration::from_secs(30);

/// What times the reminders.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Timing {
    /// The timer's own sleeps, to the next reminder.
    Own,
    /// Dapr's jobs, whose calls wake the timer.
    DaprJobs,
}
const RETRY: Duration = Duration::from_secs(1);
const CONTENDED: Duration = Duration::from_millis(50);

/// Wakes the scheduler timer on the events that may bring a reminder
/// sooner than the one it sleeps for (scheduled or snoozed); others only
/// ever remove reminders, and the timer finds that out when it wakes.
/// With Dapr's jobs, it sets the reminder's job instead.
pub struct Wake {
    pub timer: Arc<Notify>,
    pub jobs: Option<Arc<DaprJobs>>,
}

const WAKING: [EventType; 2] = [EventType::ReminderScheduled, EventType::ReminderSnoozed];
/// The topics the waking events are published on: all a scheduler reads.
pub const TOPICS: [&str; 1] = [REMINDERS];

#[async_trait]
impl Handler for Wake {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        let head = Envelope::parse(&m.payload).map_err(HandlerError::Reject)?;
        if !WAKING.iter().any(|t| head.is(*t)) {
            return Ok(());
        }
        match &self.jobs {
            None => self.timer.notify_one(),
            Some(jobs) => set_job(jobs, &m.payload).await?,
        }
        Ok(())
    }
}

/// The job of the reminder a `reminder.scheduled` or `reminder.snoozed`
/// event is about, due when it fires.
async fn set_job(jobs: &DaprJobs, payload: &str) -> Result<(), HandlerError> {
    #[derive(serde::Deserialize)]
    struct Reminder {
        id: String,
        fire_at: String,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        reminder: Reminder,
    }
    #[derive(serde::Deserialize)]
    struct Doc {
        data: Data,
    }
    let r = serde_json::from_str::<Doc>(payload)
        .map_err(|e| HandlerError::Reject(format!("not a reminder event: {e}")))?
        .data
        .reminder;
    jobs.schedule(
        &format!("reminder-{}", r.id),
        &r.fire_at,
        serde_json::json!({ "reminder": r.id }),
    )
    .await
    .map_err(|e| match e {
        // The reminder still fires, on the timer's next look.
        BusError::Refused(reason) => HandlerError::Reject(reason),
        BusError::Unavailable(reason) => HandlerError::Retry(reason),
    })
}

/// Fire what is due; how long to sleep then.
async fn tick(store: &dyn Reminders, timing: Timing) -> Duration {
    let longest = match timing {
        Timing::Own => MAX_SLEEP,
        Timing::DaprJobs => JOBS_SWEEP,
    };
    loop {
        let now = Utc::now();
        match store.next_reminder_at().await {
            Ok(Some(at)) if at <= now => {}
            Ok(Some(at)) => {
                let wait = (at - now).to_std().unwrap_or(Duration::ZERO);
                // With Dapr's jobs the timer sleeps until the next call,
                // unless the next reminder is nearer than its own short
                // look: a call that came a little early (the sidecar's
                // clock ahead) still fires on time.
                return if wait <= MAX_SLEEP { wait } else { longest };
            }
            Ok(None) => return longest,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the next reminder");
                return RETRY;
            }
        }
        match store.fire_due_reminders(now, BATCH).await {
            Ok(fired) => {
                for f in &fired {
                    metrics::histogram!("dueflow_reminder_lateness_seconds")
                        .record(f.late_ms as f64 / 1000.0);
                    record(f);
                }
                metrics::counter!("dueflow_reminders_fired_total").increment(fired.len() as u64);
                if fired.is_empty() {
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

/// The firing of a reminder as a span, the first of its event's trace.
fn record(f: &Fired) {
    if dueflow_telemetry::enabled() {
        let mut span = Span::start(SpanKind::Internal, "fire reminder", f.trace, None);
        span.set("dueflow.reminder.late_ms", f.late_ms);
    }
}

/// The timer, timed as `timing` says.
pub async fn run(
    store: Arc<dyn Reminders>,
    wake: Arc<Notify>,
    timing: Timing,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        let sleep = tick(store.as_ref(), timing).await;
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
