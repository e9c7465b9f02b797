//! When a task is due: either a whole day (`2026-12-01`) or an exact instant
//! with its offset (`2026-12-01T09:00:00+01:00`). Both keep the exact text a
//! user gave when printed back, and both map onto instants for sorting and
//! filtering in the task's zone.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::RangeInclusive;

use crate::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// An all-day due date.
    Date(NaiveDate),
    /// An exact instant, keeping the offset it was written with.
    At(DateTime<FixedOffset>),
}

/// Years a due may fall in (as written): four-digit years, which leave
/// every day and instant computed from a due well within chrono's range.
pub const YEARS: RangeInclusive<i32> = 1..=9999;

impl Due {
    /// Parse `YYYY-MM-DD` or an RFC 3339 date-time with offset, in [`YEARS`].
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let due = if let Some(d) = plain_date(s) {
            Due::Date(d)
        } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Due::Date(d)
        } else {
            DateTime::parse_from_rfc3339(s).map(Due::At).map_err(|_| {
                FieldError::new(
                    field,
                    format!(
                        "'{s}' is neither a date (YYYY-MM-DD) nor an RFC 3339 date-time with \
                         offset (for example 2026-12-01T09:00:00+01:00)"
                    ),
                )
            })?
        };
        let in_range = match due {
            Due::Date(d) => YEARS.contains(&d.year()),
            Due::At(t) => YEARS.contains(&t.year()),
        };
        if !in_range {
            return Err(FieldError::new(
                field,
                format!(
                    "'{s}' is out of range: a due falls between the years {} and {}",
                    YEARS.start(),
                    YEARS.end()
                ),
            ));
        }
        Ok(due)
    }

    /// The instant this due starts at: local midnight in `tz` for a date.
    pub fn starts_at(&self, tz: Tz) -> DateTime<Utc> {
        match self {
            Due::Date(d) => local_midnight(*d, tz),
            Due::At(t) => t.with_timezone(&Utc),
        }
    }

    /// The instant from which an open task with this due is overdue: the end
    /// of the day for a date, the instant itself otherwise.
    pub fn overdue_from(&self, tz: Tz) -> DateTime<Utc> {
        match self {
            Due::Date(d) => local_midnight(*d + Duration::days(1), tz),
            Due::At(t) => t.with_timezone(&Utc),
        }
    }
}

/// `YYYY-MM-DD` with every digit written, read without chrono's format
/// parser: the form every stored due date has. Anything else, or no such
/// day, is left to the general parse.
fn plain_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)
}

/// The first instant of `day` in `tz` (midnight, or the first valid time when
/// a DST gap swallows midnight).
pub fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut t = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    for _ in 0..4 {
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.with_timezone(&Utc);
        }
        t += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

impl fmt::Display for Due {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Chrono writes a date of the years 0 to 9999 as `YYYY-MM-DD`.
            Due::Date(d) => write!(f, "{d}"),
            Due::At(t) => f.write_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        }
    }
}

impl Serialize for Due {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // One string, escaped at once: `collect_str` would escape each
        // character as chrono writes it.
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Due {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Due::parse("due", &s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dates_read_as_the_format_parser_reads_them() {
        for s in [
            "2026-12-01",
            "0001-01-01",
            "9999-12-31",
            "2024-02-29",
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "2026/12/01",
            "+2026-12-1",
            "２０２６-12-01",
        ] {
            let general = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
            if let Some(d) = plain_date(s) {
                assert_eq!(Some(d), general, "{s}");
            }
        }
        for s in ["2026-12-01", "0001-01-01", "9999-12-31", "2024-02-29"] {
            assert!(plain_date(s).is_some(), "{s} takes the fast path");
        }
        assert_eq!(
            Due::parse("due", "0001-01-01").unwrap().to_string(),
            "0001-01-01"
        );
    }

    #[test]
    fn parses_and_prints_both_forms() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let d = Due::parse("due", "2026-12-01").unwrap();
        assert_eq!(d.to_string(), "2026-12-01");
        assert_eq!(d.starts_at(tz).to_rfc3339(), "2026-11-30T23:00:00+00:00");
        assert_eq!(d.overdue_from(tz).to_rfc3339(), "2026-12-01T23:00:00+00:00");
        let t = Due::parse("due", "2026-12-01T09:30:00+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-12-01T09:30:00+01:00");
        assert_eq!(t.starts_at(tz), t.overdue_from(tz));
        let e = Due::parse("due", "tomorrow").unwrap_err();
        assert_eq!(e.field, "due");
        assert!(
            Due::parse("due", "2026-12-01T09:30:00").is_err(),
            "offset is required"
        );
    }

    #[test]
    fn only_four_digit_years() {
        for s in [
            "+262142-12-31",
            "-0001-01-01",
            "0000-12-31",
            "0000-12-31T23:00:00-05:00",
        ] {
            let e = Due::parse("due", s).unwrap_err();
            assert!(e.message.contains("years 1 and 9999"), "{s}: {e}");
        }
        assert!(Due::parse("due", "10000-01-01").is_err());
        for s in ["0001-01-01", "9999-12-31", "9999-12-31T23:59:59-14:00"] {
            assert!(Due::parse("due", s).is_ok(), "{s}");
        }
    }

    proptest::proptest! {
        /// Whatever a due in range, its instants are computed without
        /// leaving chrono's range, in any zone.
        #[test]
        fn instants_of_any_due_in_range(
            days in 0i64..3_652_059,
            secs in 0i64..86_400,
            offset_min in -1439i32..=1439,
            zone in proptest::sample::select(vec!["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin"]),
        ) {
            let tz: Tz = zone.parse().unwrap();
            let day = NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + Duration::days(days);
            let date = Due::parse("due", &day.format("%Y-%m-%d").to_string()).unwrap();
            assert!(date.starts_at(tz) < date.overdue_from(tz));
            let off = FixedOffset::east_opt(offset_min * 60).unwrap();
            let text = off
                .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
                .unwrap()
                .checked_add_signed(Duration::seconds(secs))
                .unwrap()
                .to_rfc3339();
            if let Ok(at) = Due::parse("due", &text) {
                assert_eq!(at.starts_at(tz), at.overdue_from(tz));
            }
        }
    }
}
