//! A broker outage only delays events. Three users keep writing through an
//! `api` process while the broker is stopped for 30 s and started again
//! (the same broker, on its own durable storage): every write is
//! acknowledged, and afterwards a consumer receives every event, each
//! user's in the order they were written, with no gap.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::kafka::{Api, Cluster, env};
use common::process::{free_port, named_user_with_token};
use dueflow_bus::health::BusHealth;
use dueflow_bus::kafka::{KafkaConfig, Start, consume};
use dueflow_bus::{Handler, HandlerError, Message};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// Every event a consumer received, in arrival order: (user, per-user
/// sequence number, event id, subject).
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, i64, String, String)>>);

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        let e: Value =
            serde_json::from_str(&m.payload).map_err(|e| HandlerError::Reject(e.to_string()))?;
        self.0.lock().unwrap().push((
            m.key.clone(),
            e["usersequence"].as_i64().unwrap_or(-1),
            m.id.clone(),
            e["subject"].as_str().unwrap_or_default().to_owned(),
        ));
        Ok(())
    }
}

impl Recorder {
    /// Per user: the sequence numbers in the order their events first
    /// arrived (a redelivered event counts where it was first seen), and
    /// the subjects seen.
    fn first_seen(&self) -> HashMap<String, (Vec<i64>, HashSet<String>)> {
        let mut ids = HashSet::new();
        let mut out: HashMap<String, (Vec<i64>, HashSet<String>)> = HashMap::new();
        for (user, seq, id, subject) in self.0.lock().unwrap().iter() {
            if ids.insert(id.clone()) {
                let entry = out.entry(user.clone()).or_default();
                entry.0.push(*seq);
                entry.1.insert(subject.clone());
            }
        }
        out
    }
}

/// Keep creating tasks as `api`'s user until `stop`, counting them in
/// `acknowledged`; the ids created, each acknowledged with 201 whatever
/// the broker is doing.
async fn keep_writing(
    api: Arc<Api>,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
) -> Vec<String> {
    let mut ids = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        ids.push(api.create(&format!("write {}", ids.len())).await);
        acknowledged.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_delays_events_and_loses_none() {
    let mut c = Cluster::start_durable().await;
    let api_port = free_port();
    let _api = c.role("api", api_port);

    let recorder = Arc::new(Recorder::default());
    let shutdown = CancellationToken::new();
    let observer = tokio::spawn(consume(
        KafkaConfig {
            brokers: c.broker.brokers(),
            properties: Default::default(),
            session_timeout_ms: 2000,
            topics: Default::default(),
        },
        &["task-events"],
        "outage-observer".into(),
        Start::Earliest,
        recorder.clone(),
        Arc::new(BusHealth::default()),
        shutdown.clone(),
    ));

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    let mut users = Vec::new();
    for name in ["ann", "bob", "cyd"] {
        let api = Arc::new(Api::new(api_port, named_user_with_token(&env(&c.db), name)));
        users.push(api.clone());
        writers.push(tokio::spawn(keep_writing(
            api,
            stop.clone(),
            acknowledged.clone(),
        )));
    }

    // Writes flow; then the broker goes away for 30 s while they continue.
    tokio::time::sleep(Duration::from_secs(3)).await;
    c.broker_proc.kill();
    let before_outage = acknowledged.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(30)).await;
    let during_outage = acknowledged.load(Ordering::Relaxed) - before_outage;
    assert!(
        during_outage >= 100,
        "writes stalled while the broker was down: {during_outage} acknowledged in 30 s"
    );
    c.broker_proc = c.broker.start();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut written: HashMap<String, Vec<String>> = HashMap::new();
    for (api, w) in users.iter().zip(writers) {
        written.insert(api.token.clone(), w.await.unwrap());
    }

    // Every event arrives, each user's in order and without a gap: a
    // user's events here are their creations, numbered 1, 2, 3, …
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let seen = recorder.first_seen();
        let complete = written.values().all(|ids| {
            seen.values()
                .any(|(_, subjects)| ids.iter().all(|id| subjects.contains(id)))
        });
        if complete {
            assert_eq!(seen.len(), 3, "events of three users");
            for (user, (seqs, _)) in &seen {
                let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
                assert_eq!(seqs, &expected, "events of {user} out of order or missing");
            }
            let total: usize = written.values().map(Vec::len).sum();
            assert_eq!(seen.values().map(|(s, _)| s.len()).sum::<usize>(), total);
            eprintln!(
                "{total} writes, {during_outage} during the outage; all events arrived in order"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "events missing 120 s after the broker came back: {} of {} arrived",
            seen.values().map(|(s, _)| s.len()).sum::<usize>(),
            written.values().map(Vec::len).sum::<usize>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    let _ = observer.await;
}
