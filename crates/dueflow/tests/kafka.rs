//! Each role as its own OS process over a real Kafka-protocol broker (tansu)
//! and a real PostgreSQL: the `api` process writes and relays, the `audit`,
//! `recurring`, `scheduler` and `notifier` processes consume. Killing a
//! consumer (audit, recurring, notifier) with SIGKILL mid-run loses nothing
//! and doubles nothing; a scheduler that was down fires what it missed
//! once, marked late.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::kafka::{Api, Broker, Cluster, Storage, env, migrate, role};
use common::process::{free_port, user_with_token};
use dueflow_bus::kafka::{KafkaConfig, KafkaPublisher};
use dueflow_bus::{Message, Publisher};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_as_processes_over_kafka_lose_nothing() {
    let c = Cluster::start().await;
    let token = user_with_token(&env(&c.db));
    let api_port = free_port();
    let _api = c.role("api", api_port);
    let audit_port = free_port();
    let mut audit = c.role("audit", audit_port);
    let api = Api::new(api_port, token);

    // Events flow from the api process through the broker to the audit process.
    let mut created = Vec::new();
    for i in 0..30 {
        created.push(api.create(&format!("first {i}")).await);
    }
    api.expect_exactly_once("task.created", &created, Duration::from_secs(60))
        .await;

    // SIGKILL the consumer mid-run; what it missed arrives after a restart, once.
    audit.kill();
    let mut renamed = Vec::new();
    for (i, id) in created.clone().iter().enumerate().take(20) {
        created.push(api.create(&format!("second {i}")).await);
        api.rename(id, &format!("renamed {i}")).await;
        renamed.push(id.clone());
    }
    let _audit = c.role("audit", audit_port);
    api.expect_exactly_once("task.created", &created, Duration::from_secs(60))
        .await;
    api.expect_exactly_once("task.updated", &renamed, Duration::from_secs(30))
        .await;

    // The recurring role in its own process: the next occurrence of a
    // completed daily task exists soon after, once, even when the broker
    // hands the same completion over again and again; COUNT=3 ends it.
    let recurring_port = free_port();
    let mut recurring = c.role("recurring", recurring_port);
    // Once its consumer has joined the group (a warm-up series shows
    // when), the next occurrence follows a completion within 500 ms.
    let warm_up = api
        .create_with(json!({"title": "Warm-up", "due": "2026-12-01", "recurrence": {"rrule": "FREQ=DAILY;COUNT=2"}}))
        .await;
    api.complete(&warm_up).await;
    let warmed_up = api
        .wait_next("Warm-up", std::slice::from_ref(&warm_up))
        .await;
    let first = api
        .create_with(json!({"title": "Standup", "due": "2026-12-01", "recurrence": {"rrule": "FREQ=DAILY;COUNT=3"}}))
        .await;
    let completed_at = Instant::now();
    api.complete(&first).await;
    let second = api.wait_next("Standup", std::slice::from_ref(&first)).await;
    eprintln!(
        "next occurrence after {:?} (across processes)",
        completed_at.elapsed()
    );
    assert!(
        completed_at.elapsed() <= Duration::from_millis(500),
        "next occurrence after {:?}",
        completed_at.elapsed()
    );
    // The completion event as the audit process recorded it (it may lag
    // behind the recurring process).
    let deadline = Instant::now() + Duration::from_secs(30);
    let completion = loop {
        let found = api
            .activity("task.completed")
            .await
            .into_iter()
            .find(|e| e["subject"] == first.as_str());
        if let Some(e) = found {
            break e;
        }
        assert!(
            Instant::now() < deadline,
            "task.completed never reached the activity log"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let publisher = KafkaPublisher::new(&KafkaConfig {
        brokers: c.broker.brokers(),
        properties: Default::default(),
        session_timeout_ms: 2000,
        topics: Default::default(),
    })
    .unwrap();
    let replay = Message {
        id: completion["id"].as_str().unwrap().to_owned(),
        topic: "task-events".into(),
        key: completion["partitionkey"].as_str().unwrap().to_owned(),
        payload: completion.to_string(),
    };
    publisher.publish(&vec![replay; 5]).await.unwrap();
    // SIGKILL the recurring process right after a completion (before or
    // after it handled it): the restarted one creates the next occurrence
    // exactly once all the same.
    api.complete(&second).await;
    recurring.kill();
    let _recurring = c.role("recurring", recurring_port);
    let third = api
        .wait_next("Standup", &[first.clone(), second.clone()])
        .await;
    api.complete(&third).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    api.expect_exactly_once(
        "task.created",
        &[
            created.clone(),
            vec![warm_up, warmed_up, first, second, third],
        ]
        .concat(),
        Duration::from_secs(10),
    )
    .await;

    // Reminders across processes: the scheduler fires them, the notifier
    // (killed with SIGKILL before they fire, restarted after) delivers each once.
    let scheduler_port = free_port();
    let mut scheduler = c.role("scheduler", scheduler_port);
    let notifier_port = free_port();
    let mut notifier = c.role("notifier", notifier_port);
    // Reminder instants are kept to the millisecond, so the test's is too:
    // "not early" is checked against the instant as stored.
    let at =
        chrono::SubsecRound::trunc_subsecs(chrono::Utc::now() + chrono::Duration::seconds(3), 3);
    let mut reminded = Vec::new();
    for i in 0..20 {
        let task = json!({"title": format!("remind {i}"), "reminders": [{"at": at.to_rfc3339()}]});
        reminded.push(api.create_with(task).await);
    }
    notifier.kill();
    api.expect_exactly_once("reminder.due", &reminded, Duration::from_secs(30))
        .await;
    for e in api.activity("reminder.due").await {
        let fired = e["time"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap();
        assert!(fired >= at, "fired early: {e}");
    }
    let _notifier = c.role("notifier", notifier_port);
    api.expect_exactly_once("reminder.delivered", &reminded, Duration::from_secs(60))
        .await;
    assert_eq!(api.notifications().await.len(), reminded.len());

    // A scheduler down past several reminders fires each once on restart, late.
    scheduler.kill();
    let at = chrono::Utc::now() + chrono::Duration::seconds(1);
    let mut missed = Vec::new();
    for i in 0..5 {
        let task = json!({"title": format!("missed {i}"), "reminders": [{"at": at.to_rfc3339()}]});
        missed.push(api.create_with(task).await);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _scheduler = c.role("scheduler", scheduler_port);
    let mut all = reminded.clone();
    all.extend(missed.iter().cloned());
    api.expect_exactly_once("reminder.due", &all, Duration::from_secs(30))
        .await;
    for e in api.activity("reminder.due").await {
        if missed.iter().any(|m| e["subject"] == m.as_str()) {
            assert_eq!(e["data"]["late"], true, "{e}");
            assert!(e["data"]["late_ms"].as_i64().unwrap() >= 1000, "{e}");
        }
    }

    // The audit process has caught up: its consumer lag reaches zero on
    // both of its topics. (One user's events all share a partition; lag is
    // reported for partitions where the group has committed an offset.)
    let audit = Api::new(audit_port, String::new());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = audit.metrics().await;
        let lags: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("dueflow_consumer_lag{"))
            .collect();
        let partitions = |topic: &str| {
            lags.iter()
                .filter(|l| l.contains(&format!("topic=\"{topic}\"")))
                .count()
        };
        if partitions("task-events") >= 1
            && partitions("reminders") >= 1
            && lags.iter().all(|l| l.ends_with(" 0"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "audit lag: {lags:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn metrics_and_probes_on_a_consumer_only_process() {
    // A process without the api role still answers probes and metrics but
    // serves no API routes; its readiness follows the bus.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(common::fresh_pg_database());
    migrate(&db);
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let nowhere = Broker {
        dir: dir.path().to_path_buf(),
        port: free_port(),
        storage: Storage::Memory,
    };
    let _p = role(&db, "audit", &nowhere, port, &[]);
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut s, &mut out).unwrap();
        out
    };
    assert!(get("/healthz").starts_with("HTTP/1.1 200"));
    assert!(get("/metrics").starts_with("HTTP/1.1 200"));
    assert!(get("/api/v1/tasks").starts_with("HTTP/1.1 404"));
    // Its broker does not exist: once that has lasted, it is not ready, and
    // says why.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = get("/readyz");
        if ready.starts_with("HTTP/1.1 503") {
            assert!(ready.contains("event bus unavailable"), "{ready}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still ready without a broker: {ready}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(get("/metrics").contains("dueflow_bus_up 0"));
}
