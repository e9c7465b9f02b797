//! In-process transport, the default of `dueflow serve`: publishing hands
//! each message, in order (runs of them as one batch), to every subscribed
//! consumer group and returns
//! only when all of them handled it, so the relay acknowledges the outbox
//! row only after delivery — the same at-least-once contract as a broker.
//! A handler that keeps failing makes the publish fail (the relay retries
//! the batch later); a rejected message is dead-lettered and skipped.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinSet;

use crate::subscribers::Subscribers;
use crate::{BusError, Handler, HandlerError, Message, Publisher};

/// Attempts per handler and message within one publish.
const ATTEMPTS: u32 = 4;

/// Publishing delivers to the subscribers, here and now.
#[derive(Default)]
pub struct InProcBus {
    subscribers: Subscribers,
}

impl InProcBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Deliver `topic` to `handler` under the consumer group `group`.
    pub fn subscribe(&self, topic: &str, group: &str, handler: Arc<dyn Handler>) {
        self.subscribers.subscribe(topic, group, handler);
    }
}

fn consumed(group: &str, m: &Message) {
    metrics::counter!("dueflow_consumed_total", "topic" => m.topic.clone(), "group" => group.to_owned()).increment(1);
}

async fn deliver(group: &str, handler: &dyn Handler, m: &Message) -> Result<(), BusError> {
    let mut backoff = Duration::from_millis(20);
    for attempt in 1..=ATTEMPTS {
        match handler.handle(m).await {
            Ok(()) => {
                consumed(group, m);
                return Ok(());
            }
            Err(HandlerError::Reject(reason)) => {
                tracing::error!(group, id = %m.id, topic = %m.topic, %reason, "message dead-lettered");
                metrics::counter!("dueflow_dead_letters_total", "topic" => m.topic.clone())
                    .increment(1);
                return Ok(());
            }
            Err(HandlerError::Retry(reason)) => {
                metrics::counter!("dueflow_consume_failures_total", "topic" => m.topic.clone(), "group" => group.to_owned()).increment(1);
                tracing::warn!(group, id = %m.id, attempt, %reason, "handler failed");
                if attempt < ATTEMPTS {
                    tokio::time::sleep(backoff).await;
                    backoff *= 4;
                }
            }
        }
    }
    Err(BusError::Unavailable(format!(
        "group {group} could not handle {}",
        m.id
    )))
}

/// One group's share of a batch: message positions, with their handlers.
type Work = Vec<(usize, Arc<dyn Handler>)>;

#[async_trait]
impl Publisher for InProcBus {
    fn system(&self) -> &'static str {
        "inproc"
    }

    /// Each consumer group gets the batch in order; the groups work side by
    /// side, as they would on a broker, so a slow one does not hold up the
    /// others within a batch.
    async fn publish(&self, messages: &[Message]) -> Result<(), BusError> {
        let messages: Arc<[Message]> = messages.into();
        let mut groups: Vec<(String, Work)> = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            for (group, handler) in self.subscribers.handlers(&m.topic) {
                match groups.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, work)) => work.push((i, handler)),
                    None => groups.push((group, vec![(i, handler)])),
                }
            }
        }
        let mut running = JoinSet::new();
        for (group, work) in groups {
            let messages = messages.clone();
            running.spawn(async move {
                // Consecutive messages for the same handler go as one batch;
                // if that fails, one by one, with retries.
                let same = |a: &Arc<dyn Handler>, b: &Arc<dyn Handler>| {
                    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
                };
                let mut start = 0;
                while start < work.len() {
                    let handler = &work[start].1;
                    let end = work[start..]
                        .iter()
                        .position(|(_, h)| !same(h, handler))
                        .map_or(work.len(), |n| start + n);
                    let batch: Vec<Message> = work[start..end]
                        .iter()
                        .map(|(i, _)| messages[*i].clone())
                        .collect();
                    if batch.len() > 1 && handler.handle_batch(&batch).await.is_ok() {
                        for m in &batch {
                            consumed(&group, m);
                        }
                    } else {
                        for m in &batch {
                            deliver(&group, handler.as_ref(), m).await?;
                        }
                    }
                    start = end;
                }
                Ok::<(), BusError>(())
            });
        }
        let mut result = Ok(());
        while let Some(done) = running.join_next().await {
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(e) => result = Err(BusError::Unavailable(format!("consumer task failed: {e}"))),
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Flaky {
        seen: Mutex<Vec<String>>,
        fail_first: Mutex<u32>,
    }

    #[async_trait]
    impl Handler for Flaky {
        async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
            let mut left = self.fail_first.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err(HandlerError::Retry("not yet".into()));
            }
            if m.payload == "poison" {
                return Err(HandlerError::Reject("bad".into()));
            }
            self.seen.lock().unwrap().push(m.id.clone());
            Ok(())
        }
    }

    fn msg(id: &str, payload: &str) -> Message {
        Message {
            id: id.into(),
            topic: "t".into(),
            key: "k".into(),
            payload: payload.into(),
        }
    }

    #[tokio::test]
    async fn delivers_in_order_retries_and_dead_letters() {
        let bus = InProcBus::new();
        let h = Arc::new(Flaky {
            seen: Mutex::new(vec![]),
            fail_first: Mutex::new(2),
        });
        bus.subscribe("t", "g", h.clone());
        bus.publish(&[msg("a", "x"), msg("b", "poison"), msg("c", "x")])
            .await
            .unwrap();
        assert_eq!(*h.seen.lock().unwrap(), vec!["a", "c"]);

        *h.fail_first.lock().unwrap() = ATTEMPTS;
        assert!(
            bus.publish(&[msg("d", "x")]).await.is_err(),
            "a handler that keeps failing fails the publish"
        );
        bus.publish(&[msg("d", "x")]).await.unwrap();
        assert_eq!(h.seen.lock().unwrap().last().unwrap(), "d");
    }
}
