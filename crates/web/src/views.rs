//! The task list's views (Inbox, Today, Upcoming, No date, Completed, All): each
//! is a query in the query language and a sort, so a view is exactly what
//! the API's `GET /api/v1/tasks?q=…&sort=…` returns, and a filter typed on
//! the page narrows it further.

use chrono::{Days, NaiveDate};

use crate::page::encode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Inbox,
    Today,
    Upcoming,
    NoDate,
    Completed,
    /// Every task, open or done: where saved views open.
    All,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Inbox,
        View::Today,
        View::Upcoming,
        View::NoDate,
        View::Completed,
        View::All,
    ];

    /// How the view is named in the address (`?view=today`).
    pub fn slug(self) -> &'static str {
        match self {
            View::Inbox => "inbox",
            View::Today => "today",
            View::Upcoming => "upcoming",
            View::NoDate => "nodate",
            View::Completed => "completed",
            View::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::Inbox => "Inbox",
            View::Today => "Today",
            View::Upcoming => "Upcoming",
            View::NoDate => "No date",
            View::Completed => "Completed",
            View::All => "All tasks",
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
            View::All => String::new(),
        }
    }

    /// The view's sort when the user picks none: each is read in order
    /// from an index, so a page costs the same however many tasks match.
    pub fn default_sort(self) -> &'static str {
        match self {
            View::Inbox | View::Today | View::Upcoming => "due",
            View::NoDate | View::All => "-created",
            View::Completed => "-updated",
        }
    }

    /// The view's query narrowed by the filter `q`.
    pub fn with_filter(self, q: &str, today: NaiveDate) -> String {
        match self.query(today) {
            base if base.is_empty() => q.to_owned(),
            base if q.is_empty() => base,
            base => format!("{base} ({q})"),
        }
    }

    /// [`View::with_filter`] in normal form, to be saved (`q` must parse);
    /// `None` for a view whose query names a date, which a saved view
    /// would keep.
    pub fn narrowed(self, q: &str, today: NaiveDate) -> Option<String> {
        if self == View::Upcoming {
            return None;
        }
        dueflow_domain::query::parse(&self.with_filter(q, today))
            .ok()
            .map(|e| e.to_string())
    }

    /// Whether rows are grouped under a heading per due day.
    pub fn groups_by_day(self) -> bool {
        self == View::Upcoming
    }
}

/// A list's address: the view, the filter and the sort.
pub fn list_href(view: View, q: &str, sort: &str) -> String {
    let mut href = format!("/?view={}", view.slug());
    if !q.is_empty() {
        href.push_str("&q=");
        href.push_str(&encode(q));
    }
    if !sort.is_empty() {
        href.push_str("&sort=");
        href.push_str(&encode(sort));
    }
    href
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

    #[test]
    fn a_narrowed_view_is_one_query_in_normal_form() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let n = |v: View, q| v.narrowed(q, today);
        assert_eq!(
            n(View::Inbox, "tag:Health").as_deref(),
            Some("status:open tag:health")
        );
        assert_eq!(n(View::All, "tag:x").as_deref(), Some("tag:x"));
        assert_eq!(n(View::Upcoming, "tag:x"), None, "its dates would not move");
    }
}
