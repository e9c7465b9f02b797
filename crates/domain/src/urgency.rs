//! Urgency: one number that says which open task to do next, in the spirit of
//! Taskwarrior. Storage backends compute it in SQL from these coefficients so
//! that sorting and paging by urgency happen in the database; [`score`] is the
//! same formula in Rust, used by tests and documentation.
//!
//! urgency = priority coefficient
//!         + DUE × due factor (0.2 when due in 14 days or more, rising linearly
//!           to 1.0 when 7 days overdue; 0 without a due)
//!         + OVERDUE when the task is past due
//!         + AGE × min(age in days / 365, 1)
//!         + TAGS × min(number of tags, 3) / 3

use crate::priority::Priority;

pub const PRIORITY: [f64; 5] = [0.0, 1.8, 3.9, 6.0, 9.0];
pub const DUE: f64 = 12.0;
pub const OVERDUE: f64 = 3.0;
pub const AGE: f64 = 2.0;
pub const TAGS: f64 = 1.0;
pub const MS_PER_DAY: f64 = 86_400_000.0;

/// The due factor for a task due `days_until` days from now (negative when past).
pub fn due_factor(days_until: f64) -> f64 {
    if days_until >= 14.0 {
        0.2
    } else if days_until <= -7.0 {
        1.0
    } else {
        0.2 + (14.0 - days_until) * 0.8 / 21.0
    }
}

/// The urgency of a task, all instants in unix milliseconds.
pub fn score(
    priority: Priority,
    due_at: Option<i64>,
    overdue_at: Option<i64>,
    created_at: i64,
    tag_count: usize,
    now: i64,
) -> f64 {
    let due = due_at.map_or(0.0, |d| DUE * due_factor((d - now) as f64 / MS_PER_DAY));
    let overdue = match overdue_at {
        Some(o) if o <= now => OVERDUE,
        _ => 0.0,
    };
    let age = AGE * (((now - created_at) as f64 / MS_PER_DAY) / 365.0).clamp(0.0, 1.0);
    let tags = TAGS * (tag_count.min(3) as f64) / 3.0;
    PRIORITY[priority.rank() as usize] + due + overdue + age + tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_factor_is_continuous_and_bounded() {
        assert!((due_factor(14.0) - 0.2).abs() < 1e-9);
        assert!((due_factor(-7.0) - 1.0).abs() < 1e-9);
        assert!(due_factor(0.0) > due_factor(1.0));
    }

    #[test]
    fn overdue_high_beats_fresh_low() {
        let now = 1_000 * MS_PER_DAY as i64;
        let a = score(Priority::High, Some(now - 1), Some(now - 1), now, 0, now);
        let b = score(
            Priority::Low,
            Some(now + 30 * MS_PER_DAY as i64),
            None,
            now,
            3,
            now,
        );
        assert!(a > b);
    }
}
