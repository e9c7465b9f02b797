//! The task: its fields, how a new task and a change to one are validated,
//! and the transitions (complete, reopen) including the next occurrence of a
//! recurring task. Every write goes through here, so every door (REST, CLI,
//! assistant) enforces the same rules.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::due::Due;
use crate::ids::{IdKind, new_id};
use crate::priority::Priority;
use crate::recurrence::Recurrence;
use crate::reminder::Reminder;
use crate::status::Status;
use crate::{FieldError, tags, zone};

pub const TITLE_MAX_CHARS: usize = 500;
pub const NOTES_MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    /// Opaque, stable identifier (`tsk_…`).
    pub id: String,
    pub title: String,
    /// Markdown, at most 64 KiB.
    pub notes: String,
    pub status: Status,
    pub priority: Priority,
    /// `YYYY-MM-DD` (all day) or an RFC 3339 date-time with offset.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "2026-12-01"))]
    pub due: Option<Due>,
    /// IANA zone the due date and recurrence are read in.
    #[serde(serialize_with = "ser_tz")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Europe/Berlin"))]
    pub tz: Tz,
    pub tags: Vec<String>,
    pub recurrence: Option<Recurrence>,
    pub reminders: Vec<Reminder>,
    /// Shared by all occurrences of one recurring task.
    pub series_id: Option<String>,
    /// 1-based position of this occurrence in its series.
    #[serde(skip)]
    pub occurrence: u32,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::option::serialize")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Increments on every change; send it back to reject stale writes.
    pub version: i64,
}

fn ser_tz<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

/// A new task as a client sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTask {
    /// 1–500 characters, not only spaces.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 500,
            pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
        )
    )]
    pub title: String,
    /// Markdown, at most 64 KiB.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 65536))]
    pub notes: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = due_schema))]
    pub due: Option<String>,
    /// The zone the due date and recurrence are read in; the user's when left out.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::zone::zone_schema))]
    pub tz: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = tags_schema))]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub reminders: Option<Vec<Reminder>>,
}

/// A partial change: absent fields stay as they are; `null` clears the
/// nullable ones (`due`, `recurrence`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskPatch {
    /// 1–500 characters, not only spaces.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 500,
            pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
        )
    )]
    pub title: Option<String>,
    /// Markdown, at most 64 KiB.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 65536))]
    pub notes: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(schema_with = due_schema))]
    pub due: Option<Option<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::zone::zone_schema))]
    pub tz: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = tags_schema))]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Recurrence>))]
    pub recurrence: Option<Option<Recurrence>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub reminders: Option<Vec<Reminder>>,
    /// Status changes go through `/complete` and `/reopen`; accepted here
    /// only to answer with a clear message.
    #[serde(default)]
    pub status: Option<Status>,
    /// The version this change was based on; a stale one is rejected.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A due as sent: a date, a date-time with offset, or `null` for none.
#[cfg(feature = "openapi")]
fn due_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let string = |format, example| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
            .examples([example])
    };
    OneOfBuilder::new()
        .item(string(KnownFormat::Date, "2026-12-01"))
        .item(string(KnownFormat::DateTime, "2026-12-01T09:00:00+01:00"))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "`YYYY-MM-DD` (all day) or an RFC 3339 date-time with offset; null for none",
        ))
        .build()
        .into()
}

/// A task's tags: letters, digits and `- _ . /`, compared without case.
#[cfg(feature = "openapi")]
fn tags_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let tags = ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!(
                    r"^\s*[\w./-]{{1,{}}}\s*$",
                    crate::tags::MAX_TAG_LEN
                ))),
        )
        .max_items(Some(crate::tags::MAX_TAGS));
    OneOfBuilder::new()
        .item(tags)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// Distinguishes a field sent as `null` (`Some(None)`) from an absent one.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A title as sent counts against the limit, spaces around it too (as the
/// published schema says); it is kept without them.
fn title(raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(FieldError::new(
            "title",
            "a title is required and cannot be blank",
        ));
    }
    let n = raw.chars().count();
    if n > TITLE_MAX_CHARS {
        return Err(FieldError::new(
            "title",
            format!("a title has at most {TITLE_MAX_CHARS} characters, got {n}"),
        ));
    }
    Ok(t.to_owned())
}

fn notes(raw: String) -> Result<String, FieldError> {
    if raw.len() > NOTES_MAX_BYTES {
        return Err(FieldError::new(
            "notes",
            format!(
                "notes are at most {NOTES_MAX_BYTES} bytes, got {}",
                raw.len()
            ),
        ));
    }
    Ok(raw)
}

/// Instants are kept to the millisecond, as stored, so a task reads back
/// exactly as it was returned when written.
fn whole_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

impl Task {
    /// Validate a new task for a user whose zone is `user_tz`.
    pub fn create(input: NewTask, user_tz: Tz, now: DateTime<Utc>) -> Result<Task, FieldError> {
        let now = whole_millis(now);
        let tz = match &input.tz {
            Some(name) => zone::parse_zone("tz", name)?,
            None => user_tz,
        };
        let due = input
            .due
            .as_deref()
            .map(|s| Due::parse("due", s))
            .transpose()?;
        let mut task = Task {
            id: new_id(IdKind::Task),
            title: title(&input.title)?,
            notes: notes(input.notes.unwrap_or_default())?,
            status: Status::Open,
            priority: input.priority.unwrap_or_default(),
            due,
            tz,
            tags: tags::normalise_list(input.tags.as_deref().unwrap_or_default())?,
            recurrence: None,
            reminders: Vec::new(),
            series_id: None,
            occurrence: 1,
            created_at: now,
            updated_at: now,
            completed_at: None,
            version: 1,
        };
        task.set_recurrence(input.recurrence)?;
        task.reminders = Reminder::parse_list("reminders", input.reminders.unwrap_or_default())?;
        task.check_consistency()?;
        Ok(task)
    }

    /// The task with `patch` applied, or `None` when the patch changes nothing.
    pub fn apply(&self, patch: TaskPatch, now: DateTime<Utc>) -> Result<Option<Task>, FieldError> {
        let now = whole_millis(now);
        if let Some(status) = patch.status
            && status != self.status
        {
            return Err(FieldError::new(
                "status",
                "change the status with POST /api/v1/tasks/{id}/complete or /reopen",
            ));
        }
        let mut next = self.clone();
        if let Some(t) = &patch.title {
            next.title = title(t)?;
        }
        if let Some(n) = patch.notes {
            next.notes = notes(n)?;
        }
        if let Some(p) = patch.priority {
            next.priority = p;
        }
        if let Some(name) = &patch.tz {
            next.tz = zone::parse_zone("tz", name)?;
        }
        if let Some(due) = &patch.due {
            next.due = due.as_deref().map(|s| Due::parse("due", s)).transpose()?;
        }
        if let Some(t) = &patch.tags {
            next.tags = tags::normalise_list(t)?;
        }
        if let Some(r) = patch.recurrence {
            next.set_recurrence(r)?;
        }
        if let Some(r) = patch.reminders {
            next.reminders = Reminder::parse_list("reminders", r)?;
        }
        next.check_consistency()?;
        if next == *self {
            return Ok(None);
        }
        next.version += 1;
        next.updated_at = now;
        Ok(Some(next))
    }

    /// Complete an open task; `None` when it is already done (nothing
    /// changes). A recurring task's next occurrence is the recurring role's
    /// business ([`Task::next_occurrence`]).
    pub fn complete(&self, now: DateTime<Utc>) -> Option<Task> {
        let now = whole_millis(now);
        if self.status == Status::Done {
            return None;
        }
        let mut done = self.clone();
        done.status = Status::Done;
        done.completed_at = Some(now);
        done.updated_at = now;
        done.version += 1;
        Some(done)
    }

    /// Reopen a done task; `None` when it is open already.
    pub fn reopen(&self, now: DateTime<Utc>) -> Option<Task> {
        let now = whole_millis(now);
        if self.status == Status::Open {
            return None;
        }
        let mut open = self.clone();
        open.status = Status::Open;
        open.completed_at = None;
        open.updated_at = now;
        open.version += 1;
        Some(open)
    }

    /// The next occurrence of a recurring task completed at `now`, if the
    /// series goes on: same content, reminders shifted, a new due, created
    /// at `now` (so that replaying one completion yields the same task).
    pub fn next_occurrence(&self, now: DateTime<Utc>) -> Option<Task> {
        let rule = self.recurrence.as_ref()?;
        let due = self.due.as_ref()?;
        let next_due = rule.next_due(due, self.tz, self.occurrence, now)?;
        Some(Task {
            id: new_id(IdKind::Task),
            status: Status::Open,
            due: Some(next_due),
            reminders: self
                .reminders
                .iter()
                .map(|r| r.shifted(due, &next_due, self.tz))
                .collect(),
            occurrence: self.occurrence + 1,
            created_at: now,
            updated_at: now,
            completed_at: None,
            version: 1,
            ..self.clone()
        })
    }

    fn set_recurrence(&mut self, r: Option<Recurrence>) -> Result<(), FieldError> {
        self.recurrence = r
            .map(|r| Recurrence::parse(&r.rrule, r.anchor))
            .transpose()?;
        if self.recurrence.is_some() && self.series_id.is_none() {
            self.series_id = Some(new_id(IdKind::Series));
        }
        Ok(())
    }

    fn check_consistency(&self) -> Result<(), FieldError> {
        if self.recurrence.is_some() && self.due.is_none() {
            return Err(FieldError::new(
                "recurrence",
                "a recurring task needs a due date to count from",
            ));
        }
        if self.due.is_none()
            && let Some(i) = self
                .reminders
                .iter()
                .position(|r| matches!(r, Reminder::Before(_)))
        {
            return Err(FieldError::new(
                format!("reminders[{i}]"),
                "a reminder before the due needs the task to have a due",
            ));
        }
        Ok(())
    }

    /// Instant (unix ms) the due starts at, for sorting and filtering.
    pub fn due_at_ms(&self) -> Option<i64> {
        self.due.map(|d| d.starts_at(self.tz).timestamp_millis())
    }

    /// Instant (unix ms) from which the task counts as overdue.
    pub fn overdue_at_ms(&self) -> Option<i64> {
        self.due.map(|d| d.overdue_from(self.tz).timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-24T10:00:00Z".parse().unwrap()
    }

    fn input(title: &str) -> NewTask {
        NewTask {
            title: title.into(),
            ..Default::default()
        }
    }

    #[test]
    fn create_trims_and_defaults() {
        let t = Task::create(input("  Buy milk "), Tz::UTC, now()).unwrap();
        assert_eq!(t.title, "Buy milk");
        assert_eq!(t.status, Status::Open);
        assert_eq!(t.priority, Priority::None);
        assert_eq!(t.version, 1);
        assert!(t.series_id.is_none());
    }

    #[test]
    fn create_rejects_bad_fields_by_name() {
        assert_eq!(
            Task::create(input("   "), Tz::UTC, now())
                .unwrap_err()
                .field,
            "title"
        );
        let long = "x".repeat(501);
        assert_eq!(
            Task::create(input(&long), Tz::UTC, now())
                .unwrap_err()
                .field,
            "title"
        );
        let mut i = input("a");
        i.tz = Some("Mars/Olympus".into());
        assert_eq!(Task::create(i, Tz::UTC, now()).unwrap_err().field, "tz");
        let mut i = input("a");
        i.recurrence = Some(Recurrence {
            rrule: "FREQ=DAILY".into(),
            anchor: Default::default(),
        });
        assert_eq!(
            Task::create(i, Tz::UTC, now()).unwrap_err().field,
            "recurrence"
        );
    }

    #[test]
    fn patch_that_changes_nothing_is_none() {
        let t = Task::create(input("a"), Tz::UTC, now()).unwrap();
        let p = TaskPatch {
            title: Some("a".into()),
            ..Default::default()
        };
        assert!(t.apply(p, now()).unwrap().is_none());
        let p = TaskPatch {
            title: Some("b".into()),
            ..Default::default()
        };
        let t2 = t.apply(p, now()).unwrap().unwrap();
        assert_eq!(t2.version, 2);
    }

    #[test]
    fn a_completed_recurring_task_has_a_next_occurrence_until_the_series_ends() {
        let mut i = input("standup");
        i.due = Some("2026-11-24".into());
        i.recurrence = Some(Recurrence {
            rrule: "FREQ=DAILY;COUNT=2".into(),
            anchor: Default::default(),
        });
        let t = Task::create(i, Tz::UTC, now()).unwrap();
        let done = t.complete(now()).unwrap();
        assert_eq!(done.status, Status::Done);
        let next = done.next_occurrence(now()).unwrap();
        assert_eq!(next.due.unwrap().to_string(), "2026-11-25");
        assert_eq!(
            (next.series_id.as_ref(), next.occurrence),
            (t.series_id.as_ref(), 2)
        );
        assert_eq!(next.status, Status::Open);
        assert!(
            done.complete(now()).is_none(),
            "completing twice changes nothing"
        );
        let after = next.complete(now()).unwrap();
        assert!(
            after.next_occurrence(now()).is_none(),
            "COUNT=2 ends the series"
        );
    }
}
