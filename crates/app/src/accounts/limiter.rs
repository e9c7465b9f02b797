//! Rate limit for logins. Every attempt is counted before its password is
//! checked (so parallel requests cannot slip past the limit) and given back
//! when it succeeds or could not be checked. Three counters:
//!
//! - one account from one client address: after [`FREE_PER_PAIR`] failures
//!   each further attempt waits twice as long as the last, up to
//!   [`MAX_BACKOFF`];
//! - one account from every address that never logged in to it: the same
//!   backoff after [`FREE_PER_ACCOUNT`] failures, so that guessing from many
//!   addresses slows down too; an address where the account logged in
//!   before skips this one, so that nobody elsewhere can lock the owner out;
//! - one client address across accounts: at most [`MAX_PER_ADDRESS`]
//!   failures per [`ADDRESS_WINDOW`] (IPv6 addresses by their /64).
//!
//! Kept in memory per process; a counter left alone for [`FORGET_AFTER`]
//! starts again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const FREE_PER_PAIR: u32 = 5;
pub const FREE_PER_ACCOUNT: u32 = 10;
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
pub const MAX_PER_ADDRESS: u32 = 50;
pub const ADDRESS_WINDOW: Duration = Duration::from_secs(300);
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// How long an address where an account logged in stays known for it.
pub const KNOWN_FOR: Duration = Duration::from_secs(30 * 86_400);
/// Entries beyond which stale ones are swept out.
const SWEEP_ABOVE: usize = 100_000;

/// Failures of one key and when the last attempt was counted (or, for an
/// address, when its window began).
#[derive(Clone, Copy)]
struct Count {
    n: u32,
    at: Instant,
}

impl Count {
    /// How long the next attempt must wait under doubling backoff.
    fn backoff(self, free: u32, now: Instant) -> Option<Duration> {
        let over = self.n.checked_sub(free)?;
        let wait = Duration::from_secs(1u64 << over.min(16)).min(MAX_BACKOFF);
        wait.checked_sub(now.duration_since(self.at))
            .filter(|d| !d.is_zero())
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, IpAddr),
    Account(String),
    Address(IpAddr),
}

/// A counted attempt, to report back with [`LoginLimiter::succeeded`] or
/// [`LoginLimiter::withdraw`]; dropped, it stays counted as a failure.
#[must_use]
#[derive(Debug)]
pub struct Attempt {
    account: String,
    address: IpAddr,
    /// Whether it counted against the account as a whole.
    unknown_address: bool,
}

#[derive(Default)]
struct Counters {
    counts: HashMap<Key, Count>,
    /// (account, address) → when the account last logged in from there.
    known: HashMap<(String, IpAddr), Instant>,
}

#[derive(Default)]
pub struct LoginLimiter {
    inner: Mutex<Counters>,
}

/// The address the per-address cap counts: IPv6 by its /64, which one
/// client usually holds whole.
fn network(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let mut s = v6.segments();
            s[4..].fill(0);
            IpAddr::V6(s.into())
        }
        v4 => v4,
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

impl LoginLimiter {
    /// Count an attempt on `account` from `address` before its password is
    /// checked; `Err(seconds)` to wait when it may not be tried now.
    pub fn attempt(&self, account: &str, address: IpAddr) -> Result<Attempt, u64> {
        self.attempt_at(account, address, Instant::now())
    }

    fn attempt_at(&self, account: &str, address: IpAddr, now: Instant) -> Result<Attempt, u64> {
        let address = address.to_canonical();
        let mut c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        c.sweep(now);
        let unknown_address = c
            .known
            .get(&(account.to_owned(), address))
            .is_none_or(|at| now.duration_since(*at) >= KNOWN_FOR);
        let pair = Key::Pair(account.to_owned(), address);
        let whole = Key::Account(account.to_owned());
        let net = Key::Address(network(address));
        let fresh = |k: &Key| {
            c.counts
                .get(k)
                .copied()
                .filter(|n| now.duration_since(n.at) < FORGET_AFTER)
        };
        let address_count = fresh(&net).filter(|n| now.duration_since(n.at) < ADDRESS_WINDOW);
        let waits = [
            fresh(&pair).and_then(|n| n.backoff(FREE_PER_PAIR, now)),
            fresh(&whole)
                .filter(|_| unknown_address)
                .and_then(|n| n.backoff(FREE_PER_ACCOUNT, now)),
            address_count
                .filter(|n| n.n >= MAX_PER_ADDRESS)
                .map(|n| ADDRESS_WINDOW.saturating_sub(now.duration_since(n.at))),
        ];
        if let Some(wait) = waits.into_iter().flatten().max() {
            return Err(seconds(wait));
        }
        let bump = |n: Option<Count>| Count {
            n: n.map_or(0, |n| n.n) + 1,
            at: now,
        };
        let counted_pair = bump(fresh(&pair));
        let counted_whole = bump(fresh(&whole));
        let counted_net = match address_count {
            Some(n) => Count {
                n: n.n + 1,
                at: n.at,
            },
            None => Count { n: 1, at: now },
        };
        c.counts.insert(pair, counted_pair);
        if unknown_address {
            c.counts.insert(whole, counted_whole);
        }
        c.counts.insert(net, counted_net);
        Ok(Attempt {
            account: account.to_owned(),
            address,
            unknown_address,
        })
    }

    /// The password was right: the account's failures from this address are
    /// forgotten and the address is known for the account from now on.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        c.give_back(&attempt);
        c.counts
            .remove(&Key::Pair(attempt.account.clone(), attempt.address));
        if c.known.len() < SWEEP_ABOVE {
            c.known
                .insert((attempt.account, attempt.address), Instant::now());
        }
    }

    /// The password could not be checked: the attempt does not count.
    pub fn withdraw(&self, attempt: Attempt) {
        let mut c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        c.give_back(&attempt);
    }
}

impl Counters {
    fn give_back(&mut self, a: &Attempt) {
        let mut keys = vec![
            Key::Pair(a.account.clone(), a.address),
            Key::Address(network(a.address)),
        ];
        if a.unknown_address {
            keys.push(Key::Account(a.account.clone()));
        }
        for k in keys {
            if let Some(n) = self.counts.get_mut(&k) {
                n.n = n.n.saturating_sub(1);
            }
        }
    }

    fn sweep(&mut self, now: Instant) {
        if self.counts.len() > SWEEP_ABOVE {
            self.counts
                .retain(|_, n| now.duration_since(n.at) < FORGET_AFTER);
        }
        if self.known.len() >= SWEEP_ABOVE {
            self.known
                .retain(|_, at| now.duration_since(*at) < KNOWN_FOR);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn attempts_count_before_their_outcome() {
        let l = LoginLimiter::default();
        let now = Instant::now();
        let pending: Vec<_> = (0..FREE_PER_PAIR)
            .map(|_| l.attempt_at("ann", ip("192.0.2.1"), now).unwrap())
            .collect();
        assert!(l.attempt_at("ann", ip("192.0.2.1"), now).is_err());
        for a in pending {
            l.withdraw(a);
        }
        assert!(l.attempt_at("ann", ip("192.0.2.1"), now).is_ok());
    }

    #[test]
    fn backoff_grows_and_ends() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..FREE_PER_PAIR {
            let _ = l.attempt_at("ann", ip("192.0.2.1"), t0).unwrap();
        }
        assert_eq!(l.attempt_at("ann", ip("192.0.2.1"), t0).err(), Some(1));
        let t1 = t0 + Duration::from_secs(1);
        let _ = l.attempt_at("ann", ip("192.0.2.1"), t1).unwrap();
        assert_eq!(l.attempt_at("ann", ip("192.0.2.1"), t1).err(), Some(2));
        // Another account from the same address is not slowed.
        assert!(l.attempt_at("bob", ip("192.0.2.1"), t1).is_ok());
    }

    #[test]
    fn guessing_elsewhere_does_not_lock_out_a_known_address() {
        let l = LoginLimiter::default();
        let home = ip("192.0.2.1");
        let now = Instant::now();
        l.succeeded(l.attempt_at("ann", home, now).unwrap());
        for i in 0..100u8 {
            let attacker = IpAddr::from([198, 51, 100, i]);
            let _ = l.attempt_at("ann", attacker, now);
        }
        assert!(l.attempt_at("ann", ip("203.0.113.9"), now).is_err());
        assert!(l.attempt_at("ann", home, now).is_ok());
    }

    #[test]
    fn one_address_is_capped_across_accounts() {
        let l = LoginLimiter::default();
        let now = Instant::now();
        for i in 0..MAX_PER_ADDRESS {
            let _ = l
                .attempt_at(&format!("user{i}"), ip("2001:db8::1"), now)
                .unwrap();
        }
        let e = l.attempt_at("someone", ip("2001:db8::2"), now).unwrap_err();
        assert_eq!(e, ADDRESS_WINDOW.as_secs());
        assert!(l.attempt_at("someone", ip("2001:db8:1::1"), now).is_ok());
    }
}
