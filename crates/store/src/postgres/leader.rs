//! One outbox relay per database. Every `api` replica runs a relay, but
//! only the one holding a session-level advisory lock publishes: two
//! relays reading the same rows would publish each event twice and
//! interleave one user's events. The lock lives on a connection of its
//! own, taken out of the pool; when its process dies, PostgreSQL ends the
//! session and another replica takes the lock on its next try.

use sqlx::{Acquire, PgConnection, PgPool};
use tokio::sync::Mutex;

use crate::Result;

/// The advisory lock's key: "dueflow" and the outbox's number.
const RELAY_LOCK: i64 = 0x6475_6566_6c6f_7701;

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
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                return Ok(true);
            }
            // The session, and the lock with it, is gone.
            *held = None;
        }
        let mut conn = pool.acquire().await?;
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(RELAY_LOCK)
            .fetch_one(conn.acquire().await?)
            .await?;
        if taken {
            // Out of the pool: no other query may run on the lock's session.
            *held = Some(conn.detach());
        }
        Ok(taken)
    }
}
