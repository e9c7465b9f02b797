//! Scheduled reminders: the trait the scheduler role and the reminder
//! routes use, and the SQL both backends share (written with `$n`
//! placeholders; SQLite reads them as `?n`). Rows are created and retired
//! inside the task writes themselves (see `sync` in each backend), so a
//! task and its reminders never disagree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dueflow_domain::reminder::schedule::{ReminderState, ScheduledReminder};
use dueflow_domain::trace::TraceParent;

use crate::Result;
use crate::codec::{RawTask, ms, raw_task};
use crate::row::RowAccess;

/// Filters for listing a user's reminders, soonest first.
#[derive(Debug, Clone, Default)]
pub struct ReminderQuery {
    pub task: Option<String>,
    pub state: Option<ReminderState>,
    pub limit: u32,
}

/// A reminder just fired.
#[derive(Debug, Clone, Copy)]
pub struct Fired {
    /// How long after its time (ms).
    pub late_ms: i64,
    /// The firing's span: its `reminder.due` event's trace starts there.
    pub trace: TraceParent,
}

#[async_trait]
pub trait Reminders: Send + Sync {
    /// Fire up to `limit` pending reminders whose time has come by `now`:
    /// each is marked fired and its `reminder.due` event written to the
    /// outbox in the same transaction, so it fires once even with several
    /// schedulers running.
    async fn fire_due_reminders(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Fired>>;
    /// When the soonest pending reminder fires.
    async fn next_reminder_at(&self) -> Result<Option<DateTime<Utc>>>;
    async fn list_reminders(
        &self,
        user_id: &str,
        q: &ReminderQuery,
    ) -> Result<Vec<ScheduledReminder>>;
    /// Fire the reminder again at `until` (pending again); `None` if the
    /// user has no such reminder.
    async fn snooze_reminder(
        &self,
        user_id: &str,
        id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduledReminder>>;
    /// Never fire the reminder (again).
    async fn dismiss_reminder(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduledReminder>>;
}

/// Columns read for a reminder, in the order [`RawReminder`] expects.
pub(crate) const REMINDER_COLUMNS: &str = "r.id, r.task_id, r.at, r.fire_at, r.state, r.fired_at";

pub(crate) struct RawReminder {
    pub id: String,
    pub task_id: String,
    pub at: i64,
    pub fire_at: i64,
    pub state: String,
    pub fired_at: Option<i64>,
}

/// Reads [`REMINDER_COLUMNS`] from column `at` on.
pub(crate) fn raw_reminder<R: RowAccess>(row: &R, at: usize) -> Result<RawReminder, R::Error> {
    Ok(RawReminder {
        id: row.at(at)?,
        task_id: row.at(at + 1)?,
        at: row.at(at + 2)?,
        fire_at: row.at(at + 3)?,
        state: row.at(at + 4)?,
        fired_at: row.at(at + 5)?,
    })
}

impl RawReminder {
    pub fn decode(self) -> Result<ScheduledReminder> {
        Ok(ScheduledReminder {
            state: ReminderState::parse(&self.state).ok_or_else(|| {
                crate::StoreError::Corrupt(format!("reminder {}: state {}", self.id, self.state))
            })?,
            at: ms(self.at)?,
            fire_at: ms(self.fire_at)?,
            fired_at: self.fired_at.map(ms).transpose()?,
            id: self.id,
            task_id: self.task_id,
        })
    }
}

/// A stored reminder state, or why the row is unreadable.
pub(crate) fn parse_state(state: &str) -> Result<ReminderState> {
    ReminderState::parse(state)
        .ok_or_else(|| crate::StoreError::Corrupt(format!("reminder state {state}")))
}

/// The row [`ADD`] inserts for `task_id` at `at` (ms): pending, due at its
/// own instant.
pub(crate) fn new_pending(task_id: &str, at: i64) -> Result<ScheduledReminder> {
    Ok(ScheduledReminder {
        id: dueflow_domain::ids::new_id(dueflow_domain::ids::IdKind::Reminder),
        task_id: task_id.to_owned(),
        at: ms(at)?,
        fire_at: ms(at)?,
        state: ReminderState::Pending,
        fired_at: None,
    })
}

pub(crate) const EXISTING: &str = "SELECT at, state FROM reminders WHERE task_id = $1";
pub(crate) const REMOVE: &str = "DELETE FROM reminders WHERE task_id = $1 AND at = $2";
pub(crate) const ADD: &str = "INSERT INTO reminders (id, user_id, task_id, at, fire_at, state) \
     VALUES ($1, $2, $3, $4, $4, 'pending')";
pub(crate) const DELETE_FOR_TASK: &str = "DELETE FROM reminders WHERE task_id = $1";
pub(crate) const MARK_FIRED: &str =
    "UPDATE reminders SET state = 'fired', fired_at = $2 WHERE id = $1";
pub(crate) const NEXT_AT: &str = "SELECT MIN(fire_at) FROM reminders WHERE state = 'pending'";
pub(crate) const SNOOZE: &str = "UPDATE reminders SET state = 'pending', fire_at = $3 \
     WHERE id = $1 AND user_id = $2 RETURNING id, task_id, at, fire_at, state, fired_at";
pub(crate) const DISMISS: &str = "UPDATE reminders SET state = 'dismissed' \
     WHERE id = $1 AND user_id = $2 RETURNING id, task_id, at, fire_at, state, fired_at";

/// The due reminders with their tasks: task columns first (as
/// `TASK_COLUMNS`), then the reminder's, then its owner.
pub(crate) fn due_sql(lock: &str) -> String {
    format!(
        "SELECT {}, {REMINDER_COLUMNS}, r.user_id FROM reminders r JOIN tasks t ON t.id = r.task_id \
         WHERE r.state = 'pending' AND r.fire_at <= $1 ORDER BY r.fire_at, r.id LIMIT $2{lock}",
        crate::codec::TASK_COLUMNS
    )
}

/// Reads a row of [`due_sql`]: the task, the reminder and its owner.
pub(crate) fn raw_due<R: RowAccess>(row: &R) -> Result<(RawTask, RawReminder, String), R::Error> {
    Ok((raw_task(row)?, raw_reminder(row, 16)?, row.at(22)?))
}

/// A user's reminders, soonest first; filters bound from `$2`.
pub(crate) fn list_sql(q: &ReminderQuery) -> String {
    let mut sql = format!("SELECT {REMINDER_COLUMNS} FROM reminders r WHERE r.user_id = $1");
    let mut n = 1;
    if q.task.is_some() {
        n += 1;
        sql += &format!(" AND r.task_id = ${n}");
    }
    if q.state.is_some() {
        n += 1;
        sql += &format!(" AND r.state = ${n}");
    }
    sql += &format!(" ORDER BY r.fire_at, r.id LIMIT {}", q.limit);
    sql
}
