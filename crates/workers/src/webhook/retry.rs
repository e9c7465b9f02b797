//! When to try a failed webhook delivery again: the Standard Webhooks
//! schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 27.6 hours in all)
//! with ±10 % jitter, or what the receiver's `Retry-After` asks for.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

const SCHEDULE: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// The most a `Retry-After` may push a delivery back.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(24 * 3600);

/// Attempts a delivery gets before it fails for good.
pub const ATTEMPTS: i64 = SCHEDULE.len() as i64 + 1;

/// The wait after failed attempt number `attempt` (1-based), or `None`
/// when that was the last one.
pub fn backoff(attempt: i64) -> Option<Duration> {
    let base = *SCHEDULE.get(usize::try_from(attempt - 1).ok()?)?;
    let jitter = rand::thread_rng().gen_range(0.9..1.1);
    Some(Duration::from_secs_f64(base as f64 * jitter))
}

/// A `Retry-After` value (seconds, or an HTTP date), capped at a day.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => (DateTime::parse_from_rfc2822(value).ok()? - now.fixed_offset())
            .to_std()
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(RETRY_AFTER_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_more_than_a_day_then_stops() {
        let total: f64 = (1..ATTEMPTS)
            .map(|a| backoff(a).unwrap().as_secs_f64())
            .sum();
        assert!(total > 24.0 * 3600.0, "{total}");
        assert_eq!(backoff(ATTEMPTS), None);
    }

    #[test]
    fn reads_retry_after() {
        let now: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
        assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("999999", now), Some(RETRY_AFTER_MAX));
        assert_eq!(
            retry_after("Tue, 24 Nov 2026 10:01:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after("soon", now), None);
    }
}
