//! The Kafka wire format as any other client sees it: a task event follows
//! the CloudEvents Kafka protocol binding in structured mode (the value is
//! the CloudEvent, the `content-type` header says so, the key is the
//! owner), and a message no role can handle lands in `<topic>.dlq`, as it
//! was, with the reason and the consumer group in headers.

mod common;

use std::time::{Duration, Instant};

use common::kafka::{Api, Cluster, env};
use common::process::{free_port, user_with_token};
use dueflow_bus::kafka::{KafkaConfig, KafkaPublisher};
use dueflow_bus::{Message, Publisher};
use rdkafka::ClientConfig;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, OwnedMessage};
use serde_json::Value;

/// The first message on `topic` (from its start) that `found` accepts.
async fn first_on(
    brokers: &str,
    topic: &str,
    found: impl Fn(&OwnedMessage) -> bool,
) -> OwnedMessage {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("test-reader-{}", uuid::Uuid::now_v7().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "2000")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = tokio::time::timeout(left, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("nothing matching on {topic} within 30 s"))
            .unwrap()
            .detach();
        if found(&m) {
            return m;
        }
    }
}

fn header(m: &OwnedMessage, name: &str) -> Option<String> {
    m.headers()?
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_follow_the_cloudevents_binding_and_rejects_are_dead_lettered() {
    let c = Cluster::start().await;
    let token = user_with_token(&env(&c.db));
    let port = free_port();
    let _api = c.role("api", port);
    let _audit = c.role("audit", free_port());
    let api = Api::new(port, token);
    let me = api.get_json("/api/v1/me").await;
    let owner = me["id"].as_str().unwrap().to_owned();
    let task = api.create("On the wire").await;

    let brokers = c.broker.brokers();
    let m = first_on(&brokers, "task-events", |m| {
        m.key() == Some(owner.as_bytes())
    })
    .await;
    assert_eq!(
        header(&m, "content-type").as_deref(),
        Some("application/cloudevents+json; charset=UTF-8")
    );
    let doc: Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
    assert_eq!(doc["specversion"], "1.0");
    assert_eq!(doc["type"], "dueflow.task.created.v1");
    assert_eq!(doc["subject"], task.as_str());
    assert_eq!(doc["partitionkey"], owner.as_str(), "key = partition key");

    // Something no role can read, published as another producer might.
    let publisher = KafkaPublisher::new(&KafkaConfig {
        brokers: brokers.clone(),
        properties: Default::default(),
        session_timeout_ms: 2000,
        topics: Default::default(),
    })
    .unwrap();
    let garbage = Message {
        id: String::new(),
        topic: "task-events".into(),
        key: owner.clone(),
        payload: "not json".into(),
    };
    publisher.publish(&[garbage]).await.unwrap();
    let dead = first_on(&brokers, "task-events.dlq", |m| {
        m.payload() == Some(b"not json")
    })
    .await;
    assert_eq!(dead.key(), Some(owner.as_bytes()), "the key is kept");
    assert_eq!(
        header(&dead, "dueflow-dlq-group").as_deref(),
        Some("dueflow-audit")
    );
    let reason = header(&dead, "dueflow-dlq-reason").unwrap_or_default();
    assert!(reason.contains("not JSON"), "{reason}");
}
