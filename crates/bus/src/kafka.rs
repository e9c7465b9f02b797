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
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, ClientContext, Statistics};
use tokio_util::sync::CancellationToken;

use crate::health::BusHealth;
use crate::{BusError, Handler, HandlerError, Message, Publisher};

pub const CONTENT_TYPE: &str = "application/cloudevents+json; charset=UTF-8";
/// Attempts per message before it is dead-lettered.
const ATTEMPTS: u32 = 5;
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `host:port,host:port`.
    pub brokers: String,
    /// Extra librdkafka properties (`security.protocol`, `sasl.*`, `ssl.*`, …).
    pub properties: BTreeMap<String, String>,
    /// Consumer session timeout; short values make group joins fast.
    pub session_timeout_ms: u32,
    /// Prepended to every topic name (e.g. `prod.` → `prod.task-events`).
    pub topic_prefix: String,
}

impl KafkaConfig {
    fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

fn producer(config: &KafkaConfig) -> Result<FutureProducer, BusError> {
    config
        .client()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "2")
        .set("message.timeout.ms", "30000")
        .create()
        .map_err(|e| BusError::Unavailable(format!("cannot create Kafka producer: {e}")))
}

pub struct KafkaPublisher {
    producer: FutureProducer,
    topic_prefix: String,
}

impl KafkaPublisher {
    pub fn new(config: &KafkaConfig) -> Result<Self, BusError> {
        Ok(Self {
            producer: producer(config)?,
            topic_prefix: config.topic_prefix.clone(),
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
    async fn publish(&self, messages: &[Message]) -> Result<(), BusError> {
        // Enqueued in order; the idempotent producer keeps that order per
        // partition even across retries.
        let topics: Vec<String> = messages
            .iter()
            .map(|m| format!("{}{}", self.topic_prefix, m.topic))
            .collect();
        let sends: Vec<_> = messages
            .iter()
            .zip(&topics)
            .map(|(m, topic)| {
                self.producer.send(
                    FutureRecord::to(topic)
                        .key(&m.key)
                        .payload(&m.payload)
                        .headers(headers(&[])),
                    SEND_TIMEOUT,
                )
            })
            .collect();
        for (m, send) in messages.iter().zip(sends) {
            send.await.map_err(|(e, _)| {
                BusError::Unavailable(format!("publishing {} to {}: {e}", m.id, m.topic))
            })?;
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

impl ClientContext for LagReporter {
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                // -1: the internal unassigned partition, or a lag not yet known.
                if *partition < 0 || p.consumer_lag < 0 {
                    continue;
                }
                metrics::gauge!(
                    "dueflow_consumer_lag",
                    "group" => self.group.clone(),
                    "topic" => topic.clone(),
                    "partition" => partition.to_string()
                )
                .set(p.consumer_lag as f64);
            }
        }
    }
}

impl ConsumerContext for LagReporter {}

/// Where a consumer group without committed offsets starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// From the oldest retained message (durable roles).
    Earliest,
    /// From now on (the live stream of one replica).
    Latest,
}

/// Consume `topics` as `group` until `shutdown`, handing each message to
/// `handler` and committing it only afterwards.
pub async fn consume(
    config: KafkaConfig,
    topics: &[&str],
    group: String,
    start: Start,
    handler: Arc<dyn Handler>,
    health: Arc<BusHealth>,
    shutdown: CancellationToken,
) -> Result<(), BusError> {
    let consumer: StreamConsumer<LagReporter> = config
        .client()
        .set("group.id", &group)
        .set("statistics.interval.ms", STATISTICS_INTERVAL)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "200")
        .set("enable.auto.offset.store", "false")
        .set(
            "auto.offset.reset",
            if start == Start::Latest {
                "latest"
            } else {
                "earliest"
            },
        )
        .set("session.timeout.ms", config.session_timeout_ms.to_string())
        .set(
            "heartbeat.interval.ms",
            (config.session_timeout_ms / 5).max(100).to_string(),
        )
        .create_with_context(LagReporter {
            group: group.clone(),
        })
        .map_err(|e| BusError::Unavailable(format!("cannot create Kafka consumer: {e}")))?;
    let topics: Vec<String> = topics
        .iter()
        .map(|t| format!("{}{t}", config.topic_prefix))
        .collect();
    consumer
        .subscribe(&topics.iter().map(String::as_str).collect::<Vec<_>>())
        .map_err(|e| BusError::Unavailable(format!("cannot subscribe to {topics:?}: {e}")))?;
    let dlq = producer(&config)?;
    loop {
        let received = tokio::select! {
            () = shutdown.cancelled() => break,
            r = consumer.recv() => r,
        };
        let msg = match received {
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
        let id = event_id(&payload);
        let m = Message {
            id,
            topic: msg.topic().to_owned(),
            key,
            payload,
        };
        if let Err(reason) = handle_with_retries(handler.as_ref(), &m, &group, &shutdown).await {
            if shutdown.is_cancelled() {
                break;
            }
            dead_letter(&dlq, &m, &group, &reason).await;
        }
        if let Err(e) = consumer.store_offset_from_message(&msg) {
            tracing::warn!(topic = %m.topic, error = %e, "could not store offset");
        }
    }
    Ok(())
}

/// The CloudEvents id of a payload, for logs (empty when unreadable).
fn event_id(payload: &str) -> String {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
        .unwrap_or_default()
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
                metrics::counter!("dueflow_consumed_total", "topic" => m.topic.clone(), "group" => group.to_owned()).increment(1);
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

async fn dead_letter(dlq: &FutureProducer, m: &Message, group: &str, reason: &str) {
    let topic = format!("{}.dlq", m.topic);
    tracing::error!(%topic, id = %m.id, %reason, "message dead-lettered");
    metrics::counter!("dueflow_dead_letters_total", "topic" => m.topic.clone()).increment(1);
    let record = FutureRecord::to(&topic)
        .key(&m.key)
        .payload(&m.payload)
        .headers(headers(&[
            ("dueflow-dlq-reason", reason),
            ("dueflow-dlq-group", group),
        ]));
    if let Err((e, _)) = dlq.send(record, SEND_TIMEOUT).await {
        tracing::error!(%topic, id = %m.id, error = %e, "could not dead-letter message");
    }
}
