//! Nothing acknowledged is lost: the real server process is killed with
//! SIGKILL right after a burst of acknowledged writes; after a restart every
//! task is there and every event reaches the activity log exactly once.
//! Killed likewise while reminders fall due, the one process (every role,
//! SQLite, in-process bus) comes back and turns each reminder into exactly
//! one webhook message and one in-app notification, none early.

mod common;

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use common::hooks::receiver;
use common::kafka::Api;
use common::process::{free_port, one_process_env, serve, user_with_token};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_write_or_event() {
    let tmp = tempfile::tempdir().unwrap();
    let env = [(
        "DUEFLOW_DATA_DIR",
        tmp.path().join("data").display().to_string(),
    )];
    let token = user_with_token(&env);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let mut server = serve(&env, port, &[]);
    let writes = (0..200).map(|i| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            let res = http
                .post(format!("{base}/api/v1/tasks"))
                .bearer_auth(&token)
                .json(&json!({"title": format!("burst {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    });
    let mut acked = Vec::new();
    for w in writes {
        acked.push(w.await.unwrap());
    }
    server.kill(); // SIGKILL, no graceful shutdown

    let mut server = serve(&env, port, &[]);
    for id in &acked {
        let res = http
            .get(format!("{base}/api/v1/tasks/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "acknowledged task {id} survived");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut subjects = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = http
                .get(format!("{base}/api/v1/activity"))
                .bearer_auth(&token)
                .query(&[("limit", "200"), ("type", "task.created")]);
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let page: Value = req.send().await.unwrap().json().await.unwrap();
            subjects.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["subject"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        subjects.sort();
        let mut expected = acked.clone();
        expected.sort();
        if subjects == expected {
            break;
        }
        assert!(
            subjects.len() <= expected.len(),
            "an event was recorded twice"
        );
        assert!(
            Instant::now() < deadline,
            "only {} of {} events arrived",
            subjects.len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_reminders_fires_each_once() {
    const REMINDERS: usize = 300;
    const SPREAD: Duration = Duration::from_secs(6);
    let tmp = tempfile::tempdir().unwrap();
    let env = one_process_env(tmp.path());
    let token = user_with_token(&env);
    let port = free_port();
    let mut server = serve(&env, port, &[]);
    let api = Api::new(port, token);
    let (received, url) = receiver().await;
    api.reminder_webhook(&url).await;

    let first = (Utc::now() + chrono::Duration::seconds(4)).trunc_subsecs(3);
    let due = api.tasks_with_reminders(REMINDERS, first, SPREAD).await;
    assert!(Utc::now() < first, "creating the tasks took too long");

    // Halfway through, the whole process dies and comes back.
    let halfway = first + chrono::Duration::milliseconds(SPREAD.as_millis() as i64 / 2);
    tokio::time::sleep((halfway - Utc::now()).to_std().unwrap_or_default()).await;
    let before_kill = received.lock().unwrap().len();
    server.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _server = serve(&env, port, &[]);
    assert!(
        before_kill > 0 && before_kill < REMINDERS,
        "the kill was not mid-run: {before_kill} delivered before it"
    );
    // Deliveries claimed before the kill go out again when their 3 s
    // lease ends.
    api.each_reminder_once(&received, &due, SPREAD + Duration::from_secs(30))
        .await;
}
