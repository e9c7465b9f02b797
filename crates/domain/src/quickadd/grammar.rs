//! The phrases quick add recognises, matched word by word: each matcher looks
//! at the words from one position and says how many it used and what they
//! mean, still relative to "now" (resolving happens afterwards).

use chrono::{NaiveDate, Weekday};

use super::DateOrder;
use super::lexer::Word;
use super::words::{
    CalendarUnit, DayPart, amount, calendar_unit, clock_unit, day, month, number, ordinal_day,
    week_ordinal, weekday, year,
};
use crate::priority::Priority;
use crate::tags;

/// A date as written, before it is placed relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DateSpec {
    Today,
    Tomorrow,
    /// `friday`, `this friday` (the coming one) or `next friday` (the following week's).
    Weekday {
        day: Weekday,
        next_week: bool,
    },
    In {
        n: u32,
        unit: CalendarUnit,
    },
    /// `3 march`, `march 3rd`, `3/4`, with or without a year.
    DayMonth {
        day: u32,
        month: u32,
        year: Option<i32>,
    },
    /// `the 15th`.
    MonthDay(u32),
    EndOfMonth,
    NextWeek,
    NextMonth,
    NextYear,
}

/// A time of day as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeSpec {
    /// `17:30`, `9am`, `at 9`; `bare` when no am/pm was given to an hour 1–11.
    Clock {
        hour: u32,
        minute: u32,
        bare: bool,
    },
    Part(DayPart),
}

/// One ordinal weekday of BYDAY (`2TU`), or every such weekday (`TU`).
pub(super) type ByDay = (Option<i8>, Weekday);

/// A recurrence as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RecurSpec {
    pub freq: CalendarUnit,
    pub interval: u32,
    pub by_month: Option<u32>,
    pub by_month_day: Option<i8>,
    pub by_day: Vec<ByDay>,
    pub start: Option<DateSpec>,
    pub completion: bool,
}

/// A place in every month: a day of it (-1 the last) or an ordinal weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MonthPlace {
    Day(i8),
    Weekday(Option<i8>, Weekday),
}

impl MonthPlace {
    fn set(self, spec: &mut RecurSpec) {
        match self {
            MonthPlace::Day(d) => spec.by_month_day = Some(d),
            MonthPlace::Weekday(n, d) => spec.by_day = vec![(n, d)],
        }
    }
}

/// What a reminder phrase asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReminderSpec {
    Before {
        days: u32,
        seconds: u32,
    },
    At {
        date: Option<DateSpec>,
        time: Option<TimeSpec>,
    },
}

/// What one matched phrase means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    Date(DateSpec),
    Time(TimeSpec),
    /// `tonight`, `this evening`: a day and a part of it.
    DateTime(DateSpec, DayPart),
    /// `in 2 hours`: this many seconds from now.
    After(u32),
    Recur(RecurSpec),
    Until(DateSpec),
    Count(u32),
    AfterCompletion,
    Tag(String),
    Priority(Priority),
    Reminder(ReminderSpec),
}

/// The words being matched and the reading of numeric dates.
pub(super) struct Input<'a> {
    pub words: &'a [Word],
    pub order: DateOrder,
}

impl Input<'_> {
    /// The word at `i`, unless it is out of range or quoted.
    fn at(&self, i: usize) -> Option<&str> {
        self.words
            .get(i)
            .filter(|w| !w.quoted)
            .map(|w| w.text.as_str())
    }

    fn is(&self, i: usize, options: &[&str]) -> bool {
        self.at(i).is_some_and(|w| options.contains(&w))
    }

    /// A phrase that must start with `lead`, then `f` (the lead is optional when `optional`).
    fn lead<T>(
        &self,
        i: usize,
        lead: &[&str],
        optional: bool,
        f: impl Fn(usize) -> Option<(usize, T)>,
    ) -> Option<(usize, T)> {
        if self.is(i, lead)
            && let Some((n, t)) = f(i + 1)
        {
            return Some((n + 1, t));
        }
        if optional { f(i) } else { None }
    }

    /// Whether the word before `i` makes it a noun ("the sun", "a good morning").
    fn after_article(&self, i: usize) -> bool {
        i.checked_sub(1).is_some_and(|p| {
            self.is(
                p,
                &[
                    "the", "a", "an", "my", "your", "our", "their", "his", "her", "its", "good",
                ],
            )
        })
    }

    /// The first phrase, in a fixed order, that starts at word `i`, with
    /// the number of words it used (each phrase takes as many as it can).
    pub(super) fn piece(&self, i: usize) -> Option<(usize, Piece)> {
        let w = self.at(i)?;
        if let Some(tag) = w.strip_prefix('#') {
            return tags::normalise("tags", tag)
                .ok()
                .map(|t| (1, Piece::Tag(t)));
        }
        if let Some(p) = w.strip_prefix('!') {
            return priority(p).map(|p| (1, Piece::Priority(p)));
        }
        self.recurrence(i)
            .map(|(n, r)| (n, Piece::Recur(r)))
            .or_else(|| self.series_end(i))
            .or_else(|| self.reminder(i).map(|(n, r)| (n, Piece::Reminder(r))))
            .or_else(|| self.lead(i, &["in"], false, |j| self.after(j)))
            .or_else(|| self.lead(i, &["on", "by", "due"], true, |j| self.date_time(j)))
            .or_else(|| self.lead(i, &["on", "by", "due"], true, |j| self.date(j)))
            .or_else(|| self.time(i).map(|(n, t)| (n, Piece::Time(t))))
    }

    /// `in 2 hours`, `in 30 minutes` (after the `in`).
    fn after(&self, i: usize) -> Option<(usize, Piece)> {
        let n = amount(self.at(i)?)?;
        let unit = clock_unit(self.at(i + 1)?)?;
        Some((2, Piece::After(n.checked_mul(unit)?)))
    }

    /// `tonight`, `this morning`: a day and a part of it as one phrase.
    fn date_time(&self, i: usize) -> Option<(usize, Piece)> {
        match self.at(i)? {
            "tonight" => Some((1, Piece::DateTime(DateSpec::Today, DayPart::Night))),
            "this" => {
                let part = DayPart::parse(self.at(i + 1)?)?;
                Some((2, Piece::DateTime(DateSpec::Today, part)))
            }
            _ => None,
        }
    }

    fn date(&self, i: usize) -> Option<(usize, Piece)> {
        self.date_spec(i).map(|(n, d)| (n, Piece::Date(d)))
    }

    /// A date phrase at `i`.
    pub(super) fn date_spec(&self, i: usize) -> Option<(usize, DateSpec)> {
        let w = self.at(i)?;
        let one = |d| Some((1, d));
        match w {
            "today" | "tod" => return one(DateSpec::Today),
            "tomorrow" | "tmr" | "tmrw" | "tomorow" => return one(DateSpec::Tomorrow),
            "this" => {
                if self.is(i + 1, &["weekend"]) {
                    return Some((2, weekday_spec(Weekday::Sat, false)));
                }
                let day = weekday(self.at(i + 1)?)?;
                return Some((2, weekday_spec(day, false)));
            }
            "next" => {
                let next = self.at(i + 1)?;
                let spec = match next {
                    "week" => DateSpec::NextWeek,
                    "month" => DateSpec::NextMonth,
                    "year" => DateSpec::NextYear,
                    "weekend" => weekday_spec(Weekday::Sat, true),
                    _ => weekday_spec(weekday(next)?, true),
                };
                return Some((2, spec));
            }
            "in" => {
                let n = amount(self.at(i + 1)?)?;
                let unit = calendar_unit(self.at(i + 2)?)?;
                return Some((3, DateSpec::In { n, unit }));
            }
            "end" | "eom" => {
                if w == "eom" {
                    return one(DateSpec::EndOfMonth);
                }
                let of = self.is(i + 1, &["of"]);
                let the = usize::from(self.is(i + 2, &["the"]));
                return (of && self.is(i + 2 + the, &["month"]))
                    .then_some((3 + the, DateSpec::EndOfMonth));
            }
            "the" => {
                let d = ordinal_day(self.at(i + 1)?)?;
                if let Some((n, spec)) = self.day_month(i + 1) {
                    return Some((n + 1, spec));
                }
                return Some((2, DateSpec::MonthDay(d)));
            }
            _ => {}
        }
        if let Some(day) = weekday(w) {
            // Plural weekdays are for "every"; "the sun" is not a Sunday.
            let plural = w.ends_with('s') && !matches!(w, "tues" | "thurs" | "weds");
            let noun = w.len() <= 5 && self.after_article(i);
            return (!plural && !noun).then_some((1, weekday_spec(day, false)));
        }
        self.day_month(i)
            .or_else(|| numeric_date(w, self.order).map(|d| (1, d)))
    }

    /// `3 march`, `3rd of march 2027`, `march 3`, `march 3rd, 2027`.
    fn day_month(&self, i: usize) -> Option<(usize, DateSpec)> {
        let w = self.at(i)?;
        let (used, d, m) = if let Some(d) = day(w) {
            let of = usize::from(self.is(i + 1, &["of"]));
            let m = month(self.at(i + 1 + of)?)?;
            (2 + of, d, m)
        } else {
            let m = month(w)?;
            let d = day(self.at(i + 1)?)?;
            (2, d, m)
        };
        let y = self.at(i + used).and_then(year);
        let used = used + usize::from(y.is_some());
        Some((
            used,
            DateSpec::DayMonth {
                day: d,
                month: m,
                year: y,
            },
        ))
    }

    /// A time of day at `i`, with an optional leading `at`: `at 9`, `9am`,
    /// `9 pm`, `17:30`, `noon`, `midnight`, `morning`, `in the evening`.
    fn time(&self, i: usize) -> Option<(usize, TimeSpec)> {
        if self.is(i, &["at"])
            && let Some((n, t)) = self.clock(i + 1, true)
        {
            return Some((n + 1, t));
        }
        if self.is(i, &["in"]) && self.is(i + 1, &["the"]) {
            let part = DayPart::parse(self.at(i + 2)?)?;
            return Some((3, TimeSpec::Part(part)));
        }
        if self.is(i, &["at"]) && self.is(i + 1, &["night"]) {
            return Some((2, TimeSpec::Part(DayPart::Night)));
        }
        if let Some(part) = self.at(i).and_then(DayPart::parse)
            && part != DayPart::Night
            && !self.after_article(i)
        {
            return Some((1, TimeSpec::Part(part)));
        }
        self.clock(i, false)
    }

    /// A clock time at `i`; a lone hour (`9`) only when `after_at`.
    fn clock(&self, i: usize, after_at: bool) -> Option<(usize, TimeSpec)> {
        let w = self.at(i)?;
        match w {
            "noon" | "midday" => return Some((1, clock(12, 0, false))),
            "midnight" => return Some((1, clock(0, 0, false))),
            _ => {}
        }
        let (body, mut meridiem) = match w.strip_suffix("am").or_else(|| w.strip_suffix("a")) {
            Some(b) => (b, Some(false)),
            None => match w.strip_suffix("pm").or_else(|| w.strip_suffix("p")) {
                Some(b) => (b, Some(true)),
                None => (w, None),
            },
        };
        let (h, m) = match body.split_once(':') {
            Some((h, m)) if m.len() == 2 => (h, m),
            Some(_) => return None,
            None => (body, "00"),
        };
        if h.is_empty() || h.len() > 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (mut hour, minute): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        let mut used = 1;
        if meridiem.is_none() {
            match self.at(i + 1) {
                Some("am" | "a.m") => meridiem = Some(false),
                Some("pm" | "p.m") => meridiem = Some(true),
                _ => {}
            }
            used += usize::from(meridiem.is_some());
        }
        if meridiem.is_none() && !after_at && !body.contains(':') {
            return None;
        }
        if minute > 59 {
            return None;
        }
        let bare = match meridiem {
            Some(pm) => {
                if !(1..=12).contains(&hour) {
                    return None;
                }
                hour = hour % 12 + if pm { 12 } else { 0 };
                false
            }
            None => {
                if hour > 23 {
                    return None;
                }
                (1..=11).contains(&hour)
            }
        };
        Some((used, clock(hour, minute, bare)))
    }

    /// `every …`, `daily`, `weekly`, `monthly`, `yearly` with what follows.
    fn recurrence(&self, i: usize) -> Option<(usize, RecurSpec)> {
        let w = self.at(i)?;
        let simple = |freq| RecurSpec {
            freq,
            interval: 1,
            by_month: None,
            by_month_day: None,
            by_day: Vec::new(),
            start: None,
            completion: false,
        };
        let (mut used, mut spec) = match w {
            "daily" => (1, simple(CalendarUnit::Day)),
            "weekly" => (1, simple(CalendarUnit::Week)),
            "monthly" => (1, simple(CalendarUnit::Month)),
            "yearly" | "annually" => (1, simple(CalendarUnit::Year)),
            "every" | "every!" | "each" => {
                let (n, mut spec) = self.every_body(i + 1, simple)?;
                spec.completion = w == "every!";
                (n + 1, spec)
            }
            _ => return None,
        };
        // "every week on monday", "every month on the 15th", "every year on 3 march".
        if self.is(i + used, &["on"]) {
            let j = i + used + 1;
            let extra = match spec.freq {
                CalendarUnit::Week if spec.by_day.is_empty() => {
                    self.weekday_list(j).map(|(n, days)| {
                        spec.by_day = days;
                        n
                    })
                }
                CalendarUnit::Month if spec.by_day.is_empty() && spec.by_month_day.is_none() => {
                    self.month_position(j).map(|(n, place)| {
                        place.set(&mut spec);
                        n
                    })
                }
                CalendarUnit::Year if spec.by_month.is_none() => {
                    let the = usize::from(self.is(j, &["the"]));
                    self.day_month(j + the).and_then(|(n, d)| match d {
                        DateSpec::DayMonth {
                            day,
                            month,
                            year: None,
                        } => {
                            spec.by_month = Some(month);
                            spec.by_month_day = i8::try_from(day).ok();
                            Some(n + the)
                        }
                        _ => None,
                    })
                }
                _ => None,
            };
            if let Some(n) = extra {
                used += n + 1;
            }
        }
        // "starting jan 5", "from monday", "starting on the 3rd".
        if self.is(i + used, &["starting", "from", "beginning", "start"]) {
            let on = usize::from(self.is(i + used + 1, &["on"]));
            if let Some((n, d)) = self.date_spec(i + used + 1 + on) {
                spec.start = Some(d);
                used += n + 1 + on;
            }
        }
        Some((used, spec))
    }

    /// What follows `every`.
    fn every_body(
        &self,
        i: usize,
        simple: impl Fn(CalendarUnit) -> RecurSpec,
    ) -> Option<(usize, RecurSpec)> {
        let w = self.at(i)?;
        match w {
            "weekday" | "weekdays" | "workday" | "workdays" => {
                let mut s = simple(CalendarUnit::Week);
                s.by_day = [
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                    Weekday::Fri,
                ]
                .map(|d| (None, d))
                .to_vec();
                return Some((1, s));
            }
            "weekend" | "weekends" => {
                let mut s = simple(CalendarUnit::Week);
                s.by_day = vec![(None, Weekday::Sat), (None, Weekday::Sun)];
                return Some((1, s));
            }
            "other" => {
                if self.is(i + 1, &["other"]) {
                    return None;
                }
                let (n, mut s) = self.every_body(i + 1, simple)?;
                if s.interval != 1 {
                    return None;
                }
                s.interval = 2;
                return Some((n + 1, s));
            }
            _ => {}
        }
        if let Some(unit) = calendar_unit(w).filter(|_| !w.ends_with('s')) {
            return Some((1, simple(unit)));
        }
        if let Some(n) = number(w)
            && let Some(unit) = self.at(i + 1).and_then(calendar_unit)
        {
            let mut s = simple(unit);
            s.interval = n;
            return (1..=1000).contains(&n).then_some((2, s));
        }
        if let Some((n, days)) = self.weekday_list(i) {
            let mut s = simple(CalendarUnit::Week);
            s.by_day = days;
            return Some((n, s));
        }
        if let Some((n, place)) = self.month_position(i) {
            let mut s = simple(CalendarUnit::Month);
            place.set(&mut s);
            // "every first monday of the month".
            let of = self.is(i + n, &["of"])
                && self.is(i + n + 1, &["the", "every", "each"])
                && self.is(i + n + 2, &["month"]);
            return Some((n + if of { 3 } else { 0 }, s));
        }
        if let Some((
            n,
            DateSpec::DayMonth {
                day,
                month,
                year: None,
            },
        )) = self.day_month(i)
        {
            let mut s = simple(CalendarUnit::Year);
            s.by_month = Some(month);
            s.by_month_day = i8::try_from(day).ok();
            return Some((n, s));
        }
        None
    }

    /// `mon and thu`, `tuesday, thursday`, `mon, wed & fri`.
    fn weekday_list(&self, i: usize) -> Option<(usize, Vec<ByDay>)> {
        let mut days = vec![(None, weekday(self.at(i)?)?)];
        let mut used = 1;
        // A week has seven days: longer lists are not one phrase.
        while used < 14 {
            let and = usize::from(self.is(i + used, &["and", "&", ","]));
            match self.at(i + used + and).and_then(weekday) {
                Some(d) => {
                    if !days.contains(&(None, d)) {
                        days.push((None, d));
                    }
                    used += and + 1;
                }
                None => break,
            }
        }
        days.sort_by_key(|(_, d)| d.num_days_from_monday());
        Some((used, days))
    }

    /// A place in the month: `2nd tuesday`, `last friday`, `15th`,
    /// `the 15th`, `last day` (with an optional leading `the`).
    fn month_position(&self, i: usize) -> Option<(usize, MonthPlace)> {
        let the = usize::from(self.is(i, &["the"]));
        let j = i + the;
        let w = self.at(j)?;
        if let Some(n) = week_ordinal(w) {
            if let Some(d) = self.at(j + 1).and_then(weekday) {
                return Some((the + 2, MonthPlace::Weekday(Some(n), d)));
            }
            if n == -1 && self.is(j + 1, &["day"]) {
                return Some((the + 2, MonthPlace::Day(-1)));
            }
        }
        let d = ordinal_day(w)?;
        if self.is(j + 1, &["of"]) || self.at(j + 1).and_then(month).is_some() {
            return None;
        }
        Some((the + 1, MonthPlace::Day(i8::try_from(d).ok()?)))
    }

    /// `until 1 june`, `for 10 times`, `after completion`.
    fn series_end(&self, i: usize) -> Option<(usize, Piece)> {
        match self.at(i)? {
            "until" | "till" | "through" => {
                let (n, d) = self.date_spec(i + 1)?;
                Some((n + 1, Piece::Until(d)))
            }
            "for" => {
                let n = number(self.at(i + 1)?)?;
                let times = self.is(i + 2, &["times", "occurrences", "x"]);
                (times && (1..=100_000).contains(&n)).then_some((3, Piece::Count(n)))
            }
            "after" if self.is(i + 1, &["completion", "completing", "done", "finishing"]) => {
                Some((2, Piece::AfterCompletion))
            }
            w => {
                let n = number(w)?;
                (self.is(i + 1, &["times", "occurrences", "x"]) && (1..=100_000).contains(&n))
                    .then_some((2, Piece::Count(n)))
            }
        }
    }

    /// `remind me 1 day before`, `remind me at 8am`, `remind me tomorrow at 9`.
    fn reminder(&self, i: usize) -> Option<(usize, ReminderSpec)> {
        if !(self.is(i, &["remind"]) && self.is(i + 1, &["me"])) {
            return None;
        }
        let j = i + 2;
        if let Some(spec) = self.offset_before(j) {
            return Some((5, spec));
        }
        let date = self.lead(j, &["on"], true, |k| self.date_spec(k));
        let k = j + date.map_or(0, |(n, _)| n);
        let time = self.time(k);
        let k = k + time.map_or(0, |(n, _)| n);
        let (date, k) = match date {
            Some(_) => (date, k),
            None => match self.lead(k, &["on"], true, |k| self.date_spec(k)) {
                Some((n, d)) => (Some((n, d)), k + n),
                None => (None, k),
            },
        };
        if date.is_none() && time.is_none() {
            return None;
        }
        Some((
            k - i,
            ReminderSpec::At {
                date: date.map(|(_, d)| d),
                time: time.map(|(_, t)| t),
            },
        ))
    }
}

impl Input<'_> {
    /// `1 day before`, `an hour before`, `30 min earlier`.
    fn offset_before(&self, j: usize) -> Option<ReminderSpec> {
        let n = amount(self.at(j)?)?;
        let unit = self.at(j + 1)?;
        if !self.is(j + 2, &["before", "earlier", "ahead"]) {
            return None;
        }
        Some(match (calendar_unit(unit), clock_unit(unit)) {
            (Some(CalendarUnit::Day), _) => ReminderSpec::Before {
                days: n,
                seconds: 0,
            },
            (Some(CalendarUnit::Week), _) => ReminderSpec::Before {
                days: n.checked_mul(7)?,
                seconds: 0,
            },
            (None, Some(s)) => ReminderSpec::Before {
                days: 0,
                seconds: n.checked_mul(s)?,
            },
            _ => return None,
        })
    }
}

fn clock(hour: u32, minute: u32, bare: bool) -> TimeSpec {
    TimeSpec::Clock { hour, minute, bare }
}

fn weekday_spec(day: Weekday, next_week: bool) -> DateSpec {
    DateSpec::Weekday { day, next_week }
}

fn priority(p: &str) -> Option<Priority> {
    Some(match p {
        "1" | "urgent" => Priority::Urgent,
        "2" | "high" => Priority::High,
        "3" | "medium" | "med" => Priority::Medium,
        "4" | "low" => Priority::Low,
        _ => return None,
    })
}

/// `2026-03-04` (ISO), or `3/4`, `3/4/2026`, `3.4.2026`, `2026/3/4` read in `order`.
fn numeric_date(w: &str, order: DateOrder) -> Option<DateSpec> {
    if let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
        use chrono::Datelike;
        return Some(DateSpec::DayMonth {
            day: d.day(),
            month: d.month(),
            year: Some(d.year()),
        });
    }
    let sep = if w.contains('/') { '/' } else { '.' };
    let mut parts = [0u32; 3];
    let mut lens = [0usize; 3];
    let mut n = 0;
    for p in w.split(sep) {
        if n == 3 || p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        parts[n] = p.parse().ok()?;
        lens[n] = p.len();
        n += 1;
    }
    if n < 2 || (sep == '.' && n < 3) {
        return None;
    }
    let (day, month, year) = if n == 3 && lens[0] == 4 {
        (parts[2], parts[1], Some(parts[0]))
    } else {
        if lens[0] > 2 || lens[1] > 2 {
            return None;
        }
        let year = (n == 3).then_some(parts[2]);
        match order {
            DateOrder::Dmy => (parts[0], parts[1], year),
            DateOrder::Mdy | DateOrder::Ymd => (parts[1], parts[0], year),
        }
    };
    if n == 3 && lens[0] != 4 && !matches!(lens[2], 2 | 4) {
        return None;
    }
    let year = match year {
        Some(y) if y < 100 => Some(2000 + y as i32),
        Some(y) if (1000..=9999).contains(&y) => Some(y as i32),
        Some(_) => return None,
        None => None,
    };
    NaiveDate::from_ymd_opt(year.unwrap_or(2000), month, day)?;
    Some(DateSpec::DayMonth { day, month, year })
}
