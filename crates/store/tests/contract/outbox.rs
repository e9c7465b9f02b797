//! The transactional outbox: every write's events, in sequence order, each
//! user's numbered 1, 2, … in the order they were written (also when many
//! users write at once), until the relay acknowledges them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dueflow_domain::event::{Event, EventType};
use dueflow_store::ReminderQuery;
use serde_json::json;

use crate::common::prelude::*;
use crate::common::{Backend, Db, change, create, hours, mins, outbox, t0, user};

both!(
    messages_in_sequence_order_until_acknowledged,
    each_users_order_survives_concurrent_writers,
    an_idle_relay_hears_of_new_messages_at_once,
);

async fn messages_in_sequence_order_until_acknowledged(db: &Db) {
    let s = &*db.store;
    assert_eq!(s.outbox_backlog().await.expect("backlog"), 0);
    assert!(s.outbox_batch(100).await.expect("batch").is_empty());
    assert!(
        s.relay_leader().await.expect("leader"),
        "a lone process relays"
    );
    assert!(
        s.relay_leader().await.expect("leader"),
        "and keeps relaying"
    );

    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let a1 = create(s, &ann, json!({"title": "Plan trip"}), t0()).await;
    let a1b = change(
        s,
        &ann,
        &a1,
        json!({"title": "Plan the trip"}),
        t0() + mins(1),
    )
    .await;
    let b1 = create(s, &bob, json!({"title": "Bob's"}), t0()).await;
    let gone = Event::task_deleted(&ann.id, &a1b.id, t0() + mins(2));
    assert!(
        s.delete_task(&ann.id, &a1b.id, &gone)
            .await
            .expect("delete")
    );
    let a2 = create(
        s,
        &ann,
        json!({"title": "Call", "due": "2030-03-02T09:00:00Z", "reminders": [{"before": "PT1H"}]}),
        t0(),
    )
    .await;

    let all = outbox(s).await;
    assert_eq!(s.outbox_backlog().await.expect("backlog"), 6);
    assert_eq!(
        all.len(),
        6,
        "five writes' events and one reminder.scheduled"
    );
    assert!(
        all.windows(2).all(|w| w[0].0.seq < w[1].0.seq),
        "in sequence order"
    );
    let kinds: Vec<&str> = all
        .iter()
        .map(|(_, d)| d["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds,
        [
            EventType::TaskCreated.as_str(),
            EventType::TaskUpdated.as_str(),
            EventType::TaskCreated.as_str(),
            EventType::TaskDeleted.as_str(),
            EventType::TaskCreated.as_str(),
            EventType::ReminderScheduled.as_str(),
        ]
    );
    let subjects: Vec<&str> = all
        .iter()
        .map(|(_, d)| d["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(subjects, [&a1.id, &a1.id, &b1.id, &a1.id, &a2.id, &a2.id]);
    assert_eq!(all[3].0.id, gone.id, "the event written is the one stored");
    for (m, doc) in &all {
        let kind = EventType::parse(doc["type"].as_str().expect("type")).expect("a known type");
        assert_eq!(m.topic, kind.topic());
        assert_eq!(doc["id"], m.id.as_str(), "the message id is the event id");
        assert_eq!(doc["partitionkey"], m.partition_key.as_str());
    }
    let users: Vec<&str> = all.iter().map(|(m, _)| m.partition_key.as_str()).collect();
    assert_eq!(
        users,
        [&ann.id, &ann.id, &bob.id, &ann.id, &ann.id, &ann.id]
    );
    let numbers: Vec<i64> = all
        .iter()
        .map(|(_, d)| d["usersequence"].as_i64().expect("usersequence"))
        .collect();
    assert_eq!(
        numbers,
        [1, 2, 1, 3, 4, 5],
        "each user's events numbered in order"
    );
    assert_eq!(s.event_sequence(&ann.id).await.expect("sequence"), 5);
    assert_eq!(s.event_sequence(&bob.id).await.expect("sequence"), 1);

    // A batch is the oldest messages; acknowledged ones are gone.
    let first_two = s.outbox_batch(2).await.expect("batch");
    assert_eq!(first_two, [all[0].0.clone(), all[1].0.clone()]);
    s.outbox_ack(&[first_two[0].seq, first_two[1].seq])
        .await
        .expect("ack");
    assert_eq!(s.outbox_backlog().await.expect("backlog"), 4);
    let rest = s.outbox_batch(100).await.expect("batch");
    assert_eq!(
        rest,
        all[2..].iter().map(|(m, _)| m.clone()).collect::<Vec<_>>()
    );
    s.outbox_ack(&[first_two[0].seq, -1])
        .await
        .expect("acking twice or unknown is fine");
    assert_eq!(s.outbox_backlog().await.expect("backlog"), 4);
    let seqs: Vec<i64> = rest.iter().map(|m| m.seq).collect();
    s.outbox_ack(&seqs).await.expect("ack");
    assert_eq!(s.outbox_backlog().await.expect("backlog"), 0);
    assert!(s.outbox_batch(100).await.expect("batch").is_empty());
    s.outbox_ack(&[]).await.expect("ack nothing");

    // Numbers go on after acknowledgement.
    create(s, &bob, json!({"title": "Bob's second"}), t0()).await;
    let next = outbox(s).await;
    assert_eq!(next.len(), 1);
    assert!(
        next[0].0.seq > all[5].0.seq,
        "sequence numbers are not reused"
    );
    assert_eq!(next[0].1["usersequence"], 2);
}

async fn each_users_order_survives_concurrent_writers(db: &Db) {
    const USERS: usize = 8;
    const WRITES: usize = 10;
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(user(&*db.store, &format!("user{i}")).await);
    }
    // Half the users write through a second handle (another replica). Each
    // task has tags and a reminder, so each create writes two events, and
    // creates that queue up together are committed together.
    let other = db.another_handle().await;
    let mut writers = Vec::new();
    for (i, u) in users.iter().cloned().enumerate() {
        let store: Arc<dyn Store> = if i % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..WRITES {
                let body = json!({
                    "title": format!("{} #{n}", u.name),
                    "tags": ["shared", u.name],
                    "reminders": [{"at": (t0() + hours(24) + mins(n as i64)).to_rfc3339()}]
                });
                ids.push(create(&*store, &u, body, t0()).await.id);
            }
            (u.id, ids)
        }));
    }
    let mut written = HashMap::new();
    for w in writers {
        let (user_id, ids) = w.await.expect("join");
        written.insert(user_id, ids);
    }

    let all = outbox(&*db.store).await;
    assert_eq!(all.len(), USERS * WRITES * 2);
    assert!(all.windows(2).all(|w| w[0].0.seq < w[1].0.seq));
    for u in &users {
        let mine: Vec<_> = all
            .iter()
            .filter(|(m, _)| m.partition_key == u.id)
            .map(|(_, d)| d)
            .collect();
        let got: Vec<(&str, &str)> = mine
            .iter()
            .map(|d| {
                let kind = d["type"].as_str().expect("type");
                (kind, d["subject"].as_str().expect("subject"))
            })
            .collect();
        let expected: Vec<(&str, &str)> = written[&u.id]
            .iter()
            .flat_map(|id| {
                [
                    (EventType::TaskCreated.as_str(), id.as_str()),
                    (EventType::ReminderScheduled.as_str(), id.as_str()),
                ]
            })
            .collect();
        assert_eq!(got, expected, "{}'s events in the order written", u.name);
        let numbers: Vec<i64> = mine
            .iter()
            .map(|d| d["usersequence"].as_i64().expect("usersequence"))
            .collect();
        assert_eq!(numbers, (1..=2 * WRITES as i64).collect::<Vec<_>>());
        assert_eq!(
            db.store.event_sequence(&u.id).await.expect("sequence"),
            2 * WRITES as i64
        );

        let n = WRITES as i64;
        let tags: Vec<(String, i64, i64)> = db
            .store
            .tags(&u.id)
            .await
            .expect("tags")
            .into_iter()
            .map(|t| (t.name, t.count, t.open))
            .collect();
        let mut want = vec![("shared".to_owned(), n, n), (u.name.clone(), n, n)];
        want.sort();
        assert_eq!(tags, want, "{}'s tags", u.name);
        let reminders = db
            .store
            .list_reminders(
                &u.id,
                &ReminderQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .expect("reminders");
        let tasks: Vec<&str> = reminders.iter().map(|r| r.task_id.as_str()).collect();
        let ids: Vec<&str> = written[&u.id].iter().map(String::as_str).collect();
        assert_eq!(tasks, ids, "one reminder per task, soonest first");
    }
}

async fn an_idle_relay_hears_of_new_messages_at_once(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    tokio::time::timeout(Duration::from_secs(3), s.outbox_written())
        .await
        .expect("what was written so far was not heard of");
    let waiting = {
        let store = db.store.clone();
        tokio::spawn(async move {
            let asked = Instant::now();
            store.outbox_written().await;
            asked.elapsed()
        })
    };
    create(s, &ann, json!({"title": "Heard of"}), t0()).await;
    let waited = tokio::time::timeout(Duration::from_secs(3), waiting)
        .await
        .expect("a new message was not heard of")
        .expect("join");
    assert!(
        waited < Duration::from_millis(700),
        "a new message was heard of after {waited:?}"
    );
    assert_eq!(outbox(s).await.len(), 1);
    if db.backend == Backend::Sqlite {
        // Written by this process alone: with nothing written, nothing to
        // look for.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), s.outbox_written())
                .await
                .is_err(),
            "an idle SQLite relay was woken with nothing written"
        );
    }
}
