//! The text of a recurrence rule: parsing an RRULE value with messages that
//! name the offending part, its canonical printed form, and the bridge to the
//! `rrule` crate. COUNT and UNTIL stay here rather than in `rrule`: a series
//! restarts at every occurrence, and UNTIL is read in the task's zone.

use std::fmt;

use chrono::{DateTime, Month, NaiveDate, NaiveDateTime, Utc, Weekday};
use rrule::{Frequency, NWeekday, RRule, RRuleSet, Unvalidated};

/// Longest accepted rule text, in characters.
pub const RRULE_MAX_CHARS: usize = 500;
/// Largest accepted INTERVAL.
pub const INTERVAL_MAX: u16 = 1000;
/// Largest accepted COUNT.
pub const COUNT_MAX: u32 = 100_000;

const PARTS_HELP: &str = "FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYYEARDAY, BYWEEKNO, BYSETPOS or WKST";
const FREQ_HELP: &str = "DAILY, WEEKLY, MONTHLY or YEARLY";
const WEEKDAY_HELP: &str = "MO, TU, WE, TH, FR, SA or SU";

/// The end of a series as UNTIL gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// `UNTIL=20261231`: occurrences on or before that day in the task's zone.
    Date(NaiveDate),
    /// `UNTIL=20261231T230000Z`: occurrences at or before that instant.
    Utc(DateTime<Utc>),
    /// `UNTIL=20261231T230000`: occurrences at or before that local time in the task's zone.
    Floating(NaiveDateTime),
}

impl fmt::Display for Until {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Until::Date(d) => write!(f, "{}", d.format("%Y%m%d")),
            Until::Utc(t) => write!(f, "{}", t.format("%Y%m%dT%H%M%SZ")),
            Until::Floating(t) => write!(f, "{}", t.format("%Y%m%dT%H%M%S")),
        }
    }
}

/// A parsed, validated rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub freq: Frequency,
    pub interval: u16,
    pub count: Option<u32>,
    pub until: Option<Until>,
    pub wkst: Weekday,
    pub by_month: Vec<u8>,
    pub by_week_no: Vec<i8>,
    pub by_year_day: Vec<i16>,
    pub by_month_day: Vec<i8>,
    pub by_day: Vec<NWeekday>,
    pub by_set_pos: Vec<i32>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Freq,
    Interval,
    Count,
    Until,
    Wkst,
    ByDay,
    ByMonthDay,
    ByMonth,
    ByYearDay,
    ByWeekNo,
    BySetPos,
}

impl Part {
    fn from_name(name: &str) -> Result<Part, String> {
        Ok(match name {
            "FREQ" => Part::Freq,
            "INTERVAL" => Part::Interval,
            "COUNT" => Part::Count,
            "UNTIL" => Part::Until,
            "WKST" => Part::Wkst,
            "BYDAY" => Part::ByDay,
            "BYMONTHDAY" => Part::ByMonthDay,
            "BYMONTH" => Part::ByMonth,
            "BYYEARDAY" => Part::ByYearDay,
            "BYWEEKNO" => Part::ByWeekNo,
            "BYSETPOS" => Part::BySetPos,
            "BYHOUR" | "BYMINUTE" | "BYSECOND" => {
                return Err(format!(
                    "{name} is not supported: the time of day comes from the task's due"
                ));
            }
            "DTSTART" => {
                return Err("DTSTART is not part of the rule: it comes from the task's due".into());
            }
            "" => return Err(format!("a rule part has no name; use {PARTS_HELP}")),
            other => return Err(format!("unknown rule part '{other}'; use {PARTS_HELP}")),
        })
    }
}

impl Rule {
    /// Parse a rule as a user typed it: case-insensitive, an optional leading
    /// `RRULE:`, parts separated by `;`. The error is a message for a person.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let raw = text.trim();
        let chars = raw.chars().count();
        if chars > RRULE_MAX_CHARS {
            return Err(format!(
                "a recurrence rule has at most {RRULE_MAX_CHARS} characters, got {chars}"
            ));
        }
        let upper = raw.to_ascii_uppercase();
        let body = upper.strip_prefix("RRULE:").unwrap_or(&upper).trim();
        if body.is_empty() {
            return Err(
                "a recurrence rule is required, for example FREQ=WEEKLY;BYDAY=MO,TH".into(),
            );
        }
        if body.contains(':') || body.contains('\n') || body.contains('\r') {
            return Err(
                "give only the RRULE value, for example FREQ=WEEKLY;BYDAY=MO,TH \
                        (DTSTART comes from the task's due)"
                    .into(),
            );
        }

        let mut parts: Vec<(Part, &str, &str)> = Vec::new();
        for segment in body.split(';') {
            let segment = segment.trim();
            if segment.is_empty() {
                continue;
            }
            let Some((name, value)) = segment.split_once('=') else {
                return Err(format!(
                    "'{segment}' is not a rule part; write NAME=VALUE, for example BYDAY=MO"
                ));
            };
            let (name, value) = (name.trim(), value.trim());
            let part = Part::from_name(name)?;
            if parts.iter().any(|(p, _, _)| *p == part) {
                return Err(format!(
                    "{name} appears more than once; give each rule part once"
                ));
            }
            if value.is_empty() {
                return Err(format!("{name} needs a value"));
            }
            parts.push((part, name, value));
        }
        let get = |part: Part| {
            parts
                .iter()
                .find(|(p, _, _)| *p == part)
                .map(|(_, _, v)| *v)
        };

        let freq = match get(Part::Freq) {
            None => return Err(format!("FREQ is required: use FREQ={FREQ_HELP}")),
            Some(v) => parse_freq(v)?,
        };
        let mut rule = Rule {
            freq,
            interval: 1,
            count: None,
            until: None,
            wkst: Weekday::Mon,
            by_month: Vec::new(),
            by_week_no: Vec::new(),
            by_year_day: Vec::new(),
            by_month_day: Vec::new(),
            by_day: Vec::new(),
            by_set_pos: Vec::new(),
        };
        if let Some(v) = get(Part::Interval) {
            rule.interval = parse_number(v)
                .filter(|n| (1..=i64::from(INTERVAL_MAX)).contains(n))
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| {
                    format!(
                        "INTERVAL={v} is not valid: use a whole number from 1 to {INTERVAL_MAX}"
                    )
                })?;
        }
        if let Some(v) = get(Part::Count) {
            rule.count = Some(
                parse_number(v)
                    .filter(|n| (1..=i64::from(COUNT_MAX)).contains(n))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        format!("COUNT={v} is not valid: use a whole number from 1 to {COUNT_MAX}")
                    })?,
            );
        }
        if let Some(v) = get(Part::Until) {
            rule.until = Some(parse_until(v)?);
        }
        if rule.count.is_some() && rule.until.is_some() {
            return Err("use either COUNT or UNTIL to end a series, not both".into());
        }
        if let Some(v) = get(Part::Wkst) {
            rule.wkst = parse_weekday(v)
                .ok_or_else(|| format!("WKST={v} is not a weekday; use {WEEKDAY_HELP}"))?;
        }
        if let Some(v) = get(Part::ByMonth) {
            rule.by_month = int_list("BYMONTH", v, 1, 12, "use 1 (January) to 12 (December)")?;
        }
        if let Some(v) = get(Part::ByMonthDay) {
            if freq == Frequency::Weekly {
                return Err("BYMONTHDAY cannot be used with FREQ=WEEKLY; use FREQ=MONTHLY".into());
            }
            rule.by_month_day = int_list(
                "BYMONTHDAY",
                v,
                -31,
                31,
                "use 1 to 31, or -1 to -31 to count from the end of the month",
            )?;
        }
        if let Some(v) = get(Part::ByYearDay) {
            if freq != Frequency::Yearly {
                return Err("BYYEARDAY needs FREQ=YEARLY".into());
            }
            rule.by_year_day = int_list(
                "BYYEARDAY",
                v,
                -366,
                366,
                "use 1 to 366, or -1 to -366 to count from the end of the year",
            )?;
        }
        if let Some(v) = get(Part::ByWeekNo) {
            if freq != Frequency::Yearly {
                return Err("BYWEEKNO needs FREQ=YEARLY".into());
            }
            rule.by_week_no = int_list(
                "BYWEEKNO",
                v,
                -53,
                53,
                "use 1 to 53, or -1 to -53 to count from the end of the year",
            )?;
        }
        if let Some(v) = get(Part::ByDay) {
            rule.by_day = parse_by_day(v, freq, !rule.by_week_no.is_empty())?;
        }
        if let Some(v) = get(Part::BySetPos) {
            let numbered = rule.by_day.iter().any(|d| matches!(d, NWeekday::Nth(..)));
            let plain = rule.by_day.iter().any(|d| matches!(d, NWeekday::Every(_)));
            if numbered && plain {
                return Err(
                    "BYSETPOS cannot be combined with a BYDAY that mixes plain and \
                            numbered weekdays (such as FR,1MO)"
                        .into(),
                );
            }
            if rule.by_day.is_empty()
                && rule.by_month_day.is_empty()
                && rule.by_month.is_empty()
                && rule.by_year_day.is_empty()
                && rule.by_week_no.is_empty()
            {
                return Err(
                    "BYSETPOS picks among the dates the other BY parts give, so it needs \
                            BYDAY, BYMONTHDAY, BYMONTH, BYYEARDAY or BYWEEKNO"
                        .into(),
                );
            }
            let (lo, hi, help) = match freq {
                Frequency::Weekly => (
                    -7,
                    7,
                    "use 1 to 7, or -1 to -7 to count from the end of the week",
                ),
                Frequency::Monthly => (
                    -31,
                    31,
                    "use 1 to 31, or -1 to -31 to count from the end of the month",
                ),
                _ => (
                    -366,
                    366,
                    "use 1 to 366, or -1 to -366 to count from the end",
                ),
            };
            rule.by_set_pos = int_list("BYSETPOS", v, lo, hi, help)?;
        }

        // The rrule crate has the last word on combinations we do not check.
        for r in rule.to_rrules() {
            r.validate(probe_start())
                .map_err(|e| format!("the rule is not valid: {e}"))?;
        }
        Ok(rule)
    }

    /// Refuse a rule that matches no date at all, such as February 30th.
    /// The rule is tried with INTERVAL=1 (whose dates include those of any
    /// interval, so the phase of the real start cannot matter) from
    /// 1 January 2000, a day that exists in every month; defaults the rule
    /// takes from its start (the day of the month, the weekday) are then
    /// ones every period has. A rule can still run dry from a particular
    /// due (`FREQ=MONTHLY;BYMONTH=2` from the 30th); that ends the series.
    pub fn check_matches_some_date(&self) -> Result<(), String> {
        let probe = Rule {
            interval: 1,
            ..self.clone()
        };
        match probe
            .occurrences(probe_start())
            .and_then(|mut it| it.next())
        {
            Some(_) => Ok(()),
            None => Err(
                "this rule never matches a date: check BYMONTH, BYMONTHDAY, BYDAY and \
                         BYSETPOS (February 30th, for example, does not exist)"
                    .into(),
            ),
        }
    }

    /// The rule without COUNT and UNTIL, as the `rrule` crate takes it: one
    /// rule, or two when BYDAY mixes plain and numbered weekdays (`FR,1MO`).
    /// The crate intersects those two kinds where RFC 5545 unites them, so
    /// each kind gets a rule of its own and their dates are merged; BYSETPOS,
    /// which would have to pick from the merged set, is refused with a mix.
    fn to_rrules(&self) -> Vec<RRule<Unvalidated>> {
        let months: Vec<Month> = self
            .by_month
            .iter()
            .filter_map(|m| Month::try_from(*m).ok())
            .collect();
        let base = RRule::new(self.freq)
            .interval(self.interval)
            .week_start(self.wkst)
            .by_month(&months)
            .by_week_no(self.by_week_no.clone())
            .by_year_day(self.by_year_day.clone())
            .by_month_day(self.by_month_day.clone())
            .by_set_pos(self.by_set_pos.clone());
        let (plain, numbered): (Vec<NWeekday>, Vec<NWeekday>) = self
            .by_day
            .iter()
            .partition(|d| matches!(d, NWeekday::Every(_)));
        if plain.is_empty() || numbered.is_empty() {
            vec![base.by_weekday(self.by_day.clone())]
        } else {
            vec![base.clone().by_weekday(plain), base.by_weekday(numbered)]
        }
    }

    /// The occurrences of the rule started at `dt_start` (which is itself
    /// included when it matches the rule), without COUNT and UNTIL, strictly
    /// increasing. The iterator is bounded by the crate's loop limit, so a
    /// rule that matches nothing ends instead of spinning. `None` when the
    /// crate refuses the rule or the start.
    pub fn occurrences(
        &self,
        dt_start: DateTime<rrule::Tz>,
    ) -> Option<impl Iterator<Item = DateTime<rrule::Tz>> + use<>> {
        let mut set = RRuleSet::new(dt_start).limit();
        for rule in self.to_rrules() {
            set = set.rrule(rule.validate(dt_start).ok()?);
        }
        let mut last: Option<DateTime<rrule::Tz>> = None;
        Some((&set).into_iter().filter(move |d| {
            let new = last.is_none_or(|l| *d > l);
            if new {
                last = Some(*d);
            }
            new
        }))
    }
}

impl fmt::Display for Rule {
    /// The canonical text: fixed part order, defaults (INTERVAL=1, WKST=MO)
    /// left out, lists sorted without duplicates.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: ToString>(v: &[T]) -> String {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        }
        write!(f, "FREQ={}", self.freq)?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if !self.by_month.is_empty() {
            write!(f, ";BYMONTH={}", list(&self.by_month))?;
        }
        if !self.by_week_no.is_empty() {
            write!(f, ";BYWEEKNO={}", list(&self.by_week_no))?;
        }
        if !self.by_year_day.is_empty() {
            write!(f, ";BYYEARDAY={}", list(&self.by_year_day))?;
        }
        if !self.by_month_day.is_empty() {
            write!(f, ";BYMONTHDAY={}", list(&self.by_month_day))?;
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self.by_day.iter().map(|d| by_day_text(*d)).collect();
            write!(f, ";BYDAY={}", days.join(","))?;
        }
        if !self.by_set_pos.is_empty() {
            write!(f, ";BYSETPOS={}", list(&self.by_set_pos))?;
        }
        if self.wkst != Weekday::Mon {
            write!(f, ";WKST={}", weekday_text(self.wkst))?;
        }
        if let Some(count) = self.count {
            write!(f, ";COUNT={count}")?;
        }
        if let Some(until) = self.until {
            write!(f, ";UNTIL={until}")?;
        }
        Ok(())
    }
}

/// A start for checks that do not depend on the real one.
fn probe_start() -> DateTime<rrule::Tz> {
    // 2000-01-01T00:00:00Z, a Saturday.
    DateTime::<Utc>::from_timestamp(946_684_800, 0)
        .unwrap_or(DateTime::UNIX_EPOCH)
        .with_timezone(&rrule::Tz::UTC)
}

fn parse_freq(v: &str) -> Result<Frequency, String> {
    match v {
        "DAILY" => Ok(Frequency::Daily),
        "WEEKLY" => Ok(Frequency::Weekly),
        "MONTHLY" => Ok(Frequency::Monthly),
        "YEARLY" => Ok(Frequency::Yearly),
        "HOURLY" | "MINUTELY" | "SECONDLY" => Err(format!(
            "FREQ={v} is not supported: a task recurs at most once a day; use FREQ={FREQ_HELP}"
        )),
        other => Err(format!("FREQ={other} is not a frequency; use {FREQ_HELP}")),
    }
}

/// A whole number with an optional sign; `None` when it is not one.
fn parse_number(v: &str) -> Option<i64> {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// A comma-separated list of non-zero whole numbers in `lo..=hi`, sorted
/// and without duplicates.
fn int_list<T>(name: &str, v: &str, lo: i64, hi: i64, help: &str) -> Result<Vec<T>, String>
where
    T: TryFrom<i64> + Ord,
{
    let mut out = Vec::new();
    for item in v.split(',') {
        let item = item.trim();
        let n = parse_number(item)
            .filter(|n| *n != 0 && (lo..=hi).contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| {
                if item.is_empty() {
                    format!("{name} has an empty value in '{v}'; {help}")
                } else {
                    format!("{name} value '{item}' is not valid: {help}")
                }
            })?;
        out.push(n);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn parse_weekday(v: &str) -> Option<Weekday> {
    Some(match v {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn weekday_text(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn by_day_text(d: NWeekday) -> String {
    match d {
        NWeekday::Every(w) => weekday_text(w).to_owned(),
        NWeekday::Nth(n, w) => format!("{n}{}", weekday_text(w)),
    }
}

/// Sort key of a BYDAY entry: plain weekdays first, then numbered ones
/// (first, second, …, then last, second-to-last, …), weekday order within.
fn by_day_key(d: &NWeekday) -> (u8, i16, u32) {
    match *d {
        NWeekday::Every(w) => (0, 0, w.num_days_from_monday()),
        NWeekday::Nth(n, w) if n > 0 => (1, n, w.num_days_from_monday()),
        NWeekday::Nth(n, w) => (2, -n, w.num_days_from_monday()),
    }
}

fn parse_by_day(v: &str, freq: Frequency, with_week_no: bool) -> Result<Vec<NWeekday>, String> {
    let mut out: Vec<NWeekday> = Vec::new();
    for item in v.split(',') {
        let item = item.trim();
        let bad = || {
            format!(
                "BYDAY value '{item}' is not a weekday; use {WEEKDAY_HELP}, \
                 numbered like 2MO or -1FR for MONTHLY and YEARLY rules"
            )
        };
        if item.len() < 2 || !item.is_ascii() {
            return Err(bad());
        }
        let (number, day) = item.split_at(item.len() - 2);
        let day = parse_weekday(day).ok_or_else(bad)?;
        if number.is_empty() {
            out.push(NWeekday::Every(day));
            continue;
        }
        let n = parse_number(number).ok_or_else(bad)?;
        let max = match freq {
            Frequency::Monthly => 5,
            Frequency::Yearly if !with_week_no => 53,
            Frequency::Yearly => {
                return Err(format!(
                    "BYDAY={item}: a numbered weekday cannot be combined with BYWEEKNO; \
                     use a plain weekday such as {}",
                    weekday_text(day)
                ));
            }
            _ => {
                return Err(format!(
                    "BYDAY={item}: a numbered weekday such as 2MO or -1FR needs FREQ=MONTHLY \
                     or FREQ=YEARLY; with FREQ={freq} use a plain weekday such as {}",
                    weekday_text(day)
                ));
            }
        };
        if n == 0 || n.abs() > max {
            let within = if freq == Frequency::Monthly {
                "a month"
            } else {
                "a year"
            };
            return Err(format!(
                "BYDAY={item}: {within} has at most {max} of each weekday; \
                 use 1 to {max}, or -1 to -{max} to count from the end"
            ));
        }
        let n = i16::try_from(n).map_err(|_| bad())?;
        out.push(NWeekday::Nth(n, day));
    }
    out.sort_by_key(by_day_key);
    out.dedup();
    Ok(out)
}

fn parse_until(v: &str) -> Result<Until, String> {
    let bad = || {
        format!(
            "UNTIL={v} is not a date or date-time; write it like 20261231, \
             20261231T170000 (in the task's zone) or 20261231T170000Z (UTC)"
        )
    };
    if !v.is_ascii() {
        return Err(bad());
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match v.len() {
        8 if digits(v) => NaiveDate::parse_from_str(v, "%Y%m%d")
            .map(Until::Date)
            .map_err(|_| bad()),
        15 | 16 if digits(&v[..8]) && &v[8..9] == "T" && digits(&v[9..15]) => {
            let t = NaiveDateTime::parse_from_str(&v[..15], "%Y%m%dT%H%M%S").map_err(|_| bad())?;
            match &v[15..] {
                "" => Ok(Until::Floating(t)),
                "Z" => Ok(Until::Utc(t.and_utc())),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}
