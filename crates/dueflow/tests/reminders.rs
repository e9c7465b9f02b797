//! Reminders end to end on a real server: a reminder fires at its instant
//! (never before, within a second after), once, as an in-app notification
//! with its events; editing the task does not fire it again; snooze fires
//! it again later, dismiss stops it; finished tasks keep no pending
//! reminders; another user's reminders look missing.

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use common::{Session, TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A whole-second instant `secs` from now (the reminder's `at`).
fn in_secs(secs: i64) -> DateTime<Utc> {
    let t = Utc::now() + chrono::Duration::seconds(secs);
    DateTime::from_timestamp(t.timestamp() + 1, 0).unwrap()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not an instant: {v}"))
        .parse()
        .unwrap()
}

async fn get(s: &TestServer, who: &Session, path: &str) -> Value {
    let (st, v) = s.call(who, Method::GET, path, None).await;
    assert_eq!(st, StatusCode::OK, "GET {path}: {v}");
    v
}

async fn reminders_of(s: &TestServer, who: &Session, task: &str) -> Vec<Value> {
    get(s, who, &format!("/api/v1/reminders?task={task}"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

async fn notifications_of(s: &TestServer, who: &Session, task: &str) -> Vec<Value> {
    get(s, who, "/api/v1/notifications?limit=200").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["task_id"] == task)
        .cloned()
        .collect()
}

/// Poll until `task` has `n` notifications; fail after `secs`.
async fn wait_notifications(
    s: &TestServer,
    who: &Session,
    task: &str,
    n: usize,
    secs: u64,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = notifications_of(s, who, task).await;
        if got.len() >= n {
            assert_eq!(got.len(), n, "exactly {n}: {got:#?}");
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{n} notifications for {task} after {secs} s: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn activity_types(s: &TestServer, who: &Session, task: &str) -> Vec<String> {
    let v = get(s, who, &format!("/api/v1/activity?task={task}&limit=200")).await;
    let mut types: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    types.reverse();
    types
}

/// Poll the activity log until the task's history contains `want` in order.
async fn wait_activity(s: &TestServer, who: &Session, task: &str, want: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let types = activity_types(s, who, task).await;
        if types == want {
            let v = get(s, who, &format!("/api/v1/activity?task={task}&limit=200")).await;
            return v["items"].as_array().unwrap().clone();
        }
        assert!(
            Instant::now() < deadline,
            "activity of {task}: {types:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn fires_once_on_time(s: &TestServer) {
    let ann = s.user("ann").await;
    let at = in_secs(1);
    let due = at + chrono::Duration::hours(1);
    // One absolute reminder and one an offset before the due, one second apart.
    let task = s
        .create(
            &ann,
            json!({"title": "Call the bank", "due": rfc3339(due),
                   "reminders": [{"at": rfc3339(at)}, {"before": "PT59M59S"}]}),
        )
        .await;
    let id = task["id"].as_str().unwrap().to_owned();
    let pending = reminders_of(s, &ann, &id).await;
    assert_eq!(pending.len(), 2, "{pending:#?}");
    assert!(pending.iter().all(|r| r["state"] == "pending"));
    assert_eq!(instant(&pending[0]["at"]), at);
    assert_eq!(
        instant(&pending[1]["at"]),
        at + chrono::Duration::seconds(1)
    );

    let notes = wait_notifications(s, &ann, &id, 2, 6).await;
    for r in reminders_of(s, &ann, &id).await {
        assert_eq!(r["state"], "fired", "{r}");
        let late = instant(&r["fired_at"]) - instant(&r["at"]);
        assert!(late >= chrono::Duration::zero(), "fired early: {r}");
        assert!(
            late < chrono::Duration::milliseconds(1000),
            "fired {late} late: {r}"
        );
    }
    assert!(
        notes
            .iter()
            .all(|n| n["title"] == "Call the bank" && n["read_at"].is_null())
    );
    assert!(notes.iter().all(|n| instant(&n["created_at"]) >= at));

    let history = wait_activity(
        s,
        &ann,
        &id,
        &[
            "dueflow.task.created.v1",
            "dueflow.reminder.scheduled.v1",
            "dueflow.reminder.scheduled.v1",
            "dueflow.reminder.due.v1",
            "dueflow.reminder.delivered.v1",
            "dueflow.reminder.due.v1",
            "dueflow.reminder.delivered.v1",
        ],
    )
    .await;
    for e in history
        .iter()
        .filter(|e| e["type"] == "dueflow.reminder.due.v1")
    {
        assert_eq!(e["data"]["late"], false, "{e}");
        assert_eq!(e["data"]["task"]["id"], id.as_str());
    }

    // Editing the task keeps the fired reminders fired: nothing fires again.
    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            &format!("/api/v1/tasks/{id}"),
            Some(json!({"title": "Call the bank!"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(notifications_of(s, &ann, &id).await.len(), 2);
    assert_eq!(reminders_of(s, &ann, &id).await.len(), 2);

    // Bob cannot read ann's notifications; ann reads one: it leaves the unread list.
    let nid = notes[0]["id"].as_str().unwrap();
    let bob = s.user("bob").await;
    let (st, v) = s
        .call(
            &bob,
            Method::POST,
            &format!("/api/v1/notifications/{nid}/read"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, read) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/notifications/{nid}/read"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{read}");
    assert!(read["read_at"].is_string());
    let unread = get(s, &ann, "/api/v1/notifications?unread=true").await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 1, "{unread}");

    // Snooze one: it fires again, once more.
    let rid = reminders_of(s, &ann, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, r) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/reminders/{rid}/snooze"),
            Some(json!({"for": "PT1S"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "pending");
    assert!(instant(&r["fire_at"]) > Utc::now());
    wait_notifications(s, &ann, &id, 3, 5).await;
    let types = activity_types(s, &ann, &id).await;
    assert!(
        types.contains(&"dueflow.reminder.snoozed.v1".to_owned()),
        "{types:?}"
    );
}

async fn dismiss_complete_and_isolation(s: &TestServer) {
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    let at = in_secs(1);
    let a = s
        .create(
            &ann,
            json!({"title": "Dismissed", "reminders": [{"at": rfc3339(at)}]}),
        )
        .await;
    let b = s
        .create(
            &ann,
            json!({"title": "Completed", "reminders": [{"at": rfc3339(at)}]}),
        )
        .await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let rid = reminders_of(s, &ann, a).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Bob cannot see, snooze or dismiss ann's reminder.
    assert_eq!(get(s, &bob, "/api/v1/reminders").await, json!([]));
    for (path, body) in [
        (format!("/api/v1/reminders/{rid}/dismiss"), None),
        (
            format!("/api/v1/reminders/{rid}/snooze"),
            Some(json!({"for": "PT1M"})),
        ),
    ] {
        let (st, v) = s.call(&bob, Method::POST, &path, body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {v}");
    }

    // Bad snoozes change nothing.
    for (body, field) in [
        (
            json!({"for": "PT1M", "until": rfc3339(in_secs(60))}),
            Value::Null,
        ),
        (json!({}), Value::Null),
        (json!({"until": "2020-01-01T00:00:00Z"}), json!("until")),
        (json!({"for": "P1M"}), json!("for")),
        (json!({"for": "PT1M", "extra": 1}), Value::Null),
    ] {
        let (st, v) = s
            .call(
                &ann,
                Method::POST,
                &format!("/api/v1/reminders/{rid}/snooze"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        if !field.is_null() {
            assert_eq!(v["field"], field, "{v}");
        }
    }
    let (st, v) = send(
        s.req(&ann, Method::GET, "/api/v1/reminders")
            .query(&[("state", "soon")]),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    let (st, r) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/reminders/{rid}/dismiss"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "dismissed");
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/tasks/{b}/complete"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        reminders_of(s, &ann, b).await,
        Vec::<Value>::new(),
        "a done task keeps no pending reminder"
    );

    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(notifications_of(s, &ann, a).await, Vec::<Value>::new());
    assert_eq!(notifications_of(s, &ann, b).await, Vec::<Value>::new());
    assert_eq!(reminders_of(s, &ann, a).await[0]["state"], "dismissed");
    let types = activity_types(s, &ann, a).await;
    assert!(
        types.contains(&"dueflow.reminder.dismissed.v1".to_owned()),
        "{types:?}"
    );
    assert!(
        !types.contains(&"dueflow.reminder.due.v1".to_owned()),
        "{types:?}"
    );
    assert_eq!(
        get(s, &bob, "/api/v1/notifications").await["items"],
        json!([])
    );
}

both_backends!(fires_once_on_time, dismiss_complete_and_isolation);
