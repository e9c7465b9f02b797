//! The recurrence examples of RFC 5545 section 3.8.5.3, run through the
//! public API (`Recurrence::parse`, `upcoming`, `next_due`) and compared with
//! the date lists the RFC prints. Each example runs twice: as a timed due
//! (DTSTART 09:00 America/New_York, checking the EDT/EST offsets too) and as
//! an all-day due on the same date. The examples our rules cannot express
//! (HOURLY, MINUTELY, BYHOUR, BYMINUTE) are checked to be refused clearly.
//!
//! Expected lists are written close to the RFC's notation:
//! `"1997 EDT: September 2-30; October 1-25 | 1997 EST: October 26-31"`,
//! where `a-b` is a run of days and `a-b/2` every other day of a run (for
//! the RFC's "2,4,6...24"). Where the RFC ends a list with "..." the rule
//! goes on forever and only the printed dates are compared.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use dueflow_domain::due::Due;
use dueflow_domain::recurrence::{Anchor, Recurrence};

const NY: Tz = chrono_tz::America::New_York;

/// The dates and UTC offsets of an RFC-style list, in order.
fn expand(list: &str) -> Vec<(NaiveDate, &'static str)> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut out = Vec::new();
    for group in list.split('|') {
        let (head, body) = group.split_once(':').expect("YEAR ZONE: ...");
        let mut head = head.split_whitespace();
        let year: i32 = head.next().unwrap().parse().unwrap();
        let offset = match head.next().unwrap() {
            "EDT" => "-04:00",
            "EST" => "-05:00",
            other => panic!("zone {other}"),
        };
        for part in body.split(';') {
            let (name, days) = part.trim().split_once(' ').expect("Month days");
            let month = MONTHS.iter().position(|m| *m == name).expect(name) as u32 + 1;
            for item in days.split(',') {
                let item = item.trim();
                let (range, step) = item.split_once('/').unwrap_or((item, "1"));
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                let (a, b, step): (u32, u32, usize) = (
                    a.parse().unwrap(),
                    b.parse().unwrap(),
                    step.parse().unwrap(),
                );
                for day in (a..=b).step_by(step) {
                    out.push((NaiveDate::from_ymd_opt(year, month, day).unwrap(), offset));
                }
            }
        }
    }
    out
}

/// Run one example whose DTSTART is its first occurrence.
fn example(dtstart: &str, rrule: &str, expected: &str) {
    run(dtstart, rrule, expected, true);
}

/// Run one example whose DTSTART is not an occurrence (the RFC excludes it
/// with EXDATE); the dues after it are the whole list.
fn example_off_pattern_start(dtstart: &str, rrule: &str, expected: &str) {
    run(dtstart, rrule, expected, false);
}

fn run(dtstart: &str, rrule: &str, expected: &str, dtstart_is_first: bool) {
    let start = NaiveDateTime::parse_from_str(dtstart, "%Y%m%dT%H%M%S").unwrap();
    let timed = Due::At(
        NY.from_local_datetime(&start)
            .single()
            .unwrap()
            .fixed_offset(),
    );
    let all_day = Due::Date(start.date());
    let expected = expand(expected);
    assert_eq!(
        expected[0].0 == start.date(),
        dtstart_is_first,
        "{rrule}: is DTSTART the first date of the list?"
    );
    let after_start = if dtstart_is_first {
        &expected[1..]
    } else {
        &expected[..]
    };
    let timed_want: Vec<String> = after_start
        .iter()
        .map(|(d, offset)| format!("{}T09:00:00{offset}", d.format("%Y-%m-%d")))
        .collect();
    let day_want: Vec<String> = after_start
        .iter()
        .map(|(d, _)| d.format("%Y-%m-%d").to_string())
        .collect();

    let rule = Recurrence::parse(rrule, Anchor::Due).unwrap_or_else(|e| panic!("{rrule}: {e}"));
    let ends = rrule.contains("COUNT=") || rrule.contains("UNTIL=");
    check(
        &rule,
        &timed,
        &timed_want,
        ends,
        &format!("{rrule} (timed)"),
    );
    check(
        &rule,
        &all_day,
        &day_want,
        ends,
        &format!("{rrule} (all day)"),
    );
}

/// `upcoming` and a chain of `next_due` calls both give `want`; a series
/// with COUNT or UNTIL ends right after it.
fn check(rule: &Recurrence, start: &Due, want: &[String], ends: bool, what: &str) {
    let got: Vec<String> = rule
        .upcoming(start, NY, 1, 100)
        .iter()
        .map(ToString::to_string)
        .collect();
    if ends {
        assert_eq!(got, want[..want.len().min(100)], "{what}: upcoming");
    } else {
        assert!(
            got.len() >= want.len(),
            "{what}: upcoming stopped early: {got:?}"
        );
        assert_eq!(got[..want.len()], *want, "{what}: upcoming");
    }

    let completed_at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let mut current = *start;
    for (i, w) in want.iter().enumerate() {
        let index = u32::try_from(i).unwrap() + 1;
        current = rule
            .next_due(&current, NY, index, completed_at)
            .unwrap_or_else(|| panic!("{what}: the series ended before {w}"));
        assert_eq!(
            current.to_string(),
            *w,
            "{what}: next_due after occurrence {index}"
        );
    }
    if ends {
        let index = u32::try_from(want.len()).unwrap() + 1;
        assert_eq!(
            rule.next_due(&current, NY, index, completed_at),
            None,
            "{what}: ends"
        );
    }
}

// ------------------------------------------------------------------ daily

#[test]
fn daily_for_10_occurrences() {
    example(
        "19970902T090000",
        "FREQ=DAILY;COUNT=10",
        "1997 EDT: September 2-11",
    );
}

#[test]
fn daily_for_10_occurrences_counts_from_the_current_position() {
    let rule = Recurrence::parse("FREQ=DAILY;COUNT=10", Anchor::Due).unwrap();
    // The 5th occurrence (6 September) is followed by five more.
    let fifth = Due::Date(NaiveDate::from_ymd_opt(1997, 9, 6).unwrap());
    let got: Vec<String> = rule
        .upcoming(&fifth, NY, 5, 100)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        [
            "1997-09-07",
            "1997-09-08",
            "1997-09-09",
            "1997-09-10",
            "1997-09-11"
        ]
    );
}

#[test]
fn daily_until_december_24_1997() {
    example(
        "19970902T090000",
        "FREQ=DAILY;UNTIL=19971224T000000Z",
        "1997 EDT: September 2-30; October 1-25 \
         | 1997 EST: October 26-31; November 1-30; December 1-23",
    );
}

#[test]
fn every_other_day_forever() {
    example(
        "19970902T090000",
        "FREQ=DAILY;INTERVAL=2",
        "1997 EDT: September 2-30/2; October 2-24/2 \
         | 1997 EST: October 26-30/2; November 1-29/2; December 1,3",
    );
}

#[test]
fn every_10_days_5_occurrences() {
    example(
        "19970902T090000",
        "FREQ=DAILY;INTERVAL=10;COUNT=5",
        "1997 EDT: September 2,12,22; October 2,12",
    );
}

#[test]
fn every_day_in_january_for_3_years() {
    let want = "1998 EST: January 1-31 | 1999 EST: January 1-31 | 2000 EST: January 1-31";
    example(
        "19980101T090000",
        "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
        want,
    );
    example(
        "19980101T090000",
        "FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1",
        want,
    );
}

// ----------------------------------------------------------------- weekly

#[test]
fn weekly_for_10_occurrences() {
    example(
        "19970902T090000",
        "FREQ=WEEKLY;COUNT=10",
        "1997 EDT: September 2,9,16,23,30; October 7,14,21 | 1997 EST: October 28; November 4",
    );
}

#[test]
fn weekly_until_december_24_1997() {
    example(
        "19970902T090000",
        "FREQ=WEEKLY;UNTIL=19971224T000000Z",
        "1997 EDT: September 2,9,16,23,30; October 7,14,21 \
         | 1997 EST: October 28; November 4,11,18,25; December 2,9,16,23",
    );
}

#[test]
fn every_other_week_forever() {
    example(
        "19970902T090000",
        "FREQ=WEEKLY;INTERVAL=2;WKST=SU",
        "1997 EDT: September 2,16,30; October 14 \
         | 1997 EST: October 28; November 11,25; December 9,23 \
         | 1998 EST: January 6,20; February 3,17",
    );
}

#[test]
fn weekly_on_tuesday_and_thursday_for_five_weeks() {
    let want = "1997 EDT: September 2,4,9,11,16,18,23,25,30; October 2";
    example(
        "19970902T090000",
        "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH",
        want,
    );
    example(
        "19970902T090000",
        "FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH",
        want,
    );
}

#[test]
fn every_other_week_on_monday_wednesday_friday_until_december_24() {
    example(
        "19970901T090000",
        "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
        "1997 EDT: September 1,3,5,15,17,19,29; October 1,3,13,15,17 \
         | 1997 EST: October 27,29,31; November 10,12,14,24,26,28; December 8,10,12,22",
    );
}

#[test]
fn every_other_week_on_tuesday_and_thursday_for_8_occurrences() {
    example(
        "19970902T090000",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH",
        "1997 EDT: September 2,4,16,18,30; October 2,14,16",
    );
}

// ---------------------------------------------------------------- monthly

#[test]
fn monthly_on_the_first_friday_for_10_occurrences() {
    example(
        "19970905T090000",
        "FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
        "1997 EDT: September 5; October 3 | 1997 EST: November 7; December 5 \
         | 1998 EST: January 2; February 6; March 6; April 3 | 1998 EDT: May 1; June 5",
    );
}

#[test]
fn monthly_on_the_first_friday_until_december_24_1997() {
    example(
        "19970905T090000",
        "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR",
        "1997 EDT: September 5; October 3 | 1997 EST: November 7; December 5",
    );
}

#[test]
fn every_other_month_on_the_first_and_last_sunday_for_10_occurrences() {
    example(
        "19970907T090000",
        "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU",
        "1997 EDT: September 7,28 | 1997 EST: November 2,30 \
         | 1998 EST: January 4,25; March 1,29 | 1998 EDT: May 3,31",
    );
}

#[test]
fn monthly_on_the_second_to_last_monday_for_6_months() {
    example(
        "19970922T090000",
        "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
        "1997 EDT: September 22; October 20 | 1997 EST: November 17; December 22 \
         | 1998 EST: January 19; February 16",
    );
}

#[test]
fn monthly_on_the_third_to_the_last_day_forever() {
    example(
        "19970928T090000",
        "FREQ=MONTHLY;BYMONTHDAY=-3",
        "1997 EDT: September 28 | 1997 EST: October 29; November 28; December 29 \
         | 1998 EST: January 29; February 26",
    );
}

#[test]
fn monthly_on_the_2nd_and_15th_for_10_occurrences() {
    example(
        "19970902T090000",
        "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15",
        "1997 EDT: September 2,15; October 2,15 | 1997 EST: November 2,15; December 2,15 \
         | 1998 EST: January 2,15",
    );
}

#[test]
fn monthly_on_the_first_and_last_day_for_10_occurrences() {
    example(
        "19970930T090000",
        "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1",
        "1997 EDT: September 30; October 1 | 1997 EST: October 31; November 1,30; December 1,31 \
         | 1998 EST: January 1,31; February 1",
    );
}

#[test]
fn every_18_months_on_the_10th_to_15th_for_10_occurrences() {
    example(
        "19970910T090000",
        "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15",
        "1997 EDT: September 10-15 | 1999 EST: March 10-13",
    );
}

#[test]
fn every_tuesday_every_other_month() {
    example(
        "19970902T090000",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
        "1997 EDT: September 2,9,16,23,30 | 1997 EST: November 4,11,18,25 \
         | 1998 EST: January 6,13,20,27; March 3,10,17,24,31",
    );
}

#[test]
fn every_friday_the_13th_forever() {
    // DTSTART (a Tuesday, 2 September 1997) is not a Friday the 13th; the
    // RFC removes it with EXDATE, we never count the current due anyway.
    example_off_pattern_start(
        "19970902T090000",
        "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
        "1998 EST: February 13; March 13; November 13 | 1999 EDT: August 13 \
         | 2000 EDT: October 13",
    );
}

#[test]
fn the_first_saturday_that_follows_the_first_sunday_of_the_month() {
    example(
        "19970913T090000",
        "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13",
        "1997 EDT: September 13; October 11 | 1997 EST: November 8; December 13 \
         | 1998 EST: January 10; February 7; March 7 | 1998 EDT: April 11; May 9; June 13",
    );
}

#[test]
fn the_third_instance_of_tuesday_wednesday_or_thursday_for_3_months() {
    example(
        "19970904T090000",
        "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3",
        "1997 EDT: September 4; October 7 | 1997 EST: November 6",
    );
}

#[test]
fn the_second_to_last_weekday_of_the_month() {
    example(
        "19970929T090000",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2",
        "1997 EDT: September 29 | 1997 EST: October 30; November 27; December 30 \
         | 1998 EST: January 29; February 26; March 30",
    );
}

#[test]
fn an_invalid_date_february_30_is_ignored() {
    example(
        "20070115T090000",
        "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5",
        "2007 EST: January 15,30; February 15 | 2007 EDT: March 15,30",
    );
}

// ----------------------------------------------------------------- yearly

#[test]
fn yearly_in_june_and_july_for_10_occurrences() {
    example(
        "19970610T090000",
        "FREQ=YEARLY;COUNT=10;BYMONTH=6,7",
        "1997 EDT: June 10; July 10 | 1998 EDT: June 10; July 10 | 1999 EDT: June 10; July 10 \
         | 2000 EDT: June 10; July 10 | 2001 EDT: June 10; July 10",
    );
}

#[test]
fn every_other_year_on_january_february_and_march_for_10_occurrences() {
    example(
        "19970310T090000",
        "FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3",
        "1997 EST: March 10 | 1999 EST: January 10; February 10; March 10 \
         | 2001 EST: January 10; February 10; March 10 \
         | 2003 EST: January 10; February 10; March 10",
    );
}

#[test]
fn every_third_year_on_the_1st_100th_and_200th_day_for_10_occurrences() {
    // BYYEARDAY is accepted (the rrule crate supports it) with FREQ=YEARLY.
    example(
        "19970101T090000",
        "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200",
        "1997 EST: January 1 | 1997 EDT: April 10; July 19 | 2000 EST: January 1 \
         | 2000 EDT: April 9; July 18 | 2003 EST: January 1 | 2003 EDT: April 10; July 19 \
         | 2006 EST: January 1",
    );
}

#[test]
fn every_20th_monday_of_the_year_forever() {
    example(
        "19970519T090000",
        "FREQ=YEARLY;BYDAY=20MO",
        "1997 EDT: May 19 | 1998 EDT: May 18 | 1999 EDT: May 17",
    );
}

#[test]
fn monday_of_week_number_20_forever() {
    // BYWEEKNO is accepted (the rrule crate supports it) with FREQ=YEARLY.
    example(
        "19970512T090000",
        "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
        "1997 EDT: May 12 | 1998 EDT: May 11 | 1999 EDT: May 17",
    );
}

#[test]
fn every_thursday_in_march_forever() {
    example(
        "19970313T090000",
        "FREQ=YEARLY;BYMONTH=3;BYDAY=TH",
        "1997 EST: March 13,20,27 | 1998 EST: March 5,12,19,26 | 1999 EST: March 4,11,18,25",
    );
}

#[test]
fn every_thursday_in_june_july_and_august_forever() {
    example(
        "19970605T090000",
        "FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8",
        "1997 EDT: June 5,12,19,26; July 3,10,17,24,31; August 7,14,21,28 \
         | 1998 EDT: June 4,11,18,25; July 2,9,16,23,30; August 6,13,20,27 \
         | 1999 EDT: June 3,10,17,24; July 1,8,15,22,29; August 5,12,19,26",
    );
}

#[test]
fn us_presidential_election_day_every_4_years() {
    example(
        "19961105T090000",
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
        "1996 EST: November 5 | 2000 EST: November 7 | 2004 EST: November 2",
    );
}

// ------------------------------------------------------------------- WKST

#[test]
fn week_start_monday_changes_the_weeks_of_an_every_other_week_rule() {
    example(
        "19970805T090000",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
        "1997 EDT: August 5,10,19,24",
    );
}

#[test]
fn week_start_sunday_changes_the_weeks_of_an_every_other_week_rule() {
    example(
        "19970805T090000",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
        "1997 EDT: August 5,17,19,31",
    );
}

// ---------------------------------------------- examples we do not support

#[test]
fn sub_daily_examples_are_refused_with_a_reason() {
    for (rrule, says) in [
        // Every 3 hours from 9:00 AM to 5:00 PM on a specific day.
        (
            "FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z",
            "FREQ=HOURLY is not supported",
        ),
        // Every 15 minutes for 6 occurrences.
        (
            "FREQ=MINUTELY;INTERVAL=15;COUNT=6",
            "FREQ=MINUTELY is not supported",
        ),
        // Every hour and a half for 4 occurrences.
        (
            "FREQ=MINUTELY;INTERVAL=90;COUNT=4",
            "FREQ=MINUTELY is not supported",
        ),
        // Every 20 minutes from 9:00 AM to 4:40 PM every day.
        (
            "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40",
            "BYHOUR is not supported: the time of day comes from the task's due",
        ),
        (
            "FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16",
            "not supported",
        ),
    ] {
        let err = Recurrence::parse(rrule, Anchor::Due).expect_err(rrule);
        assert_eq!(err.field, "recurrence.rrule");
        assert!(err.message.contains(says), "{rrule}: {}", err.message);
    }
}

#[test]
fn the_rrule_prefix_and_lower_case_are_accepted() {
    let rule = Recurrence::parse("rrule:freq=monthly;count=10;byday=1fr", Anchor::Due).unwrap();
    assert_eq!(rule.rrule, "FREQ=MONTHLY;BYDAY=1FR;COUNT=10");
}
