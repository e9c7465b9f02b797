//! Group commit for new tasks. Every commit makes PostgreSQL flush its WAL
//! and wake the backend that waits for it; on a small machine that costs
//! about as much CPU as the statement that creates a task. Creates that
//! queue up while others are being written are therefore committed
//! together: a few writers, each serving its share of the users, take
//! whatever has queued for them, write it with one statement (see
//! [`super::create`]) and answer every caller once it has committed. A
//! lone create runs as its own statement. If the database refuses a
//! group's statement, none of it stands, and its creates are written again
//! one at a time, so only the refused one fails. If the connection fails,
//! after which nothing tells whether the statement committed, every caller
//! of the group hears the error.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::create::{Create, Group};
use crate::{Result, StoreError};

/// Writers at once: each holds one connection while it writes a batch.
/// Four keep both cores of a small server busy while one batch commits.
const WRITERS: usize = 4;

/// At most this many creates share one statement, which bounds how long
/// the first of them waits for its commit.
const MAX_BATCH: usize = 32;

/// Creates waiting for each writer; callers wait to queue beyond this.
const QUEUE: usize = 256;

struct Job {
    create: Create,
    reply: oneshot::Sender<Result<bool>>,
}

/// One queue per writer; a user's creates always go to the same one.
/// A create advances its user's event sequence, which locks the user's row
/// until the commit, so a batch holding one of a user's creates would stall
/// any other writer's batch holding another. It also keeps each user's
/// creates in the order they came.
pub(super) struct Creates {
    queues: Vec<mpsc::Sender<Job>>,
}

impl Creates {
    /// Start the writers on the current runtime; each ends once this is
    /// dropped and its queue has drained.
    pub(super) fn start(pool: PgPool) -> Self {
        let queues = (0..WRITERS)
            .map(|_| {
                let (jobs, queue) = mpsc::channel(QUEUE);
                tokio::spawn(writer(pool.clone(), queue));
                jobs
            })
            .collect();
        Creates { queues }
    }

    /// Write `create` once the transaction that holds it has committed;
    /// `false` as for [`Create::run`].
    pub(super) async fn write(&self, create: Create) -> Result<bool> {
        let mut h = DefaultHasher::new();
        create.user_id.hash(&mut h);
        let queue = &self.queues[h.finish() as usize % self.queues.len()];
        let (reply, answer) = oneshot::channel();
        queue.send(Job { create, reply }).await.map_err(|_| {
            StoreError::Backend("the task writers have stopped (shutting down)".into())
        })?;
        answer.await.map_err(|_| {
            StoreError::Backend(
                "the task writer failed while writing this task; whether it was stored is unknown"
                    .into(),
            )
        })?
    }
}

/// Take whatever has queued (waiting for the first create) and write it.
/// A panic while writing (a defect) fails that group's callers, whose
/// replies it drops, not every later create of this writer's users.
async fn writer(pool: PgPool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let written = AssertUnwindSafe(write(&pool, &mut batch)).catch_unwind();
        if written.await.is_err() {
            tracing::error!(
                creates = batch.len(),
                "a task writer panicked; its group failed"
            );
            batch.clear();
        }
    }
}

async fn write(pool: &PgPool, batch: &mut Vec<Job>) {
    if let [job] = batch.as_slice() {
        let out = job.create.run(pool).await;
        answer(batch, [out]);
        return;
    }
    // The statement numbers each user's events in the order given; the
    // sort is stable, so one user's creates keep the order they came in.
    batch.sort_by(|a, b| a.create.user_id.cmp(&b.create.user_id));
    match Group::of(batch.iter().map(|job| &job.create))
        .run(pool)
        .await
    {
        Ok(()) => {
            let n = batch.len();
            answer(batch, (0..n).map(|_| Ok(true)));
        }
        Err(sqlx::Error::Database(_)) => {
            let mut outs = Vec::with_capacity(batch.len());
            for job in batch.iter() {
                outs.push(job.create.run(pool).await);
            }
            answer(batch, outs);
        }
        Err(e) => {
            let e = e.to_string();
            let n = batch.len();
            answer(
                batch,
                (0..n).map(|_| Err(StoreError::Backend(e.clone().into()))),
            );
        }
    }
}

/// Send each caller its outcome, in batch order, and empty the batch. A
/// caller that went away finds its write standing regardless.
fn answer(batch: &mut Vec<Job>, outs: impl IntoIterator<Item = Result<bool>>) {
    for (job, out) in batch.drain(..).zip(outs) {
        let _ = job.reply.send(out);
    }
}
