//! A task as a row of a list shows it: its due told relative to the user's
//! today and in their zone, whether it is late, its priority and tags (in
//! their colours).

use chrono::{DateTime, NaiveDate, Utc};
use dueflow_domain::due::Due;
use dueflow_domain::priority::Priority;
use dueflow_domain::status::Status;
use dueflow_domain::task::Task;

use crate::dates::{Dates, clock};
use crate::highlight::Piece;
use crate::plain::Plain;

pub struct Row {
    pub id: Plain,
    pub title: String,
    /// The title with the searched words marked, when the list was searched.
    pub marked: Option<Vec<Piece>>,
    /// The due as a person reads it ("Today 09:00", "Fri", "3 Mar 2027").
    pub due: Option<String>,
    /// The due's local day, `YYYY-MM-DD`, for grouping and `<time>`.
    pub day: Option<NaiveDate>,
    pub overdue: bool,
    /// `low` … `urgent`; empty for none.
    pub priority: &'static str,
    pub tags: Vec<RowTag>,
    pub done: bool,
    pub recurring: bool,
}

pub struct RowTag {
    pub name: String,
    /// `#rrggbb`, as its user coloured it.
    pub colour: Option<String>,
}

impl Row {
    /// `colour` tells a tag's colour.
    pub fn new(
        task: &Task,
        dates: Dates,
        now: DateTime<Utc>,
        colour: impl Fn(&str) -> Option<String>,
    ) -> Row {
        let today = now.with_timezone(&dates.tz).date_naive();
        let (due, day) = match &task.due {
            Some(Due::Date(d)) => (Some(dates.near(*d, today)), Some(*d)),
            Some(Due::At(at)) => {
                let local = at.with_timezone(&dates.tz);
                let d = local.date_naive();
                (
                    Some(format!("{} {}", dates.near(d, today), clock(local.time()))),
                    Some(d),
                )
            }
            None => (None, None),
        };
        let done = task.status == Status::Done;
        Row {
            id: Plain::from(task.id.as_str()),
            title: task.title.clone(),
            marked: None,
            due,
            day,
            overdue: !done
                && task
                    .due
                    .as_ref()
                    .is_some_and(|d| d.overdue_from(task.tz) <= now),
            priority: match task.priority {
                Priority::None => "",
                p => p.as_str(),
            },
            tags: task
                .tags
                .iter()
                .map(|t| RowTag {
                    colour: colour(t),
                    name: t.clone(),
                })
                .collect(),
            done,
            recurring: task.recurrence.is_some(),
        }
    }
}
