//! Task lifecycle over HTTP, on SQLite and PostgreSQL: create, read, change
//! with optimistic concurrency, delete, complete and reopen, recurrence (the
//! recurring role creates each next occurrence once, whatever is retried or
//! replayed), and bad input that is refused with a clear problem and changes
//! nothing.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::{Session, TestServer, send};
use dueflow_bus::{Handler, Message};
use dueflow_domain::event::Event;
use dueflow_domain::reminder::Reminder;
use dueflow_domain::task::{NewTask, Task};
use dueflow_store::{ReminderQuery, StoreError, User};
use dueflow_workers::recurring::Recurring;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

async fn lifecycle(s: &TestServer) {
    let ann = s.user("ann").await;
    let t = s
        .create(&ann, json!({"title": "  Buy milk ", "priority": "high", "tags": ["Home", "home", "errands"], "due": "2026-12-01"}))
        .await;
    assert_eq!(t["title"], "Buy milk");
    assert_eq!(t["tags"], json!(["home", "errands"]));
    assert_eq!(t["status"], "open");
    assert_eq!(t["version"], 1);
    let id = t["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tasks/{id}");

    let (st, got) = s.call(&ann, Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got, t, "a task reads back exactly as created");

    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            &path,
            Some(json!({"title": "Buy oat milk", "due": null})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["version"], 2);
    assert_eq!(v["due"], Value::Null);

    // A stale If-Match is refused with 412, a stale body version with 409; nothing changes.
    let res = s
        .req(&ann, Method::PATCH, &path)
        .header(header::IF_MATCH, "\"1\"")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let (st, _) = s
        .call(
            &ann,
            Method::PATCH,
            &path,
            Some(json!({"title": "x", "version": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let res = s
        .req(&ann, Method::PATCH, &path)
        .header(header::IF_MATCH, "\"2\"")
        .json(&json!({"notes": "oat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::ETAG], "\"3\"");
    let (_, v) = s.call(&ann, Method::GET, &path, None).await;
    assert_eq!(
        (
            v["title"].as_str(),
            v["notes"].as_str(),
            v["version"].as_i64()
        ),
        (Some("Buy oat milk"), Some("oat"), Some(3))
    );

    // Completing twice changes nothing the second time; reopen undoes it.
    let (st, c) = s
        .call(&ann, Method::POST, &format!("{path}/complete"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(c["status"], "done");
    assert!(c["completed_at"].is_string());
    let (st, c2) = s
        .call(&ann, Method::POST, &format!("{path}/complete"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(c2, c);
    let (st, r) = s
        .call(&ann, Method::POST, &format!("{path}/reopen"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["status"], "open");
    assert_eq!(r["completed_at"], Value::Null);

    let (st, _) = s.call(&ann, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, v) = s.call(&ann, Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["status"], 404);
    let (st, _) = s.call(&ann, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// The open task of `series` other than `not`, once the recurring role
/// created it (within 500 ms of the completion).
async fn next_in_series(s: &TestServer, who: &Session, series: &str, not: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        let (_, page) = send(
            s.req(who, Method::GET, "/api/v1/tasks")
                .query(&[("q", "status:open"), ("limit", "200")]),
        )
        .await;
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["series_id"] == series && !not.contains(&t["id"].as_str().unwrap()));
        if let Some(t) = found {
            return t.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no next occurrence of {series} within 500 ms"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Hand the recurring role the task's `task.completed` event again, `n` times.
async fn replay_completions(s: &TestServer, who: &Session, task: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let completed = loop {
        let (_, page) = send(
            s.req(who, Method::GET, "/api/v1/activity")
                .query(&[("task", task), ("type", "task.completed")]),
        )
        .await;
        if let Some(e) = page["items"].as_array().unwrap().first() {
            break e.clone();
        }
        assert!(Instant::now() < deadline, "no task.completed for {task}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let role = Recurring::new(common::store_of(s));
    let message = Message {
        id: completed["id"].as_str().unwrap().to_owned(),
        topic: "task-events".into(),
        key: completed["partitionkey"].as_str().unwrap().to_owned(),
        payload: completed.to_string(),
    };
    for _ in 0..n {
        role.handle(&message).await.expect("replayed completion");
    }
}

async fn recurrence(s: &TestServer) {
    let ann = s.user("ann").await;
    let t = s
        .create(
            &ann,
            json!({
                "title": "Standup", "due": "2026-12-01T09:00:00+01:00", "tz": "Europe/Berlin",
                "recurrence": {"rrule": "FREQ=DAILY;COUNT=3"},
                "reminders": [{"before": "PT15M"}, {"at": "2026-12-01T08:00:00+01:00"}]
            }),
        )
        .await;
    let id = t["id"].as_str().unwrap();
    let (st, occ) = s
        .call(
            &ann,
            Method::GET,
            &format!("/api/v1/tasks/{id}/occurrences?limit=5"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        occ,
        json!(["2026-12-02T09:00:00+01:00", "2026-12-03T09:00:00+01:00"]),
        "COUNT=3 leaves two after the first"
    );

    let series = t["series_id"].as_str().unwrap();
    let path = format!("/api/v1/tasks/{id}/complete");
    let (st, done) = s.call(&ann, Method::POST, &path, None).await;
    assert_eq!((st, &done["status"]), (StatusCode::OK, &json!("done")));
    let next = next_in_series(s, &ann, series, &[id]).await;
    assert_eq!(next["due"], "2026-12-02T09:00:00+01:00");
    assert_eq!(next["title"], "Standup");
    assert_eq!(
        next["reminders"],
        json!([{"before": "PT15M"}, {"at": "2026-12-02T08:00:00+01:00"}])
    );
    // Retried completions create nothing more; nor does reopening and
    // completing again, nor replaying the completion event to the role.
    for _ in 0..3 {
        let (st, c) = s.call(&ann, Method::POST, &path, None).await;
        assert_eq!((st, c), (StatusCode::OK, done.clone()));
    }
    s.call(
        &ann,
        Method::POST,
        &format!("/api/v1/tasks/{id}/reopen"),
        None,
    )
    .await;
    s.call(&ann, Method::POST, &path, None).await;
    replay_completions(s, &ann, id, 5).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        s.titles(&ann, "standup", "due").await.len(),
        2,
        "exactly one next occurrence"
    );

    let next_id = next["id"].as_str().unwrap();
    s.call(
        &ann,
        Method::POST,
        &format!("/api/v1/tasks/{next_id}/complete"),
        None,
    )
    .await;
    let third = next_in_series(s, &ann, series, &[id, next_id]).await;
    let third_id = third["id"].as_str().unwrap();
    s.call(
        &ann,
        Method::POST,
        &format!("/api/v1/tasks/{third_id}/complete"),
        None,
    )
    .await;
    replay_completions(s, &ann, third_id, 5).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        s.titles(&ann, "standup", "").await.len(),
        3,
        "COUNT=3 ends the series"
    );

    // Bad rules are refused naming the field.
    let (st, v) = s.call(&ann, Method::POST, "/api/v1/tasks", Some(json!({"title": "x", "due": "2026-12-01", "recurrence": {"rrule": "FREQ=SOMETIMES"}}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "recurrence.rrule", "{v}");
}

async fn bad_input_changes_nothing(s: &TestServer) {
    let ann = s.user("ann").await;
    let t = s.create(&ann, json!({"title": "keep me"})).await;
    let path = format!("/api/v1/tasks/{}", t["id"].as_str().unwrap());
    let cases: Vec<(Value, &str)> = vec![
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(501)}), "title"),
        (json!({"title": "a", "due": "next week"}), "due"),
        (json!({"title": "a", "tz": "Mars/Base"}), "tz"),
        (json!({"title": "a", "tags": vec!["t"; 51]}), "tags"),
        (json!({"title": "a", "tags": ["two words"]}), "tags[0]"),
        (
            json!({"title": "a", "reminders": [{"before": "PT15M"}]}),
            "reminders[0]",
        ),
        (
            json!({"title": "a", "recurrence": {"rrule": "FREQ=DAILY"}}),
            "recurrence",
        ),
        (
            json!({"title": "a", "notes": "n".repeat(64 * 1024 + 1)}),
            "notes",
        ),
    ];
    for (body, field) in cases {
        let (st, v) = s
            .call(&ann, Method::POST, "/api/v1/tasks", Some(body.clone()))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["field"], field, "{v}");
        assert!(v["detail"].as_str().unwrap().len() > 10);
    }
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/tasks",
            Some(json!({"title": "a", "colour": "red"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("colour"), "{v}");
    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            &path,
            Some(json!({"title": "changed", "priority": "extreme"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, _) = s
        .call(&ann, Method::PATCH, &path, Some(json!({"status": "done"})))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let big = "x".repeat(300 * 1024);
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/tasks",
            Some(json!({"title": "a", "notes": big})),
        )
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let (st, _) = crate::common::send(
        s.req(&ann, Method::POST, "/api/v1/tasks")
            .body("{not json")
            .header(header::CONTENT_TYPE, "application/json"),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let (_, v) = s.call(&ann, Method::GET, &path, None).await;
    assert_eq!(v, t, "nothing changed");
    assert_eq!(s.titles(&ann, "", "").await, vec!["keep me"]);
}

/// Creates that arrive together may be committed together (group commit):
/// one that fails, here a second create of an existing task, fails alone,
/// and every other stands once, each with its one event.
async fn concurrent_creates_fail_alone(s: &TestServer) {
    let user = s
        .state
        .app
        .create_user("cora", "correct horse".into(), None, None)
        .await
        .expect("create user");
    let store = common::store_of(s);
    let tasks: Vec<Task> = (0..40)
        .map(|i| {
            let input = NewTask {
                title: format!("task {i}"),
                tags: Some(vec!["batch".into()]),
                ..NewTask::default()
            };
            Task::create(input, user.tz, Utc::now()).expect("valid task")
        })
        .collect();
    let insert = |task: &Task| {
        let (store, user_id, task) = (store.clone(), user.id.clone(), task.clone());
        async move {
            let event = Event::task_created(&user_id, &task);
            store.insert_task(&user_id, &task, &[event]).await
        }
    };
    insert(&tasks[0]).await.expect("first create");
    let mut again: Vec<_> = tasks[1..].iter().map(|t| tokio::spawn(insert(t))).collect();
    again.insert(20, tokio::spawn(insert(&tasks[0])));
    let mut outcomes = Vec::new();
    for h in again {
        outcomes.push(h.await.expect("create task"));
    }
    let failed: Vec<usize> = (0..outcomes.len())
        .filter(|&i| outcomes[i].is_err())
        .collect();
    assert_eq!(failed, [20], "only the repeated create fails");
    assert!(
        matches!(outcomes[20], Err(StoreError::Conflict(_))),
        "{:?}",
        outcomes[20]
    );
    for t in &tasks {
        let stored = store.task(&user.id, &t.id).await.expect("read task");
        assert_eq!(stored.as_ref().map(|s| &s.title), Some(&t.title));
    }
    assert_eq!(store.event_sequence(&user.id).await.expect("sequence"), 40);
}

/// Creates for several users that queue up together are written together
/// (on PostgreSQL, one statement per group): each user's events are still
/// numbered 1, 2, … in the order the relay publishes them, and every task
/// keeps its tags and its reminder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_creates_number_each_users_events() {
    // A store of its own, with no relay draining the outbox. Six users
    // over the four writers: at least two share a writer, and so groups.
    let store = dueflow_store::connect(&common::fresh_pg_database().await)
        .await
        .expect("open store");
    store.migrate().await.expect("migrate");
    let users: Vec<User> = ["gia", "hal", "ivo", "jo", "kim", "lou"]
        .iter()
        .map(|name| User {
            id: format!("usr_{name}"),
            name: (*name).into(),
            tz: "UTC".parse().expect("zone"),
            created_at: Utc::now(),
            email: None,
            email_verified: false,
            date_order: Default::default(),
        })
        .collect();
    for u in &users {
        store
            .create_user(u, "not a hash")
            .await
            .expect("create user");
    }
    let at = (Utc::now() + chrono::Duration::hours(1)).fixed_offset();
    let writes: Vec<_> = (0..120)
        .map(|i| {
            let user = &users[i % users.len()];
            let user_id = user.id.clone();
            let input = NewTask {
                title: format!("task {i}"),
                tags: Some(vec!["grouped".into(), format!("n{i}")]),
                reminders: Some(vec![Reminder::At(at)]),
                ..NewTask::default()
            };
            let task = Task::create(input, user.tz, Utc::now()).expect("valid task");
            let store = store.clone();
            tokio::spawn(async move {
                let event = Event::task_created(&user_id, &task);
                store.insert_task(&user_id, &task, &[event]).await
            })
        })
        .collect();
    for w in writes {
        w.await.expect("join").expect("create task");
    }
    let outbox = store.outbox_batch(1_000).await.expect("outbox");
    // Each create writes `task.created` and its reminder's `reminder.scheduled`.
    assert_eq!(outbox.len(), 240);
    for u in &users {
        let numbers: Vec<i64> = outbox
            .iter()
            .filter(|m| m.partition_key == u.id)
            .map(|m| {
                let doc: Value = serde_json::from_str(&m.payload).expect("CloudEvents JSON");
                doc["usersequence"].as_i64().expect("usersequence")
            })
            .collect();
        assert_eq!(numbers, (1..=40).collect::<Vec<_>>(), "{}", u.name);
        assert_eq!(store.event_sequence(&u.id).await.expect("sequence"), 40);
        let tags = store.tags(&u.id).await.expect("tags");
        assert_eq!(tags.len(), 21, "{tags:?}");
        assert!(tags.iter().any(|t| t.name == "grouped" && t.count == 20));
        let q = ReminderQuery {
            limit: 100,
            ..ReminderQuery::default()
        };
        let reminders = store.list_reminders(&u.id, &q).await.expect("reminders");
        assert_eq!(reminders.len(), 20);
    }
}

both_backends!(
    lifecycle,
    recurrence,
    bad_input_changes_nothing,
    concurrent_creates_fail_alone
);
