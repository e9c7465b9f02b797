//! PostgreSQL side of scheduled reminders: rows kept in step with every
//! task write; due rows are claimed with `FOR UPDATE SKIP LOCKED`, so
//! several schedulers never fire the same reminder.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dueflow_domain::event::Event;
use dueflow_domain::reminder::schedule::{self, ReminderState, ScheduledReminder};
use dueflow_domain::task::Task;
use dueflow_domain::trace::TraceParent;
use sqlx::AssertSqlSafe;

use super::{PgStore, Tx, insert_events};
use crate::Result;
use crate::codec::ms;
use crate::reminders::{
    ADD, DISMISS, Fired, MARK_FIRED, NEXT_AT, REMOVE, ReminderQuery, Reminders, SNOOZE, due_sql,
    list_sql, new_pending, raw_due, raw_reminder,
};

/// Bring `task`'s reminder rows, `existing` (`at`, state) before this
/// write, in line with its reminders (see [`schedule::plan`]); returns the
/// `reminder.scheduled` events of the rows added. (A new task's rows are
/// written with it, by its insert.)
pub(super) async fn sync(
    tx: &mut Tx<'_>,
    user_id: &str,
    task: &Task,
    existing: &[(i64, ReminderState)],
    trace: TraceParent,
) -> Result<Vec<Event>> {
    let wanted = schedule::instants(task);
    let now = task.updated_at;
    let (remove, add) = schedule::plan(existing, &wanted, now.timestamp_millis());
    for at in remove {
        sqlx::query(REMOVE)
            .bind(&task.id)
            .bind(at)
            .execute(&mut **tx)
            .await?;
    }
    let mut events = Vec::with_capacity(add.len());
    for at in add {
        let r = new_pending(&task.id, at)?;
        sqlx::query(ADD)
            .bind(&r.id)
            .bind(user_id)
            .bind(&r.task_id)
            .bind(at)
            .execute(&mut **tx)
            .await?;
        events.push(Event::reminder_scheduled(user_id, &r, now).in_trace(trace));
    }
    Ok(events)
}

impl PgStore {
    /// Snooze or dismiss: run `query` (returning the changed row) and write
    /// the event `event` builds in the same transaction.
    async fn change_reminder<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
        event: impl FnOnce(&ScheduledReminder) -> Event,
    ) -> Result<Option<ScheduledReminder>> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = query.fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let r = raw_reminder(&row, 0)?.decode()?;
        insert_events(&mut tx, &[event(&r)]).await?;
        tx.commit().await?;
        Ok(Some(r))
    }
}

#[async_trait]
impl Reminders for PgStore {
    async fn fire_due_reminders(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Fired>> {
        let now_ms = now.timestamp_millis();
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(AssertSqlSafe(due_sql(" FOR UPDATE OF r SKIP LOCKED")))
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut events = Vec::with_capacity(rows.len());
        let mut late = Vec::with_capacity(rows.len());
        for row in &rows {
            let (task, reminder, user_id) = raw_due(row)?;
            let mut r = reminder.decode()?;
            sqlx::query(MARK_FIRED)
                .bind(&r.id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            r.state = ReminderState::Fired;
            r.fired_at = Some(now);
            let due = Event::reminder_due(&user_id, &r, &task.decode()?, now);
            late.push(Fired {
                late_ms: (now - r.fire_at).num_milliseconds(),
                trace: due.trace,
            });
            events.push(due);
        }
        insert_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(late)
    }

    async fn next_reminder_at(&self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<i64> = sqlx::query_scalar(NEXT_AT).fetch_one(&self.pool).await?;
        at.map(ms).transpose()
    }

    async fn list_reminders(
        &self,
        user_id: &str,
        q: &ReminderQuery,
    ) -> Result<Vec<ScheduledReminder>> {
        let sql = list_sql(q);
        // Fixed fragments only; every filter value is bound.
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str())).bind(user_id);
        if let Some(t) = &q.task {
            query = query.bind(t);
        }
        if let Some(s) = q.state {
            query = query.bind(s.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(|r| raw_reminder(r, 0)?.decode()).collect()
    }

    async fn snooze_reminder(
        &self,
        user_id: &str,
        id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduledReminder>> {
        let query = sqlx::query(SNOOZE)
            .bind(id)
            .bind(user_id)
            .bind(until.timestamp_millis());
        self.change_reminder(query, |r| Event::reminder_snoozed(user_id, r, now))
            .await
    }

    async fn dismiss_reminder(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduledReminder>> {
        let query = sqlx::query(DISMISS).bind(id).bind(user_id);
        self.change_reminder(query, |r| Event::reminder_dismissed(user_id, r, now))
            .await
    }
}
