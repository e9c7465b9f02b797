//! Reminders: when to nudge someone about a task. A task keeps any number of
//! them (up to [`REMINDERS_MAX`]), each either an absolute instant or an
//! offset before the due. This module validates them, says when each fires,
//! and moves them along when a recurring task rolls on to its next occurrence.
//! Sending them is someone else's job.

mod offset;
pub mod schedule;
pub mod words;

use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::FieldError;
use crate::due::Due;

pub use offset::{OFFSET_MAX_DAYS, Offset};

/// The most reminders one task keeps.
pub const REMINDERS_MAX: usize = 20;

/// Years an absolute reminder may fall in.
const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// One reminder. In JSON `{"at": "2026-12-01T08:45:00+01:00"}` or
/// `{"before": "PT15M"}`, exactly one of the two keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reminder {
    /// At this instant, whatever the due.
    At(DateTime<FixedOffset>),
    /// This long before the due starts (see [`Reminder::fires_at`]).
    Before(Offset),
}

impl Reminder {
    /// Validate a task's reminders: exact duplicates are dropped (the first
    /// one stays), at most [`REMINDERS_MAX`] remain. Errors name `field` for
    /// the list or `field[i]` for one reminder (`i` as sent).
    pub fn parse_list(field: &str, v: Vec<Reminder>) -> Result<Vec<Reminder>, FieldError> {
        let mut out: Vec<Reminder> = Vec::with_capacity(v.len().min(REMINDERS_MAX));
        let sent = v.len();
        for (i, r) in v.into_iter().enumerate() {
            if let Reminder::At(t) = &r
                && !YEARS.contains(&t.year())
            {
                return Err(FieldError::new(
                    format!("{field}[{i}]"),
                    format!(
                        "'{}' is out of range: a reminder falls between the years {} and {}",
                        t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        YEARS.start(),
                        YEARS.end()
                    ),
                ));
            }
            if out.contains(&r) {
                continue;
            }
            if out.len() == REMINDERS_MAX {
                return Err(FieldError::new(
                    field,
                    format!(
                        "a task has at most {REMINDERS_MAX} reminders (duplicates aside), got {sent}"
                    ),
                ));
            }
            out.push(r);
        }
        Ok(out)
    }

    /// When this reminder fires for a task with `due` in zone `tz`, or
    /// `None` for a `Before` reminder on a task without a due.
    ///
    /// `Before` counts back from the due's start ([`Due::starts_at`]): for a
    /// timed due that is its instant; for an all-day due it is local midnight
    /// at the start of that day, so `PT15M` before an all-day due fires at
    /// 23:45 the evening before. (Counting from a fixed time such as 09:00
    /// local would suit all-day dues better; midnight is kept for now so that
    /// reminders and the due's position in lists agree.) Days and weeks are
    /// calendar days in `tz`, hours and below exact; see [`Offset::before`].
    pub fn fires_at(&self, due: Option<&Due>, tz: Tz) -> Option<DateTime<Utc>> {
        match self {
            Reminder::At(t) => Some(t.with_timezone(&Utc)),
            Reminder::Before(offset) => offset.before(due?.starts_at(tz), tz),
        }
    }

    /// This reminder moved onto the next occurrence of a recurring task:
    /// `Before` stays as it is; `At` moves by exactly as much as the due's
    /// start moved (`new_due.starts_at - old_due.starts_at`) and is written
    /// with the offset `tz` has at the new instant.
    pub fn shifted(&self, old_due: &Due, new_due: &Due, tz: Tz) -> Reminder {
        match self {
            Reminder::Before(_) => self.clone(),
            Reminder::At(t) => {
                let delta = new_due.starts_at(tz) - old_due.starts_at(tz);
                match t.checked_add_signed(delta) {
                    Some(moved) => Reminder::At(moved.with_timezone(&tz).fixed_offset()),
                    None => self.clone(),
                }
            }
        }
    }
}

impl Serialize for Reminder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match self {
            Reminder::At(t) => {
                map.serialize_entry("at", &t.to_rfc3339_opts(SecondsFormat::AutoSi, true))?
            }
            Reminder::Before(o) => map.serialize_entry("before", &o.to_string())?,
        }
        map.end()
    }
}

/// The JSON shape, before checking that exactly one key is there.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminder {
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    before: Option<String>,
}

impl<'de> Deserialize<'de> for Reminder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = RawReminder::deserialize(d)?;
        match (raw.at, raw.before) {
            (Some(at), None) => DateTime::parse_from_rfc3339(at.trim())
                .map(Reminder::At)
                .map_err(|_| {
                    D::Error::custom(format!(
                        "'{at}' is not an RFC 3339 date-time with offset \
                         (for example 2026-12-01T08:45:00+01:00)"
                    ))
                }),
            (None, Some(before)) => before
                .parse()
                .map(Reminder::Before)
                .map_err(D::Error::custom),
            (Some(_), Some(_)) => Err(D::Error::custom(
                "a reminder has either \"at\" or \"before\", not both",
            )),
            (None, None) => Err(D::Error::custom(
                "a reminder needs \"at\" (a date-time such as 2026-12-01T08:45:00+01:00) \
                 or \"before\" (a duration such as PT15M)",
            )),
        }
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Reminder {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let at = ObjectBuilder::new()
            .property(
                "at",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                    // The years 1970–9999 (`YEARS`).
                    .pattern(Some(r"^\s*(19[7-9][0-9]|[2-9][0-9]{3})-"))
                    .examples(["2026-12-01T08:45:00+01:00"]),
            )
            .required("at")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let before = ObjectBuilder::new()
            .property("before", <Offset as utoipa::PartialSchema>::schema())
            .required("before")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        OneOfBuilder::new()
            .item(at)
            .item(before)
            .description(Some("An absolute instant, or a duration before the due"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Reminder {}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn berlin() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    fn json(s: &str) -> Result<Reminder, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    fn before(s: &str) -> Reminder {
        Reminder::Before(s.parse().unwrap())
    }

    fn at(s: &str) -> Reminder {
        Reminder::At(DateTime::parse_from_rfc3339(s).unwrap())
    }

    #[test]
    fn json_round_trip() {
        let r = json(r#"{"at": "2026-12-01T08:45:00+01:00"}"#).unwrap();
        assert_eq!(r, at("2026-12-01T08:45:00+01:00"));
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"at":"2026-12-01T08:45:00+01:00"}"#
        );
        let r = json(r#"{"before": "PT90M"}"#).unwrap();
        assert_eq!(r, before("PT1H30M"));
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"before":"PT1H30M"}"#
        );
        let list: Vec<Reminder> =
            serde_json::from_str(r#"[{"before":"P1D"},{"at":"2026-12-01T07:45:00Z"}]"#).unwrap();
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"[{"before":"P1D"},{"at":"2026-12-01T07:45:00Z"}]"#
        );
    }

    #[test]
    fn json_errors_say_what_is_wrong() {
        for (input, says) in [
            (r#"{}"#, "needs \"at\""),
            (r#"{"at": null}"#, "needs \"at\""),
            (
                r#"{"at": "2026-12-01T08:45:00+01:00", "before": "PT5M"}"#,
                "not both",
            ),
            (r#"{"after": "PT5M"}"#, "unknown field `after`"),
            (r#"{"at": "2026-12-01 08:45"}"#, "RFC 3339"),
            (r#"{"at": "2026-12-01T08:45:00"}"#, "with offset"),
            (r#"{"before": "P1M"}"#, "months"),
            (r#"{"before": 15}"#, "invalid type"),
            (r#""PT15M""#, "invalid type"),
        ] {
            let err = json(input).expect_err(input);
            assert!(err.contains(says), "{input}: {err}");
        }
    }

    #[test]
    fn parse_list_dedups_limits_and_names_the_entry() {
        let list = vec![
            before("PT15M"),
            at("2026-12-01T08:45:00+01:00"),
            before("PT15M"),
            at("2026-12-01T07:45:00Z"), // the same instant as the second
            before("P1D"),
        ];
        let out = Reminder::parse_list("reminders", list).unwrap();
        assert_eq!(
            out,
            vec![
                before("PT15M"),
                at("2026-12-01T08:45:00+01:00"),
                before("P1D")
            ]
        );

        let many: Vec<Reminder> = (0..21).map(|m| before(&format!("PT{m}M"))).collect();
        let err = Reminder::parse_list("reminders", many.clone()).unwrap_err();
        assert_eq!(err.field, "reminders");
        assert!(err.message.contains("at most 20"), "{err}");
        assert_eq!(
            Reminder::parse_list("reminders", many[..20].to_vec())
                .unwrap()
                .len(),
            20
        );
        // Duplicates do not count towards the limit.
        let mut dup = many[..20].to_vec();
        dup.extend(many[..5].iter().cloned());
        assert_eq!(Reminder::parse_list("reminders", dup).unwrap().len(), 20);

        let err = Reminder::parse_list(
            "reminders",
            vec![before("PT5M"), before("PT6M"), at("1900-01-01T00:00:00Z")],
        )
        .unwrap_err();
        assert_eq!(err.field, "reminders[2]");
        assert!(err.message.contains("1970"), "{err}");
        assert_eq!(Reminder::parse_list("reminders", vec![]).unwrap(), vec![]);
    }

    #[test]
    fn fires_at() {
        let tz = berlin();
        let timed = Due::At(DateTime::parse_from_rfc3339("2026-12-01T09:00:00+01:00").unwrap());
        let day = Due::Date(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        let fire = |r: &Reminder, due: Option<&Due>| r.fires_at(due, tz).map(|t| t.to_rfc3339());

        assert_eq!(
            fire(&before("PT15M"), Some(&timed)).unwrap(),
            "2026-12-01T07:45:00+00:00"
        );
        assert_eq!(
            fire(&before("PT0S"), Some(&timed)).unwrap(),
            "2026-12-01T08:00:00+00:00"
        );
        assert_eq!(
            fire(&before("P1DT2H"), Some(&timed)).unwrap(),
            "2026-11-30T06:00:00+00:00"
        );
        // An all-day due starts at local midnight: 2026-12-01T00:00+01:00.
        assert_eq!(
            fire(&before("PT0S"), Some(&day)).unwrap(),
            "2026-11-30T23:00:00+00:00"
        );
        assert_eq!(
            fire(&before("PT15M"), Some(&day)).unwrap(),
            "2026-11-30T22:45:00+00:00"
        );
        assert_eq!(
            fire(&before("P2W"), Some(&day)).unwrap(),
            "2026-11-16T23:00:00+00:00"
        );
        // Without a due only absolute reminders fire.
        assert_eq!(fire(&before("PT15M"), None), None);
        let abs = at("2026-11-30T20:00:00-05:00");
        assert_eq!(fire(&abs, None).unwrap(), "2026-12-01T01:00:00+00:00");
        assert_eq!(
            fire(&abs, Some(&timed)).unwrap(),
            "2026-12-01T01:00:00+00:00"
        );
    }

    #[test]
    fn a_day_before_across_daylight_saving_keeps_local_time() {
        let tz = berlin();
        // Monday 30 March 2026 09:00 CEST; the clocks went forward on Sunday.
        let due = Due::At(DateTime::parse_from_rfc3339("2026-03-30T09:00:00+02:00").unwrap());
        let sat = before("P2D").fires_at(Some(&due), tz).unwrap();
        assert_eq!(
            sat.with_timezone(&tz).to_rfc3339(),
            "2026-03-28T09:00:00+01:00"
        );
    }

    #[test]
    fn shifted_moves_absolute_reminders_with_the_due() {
        let tz = berlin();
        let old = Due::At(DateTime::parse_from_rfc3339("2026-03-23T09:00:00+01:00").unwrap());
        let new = Due::At(DateTime::parse_from_rfc3339("2026-03-30T09:00:00+02:00").unwrap());
        let r = at("2026-03-23T08:45:00+01:00");
        // The due moved by 7 days less an hour; so does the reminder, which
        // stays 15 minutes before it and is written in summer time.
        assert_eq!(r.shifted(&old, &new, tz), at("2026-03-30T08:45:00+02:00"));
        assert_eq!(
            r.shifted(&old, &new, tz).fires_at(Some(&new), tz),
            before("PT15M").fires_at(Some(&new), tz)
        );
        assert_eq!(before("PT15M").shifted(&old, &new, tz), before("PT15M"));

        let d1 = Due::Date(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        let d2 = Due::Date(NaiveDate::from_ymd_opt(2026, 12, 8).unwrap());
        let r = at("2026-11-30T20:00:00+01:00");
        assert_eq!(r.shifted(&d1, &d2, tz), at("2026-12-07T20:00:00+01:00"));
        assert_eq!(r.shifted(&d1, &d1, tz), r);
    }
}
