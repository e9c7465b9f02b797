//! The calendar (`/calendar`): a month, or a week, of open tasks on the
//! days they are due, in the user's zone. A task is dragged to another day
//! to move it there (its time of day stays); without dragging, its editor
//! changes the day. The month or week is in the address.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Days, Months, NaiveDate, Utc, Weekday};
use dueflow_api::AppState;
use dueflow_app::{AppError, TaskListing};
use dueflow_domain::due::Due;
use dueflow_store::listing::MAX_LIMIT;
use serde::Deserialize;

use crate::dates::{Dates, clock};
use crate::page::{Chrome, PageError, chrome_for, render};
use crate::session::Viewer;

#[derive(Debug, Default, Deserialize)]
pub struct CalendarParams {
    /// `YYYY-MM`: that month (the default is this one).
    #[serde(default)]
    month: Option<String>,
    /// `YYYY-MM-DD`: the week (Monday to Sunday) holding that day.
    #[serde(default)]
    week: Option<String>,
}

struct Chip {
    id: String,
    title: String,
    /// "09:00" for a task due at a time.
    time: Option<String>,
    late: bool,
}

struct Day {
    iso: String,
    /// "7", or "Mon 7" in a week.
    label: String,
    today: bool,
    /// A day of the month before or after, shown to fill the first and last week.
    outside: bool,
    chips: Vec<Chip>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    heading: String,
    weeks: Vec<Vec<Day>>,
    prev: String,
    next: String,
    /// The same period's other mode (week ⇄ month).
    other: String,
    /// This week or month.
    today_href: String,
    week_mode: bool,
    /// This page's address, where a move returns to.
    here: String,
    /// More tasks fell in the period than the page shows.
    cut: bool,
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day.week(Weekday::Mon).first_day()
}

/// A day the calendar can show with the periods around it: inside the
/// years a due may fall in, a week or a month away from their ends.
fn shown(day: NaiveDate) -> Option<NaiveDate> {
    let years = dueflow_domain::due::YEARS;
    ((*years.start() + 1)..=(*years.end() - 1))
        .contains(&day.year())
        .then_some(day)
}

/// `GET /calendar`
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<CalendarParams>,
) -> Response {
    match calendar_page(&state, &viewer, &params).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

async fn calendar_page(
    state: &AppState,
    viewer: &Viewer,
    params: &CalendarParams,
) -> Result<CalendarPage, PageError> {
    let user = viewer.user();
    let now = Utc::now();
    let today = now.with_timezone(&user.tz).date_naive();
    let bad =
        |what: &str| AppError::invalid(what, format!("{what} is not a date this calendar reads"));
    let (first, last, heading, prev, next, other, week_mode, here);
    if let Some(w) = &params.week {
        let day = NaiveDate::parse_from_str(w, "%Y-%m-%d")
            .ok()
            .and_then(shown)
            .ok_or_else(|| bad("week"))?;
        first = monday_of(day);
        last = first + Days::new(6);
        heading = format!("Week of {}", Dates::of(user).day(first));
        prev = format!("/calendar?week={}", first - Days::new(7));
        next = format!("/calendar?week={}", first + Days::new(7));
        other = format!("/calendar?month={}", first.format("%Y-%m"));
        here = format!("/calendar?week={first}");
        week_mode = true;
    } else {
        let start = match &params.month {
            Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                .ok()
                .and_then(shown)
                .ok_or_else(|| bad("month"))?,
            None => today.with_day(1).unwrap_or(today),
        };
        first = monday_of(start);
        let end = start
            .checked_add_months(Months::new(1))
            .ok_or_else(|| bad("month"))?
            - Days::new(1);
        last = monday_of(end) + Days::new(6);
        heading = start.format("%B %Y").to_string();
        let month =
            |d: Option<NaiveDate>| d.map(|d| format!("/calendar?month={}", d.format("%Y-%m")));
        prev = month(start.checked_sub_months(Months::new(1))).ok_or_else(|| bad("month"))?;
        next = month(start.checked_add_months(Months::new(1))).ok_or_else(|| bad("month"))?;
        let in_month = if (start..=end).contains(&today) {
            today
        } else {
            start
        };
        other = format!("/calendar?week={in_month}");
        here = format!("/calendar?month={}", start.format("%Y-%m"));
        week_mode = false;
    }
    let listing = TaskListing {
        q: format!("status:open due>={first} due<={last}"),
        sort: "due".into(),
        limit: Some(MAX_LIMIT),
        cursor: None,
    };
    let page = state.app.list_tasks(user, &listing).await?;
    // In a month, the days of the months around it are shown greyed; its
    // second week lies wholly in it.
    let month = (!week_mode).then(|| (first + Days::new(7)).month());
    let mut weeks = Vec::new();
    let mut day = first;
    while day <= last {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            week.push(Day {
                iso: day.to_string(),
                label: if week_mode {
                    day.format("%a %-d").to_string()
                } else {
                    day.day().to_string()
                },
                today: day == today,
                outside: month.is_some_and(|m| day.month() != m),
                chips: Vec::new(),
            });
            day = day + Days::new(1);
        }
        weeks.push(week);
    }
    for task in &page.items {
        let (local_day, time) = match &task.due {
            Some(Due::Date(d)) => (*d, None),
            Some(Due::At(at)) => {
                let local = at.with_timezone(&user.tz);
                (local.date_naive(), Some(clock(local.time())))
            }
            None => continue,
        };
        let Ok(offset) = usize::try_from((local_day - first).num_days()) else {
            continue;
        };
        if let Some(cell) = weeks
            .get_mut(offset / 7)
            .and_then(|w| w.get_mut(offset % 7))
        {
            cell.chips.push(Chip {
                id: task.id.clone(),
                title: task.title.clone(),
                time,
                late: task.due.is_some_and(|d| d.overdue_from(task.tz) <= now),
            });
        }
    }
    Ok(CalendarPage {
        chrome: chrome_for(state, viewer, heading.clone()).await?,
        heading,
        weeks,
        prev,
        next,
        other,
        today_href: if week_mode {
            format!("/calendar?week={today}")
        } else {
            "/calendar".to_owned()
        },
        week_mode,
        here,
        cut: page.next_cursor.is_some(),
    })
}
