//! A task as a row of a list shows it: its due told relative to the user's
//! today and in their zone, whether it is late, its priority and tags (in
//! their colours).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use dueflow_domain::due::Due;
use dueflow_domain::priority::Priority;
use dueflow_domain::status::Status;
use dueflow_domain::task::Task;

use crate::highlight::Piece;

pub struct Row {
    pub id: String,
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
        tz: Tz,
        now: DateTime<Utc>,
        colour: impl Fn(&str) -> Option<String>,
    ) -> Row {
        let today = now.with_timezone(&tz).date_naive();
        let (due, day) = match &task.due {
            Some(Due::Date(d)) => (Some(day_label(*d, today)), Some(*d)),
            Some(Due::At(at)) => {
                let local = at.with_timezone(&tz);
                let d = local.date_naive();
                (
                    Some(format!("{} {}", day_label(d, today), local.format("%H:%M"))),
                    Some(d),
                )
            }
            None => (None, None),
        };
        let done = task.status == Status::Done;
        Row {
            id: task.id.clone(),
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

/// A day as a person reads it next to `today`.
pub fn day_label(day: NaiveDate, today: NaiveDate) -> String {
    match (day - today).num_days() {
        0 => "Today".into(),
        1 => "Tomorrow".into(),
        -1 => "Yesterday".into(),
        2..=6 => day.format("%a").to_string(),
        _ if day.year() == today.year() => day.format("%-d %b").to_string(),
        _ => day.format("%-d %b %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_relative_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(d(12, 7), today), "Tomorrow");
        assert_eq!(day_label(d(12, 5), today), "Yesterday");
        assert_eq!(day_label(d(12, 11), today), "Fri");
        assert_eq!(day_label(d(12, 25), today), "25 Dec");
        assert_eq!(
            day_label(NaiveDate::from_ymd_opt(2027, 3, 3).unwrap(), today),
            "3 Mar 2027"
        );
    }
}
