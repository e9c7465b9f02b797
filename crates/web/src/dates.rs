//! Dates as the pages write them: near days as words ("Today", "Fri"),
//! the rest in the order the user writes dates (3 Mar 2027, Mar 3, 2027 or
//! 2027-03-03), times in the user's zone.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use dueflow_domain::quickadd::DateOrder;
use dueflow_store::User;

#[derive(Debug, Clone, Copy)]
pub struct Dates {
    pub order: DateOrder,
    pub tz: Tz,
}

impl Dates {
    pub fn of(user: &User) -> Dates {
        Dates {
            order: user.date_order,
            tz: user.tz,
        }
    }

    /// A day as a person reads it next to `today`.
    pub fn near(self, day: NaiveDate, today: NaiveDate) -> String {
        match (day - today).num_days() {
            0 => "Today".into(),
            1 => "Tomorrow".into(),
            -1 => "Yesterday".into(),
            2..=6 => WEEKDAYS[day.weekday().num_days_from_monday() as usize].into(),
            _ if day.year() == today.year() => self.short(day),
            _ => self.day(day),
        }
    }

    /// Day and month: "3 Mar", "Mar 3".
    fn short(self, day: NaiveDate) -> String {
        let month = MONTHS[day.month0() as usize];
        match self.order {
            DateOrder::Dmy => format!("{} {month}", day.day()),
            DateOrder::Mdy | DateOrder::Ymd => format!("{month} {}", day.day()),
        }
    }

    /// A whole date: "3 Mar 2027", "Mar 3, 2027", "2027-03-03".
    pub fn day(self, day: NaiveDate) -> String {
        let month = MONTHS[day.month0() as usize];
        match self.order {
            DateOrder::Dmy => format!("{} {month} {}", day.day(), day.year()),
            DateOrder::Mdy => format!("{month} {}, {}", day.day(), day.year()),
            DateOrder::Ymd => day.to_string(),
        }
    }

    /// A whole date with its weekday: "Wed 3 Mar 2027".
    pub fn weekday(self, day: NaiveDate) -> String {
        format!(
            "{} {}",
            WEEKDAYS[day.weekday().num_days_from_monday() as usize],
            self.day(day)
        )
    }

    /// A day of a list's heading: "Wednesday 3 March", "Wednesday, March 3".
    pub fn heading(self, day: NaiveDate) -> String {
        let pattern = match self.order {
            DateOrder::Dmy => "%A %-d %B",
            DateOrder::Mdy | DateOrder::Ymd => "%A, %B %-d",
        };
        day.format(pattern).to_string()
    }

    /// An instant in the user's zone: "3 Mar 2027 09:00".
    pub fn stamp(self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.tz);
        format!("{} {}", self.day(local.date_naive()), clock(local.time()))
    }
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A time of day: "09:05". (Written by hand: a list writes a hundred, and
/// chrono's `format` reads its pattern each time.)
pub fn clock(t: NaiveTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(order: DateOrder) -> Dates {
        Dates {
            order,
            tz: chrono_tz::UTC,
        }
    }

    #[test]
    fn days_read_relative_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let dmy = dates(DateOrder::Dmy);
        assert_eq!(dmy.near(today, today), "Today");
        assert_eq!(dmy.near(d(12, 7), today), "Tomorrow");
        assert_eq!(dmy.near(d(12, 5), today), "Yesterday");
        assert_eq!(dmy.near(d(12, 11), today), "Fri");
        assert_eq!(dmy.near(d(12, 25), today), "25 Dec");
        let next_year = NaiveDate::from_ymd_opt(2027, 3, 3).unwrap();
        assert_eq!(dmy.near(next_year, today), "3 Mar 2027");
    }

    #[test]
    fn dates_follow_the_users_order() {
        let day = NaiveDate::from_ymd_opt(2027, 3, 3).unwrap();
        let today = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let mdy = dates(DateOrder::Mdy);
        assert_eq!(mdy.day(day), "Mar 3, 2027");
        assert_eq!(mdy.near(day, today), "Mar 3");
        assert_eq!(mdy.heading(day), "Wednesday, March 3");
        let ymd = dates(DateOrder::Ymd);
        assert_eq!(ymd.day(day), "2027-03-03");
        assert_eq!(ymd.weekday(day), "Wed 2027-03-03");
        let at = day.and_hms_opt(9, 30, 0).unwrap().and_utc();
        assert_eq!(dates(DateOrder::Dmy).stamp(at), "3 Mar 2027 09:30");
        assert_eq!(clock(NaiveTime::from_hms_opt(7, 5, 0).unwrap()), "07:05");
    }
}
