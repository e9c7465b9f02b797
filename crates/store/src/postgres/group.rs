//! Group commit for task writes. Every commit makes PostgreSQL flush its
//! WAL and wake the backend that waits for it; on a small machine that
//! costs about as much CPU as the statement that creates a task. And a
//! write holds its user's row (the event sequence) until its commit, so
//! one user's writes go no faster than one commit after another. Creates
//! and replaces that queue up while others are being written are therefore
//! committed together: a few writers, each serving its share of the users,
//! take whatever has queued for them, write the creates with one statement
//! (see [`super::create`]) and the replaces in one transaction (see
//! [`super::replace`]), and answer every caller once it has committed. A
//! lone write runs on its own. If the database refuses a group's
//! statement or its commit, none of it stands, and its writes are written
//! again one at a time, so only the refused one fails. If the connection
//! fails when nothing tells whether the group committed, every caller of
//! the group hears the error.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::FutureExt;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::create::{Create, Group};
use super::replace::{Replace, Together, run_together};
use crate::{Result, StoreError};

/// Writers at once: each holds one connection while it writes a batch.
/// Four keep both cores of a small server busy while one batch commits.
const WRITERS: usize = 4;

/// At most this many writes share one commit, which bounds how long the
/// first of them waits for it.
const MAX_BATCH: usize = 32;

/// Writes waiting for each writer; callers wait to queue beyond this.
const QUEUE: usize = 256;

enum Write {
    Create(Box<Create>),
    Replace(Box<Replace>),
}

impl Write {
    /// The user, then (for a replace) the task.
    fn order_key(&self) -> (&str, &str) {
        match self {
            Write::Create(c) => (&c.user_id, ""),
            Write::Replace(r) => (&r.user_id, r.task_id()),
        }
    }

    fn as_create(&self) -> Option<&Create> {
        match self {
            Write::Create(c) => Some(c.as_ref()),
            Write::Replace(_) => None,
        }
    }

    fn as_replace(&self) -> Option<&Replace> {
        match self {
            Write::Replace(r) => Some(r.as_ref()),
            Write::Create(_) => None,
        }
    }
}

struct Job {
    write: Write,
    reply: oneshot::Sender<Result<bool>>,
}

/// One queue per writer. A create advances its user's event sequence in
/// its first statement, which locks the user's row until the commit, so a
/// batch holding one of a user's creates would stall any other writer's
/// batch holding another: a user's creates always go to the same writer,
/// which also keeps them in the order they came. A replace group appends
/// its events last, so it holds its users' rows only while it commits, and
/// replaces go to the writers in turn: several groups of one user's
/// replaces are written at once and queue only for that commit.
pub(super) struct Writes {
    queues: Vec<mpsc::Sender<Job>>,
    turn: AtomicUsize,
}

impl Writes {
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
        Writes {
            queues,
            turn: AtomicUsize::new(0),
        }
    }

    /// Write `create` once the transaction that holds it has committed;
    /// `false` as for [`Create::run`].
    pub(super) async fn create(&self, create: Create) -> Result<bool> {
        self.write(Write::Create(Box::new(create))).await
    }

    /// Write `replace` once the transaction that holds it has committed;
    /// `false` as for [`Replace::run`].
    pub(super) async fn replace(&self, replace: Replace) -> Result<bool> {
        self.write(Write::Replace(Box::new(replace))).await
    }

    async fn write(&self, write: Write) -> Result<bool> {
        let n = match &write {
            Write::Create(c) => {
                let mut h = DefaultHasher::new();
                c.user_id.hash(&mut h);
                h.finish() as usize
            }
            Write::Replace(_) => self.turn.fetch_add(1, Ordering::Relaxed),
        };
        let queue = &self.queues[n % self.queues.len()];
        let (reply, answer) = oneshot::channel();
        queue.send(Job { write, reply }).await.map_err(|_| {
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

/// Take whatever has queued (waiting for the first write) and write it.
/// A panic while writing (a defect) fails that group's callers, whose
/// replies it drops, not every later write of this writer's users.
async fn writer(pool: PgPool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // The statements number each user's events in the order given; the
        // sort is stable, so one user's creates, and the writes of one task,
        // keep the order they came in. Replaces go by task too: groups on
        // different writers then lock the tasks they share in one order.
        batch.sort_by(|a, b| a.write.order_key().cmp(&b.write.order_key()));
        let (creates, replaces): (Vec<Job>, Vec<Job>) = batch
            .drain(..)
            .partition(|job| matches!(job.write, Write::Create(_)));
        for mut jobs in [creates, replaces] {
            let written = AssertUnwindSafe(write(&pool, &mut jobs)).catch_unwind();
            if written.await.is_err() {
                tracing::error!(
                    writes = jobs.len(),
                    "a task writer panicked; its group failed"
                );
            }
        }
    }
}

async fn write(pool: &PgPool, batch: &mut Vec<Job>) {
    let outs: Vec<Result<bool>> = match batch.as_slice() {
        [] => return,
        [job] => vec![alone(pool, &job.write).await],
        [first, ..] if matches!(first.write, Write::Create(_)) => {
            let creates: Vec<&Create> = batch.iter().filter_map(|j| j.write.as_create()).collect();
            match Group::of(creates.iter().copied()).run(pool).await {
                Ok(()) => batch.iter().map(|_| Ok(true)).collect(),
                Err(sqlx::Error::Database(_)) => each_alone(pool, batch).await,
                Err(e) => unknown(batch.len(), e.into()),
            }
        }
        _ => {
            let replaces: Vec<&Replace> =
                batch.iter().filter_map(|j| j.write.as_replace()).collect();
            match run_together(pool, &replaces).await {
                Together::Committed(written) => written.into_iter().map(Ok).collect(),
                Together::RolledBack => each_alone(pool, batch).await,
                Together::Unknown(e) => unknown(batch.len(), e),
            }
        }
    };
    for (job, out) in batch.drain(..).zip(outs) {
        // A caller that went away finds its write standing regardless.
        let _ = job.reply.send(out);
    }
}

async fn alone(pool: &PgPool, write: &Write) -> Result<bool> {
    match write {
        Write::Create(c) => c.run(pool).await,
        Write::Replace(r) => r.run(pool).await,
    }
}

/// Write a refused group's writes one at a time, so only the refused one
/// fails.
async fn each_alone(pool: &PgPool, batch: &[Job]) -> Vec<Result<bool>> {
    let mut outs = Vec::with_capacity(batch.len());
    for job in batch {
        outs.push(alone(pool, &job.write).await);
    }
    outs
}

/// The same error for every write of a group whose fate is unknown.
fn unknown(n: usize, e: StoreError) -> Vec<Result<bool>> {
    let e = e.to_string();
    (0..n)
        .map(|_| Err(StoreError::Backend(e.clone().into())))
        .collect()
}
