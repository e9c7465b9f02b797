//! Scheduled reminders: rows written with their tasks, fired once when due
//! (also by two schedulers at once), listed, snoozed and dismissed, each
//! change with its event in the outbox.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dueflow_domain::event::{Event, EventType};
use dueflow_domain::reminder::schedule::{ReminderState, ScheduledReminder};
use dueflow_store::ReminderQuery;
use serde_json::json;

use crate::common::prelude::*;
use crate::common::{Db, change, complete, create, events_of, hours, mins, secs, t0, user};

both!(
    task_writes_keep_reminders_in_step,
    fire_due_reminders_once,
    snooze_and_dismiss,
    two_schedulers_fire_each_reminder_once,
);

async fn reminders(s: &dyn Store, user_id: &str, q: ReminderQuery) -> Vec<ScheduledReminder> {
    s.list_reminders(user_id, &q).await.expect("list reminders")
}

fn all() -> ReminderQuery {
    ReminderQuery {
        task: None,
        state: None,
        limit: 100,
    }
}

async fn fire(s: &dyn Store, now: DateTime<Utc>, limit: u32) -> Vec<i64> {
    s.fire_due_reminders(now, limit)
        .await
        .expect("fire")
        .iter()
        .map(|f| f.late_ms)
        .collect()
}

fn instant(s: &str) -> DateTime<Utc> {
    s.parse().expect("an instant")
}

/// A reminder's instant and state, in the order listed (soonest first).
fn states(rs: &[ScheduledReminder]) -> Vec<(DateTime<Utc>, ReminderState)> {
    rs.iter().map(|r| (r.at, r.state)).collect()
}

async fn task_writes_keep_reminders_in_step(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let flight = create(
        s,
        &ann,
        json!({
            "title": "Flight",
            "due": "2030-03-02T12:00:00Z",
            "reminders": [{"before": "PT1H"}, {"before": "P1D"}]
        }),
        t0(),
    )
    .await;
    let (pending, fired) = (ReminderState::Pending, ReminderState::Fired);
    let day_before = instant("2030-03-01T12:00:00Z");
    let hour_before = instant("2030-03-02T11:00:00Z");
    assert_eq!(
        states(&reminders(s, &ann.id, all()).await),
        [(day_before, pending), (hour_before, pending)]
    );
    assert_eq!(fire(s, day_before, 10).await, [0]);

    // Moving the due: the fired row stays as history, pending rows move.
    let moved = change(
        s,
        &ann,
        &flight,
        json!({"due": "2030-03-03T12:00:00Z"}),
        t0() + hours(4),
    )
    .await;
    let listed = reminders(s, &ann.id, all()).await;
    assert_eq!(
        states(&listed),
        [
            (day_before, fired),
            (instant("2030-03-02T12:00:00Z"), pending),
            (instant("2030-03-03T11:00:00Z"), pending)
        ]
    );
    assert_eq!(
        s.next_reminder_at().await.expect("next"),
        Some(instant("2030-03-02T12:00:00Z"))
    );
    assert_eq!(
        events_of(s, EventType::ReminderScheduled).await.len(),
        4,
        "one reminder.scheduled per row added"
    );

    // A snoozed row keeps its place through an edit that keeps its instant.
    let last = listed[2].clone();
    let snoozed = s
        .snooze_reminder(
            &ann.id,
            &last.id,
            instant("2030-03-03T11:30:00Z"),
            t0() + hours(4),
        )
        .await
        .expect("snooze")
        .expect("ann's reminder");
    let renamed = change(
        s,
        &ann,
        &moved,
        json!({"title": "Flight to Oslo"}),
        t0() + hours(4),
    )
    .await;
    assert_eq!(reminders(s, &ann.id, all()).await[2], snoozed);

    // Completing drops pending rows; reopening schedules the future again.
    let done = complete(s, &ann, &renamed, t0() + hours(5)).await;
    assert_eq!(
        states(&reminders(s, &ann.id, all()).await),
        [(day_before, fired)]
    );
    assert_eq!(s.next_reminder_at().await.expect("next"), None);
    let reopened = done.reopen(t0() + hours(6)).expect("a done task");
    let event = Event::task_reopened(&ann.id, &reopened);
    assert!(
        s.replace_task(&ann.id, &reopened, done.version, &[event])
            .await
            .expect("reopen")
    );
    assert_eq!(
        states(&reminders(s, &ann.id, all()).await),
        [
            (day_before, fired),
            (instant("2030-03-02T12:00:00Z"), pending),
            (instant("2030-03-03T11:00:00Z"), pending)
        ]
    );

    // A reminder set for the past is not news: no row for it.
    let kept = reminders(s, &ann.id, all()).await[2].clone();
    change(
        s,
        &ann,
        &reopened,
        json!({"reminders": [{"before": "PT1H"}, {"at": "2030-03-01T10:00:00Z"}]}),
        t0() + hours(7),
    )
    .await;
    let listed = reminders(s, &ann.id, all()).await;
    assert_eq!(
        states(&listed),
        [
            (day_before, fired),
            (instant("2030-03-03T11:00:00Z"), pending)
        ]
    );
    assert_eq!(listed[1], kept, "a row whose instant is still wanted stays");
    let seq_rows = reminders(
        s,
        &ann.id,
        ReminderQuery {
            task: Some(flight.id.clone()),
            ..all()
        },
    )
    .await;
    assert_eq!(seq_rows, listed, "all of them the flight's");
}

async fn fire_due_reminders_once(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    assert_eq!(s.next_reminder_at().await.expect("next"), None);

    let dentist = create(
        s,
        &ann,
        json!({
            "title": "Dentist",
            "due": "2030-03-01T11:00:00Z",
            "reminders": [{"before": "PT1H"}, {"at": "2030-03-01T09:30:00Z"}]
        }),
        t0(),
    )
    .await;
    let call = create(
        s,
        &bob,
        json!({"title": "Call mum", "reminders": [{"at": "2030-03-01T12:00:00Z"}]}),
        t0(),
    )
    .await;
    assert_eq!(
        s.next_reminder_at().await.expect("next"),
        Some(t0() + mins(30))
    );

    let listed = reminders(s, &ann.id, all()).await;
    let shape: Vec<_> = listed
        .iter()
        .map(|r| (r.task_id.as_str(), r.at, r.fire_at, r.state, r.fired_at))
        .collect();
    let pending = ReminderState::Pending;
    assert_eq!(
        shape,
        [
            (
                dentist.id.as_str(),
                t0() + mins(30),
                t0() + mins(30),
                pending,
                None
            ),
            (
                dentist.id.as_str(),
                t0() + hours(1),
                t0() + hours(1),
                pending,
                None
            ),
        ],
        "ann's reminders, soonest first"
    );
    let first = listed[0].clone();

    assert!(
        fire(s, t0() + mins(10), 10).await.is_empty(),
        "nothing due yet"
    );
    let fired = s
        .fire_due_reminders(t0() + mins(45), 10)
        .await
        .expect("fire");
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].late_ms, 15 * 60_000);
    assert!(fire(s, t0() + mins(45), 10).await.is_empty(), "fired once");
    assert_eq!(
        s.next_reminder_at().await.expect("next"),
        Some(t0() + hours(1))
    );
    let due = events_of(s, EventType::ReminderDue).await;
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].user_id.as_str(), due[0].subject.as_str()),
        (ann.id.as_str(), dentist.id.as_str())
    );
    assert_eq!(due[0].data["reminder"]["id"], first.id.as_str());
    assert_eq!(due[0].data["reminder"]["state"], "fired");
    assert_eq!(due[0].data["task"]["title"], "Dentist");
    assert_eq!(
        due[0].trace, fired[0].trace,
        "the firing's span is its event's"
    );

    let was_fired = reminders(
        s,
        &ann.id,
        ReminderQuery {
            state: Some(ReminderState::Fired),
            ..all()
        },
    )
    .await;
    assert_eq!(
        was_fired,
        [ScheduledReminder {
            state: ReminderState::Fired,
            fired_at: Some(t0() + mins(45)),
            ..first
        }]
    );

    // Soonest first, up to the limit, across users.
    assert_eq!(fire(s, t0() + hours(4), 1).await, [3 * 3_600_000]);
    assert_eq!(fire(s, t0() + hours(4), 10).await, [3_600_000]);
    assert!(fire(s, t0() + hours(5), 10).await.is_empty());
    assert_eq!(s.next_reminder_at().await.expect("next"), None);

    let due = events_of(s, EventType::ReminderDue).await;
    let subjects: Vec<&str> = due.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(subjects, [&dentist.id, &dentist.id, &call.id]);
    let ids: HashSet<_> = due
        .iter()
        .map(|e| e.data["reminder"]["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 3, "three reminders, each fired once");

    let bobs = reminders(
        s,
        &bob.id,
        ReminderQuery {
            task: Some(call.id.clone()),
            ..all()
        },
    )
    .await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(
        (bobs[0].state, bobs[0].fired_at),
        (ReminderState::Fired, Some(t0() + hours(4)))
    );
    assert!(
        reminders(
            s,
            &bob.id,
            ReminderQuery {
                task: Some(dentist.id.clone()),
                ..all()
            }
        )
        .await
        .is_empty(),
        "bob does not see ann's reminders"
    );
    assert_eq!(
        reminders(s, &ann.id, ReminderQuery { limit: 1, ..all() })
            .await
            .len(),
        1
    );
}

async fn snooze_and_dismiss(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let stretch = create(
        s,
        &ann,
        json!({
            "title": "Stretch",
            "reminders": [{"at": "2030-03-01T10:00:00Z"}, {"at": "2030-03-01T11:00:00Z"}]
        }),
        t0(),
    )
    .await;
    let [ten, eleven]: [ScheduledReminder; 2] = reminders(s, &ann.id, all())
        .await
        .try_into()
        .expect("two reminders");

    // Snoozing a pending reminder moves when it fires, not its instant.
    let snoozed = s
        .snooze_reminder(&ann.id, &ten.id, t0() + hours(3), t0())
        .await
        .expect("snooze")
        .expect("ann's reminder");
    assert_eq!(
        snoozed,
        ScheduledReminder {
            fire_at: t0() + hours(3),
            ..ten.clone()
        }
    );
    assert_eq!(
        s.next_reminder_at().await.expect("next"),
        Some(t0() + hours(2))
    );
    assert_eq!(
        s.snooze_reminder(&bob.id, &ten.id, t0() + hours(9), t0())
            .await
            .expect("snooze"),
        None,
        "bob has no such reminder"
    );
    assert_eq!(
        s.snooze_reminder(&ann.id, "rem_nope", t0() + hours(9), t0())
            .await
            .expect("snooze"),
        None
    );

    assert_eq!(
        fire(s, t0() + hours(2) + mins(30), 10).await.len(),
        1,
        "only eleven"
    );
    // A fired reminder snoozed fires again.
    let again = s
        .snooze_reminder(
            &ann.id,
            &eleven.id,
            t0() + hours(4),
            t0() + hours(2) + mins(30),
        )
        .await
        .expect("snooze")
        .expect("ann's reminder");
    assert_eq!(
        (again.state, again.fire_at),
        (ReminderState::Pending, t0() + hours(4))
    );

    let dismissed = s
        .dismiss_reminder(&ann.id, &ten.id, t0() + hours(2) + mins(45))
        .await
        .expect("dismiss")
        .expect("ann's reminder");
    assert_eq!(dismissed.state, ReminderState::Dismissed);
    assert_eq!(dismissed.id, ten.id);
    assert_eq!(
        s.dismiss_reminder(&bob.id, &eleven.id, t0())
            .await
            .expect("dismiss"),
        None,
        "bob has no such reminder"
    );
    assert_eq!(
        s.dismiss_reminder(&ann.id, "rem_nope", t0())
            .await
            .expect("dismiss"),
        None
    );
    assert_eq!(
        s.next_reminder_at().await.expect("next"),
        Some(t0() + hours(4))
    );

    // The dismissed one never fires; the snoozed one fires at its new time.
    assert!(fire(s, t0() + hours(4) - secs(1), 10).await.is_empty());
    assert_eq!(fire(s, t0() + hours(4), 10).await, [0]);
    assert!(fire(s, t0() + hours(48), 10).await.is_empty());
    assert_eq!(s.next_reminder_at().await.expect("next"), None);

    let states = |state| ReminderQuery {
        state: Some(state),
        ..all()
    };
    let ids = |rs: Vec<ScheduledReminder>| rs.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(reminders(s, &ann.id, states(ReminderState::Dismissed)).await),
        vec![ten.id.clone()]
    );
    assert_eq!(
        ids(reminders(s, &ann.id, states(ReminderState::Fired)).await),
        vec![eleven.id.clone()]
    );
    assert!(
        reminders(s, &ann.id, states(ReminderState::Pending))
            .await
            .is_empty()
    );

    let count = |kind| async move { events_of(s, kind).await.len() };
    assert_eq!(count(EventType::ReminderSnoozed).await, 2);
    assert_eq!(count(EventType::ReminderDismissed).await, 1);
    assert_eq!(count(EventType::ReminderDue).await, 2);
    let snoozes = events_of(s, EventType::ReminderSnoozed).await;
    assert_eq!(snoozes[0].subject, stretch.id);
    assert_eq!(snoozes[0].data["reminder"]["id"], ten.id.as_str());
}

async fn two_schedulers_fire_each_reminder_once(db: &Db) {
    let ann = user(&*db.store, "ann").await;
    let bob = user(&*db.store, "bob").await;
    let mut expected = 0;
    for i in 0..24 {
        let owner = if i % 2 == 0 { &ann } else { &bob };
        let first = t0() + mins(i + 1);
        let second = first + secs(30);
        create(
            &*db.store,
            owner,
            json!({
                "title": format!("task {i}"),
                "reminders": [{"at": first.to_rfc3339()}, {"at": second.to_rfc3339()}]
            }),
            t0(),
        )
        .await;
        expected += 2;
    }

    let now = t0() + hours(2);
    let scheduler = |store: Arc<dyn Store>| {
        tokio::spawn(async move {
            let mut fired = 0;
            loop {
                let batch = store.fire_due_reminders(now, 5).await.expect("fire");
                if batch.is_empty() {
                    return fired;
                }
                fired += batch.len();
            }
        })
    };
    let a = scheduler(db.store.clone());
    let b = scheduler(db.another_handle().await);
    let total = a.await.expect("join") + b.await.expect("join");
    assert_eq!(total, expected, "every reminder fired, none twice");
    assert_eq!(db.store.next_reminder_at().await.expect("next"), None);

    let due = events_of(&*db.store, EventType::ReminderDue).await;
    assert_eq!(due.len(), expected, "one reminder.due per reminder");
    let ids: HashSet<_> = due
        .iter()
        .map(|e| e.data["reminder"]["id"].to_string())
        .collect();
    assert_eq!(ids.len(), expected);
    for u in [&ann, &bob] {
        let fired = reminders(
            &*db.store,
            &u.id,
            ReminderQuery {
                state: Some(ReminderState::Fired),
                ..all()
            },
        )
        .await;
        assert_eq!(fired.len(), expected / 2);
    }
}
