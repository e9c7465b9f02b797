//! The vocabulary of quick add: weekday and month names, numbers written as
//! digits or words, ordinals and units, each read from one lower-case word.

use chrono::Weekday;

pub(super) fn weekday(w: &str) -> Option<Weekday> {
    let w = w.strip_suffix('s').filter(|s| s.len() > 3).unwrap_or(w);
    Some(match w {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "weds" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

pub(super) fn month(w: &str) -> Option<u32> {
    Some(match w {
        "jan" | "january" => 1,
        "feb" | "february" => 2,
        "mar" | "march" => 3,
        "apr" | "april" => 4,
        "may" => 5,
        "jun" | "june" => 6,
        "jul" | "july" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" => 10,
        "nov" | "november" => 11,
        "dec" | "december" => 12,
        _ => return None,
    })
}

/// A count: up to four digits, or a number word from one to twelve.
pub(super) fn number(w: &str) -> Option<u32> {
    if !w.is_empty() && w.len() <= 4 && w.bytes().all(|b| b.is_ascii_digit()) {
        return w.parse().ok();
    }
    Some(match w {
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        _ => return None,
    })
}

/// A count that may also be "a" or "an" ("in a week", "an hour before").
pub(super) fn amount(w: &str) -> Option<u32> {
    match w {
        "a" | "an" => Some(1),
        _ => number(w),
    }
}

/// A day of the month written as an ordinal: `1st` … `31st`.
pub(super) fn ordinal_day(w: &str) -> Option<u32> {
    let digits = w
        .strip_suffix("st")
        .or_else(|| w.strip_suffix("nd"))
        .or_else(|| w.strip_suffix("rd"))
        .or_else(|| w.strip_suffix("th"))?;
    let n = number(digits).filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))?;
    (1..=31).contains(&n).then_some(n)
}

/// A day of the month, as an ordinal or a plain number.
pub(super) fn day(w: &str) -> Option<u32> {
    ordinal_day(w).or_else(|| {
        let n = number(w).filter(|_| w.bytes().all(|b| b.is_ascii_digit()))?;
        (1..=31).contains(&n).then_some(n)
    })
}

/// The position of a weekday in its month: first to fifth, or last (-1).
pub(super) fn week_ordinal(w: &str) -> Option<i8> {
    Some(match w {
        "1st" | "first" => 1,
        "2nd" | "second" => 2,
        "3rd" | "third" => 3,
        "4th" | "fourth" => 4,
        "5th" | "fifth" => 5,
        "last" => -1,
        _ => return None,
    })
}

/// A four-digit year.
pub(super) fn year(w: &str) -> Option<i32> {
    let y: i32 = w.parse().ok().filter(|_| w.len() == 4)?;
    (1000..=9999).contains(&y).then_some(y)
}

/// Calendar units of "in 3 days", "every 2 weeks".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CalendarUnit {
    Day,
    Week,
    Month,
    Year,
}

pub(super) fn calendar_unit(w: &str) -> Option<CalendarUnit> {
    Some(match w {
        "day" | "days" => CalendarUnit::Day,
        "week" | "weeks" | "wk" | "wks" => CalendarUnit::Week,
        "month" | "months" => CalendarUnit::Month,
        "year" | "years" | "yr" | "yrs" => CalendarUnit::Year,
        _ => return None,
    })
}

/// Exact units of "in 2 hours", "30 min before", in seconds.
pub(super) fn clock_unit(w: &str) -> Option<u32> {
    Some(match w {
        "hour" | "hours" | "hr" | "hrs" | "h" => 3600,
        "minute" | "minutes" | "min" | "mins" | "m" => 60,
        _ => return None,
    })
}

/// Parts of the day, and the hour each stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DayPart {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl DayPart {
    pub(super) fn parse(w: &str) -> Option<DayPart> {
        Some(match w {
            "morning" => DayPart::Morning,
            "afternoon" => DayPart::Afternoon,
            "evening" => DayPart::Evening,
            "night" => DayPart::Night,
            _ => return None,
        })
    }

    /// The hour the part of the day means when no time is given.
    pub(super) fn hour(self) -> u32 {
        match self {
            DayPart::Morning => 9,
            DayPart::Afternoon => 15,
            DayPart::Evening => 19,
            DayPart::Night => 21,
        }
    }

    /// Whether a bare hour from 1 to 11 in this part is after noon ("this evening at 7").
    pub(super) fn after_noon(self) -> bool {
        !matches!(self, DayPart::Morning)
    }
}
