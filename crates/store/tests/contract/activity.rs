//! The activity log: events recorded once (a redelivered event changes
//! nothing), listed per user, newest first, filtered and keyset-paged.

use dueflow_domain::event::Event;
use dueflow_store::ActivityQuery;
use serde_json::json;

use crate::common::prelude::*;
use crate::common::{Db, mins, ms, new_task, patched, t0, user};

both!(records_once_and_lists_newest_first);

/// A row as `list_activity` returns it.
fn row(e: &Event) -> (i64, String, String) {
    (ms(e.time), e.id.clone(), e.to_cloudevent().to_string())
}

fn recorded(events: &[&Event]) -> Vec<(Event, String)> {
    events
        .iter()
        .map(|e| ((*e).clone(), e.to_cloudevent().to_string()))
        .collect()
}

async fn list(s: &dyn Store, user_id: &str, q: ActivityQuery) -> Vec<(i64, String, String)> {
    s.list_activity(user_id, &q).await.expect("list activity")
}

async fn records_once_and_lists_newest_first(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    // A task's life, as the audit role sees its events.
    let trip = new_task(json!({"title": "Plan trip"}), t0());
    let created = Event::task_created(&ann.id, &trip);
    let renamed = patched(&trip, json!({"title": "Plan the trip"}), t0() + mins(1));
    let updated = Event::task_updated(&ann.id, &trip, &renamed);
    let done = renamed.complete(t0() + mins(2)).expect("open");
    let completed = Event::task_completed(&ann.id, &done);
    let other = new_task(json!({"title": "Other"}), t0() + mins(3));
    let other_created = Event::task_created(&ann.id, &other);
    let bobs = Event::task_created(
        &bob.id,
        &new_task(json!({"title": "Bob's"}), t0() + mins(1)),
    );

    s.record_activity(&recorded(&[&created, &updated]))
        .await
        .expect("record");
    // One event twice in a batch is recorded once.
    s.record_activity(&recorded(&[
        &completed,
        &other_created,
        &other_created,
        &bobs,
    ]))
    .await
    .expect("record");
    // Recorded already: left as it is, whatever the payload says now.
    s.record_activity(&[(created.clone(), "{\"tampered\":true}".into())])
        .await
        .expect("record again");
    s.record_activity(&recorded(&[&created, &updated]))
        .await
        .expect("record again");
    s.record_activity(&[]).await.expect("record nothing");

    let all = ActivityQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        list(s, &ann.id, all.clone()).await,
        [
            row(&other_created),
            row(&completed),
            row(&updated),
            row(&created)
        ],
        "ann's activity, newest first, each recorded once"
    );
    assert_eq!(list(s, &bob.id, all.clone()).await, [row(&bobs)]);
    assert!(list(s, "usr_nobody", all.clone()).await.is_empty());

    let about_trip = ActivityQuery {
        task: Some(trip.id.clone()),
        ..all.clone()
    };
    assert_eq!(
        list(s, &ann.id, about_trip).await,
        [row(&completed), row(&updated), row(&created)]
    );
    let completions = ActivityQuery {
        kind: Some("dueflow.task.completed.v1".into()),
        ..all.clone()
    };
    assert_eq!(list(s, &ann.id, completions).await, [row(&completed)]);
    let window = ActivityQuery {
        since_ms: Some(ms(t0() + mins(1))),
        until_ms: Some(ms(t0() + mins(3))),
        ..all.clone()
    };
    assert_eq!(
        list(s, &ann.id, window).await,
        [row(&completed), row(&updated)],
        "since is inclusive, until exclusive"
    );

    // Keyset pages: strictly before the last row seen.
    let first = list(
        s,
        &ann.id,
        ActivityQuery {
            limit: 2,
            ..all.clone()
        },
    )
    .await;
    assert_eq!(first, [row(&other_created), row(&completed)]);
    let (time, id, _) = first[1].clone();
    let second = ActivityQuery {
        before: Some((time, id)),
        limit: 2,
        ..all.clone()
    };
    assert_eq!(
        list(s, &ann.id, second).await,
        [row(&updated), row(&created)]
    );
    let past_the_end = ActivityQuery {
        before: Some((ms(created.time), created.id.clone())),
        ..all
    };
    assert!(list(s, &ann.id, past_the_end).await.is_empty());
}
