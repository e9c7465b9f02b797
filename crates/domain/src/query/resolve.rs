//! Turns a date comparison (`due<=7d`, `created:2026-12-01`) into a condition
//! on an instant column, given "now" and the user's zone. Kept pure and in
//! one place so that every storage backend filters dates identically.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::ast::{Cmp, DateValue};
use crate::due::local_midnight;

/// What relative and day values are read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    pub now: DateTime<Utc>,
    /// The user's zone: days (and `today`) start at local midnight here.
    pub tz: Tz,
}

impl Context {
    /// The current calendar day in the context's zone.
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }
}

/// A condition on an instant column (unix milliseconds), half-open where it
/// is a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `x < v`
    Lt(i64),
    /// `x >= v`
    Ge(i64),
    /// `start <= x < end`
    Range { start: i64, end: i64 },
}

impl Bound {
    /// Whether the instant `millis` satisfies the bound.
    pub fn contains(self, millis: i64) -> bool {
        match self {
            Bound::Lt(v) => millis < v,
            Bound::Ge(v) => millis >= v,
            Bound::Range { start, end } => start <= millis && millis < end,
        }
    }
}

/// The instants matched by comparing a column with `value`.
///
/// A day `D` (also `today`, `tomorrow`, `yesterday` in `ctx.tz`) covers
/// `[start(D), start(D+1))` where `start` is local midnight: `:` is that
/// range, `<` is before it, `<=` up to its end, `>` after its end, `>=` from
/// its start. An instant or relative value `T` is one millisecond: `:` is
/// `[T, T+1)`, `<` is `x < T`, `<=` is `x < T+1`, `>` is `x >= T+1`, `>=` is
/// `x >= T`.
pub fn resolve(cmp: Cmp, value: DateValue, ctx: &Context) -> Bound {
    let today = ctx.today();
    match value {
        DateValue::Day(d) => day_bound(cmp, d, ctx.tz),
        DateValue::Today => day_bound(cmp, today, ctx.tz),
        DateValue::Tomorrow => day_bound(cmp, today.succ_opt().unwrap_or(today), ctx.tz),
        DateValue::Yesterday => day_bound(cmp, today.pred_opt().unwrap_or(today), ctx.tz),
        DateValue::Instant(t) => instant_bound(cmp, t.timestamp_millis()),
        DateValue::Relative { minutes } => instant_bound(
            cmp,
            ctx.now
                .timestamp_millis()
                .saturating_add(minutes.saturating_mul(60_000)),
        ),
    }
}

fn day_bound(cmp: Cmp, day: NaiveDate, tz: Tz) -> Bound {
    let start = local_midnight(day, tz).timestamp_millis();
    let end = day
        .succ_opt()
        .map_or(i64::MAX, |next| local_midnight(next, tz).timestamp_millis());
    match cmp {
        Cmp::Eq => Bound::Range { start, end },
        Cmp::Lt => Bound::Lt(start),
        Cmp::Le => Bound::Lt(end),
        Cmp::Gt => Bound::Ge(end),
        Cmp::Ge => Bound::Ge(start),
    }
}

fn instant_bound(cmp: Cmp, t: i64) -> Bound {
    let next = t.saturating_add(1);
    match cmp {
        Cmp::Eq => Bound::Range {
            start: t,
            end: next,
        },
        Cmp::Lt => Bound::Lt(t),
        Cmp::Le => Bound::Lt(next),
        Cmp::Gt => Bound::Ge(next),
        Cmp::Ge => Bound::Ge(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};
    use proptest::prelude::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn berlin_ctx(now: &str) -> Context {
        Context {
            now: DateTime::parse_from_rfc3339(now)
                .unwrap()
                .with_timezone(&Utc),
            tz: "Europe/Berlin".parse().unwrap(),
        }
    }

    #[test]
    fn days_cover_local_midnight_to_midnight() {
        let ctx = berlin_ctx("2026-12-01T10:00:00Z");
        let d = DateValue::Day(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        let start = ms("2026-12-01T00:00:00+01:00");
        let end = ms("2026-12-02T00:00:00+01:00");
        assert_eq!(resolve(Cmp::Eq, d, &ctx), Bound::Range { start, end });
        assert_eq!(resolve(Cmp::Lt, d, &ctx), Bound::Lt(start));
        assert_eq!(resolve(Cmp::Le, d, &ctx), Bound::Lt(end));
        assert_eq!(resolve(Cmp::Gt, d, &ctx), Bound::Ge(end));
        assert_eq!(resolve(Cmp::Ge, d, &ctx), Bound::Ge(start));
        assert_eq!(
            resolve(Cmp::Eq, DateValue::Today, &ctx),
            Bound::Range { start, end }
        );
    }

    #[test]
    fn today_is_read_in_the_users_zone() {
        // 23:30 UTC on 30 Nov is already 1 Dec in Berlin.
        let ctx = berlin_ctx("2026-11-30T23:30:00Z");
        let day = |s: &str| {
            let d: NaiveDate = s.parse().unwrap();
            resolve(Cmp::Eq, DateValue::Day(d), &ctx)
        };
        assert_eq!(resolve(Cmp::Eq, DateValue::Today, &ctx), day("2026-12-01"));
        assert_eq!(
            resolve(Cmp::Eq, DateValue::Tomorrow, &ctx),
            day("2026-12-02")
        );
        assert_eq!(
            resolve(Cmp::Eq, DateValue::Yesterday, &ctx),
            day("2026-11-30")
        );
    }

    #[test]
    fn dst_day_is_23_hours() {
        let ctx = berlin_ctx("2026-03-29T12:00:00Z");
        let Bound::Range { start, end } = resolve(Cmp::Eq, DateValue::Today, &ctx) else {
            panic!("expected a range");
        };
        assert_eq!(end - start, 23 * 3_600_000);
    }

    #[test]
    fn instants_and_relative_offsets() {
        let ctx = berlin_ctx("2026-12-01T10:00:00Z");
        let now = ctx.now.timestamp_millis();
        let t = FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .unwrap();
        let tm = t.timestamp_millis();
        let i = DateValue::Instant(t);
        assert_eq!(
            resolve(Cmp::Eq, i, &ctx),
            Bound::Range {
                start: tm,
                end: tm + 1
            }
        );
        assert_eq!(resolve(Cmp::Lt, i, &ctx), Bound::Lt(tm));
        assert_eq!(resolve(Cmp::Le, i, &ctx), Bound::Lt(tm + 1));
        assert_eq!(resolve(Cmp::Gt, i, &ctx), Bound::Ge(tm + 1));
        assert_eq!(resolve(Cmp::Ge, i, &ctx), Bound::Ge(tm));
        // due<=7d: due within the next 7 days, or already past.
        let week = DateValue::Relative { minutes: 7 * 1440 };
        assert_eq!(
            resolve(Cmp::Le, week, &ctx),
            Bound::Lt(now + 7 * 86_400_000 + 1)
        );
        // created>-7d: created in the last 7 days.
        let ago = DateValue::Relative { minutes: -7 * 1440 };
        assert_eq!(
            resolve(Cmp::Gt, ago, &ctx),
            Bound::Ge(now - 7 * 86_400_000 + 1)
        );
        assert!(Bound::Ge(5).contains(5) && !Bound::Lt(5).contains(5));
        assert!(Bound::Range { start: 1, end: 2 }.contains(1));
        assert!(!Bound::Range { start: 1, end: 2 }.contains(2));
    }

    const ZONES: [&str; 8] = [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "America/Santiago",
        "America/Havana",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "Pacific/Apia",
    ];

    proptest! {
        #[test]
        fn day_bounds_are_consistent(
            days in 0i64..(200 * 366),
            zone in 0..ZONES.len(),
            probe in any::<i64>(),
        ) {
            let tz: Tz = ZONES[zone].parse().unwrap();
            let d = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Duration::days(days);
            let ctx = Context { now: Utc::now(), tz };
            let v = DateValue::Day(d);
            let Bound::Range { start, end } = resolve(Cmp::Eq, v, &ctx) else {
                panic!("a day is a range");
            };
            prop_assert!(start < end, "start of {d} in {tz} is not before start of next day");
            prop_assert_eq!(resolve(Cmp::Lt, v, &ctx), Bound::Lt(start));
            prop_assert_eq!(resolve(Cmp::Ge, v, &ctx), Bound::Ge(start));
            prop_assert_eq!(resolve(Cmp::Le, v, &ctx), Bound::Lt(end));
            prop_assert_eq!(resolve(Cmp::Gt, v, &ctx), Bound::Ge(end));
            // The next day starts where this one ends.
            let next = resolve(Cmp::Eq, DateValue::Day(d.succ_opt().unwrap()), &ctx);
            let Bound::Range { start: next_start, .. } = next else {
                panic!("a day is a range");
            };
            prop_assert_eq!(next_start, end);
            // Every instant falls on exactly one side of each split.
            for x in [start - 1, start, end - 1, end, probe] {
                let lt = resolve(Cmp::Lt, v, &ctx).contains(x);
                let ge = resolve(Cmp::Ge, v, &ctx).contains(x);
                prop_assert!(lt != ge);
                let le = resolve(Cmp::Le, v, &ctx).contains(x);
                let gt = resolve(Cmp::Gt, v, &ctx).contains(x);
                prop_assert!(le != gt);
                prop_assert_eq!(resolve(Cmp::Eq, v, &ctx).contains(x), ge && le);
            }
        }
    }
}
