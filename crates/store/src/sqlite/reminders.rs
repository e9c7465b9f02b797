//! SQLite side of scheduled reminders: rows kept in step with every task
//! write, fired by the scheduler (the single writer makes each firing
//! exclusive).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dueflow_domain::event::Event;
use dueflow_domain::reminder::schedule::{self, ReminderState, ScheduledReminder};
use dueflow_domain::task::Task;
use dueflow_domain::trace::TraceParent;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{SqliteStore, insert_events, sql};
use crate::Result;
use crate::codec::ms;
use crate::reminders::{
    ADD, DISMISS, EXISTING, Fired, NEXT_AT, REMOVE, RawReminder, ReminderQuery, Reminders, SNOOZE,
    due_sql, list_sql, new_pending, parse_state, raw_due, raw_reminder,
};

/// Bring `task`'s reminder rows in line with its reminders (see
/// [`schedule::plan`]); returns the `reminder.scheduled` events of the rows
/// added, in the write's `trace`. `is_new`: the task was just inserted, so
/// it has no rows yet.
pub(super) fn sync(
    tx: &Transaction<'_>,
    user_id: &str,
    task: &Task,
    is_new: bool,
    trace: TraceParent,
) -> Result<Vec<Event>> {
    let wanted = schedule::instants(task);
    if is_new && wanted.is_empty() {
        return Ok(Vec::new());
    }
    let existing = if is_new {
        Vec::new()
    } else {
        let mut stmt = tx.prepare_cached(&sql(EXISTING))?;
        let rows = stmt.query_map([&task.id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|r| {
            let (at, state) = r?;
            let state = parse_state(&state)?;
            Ok((at, state))
        })
        .collect::<Result<Vec<_>>>()?
    };
    let now = task.updated_at;
    let (remove, add) = schedule::plan(&existing, &wanted, now.timestamp_millis());
    for at in remove {
        tx.prepare_cached(&sql(REMOVE))?
            .execute(params![task.id, at])?;
    }
    let mut events = Vec::with_capacity(add.len());
    for at in add {
        let r = new_pending(&task.id, at)?;
        tx.prepare_cached(&sql(ADD))?
            .execute(params![r.id, user_id, r.task_id, at])?;
        events.push(Event::reminder_scheduled(user_id, &r, now).in_trace(trace));
    }
    Ok(events)
}

impl SqliteStore {
    /// Snooze or dismiss: `update` returns the changed row, whose event
    /// `event` builds goes out in the same transaction.
    async fn change_reminder(
        &self,
        update: &'static str,
        values: Vec<Value>,
        event: impl FnOnce(&ScheduledReminder) -> Event + Send + 'static,
    ) -> Result<Option<ScheduledReminder>> {
        self.write(move |tx| {
            let raw = tx
                .prepare_cached(&sql(update))?
                .query_row(rusqlite::params_from_iter(values), |r| raw_reminder(r, 0))
                .optional()?;
            let Some(r) = raw.map(RawReminder::decode).transpose()? else {
                return Ok(None);
            };
            insert_events(tx, &[event(&r)])?;
            Ok(Some(r))
        })
        .await
    }
}

#[async_trait]
impl Reminders for SqliteStore {
    async fn fire_due_reminders(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Fired>> {
        let now_ms = now.timestamp_millis();
        self.write(move |tx| {
            let mut due = Vec::new();
            {
                let mut stmt = tx.prepare_cached(&sql(&due_sql("")))?;
                let mut rows = stmt.query(params![now_ms, i64::from(limit)])?;
                while let Some(row) = rows.next()? {
                    due.push(raw_due(row)?);
                }
            }
            let mut events = Vec::with_capacity(due.len());
            let mut late = Vec::with_capacity(due.len());
            for (task, reminder, user_id) in due {
                let mut r = reminder.decode()?;
                tx.prepare_cached(&sql(crate::reminders::MARK_FIRED))?
                    .execute(params![r.id, now_ms])?;
                r.state = ReminderState::Fired;
                r.fired_at = Some(now);
                let due = Event::reminder_due(&user_id, &r, &task.decode()?, now);
                late.push(Fired {
                    late_ms: (now - r.fire_at).num_milliseconds(),
                    trace: due.trace,
                });
                events.push(due);
            }
            insert_events(tx, &events)?;
            Ok(late)
        })
        .await
    }

    async fn next_reminder_at(&self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<i64> = self.read(|c| Ok(c.query_row(NEXT_AT, [], |r| r.get(0))?))?;
        at.map(ms).transpose()
    }

    async fn list_reminders(
        &self,
        user_id: &str,
        q: &ReminderQuery,
    ) -> Result<Vec<ScheduledReminder>> {
        let mut values: Vec<&str> = vec![user_id];
        values.extend(q.task.as_deref());
        values.extend(q.state.map(ReminderState::as_str));
        let raw = self.read(|c| {
            let mut stmt = c.prepare_cached(&sql(&list_sql(q)))?;
            let rows =
                stmt.query_map(rusqlite::params_from_iter(values), |r| raw_reminder(r, 0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        raw.into_iter().map(RawReminder::decode).collect()
    }

    async fn snooze_reminder(
        &self,
        user_id: &str,
        id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduledReminder>> {
        self.change_reminder(
            SNOOZE,
            vec![
                Value::Text(id.to_owned()),
                Value::Text(user_id.to_owned()),
                Value::Integer(until.timestamp_millis()),
            ],
            {
                let user_id = user_id.to_owned();
                move |r| Event::reminder_snoozed(&user_id, r, now)
            },
        )
        .await
    }

    async fn dismiss_reminder(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduledReminder>> {
        let values = vec![Value::Text(id.to_owned()), Value::Text(user_id.to_owned())];
        let user_id = user_id.to_owned();
        self.change_reminder(DISMISS, values, move |r| {
            Event::reminder_dismissed(&user_id, r, now)
        })
        .await
    }
}
