//! How long before a due a reminder fires, written as an ISO 8601 duration
//! (`PT15M`, `P1D`, `P1DT2H`, `P2W`). Years and months are refused because
//! their length varies; days and weeks are calendar days in the task's zone
//! (so `P1D` before 09:00 is 09:00 the day before, even across a
//! daylight-saving change), hours, minutes and seconds are exact.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::recurrence::resolve_local;

/// The longest offset, in days.
pub const OFFSET_MAX_DAYS: u32 = 365;

const DAY_SECONDS: u64 = 24 * 60 * 60;
const EXAMPLES: &str = "PT15M, PT1H30M, P1D, P1DT2H or P2W";

/// A non-negative duration of whole calendar days plus exact seconds, at
/// most [`OFFSET_MAX_DAYS`] in all. Prints canonically: `P2W` when it is
/// whole weeks, otherwise `P{d}DT{h}H{m}M{s}S` with zero parts left out and
/// seconds carried into minutes and hours (`PT90M` prints as `PT1H30M`);
/// zero prints as `PT0S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Offset {
    days: u32,
    seconds: u32,
}

impl Offset {
    /// No offset: the reminder fires when the due starts.
    pub const ZERO: Offset = Offset {
        days: 0,
        seconds: 0,
    };

    /// `days` calendar days plus `seconds` exact seconds; `None` beyond
    /// [`OFFSET_MAX_DAYS`].
    pub fn new(days: u32, seconds: u32) -> Option<Offset> {
        let total = u64::from(days) * DAY_SECONDS + u64::from(seconds);
        (total <= u64::from(OFFSET_MAX_DAYS) * DAY_SECONDS).then_some(Offset { days, seconds })
    }

    /// The calendar-day part (weeks count as 7 days).
    pub fn days(&self) -> u32 {
        self.days
    }

    /// The exact part, in seconds.
    pub fn seconds(&self) -> u32 {
        self.seconds
    }

    pub fn is_zero(&self) -> bool {
        *self == Offset::ZERO
    }

    /// The instant this offset before `instant` in `tz`: first the calendar
    /// days back at the same local time (a time a daylight-saving gap skips
    /// moves forward by the gap, as RFC 5545 reads it), then the exact seconds.
    /// `None` only when that leaves chrono's range.
    pub fn before(&self, instant: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let base = if self.days == 0 {
            instant
        } else {
            let local = instant
                .with_timezone(&tz)
                .naive_local()
                .checked_sub_days(Days::new(u64::from(self.days)))?;
            resolve_local(tz, local)?.with_timezone(&Utc)
        };
        base.checked_sub_signed(Duration::seconds(i64::from(self.seconds)))
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("PT0S");
        }
        if self.seconds == 0 && self.days.is_multiple_of(7) {
            return write!(f, "P{}W", self.days / 7);
        }
        f.write_str("P")?;
        if self.days > 0 {
            write!(f, "{}D", self.days)?;
        }
        if self.seconds > 0 {
            let (h, m, s) = (
                self.seconds / 3600,
                self.seconds / 60 % 60,
                self.seconds % 60,
            );
            f.write_str("T")?;
            if h > 0 {
                write!(f, "{h}H")?;
            }
            if m > 0 {
                write!(f, "{m}M")?;
            }
            if s > 0 {
                write!(f, "{s}S")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Offset {
    type Err = String;

    /// Parse an ISO 8601 duration; the error is a message for a person.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let upper = text.to_ascii_uppercase();
        if upper.starts_with('-') {
            return Err(format!(
                "'{text}' is negative; a reminder 'before' already counts back from the due, \
                 so write it without the sign"
            ));
        }
        let body = upper.strip_prefix('+').unwrap_or(&upper);
        let Some(body) = body.strip_prefix('P') else {
            return Err(format!(
                "'{text}' is not an ISO 8601 duration; write it like {EXAMPLES}"
            ));
        };
        if body.is_empty() || body == "T" {
            return Err(format!("'{text}' has no amount; write it like {EXAMPLES}"));
        }

        let mut days: u64 = 0;
        let mut seconds: u64 = 0;
        let mut in_time = false;
        // Rank of the last unit read, so units come once and in order:
        // W, D, then (after T) H, M, S.
        let mut last_rank = 0;
        let mut number = String::new();
        for c in body.chars() {
            if c.is_ascii_digit() {
                if number.len() >= 9 {
                    return Err(format!("'{text}' is longer than {OFFSET_MAX_DAYS} days"));
                }
                number.push(c);
                continue;
            }
            if c == '.' || c == ',' {
                return Err(format!(
                    "'{text}' has a fraction; use whole numbers, for example PT1H30M rather than PT1.5H"
                ));
            }
            if c == 'T' {
                if in_time || !number.is_empty() {
                    return Err(format!(
                        "'{text}' is not a valid duration; write it like {EXAMPLES}"
                    ));
                }
                in_time = true;
                continue;
            }
            let (rank, unit_seconds, is_days) = match (in_time, c) {
                (false, 'Y') | (false, 'M') => {
                    let unit = if c == 'Y' { "years" } else { "months" };
                    return Err(format!(
                        "'{text}' uses {unit}, whose length varies; use days or weeks instead \
                         (for example P30D or P4W), or PT…M for minutes"
                    ));
                }
                (false, 'W') => (1, 7, true),
                (false, 'D') => (2, 1, true),
                (true, 'H') => (3, 3600, false),
                (true, 'M') => (4, 60, false),
                (true, 'S') => (5, 1, false),
                (true, 'D') | (true, 'W') => {
                    return Err(format!(
                        "'{text}' has days or weeks after the T; write them before it, as in P1DT2H"
                    ));
                }
                _ => {
                    return Err(format!(
                        "'{text}' is not a valid duration ('{c}' is not a unit); write it like {EXAMPLES}"
                    ));
                }
            };
            if number.is_empty() {
                return Err(format!("'{text}' has a unit without a number before '{c}'"));
            }
            if rank <= last_rank {
                return Err(format!(
                    "'{text}' repeats a unit or gives them out of order; write W or D, then T, then H, M, S"
                ));
            }
            last_rank = rank;
            let n: u64 = number
                .parse()
                .map_err(|_| format!("'{text}' is not a valid duration"))?;
            number.clear();
            if is_days {
                days += n * unit_seconds;
            } else {
                seconds += n * unit_seconds;
            }
        }
        if !number.is_empty() {
            return Err(format!(
                "'{text}' ends with a number without a unit; write it like {EXAMPLES}"
            ));
        }
        if in_time && last_rank < 3 {
            return Err(format!(
                "'{text}' has a T without hours, minutes or seconds after it"
            ));
        }
        let too_long = || format!("'{text}' is longer than {OFFSET_MAX_DAYS} days");
        let days = u32::try_from(days).map_err(|_| too_long())?;
        let seconds = u32::try_from(seconds).map_err(|_| too_long())?;
        Offset::new(days, seconds).ok_or_else(too_long)
    }
}

impl Serialize for Offset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Offset {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("dueflow-offset".into())))
            .description(Some(
                "ISO 8601 duration of weeks, days, hours, minutes and seconds (no years or \
                 months), at most 365 days, e.g. PT15M, P1DT2H",
            ))
            .examples(["PT15M"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Offset {}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Offset {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_prints_canonically() {
        for (input, printed) in [
            ("PT15M", "PT15M"),
            ("pt15m", "PT15M"),
            ("P1D", "P1D"),
            ("P1DT2H", "P1DT2H"),
            ("P2W", "P2W"),
            ("P14D", "P2W"),
            ("PT1H30M", "PT1H30M"),
            ("PT90M", "PT1H30M"),
            ("PT36H", "PT36H"),
            ("PT3600S", "PT1H"),
            ("PT1H0M5S", "PT1H5S"),
            ("P1W2D", "P9D"),
            ("PT0S", "PT0S"),
            ("P0D", "PT0S"),
            ("PT0M", "PT0S"),
            ("+PT5M", "PT5M"),
            (" P365D ", "P365D"),
            ("P364DT24H", "P364DT24H"),
        ] {
            assert_eq!(p(input).to_string(), printed, "{input}");
            assert_eq!(p(printed), p(input), "{printed} round-trips");
        }
        assert_eq!(p("P1DT2H").days(), 1);
        assert_eq!(p("P1DT2H").seconds(), 7200);
        assert!(p("PT0S").is_zero());
    }

    #[test]
    fn rejects_with_a_reason() {
        for (input, says) in [
            ("P1Y", "years"),
            ("P2M", "months"),
            ("P1Y2M", "years"),
            ("-PT15M", "negative"),
            ("15M", "not an ISO 8601 duration"),
            ("", "not an ISO 8601 duration"),
            ("P", "no amount"),
            ("PT", "no amount"),
            ("PT1.5H", "fraction"),
            ("PT1,5H", "fraction"),
            ("P1DT", "T without"),
            ("PT15", "without a unit"),
            ("PTM", "without a number"),
            ("PT5M5H", "out of order"),
            ("P1D1D", "out of order"),
            ("PT1D", "before it"),
            ("P366D", "365 days"),
            ("P53W", "365 days"),
            ("P365DT1S", "365 days"),
            ("PT999999999H", "365 days"),
            ("P9999999999D", "365 days"),
            ("P1X", "not a unit"),
            ("P1DTT1H", "not a valid duration"),
        ] {
            let err = input.parse::<Offset>().expect_err(input);
            assert!(err.contains(says), "{input}: {err}");
        }
    }

    #[test]
    fn serde_uses_the_canonical_text() {
        let o: Offset = serde_json::from_str("\"PT90M\"").unwrap();
        assert_eq!(serde_json::to_string(&o).unwrap(), "\"PT1H30M\"");
        let e = serde_json::from_str::<Offset>("\"P1M\"").unwrap_err();
        assert!(e.to_string().contains("months"), "{e}");
        assert!(serde_json::from_str::<Offset>("15").is_err());
    }

    #[test]
    fn counts_days_on_the_calendar_and_time_exactly() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // 09:00 CEST on Sunday 29 March 2026, the day clocks go forward.
        let due: DateTime<Utc> = "2026-03-29T07:00:00Z".parse().unwrap();
        // One calendar day back is 09:00 CET on the Saturday: 08:00Z.
        assert_eq!(
            p("P1D").before(due, tz).unwrap().to_rfc3339(),
            "2026-03-28T08:00:00+00:00"
        );
        // 24 exact hours back is 08:00 CET.
        assert_eq!(
            p("PT24H").before(due, tz).unwrap().to_rfc3339(),
            "2026-03-28T07:00:00+00:00"
        );
        assert_eq!(
            p("P1DT30M").before(due, tz).unwrap().to_rfc3339(),
            "2026-03-28T07:30:00+00:00"
        );
        assert_eq!(
            p("P1W").before(due, tz).unwrap().to_rfc3339(),
            "2026-03-22T08:00:00+00:00"
        );
        assert_eq!(p("PT0S").before(due, tz).unwrap(), due);
        // 02:30 on the change day does not exist; a day before Monday 02:30
        // CEST is read as 02:30 CET, which is 03:30 CEST.
        let early: DateTime<Utc> = "2026-03-30T00:30:00Z".parse().unwrap();
        assert_eq!(
            p("P1D").before(early, tz).unwrap().to_rfc3339(),
            "2026-03-29T01:30:00+00:00"
        );
    }
}
