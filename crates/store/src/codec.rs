//! How a task maps onto a row and back, shared by every backend: the column
//! list, the encoded values, and decoding with a clear error on bad data.

use chrono::{DateTime, TimeZone, Utc};
use dueflow_domain::{
    due::Due, priority::Priority, recurrence::Recurrence, reminder::Reminder, status::Status,
    task::Task,
};

use crate::StoreError;
use crate::row::RowAccess;

/// Columns read for a task, in the order [`RawTask`] expects; `t` is `tasks`.
pub const TASK_COLUMNS: &str = "t.id, t.title, t.notes, t.status, t.priority, t.due, t.tz, \
     t.tags, t.recurrence, t.reminders, t.series_id, t.occurrence, t.created_at, t.updated_at, \
     t.completed_at, t.version";

/// A task row as stored.
pub struct RawTask {
    pub id: String,
    pub title: String,
    pub notes: String,
    pub status: String,
    pub priority: i64,
    pub due: Option<String>,
    pub tz: String,
    pub tags: String,
    pub recurrence: Option<String>,
    pub reminders: String,
    pub series_id: Option<String>,
    pub occurrence: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub version: i64,
}

/// Reads a row whose first columns are [`TASK_COLUMNS`].
pub fn raw_task<R: RowAccess>(row: &R) -> Result<RawTask, R::Error> {
    Ok(RawTask {
        id: row.at(0)?,
        title: row.at(1)?,
        notes: row.at(2)?,
        status: row.at(3)?,
        priority: row.at(4)?,
        due: row.at(5)?,
        tz: row.at(6)?,
        tags: row.at(7)?,
        recurrence: row.at(8)?,
        reminders: row.at(9)?,
        series_id: row.at(10)?,
        occurrence: row.at(11)?,
        created_at: row.at(12)?,
        updated_at: row.at(13)?,
        completed_at: row.at(14)?,
        version: row.at(15)?,
    })
}

/// One task of its owner: `$1` the task's id, `$2` the owner's.
pub static TASK_BY_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = $1 AND t.user_id = $2")
});

/// Inserts a task: its twenty column values, in the order both backends
/// bind them (`$n` placeholders; SQLite reads them as `?n`).
pub const INSERT_TASK: &str = "INSERT INTO tasks (id, user_id, title, notes, status, priority, due, \
     due_at, overdue_at, tz, tags, tag_count, recurrence, reminders, series_id, occurrence, \
     created_at, updated_at, completed_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
     $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";

/// Same parameters as [`INSERT_TASK`] plus `$21`, the version it replaces.
pub const UPDATE_TASK: &str = "UPDATE tasks SET title = $3, notes = $4, status = $5, priority = $6, \
     due = $7, due_at = $8, overdue_at = $9, tz = $10, tags = $11, tag_count = $12, \
     recurrence = $13, reminders = $14, series_id = $15, updated_at = $18, completed_at = $19, \
     version = $20 WHERE id = $1 AND user_id = $2 AND version = $21";

/// Everything written for a task, derived columns included.
pub struct EncodedTask {
    pub status: &'static str,
    pub priority: i64,
    pub due: Option<String>,
    pub due_at: Option<i64>,
    pub overdue_at: Option<i64>,
    pub tags: String,
    pub recurrence: Option<String>,
    pub reminders: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
}

/// A task's stored tags (the `tags` column).
pub fn decode_tags(id: &str, raw: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(raw).map_err(|e| corrupt("tags", id, e))
}

pub fn encode(task: &Task) -> EncodedTask {
    EncodedTask {
        status: task.status.as_str(),
        priority: task.priority.rank(),
        due: task.due.map(|d| d.to_string()),
        due_at: task.due_at_ms(),
        overdue_at: task.overdue_at_ms(),
        tags: serde_json::to_string(&task.tags).expect("tags serialise"),
        recurrence: task
            .recurrence
            .as_ref()
            .map(|r| serde_json::to_string(r).expect("recurrence serialises")),
        reminders: serde_json::to_string(&task.reminders).expect("reminders serialise"),
        created_at: task.created_at.timestamp_millis(),
        updated_at: task.updated_at.timestamp_millis(),
        completed_at: task.completed_at.map(|t| t.timestamp_millis()),
    }
}

pub fn ms(v: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(v)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {v} out of range")))
}

fn corrupt(what: &str, id: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("task {id}: {what}: {e}"))
}

impl RawTask {
    pub fn decode(self) -> Result<Task, StoreError> {
        let id = self.id;
        let status: Status = self.status.parse().map_err(|e| corrupt("status", &id, e))?;
        let priority = Priority::from_rank(self.priority)
            .ok_or_else(|| corrupt("priority", &id, self.priority))?;
        let due = self
            .due
            .as_deref()
            .map(|d| Due::parse("due", d))
            .transpose()
            .map_err(|e| corrupt("due", &id, e))?;
        let tz = self.tz.parse().map_err(|e| corrupt("tz", &id, e))?;
        let tags = decode_tags(&id, &self.tags)?;
        let recurrence: Option<Recurrence> = self
            .recurrence
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt("recurrence", &id, e))?;
        let reminders: Vec<Reminder> =
            serde_json::from_str(&self.reminders).map_err(|e| corrupt("reminders", &id, e))?;
        Ok(Task {
            title: self.title,
            notes: self.notes,
            status,
            priority,
            due,
            tz,
            tags,
            recurrence,
            reminders,
            series_id: self.series_id,
            occurrence: u32::try_from(self.occurrence)
                .map_err(|e| corrupt("occurrence", &id, e))?,
            created_at: ms(self.created_at)?,
            updated_at: ms(self.updated_at)?,
            completed_at: self.completed_at.map(ms).transpose()?,
            version: self.version,
            id,
        })
    }
}
