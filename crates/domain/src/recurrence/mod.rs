//! Recurring tasks: validates a task's RFC 5545 RRULE and answers "what is
//! the next due?" (on completion) and "what comes next?" (a preview). The
//! `rrule` crate does the date math; this module decides where a series
//! starts and ends. Timed dues recur in the task's IANA zone, so 09:00 stays
//! 09:00 local across daylight-saving changes; all-day dues recur on dates.
//! A series restarts at every occurrence (DTSTART is the current due, or the
//! completion for [`Anchor::Completion`]), so COUNT is checked against the
//! occurrence's position instead of by the rule. A due at a time a
//! daylight-saving gap skips moves forward by the gap, and the series goes
//! on from there.

mod rule;
#[cfg(test)]
mod tests;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, SubsecRound, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::due::{Due, local_midnight};
use rule::{Rule, Until};

pub use rule::{COUNT_MAX, INTERVAL_MAX, RRULE_MAX_CHARS};

/// The most dues [`Recurrence::upcoming`] returns.
pub const UPCOMING_MAX: usize = 100;

/// The JSON name errors about the rule carry.
const FIELD: &str = "recurrence.rrule";

/// Occurrences at or before the point a walk starts from that may be skipped
/// before the first one that counts (DTSTART itself, in practice). Together
/// with the `rrule` crate's own loop limit this bounds every walk.
const SKIP_MAX: usize = 4;

/// Years a series may start and run in: a due prints with a four-digit year.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// What the next due is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Anchor {
    /// From the current due: the schedule stays fixed however late a task is done.
    #[default]
    Due,
    /// From the moment the task is completed ("water the plants 3 days after I last did").
    Completion,
}

/// A recurrence rule attached to a task. Deserializing does not validate;
/// build one with [`Recurrence::parse`] (as `Task` does) to store it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recurrence {
    /// An RFC 5545 RRULE value such as `FREQ=WEEKLY;BYDAY=MO,TH`. FREQ is
    /// DAILY, WEEKLY, MONTHLY or YEARLY; INTERVAL, COUNT, UNTIL, BYDAY,
    /// BYMONTHDAY, BYMONTH, BYYEARDAY, BYWEEKNO, BYSETPOS and WKST are
    /// understood. DTSTART is the task's due.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "rrule", example = "FREQ=WEEKLY;BYDAY=MO,TH")
    )]
    pub rrule: String,
    #[serde(default)]
    pub anchor: Anchor,
}

/// Where a walk over a rule's occurrences starts, and what it must exceed.
#[derive(Clone, Copy)]
enum Walk {
    /// All-day dues: DTSTART `start`, occurrences strictly after `after`.
    Dates { start: NaiveDate, after: NaiveDate },
    /// Timed dues: DTSTART `start` (in the task's zone), occurrences
    /// strictly after the instant `after`.
    Instants {
        start: DateTime<rrule::Tz>,
        after: DateTime<Utc>,
    },
}

impl Recurrence {
    /// Validate and normalise a rule as a user typed it: case-insensitive, an
    /// optional leading `RRULE:` is dropped, and the stored text is canonical
    /// (fixed part order, INTERVAL=1 and WKST=MO left out, sorted lists).
    /// Errors name the field `recurrence.rrule` and say which part is wrong.
    /// At most [`RRULE_MAX_CHARS`] characters.
    pub fn parse(rrule: &str, anchor: Anchor) -> Result<Recurrence, FieldError> {
        let rule = Rule::parse(rrule)
            .and_then(|rule| rule.check_matches_some_date().map(|()| rule))
            .map_err(|m| FieldError::new(FIELD, m))?;
        Ok(Recurrence {
            rrule: rule.to_string(),
            anchor,
        })
    }

    /// The due of the next occurrence after the current one, or `None` when
    /// the series has ended (or the stored rule no longer parses).
    ///
    /// `current` is the due of the occurrence being completed, `index` its
    /// 1-based position in the series (with COUNT=3, index 3 has no next; 0
    /// counts as 1), `completed_at` the completion instant.
    ///
    /// - [`Anchor::Due`]: the first occurrence strictly after `current` of the
    ///   rule started at `current`.
    /// - [`Anchor::Completion`]: the rule started at the completion moment.
    ///   For an all-day due DTSTART is the local date of `completed_at` in
    ///   `tz` and the next due is the first occurrence strictly after that
    ///   date. For a timed due DTSTART is that local date at the due's local
    ///   time of day, and the next due is the first occurrence strictly after
    ///   `completed_at`.
    ///
    /// UNTIL ends the series: the next due is never after it.
    pub fn next_due(
        &self,
        current: &Due,
        tz: Tz,
        index: u32,
        completed_at: DateTime<Utc>,
    ) -> Option<Due> {
        let rule = Rule::parse(&self.rrule).ok()?;
        let walk = match (self.anchor, current) {
            (Anchor::Due, _) => Walk::from_due(current, tz),
            (Anchor::Completion, Due::Date(_)) => {
                let day = completed_at.with_timezone(&tz).date_naive();
                Walk::Dates {
                    start: day,
                    after: day,
                }
            }
            (Anchor::Completion, Due::At(t)) => {
                let time = t.with_timezone(&tz).time().trunc_subsecs(0);
                let day = completed_at.with_timezone(&tz).date_naive();
                Walk::Instants {
                    start: resolve_local(tz, day.and_time(time))?.with_timezone(&rrule::Tz::Tz(tz)),
                    after: completed_at,
                }
            }
        };
        walk.run(&rule, tz, remaining(&rule, index).min(1))
            .into_iter()
            .next()
    }

    /// A preview: the next `limit` dues after `current` (at most
    /// [`UPCOMING_MAX`]), always counted from the due as with
    /// [`Anchor::Due`], honouring COUNT (given the current `index`) and UNTIL.
    /// Empty when the series has ended or the stored rule no longer parses.
    pub fn upcoming(&self, current: &Due, tz: Tz, index: u32, limit: usize) -> Vec<Due> {
        let Ok(rule) = Rule::parse(&self.rrule) else {
            return Vec::new();
        };
        let walk = Walk::from_due(current, tz);
        let limit = limit.min(UPCOMING_MAX).min(remaining(&rule, index));
        walk.run(&rule, tz, limit)
    }
}

/// How many occurrences may still follow the one at `index` under COUNT.
fn remaining(rule: &Rule, index: u32) -> usize {
    match rule.count {
        None => usize::MAX,
        Some(count) => usize::try_from(count.saturating_sub(index.max(1))).unwrap_or(usize::MAX),
    }
}

/// `naive` read as a local time in `tz`: the earlier reading when the hour
/// repeats, and for a time a daylight-saving gap skips, the reading with the
/// offset in force before the gap (as RFC 5545 reads such times), which moves
/// it forward by the length of the gap. `None` only at the ends of chrono's range.
pub(crate) fn resolve_local(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Tz>> {
    if let Some(t) = tz.from_local_datetime(&naive).earliest() {
        return Some(t);
    }
    // Step back out of the gap (at most a day, as when Samoa skipped one)
    // and forward again by the same exact duration.
    (1..=48).find_map(|hours| {
        let back = Duration::hours(hours);
        let before = tz
            .from_local_datetime(&naive.checked_sub_signed(back)?)
            .earliest()?;
        before.checked_add_signed(back)
    })
}

impl Walk {
    /// The walk of [`Anchor::Due`]: the rule started at `current`.
    fn from_due(current: &Due, tz: Tz) -> Walk {
        match current {
            Due::Date(d) => Walk::Dates {
                start: *d,
                after: *d,
            },
            Due::At(t) => Walk::Instants {
                start: t.with_timezone(&rrule::Tz::Tz(tz)).trunc_subsecs(0),
                after: t.with_timezone(&Utc),
            },
        }
    }

    /// Up to `limit` occurrences strictly after the walk's starting point and
    /// not after UNTIL, in order.
    fn run(self, rule: &Rule, tz: Tz, limit: usize) -> Vec<Due> {
        let mut out = Vec::new();
        if limit == 0 {
            return out;
        }
        let dt_start = match self {
            Walk::Dates { start, .. } => start
                .and_time(NaiveTime::MIN)
                .and_utc()
                .with_timezone(&rrule::Tz::UTC),
            Walk::Instants { start, .. } => start,
        };
        if !YEARS.contains(&dt_start.year()) {
            return out;
        }
        let Some(occurrences) = rule.occurrences(dt_start) else {
            return out;
        };
        for occurrence in occurrences.take(limit.saturating_add(SKIP_MAX)) {
            if occurrence.year() > *YEARS.end() {
                break;
            }
            let due = match self {
                Walk::Dates { after, .. } => {
                    let day = occurrence.date_naive();
                    if day <= after {
                        continue;
                    }
                    Due::Date(day)
                }
                Walk::Instants { after, .. } => {
                    if occurrence.with_timezone(&Utc) <= after {
                        continue;
                    }
                    Due::At(occurrence.fixed_offset())
                }
            };
            if rule
                .until
                .is_some_and(|until| is_after_until(&due, until, tz))
            {
                break;
            }
            out.push(due);
            if out.len() == limit {
                break;
            }
        }
        out
    }
}

/// Whether `due` lies beyond UNTIL. A date UNTIL is a day in the task's zone
/// (inclusive); a UTC one an instant, which an all-day due passes once its
/// local midnight does; a floating one a local time in the task's zone.
fn is_after_until(due: &Due, until: Until, tz: Tz) -> bool {
    match (until, due) {
        (Until::Date(u), Due::Date(d)) => *d > u,
        (Until::Date(u), Due::At(t)) => t.with_timezone(&tz).date_naive() > u,
        (Until::Utc(u), Due::Date(d)) => local_midnight(*d, tz) > u,
        (Until::Utc(u), Due::At(t)) => t.with_timezone(&Utc) > u,
        (Until::Floating(u), Due::Date(d)) => d.and_time(NaiveTime::MIN) > u,
        (Until::Floating(u), Due::At(t)) => t.with_timezone(&tz).naive_local() > u,
    }
}
