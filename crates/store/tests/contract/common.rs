//! What every scenario stands on: a fresh, migrated database of either
//! backend (a temporary SQLite file, or a new database on the test
//! PostgreSQL server), further handles on it as other processes would
//! hold, and fixtures built through the domain the way the app builds them
//! (tasks from `NewTask` JSON, each write with its events).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use dueflow_domain::event::{Event, EventType};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::quickadd::DateOrder;
use dueflow_domain::task::{NewTask, Task, TaskPatch};
use dueflow_store::{OutboxMessage, User};

use self::prelude::*;
use serde_json::Value;

/// Every part's trait, so that a scenario calls any store method on a
/// `dyn Store`.
pub mod prelude {
    pub use dueflow_store::{
        Accounts, Activity, EmailVerification, Notifications, Outbox, Reminders, Store, Tasks,
        Webhooks,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// What [`Store::backend`] answers.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// One scenario's database and the store handle on it.
pub struct Db {
    pub backend: Backend,
    pub store: Arc<dyn Store>,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    pub async fn open(backend: Backend) -> Db {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("contract.db").display());
                (url, Some(dir))
            }
            Backend::Postgres => (crate::pg::fresh_pg_database().await, None),
        };
        let store = dueflow_store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("open the {} store: {e}", backend.name()));
        store.migrate().await.expect("migrate");
        Db {
            backend,
            store,
            url,
            _dir: dir,
        }
    }

    /// Another handle on the same database, as a second process (another
    /// replica, a second scheduler) would open it.
    pub async fn another_handle(&self) -> Arc<dyn Store> {
        dueflow_store::connect(&self.url)
            .await
            .expect("open a second handle")
    }
}

/// The scenarios' "now": a fixed instant, so every time the store is given
/// is known.
pub fn t0() -> DateTime<Utc> {
    "2030-03-01T09:00:00Z".parse().expect("an instant")
}

pub fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

pub fn mins(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

pub fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A user in UTC, as account creation makes one.
pub async fn user(s: &dyn Store, name: &str) -> User {
    let u = User {
        id: new_id(IdKind::User),
        name: name.to_owned(),
        tz: chrono_tz::UTC,
        created_at: t0(),
        email: None,
        email_verified: false,
        date_order: DateOrder::default(),
    };
    s.create_user(&u, &format!("hash of {name}"))
        .await
        .expect("create user");
    u
}

/// A task as a client would send it (`NewTask` JSON), validated at `now`.
pub fn new_task(body: Value, now: DateTime<Utc>) -> Task {
    let input: NewTask = serde_json::from_value(body).expect("a new task's JSON");
    Task::create(input, chrono_tz::UTC, now).expect("a valid task")
}

/// Create a task as the app does: written with its `task.created` event.
pub async fn create(s: &dyn Store, user: &User, body: Value, now: DateTime<Utc>) -> Task {
    let task = new_task(body, now);
    s.insert_task(&user.id, &task, &[Event::task_created(&user.id, &task)])
        .await
        .expect("insert task");
    task
}

/// `task` with a patch (`TaskPatch` JSON) applied at `now`, not written.
pub fn patched(task: &Task, patch: Value, now: DateTime<Utc>) -> Task {
    let patch: TaskPatch = serde_json::from_value(patch).expect("a patch's JSON");
    task.apply(patch, now)
        .expect("a valid patch")
        .expect("a patch that changes something")
}

/// Change a task as the app does: at its version, with `task.updated`.
pub async fn change(
    s: &dyn Store,
    user: &User,
    task: &Task,
    patch: Value,
    now: DateTime<Utc>,
) -> Task {
    let next = patched(task, patch, now);
    let event = Event::task_updated(&user.id, task, &next);
    assert!(
        s.replace_task(&user.id, &next, task.version, &[event])
            .await
            .expect("replace task"),
        "a write at the current version lands"
    );
    next
}

/// Complete a task as the app does, with `task.completed`.
pub async fn complete(s: &dyn Store, user: &User, task: &Task, now: DateTime<Utc>) -> Task {
    let done = task.complete(now).expect("an open task");
    let event = Event::task_completed(&user.id, &done);
    assert!(
        s.replace_task(&user.id, &done, task.version, &[event])
            .await
            .expect("replace task"),
        "completing at the current version lands"
    );
    done
}

/// Everything in the outbox, oldest first, each with its CloudEvents
/// document parsed.
pub async fn outbox(s: &dyn Store) -> Vec<(OutboxMessage, Value)> {
    s.outbox_batch(100_000)
        .await
        .expect("outbox batch")
        .into_iter()
        .map(|m| {
            let doc = serde_json::from_str(&m.payload).expect("the payload is JSON");
            (m, doc)
        })
        .collect()
}

/// The outbox's events of one type, oldest first.
pub async fn events_of(s: &dyn Store, kind: EventType) -> Vec<Event> {
    outbox(s)
        .await
        .iter()
        .filter(|(_, doc)| doc["type"] == kind.as_str())
        .map(|(_, doc)| Event::from_cloudevent(doc).expect("a dueflow CloudEvent"))
        .collect()
}
