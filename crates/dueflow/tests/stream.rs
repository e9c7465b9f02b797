//! The live stream end to end, on SQLite and PostgreSQL: two WebSocket
//! clients of one user see each other's changes at once, another user's
//! client sees nothing of them, a client that reconnects with the last
//! sequence number it saw misses nothing and gets nothing twice, and
//! Server-Sent Events carry the same feed.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use common::live::{connect, next};
use reqwest::Method;
use serde_json::json;

async fn live_updates(s: &TestServer) {
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    let mut a1 = connect(&s.base, &ann.token, None).await;
    let mut a2 = connect(&s.base, &ann.token, None).await;
    let mut b = connect(&s.base, &bob.token, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    let t = s.create(&ann, json!({"title": "seen everywhere"})).await;
    for ws in [&mut a1, &mut a2] {
        let e = next(ws, Duration::from_secs(2)).await.expect("an event");
        assert_eq!(e["type"], "dueflow.task.created.v1");
        assert_eq!(e["subject"], t["id"]);
    }
    let latency = started.elapsed();
    assert!(
        latency < Duration::from_millis(500),
        "live update took {latency:?}"
    );
    assert!(
        next(&mut b, Duration::from_millis(300)).await.is_none(),
        "bob sees nothing of ann's"
    );

    // a2 drops; changes continue; it reconnects after the last number it saw.
    let path = format!("/api/v1/tasks/{}", t["id"].as_str().unwrap());
    let e = next(&mut a1, Duration::from_millis(10)).await;
    assert!(e.is_none());
    let last_seen = 1;
    a2.close(None).await.unwrap();
    s.call(
        &ann,
        Method::PATCH,
        &path,
        Some(json!({"title": "renamed"})),
    )
    .await;
    s.call(&ann, Method::POST, &format!("{path}/complete"), None)
        .await;
    s.create(&ann, json!({"title": "another"})).await;
    let mut seqs_a1 = Vec::new();
    for _ in 0..3 {
        seqs_a1.push(
            next(&mut a1, Duration::from_secs(2))
                .await
                .expect("a1 keeps receiving")["usersequence"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(seqs_a1, vec![2, 3, 4]);
    let mut a2 = connect(&s.base, &ann.token, Some(last_seen)).await;
    let mut replayed = Vec::new();
    while let Some(e) = next(&mut a2, Duration::from_millis(500)).await {
        replayed.push((
            e["usersequence"].as_i64().unwrap(),
            e["type"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        replayed,
        vec![
            (2, "dueflow.task.updated.v1".to_owned()),
            (3, "dueflow.task.completed.v1".to_owned()),
            (4, "dueflow.task.created.v1".to_owned()),
        ],
        "exactly what was missed, in order"
    );
    // Live again after the replay.
    s.create(&ann, json!({"title": "after reconnect"})).await;
    assert_eq!(
        next(&mut a2, Duration::from_secs(2)).await.unwrap()["usersequence"],
        5
    );
    assert!(next(&mut b, Duration::from_millis(100)).await.is_none());
}

async fn server_sent_events(s: &TestServer) {
    let ann = s.user("ann").await;
    s.create(&ann, json!({"title": "one"})).await;
    s.create(&ann, json!({"title": "two"})).await;
    // Wait for both to reach the hub, then replay after the first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut res = s
        .req(&ann, Method::GET, "/api/v1/stream")
        .header("accept", "text/event-stream")
        .header("last-event-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !text.contains("\n\n") && Instant::now() < deadline {
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_millis(500), res.chunk()).await
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(text.contains("event: dueflow.task.created.v1"), "{text}");
    assert!(text.contains("id: 2"), "{text}");
    assert!(
        !text.contains("id: 1\n"),
        "only what came after Last-Event-ID: {text}"
    );
    let unauth = s
        .http
        .get(format!("{}/api/v1/stream", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
}

both_backends!(live_updates, server_sent_events);
