//! The SQLite writer: one connection on its own thread that runs queued
//! writes in shared transactions (group commit). SQLite admits one writer at
//! a time, and every commit pays for its WAL frames and an FTS5 segment
//! flush, so writes that queue up while one commits are committed together.
//! Each write runs in its own savepoint, so a failing write rolls back alone;
//! every caller hears back only after the commit that holds its write. The
//! blocking work stays off the async runtime's threads. When the queue runs
//! dry the thread does deferred housekeeping a small step at a time, each
//! step its own transaction, so a write waits for one step at most. Every
//! commit of writes is announced ([`Writer::committed`]), so that what
//! waits for new rows, such as the outbox relay, need not poll for them.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::{Notify, oneshot};

use crate::{Result, StoreError};

/// At most this many writes share one transaction, which bounds how long the
/// first of them waits for its commit.
const MAX_BATCH: usize = 256;

/// One step of housekeeping, run while no write is queued; returns whether
/// more remains.
pub type IdleStep = Box<dyn FnMut(&Transaction<'_>) -> rusqlite::Result<bool> + Send>;

/// Delivers a write's outcome once its batch has ended; the argument is the
/// error that ended the batch, if any.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

trait Job: Send {
    /// Run inside the batch's transaction: whether it succeeded, and how to
    /// answer the caller once the batch ends.
    fn run(self: Box<Self>, tx: &Transaction<'_>) -> (bool, Finish);
    /// Answer the caller without running: the batch could not start.
    fn fail(self: Box<Self>, error: &str);
}

struct Pending<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T>>,
}

fn backend(message: &str) -> StoreError {
    StoreError::Backend(message.into())
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T> + Send,
{
    fn run(self: Box<Self>, tx: &Transaction<'_>) -> (bool, Finish) {
        let Pending { work, reply } = *self;
        let out = catch_unwind(AssertUnwindSafe(|| work(tx)))
            .unwrap_or_else(|_| Err(backend("a database write panicked")));
        let ok = out.is_ok();
        let finish = move |batch_error: Option<&str>| {
            let out = match (out, batch_error) {
                (Ok(_), Some(e)) => Err(backend(e)),
                (out, _) => out,
            };
            // The caller may have gone away; its write stands regardless.
            let _ = reply.send(out);
        };
        (ok, Box::new(finish))
    }

    fn fail(self: Box<Self>, error: &str) {
        let _ = self.reply.send(Err(backend(error)));
    }
}

pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    committed: Arc<Notify>,
}

impl Writer {
    /// Move `conn` onto a new writer thread, which ends when the writer is
    /// dropped and the queue is empty. After each batch `idle` runs while
    /// the queue is empty, until it reports that nothing remains.
    pub fn start(conn: Connection, idle: IdleStep) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        let committed = Arc::new(Notify::new());
        let announce = committed.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, &queue, idle, &announce))?;
        Ok(Self { jobs, committed })
    }

    /// Resolves once a batch of writes has committed after the previous
    /// call resolved: at once if one has meanwhile. One caller at a time.
    pub async fn committed(&self) {
        self.committed.notified().await;
    }

    /// Run `work` in a write transaction; its changes are committed (or
    /// rolled back, when it fails) before this returns.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(Pending { work, reply }))
            .map_err(|_| backend("the database writer has stopped"))?;
        answer
            .await
            .map_err(|_| backend("the database writer has stopped"))?
    }
}

fn run(
    mut conn: Connection,
    queue: &mpsc::Receiver<Box<dyn Job>>,
    mut idle: IdleStep,
    committed: &Notify,
) {
    // Nothing to tidy until something was written (the schema may not even
    // exist yet: migrations run after the store opens).
    let mut housekeeping = false;
    loop {
        let first = if housekeeping {
            match queue.try_recv() {
                Ok(job) => job,
                Err(mpsc::TryRecvError::Empty) => {
                    housekeeping = idle_step(&mut conn, &mut idle);
                    continue;
                }
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        } else {
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        batch.extend(queue.try_iter().take(MAX_BATCH - 1));
        if run_batch(&mut conn, batch) {
            committed.notify_one();
        }
        housekeeping = true;
    }
}

/// Whether more housekeeping remains; a failed step is logged and retried
/// after the next write.
fn idle_step(conn: &mut Connection, idle: &mut IdleStep) -> bool {
    let step = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .and_then(|tx| {
            let more = idle(&tx)?;
            tx.commit()?;
            Ok(more)
        });
    step.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "housekeeping step failed");
        false
    })
}

/// Whether the batch committed.
fn run_batch(conn: &mut Connection, batch: Vec<Box<dyn Job>>) -> bool {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "could not begin a write transaction");
            let message = e.to_string();
            batch.into_iter().for_each(|job| job.fail(&message));
            return false;
        }
    };
    let mut finishers = Vec::with_capacity(batch.len());
    let mut failure: Option<String> = None;
    for job in batch {
        if let Some(message) = &failure {
            job.fail(message);
            continue;
        }
        if let Err(e) = exec(&tx, "SAVEPOINT write") {
            failure = Some(e.to_string());
            job.fail(&e.to_string());
            continue;
        }
        let (ok, finish) = job.run(&tx);
        finishers.push(finish);
        let ended = if ok {
            exec(&tx, "RELEASE write")
        } else {
            exec(&tx, "ROLLBACK TO write").and_then(|()| exec(&tx, "RELEASE write"))
        };
        if let Err(e) = ended {
            failure = Some(e.to_string());
        }
    }
    let failure = match failure {
        Some(message) => {
            drop(tx); // rolls the batch back
            Some(message)
        }
        None => tx.commit().err().map(|e| e.to_string()),
    };
    if let Some(message) = &failure {
        tracing::error!(error = %message, "a batch of writes was rolled back");
    }
    for finish in finishers {
        finish(failure.as_deref());
    }
    failure.is_none()
}

fn exec(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(drop)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    fn writer() -> Writer {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .expect("schema");
        Writer::start(conn, Box::new(|_| Ok(false))).expect("start")
    }

    async fn rows(w: &Writer) -> Vec<i64> {
        w.write(|tx| {
            let mut stmt = tx.prepare("SELECT n FROM t ORDER BY n")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
        })
        .await
        .expect("read")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_rolls_back_alone_within_its_batch() {
        let w = Arc::new(writer());
        let mut set = tokio::task::JoinSet::new();
        for n in 0..400_i64 {
            let w = w.clone();
            set.spawn(async move {
                let out = w
                    .write(move |tx| {
                        tx.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                        if n % 2 == 1 {
                            return Err(StoreError::Conflict(format!("odd {n}")));
                        }
                        Ok(n)
                    })
                    .await;
                (n, out)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (n, out) = joined.expect("task");
            match out {
                Ok(v) => assert_eq!((n % 2, v), (0, n)),
                Err(StoreError::Conflict(m)) => assert_eq!(m, format!("odd {n}")),
                Err(e) => panic!("write {n}: {e}"),
            }
        }
        assert_eq!(rows(&w).await, (0..400).step_by(2).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_commit_is_announced_once() {
        let w = writer();
        let quiet = Duration::from_millis(100);
        assert!(
            tokio::time::timeout(quiet, w.committed()).await.is_err(),
            "a commit was announced before anything was written"
        );
        w.write(|tx| Ok(tx.execute("INSERT INTO t (n) VALUES (1)", [])?))
            .await
            .expect("write");
        tokio::time::timeout(Duration::from_secs(5), w.committed())
            .await
            .expect("the commit was not announced");
        assert!(
            tokio::time::timeout(quiet, w.committed()).await.is_err(),
            "one commit was announced twice"
        );
    }

    #[tokio::test]
    async fn a_panicking_write_is_an_error_and_the_writer_goes_on() {
        let w = writer();
        let out: Result<()> = w
            .write(|tx| {
                tx.execute("INSERT INTO t (n) VALUES (1)", [])?;
                panic!("boom");
            })
            .await;
        assert!(matches!(out, Err(StoreError::Backend(_))), "{out:?}");
        w.write(|tx| Ok(tx.execute("INSERT INTO t (n) VALUES (2)", [])?))
            .await
            .expect("later write");
        assert_eq!(rows(&w).await, [2]);
    }
}
