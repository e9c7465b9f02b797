//! The task editor (`/tasks/{id}`): title, notes, due date and time in the
//! user's zone, priority, tags, the repeat rule with a preview of its next
//! dates (refreshed as the rule is typed), and the task's recent activity.
//! Saving sends the version the form was built from, so a change made
//! elsewhere in the meantime is not overwritten.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveTime, TimeZone as _};
use chrono_tz::Tz;
use dueflow_api::AppState;
use dueflow_api::RequestTrace;
use dueflow_app::{ActivityFilter, AppError, Expected};
use dueflow_domain::due::Due;
use dueflow_domain::priority::Priority;
use dueflow_domain::recurrence::{Anchor, Recurrence};
use dueflow_domain::reminder::{Reminder, words};
use dueflow_domain::task::{Task, TaskPatch};
use dueflow_store::User;
use serde::Deserialize;

use crate::dates::{Dates, clock};
use crate::notes;
use crate::page::{Chrome, PageError, chrome_for, local_path, render, see_other};
use crate::session::{Posted, Viewer};

/// Dates the repeat preview shows.
const PREVIEW: usize = 5;
/// Activity entries the editor shows.
const ACTIVITY: u32 = 20;

/// Repeat rules offered as suggestions (any RFC 5545 RRULE may be typed).
const PRESETS: [(&str, &str); 6] = [
    ("FREQ=DAILY", "Every day"),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Every weekday"),
    ("FREQ=WEEKLY", "Every week"),
    ("FREQ=WEEKLY;INTERVAL=2", "Every two weeks"),
    ("FREQ=MONTHLY", "Every month"),
    ("FREQ=YEARLY", "Every year"),
];

/// The editor's fields, as the form sends them back.
#[derive(Debug, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    due_time: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    rrule: String,
    /// Written reminders, comma-separated ("1 day before, 2026-12-08 09:00");
    /// left out, the task's stay as they are.
    #[serde(default)]
    reminders: Option<String>,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    back: String,
}

struct PriorityOption {
    value: &'static str,
    selected: bool,
}

struct ActivityLine {
    what: String,
    when: String,
}

/// The repeat preview: the next dates, or why there are none.
#[derive(Template)]
#[template(path = "occurrences.html")]
struct Occurrences {
    dates: Vec<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "task.html")]
struct EditorPage {
    chrome: Chrome,
    id: String,
    fields: Fields,
    done: bool,
    priorities: Vec<PriorityOption>,
    presets: [(&'static str, &'static str); 6],
    occurrences: Occurrences,
    /// The saved notes, as HTML that cannot run or load anything.
    notes_html: String,
    activity: Vec<ActivityLine>,
    /// The user's tags, suggested in the tags field.
    tag_names: Vec<String>,
    error: Option<String>,
}

impl Fields {
    /// The form of `task`, its due told in `tz` (the task's own zone, the
    /// one [`Fields::due`] reads the form back in).
    fn of(task: &Task, tz: Tz) -> Fields {
        let (due_date, due_time) = match &task.due {
            Some(Due::Date(d)) => (d.to_string(), String::new()),
            Some(Due::At(at)) => {
                let local = at.with_timezone(&tz);
                (local.date_naive().to_string(), clock(local.time()))
            }
            None => (String::new(), String::new()),
        };
        Fields {
            title: task.title.clone(),
            notes: task.notes.clone(),
            due_date,
            due_time,
            priority: task.priority.as_str().to_owned(),
            tags: task.tags.join(" "),
            rrule: task
                .recurrence
                .as_ref()
                .map(|r| r.rrule.clone())
                .unwrap_or_default(),
            reminders: Some(
                task.reminders
                    .iter()
                    .map(|r| words::written(r, tz))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            version: task.version,
            back: String::new(),
        }
    }

    /// The due the date and time fields give, read in `tz`.
    fn due(&self, tz: Tz) -> Result<Option<Due>, AppError> {
        let date = self.due_date.trim();
        let time = self.due_time.trim();
        if date.is_empty() {
            return if time.is_empty() {
                Ok(None)
            } else {
                Err(AppError::invalid("due_date", "a due time needs a due date"))
            };
        }
        let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
            AppError::invalid("due_date", format!("'{date}' is not a date (YYYY-MM-DD)"))
        })?;
        if time.is_empty() {
            return Ok(Some(Due::parse("due", &day.to_string())?));
        }
        let at = NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| {
            AppError::invalid("due_time", format!("'{time}' is not a time (HH:MM)"))
        })?;
        let local = tz
            .from_local_datetime(&day.and_time(at))
            .earliest()
            .ok_or_else(|| {
                AppError::invalid(
                    "due_time",
                    format!("{date} {time} does not exist in {tz} (the clocks skip it)"),
                )
            })?;
        Ok(Some(Due::parse("due", &local.fixed_offset().to_rfc3339())?))
    }

    /// The repeat rule, keeping the task's anchor.
    fn recurrence(&self, anchor: Anchor) -> Result<Option<Recurrence>, AppError> {
        let rule = self.rrule.trim();
        if rule.is_empty() {
            return Ok(None);
        }
        Ok(Some(Recurrence::parse(rule, anchor)?))
    }
}

/// The next occurrences, read in the task's zone and written in the
/// user's date order.
fn preview(fields: &Fields, task: &Task, user: &User, anchor: Anchor) -> Occurrences {
    let dates = Dates {
        order: user.date_order,
        tz: task.tz,
    };
    let tz = task.tz;
    let found = fields.due(tz).and_then(|due| {
        let rule = fields.recurrence(anchor)?;
        Ok((due, rule))
    });
    match found {
        Ok((_, None)) => Occurrences {
            dates: Vec::new(),
            error: None,
        },
        Ok((None, Some(_))) => Occurrences {
            dates: Vec::new(),
            error: Some("A repeating task needs a due date to repeat from.".into()),
        },
        Ok((Some(due), Some(rule))) => Occurrences {
            dates: rule
                .upcoming(&due, tz, 1, PREVIEW)
                .iter()
                .map(|d| shown(d, dates))
                .collect(),
            error: None,
        },
        Err(e) => Occurrences {
            dates: Vec::new(),
            error: Some(e.detail()),
        },
    }
}

/// A due as the preview lists it.
fn shown(due: &Due, dates: Dates) -> String {
    match due {
        Due::Date(d) => dates.weekday(*d),
        Due::At(at) => {
            let local = at.with_timezone(&dates.tz);
            format!(
                "{} {}",
                dates.weekday(local.date_naive()),
                clock(local.time())
            )
        }
    }
}

async fn editor_page(
    state: &AppState,
    viewer: &Viewer,
    task: &Task,
    fields: Fields,
    error: Option<String>,
) -> Result<EditorPage, PageError> {
    let user = viewer.user();
    let anchor = task
        .recurrence
        .as_ref()
        .map(|r| r.anchor)
        .unwrap_or_default();
    let (events, _) = state
        .app
        .activity(
            user,
            &ActivityFilter {
                task: Some(task.id.clone()),
                limit: Some(ACTIVITY),
                ..ActivityFilter::default()
            },
        )
        .await?;
    let activity = events
        .iter()
        .map(|e| ActivityLine {
            what: e["type"]
                .as_str()
                .and_then(|t| t.strip_prefix("dueflow.task."))
                .and_then(|t| t.split('.').next())
                .unwrap_or("changed")
                .to_owned(),
            when: e["time"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| Dates::of(user).stamp(t.to_utc()))
                .unwrap_or_default(),
        })
        .collect();
    Ok(EditorPage {
        chrome: chrome_for(state, viewer, task.title.clone()).await?,
        id: task.id.clone(),
        done: task.status == dueflow_domain::status::Status::Done,
        priorities: Priority::ALL
            .into_iter()
            .map(|p| PriorityOption {
                value: p.as_str(),
                selected: p.as_str() == fields.priority,
            })
            .collect(),
        presets: PRESETS,
        occurrences: preview(&fields, task, user, anchor),
        notes_html: notes::to_html(&task.notes),
        fields,
        activity,
        tag_names: state
            .app
            .tags(user)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect(),
        error,
    })
}

/// `GET /tasks/{id}`
pub async fn edit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let shown = async {
        let task = state.app.task(viewer.user(), &id).await?;
        let fields = Fields::of(&task, task.tz);
        editor_page(&state, &viewer, &task, fields, None).await
    };
    match shown.await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

/// `GET /tasks/{id}/occurrences?due_date=…&due_time=…&rrule=…`: the
/// preview for the fields as they stand in the form.
pub async fn occurrences(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(fields): Query<Fields>,
) -> Response {
    match state.app.task(viewer.user(), &id).await {
        Ok(task) => {
            let anchor = task
                .recurrence
                .as_ref()
                .map(|r| r.anchor)
                .unwrap_or_default();
            render(
                StatusCode::OK,
                &preview(&fields, &task, viewer.user(), anchor),
            )
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

/// The reminders `text` writes. One written as the form showed a stored
/// reminder is that reminder, exactly (the written form drops seconds'
/// fractions and which of a repeated hour was meant).
fn reminders(text: &str, task: &Task) -> Result<Vec<Reminder>, AppError> {
    let read = words::read_list(text, task.tz).map_err(|e| AppError::invalid("reminders", e))?;
    Ok(read
        .into_iter()
        .map(|r| {
            let written = words::written(&r, task.tz);
            task.reminders
                .iter()
                .find(|stored| words::written(stored, task.tz) == written)
                .cloned()
                .unwrap_or(r)
        })
        .collect())
}

fn patch(fields: &Fields, task: &Task) -> Result<TaskPatch, AppError> {
    let anchor = task
        .recurrence
        .as_ref()
        .map(|r| r.anchor)
        .unwrap_or_default();
    let priority = Priority::ALL
        .into_iter()
        .find(|p| p.as_str() == fields.priority)
        .ok_or_else(|| AppError::invalid("priority", "pick a priority from the list"))?;
    Ok(TaskPatch {
        title: Some(fields.title.clone()),
        notes: Some(fields.notes.clone()),
        priority: Some(priority),
        due: Some(fields.due(task.tz)?.map(|d| d.to_string())),
        tags: Some(
            fields
                .tags
                .split([',', ' '])
                .map(|t| t.trim().trim_start_matches('#'))
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        recurrence: Some(fields.recurrence(anchor)?),
        reminders: fields
            .reminders
            .as_deref()
            .map(|text| reminders(text, task))
            .transpose()?,
        ..TaskPatch::default()
    })
}

/// `POST /tasks/{id}`: save the editor's fields.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RequestTrace(trace): RequestTrace,
    posted: Posted<Fields>,
) -> Response {
    let Posted { viewer, form } = posted;
    let user = viewer.user();
    let task = match state.app.task(user, &id).await {
        Ok(task) => task,
        Err(e) => return PageError::from(e).into_response(),
    };
    let saved = match patch(&form, &task) {
        Ok(p) => {
            state
                .app
                .update_task(user, &id, p, Some(Expected(form.version)), trace)
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => see_other(local_path(&form.back)),
        Err(e) => {
            // The form again, as sent, with why it was not saved.
            let detail = match &e {
                AppError::Stale { .. } => "This task was changed elsewhere since this form was \
                    opened; reload it to see the change, then edit again."
                    .to_owned(),
                e => e.detail(),
            };
            let status = PageError::from(e).status();
            match editor_page(&state, &viewer, &task, form, Some(detail)).await {
                Ok(page) => render(status, &page),
                Err(e) => e.into_response(),
            }
        }
    }
}
