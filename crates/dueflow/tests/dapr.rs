//! The Dapr transport against Dapr's documented HTTP contract. No Dapr
//! sidecar runs on these machines, so the test plays the sidecar's part as
//! the Dapr docs describe it: it accepts `POST /v1.0/publish/{pubsub}/{topic}`
//! (CloudEvents, `metadata.partitionKey`), reads the app's
//! `GET /dapr/subscribe`, and delivers each event to the route named there,
//! redelivering on `RETRY` and dropping on `DROP`, with Dapr's API tokens
//! both ways; a database held locked by another process turns a delivery
//! into a `RETRY`. The app is the real binary running every role over it.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use common::process::{free_port, serve, user_with_token};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// (pubsub, topic, partition key, content type, body) of one publish.
type Published = (String, String, String, String, String);

/// Dapr's API tokens: the app sends `SIDECAR_TOKEN`, the sidecar `APP_TOKEN`.
const SIDECAR_TOKEN: &str = "sidecar-secret";
const APP_TOKEN: &str = "app-secret";

#[derive(Clone)]
struct Sidecar {
    published: Arc<Mutex<Vec<Published>>>,
    deliver: mpsc::UnboundedSender<(String, String)>,
}

async fn publish(
    State(s): State<Sidecar>,
    Path((pubsub, topic)): Path<(String, String)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    if headers
        .get("dapr-api-token")
        .is_none_or(|t| t != SIDECAR_TOKEN)
    {
        return StatusCode::UNAUTHORIZED;
    }
    let key = q.get("metadata.partitionKey").cloned().unwrap_or_default();
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    s.published
        .lock()
        .unwrap()
        .push((pubsub, topic.clone(), key, ct, body.clone()));
    s.deliver.send((topic, body)).unwrap();
    StatusCode::NO_CONTENT
}

/// Deliver published events to the app in order, as Dapr would.
async fn delivery(app: String, mut queue: mpsc::UnboundedReceiver<(String, String)>) {
    let http = reqwest::Client::new();
    let subs: Value = loop {
        let asked = http
            .get(format!("{app}/dapr/subscribe"))
            .header("dapr-api-token", APP_TOKEN)
            .send()
            .await;
        if let Ok(r) = asked {
            break r.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    while let Some((topic, body)) = queue.recv().await {
        let Some(route) = subs
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["topic"] == topic.as_str())
            .map(|s| s["route"].as_str().unwrap().to_owned())
        else {
            continue; // nobody subscribed to this topic
        };
        loop {
            let answer: Value = http
                .post(format!("{app}{route}"))
                .header("dapr-api-token", APP_TOKEN)
                .header("content-type", "application/cloudevents+json")
                .body(body.clone())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            match answer["status"].as_str() {
                Some("SUCCESS") | Some("DROP") => break,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

async fn sidecar(app_port: u16) -> (Sidecar, u16) {
    let (tx, rx) = mpsc::unbounded_channel();
    let s = Sidecar {
        published: Arc::default(),
        deliver: tx,
    };
    let router = Router::new()
        .route(
            "/v1.0/publish/{pubsub}/{topic}",
            axum::routing::post(publish),
        )
        .with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    tokio::spawn(delivery(format!("http://127.0.0.1:{app_port}"), rx));
    (s, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_over_the_dapr_http_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let app_port = free_port();
    let (sidecar, sidecar_port) = sidecar(app_port).await;
    let env = [
        (
            "DUEFLOW_DATA_DIR",
            tmp.path().join("data").display().to_string(),
        ),
        ("DUEFLOW_BUS", "dapr".to_owned()),
        (
            "DUEFLOW_DAPR_HTTP_ENDPOINT",
            format!("http://127.0.0.1:{sidecar_port}"),
        ),
        ("DUEFLOW_DAPR_API_TOKEN", SIDECAR_TOKEN.to_owned()),
        ("DUEFLOW_DAPR_APP_TOKEN", APP_TOKEN.to_owned()),
        // Topics as an operator may name them: a prefix, one renamed.
        ("DUEFLOW_TOPIC_PREFIX", "prod.".to_owned()),
        ("DUEFLOW_TOPIC_TASK_UPDATES", "dueflow-live".to_owned()),
    ];
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
    let published = sidecar.published.lock().unwrap().clone();
    assert!(!published.is_empty());
    for (pubsub, topic, key, ct, body) in &published {
        assert_eq!(pubsub, "dueflow-pubsub");
        assert!(
            ["prod.task-events", "prod.reminders", "prod.dueflow-live"].contains(&topic.as_str()),
            "{topic}"
        );
        assert_eq!(key, me["id"].as_str().unwrap(), "partition key = user");
        assert_eq!(ct, "application/cloudevents+json");
        let doc: Value = serde_json::from_str(body).unwrap();
        assert_eq!(doc["specversion"], "1.0");
    }

    // The app's answers follow the contract: a duplicate is a SUCCESS that
    // changes nothing; what can never be handled is a DROP.
    let completed = published
        .iter()
        .find(|p| p.1 == "prod.task-events" && p.4.contains("dueflow.task.completed.v1"))
        .unwrap()
        .4
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
            .find(|p| p.1 == "prod.task-events" && p.4.contains("dueflow.task.created.v1"))
            .unwrap()
            .4,
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
        let (_sidecar, sidecar_port) = sidecar(delivery_port).await;
        let env = [
            (
                "DUEFLOW_DATA_DIR",
                tmp.path().join("data").display().to_string(),
            ),
            ("DUEFLOW_BUS", "dapr".to_owned()),
            (
                "DUEFLOW_DAPR_HTTP_ENDPOINT",
                format!("http://127.0.0.1:{sidecar_port}"),
            ),
            ("DUEFLOW_DAPR_API_TOKEN", SIDECAR_TOKEN.to_owned()),
            (
                "DUEFLOW_DAPR_APP_LISTEN",
                format!("127.0.0.1:{delivery_port}"),
            ),
        ];
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
