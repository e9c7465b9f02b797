//! The arguments of each tool, as the model sends them: their JSON Schemas
//! are derived from these types, so what a tool promises and what it reads
//! cannot drift apart.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A task's priority.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PriorityArg {
    None,
    Low,
    Medium,
    High,
    Urgent,
}

/// One reminder: exactly one of `before` and `at`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderArg {
    /// How long before the due, as an ISO 8601 duration: PT15M, PT2H, P1D.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// An exact instant, RFC 3339 with offset: 2026-12-08T09:00:00+01:00.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTask {
    /// The title, 1 to 500 characters.
    pub title: String,
    /// A date YYYY-MM-DD (all day, in the user's zone) or an RFC 3339
    /// date-time with offset. Required with `rrule`.
    pub due: Option<String>,
    pub priority: Option<PriorityArg>,
    /// Tag names without '#', case-insensitive.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Markdown notes.
    pub notes: Option<String>,
    /// An RFC 5545 RRULE value such as FREQ=WEEKLY;BYDAY=MO; the task
    /// then repeats from its due.
    pub rrule: Option<String>,
    #[serde(default)]
    pub reminders: Vec<ReminderArg>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickAdd {
    /// One line as a person types it, read in the user's zone.
    pub text: String,
}

/// Which tasks `list_tasks` shows.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusArg {
    #[default]
    Open,
    Done,
    All,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTasks {
    /// open (the default), done or all.
    #[serde(default)]
    pub status: StatusArg,
    /// Only tasks with this tag.
    pub tag: Option<String>,
    /// Tasks per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchTasks {
    /// dueflow's query language: words search titles and notes; filters
    /// are status:open|done, priority>=high, tag:work, due<=7d, due:today,
    /// due:none, overdue, created>=2026-01-01; a leading '-' negates; OR
    /// and parentheses combine. Example: "dentist tag:health due<=14d".
    pub query: String,
    /// Sort keys, comma-separated, '-' for descending: due, priority,
    /// created, updated, title, urgency, relevance. Default: relevance
    /// for word searches, else due.
    pub sort: Option<String>,
    /// Tasks per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskId {
    /// The task's id, tsk_ followed by 32 hex digits.
    pub id: String,
}

/// The fields `update_task` changes; those left out stay as they are.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    /// The task's id.
    pub id: String,
    /// Refuse the change if the task is no longer at this version (from
    /// get_task), so that nobody's change is overwritten.
    pub version: Option<i64>,
    pub title: Option<String>,
    pub notes: Option<String>,
    /// A date YYYY-MM-DD or an RFC 3339 date-time; null removes the due.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<String>")]
    pub due: Option<Option<String>>,
    pub priority: Option<PriorityArg>,
    /// The whole new set of tags ([] removes them all).
    pub tags: Option<Vec<String>>,
    /// An RRULE value; null stops the repeat.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<String>")]
    pub rrule: Option<Option<String>>,
    /// The whole new set of reminders ([] removes them all).
    pub reminders: Option<Vec<ReminderArg>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetReminder {
    /// The task's id.
    pub id: String,
    /// How long before the due, as an ISO 8601 duration: PT15M, PT2H, P1D.
    pub before: Option<String>,
    /// An exact instant, RFC 3339 with offset.
    pub at: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeReminder {
    /// The task's id.
    pub id: String,
    /// For how long, as an ISO 8601 duration: PT10M, PT1H, P1D.
    #[serde(rename = "for")]
    pub for_: Option<String>,
    /// Until an instant, RFC 3339 with offset.
    pub until: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

/// A field that may be sent as null: absent is `None`, null `Some(None)`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
