//! The transactional outbox: events committed with their writes wait here
//! until the relay has published them to the bus, in sequence order.

use std::time::Duration;

use async_trait::async_trait;

use crate::row::RowAccess;
use crate::{OutboxMessage, Result};

#[async_trait]
pub trait Outbox: Send + Sync {
    /// The oldest unpublished outbox messages, in commit-independent
    /// sequence order.
    async fn outbox_batch(&self, limit: u32) -> Result<Vec<OutboxMessage>>;
    /// Whether this process is the one that relays the outbox: it takes
    /// the role when no live process holds it. Asked again before relaying
    /// on, since a holder can lose it (its database session ended).
    async fn relay_leader(&self) -> Result<bool>;
    /// Remove published messages from the outbox.
    async fn outbox_ack(&self, seqs: &[i64]) -> Result<()>;
    /// How many messages wait to be published.
    async fn outbox_backlog(&self) -> Result<i64>;
    /// Returns when the outbox may hold messages it did not hold when the
    /// relay last looked. SQLite is written by this process alone, which
    /// announces each commit, so an idle relay sleeps until one; other
    /// PostgreSQL replicas write too, so there it returns after 10 ms. For
    /// the process's one relay: of two callers, one would miss commits and
    /// look only once a second.
    async fn outbox_written(&self);
}

/// How often an idle relay looks for new messages on PostgreSQL.
pub(crate) const PG_POLL: Duration = Duration::from_millis(10);

/// The longest an idle relay waits on SQLite without a commit announced:
/// a safety net, since every write of this process announces itself.
pub(crate) const SQLITE_SAFETY_POLL: Duration = Duration::from_secs(1);

/// The oldest `$1` messages, as [`message`] reads them.
pub(crate) const BATCH: &str =
    "SELECT seq, id, topic, partition_key, payload FROM outbox ORDER BY seq LIMIT $1";

/// How many messages wait ([`Outbox::outbox_backlog`]).
pub(crate) const BACKLOG: &str = "SELECT COUNT(*) FROM outbox";

pub(crate) fn message<R: RowAccess>(row: &R) -> Result<OutboxMessage, R::Error> {
    Ok(OutboxMessage {
        seq: row.at(0)?,
        id: row.at(1)?,
        topic: row.at(2)?,
        partition_key: row.at(3)?,
        payload: row.at(4)?,
    })
}
