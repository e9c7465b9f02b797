//! Multi-process scenarios over a real Kafka-protocol broker (tansu) and a
//! real PostgreSQL: the broker process (stopped and started again when a
//! scenario needs an outage), `dueflow serve --roles …` processes on the
//! Kafka bus, and an API client that waits for what the consumers recorded.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::hooks::Received;
use super::process::{Proc, dueflow, serve, wait_for_port};

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

/// Where a tansu broker keeps what it accepted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A SQLite file in the broker's directory: it survives a restart.
    /// tansu spends CPU on it in proportion to its fetch requests (a core
    /// with three idle consumers here), so only scenarios that stop and
    /// start the broker use it.
    Durable,
    /// In memory, gone with the process.
    Memory,
}

/// A tansu broker on a loopback port, with its files in `dir`.
pub struct Broker {
    pub dir: PathBuf,
    pub port: u16,
    pub storage: Storage,
}

impl Broker {
    pub fn start(&self) -> Proc {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        // tansu 0.6 wants a relative path for its SQLite storage.
        let storage = match self.storage {
            Storage::Durable => "sqlite://broker.db",
            Storage::Memory => "memory://tansu/",
        };
        let proc = Proc::spawn(
            Command::new(tansu())
                .args([
                    "broker",
                    "--listener-url",
                    &url,
                    "--advertised-listener-url",
                    &url,
                ])
                .args(["--storage-engine", storage])
                .current_dir(&self.dir)
                .env_clear()
                .env("RUST_BACKTRACE", "1"),
            &format!("the tansu broker on {}", self.port),
        );
        wait_for_port(self.port, "broker");
        proc
    }

    /// Start the broker with dueflow's topics (`partitions` each) and their
    /// dead-letter topics; tansu does not create topics on demand.
    pub fn start_with_topics(&self, partitions: u32) -> Proc {
        let proc = self.start();
        for topic in ["task-events", "reminders", "task-updates"] {
            self.create_topic(topic, partitions);
            self.create_topic(&format!("{topic}.dlq"), 1);
        }
        proc
    }

    fn create_topic(&self, name: &str, partitions: u32) {
        let ok = Command::new(tansu())
            .args([
                "topic",
                "create",
                name,
                "--broker",
                &format!("tcp://127.0.0.1:{}", self.port),
            ])
            .args(["--partitions", &partitions.to_string()])
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "create topic {name}");
    }

    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// What every scenario starts from: a broker with dueflow's topics (three
/// partitions each) and a fresh, migrated PostgreSQL database.
pub struct Cluster {
    pub broker: Broker,
    /// The broker process; a scenario may stop it and start another.
    pub broker_proc: Proc,
    pub db: String,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// A broker that keeps messages in memory (for scenarios that never
    /// restart it), with a fresh database.
    pub async fn start() -> Cluster {
        Self::start_with(Storage::Memory).await
    }

    /// The same with a broker that can be stopped and started again.
    pub async fn start_durable() -> Cluster {
        Self::start_with(Storage::Durable).await
    }

    async fn start_with(storage: Storage) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker {
            dir: dir.path().to_path_buf(),
            port: super::process::free_port(),
            storage,
        };
        let broker_proc = broker.start_with_topics(3);
        let db = super::fresh_pg_database().await;
        migrate(&db);
        Cluster {
            broker,
            broker_proc,
            db,
            _dir: dir,
        }
    }

    /// `dueflow serve --roles ROLES` against this cluster.
    pub fn role(&self, roles: &str, listen: u16) -> Proc {
        role(&self.db, roles, &self.broker, listen, &[])
    }

    /// The same with `extra` in its environment.
    pub fn role_with(&self, roles: &str, listen: u16, extra: &[(&'static str, String)]) -> Proc {
        role(&self.db, roles, &self.broker, listen, extra)
    }
}

/// The environment of every dueflow process of a scenario.
pub fn env(db: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DUEFLOW_DATABASE_URL", db.to_owned()),
        ("DUEFLOW_KAFKA_SESSION_TIMEOUT_MS", "2000".to_owned()),
        ("DUEFLOW_WEBHOOKS_ALLOW_PRIVATE", "true".to_owned()),
    ]
}

/// `dueflow serve --roles ROLES` on the Kafka bus, listening on `listen`.
/// It is configured as a Kubernetes pod with mounted secrets would be: the
/// database URL and the Kafka client settings (the broker's address among
/// them) are files.
pub fn role(
    db: &str,
    roles: &str,
    broker: &Broker,
    listen: u16,
    extra: &[(&'static str, String)],
) -> Proc {
    let url_file = broker.dir.join("database-url");
    std::fs::write(&url_file, format!("{db}\n")).unwrap();
    let properties = broker.dir.join("client.properties");
    std::fs::write(
        &properties,
        format!(
            "# as a managed Kafka hands it out\nbootstrap.servers={}\n",
            broker.brokers()
        ),
    )
    .unwrap();
    let mut env = env(db);
    env.retain(|(k, _)| *k != "DUEFLOW_DATABASE_URL");
    env.push(("DUEFLOW_DATABASE_URL_FILE", url_file.display().to_string()));
    env.push((
        "DUEFLOW_KAFKA_PROPERTIES_FILE",
        properties.display().to_string(),
    ));
    env.extend_from_slice(extra);
    serve(&env, listen, &["--roles", roles, "--bus", "kafka"])
}

pub fn migrate(db: &str) {
    assert!(dueflow(&env(db), &["migrate"]).status().unwrap().success());
}

/// One user's view of the API of an `api` process.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn new(port: u16, token: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
            token,
        }
    }

    pub async fn create(&self, title: &str) -> String {
        self.create_with(json!({ "title": title })).await
    }

    pub async fn create_with(&self, task: Value) -> String {
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

    /// Register a webhook endpoint at `url` for `reminder.due`.
    pub async fn reminder_webhook(&self, url: &str) {
        let res = self
            .http
            .post(format!("{}/api/v1/webhooks", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"url": url, "events": ["reminder.due"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }

    /// `n` tasks with one reminder each, `spread` evenly from `first` on
    /// (8 requests at a time): task id → reminder instant.
    pub async fn tasks_with_reminders(
        &self,
        n: usize,
        first: DateTime<Utc>,
        spread: std::time::Duration,
    ) -> HashMap<String, DateTime<Utc>> {
        use futures_util::StreamExt;
        let step = spread.as_millis() as i64 / n as i64;
        futures_util::stream::iter(0..n)
            .map(|i| {
                let at = first + chrono::Duration::milliseconds(step * i as i64);
                let task =
                    json!({"title": format!("remind {i}"), "reminders": [{"at": at.to_rfc3339()}]});
                async move { (self.create_with(task).await, at) }
            })
            .buffer_unordered(8)
            .collect()
            .await
    }

    pub async fn complete(&self, id: &str) {
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
    pub async fn wait_next(&self, title: &str, not: &[String]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let page = self.get_json("/api/v1/tasks?q=status:open&limit=200").await;
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

    pub async fn rename(&self, id: &str, title: &str) {
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

    /// Every item of a paginated list (`limit` 200, following
    /// `next_cursor`), in the order the API gives them.
    pub async fn all_pages(&self, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = self
                .http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .query(&[("limit", "200")])
                .query(query);
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let page: Value = req.send().await.unwrap().json().await.unwrap();
            out.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }

    /// Every activity event of one type, oldest first.
    pub async fn activity(&self, kind: &str) -> Vec<Value> {
        let mut events = self.all_pages("/api/v1/activity", &[("type", kind)]).await;
        events.reverse();
        events
    }

    /// `GET path` as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }

    /// Every in-app notification, newest first.
    pub async fn notifications(&self) -> Vec<Value> {
        self.all_pages("/api/v1/notifications", &[]).await
    }

    /// The in-app notifications, checked to be exactly one for each task
    /// of `due` (the reminder tasks) and none for anything else.
    pub async fn one_notification_each<T>(&self, due: &HashMap<String, T>) -> Vec<Value> {
        let notes = self.notifications().await;
        let mut per_task: HashMap<&str, usize> = HashMap::new();
        for n in &notes {
            *per_task.entry(n["task_id"].as_str().unwrap()).or_default() += 1;
        }
        assert_eq!(
            per_task.len(),
            due.len(),
            "reminders without a notification"
        );
        assert!(
            per_task.values().all(|&n| n == 1),
            "a reminder notified twice"
        );
        assert!(per_task.keys().all(|t| due.contains_key(*t)));
        notes
    }

    /// Wait (up to `within`) until every reminder of `due` reached the
    /// webhook receiver, then check each became exactly one message (one
    /// `webhook-id`; a message sent just before a crash may arrive again
    /// under that id), none fired early, and one in-app notification each.
    pub async fn each_reminder_once(
        &self,
        received: &Received,
        due: &HashMap<String, DateTime<Utc>>,
        within: Duration,
    ) {
        let deadline = Instant::now() + within;
        loop {
            let ids: HashSet<String> = received
                .lock()
                .unwrap()
                .iter()
                .map(|h| h.webhook_id.clone())
                .collect();
            if ids.len() >= due.len() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {} webhook messages arrived",
                ids.len(),
                due.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Time for any duplicate to show.
        tokio::time::sleep(Duration::from_secs(2)).await;

        let got = received.lock().unwrap().clone();
        let mut ids_per_task: HashMap<&str, HashSet<&str>> = HashMap::new();
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
        assert_eq!(ids_per_task.len(), due.len(), "reminders without a webhook");
        assert!(
            ids_per_task.values().all(|ids| ids.len() == 1),
            "a reminder became two webhook messages (fired twice?)"
        );
        self.one_notification_each(due).await;
    }

    /// The process's `/metrics` page.
    pub async fn metrics(&self) -> String {
        let res = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap();
        res.text().await.unwrap()
    }

    /// The sum of a `/metrics` series (a name, or a name with all its
    /// labels) over its label sets; 0 where the process has none.
    pub async fn metric(&self, series: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .filter_map(|l| l.strip_prefix(series))
            .filter(|rest| rest.starts_with([' ', '{']))
            .filter_map(|rest| rest.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Wait until the activity log holds exactly `expected` subjects for
    /// `kind`, each once; fail on a duplicate or on timeout.
    pub async fn expect_exactly_once(&self, kind: &str, expected: &[String], within: Duration) {
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
