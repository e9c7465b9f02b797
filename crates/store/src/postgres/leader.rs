//! One outbox relay per database. Every `api` replica runs a relay, but
//! only the one holding a session-level advisory lock publishes: two
//! relays reading the same rows would publish each event twice and
//! interleave one user's events. The lock lives on a connection of its
//! own, taken out of the pool; when its process dies, PostgreSQL ends the
//! session and another replica takes the lock on its next try. A holder
//! that vanishes without closing its socket (its host gone, a partition)
//! is found out by the session's TCP keepalives within about 11 s.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use tokio::sync::Mutex;

use crate::Result;

/// The advisory lock's key: "dueflow" and the outbox's number.
const RELAY_LOCK: i64 = 0x6475_6566_6c6f_7701;
/// How long the holder's liveness check may take before the session is
/// given up for lost.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// The server probes a silent holder after 5 s, then every 2 s, and ends
/// the session after 3 unanswered probes.
const KEEPALIVES: &str =
    "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3";

#[derive(Default)]
pub struct RelayLeader {
    /// The session that holds the lock, while this process holds it.
    held: Mutex<Option<PgConnection>>,
}

impl RelayLeader {
    /// Whether this process holds the lock: checks that its session is
    /// still alive, or tries to take the lock when it does not hold it.
    pub async fn hold(&self, pool: &PgPool) -> Result<bool> {
        let mut held = self.held.lock().await;
        if let Some(conn) = held.as_mut() {
            let ping = sqlx::query("SELECT 1").execute(&mut *conn);
            if let Ok(Ok(_)) = tokio::time::timeout(PING_TIMEOUT, ping).await {
                return Ok(true);
            }
            // The session, and the lock with it, is gone (or going).
            *held = None;
        }
        let mut conn = pool.acquire().await?;
        let asked = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(RELAY_LOCK)
            .fetch_one(&mut *conn)
            .await;
        match asked {
            // It holds nothing: back to the pool.
            Ok(false) => Ok(false),
            // A session that holds (or may hold) the lock must never serve
            // other queries: it leaves the pool, and when the lock is not
            // known to be taken, it is closed.
            Ok(true) => {
                let mut conn = conn.detach();
                sqlx::raw_sql(KEEPALIVES).execute(&mut conn).await?;
                *held = Some(conn);
                Ok(true)
            }
            Err(e) => {
                drop(conn.detach());
                Err(e.into())
            }
        }
    }
}
