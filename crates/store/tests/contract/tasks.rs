//! Tasks: writes checked by version and scoped to their owner, recurring
//! occurrences written once, deletes, lists (filter, sort, keyset pages),
//! search, and tags with their colours.

use std::collections::HashSet;

use dueflow_domain::event::{Event, EventType};
use dueflow_domain::query;
use dueflow_domain::reminder::schedule::ReminderState;
use dueflow_domain::sort::parse_sort;
use dueflow_domain::status::Status;
use dueflow_domain::task::Task;
use dueflow_store::listing::Cursor;
use dueflow_store::{ListQuery, Page, ReminderQuery, TagCount, User};
use serde_json::json;

use crate::common::prelude::*;
use crate::common::{
    Backend, Db, change, complete, create, events_of, hours, mins, patched, secs, t0, user,
};

both!(
    insert_read_and_scope,
    replace_checks_the_version,
    concurrent_writers_one_wins,
    many_writes_at_once_each_land_once,
    a_refused_write_fails_alone,
    occurrences_are_written_once,
    delete_removes_the_task_and_its_parts,
    list_filters_sorts_and_pages,
    pages_do_not_repeat_or_skip_tied_rows,
    search_finds_title_matches_first,
    search_pages_common_and_rare_words_alike,
    tags_count_tasks_and_keep_colours,
    tag_counts_hold_under_concurrent_writes,
);

async fn insert_read_and_scope(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    // Every field set, so a field one backend drops shows.
    let task = create(
        s,
        &ann,
        json!({
            "title": "Quarterly report",
            "notes": "Figures from **finance**",
            "priority": "high",
            "due": "2030-03-04T17:00:00+01:00",
            "tz": "Europe/Berlin",
            "tags": ["work", "q1"],
            "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=4", "anchor": "completion"},
            "reminders": [{"before": "PT1H"}, {"at": "2030-03-04T09:00:00+01:00"}]
        }),
        t0(),
    )
    .await;
    assert_eq!(
        s.task(&ann.id, &task.id).await.expect("read"),
        Some(task.clone())
    );
    let plain = create(s, &ann, json!({"title": "Nothing else"}), t0()).await;
    assert_eq!(s.task(&ann.id, &plain.id).await.expect("read"), Some(plain));

    assert_eq!(
        s.task(&bob.id, &task.id).await.expect("read"),
        None,
        "another user's task is not there for bob"
    );
    assert_eq!(s.task(&ann.id, "tsk_missing").await.expect("read"), None);

    let created = events_of(s, EventType::TaskCreated).await;
    assert_eq!(created.len(), 2);
    assert_eq!(
        (created[0].subject.as_str(), created[0].user_id.as_str()),
        (task.id.as_str(), ann.id.as_str())
    );
}

async fn replace_checks_the_version(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let task = create(
        s,
        &ann,
        json!({"title": "Draft", "tags": ["writing"]}),
        t0(),
    )
    .await;

    let v2 = change(s, &ann, &task, json!({"title": "Draft v2"}), t0() + mins(1)).await;
    assert_eq!(v2.version, 2);
    assert_eq!(
        s.task(&ann.id, &task.id).await.expect("read"),
        Some(v2.clone())
    );

    // A write based on version 1 is stale now: refused, nothing changes.
    let backlog = s.outbox_backlog().await.expect("backlog");
    let stale = patched(&task, json!({"notes": "lost"}), t0() + mins(2));
    let event = Event::task_updated(&ann.id, &task, &stale);
    assert!(
        !s.replace_task(&ann.id, &stale, 1, &[event])
            .await
            .expect("replace")
    );
    assert_eq!(
        s.task(&ann.id, &task.id).await.expect("read"),
        Some(v2.clone())
    );
    assert_eq!(
        s.outbox_backlog().await.expect("backlog"),
        backlog,
        "no event"
    );

    // Another user's write at the right version changes nothing either.
    let theirs = patched(&v2, json!({"title": "Bob was here"}), t0() + mins(3));
    let event = Event::task_updated(&bob.id, &v2, &theirs);
    assert!(
        !s.replace_task(&bob.id, &theirs, 2, &[event])
            .await
            .expect("replace")
    );
    assert_eq!(
        s.task(&ann.id, &task.id).await.expect("read"),
        Some(v2.clone())
    );

    let done = complete(s, &ann, &v2, t0() + mins(4)).await;
    let stored = s
        .task(&ann.id, &task.id)
        .await
        .expect("read")
        .expect("task");
    assert_eq!(stored, done);
    assert_eq!(stored.status, Status::Done);
    assert_eq!(stored.completed_at, Some(t0() + mins(4)));
    assert_eq!(stored.version, 3);
}

async fn concurrent_writers_one_wins(db: &Db) {
    let ann = user(&*db.store, "ann").await;
    // The second writer is another process on the same database.
    let other = db.another_handle().await;
    for round in 0..8 {
        let task = create(&*db.store, &ann, json!({"title": "Contested"}), t0()).await;
        let a = patched(&task, json!({"title": format!("A{round}")}), t0() + secs(1));
        let b = patched(&task, json!({"title": format!("B{round}")}), t0() + secs(1));
        let (wa, wb) = (
            write_apart(&db.store, &ann, &task, a.clone()),
            write_apart(&other, &ann, &task, b.clone()),
        );
        let (wa, wb) = (
            wa.await.expect("join").expect("replace"),
            wb.await.expect("join").expect("replace"),
        );
        assert!(
            wa != wb,
            "exactly one of two writers at version 1 wins (round {round}: {wa}, {wb})"
        );
        let stored = db.store.task(&ann.id, &task.id).await.expect("read");
        assert_eq!(stored, Some(if wa { a } else { b }));
    }
    assert_eq!(
        db.store.event_sequence(&ann.id).await.expect("sequence"),
        16,
        "one created and one updated event per round"
    );
}

/// `n` tasks of `user`, "Task 0" to "Task n-1".
async fn numbered_tasks(s: &dyn Store, user: &User, n: usize) -> Vec<Task> {
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        tasks.push(create(s, user, json!({"title": format!("Task {i}")}), t0()).await);
    }
    tasks
}

/// Write `next` over `before` as the app does (at its version, with
/// `task.updated`), on a task of its own so that writes run at once.
fn write_apart(
    store: &std::sync::Arc<dyn Store>,
    user: &User,
    before: &Task,
    next: Task,
) -> tokio::task::JoinHandle<dueflow_store::Result<bool>> {
    let (store, user_id, before) = (store.clone(), user.id.clone(), before.clone());
    tokio::spawn(async move {
        let event = Event::task_updated(&user_id, &before, &next);
        store
            .replace_task(&user_id, &next, before.version, &[event])
            .await
    })
}

/// Many writes of one user at once through one handle (PostgreSQL commits
/// those that queue up together): each write at the current version lands
/// once, of two at one version exactly one does, and every event that
/// landed is numbered in the user's sequence once.
async fn many_writes_at_once_each_land_once(db: &Db) {
    let ann = user(&*db.store, "ann").await;
    let tasks = numbered_tasks(&*db.store, &ann, 24).await;
    let mut writers = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        // Tasks 0 to 7 get two writes at one version; the rest one.
        for twin in 0..if i < 8 { 2 } else { 1 } {
            let next = patched(
                task,
                json!({"notes": format!("write {twin}")}),
                t0() + secs(1),
            );
            writers.push((task.id.clone(), write_apart(&db.store, &ann, task, next)));
        }
    }
    let mut landed: std::collections::HashMap<String, usize> = Default::default();
    for (id, w) in writers {
        let ok = w.await.expect("join").expect("replace");
        *landed.entry(id).or_default() += usize::from(ok);
    }
    assert!(landed.values().all(|n| *n == 1), "{landed:?}");
    for task in &tasks {
        let stored = db.store.task(&ann.id, &task.id).await.expect("read");
        assert_eq!(stored.map(|t| t.version), Some(task.version + 1));
    }
    assert_eq!(
        db.store.event_sequence(&ann.id).await.expect("sequence"),
        48
    );
    let updated = events_of(&*db.store, EventType::TaskUpdated).await;
    assert_eq!(updated.len(), 24);
    let mut ids: Vec<&str> = updated.iter().map(|e| e.subject.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 24, "one task.updated per task");
}

/// A write the database refuses, among many of one user at once, fails
/// alone: every other write lands. (PostgreSQL refuses a NUL character in
/// text; on PostgreSQL the writes that queued up with it were in its
/// group, and are written again without it. SQLite stores it.)
async fn a_refused_write_fails_alone(db: &Db) {
    let ann = user(&*db.store, "ann").await;
    let tasks = numbered_tasks(&*db.store, &ann, 16).await;
    let mut writers = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        let mut next = patched(task, json!({"notes": "edited"}), t0() + secs(1));
        if i == 7 {
            next.notes = "edited\0".to_owned();
        }
        writers.push(write_apart(&db.store, &ann, task, next));
    }
    for (i, w) in writers.into_iter().enumerate() {
        let out = w.await.expect("join");
        let stored = db.store.task(&ann.id, &tasks[i].id).await.expect("read");
        match out {
            Ok(landed) => {
                assert!(
                    i != 7 || db.backend == Backend::Sqlite,
                    "PostgreSQL refuses a NUL in text"
                );
                assert!(landed, "write {i} at the current version lands");
                assert_eq!(stored.map(|t| t.version), Some(tasks[i].version + 1));
            }
            Err(e) => {
                assert_eq!(i, 7, "only the refused write fails: {e}");
                assert_eq!(db.backend, Backend::Postgres, "SQLite stores a NUL: {e}");
                assert_eq!(
                    stored.as_ref(),
                    Some(&tasks[i]),
                    "a refused write changes nothing"
                );
            }
        }
    }
}

async fn occurrences_are_written_once(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let series = create(
        s,
        &ann,
        json!({
            "title": "Water the plants",
            "due": "2030-03-04",
            "recurrence": {"rrule": "FREQ=WEEKLY"},
            "reminders": [{"before": "PT2H"}]
        }),
        t0(),
    )
    .await;
    let completed_at = t0() + hours(1);
    let done = complete(s, &ann, &series, completed_at).await;
    let next = done
        .next_occurrence(completed_at)
        .expect("the series goes on");
    assert_eq!((next.occurrence, &next.series_id), (2, &series.series_id));

    let before = s.event_sequence(&ann.id).await.expect("sequence");
    let created = Event::task_created(&ann.id, &next);
    assert!(
        s.insert_occurrence(&ann.id, &next, &created)
            .await
            .expect("insert")
    );
    assert_eq!(
        s.task(&ann.id, &next.id).await.expect("read"),
        Some(next.clone())
    );
    assert_eq!(
        s.event_sequence(&ann.id).await.expect("sequence"),
        before + 2,
        "its task.created and its reminder's reminder.scheduled"
    );
    let reminders = s
        .list_reminders(
            &ann.id,
            &ReminderQuery {
                task: Some(next.id.clone()),
                state: None,
                limit: 10,
            },
        )
        .await
        .expect("reminders");
    assert_eq!(reminders.len(), 1);
    let at: chrono::DateTime<chrono::Utc> = "2030-03-10T22:00:00Z".parse().expect("an instant");
    assert_eq!(reminders[0].at, at, "two hours before the next due");
    assert_eq!(reminders[0].state, ReminderState::Pending);

    // Replaying the completion: same series position, so nothing.
    let replay = done
        .next_occurrence(completed_at)
        .expect("the series goes on");
    assert_ne!(replay.id, next.id);
    let created = Event::task_created(&ann.id, &replay);
    assert!(
        !s.insert_occurrence(&ann.id, &replay, &created)
            .await
            .expect("insert")
    );
    assert_eq!(s.task(&ann.id, &replay.id).await.expect("read"), None);
    let created = Event::task_created(&ann.id, &next);
    assert!(
        !s.insert_occurrence(&ann.id, &next, &created)
            .await
            .expect("insert")
    );
    assert_eq!(
        s.event_sequence(&ann.id).await.expect("sequence"),
        before + 2,
        "a refused occurrence writes no event"
    );
    let created_events = events_of(s, EventType::TaskCreated).await;
    assert_eq!(
        created_events
            .iter()
            .filter(|e| e.subject == next.id)
            .count(),
        1
    );
    assert!(created_events.iter().all(|e| e.subject != replay.id));
}

async fn delete_removes_the_task_and_its_parts(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let task = create(
        s,
        &ann,
        json!({
            "title": "Old errand",
            "tags": ["junk"],
            "due": "2030-03-02T09:00:00Z",
            "reminders": [{"before": "PT1H"}]
        }),
        t0(),
    )
    .await;
    assert!(s.next_reminder_at().await.expect("next").is_some());

    let bobs = Event::task_deleted(&bob.id, &task.id, t0());
    assert!(
        !s.delete_task(&bob.id, &task.id, &bobs)
            .await
            .expect("delete")
    );
    assert!(s.task(&ann.id, &task.id).await.expect("read").is_some());

    let seq = s.event_sequence(&ann.id).await.expect("sequence");
    let gone = Event::task_deleted(&ann.id, &task.id, t0());
    assert!(
        s.delete_task(&ann.id, &task.id, &gone)
            .await
            .expect("delete")
    );
    assert_eq!(s.task(&ann.id, &task.id).await.expect("read"), None);
    assert_eq!(s.event_sequence(&ann.id).await.expect("sequence"), seq + 1);
    assert!(
        s.tags(&ann.id).await.expect("tags").is_empty(),
        "its tag went"
    );
    let reminders = s
        .list_reminders(
            &ann.id,
            &ReminderQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("reminders");
    assert!(reminders.is_empty(), "its reminders went: {reminders:?}");
    assert_eq!(s.next_reminder_at().await.expect("next"), None);

    let again = Event::task_deleted(&ann.id, &task.id, t0());
    assert!(
        !s.delete_task(&ann.id, &task.id, &again)
            .await
            .expect("delete")
    );
    assert_eq!(s.event_sequence(&ann.id).await.expect("sequence"), seq + 1);
    let deleted = events_of(s, EventType::TaskDeleted).await;
    assert_eq!(deleted.len(), 1, "only the delete that deleted is recorded");
    assert_eq!(deleted[0].id, gone.id);
}

/// One page of `user`'s tasks for query text `q` and sort `sort`.
async fn page(
    s: &dyn Store,
    user: &User,
    q: &str,
    sort: &str,
    limit: u32,
    cursor: Option<&str>,
) -> Page {
    let query = ListQuery {
        filter: query::parse(q).expect("a query"),
        sort: parse_sort(sort).expect("a sort"),
        limit,
        cursor: cursor.map(|c| Cursor::decode(c).expect("a cursor the store issued")),
        now: t0() + hours(1),
        tz: chrono_tz::UTC,
    };
    s.list_tasks(&user.id, &query).await.expect("list tasks")
}

/// Every page of a list, each page checked to be full unless it is the
/// last (the one without a cursor).
async fn all_pages(s: &dyn Store, user: &User, q: &str, sort: &str, limit: u32) -> Vec<Task> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let p = page(s, user, q, sort, limit, cursor.as_deref()).await;
        out.extend(p.items.iter().cloned());
        match p.next_cursor {
            Some(next) => {
                assert_eq!(p.items.len(), limit as usize, "only the last page is short");
                cursor = Some(next);
            }
            None => return out,
        }
    }
}

fn titles(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|t| t.title.as_str()).collect()
}

async fn list_filters_sorts_and_pages(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    // Created in shuffled order, so that the sort, not insertion, orders them.
    let mut work = Vec::new();
    for i in [7, 2, 10, 0, 5, 9, 1, 4, 8, 3, 6] {
        let t = create(
            s,
            &ann,
            json!({"title": format!("work {i:02}"), "tags": ["work"]}),
            t0(),
        )
        .await;
        work.push(t);
    }
    for i in 0..3 {
        let t = create(
            s,
            &ann,
            json!({"title": format!("work done {i}"), "tags": ["work"]}),
            t0(),
        )
        .await;
        complete(s, &ann, &t, t0() + mins(1)).await;
    }
    for i in 0..4 {
        create(
            s,
            &ann,
            json!({"title": format!("home {i}"), "tags": ["home"]}),
            t0(),
        )
        .await;
    }
    for i in 0..3 {
        create(
            s,
            &bob,
            json!({"title": format!("work {i:02} (bob)"), "tags": ["work"]}),
            t0(),
        )
        .await;
    }

    let q = "tag:work status:open";
    let expected: Vec<String> = (0..=10).map(|i| format!("work {i:02}")).collect();
    assert_eq!(titles(&all_pages(s, &ann, q, "title", 4).await), expected);
    assert_eq!(
        titles(&all_pages(s, &ann, q, "-title", 5).await),
        expected
            .iter()
            .rev()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );

    // Writes between pages: rows after the cursor show up once, rows
    // before it do not come back, and nothing is served twice.
    let first = page(s, &ann, q, "title", 4, None).await;
    assert_eq!(
        titles(&first.items),
        ["work 00", "work 01", "work 02", "work 03"]
    );
    create(
        s,
        &ann,
        json!({"title": "work 01a", "tags": ["work"]}),
        t0(),
    )
    .await;
    create(s, &ann, json!({"title": "work 99", "tags": ["work"]}), t0()).await;
    create(s, &bob, json!({"title": "work 98", "tags": ["work"]}), t0()).await;
    let six = work.iter().find(|t| t.title == "work 06").expect("work 06");
    complete(s, &ann, six, t0() + mins(2)).await;
    let mut seen = first.items.clone();
    let mut cursor = first.next_cursor;
    while let Some(c) = cursor {
        let p = page(s, &ann, q, "title", 4, Some(&c)).await;
        seen.extend(p.items);
        cursor = p.next_cursor;
    }
    assert_eq!(
        titles(&seen),
        [
            "work 00", "work 01", "work 02", "work 03", "work 04", "work 05", "work 07", "work 08",
            "work 09", "work 10", "work 99"
        ]
    );
    assert!(
        seen.iter()
            .all(|t| t.status == Status::Open && t.tags == ["work"])
    );

    let home = all_pages(s, &ann, "tag:home", "-title", 50).await;
    assert_eq!(titles(&home), ["home 3", "home 2", "home 1", "home 0"]);
    let done = all_pages(s, &ann, "status:done", "title", 50).await;
    assert_eq!(
        titles(&done),
        ["work 06", "work done 0", "work done 1", "work done 2"]
    );
}

async fn pages_do_not_repeat_or_skip_tied_rows(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    // Few distinct keys, many ties: the id breaks them.
    let mut ids = HashSet::new();
    for i in 0..17 {
        let priority = ["none", "high", "low"][i % 3];
        let mut body = json!({"title": format!("t{i}"), "priority": priority});
        if i % 2 == 0 {
            body["due"] = json!(["2030-03-02", "2030-03-03"][i % 4 / 2]);
        }
        let t = create(s, &ann, body, t0() + secs(i as i64 % 3)).await;
        ids.insert(t.id);
    }
    for (sort, limit) in [
        ("-priority", 3),
        ("", 4),
        ("due,-priority", 5),
        ("created", 2),
    ] {
        let all = all_pages(s, &ann, "", sort, limit).await;
        let got: HashSet<_> = all.iter().map(|t| t.id.clone()).collect();
        assert_eq!(all.len(), got.len(), "sort {sort:?}: a task served twice");
        assert_eq!(got, ids, "sort {sort:?}: every task once");
    }
    let by_priority = all_pages(s, &ann, "", "-priority", 3).await;
    assert!(
        by_priority
            .windows(2)
            .all(|w| w[0].priority >= w[1].priority),
        "highest priority first"
    );
}

async fn search_finds_title_matches_first(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    create(s, &ann, json!({"title": "Buy oat milk"}), t0()).await;
    create(
        s,
        &ann,
        json!({"title": "Groceries", "notes": "milk, eggs"}),
        t0() + secs(1),
    )
    .await;
    create(
        s,
        &ann,
        json!({"title": "Call the plumber"}),
        t0() + secs(2),
    )
    .await;
    create(s, &ann, json!({"title": "Milk the goats"}), t0() + secs(3)).await;
    create(
        s,
        &ann,
        json!({"title": "Café reservation"}),
        t0() + secs(4),
    )
    .await;
    create(s, &bob, json!({"title": "Milk for bob"}), t0() + secs(5)).await;

    // Title matches first, newest first; then those matching in the notes.
    let expected = ["Milk the goats", "Buy oat milk", "Groceries"];
    assert_eq!(
        titles(&page(s, &ann, "milk", "", 50, None).await.items),
        expected
    );
    assert_eq!(titles(&all_pages(s, &ann, "milk", "", 1).await), expected);
    assert_eq!(
        titles(&page(s, &ann, "milk", "title", 50, None).await.items),
        ["Buy oat milk", "Groceries", "Milk the goats"]
    );
    assert_eq!(
        titles(&page(s, &ann, "cafe", "", 50, None).await.items),
        ["Café reservation"],
        "diacritics fold"
    );
    assert_eq!(
        titles(&page(s, &ann, "plumb", "", 50, None).await.items),
        ["Call the plumber"],
        "the last word is a prefix (search as you type)"
    );
    assert!(page(s, &ann, "zebra", "", 50, None).await.items.is_empty());
    assert_eq!(
        titles(&page(s, &bob, "milk", "", 50, None).await.items),
        ["Milk for bob"],
        "one user's search never finds another's tasks"
    );
}

/// A word in many of the newest tasks and a word only in the oldest ones
/// page the same: every match once, title matches first, newest first.
/// (PostgreSQL first looks for a page among the newest tasks only, and
/// falls back to its full-text index when they hold too few matches.)
async fn search_pages_common_and_rare_words_alike(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (title, notes) = match i {
            0..3 => (format!("Zebra count {i}"), String::new()),
            _ if i % 3 == 0 => (format!("Report {i}"), String::new()),
            _ if i % 5 == 0 => (format!("Draft {i}"), "for the report".to_owned()),
            _ => (format!("Errand {i}"), String::new()),
        };
        tasks.push(
            create(
                s,
                &ann,
                json!({"title": title, "notes": notes}),
                t0() + secs(i),
            )
            .await,
        );
    }
    let newest_first = |keep: &dyn Fn(&Task) -> bool| -> Vec<String> {
        tasks
            .iter()
            .rev()
            .filter(|t| keep(t))
            .map(|t| t.title.clone())
            .collect()
    };
    let mut expected = newest_first(&|t| t.title.starts_with("Report"));
    expected.extend(newest_first(&|t| t.notes.contains("report")));
    for limit in [5, 50] {
        let found: Vec<String> = all_pages(s, &ann, "report", "", limit)
            .await
            .into_iter()
            .map(|t| t.title)
            .collect();
        assert_eq!(found, expected, "pages of {limit}");
    }
    let zebras = newest_first(&|t| t.title.starts_with("Zebra"));
    let found: Vec<String> = all_pages(s, &ann, "zeb", "", 2)
        .await
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(found, zebras);
}

fn tag(name: &str, count: i64, open: i64, colour: Option<&str>) -> TagCount {
    TagCount {
        name: name.to_owned(),
        count,
        open,
        colour: colour.map(str::to_owned),
    }
}

async fn tags_count_tasks_and_keep_colours(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let report = create(
        s,
        &ann,
        json!({"title": "Report", "tags": ["work", "home"]}),
        t0(),
    )
    .await;
    let slides = create(s, &ann, json!({"title": "Slides", "tags": ["work"]}), t0()).await;
    complete(s, &ann, &slides, t0() + mins(1)).await;
    let post = create(
        s,
        &ann,
        json!({"title": "Post office", "tags": ["errand"]}),
        t0(),
    )
    .await;
    create(s, &bob, json!({"title": "Bob's", "tags": ["work"]}), t0()).await;
    let tags = |u: &User| {
        let id = u.id.clone();
        async move { s.tags(&id).await.expect("tags") }
    };
    assert_eq!(
        tags(&ann).await,
        [
            tag("errand", 1, 1, None),
            tag("home", 1, 1, None),
            tag("work", 2, 1, None)
        ]
    );

    s.set_tag_colour(&ann.id, "work", Some("#3366ff"))
        .await
        .expect("colour");
    s.set_tag_colour(&ann.id, "home", Some("#00aa00"))
        .await
        .expect("colour");
    s.set_tag_colour(&ann.id, "home", Some("#00bb00"))
        .await
        .expect("colour again");
    assert_eq!(
        tags(&ann).await,
        [
            tag("errand", 1, 1, None),
            tag("home", 1, 1, Some("#00bb00")),
            tag("work", 2, 1, Some("#3366ff"))
        ]
    );
    assert_eq!(
        tags(&bob).await,
        [tag("work", 1, 1, None)],
        "colours are per user"
    );

    // A tag is listed while a task carries it; its colour outlives it.
    let report = change(s, &ann, &report, json!({"tags": ["work"]}), t0() + mins(2)).await;
    let post = complete(s, &ann, &post, t0() + mins(3)).await;
    assert_eq!(
        tags(&ann).await,
        [
            tag("errand", 1, 0, None),
            tag("work", 2, 1, Some("#3366ff"))
        ]
    );
    let gone = Event::task_deleted(&ann.id, &post.id, t0() + mins(4));
    assert!(
        s.delete_task(&ann.id, &post.id, &gone)
            .await
            .expect("delete")
    );
    change(
        s,
        &ann,
        &report,
        json!({"tags": ["work", "home"]}),
        t0() + mins(5),
    )
    .await;
    assert_eq!(
        tags(&ann).await,
        [
            tag("home", 1, 1, Some("#00bb00")),
            tag("work", 2, 1, Some("#3366ff"))
        ]
    );

    s.set_tag_colour(&ann.id, "work", None)
        .await
        .expect("no colour");
    assert_eq!(
        tags(&ann).await,
        [tag("home", 1, 1, Some("#00bb00")), tag("work", 2, 1, None)]
    );

    // An occurrence carries its series' tags, counted once however often
    // the completion is replayed.
    let standup = create(
        s,
        &ann,
        json!({
            "title": "Standup",
            "tags": ["meeting"],
            "due": "2030-03-04",
            "recurrence": {"rrule": "FREQ=DAILY"}
        }),
        t0(),
    )
    .await;
    let done = complete(s, &ann, &standup, t0() + mins(6)).await;
    for _ in 0..2 {
        let next = done
            .next_occurrence(t0() + mins(6))
            .expect("the series goes on");
        let created = Event::task_created(&ann.id, &next);
        s.insert_occurrence(&ann.id, &next, &created)
            .await
            .expect("insert");
    }
    assert_eq!(
        tags(&ann).await,
        [
            tag("home", 1, 1, Some("#00bb00")),
            tag("meeting", 2, 1, None),
            tag("work", 2, 1, None)
        ]
    );
}

/// One user's tasks created, retagged, completed and deleted at once
/// through two handles (two processes): every write lands, and the tag
/// counts are those of the tasks left.
async fn tag_counts_hold_under_concurrent_writes(db: &Db) {
    let handles = [db.store.clone(), db.another_handle().await];
    let ann = user(&*db.store, "ann").await;
    let mut writers = Vec::new();
    for i in 0..16_i64 {
        let s = handles[i as usize % 2].clone();
        let ann = ann.clone();
        writers.push(tokio::spawn(async move {
            let s = &*s;
            let at = t0() + secs(i);
            let tags = if i % 2 == 0 {
                json!(["a", "b"])
            } else {
                json!(["b", "c"])
            };
            let task = create(
                s,
                &ann,
                json!({"title": format!("Task {i}"), "tags": tags}),
                at,
            )
            .await;
            let task = change(
                s,
                &ann,
                &task,
                json!({"tags": ["c", "b", "a"]}),
                at + secs(1),
            )
            .await;
            match i % 4 {
                0 => {
                    let gone = Event::task_deleted(&ann.id, &task.id, at + secs(2));
                    assert!(
                        s.delete_task(&ann.id, &task.id, &gone)
                            .await
                            .expect("delete")
                    );
                }
                1 => {
                    complete(s, &ann, &task, at + secs(2)).await;
                }
                _ => {
                    change(s, &ann, &task, json!({"tags": ["a"]}), at + secs(2)).await;
                }
            }
        }));
    }
    for w in writers {
        w.await.expect("a writer");
    }
    // Left: 4 done tasks tagged a, b, c; 8 open tasks tagged a.
    assert_eq!(
        db.store.tags(&ann.id).await.expect("tags"),
        [
            tag("a", 12, 8, None),
            tag("b", 4, 0, None),
            tag("c", 4, 0, None)
        ]
    );
}
