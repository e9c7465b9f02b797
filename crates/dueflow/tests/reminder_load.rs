//! 1,000 reminders due over 10 s: each reaches the user's in-app
//! notifications once and a webhook receiver once, none early, and 99 % of
//! them within a second of their time. Run twice: with the `api`,
//! `scheduler` and `notifier` roles as their own processes over a real
//! Kafka-protocol broker and PostgreSQL, and with every role in one
//! process on SQLite and the in-process bus.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use common::hooks::receiver;
use common::kafka::{Api, Cluster};
use common::process::{free_port, serve, user_with_token};

const REMINDERS: usize = 1_000;
const SPREAD: Duration = Duration::from_secs(10);

/// The median and the 99th percentile.
fn percentiles(mut ms: Vec<i64>) -> (i64, i64) {
    ms.sort_unstable();
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    (at(0.5), at(0.99))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_kafka_and_postgres_with_a_process_per_role() {
    let c = Cluster::start().await;
    let token = user_with_token(&common::kafka::env(&c.db));
    let api_port = free_port();
    let _api = c.role("api", api_port);
    let _scheduler = c.role("scheduler", free_port());
    let _notifier = c.role("notifier", free_port());
    reach_both_channels_once_and_on_time(Api::new(api_port, token)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_one_process_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let env = [
        (
            "DUEFLOW_DATA_DIR",
            tmp.path().join("data").display().to_string(),
        ),
        ("DUEFLOW_WEBHOOKS_ALLOW_PRIVATE", "true".to_owned()),
    ];
    let token = user_with_token(&env);
    let port = free_port();
    let _app = serve(&env, port, &[]);
    reach_both_channels_once_and_on_time(Api::new(port, token)).await;
}

async fn reach_both_channels_once_and_on_time(api: Api) {
    let (received, url) = receiver().await;
    api.reminder_webhook(&url).await;

    // Reminder instants are kept to the millisecond: so are the test's.
    let first = (Utc::now() + chrono::Duration::seconds(8)).trunc_subsecs(3);
    let created = Instant::now();
    let due = api.tasks_with_reminders(REMINDERS, first, SPREAD).await;
    eprintln!("{REMINDERS} tasks created in {:?}", created.elapsed());
    assert!(
        Utc::now() < first,
        "creating the tasks took until after the first reminder's time"
    );

    // Wait for the last one (and a little longer, for any duplicate).
    let deadline = Instant::now() + SPREAD + Duration::from_secs(60);
    while received.lock().unwrap().len() < REMINDERS {
        assert!(
            Instant::now() < deadline,
            "{} of {REMINDERS} webhooks arrived",
            received.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The webhook: once per reminder, none early, p99 lateness ≤ 1 s.
    let got = received.lock().unwrap().clone();
    let tasks: HashSet<&str> = got.iter().map(|h| h.task.as_str()).collect();
    assert_eq!(got.len(), REMINDERS, "a reminder reached the webhook twice");
    assert_eq!(
        tasks.len(),
        REMINDERS,
        "a reminder reached the webhook twice"
    );
    let mut lateness = Vec::new();
    for h in &got {
        let at = due
            .get(&h.task)
            .unwrap_or_else(|| panic!("a webhook for an unknown task: {}", h.body));
        let fired: DateTime<Utc> = h.body["timestamp"].as_str().unwrap().parse().unwrap();
        assert!(fired >= *at, "fired early: {}", h.body);
        lateness.push((h.arrived - *at).num_milliseconds());
    }
    let (p50, p99) = percentiles(lateness);
    eprintln!("webhook arrival after the reminder's time: p50 {p50} ms, p99 {p99} ms");
    assert!(p99 <= 1000, "webhooks: p99 lateness {p99} ms");

    // In-app: one notification per reminder.
    let notes = api.one_notification_each(&due).await;
    let (p50, p99) = percentiles(
        notes
            .iter()
            .map(|n| {
                let created: DateTime<Utc> = n["created_at"].as_str().unwrap().parse().unwrap();
                (created - due[n["task_id"].as_str().unwrap()]).num_milliseconds()
            })
            .collect(),
    );
    eprintln!("in-app notification after the reminder's time: p50 {p50} ms, p99 {p99} ms");
    assert!(p99 <= 1000, "in-app: p99 lateness {p99} ms");
}
