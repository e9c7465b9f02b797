//! Kafka transport (any Kafka-protocol broker) through librdkafka.
//!
//! Messages follow the CloudEvents Kafka protocol binding in structured
//! mode: the value is the CloudEvents JSON document, the header
//! `content-type` is `application/cloudevents+json; charset=UTF-8`, and the
//! key is the partition key (the user id), so one user's events stay in
//! order. The producer is idempotent. Consumers store an offset only after
//! the handler succeeded (at-least-once); a message that still fails after
//! bounded retries goes to `<topic>.dlq` with the reason in headers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, ClientContext, Statistics};
use tokio_util::sync::CancellationToken;

use crate::health::BusHealth;
use crate::{BusError, Handler, HandlerError, Message, Publisher, TopicNames};

pub const CONTENT_TYPE: &str = "application/cloudevents+json; charset=UTF-8";
/// Attempts per message before it is dead-lettered.
const ATTEMPTS: u32 = 5;
/// How long a message may wait for room in librdkafka's local queue.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct KafkaConfig {
    /// `host:port,host:port`.
    pub brokers: String,
    /// Extra librdkafka properties (`security.protocol`, `sasl.*`, `ssl.*`,
    /// or tunings such as `fetch.wait.max.ms`).
    pub properties: BTreeMap<String, String>,
    /// Consumer session timeout; short values make group joins fast.
    pub session_timeout_ms: u32,
    /// The topics' names on the broker.
    pub topics: TopicNames,
}

/// Shows the extra properties' names, never their values (SASL
/// passwords, keys).
impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("properties", &self.properties.keys().collect::<Vec<_>>())
            .field("session_timeout_ms", &self.session_timeout_ms)
            .field("topics", &self.topics)
            .finish()
    }
}

impl KafkaConfig {
    /// A client's settings: `tunables` (which the operator's properties
    /// may override), the operator's properties, then `fixed`, which the
    /// delivery guarantees rest on.
    fn client(&self, tunables: &[(&str, &str)], fixed: &[(&str, &str)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in tunables {
            c.set(*k, *v);
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        for (k, v) in fixed {
            c.set(*k, *v);
        }
        c
    }
}

fn producer(config: &KafkaConfig) -> Result<FutureProducer, BusError> {
    config
        .client(
            &[
                ("linger.ms", "2"),
                // librdkafka's default, spelled out: a broker outage shorter
                // than this only delays messages. One that times out is
                // published again by the relay, and librdkafka bumps the
                // producer epoch for it (KIP-360), which not every
                // Kafka-protocol broker supports.
                ("message.timeout.ms", "300000"),
            ],
            &[("enable.idempotence", "true"), ("acks", "all")],
        )
        .create()
        .map_err(|e| BusError::Unavailable(format!("cannot create Kafka producer: {e}")))
}

pub struct KafkaPublisher {
    producer: FutureProducer,
    topics: TopicNames,
}

impl KafkaPublisher {
    pub fn new(config: &KafkaConfig) -> Result<Self, BusError> {
        Ok(Self {
            producer: producer(config)?,
            topics: config.topics.clone(),
        })
    }
}

fn headers(extra: &[(&str, &str)]) -> OwnedHeaders {
    let mut h = OwnedHeaders::new().insert(Header {
        key: "content-type",
        value: Some(CONTENT_TYPE),
    });
    for (k, v) in extra {
        h = h.insert(Header {
            key: k,
            value: Some(*v),
        });
    }
    h
}

#[async_trait]
impl Publisher for KafkaPublisher {
    fn system(&self) -> &'static str {
        "kafka"
    }

    async fn publish(&self, messages: &[Message]) -> Result<(), BusError> {
        // Every message is enqueued first, in order, so that librdkafka
        // batches them; the idempotent producer keeps that order per
        // partition even across retries. Then all deliveries are awaited.
        let unavailable = |m: &Message, e: &dyn std::fmt::Display| {
            BusError::Unavailable(format!("publishing {} to {}: {e}", m.id, m.topic))
        };
        let mut deliveries = Vec::with_capacity(messages.len());
        for m in messages {
            let topic = self.topics.wire(&m.topic);
            let mut record = FutureRecord::to(&topic)
                .key(&m.key)
                .payload(&m.payload)
                .headers(headers(&[]));
            let give_up = Instant::now() + SEND_TIMEOUT;
            let delivery = loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => break delivery,
                    // A full local queue empties as earlier messages are delivered.
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r))
                        if Instant::now() < give_up =>
                    {
                        record = r;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => return Err(unavailable(m, &e)),
                }
            };
            deliveries.push((m, delivery));
        }
        for (m, delivery) in deliveries {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(unavailable(m, &e)),
                Err(e) => return Err(unavailable(m, &e)),
            }
        }
        Ok(())
    }
}

/// How often librdkafka reports statistics, from which consumer lag is read.
const STATISTICS_INTERVAL: &str = "5000";

/// Publishes `dueflow_consumer_lag`: for each partition assigned to this
/// consumer, how many messages lie after its group's committed offset, as
/// librdkafka last saw the partition's end.
struct LagReporter {
    group: String,
}

impl LagReporter {
    fn lag(&self, topic: &str, partition: i32) -> metrics::Gauge {
        metrics::gauge!(
            "dueflow_consumer_lag",
            "group" => self.group.clone(),
            "topic" => topic.to_owned(),
            "partition" => partition.to_string()
        )
    }
}

impl ClientContext for LagReporter {
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                // -1: the internal unassigned partition, or a lag not yet known.
                if *partition < 0 || p.consumer_lag < 0 {
                    continue;
                }
                self.lag(topic, *partition).set(p.consumer_lag as f64);
            }
        }
    }
}

/// A partition that moves to another member is consumed by neither
/// meanwhile: the partitions each rebalance hands over are logged, so
/// that a delay can be told from one. (A cooperative rebalance that moves
/// nothing to or from this member hands over no partitions.)
impl ConsumerContext for LagReporter {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) if partitions.count() > 0 => {
                tracing::info!(group = %self.group, partitions = partitions.count(), "partitions assigned");
            }
            Rebalance::Revoke(partitions) if partitions.count() > 0 => {
                tracing::info!(group = %self.group, partitions = partitions.count(), "partitions revoked");
                // Their lag is no longer this consumer's to report.
                for p in partitions.elements() {
                    self.lag(p.topic(), p.partition()).set(0.0);
                }
            }
            Rebalance::Assign(_) | Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => {
                tracing::warn!(group = %self.group, error = %e, "rebalance failed");
            }
        }
    }
}

/// Where a consumer group without committed offsets starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// From the oldest retained message (durable roles).
    Earliest,
    /// From now on (the live stream of one replica).
    Latest,
}

/// Consume `topics` as `group` until `shutdown`, handing the messages to
/// `handler` in batches of what has arrived, and committing each only
/// after it was handled.
pub async fn consume(
    config: KafkaConfig,
    topics: &[&str],
    group: String,
    start: Start,
    handler: Arc<dyn Handler>,
    health: Arc<BusHealth>,
    shutdown: CancellationToken,
) -> Result<(), BusError> {
    let session_timeout = config.session_timeout_ms.to_string();
    // A member learns that its group is rebalancing from its next
    // heartbeat, and the group waits for every member to rejoin: the
    // interval bounds how long the partitions that move are consumed by
    // no one when a replica joins or leaves, as in a rolling update.
    let heartbeat = (config.session_timeout_ms / 5).clamp(100, 500).to_string();
    let consumer: StreamConsumer<LagReporter> = config
        .client(
            &[
                ("statistics.interval.ms", STATISTICS_INTERVAL),
                ("auto.commit.interval.ms", "200"),
                // How long a fetch may wait for new messages. Kafka answers
                // as soon as some arrive; brokers that look again only after
                // the wait (such as tansu) would otherwise add up to
                // librdkafka's 500 ms default to every event's way.
                ("fetch.wait.max.ms", "10"),
                // A rebalance takes from a member only the partitions
                // that change owner: it keeps consuming the rest meanwhile.
                ("partition.assignment.strategy", "cooperative-sticky"),
            ],
            &[
                ("group.id", &group),
                ("enable.auto.commit", "true"),
                ("enable.auto.offset.store", "false"),
                (
                    "auto.offset.reset",
                    if start == Start::Latest {
                        "latest"
                    } else {
                        "earliest"
                    },
                ),
                ("session.timeout.ms", &session_timeout),
                ("heartbeat.interval.ms", &heartbeat),
            ],
        )
        .create_with_context(LagReporter {
            group: group.clone(),
        })
        .map_err(|e| BusError::Unavailable(format!("cannot create Kafka consumer: {e}")))?;
    let topics: Vec<String> = topics.iter().map(|t| config.topics.wire(t)).collect();
    consumer
        .subscribe(&topics.iter().map(String::as_str).collect::<Vec<_>>())
        .map_err(|e| BusError::Unavailable(format!("cannot subscribe to {topics:?}: {e}")))?;
    let dlq = producer(&config)?;
    loop {
        let received = tokio::select! {
            () = shutdown.cancelled() => break,
            r = consumer.recv() => r,
        };
        let first = match received {
            Ok(m) => {
                health.ok();
                m
            }
            Err(e) => {
                health.failed();
                tracing::warn!(?topics, %group, error = %e, "consume failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        // Whatever else has arrived already goes along in the same batch.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout(Duration::ZERO, consumer.recv()).await {
                Ok(Ok(m)) => batch.push(m),
                _ => break,
            }
        }
        let messages: Vec<Message> = batch.iter().map(message).collect();
        if !handle(handler.as_ref(), &messages, &dlq, &group, &shutdown).await {
            break;
        }
        for msg in &batch {
            if let Err(e) = consumer.store_offset_from_message(msg) {
                tracing::warn!(topic = %msg.topic(), error = %e, "could not store offset");
            }
        }
    }
    Ok(())
}

/// Most messages handed to a handler at once.
const MAX_BATCH: usize = 256;

fn message(msg: &rdkafka::message::BorrowedMessage<'_>) -> Message {
    let payload = msg
        .payload_view::<str>()
        .and_then(Result::ok)
        .unwrap_or("")
        .to_owned();
    let key = msg
        .key_view::<str>()
        .and_then(Result::ok)
        .unwrap_or("")
        .to_owned();
    Message {
        id: event_id(&payload),
        topic: msg.topic().to_owned(),
        key,
        payload,
    }
}

/// Handle a batch: at once if the handler can, else (or after its failure)
/// one by one with retries, dead-lettering what keeps failing. `false` when
/// shutting down before all were handled.
async fn handle(
    handler: &dyn Handler,
    messages: &[Message],
    dlq: &FutureProducer,
    group: &str,
    shutdown: &CancellationToken,
) -> bool {
    if messages.len() > 1 && handler.handle_batch(messages).await.is_ok() {
        for m in messages {
            consumed(m, group);
        }
        return true;
    }
    for m in messages {
        if let Err(reason) = handle_with_retries(handler, m, group, shutdown).await
            && (shutdown.is_cancelled() || !dead_letter(dlq, m, group, &reason, shutdown).await)
        {
            return false;
        }
    }
    true
}

fn consumed(m: &Message, group: &str) {
    metrics::counter!("dueflow_consumed_total", "topic" => m.topic.clone(), "group" => group.to_owned()).increment(1);
}

/// The CloudEvents id of a payload, for logs (empty when unreadable); the
/// rest of the document is only scanned.
fn event_id(payload: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
    }
    serde_json::from_str::<Id<'_>>(payload).map_or_else(|_| String::new(), |d| d.id.into_owned())
}

async fn handle_with_retries(
    handler: &dyn Handler,
    m: &Message,
    group: &str,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let mut backoff = Duration::from_millis(100);
    for attempt in 1..=ATTEMPTS {
        match handler.handle(m).await {
            Ok(()) => {
                consumed(m, group);
                return Ok(());
            }
            Err(HandlerError::Reject(reason)) => return Err(reason),
            Err(HandlerError::Retry(reason)) => {
                metrics::counter!("dueflow_consume_failures_total", "topic" => m.topic.clone(), "group" => group.to_owned()).increment(1);
                tracing::warn!(group, id = %m.id, attempt, %reason, "handler failed");
                if attempt == ATTEMPTS {
                    return Err(reason);
                }
                tokio::select! {
                    () = shutdown.cancelled() => return Err("shutting down".into()),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 3).min(Duration::from_secs(10));
            }
        }
    }
    Err("retries exhausted".into())
}

/// Move `m` to its dead-letter topic, trying until the broker took it:
/// its offset is stored only after that, so a message is never dropped.
/// `false` when shutting down first.
async fn dead_letter(
    dlq: &FutureProducer,
    m: &Message,
    group: &str,
    reason: &str,
    shutdown: &CancellationToken,
) -> bool {
    let topic = format!("{}.dlq", m.topic);
    let mut backoff = Duration::from_millis(200);
    loop {
        let record = FutureRecord::to(&topic)
            .key(&m.key)
            .payload(&m.payload)
            .headers(headers(&[
                ("dueflow-dlq-reason", reason),
                ("dueflow-dlq-group", group),
            ]));
        match dlq.send(record, SEND_TIMEOUT).await {
            Ok(_) => {
                tracing::error!(%topic, id = %m.id, %reason, "message dead-lettered");
                metrics::counter!("dueflow_dead_letters_total", "topic" => m.topic.clone())
                    .increment(1);
                return true;
            }
            Err((e, _)) => {
                tracing::error!(%topic, id = %m.id, error = %e, retry_in = ?backoff, "could not dead-letter message");
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_property_values() {
        let c = KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            properties: [("sasl.password".to_owned(), "hunter2".to_owned())].into(),
            session_timeout_ms: 6000,
            topics: TopicNames::default(),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("sasl.password"), "{shown}");
    }
}
