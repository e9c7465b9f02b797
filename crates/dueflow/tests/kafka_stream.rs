//! The live stream with two `api` replicas over Kafka, each consuming
//! `task-updates`: one user's clients on different replicas see each
//! other's changes within 200 ms, another user's client sees none of them,
//! and a client that reconnects to the other replica with the last
//! sequence number it saw gets what it missed, in order, once. A token
//! revoked through one replica stops working there at once and on the
//! other within the 2 s it may keep a looked-up token.

mod common;

use std::time::{Duration, Instant};

use common::kafka::{Api, Cluster, env};
use common::live::{Ws, connect, next};
use common::process::{free_port, named_user_with_token};
use serde_json::Value;

/// Read `ws` until the event about `subject` arrives (within `wait`).
async fn until(ws: &mut Ws, subject: &str, wait: Duration) -> Option<Value> {
    let deadline = Instant::now() + wait;
    while let Some(e) = next(ws, deadline.saturating_duration_since(Instant::now())).await {
        if e["subject"] == subject {
            return Some(e);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_on_two_api_replicas_see_each_other() {
    let c = Cluster::start().await;
    let ann_token = named_user_with_token(&env(&c.db), "ann");
    let bob_token = named_user_with_token(&env(&c.db), "bob");
    let (port1, port2) = (free_port(), free_port());
    let _api1 = c.role("api", port1);
    let api2 = c.role("api", port2);
    let (ann1, ann2) = (
        Api::new(port1, ann_token.clone()),
        Api::new(port2, ann_token.clone()),
    );
    let mut ws1 = connect(&ann1.base, &ann_token, None).await;
    let mut ws2 = connect(&ann2.base, &ann_token, None).await;
    let mut bob = connect(&ann2.base, &bob_token, None).await;

    // Each replica's stream consumer joins its own group and reads from
    // then on: write until both replicas pass changes on.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let id = ann1.create("warm-up").await;
        let seen1 = until(&mut ws1, &id, Duration::from_secs(2)).await.is_some();
        let seen2 = until(&mut ws2, &id, Duration::from_secs(2)).await.is_some();
        if seen1 && seen2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replicas never passed a change on"
        );
    }

    // A change made through either replica reaches both clients in 200 ms.
    for (i, via) in [&ann1, &ann2, &ann1, &ann2].into_iter().enumerate() {
        let written = Instant::now();
        let id = via.create(&format!("change {i}")).await;
        for ws in [&mut ws1, &mut ws2] {
            let e = until(ws, &id, Duration::from_secs(2))
                .await
                .expect("the change arrived");
            assert_eq!(e["type"], "dueflow.task.created.v1");
        }
        let took = written.elapsed();
        assert!(
            took <= Duration::from_millis(200),
            "change {i} took {took:?}"
        );
    }
    // Bob's client, on the second replica, saw none of Ann's events.
    assert!(
        next(&mut bob, Duration::from_millis(500)).await.is_none(),
        "another user's client received an event"
    );

    // Ann's first client drops; three changes happen; it reconnects to the
    // other replica with the last number it saw and gets exactly those.
    let last_id = ann1.create("last seen").await;
    let last = until(&mut ws1, &last_id, Duration::from_secs(2))
        .await
        .expect("last change")["usersequence"]
        .as_i64()
        .unwrap();
    drop(ws1);
    let mut missed = Vec::new();
    for i in 0..3 {
        missed.push(ann1.create(&format!("missed {i}")).await);
    }
    // Until the second replica has them all, too.
    for id in &missed {
        until(&mut ws2, id, Duration::from_secs(5))
            .await
            .expect("replica 2 has the change");
    }
    let mut back = connect(&ann2.base, &ann_token, Some(last)).await;
    let mut got = Vec::new();
    while let Some(e) = next(&mut back, Duration::from_millis(500)).await {
        got.push(e);
    }
    let subjects: Vec<&str> = got.iter().map(|e| e["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, missed, "{got:?}");
    let seqs: Vec<i64> = got
        .iter()
        .map(|e| e["usersequence"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![last + 1, last + 2, last + 3]);

    // The second replica restarts while a change happens: the new process
    // never saw it, so a client resuming there is told to reload rather
    // than silently missing it; one that had seen everything is not.
    let seen = last + 3;
    drop(back);
    drop(ws2);
    drop(api2);
    let while_down = ann1.create("while replica 2 restarts").await;
    let _api2 = c.role("api", port2);
    let mut stale = connect(&ann2.base, &ann_token, Some(seen)).await;
    let first = next(&mut stale, Duration::from_secs(2))
        .await
        .expect("a message");
    assert_eq!(first["type"], "dueflow.stream.reset", "{first}");
    let mut current = connect(&ann2.base, &ann_token, Some(seen + 1)).await;
    assert!(
        next(&mut current, Duration::from_millis(300))
            .await
            .is_none(),
        "nothing to replay or reset for a client that saw {while_down}"
    );

    // A second token of Ann's, used on both replicas, then revoked
    // through the first.
    let res = ann1
        .http
        .post(format!("{}/api/v1/tokens", ann1.base))
        .bearer_auth(&ann_token)
        .json(&serde_json::json!({"name": "second"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let (id, secret) = (
        created["id"].as_str().unwrap(),
        created["token"].as_str().unwrap(),
    );
    let me = |api: &Api| {
        api.http
            .get(format!("{}/api/v1/me", api.base))
            .bearer_auth(secret)
            .send()
    };
    for api in [&ann1, &ann2] {
        assert_eq!(me(api).await.unwrap().status(), 200);
    }
    let res = ann1
        .http
        .delete(format!("{}/api/v1/tokens/{id}", ann1.base))
        .bearer_auth(&ann_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let revoked = Instant::now();
    assert_eq!(
        me(&ann1).await.unwrap().status(),
        401,
        "at once where revoked"
    );
    loop {
        if me(&ann2).await.unwrap().status() == 401 {
            break;
        }
        assert!(
            revoked.elapsed() < Duration::from_millis(2500),
            "the other replica still accepts the revoked token"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
