//! Whether this process can reach its event bus: the relay and the
//! consumers report each success and failure here, and readiness and
//! `/metrics` read it. Lock-free: one atomic timestamp.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Since when (ms since the epoch) talking to the bus has failed; 0 while
/// it works.
#[derive(Debug, Default)]
pub struct BusHealth {
    failing_since_ms: AtomicI64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl BusHealth {
    pub fn ok(&self) {
        self.failing_since_ms.store(0, Ordering::Relaxed);
    }

    /// A failure; the first of a run starts the clock.
    pub fn failed(&self) {
        let _ = self.failing_since_ms.compare_exchange(
            0,
            now_ms(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// How long the bus has been failing, if it is.
    pub fn failing_for(&self) -> Option<Duration> {
        match self.failing_since_ms.load(Ordering::Relaxed) {
            0 => None,
            since => Some(Duration::from_millis((now_ms() - since).max(0) as u64)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_run_is_timed_from_its_start() {
        let h = BusHealth::default();
        assert_eq!(h.failing_for(), None);
        h.failed();
        std::thread::sleep(Duration::from_millis(20));
        h.failed();
        assert!(h.failing_for().unwrap() >= Duration::from_millis(20));
        h.ok();
        assert_eq!(h.failing_for(), None);
    }
}
