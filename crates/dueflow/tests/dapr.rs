//! The Dapr transport against Dapr's documented HTTP contract. No Dapr
//! sidecar runs in the test suite: `common::dapr` plays its part. The app
//! is the real binary running every role over it; a database held locked
//! by another process turns a delivery into a `RETRY`.

mod common;

use std::time::{Duration, Instant};

use common::dapr::{APP_TOKEN, SIDECAR_TOKEN, Sidecar, Subscriptions};
use common::kafka::Api;
use common::process::{free_port, serve, user_with_token};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_over_the_dapr_http_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let app_port = free_port();
    let sidecar = Sidecar::start(app_port, Subscriptions::AsDeclared).await;
    let mut env = sidecar.app_env(tmp.path());
    // Topics as an operator may name them: a prefix, one renamed.
    env.push(("DUEFLOW_TOPIC_PREFIX", "prod.".to_owned()));
    env.push(("DUEFLOW_TOPIC_TASK_UPDATES", "dueflow-live".to_owned()));
    let token = user_with_token(&env);
    let _app = serve(&env, app_port, &[]);
    let base = format!("http://127.0.0.1:{app_port}");
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{base}{path}")).bearer_auth(&token).send();

    // Only the sidecar (holding the app token) is heard on the Dapr routes.
    for (path, token) in [
        ("/dapr/subscribe", None),
        ("/dapr/subscribe", Some("wrong")),
    ] {
        let mut req = http.get(format!("{base}{path}"));
        if let Some(t) = token {
            req = req.header("dapr-api-token", t);
        }
        assert_eq!(req.send().await.unwrap().status(), 401);
    }
    let forged = http
        .post(format!("{base}/dapr/events/task-events"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // The programmatic subscription names every topic the roles consume.
    let subs: Value = http
        .get(format!("{base}/dapr/subscribe"))
        .header("dapr-api-token", APP_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut topics: Vec<&str> = subs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["pubsubname"], "dueflow-pubsub", "{s}");
            s["topic"].as_str().unwrap()
        })
        .collect();
    topics.sort();
    assert_eq!(
        topics,
        ["prod.dueflow-live", "prod.reminders", "prod.task-events"]
    );

    // A recurring task, completed: published as CloudEvents keyed by user,
    // delivered back to the audit and recurring roles.
    let me: Value = get("/api/v1/me").await.unwrap().json().await.unwrap();
    let task: Value = http
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(&token)
        .json(&json!({"title": "Standup", "due": "2026-12-01", "recurrence": {"rrule": "FREQ=DAILY"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = task["id"].as_str().unwrap();
    // A delivery without the app token is refused and changes nothing.
    let forged = forged_reminder(me["id"].as_str().unwrap(), id, 0);
    for token in [None, Some("wrong"), Some("app-secreT")] {
        let mut req = http
            .post(format!("{base}/dapr/events/reminders"))
            .header("content-type", "application/cloudevents+json")
            .body(forged.to_string());
        if let Some(t) = token {
            req = req.header("dapr-api-token", t);
        }
        assert_eq!(req.send().await.unwrap().status(), 401, "{token:?}");
    }
    let res = http
        .post(format!("{base}/api/v1/tasks/{id}/complete"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page: Value = get("/api/v1/tasks?q=status:open")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let activity: Value = get("/api/v1/activity?type=task.created")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let open = page["items"].as_array().unwrap().len();
        let created = activity["items"].as_array().unwrap().len();
        if open == 1 && created == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "open {open}, created events {created}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let published: Vec<(String, String)> = sidecar
        .published()
        .into_iter()
        .map(|p| (p.topic, p.body))
        .collect();
    assert!(!published.is_empty());
    for p in sidecar.published() {
        assert_eq!(p.pubsub, "dueflow-pubsub");
        assert!(
            ["prod.task-events", "prod.reminders", "prod.dueflow-live"].contains(&p.topic.as_str()),
            "{}",
            p.topic
        );
        assert_eq!(
            p.partition_key,
            me["id"].as_str().unwrap(),
            "partition key = user"
        );
        assert_eq!(p.content_type, "application/cloudevents+json");
        assert!(p.raw_payload, "the broker keeps the event as written");
        let doc: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(doc["specversion"], "1.0");
        assert_eq!(
            p.traceparent.as_deref(),
            doc["traceparent"].as_str(),
            "the sidecar is told the event's trace"
        );
    }
    assert!(
        sidecar.published().iter().any(|p| p.traceparent.is_some()),
        "no event carried a trace"
    );

    // The app's answers follow the contract: a duplicate is a SUCCESS that
    // changes nothing; what can never be handled is a DROP.
    let completed = published
        .iter()
        .find(|p| p.0 == "prod.task-events" && p.1.contains("dueflow.task.completed.v1"))
        .unwrap()
        .1
        .clone();
    // The app's answer to one delivery of `body` to the task-events route.
    let answer = |body: String| {
        let sent = http
            .post(format!("{base}/dapr/events/task-events"))
            .header("dapr-api-token", APP_TOKEN)
            .header("content-type", "application/cloudevents+json")
            .body(body)
            .send();
        async move { sent.await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(answer(completed).await, json!({"status": "SUCCESS"}));
    assert_eq!(answer("not json".into()).await, json!({"status": "DROP"}));
    assert_eq!(
        answer(json!({"specversion": "1.0", "id": "evt_x"}).to_string()).await,
        json!({"status": "DROP"})
    );

    // A passing failure is a RETRY, and the redelivery then lands: while
    // another process holds the database's write lock the audit role
    // cannot record a new event; once the lock is gone, the same delivery
    // is a SUCCESS and the event is in the activity log once.
    let mut created: Value = serde_json::from_str(
        &published
            .iter()
            .find(|p| p.0 == "prod.task-events" && p.1.contains("dueflow.task.created.v1"))
            .unwrap()
            .1,
    )
    .unwrap();
    let fresh = format!("evt_{}", uuid::Uuid::now_v7().simple());
    created["id"] = json!(fresh);
    let db = rusqlite::Connection::open(tmp.path().join("data").join("dueflow.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(
        answer(created.to_string()).await,
        json!({"status": "RETRY"})
    );
    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        answer(created.to_string()).await,
        json!({"status": "SUCCESS"})
    );
    let activity: Value = get("/api/v1/activity?type=task.created")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(
        ids.iter().filter(|i| **i == fresh).count(),
        1,
        "{activity:#}"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let page: Value = get("/api/v1/tasks?q=status:open")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        1,
        "the replay created nothing"
    );
    let notes: Value = get("/api/v1/notifications")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(notes["items"], json!([]), "the forged reminder left none");
    let activity: Value = get("/api/v1/activity").await.unwrap().json().await.unwrap();
    assert!(
        activity["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != forged["id"]),
        "{activity:#}"
    );
}

/// `dueflow serve` with `env`, which must exit at once: its stderr.
fn refused_start(env: &[(&str, String)]) -> String {
    let mut child = common::process::dueflow(
        env,
        &["serve", "--listen", &format!("127.0.0.1:{}", free_port())],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("dueflow serve started");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn dapr_mode_needs_an_app_token_or_a_loopback_app_listener() {
    let tmp = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "DUEFLOW_DATA_DIR",
            tmp.path().join("data").display().to_string(),
        ),
        ("DUEFLOW_BUS", "dapr".to_owned()),
    ];
    let err = refused_start(&env);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("dapr_app_token")
            && err.contains("DUEFLOW_DAPR_APP_LISTEN")
            && err.contains("loopback"),
        "{err}"
    );
    for addr in ["0.0.0.0:3001", "192.0.2.1:3001", "[::]:3001", "localhost"] {
        let mut env = env.clone();
        env.push(("DUEFLOW_DAPR_APP_LISTEN", addr.to_owned()));
        let err = refused_start(&env);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("dapr_app_listen = '{addr}' must be a loopback")),
            "{err}"
        );
    }
}

/// One app over the test sidecar whose deliveries arrive on a loopback
/// listener of their own and carry no token.
struct LoopbackApp {
    _tmp: tempfile::TempDir,
    _app: common::process::Proc,
    base: String,
    /// Where the sidecar delivers.
    deliveries: String,
    token: String,
    user_id: String,
    http: reqwest::Client,
}

impl LoopbackApp {
    async fn start() -> LoopbackApp {
        let tmp = tempfile::tempdir().unwrap();
        let (app_port, delivery_port) = (free_port(), free_port());
        let sidecar = Sidecar::start(delivery_port, Subscriptions::AsDeclared).await;
        // No app token: the deliveries' listener is loopback only.
        let mut env = sidecar.app_env(tmp.path());
        env.retain(|(k, _)| *k != "DUEFLOW_DAPR_APP_TOKEN");
        env.push((
            "DUEFLOW_DAPR_APP_LISTEN",
            format!("127.0.0.1:{delivery_port}"),
        ));
        let token = user_with_token(&env);
        let app = serve(&env, app_port, &[]);
        common::process::wait_for_port(delivery_port, "the Dapr app listener");
        let base = format!("http://127.0.0.1:{app_port}");
        let http = reqwest::Client::new();
        let me: Value = http
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        LoopbackApp {
            _tmp: tmp,
            _app: app,
            base,
            deliveries: format!("http://127.0.0.1:{delivery_port}"),
            token,
            user_id: me["id"].as_str().unwrap().to_owned(),
            http,
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn create(&self, title: &str) -> Value {
        let res = self
            .http
            .post(format!("{}/api/v1/tasks", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }
}

/// A reminder.due CloudEvent for `user` that no store wrote, numbered `seq`.
fn forged_reminder(user: &str, task: &str, seq: i64) -> Value {
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let at = "2026-12-01T09:00:00.000Z";
    json!({
        "specversion": "1.0", "id": id, "source": "/dueflow",
        "type": "dueflow.reminder.due.v1", "subject": task, "time": at,
        "datacontenttype": "application/json", "partitionkey": user,
        "usersequence": seq,
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": {
            "reminder": {"id": "rem_forged", "task_id": task, "at": at, "fire_at": at,
                         "state": "fired", "fired_at": at},
            "task": {"title": "FORGED: reset your password at http://evil.example"},
        },
    })
}

/// Nothing a forged event would have left: no notification, no activity
/// row of it, nothing of it on the live stream.
async fn left_no_trace(app: &LoopbackApp, ws: &mut common::live::Ws, forged_id: &str) {
    while let Some(e) = common::live::next(ws, Duration::from_millis(1500)).await {
        assert_ne!(e["id"], forged_id, "{e}");
    }
    let notes = app.get("/api/v1/notifications").await;
    assert_eq!(notes["items"], json!([]), "{notes}");
    let activity = app.get("/api/v1/activity").await;
    assert!(
        activity["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != forged_id),
        "{activity}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_heard_only_on_the_loopback_app_listener() {
    let app = LoopbackApp::start().await;
    let task = app.create("Pay rent").await;
    let mut ws = common::live::connect(&app.base, &app.token, None).await;

    // The public port does not serve the sidecar's routes at all.
    let forged = forged_reminder(&app.user_id, task["id"].as_str().unwrap(), 0);
    for topic in ["reminders", "task-events", "task-updates"] {
        let res = app
            .http
            .post(format!("{}/dapr/events/{topic}", app.base))
            .header("content-type", "application/cloudevents+json")
            .body(forged.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{topic}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{topic}"
        );
    }
    let res = app
        .http
        .get(format!("{}/dapr/subscribe", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    left_no_trace(&app, &mut ws, forged["id"].as_str().unwrap()).await;

    // The sidecar, on the loopback listener, delivers: events keep flowing.
    let next = app.create("Water plants").await;
    let seen = common::live::next(&mut ws, Duration::from_secs(10))
        .await
        .expect("the task's event on the live stream");
    assert_eq!(seen["subject"], next["id"], "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_sequence_does_not_hide_later_events() {
    let app = LoopbackApp::start().await;
    let task = app.create("Pay rent").await;
    let mut ws = common::live::connect(&app.base, &app.token, None).await;
    while common::live::next(&mut ws, Duration::from_millis(500))
        .await
        .is_some()
    {}

    // An event no store numbered, as a bus may carry it: refused, not adopted.
    let forged = forged_reminder(
        &app.user_id,
        task["id"].as_str().unwrap(),
        9_000_000_000_000_000_000,
    );
    let answer: Value = app
        .http
        .post(format!("{}/dapr/events/task-updates", app.deliveries))
        .header("content-type", "application/cloudevents+json")
        .body(forged.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"status": "DROP"}));

    // The user's real events still reach the live client, numbered on.
    for title in ["Water plants", "Call mum"] {
        let created = app.create(title).await;
        let seen = common::live::next(&mut ws, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("{title} never reached the live client"));
        assert_eq!(seen["subject"], created["id"], "{seen}");
        assert!(seen["usersequence"].as_i64().unwrap() < 100, "{seen}");
    }
}

/// The activity log's events once `ready` holds for them.
async fn activity_when(api: &Api, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = api.get_json("/api/v1/activity?limit=200").await;
        let items = page["items"].as_array().unwrap().clone();
        if ready(&items) {
            return items;
        }
        assert!(Instant::now() < deadline, "{page:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_form_reaches_the_roles_as_published() {
    // Subscriptions made raw (as a declarative Subscription may make
    // them): every event arrives in Dapr's data_base64 wrapper.
    let tmp = tempfile::tempdir().unwrap();
    let app_port = free_port();
    let sidecar = Sidecar::start(app_port, Subscriptions::Raw).await;
    let env = sidecar.app_env(tmp.path());
    let token = user_with_token(&env);
    let _app = serve(&env, app_port, &[]);
    let api = Api::new(app_port, token);
    let id = api
        .create_with(json!({"title": "Standup", "due": "2026-12-01",
                            "recurrence": {"rrule": "FREQ=DAILY"}}))
        .await;
    api.complete(&id).await;
    // The recurring role read the wrapped completion: the next occurrence
    // is created, and its event, too, reaches the activity log.
    let created = |items: &[Value]| {
        items
            .iter()
            .filter(|e| e["type"] == "dueflow.task.created.v1")
            .count()
    };
    let items = activity_when(&api, |items| created(items) == 2).await;
    let published: Vec<Value> = sidecar
        .published()
        .iter()
        .filter(|p| p.topic == "task-events")
        .map(|p| serde_json::from_str(&p.body).unwrap())
        .collect();
    assert_eq!(published.len(), 3, "two creations and a completion");
    for event in &published {
        let logged = items.iter().find(|e| e["id"] == event["id"]);
        assert_eq!(logged, Some(event), "logged as published");
    }

    // A CloudEvent published through Dapr's own envelope (as another app
    // may publish): the sidecar adds its fields, the log keeps none of them.
    let mut foreign = published[0].clone();
    let fresh = format!("evt_{}", uuid::Uuid::now_v7().simple());
    foreign["id"] = json!(fresh);
    let res = api
        .http
        .post(format!(
            "{}/v1.0/publish/dueflow-pubsub/task-events",
            sidecar.endpoint()
        ))
        .header("dapr-api-token", SIDECAR_TOKEN)
        .header("content-type", "application/cloudevents+json")
        .header("traceparent", foreign["traceparent"].as_str().unwrap())
        .body(foreign.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let stored = sidecar.published().last().unwrap().clone();
    assert!(!stored.raw_payload);
    let items = activity_when(&api, |items| {
        items.iter().any(|e| e["id"] == fresh.as_str())
    })
    .await;
    let mut logged = items
        .into_iter()
        .find(|e| e["id"] == fresh.as_str())
        .unwrap();
    for field in ["topic", "pubsubname", "traceid", "tracestate"] {
        assert!(logged.get(field).is_none(), "{field} in {logged:#}");
    }
    // The sidecar's span replaced the publisher's, in the same trace.
    let trace = |e: &Value| e["traceparent"].as_str().unwrap()[3..35].to_owned();
    assert_eq!(trace(&logged), trace(&foreign));
    logged["traceparent"] = foreign["traceparent"].clone();
    assert_eq!(logged, foreign);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_come_from_the_dapr_secret_store() {
    let tmp = tempfile::tempdir().unwrap();
    let app_port = free_port();
    let sidecar = Sidecar::start(app_port, Subscriptions::AsDeclared).await;
    // The database and the app token only the store knows.
    let db = tmp.path().join("from-the-store.db");
    let database_url = format!("sqlite:{}", db.display());
    sidecar.keep_secret(
        "kubernetes",
        "dueflow",
        &[
            ("database_url", &database_url),
            ("dapr_app_token", APP_TOKEN),
            ("unrelated", "ignored"),
        ],
    );
    let mut env = sidecar.app_env(tmp.path());
    env.retain(|(k, _)| *k != "DUEFLOW_DAPR_APP_TOKEN");
    env.push(("DUEFLOW_DAPR_SECRET_STORE", "kubernetes".to_owned()));
    let token = user_with_token(&env);
    let _app = serve(&env, app_port, &[]);
    assert!(db.exists(), "the database the store named");
    // The sidecar's deliveries carry the app token the store holds.
    let api = Api::new(app_port, token);
    api.create("Renew passport").await;
    activity_when(&api, |items| {
        items.iter().any(|e| e["type"] == "dueflow.task.created.v1")
    })
    .await;

    // A store or a secret the sidecar does not know, or a wrong token,
    // stops the start with Dapr's explanation.
    for (key, value, says) in [
        (
            "DUEFLOW_DAPR_SECRET_STORE",
            "vault",
            "failed finding secret store with key vault",
        ),
        (
            "DUEFLOW_DAPR_SECRET_NAME",
            "missing",
            "secret missing not found",
        ),
        ("DUEFLOW_DAPR_API_TOKEN", "wrong", "invalid api token"),
    ] {
        let mut env = env.clone();
        env.retain(|(k, _)| *k != key);
        env.push((key, value.to_owned()));
        let err = refused_start(&env);
        assert!(
            err.contains(says) && err.contains("Dapr secret store"),
            "{key}={value}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dapr_jobs_time_a_thousand_reminders() {
    let tmp = tempfile::tempdir().unwrap();
    let app_port = free_port();
    let sidecar = Sidecar::start(app_port, Subscriptions::AsDeclared).await;
    let mut env = sidecar.app_env(tmp.path());
    env.push(("DUEFLOW_SCHEDULER_TIMER", "dapr_jobs".to_owned()));
    env.push(("DUEFLOW_WEBHOOKS_ALLOW_PRIVATE", "true".to_owned()));
    let token = user_with_token(&env);
    let _app = serve(&env, app_port, &[]);
    // Between the sidecar's calls the scheduler only looks every 30 s: the
    // reminders are on time only if the jobs woke it.
    let api = Api::new(app_port, token);
    common::reminder_load::reach_both_channels_once_and_on_time(&api).await;
    // Not one of them waited for the timer's own look.
    let scrape = api.metrics().await;
    let fired_within = |seconds: f64| {
        scrape
            .lines()
            .filter_map(|l| l.strip_prefix("dueflow_reminder_lateness_seconds_bucket{le=\""))
            .filter_map(|rest| rest.split_once("\"} "))
            .find(|(le, _)| le.parse::<f64>() == Ok(seconds))
            .map(|(_, n)| n.trim().parse::<f64>().unwrap())
    };
    assert_eq!(fired_within(2.0), Some(1_000.0), "{scrape}");
    let scheduled = sidecar.jobs_scheduled();
    let names: std::collections::HashSet<&str> =
        scheduled.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names.len(), 1_000, "a job per reminder");
    for job in &scheduled {
        assert!(job.name.starts_with("reminder-rem_"), "{job:?}");
        assert_eq!(
            job.data["reminder"].as_str(),
            job.name.strip_prefix("reminder-"),
            "{job:?}"
        );
    }
    let called: std::collections::HashSet<String> =
        sidecar.jobs_called().into_iter().map(|(n, _)| n).collect();
    assert_eq!(called.len(), 1_000, "every job called back");
}
