//! The task list's views (Inbox, Today, Upcoming, No date, Completed): each
//! is a query in the query language and a sort, so a view is exactly what
//! the API's `GET /api/v1/tasks?q=…&sort=…` returns, and a filter typed on
//! the page narrows it further.

use chrono::{Days, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Inbox,
    Today,
    Upcoming,
    NoDate,
    Completed,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Inbox,
        View::Today,
        View::Upcoming,
        View::NoDate,
        View::Completed,
    ];

    /// How the view is named in the address (`?view=today`).
    pub fn slug(self) -> &'static str {
        match self {
            View::Inbox => "inbox",
            View::Today => "today",
            View::Upcoming => "upcoming",
            View::NoDate => "nodate",
            View::Completed => "completed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::Inbox => "Inbox",
            View::Today => "Today",
            View::Upcoming => "Upcoming",
            View::NoDate => "No date",
            View::Completed => "Completed",
        }
    }

    /// The view a `view` parameter names; the inbox for none or another.
    pub fn from_slug(slug: Option<&str>) -> View {
        View::ALL
            .into_iter()
            .find(|v| Some(v.slug()) == slug)
            .unwrap_or(View::Inbox)
    }

    /// The view's query, `today` being the user's date.
    pub fn query(self, today: NaiveDate) -> String {
        match self {
            View::Inbox => "status:open".into(),
            // Overdue first (the earliest due), then the rest of today.
            View::Today => "status:open due<=today".into(),
            View::Upcoming => {
                let last = today.checked_add_days(Days::new(7)).unwrap_or(today);
                format!("status:open due>today due<={last}")
            }
            View::NoDate => "status:open due:none".into(),
            View::Completed => "status:done".into(),
        }
    }

    /// The view's sort when the user picks none: each is read in order
    /// from an index, so a page costs the same however many tasks match.
    pub fn default_sort(self) -> &'static str {
        match self {
            View::Inbox | View::Today | View::Upcoming => "due",
            View::NoDate => "-created",
            View::Completed => "-updated",
        }
    }

    /// Whether rows are grouped under a heading per due day.
    pub fn groups_by_day(self) -> bool {
        self == View::Upcoming
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_is_a_query_that_parses() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        for v in View::ALL {
            dueflow_domain::query::parse(&v.query(today)).unwrap();
            dueflow_domain::sort::parse_sort(v.default_sort()).unwrap();
            assert_eq!(View::from_slug(Some(v.slug())), v);
        }
        assert_eq!(
            View::Upcoming.query(today),
            "status:open due>today due<=2026-12-13"
        );
        assert_eq!(View::from_slug(Some("nonsense")), View::Inbox);
    }
}
