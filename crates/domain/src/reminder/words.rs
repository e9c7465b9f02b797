//! Reminders as a person writes them in a form ("30 minutes before",
//! "1 day 2 hours before", "at due", "2026-12-08 09:00" in the task's
//! zone), and back: what the web app's editor shows and reads. Every
//! reminder has one written form that reads back as itself.

use chrono::NaiveDateTime;
use chrono_tz::Tz;

use super::{OFFSET_MAX_DAYS, Offset, Reminder};
use crate::recurrence::resolve_local;

const DAY: u32 = 86_400;

/// How a reminder is written (the offset's parts largest first; an
/// instant in `tz`, to the minute when it falls on one).
pub fn written(r: &Reminder, tz: Tz) -> String {
    match r {
        Reminder::At(t) => {
            let local = t.with_timezone(&tz);
            let pattern = if t.timestamp() % 60 == 0 {
                "%Y-%m-%d %H:%M"
            } else {
                "%Y-%m-%d %H:%M:%S"
            };
            local.format(pattern).to_string()
        }
        Reminder::Before(o) if o.is_zero() => "at due".into(),
        Reminder::Before(o) => {
            let (days, secs) = (o.days(), o.seconds());
            let mut parts = Vec::new();
            let mut part = |n: u32, unit: &str| {
                if n > 0 {
                    parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
                }
            };
            if days % 7 == 0 && secs == 0 {
                part(days / 7, "week");
            } else {
                part(days, "day");
            }
            part(secs / 3600, "hour");
            part(secs % 3600 / 60, "minute");
            part(secs % 60, "second");
            format!("{} before", parts.join(" "))
        }
    }
}

/// Read one written reminder; `Err` says how to write one.
pub fn read(text: &str, tz: Tz) -> Result<Reminder, String> {
    let text = text.trim();
    let lower = text.to_lowercase();
    let refused = || {
        format!(
            "'{text}' is not a reminder: write one like 30 minutes before, 1 day before, \
             at due, or a date and time such as 2026-12-08 09:00"
        )
    };
    if matches!(lower.as_str(), "at due" | "at the due time" | "when due") {
        return Ok(Reminder::Before(Offset::ZERO));
    }
    if let Some(amounts) = lower.strip_suffix("before") {
        // `7d` is `7 d`.
        let words: Vec<&str> = amounts
            .split_whitespace()
            .flat_map(|w| match w.find(|c: char| !c.is_ascii_digit()) {
                Some(at) if at > 0 => vec![&w[..at], &w[at..]],
                _ => vec![w],
            })
            .collect();
        if words.is_empty() || !words.len().is_multiple_of(2) {
            return Err(refused());
        }
        let too_long = || format!("'{text}' is too long before: at most {OFFSET_MAX_DAYS} days");
        // All in seconds, checked: no amount may wrap around.
        let mut seconds = 0u64;
        let mut days = 0u64;
        for pair in words.chunks(2) {
            let n: u64 = match pair[0].parse() {
                Ok(n) => n,
                // Digits beyond what a number holds.
                Err(_) if pair[0].bytes().all(|b| b.is_ascii_digit()) => return Err(too_long()),
                Err(_) => return Err(refused()),
            };
            let (unit_days, unit_seconds) = match pair[1].trim_end_matches('s') {
                "week" | "w" => (7, 0),
                "day" | "d" => (1, 0),
                "hour" | "h" | "hr" => (0, 3600),
                "minute" | "min" | "m" => (0, 60),
                "second" | "sec" => (0, 1),
                _ => return Err(refused()),
            };
            days = n
                .checked_mul(unit_days)
                .and_then(|d| d.checked_add(days))
                .ok_or_else(too_long)?;
            seconds = n
                .checked_mul(unit_seconds)
                .and_then(|s| s.checked_add(seconds))
                .ok_or_else(too_long)?;
        }
        let days = (seconds / u64::from(DAY))
            .checked_add(days)
            .ok_or_else(too_long)?;
        let offset = u32::try_from(days)
            .ok()
            .and_then(|d| Offset::new(d, (seconds % u64::from(DAY)) as u32))
            .ok_or_else(too_long)?;
        return Ok(Reminder::Before(offset));
    }
    for pattern in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, pattern) {
            return resolve_local(tz, local)
                .map(|t| Reminder::At(t.fixed_offset()))
                .ok_or_else(refused);
        }
    }
    Err(refused())
}

/// Read a comma-separated list of written reminders.
pub fn read_list(text: &str, tz: Tz) -> Result<Vec<Reminder>, String> {
    text.split([',', '\n'])
        .filter(|s| !s.trim().is_empty())
        .map(|s| read(s, tz))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARIS: Tz = chrono_tz::Europe::Paris;

    #[test]
    fn each_reminder_reads_back_as_itself() {
        for text in [
            "at due",
            "30 minutes before",
            "1 hour 30 minutes before",
            "1 day before",
            "2 days 3 hours before",
            "2 weeks before",
            "1 second before",
            "2026-12-08 09:00",
        ] {
            let r = read(text, PARIS).unwrap();
            assert_eq!(written(&r, PARIS), text);
        }
    }

    #[test]
    fn other_ways_of_writing_read_the_same() {
        let r = |t| read(t, PARIS).unwrap();
        assert_eq!(r("90 min before"), r("1 hour 30 minutes before"));
        assert_eq!(r("24 Hours Before"), r("1 day before"));
        assert_eq!(r("7d before"), r("1 week before"));
        assert_eq!(
            r("2026-12-08T09:00"),
            Reminder::At("2026-12-08T09:00:00+01:00".parse().unwrap())
        );
        assert_eq!(
            read_list("1 day before, at due,, 2026-06-01 08:00", PARIS).unwrap(),
            vec![
                r("1 day before"),
                r("at due"),
                Reminder::At("2026-06-01T08:00:00+02:00".parse().unwrap())
            ]
        );
    }

    #[test]
    fn what_is_not_a_reminder_says_how_to_write_one() {
        for bad in [
            "soon",
            "3 fortnights before",
            "before",
            "1 day",
            "x hours before",
            "2026-13-01 09:00",
        ] {
            let e = read(bad, PARIS).unwrap_err();
            assert!(e.contains("30 minutes before"), "{bad}: {e}");
        }
        for far in [
            "99999 days before",
            "99999999999999999999 weeks before",
            "2635249153387078803 weeks before",
            "18446744073709551615 days 18446744073709551615 hours before",
        ] {
            assert!(read(far, PARIS).unwrap_err().contains("too long"), "{far}");
        }
    }
}
