//! The 1,000-reminder scenario, run by the Kafka and the in-process test
//! binaries (separate binaries, so that the two never share the cores at
//! once): reminders due over 10 s each reach the user's in-app
//! notifications once and a webhook receiver once, none early, and 99 % of
//! them within a second of their time.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};

use super::hooks::receiver;
use super::kafka::Api;

const REMINDERS: usize = 1_000;
const SPREAD: Duration = Duration::from_secs(10);

/// The median and the 99th percentile.
fn percentiles(mut ms: Vec<i64>) -> (i64, i64) {
    ms.sort_unstable();
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    (at(0.5), at(0.99))
}

/// Run the scenario against the server behind `api`.
pub async fn reach_both_channels_once_and_on_time(api: &Api) {
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
    // Where the time went: until the scheduler fired (the event's time),
    // and from there to the receiver.
    let (mut lateness, mut firing, mut delivery) = (Vec::new(), Vec::new(), Vec::new());
    for h in &got {
        let at = due
            .get(&h.task)
            .unwrap_or_else(|| panic!("a webhook for an unknown task: {}", h.body));
        let fired: DateTime<Utc> = h.body["timestamp"].as_str().unwrap().parse().unwrap();
        assert!(fired >= *at, "fired early: {}", h.body);
        lateness.push((h.arrived - *at).num_milliseconds());
        firing.push((fired - *at).num_milliseconds());
        delivery.push((h.arrived - fired).num_milliseconds());
    }
    let (p50, p99) = percentiles(firing);
    eprintln!("fired after the reminder's time: p50 {p50} ms, p99 {p99} ms");
    let (p50, p99) = percentiles(delivery);
    eprintln!("webhook arrival after firing: p50 {p50} ms, p99 {p99} ms");
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
