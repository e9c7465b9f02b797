//! Rate limit for failed logins, per account and per client address: after
//! too many failures within a window, further attempts are refused until
//! the window passes, whatever the password. Kept in memory per process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(300);
pub const MAX_PER_ACCOUNT: u32 = 10;
pub const MAX_PER_ADDRESS: u32 = 50;

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    fn keys(account: &str, address: &str) -> [(String, u32); 2] {
        [
            (format!("a:{account}"), MAX_PER_ACCOUNT),
            (format!("i:{address}"), MAX_PER_ADDRESS),
        ]
    }

    /// `Some(seconds)` to wait when either key is over its limit.
    pub fn blocked(&self, account: &str, address: &str) -> Option<u64> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(account, address)
            .iter()
            .filter_map(|(k, max)| {
                let (n, start) = map.get(k)?;
                let left = WINDOW.checked_sub(now.duration_since(*start))?;
                (n >= max).then(|| left.as_secs().max(1))
            })
            .max()
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, start)| now.duration_since(*start) < WINDOW);
        }
        for (k, _) in Self::keys(account, address) {
            let e = map.entry(k).or_insert((0, now));
            if now.duration_since(e.1) >= WINDOW {
                *e = (0, now);
            }
            e.0 += 1;
        }
    }

    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("a:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_account_limit() {
        let l = LoginLimiter::default();
        for _ in 0..MAX_PER_ACCOUNT {
            assert!(l.blocked("ann", "1.2.3.4").is_none());
            l.record_failure("ann", "1.2.3.4");
        }
        assert!(l.blocked("ann", "5.6.7.8").is_some());
        assert!(l.blocked("bob", "1.2.3.4").is_none());
    }
}
