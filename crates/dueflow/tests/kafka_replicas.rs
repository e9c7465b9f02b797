//! Replicas and crashes while reminders fall due, each role its own
//! process over a real Kafka-protocol broker and PostgreSQL: two scheduler
//! processes fire 300 reminders without ever firing one twice (rows are
//! claimed with `FOR UPDATE SKIP LOCKED`), and the notifier is killed with
//! SIGKILL in the middle and started again. Every reminder still becomes
//! exactly one in-app notification and one webhook message (one
//! `webhook-id`; a message sent just before the kill may arrive again under
//! the same id, which Standard Webhooks receivers deduplicate), none early.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use common::hooks::receiver;
use common::kafka::{Api, Cluster, env};
use common::process::{free_port, user_with_token};

const REMINDERS: usize = 300;
const SPREAD: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_and_a_killed_notifier_deliver_each_reminder_once() {
    let c = Cluster::start().await;
    let token = user_with_token(&env(&c.db));
    let api_port = free_port();
    let _api = c.role("api", api_port);
    let _schedulers = [
        c.role("scheduler", free_port()),
        c.role("scheduler", free_port()),
    ];
    let notifier_port = free_port();
    let mut notifier = c.role("notifier", notifier_port);
    let api = Api::new(api_port, token);

    let (received, url) = receiver().await;
    api.reminder_webhook(&url).await;

    let first = (Utc::now() + chrono::Duration::seconds(5)).trunc_subsecs(3);
    let due = api.tasks_with_reminders(REMINDERS, first, SPREAD).await;
    assert!(Utc::now() < first, "creating the tasks took too long");

    // Halfway through, the notifier dies mid-work and comes back.
    let halfway = first + chrono::Duration::milliseconds(SPREAD.as_millis() as i64 / 2);
    tokio::time::sleep((halfway - Utc::now()).to_std().unwrap_or_default()).await;
    let before_kill = received.lock().unwrap().len();
    notifier.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    notifier = c.role("notifier", notifier_port);
    assert!(
        before_kill > 0 && before_kill < REMINDERS,
        "the kill was not mid-run: {before_kill} delivered before it"
    );

    // Deliveries the killed notifier had claimed go out again once their
    // 60 s lease ends.
    let deadline = Instant::now() + SPREAD + Duration::from_secs(90);
    loop {
        let ids: std::collections::HashSet<String> = received
            .lock()
            .unwrap()
            .iter()
            .map(|h| h.webhook_id.clone())
            .collect();
        if ids.len() >= REMINDERS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {REMINDERS} webhook messages arrived",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for any duplicate to show.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let got = received.lock().unwrap().clone();
    let mut ids_per_task: HashMap<&str, std::collections::HashSet<&str>> = HashMap::new();
    for h in &got {
        let at = due
            .get(&h.task)
            .unwrap_or_else(|| panic!("a webhook for an unknown task: {}", h.body));
        let fired: DateTime<Utc> = h.body["timestamp"].as_str().unwrap().parse().unwrap();
        assert!(fired >= *at, "fired early: {}", h.body);
        ids_per_task
            .entry(&h.task)
            .or_default()
            .insert(&h.webhook_id);
    }
    assert_eq!(ids_per_task.len(), REMINDERS, "reminders without a webhook");
    assert!(
        ids_per_task.values().all(|ids| ids.len() == 1),
        "a reminder became two webhook messages (fired twice?)"
    );

    api.one_notification_each(&due).await;
    drop(notifier);
}
