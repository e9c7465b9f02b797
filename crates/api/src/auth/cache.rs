//! Token digest → user for a moment, so that a busy client's requests do
//! not each pay a database round trip to authenticate (on PostgreSQL the
//! dearest part of a request after its own statement).
//!
//! An entry lives at most [`TTL`], and never past its token's expiry.
//! Revoking a token or changing a profile forgets that user's entries in
//! this process at once; another `api` replica notices within [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dueflow_store::TokenOwner;

/// How long a looked-up token is trusted without asking the database.
pub const TTL: Duration = Duration::from_secs(2);
/// Entries held at most; past it, the expired ones go (or all of them).
const CAPACITY: usize = 10_000;

struct Entry {
    owner: TokenOwner,
    fetched: Instant,
}

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    /// Advanced by every [`TokenCache::forget_user`], so that a lookup that
    /// began before it cannot put back what it forgot.
    generation: AtomicU64,
}

/// Taken before a database lookup, handed to [`TokenCache::put`] after it.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl TokenCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The owner of a token looked up less than [`TTL`] ago and not
    /// expired at `now_ms`.
    pub fn get(&self, digest: &[u8; 32], now_ms: i64) -> Option<TokenOwner> {
        self.get_within(digest, now_ms, TTL)
    }

    /// As [`TokenCache::get`], for a lookup less than `max_age` ago: the
    /// live streams ask for fresher answers, so that they close within
    /// [`TTL`] of a revocation elsewhere.
    pub fn get_within(
        &self,
        digest: &[u8; 32],
        now_ms: i64,
        max_age: Duration,
    ) -> Option<TokenOwner> {
        let entries = self.entries();
        let e = entries.get(digest)?;
        let live =
            e.fetched.elapsed() < max_age && e.owner.expires_at_ms.is_none_or(|x| x > now_ms);
        live.then(|| e.owner.clone())
    }

    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    /// Remember what a lookup found, unless a user was forgotten since its
    /// `ticket` was taken.
    pub fn put(&self, ticket: Ticket, digest: [u8; 32], owner: TokenOwner) {
        let mut entries = self.entries();
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        let now = Instant::now();
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| now.duration_since(e.fetched) < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            digest,
            Entry {
                owner,
                fetched: now,
            },
        );
    }

    /// Drop the entry of one token: the database no longer knows it.
    pub fn forget(&self, digest: &[u8; 32]) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(digest);
    }

    /// Drop every entry of `user_id`: a token of theirs was revoked, or
    /// their profile changed.
    pub fn forget_user(&self, user_id: &str) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, e| e.owner.user.id != user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(id: &str, expires_at_ms: Option<i64>) -> TokenOwner {
        TokenOwner {
            token_id: format!("tok_{id}"),
            user: dueflow_store::User {
                id: id.into(),
                name: id.into(),
                tz: chrono_tz::UTC,
                created_at: chrono::DateTime::UNIX_EPOCH,
                email: None,
                email_verified: false,
                date_order: Default::default(),
            },
            expires_at_ms,
        }
    }

    #[test]
    fn holds_until_expiry_or_forgotten() {
        let cache = TokenCache::default();
        cache.put(cache.ticket(), [1; 32], owner("usr_a", None));
        cache.put(cache.ticket(), [2; 32], owner("usr_b", Some(1_000)));
        assert_eq!(
            cache.get(&[1; 32], 0).map(|o| o.user.id),
            Some("usr_a".into())
        );
        assert!(cache.get_within(&[1; 32], 0, Duration::ZERO).is_none());
        assert!(cache.get(&[2; 32], 999).is_some());
        assert!(cache.get(&[2; 32], 1_000).is_none(), "the token expired");
        assert!(cache.get(&[3; 32], 0).is_none());
        cache.forget_user("usr_a");
        assert!(cache.get(&[1; 32], 0).is_none());
        assert!(cache.get(&[2; 32], 0).is_some(), "other users stay");
        cache.forget(&[2; 32]);
        assert!(cache.get(&[2; 32], 0).is_none());
    }

    #[test]
    fn a_lookup_older_than_a_forget_is_not_kept() {
        let cache = TokenCache::default();
        let ticket = cache.ticket();
        cache.forget_user("usr_a");
        cache.put(ticket, [1; 32], owner("usr_a", None));
        assert!(cache.get(&[1; 32], 0).is_none());
    }
}
