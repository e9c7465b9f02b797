//! Task operations: create, read, list with the query language, change with
//! the version check, complete (the recurring role then creates a
//! recurring task's next occurrence), reopen, move to another day, delete,
//! and preview upcoming occurrences. Every change is written with its event
//! in one transaction.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use dueflow_domain::due::Due;
use dueflow_domain::event::Event;
use dueflow_domain::query;
use dueflow_domain::sort::parse_sort;
use dueflow_domain::task::{NewTask, Task, TaskPatch};
use dueflow_domain::trace::TraceParent;
use dueflow_store::listing::{Cursor, MAX_LIMIT};
use dueflow_store::{ListQuery, Page, User};

use crate::{App, AppError};

/// How often a write is tried when a concurrent change moved the version.
const WRITE_ATTEMPTS: usize = 8;
/// Tasks in a page when the caller does not say.
const DEFAULT_LIMIT: u32 = 50;
/// Upcoming occurrences a preview shows when the caller does not say, and
/// at most.
const DEFAULT_OCCURRENCES: usize = 10;
const MAX_OCCURRENCES: usize = 100;

/// The version a caller based its change on: a change to any other
/// version is refused with [`AppError::Stale`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected(pub i64);

/// A task list as a caller asks for it, before it is parsed.
#[derive(Debug, Clone, Default)]
pub struct TaskListing {
    /// The query language, e.g. `tag:home due<=7d`.
    pub q: String,
    /// Sort keys, comma-separated, `-` for descending.
    pub sort: String,
    /// Page size (1–[`MAX_LIMIT`]; default 50).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

fn too_busy() -> AppError {
    AppError::Conflict("the task is changing too fast; try again".into())
}

impl App {
    pub async fn create_task(
        &self,
        user: &User,
        input: NewTask,
        trace: TraceParent,
    ) -> Result<Task, AppError> {
        let task = Task::create(input, user.tz, Utc::now())?;
        let event = Event::task_created(&user.id, &task).in_trace(trace);
        self.store.insert_task(&user.id, &task, &[event]).await?;
        Ok(task)
    }

    pub async fn task(&self, user: &User, id: &str) -> Result<Task, AppError> {
        self.store
            .task(&user.id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn list_tasks(&self, user: &User, listing: &TaskListing) -> Result<Page, AppError> {
        let filter = query::parse(&listing.q)?;
        let sort = parse_sort(&listing.sort)?;
        let limit = listing.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(AppError::invalid(
                "limit",
                format!("limit is between 1 and {MAX_LIMIT}"),
            ));
        }
        // An empty cursor asks for the first page.
        let cursor = listing
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(Cursor::decode)
            .transpose()
            .map_err(|_| AppError::invalid("cursor", "cursor is not one this server issued"))?;
        let query = ListQuery {
            filter,
            sort,
            limit,
            cursor,
            now: Utc::now(),
            tz: user.tz,
        };
        Ok(self.store.list_tasks(&user.id, &query).await?)
    }

    /// Apply `patch`; a patch that changes nothing returns the task as is.
    pub async fn update_task(
        &self,
        user: &User,
        id: &str,
        patch: TaskPatch,
        expected: Option<Expected>,
        trace: TraceParent,
    ) -> Result<Task, AppError> {
        self.patch_task(user, id, expected, trace, |_| Ok(Some(patch.clone())))
            .await
    }

    /// Change a task by a patch worked out from the task as it is when
    /// written (`None`: leave it as it is), announced by `task.updated`.
    pub(crate) async fn patch_task(
        &self,
        user: &User,
        id: &str,
        expected: Option<Expected>,
        trace: TraceParent,
        patch: impl Fn(&Task) -> Result<Option<TaskPatch>, AppError>,
    ) -> Result<Task, AppError> {
        self.change_task(user, id, expected, |task| {
            let Some(patch) = patch(task)? else {
                return Ok(None);
            };
            Ok(task.apply(patch, Utc::now())?.map(|next| {
                let event = Event::task_updated(&user.id, task, &next).in_trace(trace);
                (next, event)
            }))
        })
        .await
    }

    /// Complete a task; completing a done task changes nothing.
    pub async fn complete_task(
        &self,
        user: &User,
        id: &str,
        trace: TraceParent,
    ) -> Result<Task, AppError> {
        self.set_status(user, id, trace, Task::complete, Event::task_completed)
            .await
    }

    /// Reopen a task; reopening an open task changes nothing.
    pub async fn reopen_task(
        &self,
        user: &User,
        id: &str,
        trace: TraceParent,
    ) -> Result<Task, AppError> {
        self.set_status(user, id, trace, Task::reopen, Event::task_reopened)
            .await
    }

    /// Move a task to the status `to` gives (none: it is there already),
    /// announced by `event`.
    async fn set_status(
        &self,
        user: &User,
        id: &str,
        trace: TraceParent,
        to: fn(&Task, DateTime<Utc>) -> Option<Task>,
        event: fn(&str, &Task) -> Event,
    ) -> Result<Task, AppError> {
        self.change_task(user, id, None, |task| {
            Ok(to(task, Utc::now()).map(|next| {
                let e = event(&user.id, &next).in_trace(trace);
                (next, e)
            }))
        })
        .await
    }

    /// Move a task to `day` of the user's calendar, keeping its time of day
    /// there (a task due on a date stays due on a date): the calendar's
    /// drag and "→ Today".
    pub async fn reschedule_task(
        &self,
        user: &User,
        id: &str,
        day: NaiveDate,
        trace: TraceParent,
    ) -> Result<Task, AppError> {
        self.patch_task(user, id, None, trace, |task| {
            let due = match task.due {
                Some(Due::At(at)) => {
                    let time = at.with_timezone(&user.tz).time();
                    let local = user
                        .tz
                        .from_local_datetime(&day.and_time(time))
                        .earliest()
                        .ok_or_else(|| {
                            AppError::invalid("day", format!("{day} {time} does not exist there"))
                        })?;
                    Due::At(local.fixed_offset())
                }
                _ => Due::Date(day),
            };
            Ok(Some(TaskPatch {
                due: Some(Some(due.to_string())),
                ..TaskPatch::default()
            }))
        })
        .await
    }

    pub async fn delete_task(
        &self,
        user: &User,
        id: &str,
        trace: TraceParent,
    ) -> Result<(), AppError> {
        let event = Event::task_deleted(&user.id, id, Utc::now()).in_trace(trace);
        if self.store.delete_task(&user.id, id, &event).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The next `limit` due values (default 10, at most 100) of a recurring
    /// task after its current one (none for a task that does not recur).
    pub async fn occurrences(
        &self,
        user: &User,
        id: &str,
        limit: Option<usize>,
    ) -> Result<Vec<String>, AppError> {
        let limit = limit.unwrap_or(DEFAULT_OCCURRENCES);
        if !(1..=MAX_OCCURRENCES).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("limit is between 1 and {MAX_OCCURRENCES}"),
            ));
        }
        let task = self.task(user, id).await?;
        Ok(match (&task.recurrence, &task.due) {
            (Some(rule), Some(due)) => rule
                .upcoming(due, task.tz, task.occurrence, limit)
                .iter()
                .map(ToString::to_string)
                .collect(),
            _ => Vec::new(),
        })
    }

    /// Read the task, let `change` decide its next state and event (`None`:
    /// nothing to change), and write it if no one else did meanwhile;
    /// otherwise read again, unless the caller expected a version.
    pub(crate) async fn change_task(
        &self,
        user: &User,
        id: &str,
        expected: Option<Expected>,
        change: impl Fn(&Task) -> Result<Option<(Task, Event)>, AppError>,
    ) -> Result<Task, AppError> {
        for _ in 0..WRITE_ATTEMPTS {
            let task = self.task(user, id).await?;
            // A change that is invalid in itself is refused as such,
            // whatever version it names.
            let change = change(&task)?;
            if let Some(Expected(v)) = expected
                && v != task.version
            {
                return Err(AppError::Stale {
                    current: task.version,
                });
            }
            let Some((next, event)) = change else {
                return Ok(task);
            };
            if self
                .store
                .replace_task(&user.id, &next, task.version, &[event])
                .await?
            {
                return Ok(next);
            }
            if expected.is_some() {
                return Err(AppError::Stale {
                    current: task.version + 1,
                });
            }
        }
        Err(too_busy())
    }
}
