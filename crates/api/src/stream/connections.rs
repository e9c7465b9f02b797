//! The live streams (WebSocket and SSE) this process holds open: counted
//! against a per-user and a per-process cap, and closed when the token or
//! session they were opened with is revoked.
//!
//! Revoking on this process closes them at once ([`Connections::close_token`]).
//! Other replicas learn of a revocation only through the database, so one
//! watcher per process re-checks every credential that has streams open,
//! through the token cache: one lookup per distinct credential about every
//! [`FRESH`], however many streams share it, and closes them within the 2 s
//! that a revoked token takes to stop working on every replica.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use dueflow_store::Accounts;
use tokio_util::sync::CancellationToken;

use crate::auth::Caller;
use crate::auth::cache::TokenCache;
use crate::problem::ApiError;

/// How often the watcher looks at the open streams' credentials.
const CHECK_EVERY: Duration = Duration::from_millis(200);
/// How old a cached lookup the watcher trusts: with [`CHECK_EVERY`] and a
/// lookup's own time this stays within the 2 s revocation promise.
const FRESH: Duration = Duration::from_millis(1500);
/// Seconds a refused client is told to wait.
const RETRY_AFTER_SECS: u64 = 5;
/// Database lookups the watcher runs at once.
const LOOKUPS_AT_ONCE: usize = 16;

/// The streams of one credential.
struct Credential {
    token_id: String,
    streams: usize,
    revoked: CancellationToken,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_user: HashMap<String, usize>,
    credentials: HashMap<[u8; 32], Credential>,
}

pub struct Connections {
    open: Mutex<Open>,
    max_per_user: usize,
    max_total: usize,
    watching: AtomicBool,
    /// Cancelled on shutdown; every credential's token is its child.
    closing: CancellationToken,
}

/// One open stream's place, given back when dropped.
pub struct Permit {
    connections: Arc<Connections>,
    user_id: String,
    digest: [u8; 32],
    revoked: CancellationToken,
}

impl Permit {
    /// Resolves when the stream's credential is revoked.
    pub async fn revoked(&self) {
        self.revoked.cancelled().await;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        open.total -= 1;
        if let Some(n) = open.per_user.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                open.per_user.remove(&self.user_id);
            }
        }
        if let Some(c) = open.credentials.get_mut(&self.digest) {
            c.streams -= 1;
            if c.streams == 0 {
                open.credentials.remove(&self.digest);
            }
        }
    }
}

impl Connections {
    pub fn new(max_per_user: usize, max_total: usize) -> Self {
        Self {
            open: Mutex::default(),
            max_per_user,
            max_total,
            watching: AtomicBool::new(false),
            closing: CancellationToken::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more stream of `caller`, or 429 naming the cap that
    /// is reached.
    pub fn open(self: &Arc<Self>, caller: &Caller) -> Result<Permit, ApiError> {
        let mut open = self.lock();
        let theirs = open.per_user.get(&caller.user.id).copied().unwrap_or(0);
        if theirs >= self.max_per_user {
            return Err(ApiError::TooManyRequests {
                detail: format!(
                    "you have {theirs} live streams open, the most one user may hold; close one \
                     (a stream ends when its connection closes) and try again"
                ),
                retry_after_secs: RETRY_AFTER_SECS,
            });
        }
        if open.total >= self.max_total {
            return Err(ApiError::TooManyRequests {
                detail: format!(
                    "this server holds {} live streams, the most it accepts; try again shortly",
                    open.total
                ),
                retry_after_secs: RETRY_AFTER_SECS,
            });
        }
        open.total += 1;
        *open.per_user.entry(caller.user.id.clone()).or_default() += 1;
        let credential = open
            .credentials
            .entry(caller.digest)
            .or_insert_with(|| Credential {
                token_id: caller.token_id.clone(),
                streams: 0,
                revoked: self.closing.child_token(),
            });
        credential.streams += 1;
        Ok(Permit {
            connections: self.clone(),
            user_id: caller.user.id.clone(),
            digest: caller.digest,
            revoked: credential.revoked.clone(),
        })
    }

    /// Close every stream opened with the token `token_id` (revoked here).
    pub fn close_token(&self, token_id: &str) {
        let open = self.lock();
        for c in open.credentials.values() {
            if c.token_id == token_id {
                c.revoked.cancel();
            }
        }
    }

    /// Close every stream, now and as soon as it opens: the process is
    /// shutting down.
    pub fn close_all(&self) {
        self.closing.cancel();
    }

    fn close_digest(&self, digest: &[u8; 32]) {
        if let Some(c) = self.lock().credentials.get(digest) {
            c.revoked.cancel();
        }
    }

    /// Start this process's watcher, once: it ends when the connections
    /// are dropped.
    pub fn watch(self: &Arc<Self>, store: Arc<dyn Accounts>, tokens: Arc<TokenCache>) {
        if !self.watching.swap(true, Ordering::AcqRel) {
            tokio::spawn(watch(Arc::downgrade(self), store, tokens));
        }
    }
}

/// Every [`CHECK_EVERY`], close the streams whose credential the database
/// no longer knows (revoked on another replica, or expired).
async fn watch(connections: Weak<Connections>, store: Arc<dyn Accounts>, tokens: Arc<TokenCache>) {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(connections) = connections.upgrade() else {
            return;
        };
        let now = chrono::Utc::now().timestamp_millis();
        let stale: Vec<[u8; 32]> = connections
            .lock()
            .credentials
            .keys()
            .filter(|d| tokens.get_within(d, now, FRESH).is_none())
            .copied()
            .collect();
        for batch in stale.chunks(LOOKUPS_AT_ONCE) {
            let mut lookups = tokio::task::JoinSet::new();
            for digest in batch.iter().copied() {
                let (store, tokens) = (store.clone(), tokens.clone());
                lookups.spawn(async move {
                    let ticket = tokens.ticket();
                    let found = store.user_by_token(&digest, now).await;
                    match &found {
                        Ok(Some(owner)) => tokens.put(ticket, digest, owner.clone()),
                        // Requests stop working here when the streams close.
                        Ok(None) => tokens.forget(&digest),
                        Err(_) => {}
                    }
                    (digest, found)
                });
            }
            while let Some(done) = lookups.join_next().await {
                match done {
                    Ok((digest, Ok(None))) => connections.close_digest(&digest),
                    Ok((_, Ok(Some(_)))) => {}
                    // The streams stay open while the database cannot answer.
                    Ok((_, Err(e))) => {
                        tracing::warn!(error = %e, "cannot re-check a live stream's token")
                    }
                    Err(e) => tracing::warn!(error = %e, "a live stream's token check failed"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(user: &str, token: u8) -> Caller {
        Caller {
            user: dueflow_store::User {
                id: user.into(),
                name: user.into(),
                tz: chrono_tz::UTC,
                created_at: chrono::DateTime::UNIX_EPOCH,
                email: None,
                email_verified: false,
                date_order: Default::default(),
            },
            token_id: format!("tok_{token}"),
            digest: [token; 32],
        }
    }

    #[test]
    fn caps_per_user_and_per_process_and_frees_on_close() {
        let c = Arc::new(Connections::new(2, 3));
        let a1 = c.open(&caller("a", 1)).unwrap();
        let _a2 = c.open(&caller("a", 2)).unwrap();
        let e = c.open(&caller("a", 1)).err().unwrap();
        assert!(
            format!("{e:?}").contains("the most one user may hold"),
            "{e:?}"
        );
        let _b1 = c.open(&caller("b", 3)).unwrap();
        let e = c.open(&caller("c", 4)).err().unwrap();
        assert!(format!("{e:?}").contains("the most it accepts"), "{e:?}");
        drop(a1);
        assert!(c.open(&caller("a", 1)).is_ok());
    }

    #[tokio::test]
    async fn closing_a_token_ends_only_its_streams() {
        let c = Arc::new(Connections::new(5, 5));
        let one = c.open(&caller("a", 1)).unwrap();
        let two = c.open(&caller("a", 2)).unwrap();
        c.close_token("tok_1");
        tokio::time::timeout(Duration::from_secs(1), one.revoked())
            .await
            .expect("closed");
        assert!(!two.revoked.is_cancelled());
        drop(one);
        assert!(!c.lock().credentials.contains_key(&[1; 32]));
    }
}
