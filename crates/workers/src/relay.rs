//! The outbox relay: reads committed events from the outbox in sequence
//! order, publishes them, and deletes them only once the bus accepted them.
//! Rows are found by presence, never by "ids above the last one seen", so a
//! row whose transaction committed late is still picked up. A bus outage
//! only delays events: the batch is retried with backoff. A relay that
//! drained the outbox waits for the store to say it may have grown
//! ([`Outbox::outbox_written`]), and at least [`MIN_GAP`]. Each event goes
//! to its own topic and to the live-update topic, in outbox order. Of the
//! relays of several replicas only the leader publishes
//! ([`Outbox::relay_leader`]); it confirms that every [`LEADERSHIP_CHECK`],
//! and the others stand by and ask every 200 ms, so one takes over within
//! about that once the leader's database session ends (at once when its
//! process stops or dies).

use std::sync::Arc;
use std::time::{Duration, Instant};

use dueflow_bus::health::BusHealth;
use dueflow_bus::{Message, Publisher};
use dueflow_domain::event::{Envelope, TASK_UPDATES};
use dueflow_store::{Outbox, OutboxMessage};
use dueflow_telemetry::{Span, SpanKind};
use tokio_util::sync::CancellationToken;

pub const BATCH: u32 = 500;
/// The shortest pause after a look that found the outbox drained: a write
/// after a quiet spell goes out at once, and under steady writes the relay
/// takes what they add in batches (each look and its acknowledgement cost a
/// read and a write) rather than one commit at a time.
const MIN_GAP: Duration = Duration::from_millis(10);
/// The first retry's delay after the bus or the store failed.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often a relay confirms it leads.
pub const LEADERSHIP_CHECK: Duration = Duration::from_secs(1);
/// How often a standby asks to lead: the pause in publishing when the
/// leader's process is replaced.
const STANDBY_CHECK: Duration = Duration::from_millis(200);

/// Publish one batch; how many messages went out.
pub async fn relay_once(store: &dyn Outbox, bus: &dyn Publisher) -> Result<usize, String> {
    let batch = store.outbox_batch(BATCH).await.map_err(|e| e.to_string())?;
    if batch.is_empty() {
        return Ok(0);
    }
    // With traces exported, one producer span per event, in its trace.
    let mut spans: Vec<Span> = if dueflow_telemetry::enabled() {
        batch
            .iter()
            .filter_map(|m| publish_span(m, bus.system()))
            .collect()
    } else {
        Vec::new()
    };
    let messages: Vec<Message> = batch
        .iter()
        .flat_map(|m| {
            [m.topic.as_str(), TASK_UPDATES].map(|topic| Message {
                id: m.id.clone(),
                topic: topic.to_owned(),
                key: m.partition_key.clone(),
                payload: m.payload.clone(),
            })
        })
        .collect();
    if let Err(e) = bus.publish(&messages).await {
        for span in &mut spans {
            span.fail(e.to_string());
        }
        let mut topics: Vec<&str> = messages.iter().map(|m| m.topic.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        for topic in topics {
            metrics::counter!("dueflow_publish_failures_total", "topic" => topic.to_owned())
                .increment(1);
        }
        return Err(e.to_string());
    }
    let seqs: Vec<i64> = batch.iter().map(|m| m.seq).collect();
    store.outbox_ack(&seqs).await.map_err(|e| e.to_string())?;
    for m in &messages {
        metrics::counter!("dueflow_published_total", "topic" => m.topic.clone()).increment(1);
    }
    Ok(batch.len())
}

/// The span of publishing `m`, a child of the span that made the event.
fn publish_span(m: &OutboxMessage, system: &'static str) -> Option<Span> {
    let made_by = Envelope::parse(&m.payload).ok()?.trace()?;
    let mut span = Span::start(
        SpanKind::Producer,
        format!("send {}", m.topic),
        made_by.child(),
        Some(made_by),
    );
    span.set("messaging.system", system);
    span.set("messaging.operation.type", "send");
    span.set("messaging.destination.name", m.topic.clone());
    span.set("messaging.message.id", m.id.clone());
    Some(span)
}

pub async fn run(
    store: Arc<dyn Outbox>,
    bus: Arc<dyn Publisher>,
    health: Arc<BusHealth>,
    shutdown: CancellationToken,
) {
    let mut backoff = FIRST_BACKOFF;
    let mut leads_until: Option<Instant> = None;
    while !shutdown.is_cancelled() {
        if leads_until.is_none_or(|t| Instant::now() >= t) {
            let leads = store.relay_leader().await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot tell whether this relay leads");
                false
            });
            metrics::gauge!("dueflow_relay_leader").set(if leads { 1.0 } else { 0.0 });
            if leads_until.is_some() && !leads {
                // Its failures no longer speak for the bus; this process's
                // consumers report on their own.
                health.ok();
            }
            leads_until = leads.then(|| Instant::now() + LEADERSHIP_CHECK);
            if !leads {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(STANDBY_CHECK) => {}
                }
                continue;
            }
        }
        match relay_once(store.as_ref(), bus.as_ref()).await {
            Ok(n) => {
                health.ok();
                backoff = FIRST_BACKOFF;
                if n == BATCH as usize {
                    continue;
                }
                metrics::gauge!("dueflow_outbox_backlog").set(0.0);
                let earliest_look = tokio::time::Instant::now() + MIN_GAP;
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = async {
                        store.outbox_written().await;
                        tokio::time::sleep_until(earliest_look).await;
                    } => {}
                }
            }
            Err(e) => {
                health.failed();
                tracing::warn!(error = %e, retry_in = ?backoff, "outbox relay failed");
                // Counting rows is a scan: only worth it when the relay is behind.
                if let Ok(n) = store.outbox_backlog().await {
                    metrics::gauge!("dueflow_outbox_backlog").set(n as f64);
                }
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
