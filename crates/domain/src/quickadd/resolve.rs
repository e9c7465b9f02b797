//! Places the phrases on the calendar: a written date becomes the day it
//! means from "now" in the user's zone, a recurrence becomes its RRULE and
//! its first occurrence.

use chrono::{DateTime, Datelike, Days, Duration, Months, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::grammar::{ByDay, DateSpec, RecurSpec, TimeSpec};
use super::words::{CalendarUnit, DayPart};
use crate::due::Due;
use crate::recurrence::resolve_local;

/// How far ahead a date without its year, or a rule's first occurrence, is looked for.
const SEARCH_DAYS: u64 = 8 * 366;

/// Years a due may fall in: it prints with a four-digit year.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// The day `spec` means when said on `today`, if it falls in [`YEARS`].
pub(super) fn date(spec: DateSpec, today: NaiveDate) -> Option<NaiveDate> {
    unchecked_date(spec, today).filter(|d| YEARS.contains(&d.year()))
}

fn unchecked_date(spec: DateSpec, today: NaiveDate) -> Option<NaiveDate> {
    Some(match spec {
        DateSpec::Today => today,
        DateSpec::Tomorrow => today.succ_opt()?,
        DateSpec::Weekday { day, next_week } => {
            if next_week {
                let monday = today
                    .checked_sub_days(Days::new(today.weekday().num_days_from_monday().into()))?;
                monday.checked_add_days(Days::new(7 + u64::from(day.num_days_from_monday())))?
            } else {
                today.checked_add_days(Days::new(days_until(today.weekday(), day).into()))?
            }
        }
        DateSpec::In { n, unit } => match unit {
            CalendarUnit::Day => today.checked_add_days(Days::new(n.into()))?,
            CalendarUnit::Week => today.checked_add_days(Days::new(u64::from(n) * 7))?,
            CalendarUnit::Month => today.checked_add_months(Months::new(n))?,
            CalendarUnit::Year => today.checked_add_months(Months::new(n.checked_mul(12)?))?,
        },
        DateSpec::DayMonth {
            day,
            month,
            year: Some(y),
        } => NaiveDate::from_ymd_opt(y, month, day)?,
        DateSpec::DayMonth {
            day,
            month,
            year: None,
        } => first_from(today, |d| d.month() == month && d.day() == day)?,
        DateSpec::MonthDay(day) => first_from(today, |d| d.day() == day)?,
        DateSpec::EndOfMonth => first_from(today, |d| d.succ_opt().is_none_or(|n| n.day() == 1))?,
        DateSpec::NextWeek => today.checked_add_days(Days::new(
            7 - u64::from(today.weekday().num_days_from_monday()),
        ))?,
        DateSpec::NextMonth => today.with_day(1)?.checked_add_months(Months::new(1))?,
        DateSpec::NextYear => NaiveDate::from_ymd_opt(today.year().checked_add(1)?, 1, 1)?,
    })
}

/// The local date of `now` in `tz`; `None` at the very ends of chrono's range.
pub(super) fn today(now: DateTime<Utc>, tz: Tz) -> Option<NaiveDate> {
    use chrono::{Offset, TimeZone};
    let offset = tz.offset_from_utc_datetime(&now.naive_utc()).fix();
    now.naive_utc().checked_add_offset(offset).map(|t| t.date())
}

/// Days from `from` to the next `to`, 0 when they are the same weekday.
fn days_until(from: Weekday, to: Weekday) -> u32 {
    (7 + to.num_days_from_monday() - from.num_days_from_monday()) % 7
}

/// The first day on or after `from` that `matches`, within [`SEARCH_DAYS`].
fn first_from(from: NaiveDate, matches: impl Fn(NaiveDate) -> bool) -> Option<NaiveDate> {
    from.iter_days()
        .take(SEARCH_DAYS as usize)
        .find(|d| matches(*d))
}

/// The clock time `time` stands for; `part` is the part of the day said
/// with it ("this evening at 7" is 19:00).
pub(super) fn clock(time: Option<TimeSpec>, part: Option<DayPart>) -> Option<NaiveTime> {
    let (hour, minute) = match (time, part) {
        (Some(TimeSpec::Clock { hour, minute, bare }), part) => {
            let pm = bare && part.is_some_and(DayPart::after_noon);
            (hour + if pm { 12 } else { 0 }, minute)
        }
        (Some(TimeSpec::Part(p)), _) | (None, Some(p)) => (p.hour(), 0),
        (None, None) => return None,
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}

/// `day` at `time` in `tz` (a time a daylight-saving gap skips moves forward by the gap).
pub(super) fn at(day: NaiveDate, time: NaiveTime, tz: Tz) -> Option<DateTime<Tz>> {
    resolve_local(tz, day.and_time(time)).filter(|t| YEARS.contains(&t.year()))
}

/// The due for a time of day said without a day: its next occurrence after `now`.
pub(super) fn next_at(time: NaiveTime, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Tz>> {
    let today = today(now, tz)?;
    [today, today.succ_opt()?]
        .into_iter()
        .filter_map(|d| at(d, time, tz))
        .find(|t| *t > now)
}

pub(super) fn due_at(t: DateTime<Tz>) -> Due {
    Due::At(t.fixed_offset())
}

/// The RRULE text of `spec` with its end, in the canonical form
/// [`crate::recurrence::Recurrence::parse`] prints.
pub(super) fn rrule(spec: &RecurSpec, count: Option<u32>, until: Option<NaiveDate>) -> String {
    use std::fmt::Write;
    let freq = match spec.freq {
        CalendarUnit::Day => "DAILY",
        CalendarUnit::Week => "WEEKLY",
        CalendarUnit::Month => "MONTHLY",
        CalendarUnit::Year => "YEARLY",
    };
    let mut s = format!("FREQ={freq}");
    if spec.interval != 1 {
        let _ = write!(s, ";INTERVAL={}", spec.interval);
    }
    if let Some(m) = spec.by_month {
        let _ = write!(s, ";BYMONTH={m}");
    }
    if let Some(d) = spec.by_month_day {
        let _ = write!(s, ";BYMONTHDAY={d}");
    }
    if !spec.by_day.is_empty() {
        let days: Vec<String> = spec
            .by_day
            .iter()
            .map(|(n, d)| {
                let code = &d.to_string()[..2].to_ascii_uppercase();
                n.map_or_else(|| code.clone(), |n| format!("{n}{code}"))
            })
            .collect();
        let _ = write!(s, ";BYDAY={}", days.join(","));
    }
    if let Some(c) = count {
        let _ = write!(s, ";COUNT={c}");
    }
    if let Some(u) = until {
        let _ = write!(s, ";UNTIL={}", u.format("%Y%m%d"));
    }
    s
}

/// Whether some day has the rule's month and day of the month (`30 feb` has none).
pub(super) fn matches_some_day(spec: &RecurSpec) -> bool {
    match (spec.by_month, spec.by_month_day) {
        (Some(m), Some(d)) => {
            u32::try_from(d).is_ok_and(|d| NaiveDate::from_ymd_opt(2000, m, d).is_some())
        }
        _ => true,
    }
}

/// Whether `d` is a day the rule's BY parts allow (the first period of a
/// series always counts, whatever the interval).
fn allowed(spec: &RecurSpec, d: NaiveDate) -> bool {
    spec.by_month.is_none_or(|m| d.month() == m)
        && spec.by_month_day.is_none_or(|md| {
            let last = last_day(d);
            let want = if md < 0 {
                i64::from(last) + 1 + i64::from(md)
            } else {
                i64::from(md)
            };
            i64::from(d.day()) == want
        })
        && (spec.by_day.is_empty() || spec.by_day.iter().any(|b| on_by_day(*b, d)))
}

fn last_day(d: NaiveDate) -> u32 {
    let mut last = d;
    while let Some(n) = last.succ_opt().filter(|n| n.month() == d.month()) {
        last = n;
    }
    last.day()
}

fn on_by_day((nth, day): ByDay, d: NaiveDate) -> bool {
    if d.weekday() != day {
        return false;
    }
    match nth {
        None => true,
        Some(n) if n > 0 => (d.day() - 1) / 7 + 1 == u32::try_from(n).unwrap_or(0),
        Some(n) => {
            let from_end = (last_day(d) - d.day()) / 7 + 1;
            i64::from(from_end) == -i64::from(n)
        }
    }
}

/// A recurring task's first due: the first allowed day from `start`; with a
/// time of day, the first such instant after `now`.
pub(super) fn first_due(
    spec: &RecurSpec,
    start: NaiveDate,
    time: Option<NaiveTime>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Option<Due> {
    let first = first_from(start, |d| allowed(spec, d))?;
    let Some(time) = time else {
        return Some(Due::Date(first));
    };
    let t = at(first, time, tz)?;
    if t > now {
        return Some(due_at(t));
    }
    let next = first_from(first.succ_opt()?, |d| allowed(spec, d))?;
    at(next, time, tz).map(due_at)
}

/// `now` plus `seconds`, in `tz`, to the whole second.
pub(super) fn after(now: DateTime<Utc>, seconds: u32, tz: Tz) -> Option<Due> {
    let t = now.checked_add_signed(Duration::seconds(seconds.into()))?;
    let t = DateTime::from_timestamp(t.timestamp(), 0)?.with_timezone(&tz);
    YEARS.contains(&t.year()).then(|| due_at(t))
}
