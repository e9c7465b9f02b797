//! The statements that replace tasks. A replace writes the task and its
//! tags in one statement, brings its reminders in line, and appends its
//! events, which advances its user's event sequence and so holds the
//! user's row until the commit. Replaces that queue up together
//! ([`super::group`]) share one transaction: their events are appended
//! last, in one statement per user, so a user's row is held only from
//! there to the one commit, whatever the group holds.

use dueflow_domain::event::Event;
use dueflow_domain::task::Task;
use sqlx::PgPool;

use super::{Tx, insert_events, replace_task};
use crate::{Result, StoreError};

/// A task to write over the one at `prev_version`, and the events of the
/// change; owned, so that a group writer can write it for the caller.
pub(super) struct Replace {
    pub(super) user_id: String,
    task: Task,
    prev_version: i64,
    events: Vec<Event>,
}

impl Replace {
    pub(super) fn new(user_id: &str, task: &Task, prev_version: i64, events: &[Event]) -> Self {
        debug_assert!(!events.is_empty(), "a task write carries its events");
        Replace {
            user_id: user_id.to_owned(),
            task: task.clone(),
            prev_version,
            events: events.to_vec(),
        }
    }

    pub(super) fn task_id(&self) -> &str {
        &self.task.id
    }

    /// Write the task in `tx` unless its version moved (`None`); the events
    /// to append for it, with those of the reminders it scheduled.
    async fn stage(&self, tx: &mut Tx<'_>) -> Result<Option<Vec<Event>>> {
        let trace = crate::write_trace(&self.events);
        let scheduled =
            replace_task(tx, &self.user_id, &self.task, self.prev_version, trace).await?;
        Ok(scheduled.map(|s| [self.events.as_slice(), &s].concat()))
    }

    /// Write it alone, in its own transaction; `false` if the version moved.
    pub(super) async fn run(&self, pool: &PgPool) -> Result<bool> {
        let mut tx = pool.begin().await?;
        let Some(events) = self.stage(&mut tx).await? else {
            return Ok(false);
        };
        insert_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// How a group's transaction ended.
pub(super) enum Together {
    /// Committed: for each replace, in order, whether it was written
    /// (`false`: its version had moved).
    Committed(Vec<bool>),
    /// A statement, or the commit, was refused: nothing stands, and each
    /// replace can be written alone.
    RolledBack,
    /// The connection failed at the commit: whether it stands is unknown.
    Unknown(StoreError),
}

/// Write `replaces` in one transaction, their events appended last.
pub(super) async fn run_together(pool: &PgPool, replaces: &[&Replace]) -> Together {
    let staged = async {
        let mut tx = pool.begin().await?;
        let mut written = Vec::with_capacity(replaces.len());
        let mut events = Vec::new();
        for r in replaces {
            let mine = r.stage(&mut tx).await?;
            written.push(mine.is_some());
            events.extend(mine.into_iter().flatten());
        }
        insert_events(&mut tx, &events).await?;
        Ok::<_, StoreError>((tx, written))
    };
    match staged.await {
        Ok((tx, written)) => match tx.commit().await {
            Ok(()) => Together::Committed(written),
            // The server refused the commit (a deferred trigger failed):
            // it rolled the transaction back.
            Err(sqlx::Error::Database(_)) => Together::RolledBack,
            Err(e) => Together::Unknown(e.into()),
        },
        Err(_) => Together::RolledBack,
    }
}
