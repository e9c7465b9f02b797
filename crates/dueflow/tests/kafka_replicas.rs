//! Replicas and crashes while reminders fall due, each role its own
//! process over a real Kafka-protocol broker and PostgreSQL: two scheduler
//! processes fire 300 reminders without ever firing one twice (rows are
//! claimed with `FOR UPDATE SKIP LOCKED`), and the notifier is killed with
//! SIGKILL in the middle and started again. Every reminder still becomes
//! exactly one in-app notification and one webhook message (one
//! `webhook-id`; a message sent just before the kill may arrive again under
//! the same id, which Standard Webhooks receivers deduplicate), none early,
//! and what the killed process had claimed is taken over within 5 s.
//! And a send that outlasts its lease keeps it: two notifiers, a receiver
//! that answers only after 5 s, and each webhook still goes out once.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use common::hooks::{receiver, receiver_answering_after};
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
    // lease ends, the broker gives its partitions to the new process once
    // its session times out: none is more than 5 s late.
    api.each_reminder_once(&received, &due, SPREAD + Duration::from_secs(30))
        .await;
    let mut first_arrival: HashMap<&str, DateTime<Utc>> = HashMap::new();
    let got = received.lock().unwrap().clone();
    for h in &got {
        let at = first_arrival.entry(&h.task).or_insert(h.arrived);
        *at = (*at).min(h.arrived);
    }
    let worst = first_arrival
        .iter()
        .map(|(task, arrived)| (*arrived - due[*task]).num_milliseconds())
        .max()
        .unwrap();
    eprintln!("across the kill, the latest webhook arrived {worst} ms after its reminder's time");
    assert!(worst <= 5_000, "a reminder was taken over {worst} ms late");
    drop(notifier);
}

/// The receiver's answer takes this long, longer than a delivery's lease.
const SLOW_ANSWER: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_outlasts_its_lease_is_not_taken_over_by_another_notifier() {
    let c = Cluster::start().await;
    let token = user_with_token(&env(&c.db));
    let api_port = free_port();
    let _api = c.role("api", api_port);
    let _scheduler = c.role("scheduler", free_port());
    // A session longer than the test broker's pause when a member joins a
    // group that has a leader (3 s), so that two members settle.
    let settles = [("DUEFLOW_KAFKA_SESSION_TIMEOUT_MS", "6000".to_owned())];
    let _notifiers = [
        c.role_with("notifier", free_port(), &settles),
        c.role_with("notifier", free_port(), &settles),
    ];
    let api = Api::new(api_port, token);
    let (received, url) = receiver_answering_after(SLOW_ANSWER).await;
    api.reminder_webhook(&url).await;

    // Both notifiers look for due deliveries (every 2 s at the latest,
    // unless woken); whichever claims one leases it for 3 s and renews
    // the lease while the receiver takes its 5 s, so the other never
    // claims it.
    let first = (Utc::now() + chrono::Duration::seconds(3)).trunc_subsecs(3);
    let due = api
        .tasks_with_reminders(4, first, Duration::from_secs(2))
        .await;
    api.each_reminder_once(&received, &due, Duration::from_secs(60))
        .await;
    // Until every send has been answered and a lease more has passed.
    tokio::time::sleep(SLOW_ANSWER + Duration::from_secs(4)).await;
    let got = received.lock().unwrap().clone();
    let mut sends: HashMap<&str, usize> = HashMap::new();
    for h in &got {
        *sends.entry(&h.task).or_default() += 1;
    }
    assert_eq!(sends.len(), due.len());
    assert!(
        sends.values().all(|n| *n == 1),
        "a delivery was sent again while its first send was still waiting for the answer: {sends:?}"
    );
}
