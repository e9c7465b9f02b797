//! Unit and property tests of recurrence: parsing and its messages, time
//! zones and daylight saving, both anchors, COUNT and UNTIL, rules that run
//! dry. The RFC 5545 examples live in `tests/rfc5545_examples.rs`.

use super::*;
use chrono::{FixedOffset, Timelike};
use proptest::prelude::*;

fn berlin() -> Tz {
    "Europe/Berlin".parse().unwrap()
}

fn rec(rule: &str) -> Recurrence {
    Recurrence::parse(rule, Anchor::Due).unwrap_or_else(|e| panic!("{rule}: {e}"))
}

fn completion(rule: &str) -> Recurrence {
    Recurrence::parse(rule, Anchor::Completion).unwrap_or_else(|e| panic!("{rule}: {e}"))
}

fn due(s: &str) -> Due {
    Due::parse("due", s).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn texts(dues: &[Due]) -> Vec<String> {
    dues.iter().map(ToString::to_string).collect()
}

fn upcoming(rule: &str, current: &str, tz: Tz, index: u32, limit: usize) -> Vec<String> {
    texts(&rec(rule).upcoming(&due(current), tz, index, limit))
}

fn next(r: &Recurrence, current: &str, index: u32, completed_at: &str) -> Option<String> {
    r.next_due(&due(current), berlin(), index, utc(completed_at))
        .map(|d| d.to_string())
}

// ---------------------------------------------------------------- parsing

#[test]
fn parse_normalises_to_canonical_text() {
    for (input, canonical) in [
        ("FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("rrule:freq=weekly;byday=th,mo", "FREQ=WEEKLY;BYDAY=MO,TH"),
        (" RRULE:FREQ=DAILY ", "FREQ=DAILY"),
        (" FREQ = DAILY ; INTERVAL = 2 ;", "FREQ=DAILY;INTERVAL=2"),
        (
            "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR,+2MO",
            "FREQ=MONTHLY;BYDAY=2MO,-1FR",
        ),
        (
            "FREQ=MONTHLY;BYDAY=1SU,-1SU,1SU",
            "FREQ=MONTHLY;BYDAY=1SU,-1SU",
        ),
        ("FREQ=MONTHLY;BYDAY=FR,1MO", "FREQ=MONTHLY;BYDAY=FR,1MO"),
        (
            "FREQ=YEARLY;BYMONTH=7,6,6;WKST=MO",
            "FREQ=YEARLY;BYMONTH=6,7",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=15,-1,1",
            "FREQ=MONTHLY;BYMONTHDAY=-1,1,15",
        ),
        (
            "WKST=SU;BYDAY=TU,TH;COUNT=10;FREQ=WEEKLY",
            "FREQ=WEEKLY;BYDAY=TU,TH;WKST=SU;COUNT=10",
        ),
        (
            "FREQ=DAILY;UNTIL=20261231t230000z",
            "FREQ=DAILY;UNTIL=20261231T230000Z",
        ),
        ("FREQ=DAILY;UNTIL=20261231", "FREQ=DAILY;UNTIL=20261231"),
        (
            "FREQ=DAILY;UNTIL=20261231T230000",
            "FREQ=DAILY;UNTIL=20261231T230000",
        ),
        (
            "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        ),
        (
            "FREQ=YEARLY;BYYEARDAY=200,1,100;INTERVAL=3",
            "FREQ=YEARLY;INTERVAL=3;BYYEARDAY=1,100,200",
        ),
        (
            "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
            "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
        ),
    ] {
        let r = rec(input);
        assert_eq!(r.rrule, canonical, "{input}");
        assert_eq!(r.anchor, Anchor::Due);
        assert_eq!(rec(canonical).rrule, canonical, "canonical text is stable");
    }
    assert_eq!(completion("FREQ=DAILY").anchor, Anchor::Completion);
}

#[test]
fn parse_errors_name_the_problem() {
    let long = format!("FREQ=DAILY;{}", "BYMONTH=1;".repeat(60));
    for (input, says) in [
        ("", "required"),
        ("RRULE:", "required"),
        ("FREQ=HOURLY", "FREQ=HOURLY is not supported"),
        (
            "FREQ=MINUTELY;INTERVAL=15",
            "FREQ=MINUTELY is not supported",
        ),
        ("FREQ=SECONDLY", "FREQ=SECONDLY is not supported"),
        ("FREQ=FORTNIGHTLY", "FREQ=FORTNIGHTLY is not a frequency"),
        ("BYDAY=MO", "FREQ is required"),
        ("FREQ=DAILY;FREQ=WEEKLY", "FREQ appears more than once"),
        ("FREQ=DAILY;INTERVAL", "'INTERVAL' is not a rule part"),
        ("FREQ=DAILY;BYDAY=", "BYDAY needs a value"),
        ("FREQ=DAILY;=3", "no name"),
        ("FREQ=DAILY;FOO=1", "unknown rule part 'FOO'"),
        (
            "FREQ=DAILY;BYHOUR=9",
            "BYHOUR is not supported: the time of day comes from the task's due",
        ),
        ("FREQ=DAILY;BYMINUTE=0,30", "BYMINUTE is not supported"),
        (
            "FREQ=DAILY;DTSTART=20260101",
            "DTSTART is not part of the rule",
        ),
        (
            "DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY",
            "only the RRULE value",
        ),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0 is not valid"),
        ("FREQ=DAILY;INTERVAL=two", "INTERVAL=TWO is not valid"),
        ("FREQ=DAILY;INTERVAL=1001", "from 1 to 1000"),
        ("FREQ=DAILY;COUNT=0", "COUNT=0 is not valid"),
        ("FREQ=DAILY;COUNT=-3", "COUNT=-3 is not valid"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20261231", "either COUNT or UNTIL"),
        (
            "FREQ=DAILY;UNTIL=2026-12-31",
            "UNTIL=2026-12-31 is not a date",
        ),
        ("FREQ=DAILY;UNTIL=20261332", "UNTIL=20261332 is not a date"),
        ("FREQ=DAILY;UNTIL=20261231T250000Z", "is not a date"),
        ("FREQ=DAILY;UNTIL=20261231T1200€0", "is not a date"),
        ("FREQ=DAILY;UNTIL=20261231T120000+01", "is not a date"),
        ("FREQ=WEEKLY;WKST=XY", "WKST=XY is not a weekday"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY value 'XX' is not a weekday"),
        ("FREQ=WEEKLY;BYDAY=MO,", "BYDAY value '' is not a weekday"),
        ("FREQ=WEEKLY;BYDAY=M", "BYDAY value 'M' is not a weekday"),
        ("FREQ=WEEKLY;BYDAY=2MO", "BYDAY=2MO: a numbered weekday"),
        ("FREQ=DAILY;BYDAY=-1FR", "needs FREQ=MONTHLY or FREQ=YEARLY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "a month has at most 5"),
        ("FREQ=MONTHLY;BYDAY=0MO", "a month has at most 5"),
        ("FREQ=YEARLY;BYDAY=54MO", "a year has at most 53"),
        (
            "FREQ=MONTHLY;BYDAY=XMO",
            "BYDAY value 'XMO' is not a weekday",
        ),
        (
            "FREQ=YEARLY;BYWEEKNO=20;BYDAY=1MO",
            "cannot be combined with BYWEEKNO",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=32",
            "BYMONTHDAY value '32' is not valid",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=0",
            "BYMONTHDAY value '0' is not valid",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1,,2",
            "BYMONTHDAY has an empty value",
        ),
        (
            "FREQ=WEEKLY;BYMONTHDAY=1",
            "BYMONTHDAY cannot be used with FREQ=WEEKLY",
        ),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH value '13' is not valid"),
        (
            "FREQ=YEARLY;BYMONTH=JAN",
            "BYMONTH value 'JAN' is not valid",
        ),
        ("FREQ=MONTHLY;BYYEARDAY=1", "BYYEARDAY needs FREQ=YEARLY"),
        (
            "FREQ=YEARLY;BYYEARDAY=367",
            "BYYEARDAY value '367' is not valid",
        ),
        ("FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO needs FREQ=YEARLY"),
        (
            "FREQ=YEARLY;BYWEEKNO=54",
            "BYWEEKNO value '54' is not valid",
        ),
        ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS picks among"),
        (
            "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=8",
            "BYSETPOS value '8' is not valid",
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0",
            "BYSETPOS value '0' is not valid",
        ),
        (
            "FREQ=MONTHLY;BYDAY=FR,1MO;BYSETPOS=1",
            "mixes plain and numbered weekdays",
        ),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "never matches a date",
        ),
        (
            "FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
            "never matches a date",
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO;BYMONTHDAY=1,2;BYSETPOS=3",
            "never matches a date",
        ),
        (long.as_str(), "at most 500 characters"),
    ] {
        let err = Recurrence::parse(input, Anchor::Due).expect_err(input);
        assert_eq!(err.field, "recurrence.rrule", "{input}");
        assert!(err.message.contains(says), "{input}: {}", err.message);
    }
}

#[test]
fn rules_that_only_some_starts_run_dry_are_accepted() {
    // Every other month from January never reaches February, but from a
    // February due it does; the parse cannot know the due, so it accepts.
    let r = rec("FREQ=MONTHLY;INTERVAL=2;BYMONTH=2");
    assert_eq!(
        upcoming(&r.rrule, "2026-01-01", berlin(), 1, 3),
        Vec::<String>::new()
    );
    assert_eq!(
        upcoming(&r.rrule, "2026-02-01", berlin(), 1, 2),
        ["2027-02-01", "2028-02-01"]
    );
    // February 29th every fourth year: only leap years from a leap year.
    let r = rec("FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29");
    assert_eq!(
        upcoming(&r.rrule, "2024-02-29", berlin(), 1, 2),
        ["2028-02-29", "2032-02-29"]
    );
    assert_eq!(
        upcoming(&r.rrule, "2025-01-10", berlin(), 1, 2),
        Vec::<String>::new()
    );
}

#[test]
fn serde_shape() {
    let r: Recurrence = serde_json::from_str(r#"{"rrule":"FREQ=DAILY"}"#).unwrap();
    assert_eq!(r.anchor, Anchor::Due);
    let r: Recurrence =
        serde_json::from_str(r#"{"rrule":"FREQ=WEEKLY;BYDAY=MO","anchor":"completion"}"#).unwrap();
    assert_eq!(r.anchor, Anchor::Completion);
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"rrule":"FREQ=WEEKLY;BYDAY=MO","anchor":"completion"}"#
    );
    assert!(serde_json::from_str::<Recurrence>(r#"{"rrule":"FREQ=DAILY","every":2}"#).is_err());
    assert!(
        serde_json::from_str::<Recurrence>(r#"{"rrule":"FREQ=DAILY","anchor":"start"}"#).is_err()
    );
}

// --------------------------------------------------------- time zones, DST

#[test]
fn daily_at_nine_stays_at_nine_across_spring_change() {
    // Europe/Berlin moves from +01:00 to +02:00 on Sunday 29 March 2026.
    assert_eq!(
        upcoming("FREQ=DAILY", "2026-03-27T09:00:00+01:00", berlin(), 1, 4),
        [
            "2026-03-28T09:00:00+01:00",
            "2026-03-29T09:00:00+02:00",
            "2026-03-30T09:00:00+02:00",
            "2026-03-31T09:00:00+02:00",
        ]
    );
}

#[test]
fn daily_at_nine_stays_at_nine_across_autumn_change() {
    // And back to +01:00 on Sunday 25 October 2026.
    assert_eq!(
        upcoming("FREQ=DAILY", "2026-10-23T09:00:00+02:00", berlin(), 1, 4),
        [
            "2026-10-24T09:00:00+02:00",
            "2026-10-25T09:00:00+01:00",
            "2026-10-26T09:00:00+01:00",
            "2026-10-27T09:00:00+01:00",
        ]
    );
    // next_due walks the same way, one occurrence at a time.
    let r = rec("FREQ=DAILY");
    let mut d = due("2026-10-24T09:00:00+02:00");
    let mut seen = Vec::new();
    for i in 1..=3 {
        d = r
            .next_due(&d, berlin(), i, utc("2026-01-01T00:00:00Z"))
            .unwrap();
        seen.push(d.to_string());
    }
    assert_eq!(
        seen,
        [
            "2026-10-25T09:00:00+01:00",
            "2026-10-26T09:00:00+01:00",
            "2026-10-27T09:00:00+01:00"
        ]
    );
}

#[test]
fn the_due_is_read_in_the_task_zone_whatever_offset_it_was_written_with() {
    // 08:00Z is 09:00 in Berlin in winter; the series stays at 09:00 Berlin.
    assert_eq!(
        upcoming("FREQ=WEEKLY", "2026-03-23T08:00:00Z", berlin(), 1, 2),
        ["2026-03-30T09:00:00+02:00", "2026-04-06T09:00:00+02:00"]
    );
    // The same instant read in New York is 04:00 local, and stays there.
    let ny: Tz = "America/New_York".parse().unwrap();
    assert_eq!(
        upcoming("FREQ=WEEKLY", "2026-03-02T09:00:00Z", ny, 1, 2),
        ["2026-03-09T04:00:00-04:00", "2026-03-16T04:00:00-04:00"]
    );
}

#[test]
fn a_time_the_spring_change_skips_moves_forward_by_the_gap() {
    // 02:30 does not exist in Berlin on 29 March 2026; that occurrence is
    // at 03:30 (+02:00), the instant 02:30 +01:00 would have been.
    assert_eq!(
        upcoming("FREQ=DAILY", "2026-03-28T02:30:00+01:00", berlin(), 1, 2),
        ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"]
    );
}

#[test]
fn a_time_the_autumn_change_repeats_takes_the_first() {
    assert_eq!(
        upcoming("FREQ=DAILY", "2026-10-24T02:30:00+02:00", berlin(), 1, 2),
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    );
}

#[test]
fn dates_recur_as_dates() {
    let tz = berlin();
    // 2026-11-23 is a Monday.
    assert_eq!(
        upcoming("FREQ=WEEKLY;BYDAY=MO,TH", "2026-11-23", tz, 1, 3),
        ["2026-11-26", "2026-11-30", "2026-12-03"]
    );
    assert_eq!(
        upcoming("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-01-31", tz, 1, 3),
        ["2026-02-28", "2026-03-31", "2026-04-30"]
    );
    // Without BYMONTHDAY the day comes from the due; months without a 31st are skipped.
    assert_eq!(
        upcoming("FREQ=MONTHLY", "2026-01-31", tz, 1, 3),
        ["2026-03-31", "2026-05-31", "2026-07-31"]
    );
    // The last weekday of the month.
    assert_eq!(
        upcoming(
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            "2026-01-30",
            tz,
            1,
            3
        ),
        ["2026-02-27", "2026-03-31", "2026-04-30"]
    );
    // A date is a date in any zone, even one a day ahead of UTC.
    let kiritimati: Tz = "Pacific/Kiritimati".parse().unwrap();
    assert_eq!(
        upcoming("FREQ=WEEKLY;BYDAY=MO,TH", "2026-11-23", kiritimati, 1, 2),
        ["2026-11-26", "2026-11-30"]
    );
    // With BYMONTH a numbered weekday counts within the month: Thanksgiving.
    assert_eq!(
        upcoming("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "2025-11-27", tz, 1, 2),
        ["2026-11-26", "2027-11-25"]
    );
    // Plain and numbered weekdays together: every Friday and the first Monday.
    assert_eq!(
        upcoming("FREQ=MONTHLY;BYDAY=FR,1MO", "2026-01-01", tz, 1, 7),
        [
            "2026-01-02",
            "2026-01-05",
            "2026-01-09",
            "2026-01-16",
            "2026-01-23",
            "2026-01-30",
            "2026-02-02"
        ]
    );
    // The first Friday is also a Friday: it comes once.
    assert_eq!(
        upcoming("FREQ=MONTHLY;BYDAY=FR,1FR", "2026-01-01", tz, 1, 3),
        ["2026-01-02", "2026-01-09", "2026-01-16"]
    );
    // A due that does not match the rule still counts forward from itself.
    assert_eq!(
        upcoming("FREQ=WEEKLY;BYDAY=MO,TH", "2026-11-25", tz, 1, 2),
        ["2026-11-26", "2026-11-30"]
    );
}

// ---------------------------------------------------------------- anchors

#[test]
fn anchor_due_ignores_when_the_task_was_done() {
    let r = rec("FREQ=DAILY;INTERVAL=3");
    assert_eq!(
        next(&r, "2026-11-20", 1, "2026-11-24T10:00:00Z").unwrap(),
        "2026-11-23"
    );
    assert_eq!(
        next(&r, "2026-11-20T09:00:00+01:00", 1, "2026-11-24T10:00:00Z").unwrap(),
        "2026-11-23T09:00:00+01:00"
    );
}

#[test]
fn anchor_completion_counts_from_the_completion_date() {
    let r = completion("FREQ=DAILY;INTERVAL=3");
    // Done on the 24th (Berlin): next in three days.
    assert_eq!(
        next(&r, "2026-11-20", 1, "2026-11-24T10:00:00Z").unwrap(),
        "2026-11-27"
    );
    // 23:30Z on the 24th is already the 25th in Berlin.
    assert_eq!(
        next(&r, "2026-11-20", 1, "2026-11-24T23:30:00Z").unwrap(),
        "2026-11-28"
    );
    // Done early counts too.
    assert_eq!(
        next(&r, "2026-11-30", 1, "2026-11-24T10:00:00Z").unwrap(),
        "2026-11-27"
    );
    // Weekly on Monday and Thursday, done on Wednesday the 25th: Thursday.
    let r = completion("FREQ=WEEKLY;BYDAY=MO,TH");
    assert_eq!(
        next(&r, "2026-11-16", 1, "2026-11-25T12:00:00Z").unwrap(),
        "2026-11-26"
    );
    // Done on a Thursday: the next Monday, not that same Thursday.
    assert_eq!(
        next(&r, "2026-11-16", 1, "2026-11-26T12:00:00Z").unwrap(),
        "2026-11-30"
    );
    // Monthly without a day: a month after the completion date.
    let r = completion("FREQ=MONTHLY");
    assert_eq!(
        next(&r, "2026-10-01", 1, "2026-11-24T12:00:00Z").unwrap(),
        "2026-12-24"
    );
}

#[test]
fn anchor_completion_keeps_the_time_of_day_of_a_timed_due() {
    let r = completion("FREQ=DAILY");
    // Done at 08:00 local, before the day's 09:00: that 09:00 is next.
    assert_eq!(
        next(&r, "2026-11-20T09:00:00+01:00", 1, "2026-11-24T07:00:00Z").unwrap(),
        "2026-11-24T09:00:00+01:00"
    );
    // Done at 11:00 local: tomorrow 09:00.
    assert_eq!(
        next(&r, "2026-11-20T09:00:00+01:00", 1, "2026-11-24T10:00:00Z").unwrap(),
        "2026-11-25T09:00:00+01:00"
    );
    let r = completion("FREQ=DAILY;INTERVAL=3");
    assert_eq!(
        next(&r, "2026-11-20T09:00:00+01:00", 1, "2026-11-24T10:00:00Z").unwrap(),
        "2026-11-27T09:00:00+01:00"
    );
    // The time of day is the due's in the task's zone, not in its offset,
    // and the new due carries the zone's offset (summer time here).
    let r = completion("FREQ=WEEKLY");
    assert_eq!(
        next(&r, "2026-03-02T08:00:00Z", 1, "2026-03-26T12:00:00Z").unwrap(),
        "2026-04-02T09:00:00+02:00"
    );
}

// ---------------------------------------------------------- COUNT, UNTIL

#[test]
fn count_is_counted_by_the_occurrence_index() {
    let r = rec("FREQ=DAILY;COUNT=3");
    let done = utc("2026-12-01T12:00:00Z");
    let at = |i| {
        r.next_due(&due("2026-12-01"), berlin(), i, done)
            .map(|d| d.to_string())
    };
    assert_eq!(at(0).unwrap(), "2026-12-02", "index 0 counts as 1");
    assert_eq!(at(1).unwrap(), "2026-12-02");
    assert_eq!(at(2).unwrap(), "2026-12-02");
    assert_eq!(at(3), None, "the third of three has no next");
    assert_eq!(at(4), None);
    assert_eq!(r.upcoming(&due("2026-12-01"), berlin(), 1, 10).len(), 2);
    assert_eq!(r.upcoming(&due("2026-12-01"), berlin(), 2, 10).len(), 1);
    assert!(r.upcoming(&due("2026-12-01"), berlin(), 3, 10).is_empty());
    let c = completion("FREQ=DAILY;COUNT=2");
    assert!(c.next_due(&due("2026-12-01"), berlin(), 1, done).is_some());
    assert_eq!(c.next_due(&due("2026-12-01"), berlin(), 2, done), None);
}

#[test]
fn until_ends_the_series() {
    let tz = berlin();
    // A date UNTIL includes its day.
    assert_eq!(
        upcoming("FREQ=DAILY;UNTIL=20261203", "2026-12-01", tz, 1, 10),
        ["2026-12-02", "2026-12-03"]
    );
    assert_eq!(
        upcoming(
            "FREQ=DAILY;UNTIL=20261203",
            "2026-12-01T23:30:00+01:00",
            tz,
            1,
            10
        ),
        ["2026-12-02T23:30:00+01:00", "2026-12-03T23:30:00+01:00"]
    );
    // A UTC UNTIL is an instant, inclusive.
    assert_eq!(
        upcoming(
            "FREQ=DAILY;UNTIL=20261203T080000Z",
            "2026-12-01T09:00:00+01:00",
            tz,
            1,
            10
        ),
        ["2026-12-02T09:00:00+01:00", "2026-12-03T09:00:00+01:00"]
    );
    assert_eq!(
        upcoming(
            "FREQ=DAILY;UNTIL=20261203T075959Z",
            "2026-12-01T09:00:00+01:00",
            tz,
            1,
            10
        ),
        ["2026-12-02T09:00:00+01:00"]
    );
    // For an all-day due it is compared with the day's local midnight.
    assert_eq!(
        upcoming("FREQ=DAILY;UNTIL=20261202T230000Z", "2026-12-01", tz, 1, 10),
        ["2026-12-02", "2026-12-03"]
    );
    // A floating UNTIL is a local time in the task's zone.
    assert_eq!(
        upcoming(
            "FREQ=DAILY;UNTIL=20261203T090000",
            "2026-12-01T09:00:00+01:00",
            tz,
            1,
            10
        ),
        ["2026-12-02T09:00:00+01:00", "2026-12-03T09:00:00+01:00"]
    );
    assert_eq!(
        upcoming("FREQ=DAILY;UNTIL=20261203T000000", "2026-12-01", tz, 1, 10),
        ["2026-12-02", "2026-12-03"]
    );
    // At the end, and past it, there is no next.
    let r = rec("FREQ=DAILY;UNTIL=20261203");
    assert_eq!(next(&r, "2026-12-03", 7, "2026-12-03T10:00:00Z"), None);
    assert_eq!(next(&r, "2027-01-01", 7, "2027-01-01T10:00:00Z"), None);
    let r = completion("FREQ=WEEKLY;UNTIL=20261210");
    assert_eq!(
        next(&r, "2026-12-01", 1, "2026-12-02T10:00:00Z").unwrap(),
        "2026-12-09"
    );
    assert_eq!(next(&r, "2026-12-01", 1, "2026-12-05T10:00:00Z"), None);
}

// ------------------------------------------------------------- robustness

#[test]
fn rules_that_run_dry_end_quietly_and_quickly() {
    let started = std::time::Instant::now();
    let tz = berlin();
    let done = utc("2026-02-01T00:00:00Z");
    // Accepted, but from the 30th there is no February.
    let r = rec("FREQ=MONTHLY;BYMONTH=2");
    assert!(r.upcoming(&due("2026-01-30"), tz, 1, 5).is_empty());
    assert_eq!(
        r.next_due(&due("2026-01-30T09:00:00+01:00"), tz, 1, done),
        None
    );
    // Stored rules that would not parse today (or were written by hand) end the series.
    for rrule in [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;BYSETPOS=7",
        "FREQ=HOURLY",
        "not a rule",
        "",
    ] {
        for anchor in [Anchor::Due, Anchor::Completion] {
            let r = Recurrence {
                rrule: rrule.to_owned(),
                anchor,
            };
            assert!(
                r.upcoming(&due("2026-01-30"), tz, 1, 5).is_empty(),
                "{rrule}"
            );
            assert_eq!(
                r.next_due(&due("2026-01-30T09:00:00+01:00"), tz, 1, done),
                None,
                "{rrule}"
            );
        }
    }
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn limits_and_extreme_dues() {
    let tz = berlin();
    let r = rec("FREQ=DAILY");
    assert_eq!(
        r.upcoming(&due("2026-01-01"), tz, 1, 1000).len(),
        UPCOMING_MAX
    );
    assert!(r.upcoming(&due("2026-01-01"), tz, 1, 0).is_empty());
    assert_eq!(
        texts(&r.upcoming(&due("9999-12-30"), tz, 1, 5)),
        ["9999-12-31"]
    );
    assert!(r.upcoming(&due("9999-12-31"), tz, 1, 5).is_empty());
    assert_eq!(
        texts(&r.upcoming(&due("0001-01-01"), tz, 1, 1)),
        ["0001-01-02"]
    );
    let far = Due::Date(NaiveDate::from_ymd_opt(200_000, 1, 1).unwrap());
    assert!(r.upcoming(&far, tz, 1, 5).is_empty());
    let done = utc("2026-01-01T00:00:00Z");
    assert_eq!(r.next_due(&far, tz, 1, done), None);
    // Near the end of the supported range: whatever comes, it does not panic.
    let _ = r.next_due(&due("9999-12-31T23:00:00+01:00"), tz, 1, done);
    assert_eq!(
        r.next_due(&due("9999-12-31T23:00:00-01:00"), tz, 1, done),
        None
    );
}

// -------------------------------------------------------------- proptest

/// A random rule in the shape users write: FREQ, INTERVAL, and optionally
/// BYDAY, BYMONTHDAY, BYMONTH and COUNT.
fn rule_text() -> impl Strategy<Value = String> {
    let freq = prop_oneof![
        Just("DAILY"),
        Just("WEEKLY"),
        Just("MONTHLY"),
        Just("YEARLY")
    ];
    let weekday = prop_oneof![
        Just("MO"),
        Just("TU"),
        Just("WE"),
        Just("TH"),
        Just("FR"),
        Just("SA"),
        Just("SU")
    ];
    let by_day =
        proptest::collection::vec((prop_oneof![Just(0i8), -5i8..=-1, 1i8..=5], weekday), 1..4);
    let month_day = prop_oneof![1i8..=31, -31i8..=-1];
    (
        freq,
        1u8..5,
        proptest::option::of(by_day),
        proptest::option::of(proptest::collection::vec(month_day, 1..4)),
        proptest::option::of(proptest::collection::vec(1u8..=12, 1..4)),
        proptest::option::of(1u32..12),
    )
        .prop_map(|(freq, interval, by_day, month_days, months, count)| {
            let mut s = format!("FREQ={freq};INTERVAL={interval}");
            if let Some(days) = by_day {
                let numbered = matches!(freq, "MONTHLY" | "YEARLY");
                let days: Vec<String> = days
                    .into_iter()
                    .map(|(n, d)| {
                        if n != 0 && numbered {
                            format!("{n}{d}")
                        } else {
                            d.to_owned()
                        }
                    })
                    .collect();
                s += &format!(";BYDAY={}", days.join(","));
            }
            if let Some(m) = month_days.filter(|_| freq != "WEEKLY") {
                let m: Vec<String> = m.iter().map(ToString::to_string).collect();
                s += &format!(";BYMONTHDAY={}", m.join(","));
            }
            if let Some(m) = months {
                let m: Vec<String> = m.iter().map(ToString::to_string).collect();
                s += &format!(";BYMONTH={}", m.join(","));
            }
            if let Some(c) = count {
                s += &format!(";COUNT={c}");
            }
            s
        })
}

fn zone() -> impl Strategy<Value = Tz> {
    prop_oneof![
        Just(Tz::UTC),
        Just(chrono_tz::Europe::Berlin),
        Just(chrono_tz::America::New_York),
        Just(chrono_tz::Australia::Lord_Howe),
        Just(chrono_tz::Asia::Kolkata),
        Just(chrono_tz::Pacific::Auckland),
    ]
}

/// A due: a date, or a time of day from 04:00 (clear of daylight-saving
/// changes, which happen earlier in all these zones) in the task's zone,
/// written with the zone's offset or in UTC.
fn due_in(tz: Tz) -> impl Strategy<Value = Due> {
    let day = (1990i32..2040, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap());
    prop_oneof![
        day.clone().prop_map(Due::Date),
        (day, 4u32..24, 0u32..4, any::<bool>()).prop_map(move |(d, h, q, in_utc)| {
            let local = d.and_hms_opt(h, q * 15, 0).unwrap();
            let t = tz.from_local_datetime(&local).earliest().unwrap();
            let offset = if in_utc {
                FixedOffset::east_opt(0).unwrap()
            } else {
                t.offset().fix()
            };
            Due::At(t.with_timezone(&offset))
        }),
    ]
}

fn local_time(d: &Due, tz: Tz) -> Option<NaiveTime> {
    match d {
        Due::Date(_) => None,
        Due::At(t) => Some(t.with_timezone(&tz).time()),
    }
}

use chrono::Offset as _;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn upcoming_and_next_due_agree(
        rule in rule_text(),
        (tz, current) in zone().prop_flat_map(|tz| (Just(tz), due_in(tz))),
        index in 1u32..5,
        limit in 0usize..25,
        completed_hours in 0i64..2000,
    ) {
        let parsed = Recurrence::parse(&rule, Anchor::Due);
        prop_assume!(parsed.is_ok());
        let r = parsed.unwrap();
        let count = rule.split(';').find_map(|p| p.strip_prefix("COUNT=")).map(|c| c.parse::<u32>().unwrap());

        let ups = r.upcoming(&current, tz, index, limit);
        prop_assert!(ups.len() <= limit);
        if let Some(c) = count {
            prop_assert!(ups.len() <= c.saturating_sub(index) as usize, "{} > COUNT - index", ups.len());
        }
        let mut prev = current.starts_at(tz);
        for d in &ups {
            prop_assert_eq!(std::mem::discriminant(d), std::mem::discriminant(&current));
            prop_assert!(d.starts_at(tz) > prev, "{} not after {}", d, prev);
            prev = d.starts_at(tz);
            // Timed dues keep their local time of day (seconds dropped).
            if let Some(t) = local_time(&current, tz) {
                prop_assert_eq!(local_time(d, tz), Some(t));
            }
        }

        let completed_at = current.starts_at(tz) + Duration::hours(completed_hours);
        let first = r.upcoming(&current, tz, index, 1).first().copied();
        prop_assert_eq!(r.next_due(&current, tz, index, completed_at), first);

        // Restarting the series at each occurrence walks the same dates.
        for (k, pair) in ups.windows(2).enumerate() {
            let i = index + 1 + u32::try_from(k).unwrap();
            prop_assert_eq!(r.next_due(&pair[0], tz, i, completed_at), Some(pair[1]));
        }

        // With the completion anchor the next due comes after the completion.
        let c = Recurrence { anchor: Anchor::Completion, ..r.clone() };
        if let Some(n) = c.next_due(&current, tz, index, completed_at) {
            prop_assert_eq!(std::mem::discriminant(&n), std::mem::discriminant(&current));
            match n {
                Due::Date(d) => prop_assert!(d > completed_at.with_timezone(&tz).date_naive()),
                Due::At(t) => prop_assert!(t.with_timezone(&Utc) > completed_at),
            }
        }
    }
}

#[test]
fn fractions_of_a_second_are_dropped_from_the_time_of_day() {
    let d = due("2026-12-01T09:00:30.5+01:00");
    let ups = rec("FREQ=DAILY").upcoming(&d, berlin(), 1, 1);
    assert_eq!(texts(&ups), ["2026-12-02T09:00:30+01:00"]);
    if let Due::At(t) = ups[0] {
        assert_eq!(t.nanosecond(), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// At the edges of the years a due may take, expanding a rule, moving
    /// reminders along and counting reminders back stay within range: no
    /// panic, whatever the user wrote.
    #[test]
    fn dues_at_the_edges_of_the_range_never_overflow(
        rule in rule_text(),
        tz in zone(),
        year in prop_oneof![Just(1i32), Just(2i32), Just(9998i32), Just(9999i32)],
        month in 1u32..=12,
        day in 1u32..=28,
        hour in prop::option::of(0u32..24),
        before_days in 0u32..=crate::reminder::OFFSET_MAX_DAYS,
    ) {
        let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
        let text = match hour {
            None => date.to_string(),
            Some(h) => format!("{date}T{h:02}:00:00+00:00"),
        };
        let current = Due::parse("due", &text).unwrap();
        let reminders = [
            crate::reminder::Reminder::Before(crate::reminder::Offset::new(before_days, 0).unwrap()),
            crate::reminder::Reminder::At(FixedOffset::east_opt(0).unwrap().from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap())),
        ];
        for r in &reminders {
            let _ = r.fires_at(Some(&current), tz);
        }
        if let Ok(r) = Recurrence::parse(&rule, Anchor::Due) {
            for next in r.upcoming(&current, tz, 1, 20) {
                for rem in &reminders {
                    let _ = rem.shifted(&current, &next, tz).fires_at(Some(&next), tz);
                }
            }
            let done = current.starts_at(tz);
            let _ = r.next_due(&current, tz, 1, done);
            let c = Recurrence { anchor: Anchor::Completion, ..r };
            let _ = c.next_due(&current, tz, 1, done);
        }
    }
}
