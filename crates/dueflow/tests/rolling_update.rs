//! A rolling update while reminders fall due, each role its own process
//! over a real Kafka-protocol broker and PostgreSQL, as the chart runs them:
//! one role after the other, a new process is started, and once it is
//! ready the old one gets SIGTERM (as Kubernetes does) and must exit by
//! itself; an old api process first answers `/readyz` with 503 for its
//! shutdown delay. Meanwhile a client keeps writing through the api role (the new
//! one as soon as it is ready, as a Service would). Every reminder still
//! reaches the webhook and the in-app notifications once, late by no more
//! than [`LATE_MS`], and every acknowledged write becomes its events
//! exactly once, its next occurrence included.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use common::hooks::receiver;
use common::kafka::{Api, Cluster, env};
use common::process::{Proc, free_port, named_user_with_token, user_with_token};
use serde_json::json;

const REMINDERS: usize = 1_000;
const SPREAD: Duration = Duration::from_secs(20);
const ROLES: [&str; 5] = ["api", "recurring", "scheduler", "notifier", "audit"];
/// The latest a reminder may come during the update. The aim is 1 s; the
/// test broker (tansu 0.6) holds for 3 s the `JoinGroup` of a process
/// joining a group that has a leader. The old member keeps consuming
/// meanwhile, but it has left by the time the new one is let in, so the
/// reminders due then come about 3.2 s late.
const LATE_MS: i64 = 4_500;

/// The lateness of the latest reminder due in each half second after the
/// first: where an update held them up.
fn worst_per_half_second(late: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut worst = std::collections::BTreeMap::new();
    for (at, l) in late {
        let w = worst.entry(at / 500 * 500).or_insert(*l);
        *w = (*w).max(*l);
    }
    worst.into_iter().collect()
}

/// Until the process on `port` answers `/readyz` with `status`; fails the
/// test if that takes longer than `within`.
async fn readyz_answers(port: u16, status: u16, within: Duration) {
    let api = Api::new(port, String::new());
    let deadline = Instant::now() + within;
    loop {
        let res = api.http.get(format!("{}/readyz", api.base)).send().await;
        if res.is_ok_and(|r| r.status() == status) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never answered /readyz with {status}",
            api.base
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A process of `role`; an api one keeps serving for a second after
/// SIGTERM, as the chart has it do (for 5 s there).
fn start(c: &Cluster, role: &str, port: u16) -> Proc {
    let delay = if role == "api" { "1" } else { "0" };
    c.role_with(
        role,
        port,
        &[("DUEFLOW_SHUTDOWN_DELAY_SECS", delay.to_owned())],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_update_of_every_role_delays_no_reminder_and_loses_no_write() {
    let c = Cluster::start().await;
    let token = user_with_token(&env(&c.db));
    let writer_token = named_user_with_token(&env(&c.db), "wes");
    let mut running: Vec<(&str, u16, Proc)> = ROLES
        .iter()
        .map(|&role| {
            let port = free_port();
            (role, port, start(&c, role, port))
        })
        .collect();
    let api = Api::new(running[0].1, token.clone());
    for (_, port, _) in &running {
        readyz_answers(*port, 200, Duration::from_secs(30)).await;
    }
    let (received, url) = receiver().await;
    api.reminder_webhook(&url).await;

    let first = (Utc::now() + chrono::Duration::seconds(8)).trunc_subsecs(3);
    let due = api.tasks_with_reminders(REMINDERS, first, SPREAD).await;
    assert!(Utc::now() < first, "creating the tasks took too long");

    // Another user's client writing all along, through whichever api
    // process is current: ten times a second it makes a repeating task and
    // completes it.
    let current = Arc::new(AtomicU16::new(running[0].1));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (current, stop, token) = (current.clone(), stop.clone(), writer_token.clone());
        tokio::spawn(async move {
            let mut done = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let client = Api::new(current.load(Ordering::Relaxed), token.clone());
                let title = format!("rolling {}", done.len());
                let id = client
                    .create_with(json!({"title": title, "due": "2026-12-01",
                        "recurrence": {"rrule": "FREQ=DAILY"}}))
                    .await;
                client.complete(&id).await;
                done.push((id, title));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            done
        })
    };

    // Once the reminders are falling due, each role in turn.
    tokio::time::sleep((first - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(1))
        .await;
    for (role, port, slot) in &mut running {
        let new_port = free_port();
        let new = start(&c, role, new_port);
        readyz_answers(new_port, 200, Duration::from_secs(30)).await;
        if *role == "api" {
            current.store(new_port, Ordering::Relaxed);
        }
        let asked = Instant::now();
        let mut old = std::mem::replace(slot, new);
        let stopping =
            tokio::task::spawn_blocking(move || (old.terminate(Duration::from_secs(25)), old));
        if *role == "api" {
            // It still answers, no longer ready, while load balancers let go.
            readyz_answers(*port, 503, Duration::from_millis(800)).await;
        }
        let (exited, _old) = stopping.await.unwrap();
        assert!(
            exited.success(),
            "the old {role} process ended with {exited}"
        );
        eprintln!(
            "{role}: replaced {} ms after the first reminder's time; the old process exited {:?} after SIGTERM",
            (Utc::now() - first).num_milliseconds(),
            asked.elapsed()
        );
        *port = new_port;
    }
    assert!(
        Utc::now() < first + chrono::Duration::from_std(SPREAD).unwrap(),
        "the update ended after the last reminder's time: it did not overlap them all"
    );

    let api = Api::new(running[0].1, token);
    api.each_reminder_once(&received, &due, SPREAD + Duration::from_secs(30))
        .await;
    // (when it was due, after the first; how late it came), in ms.
    let webhooks: Vec<(i64, i64)> = received
        .lock()
        .unwrap()
        .iter()
        .map(|h| {
            let at = due[&h.task];
            (
                (at - first).num_milliseconds(),
                (h.arrived - at).num_milliseconds(),
            )
        })
        .collect();
    let in_app: Vec<(i64, i64)> = api
        .notifications()
        .await
        .iter()
        .map(|n| {
            let at = due[n["task_id"].as_str().unwrap()];
            let made: chrono::DateTime<Utc> = n["created_at"].as_str().unwrap().parse().unwrap();
            (
                (at - first).num_milliseconds(),
                (made - at).num_milliseconds(),
            )
        })
        .collect();
    for (what, late) in [("webhooks", &webhooks), ("in-app", &in_app)] {
        let worst = late.iter().map(|(_, l)| *l).max().unwrap_or_default();
        eprintln!(
            "{what}: the latest came {worst} ms after its reminder's time; the latest per half second: {:?}",
            worst_per_half_second(late)
        );
        assert!(worst <= LATE_MS, "{what}: one came {worst} ms late");
    }

    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    eprintln!(
        "{} repeating tasks made and completed during the update",
        written.len()
    );
    assert!(written.len() >= 10, "the client hardly wrote");
    let ids: Vec<String> = written.iter().map(|(id, _)| id.clone()).collect();
    let api = Api::new(running[0].1, writer_token);
    api.expect_exactly_once("task.completed", &ids, Duration::from_secs(30))
        .await;
    // Each completion made one next occurrence, open, under the same title.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let open = api
            .all_pages("/api/v1/tasks", &[("q", "status:open")])
            .await;
        let mut titles: Vec<&str> = open
            .iter()
            .filter_map(|t| t["title"].as_str())
            .filter(|t| t.starts_with("rolling "))
            .collect();
        titles.sort_unstable();
        let made = titles.len();
        titles.dedup();
        assert_eq!(made, titles.len(), "a completion made two next occurrences");
        if made == written.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{made} of {} next occurrences were made",
            written.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
