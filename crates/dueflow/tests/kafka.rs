//! Each role as its own OS process over a real Kafka-protocol broker (tansu)
//! and a real PostgreSQL: the `api` process writes and relays, the `audit`,
//! `recurring`, `scheduler` and `notifier` processes consume. Killing a consumer with
//! SIGKILL mid-run loses nothing and doubles nothing; a scheduler that was
//! down fires what it missed once, marked late.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{Proc, free_port, serve, user_with_token, wait_for_port};
use dueflow_bus::kafka::{KafkaConfig, KafkaPublisher};
use dueflow_bus::{Message, Publisher};

use serde_json::{Value, json};

/// The broker binary: `DUEFLOW_TEST_TANSU` (set by scripts/test), else the
/// first `tansu` on PATH or in ~/.cargo/bin.
fn tansu() -> PathBuf {
    if let Some(p) = std::env::var_os("DUEFLOW_TEST_TANSU") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cargo_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    std::env::split_paths(&path)
        .chain(cargo_bin)
        .map(|d| d.join("tansu"))
        .find(|p| p.is_file())
        .expect("the tansu broker is required: run scripts/test, which installs it")
}

struct Broker {
    dir: PathBuf,
    port: u16,
}

impl Broker {
    fn start(&self) -> Proc {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        // tansu 0.6 wants a relative path for its SQLite storage.
        let child = Command::new(tansu())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "sqlite://broker.db"])
            .current_dir(&self.dir)
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the tansu broker");
        wait_for_port(self.port, "broker");
        Proc(child)
    }

    fn create_topic(&self, name: &str, partitions: &str) {
        let ok = Command::new(tansu())
            .args([
                "topic",
                "create",
                name,
                "--broker",
                &format!("tcp://127.0.0.1:{}", self.port),
            ])
            .args(["--partitions", partitions])
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "create topic {name}");
    }
}

fn env(db: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DUEFLOW_DATABASE_URL", db.to_owned()),
        ("DUEFLOW_KAFKA_SESSION_TIMEOUT_MS", "2000".to_owned()),
    ]
}

fn role(db: &str, roles: &str, brokers: u16, listen: u16) -> Proc {
    let brokers = format!("127.0.0.1:{brokers}");
    serve(
        &env(db),
        listen,
        &[
            "--roles",
            roles,
            "--bus",
            "kafka",
            "--kafka-brokers",
            &brokers,
        ],
    )
}

fn migrate(db: &str) {
    assert!(
        common::process::dueflow(&env(db), &["migrate"])
            .status()
            .unwrap()
            .success()
    );
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn create(&self, title: &str) -> String {
        self.create_with(json!({ "title": title })).await
    }

    async fn create_with(&self, task: Value) -> String {
        let res = self
            .http
            .post(format!("{}/api/v1/tasks", self.base))
            .bearer_auth(&self.token)
            .json(&task)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            201,
            "writes are acknowledged whatever the broker does"
        );
        res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn complete(&self, id: &str) {
        let res = self
            .http
            .post(format!("{}/api/v1/tasks/{id}/complete", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }

    /// The open task titled `title` that is none of `not`, once it exists.
    async fn wait_next(&self, title: &str, not: &[String]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let page: Value = self
                .http
                .get(format!("{}/api/v1/tasks", self.base))
                .bearer_auth(&self.token)
                .query(&[("q", "status:open"), ("limit", "200")])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let found = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["title"] == title && !not.iter().any(|n| t["id"] == n.as_str()));
            if let Some(t) = found {
                return t["id"].as_str().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "no next occurrence of {title}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn rename(&self, id: &str, title: &str) {
        let res = self
            .http
            .patch(format!("{}/api/v1/tasks/{id}", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }

    /// Every activity event of one type, oldest first.
    async fn activity(&self, kind: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = self
                .http
                .get(format!("{}/api/v1/activity", self.base))
                .bearer_auth(&self.token)
                .query(&[("limit", "200"), ("type", kind)]);
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let page: Value = req.send().await.unwrap().json().await.unwrap();
            out.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        out.reverse();
        out
    }

    /// Wait until the activity log holds exactly `expected` subjects for
    /// `kind`, each once; fail on a duplicate or on timeout.
    async fn expect_exactly_once(&self, kind: &str, expected: &[String], within: Duration) {
        let want: HashSet<&String> = expected.iter().collect();
        let deadline = Instant::now() + within;
        loop {
            let events = self.activity(kind).await;
            let ids: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
            assert_eq!(ids.len(), events.len(), "an event was recorded twice");
            let subjects: Vec<String> = events
                .iter()
                .map(|e| e["subject"].as_str().unwrap().to_owned())
                .collect();
            let got: HashSet<&String> = subjects.iter().collect();
            assert_eq!(
                got.len(),
                subjects.len(),
                "{kind} recorded twice for one task"
            );
            if got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{kind}: {} of {} events arrived",
                got.intersection(&want).count(),
                want.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_as_processes_over_kafka_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = Broker {
        dir: tmp.path().to_path_buf(),
        port: free_port(),
    };
    let _broker = broker.start();
    for topic in ["task-events", "reminders", "task-updates"] {
        broker.create_topic(topic, "3");
        broker.create_topic(&format!("{topic}.dlq"), "1");
    }

    let db = common::fresh_pg_database().await;
    migrate(&db);
    let token = user_with_token(&env(&db));
    let api_port = free_port();
    let _api = role(&db, "api", broker.port, api_port);
    let audit_port = free_port();
    let mut audit = role(&db, "audit", broker.port, audit_port);
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{api_port}"),
        token,
    };

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
    let _audit = role(&db, "audit", broker.port, audit_port);
    api.expect_exactly_once("task.created", &created, Duration::from_secs(60))
        .await;
    api.expect_exactly_once("task.updated", &renamed, Duration::from_secs(30))
        .await;

    // The recurring role in its own process: the next occurrence of a
    // completed daily task exists soon after, once, even when the broker
    // hands the same completion over again and again; COUNT=3 ends it.
    let _recurring = role(&db, "recurring", broker.port, free_port());
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
    assert!(completed_at.elapsed() < Duration::from_secs(3));
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
        brokers: format!("127.0.0.1:{}", broker.port),
        properties: Default::default(),
        session_timeout_ms: 2000,
        topic_prefix: String::new(),
    })
    .unwrap();
    let replay = Message {
        id: completion["id"].as_str().unwrap().to_owned(),
        topic: "task-events".into(),
        key: completion["partitionkey"].as_str().unwrap().to_owned(),
        payload: completion.to_string(),
    };
    publisher.publish(&vec![replay; 5]).await.unwrap();
    api.complete(&second).await;
    let third = api
        .wait_next("Standup", &[first.clone(), second.clone()])
        .await;
    api.complete(&third).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    api.expect_exactly_once(
        "task.created",
        &[created.clone(), vec![first, second, third]].concat(),
        Duration::from_secs(10),
    )
    .await;

    // Reminders across processes: the scheduler fires them, the notifier
    // (killed with SIGKILL before they fire, restarted after) delivers each once.
    let scheduler_port = free_port();
    let mut scheduler = role(&db, "scheduler", broker.port, scheduler_port);
    let notifier_port = free_port();
    let mut notifier = role(&db, "notifier", broker.port, notifier_port);
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
    let _notifier = role(&db, "notifier", broker.port, notifier_port);
    api.expect_exactly_once("reminder.delivered", &reminded, Duration::from_secs(60))
        .await;
    let notes: Value = api
        .http
        .get(format!("{}/api/v1/notifications?limit=200", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        notes["items"].as_array().unwrap().len(),
        reminded.len(),
        "{notes}"
    );

    // A scheduler down past several reminders fires each once on restart, late.
    scheduler.kill();
    let at = chrono::Utc::now() + chrono::Duration::seconds(1);
    let mut missed = Vec::new();
    for i in 0..5 {
        let task = json!({"title": format!("missed {i}"), "reminders": [{"at": at.to_rfc3339()}]});
        missed.push(api.create_with(task).await);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _scheduler = role(&db, "scheduler", broker.port, scheduler_port);
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
    let metrics = format!("http://127.0.0.1:{audit_port}/metrics");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = api
            .http
            .get(&metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
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
    let _p = role(&db, "audit", free_port(), port);
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
