//! SQLite backend, the embedded default. One writer connection on its own
//! thread commits queued writes in groups (see [`writer`]; SQLite has one
//! writer at a time, and queueing here beats its sleep-and-retry busy
//! handler) and one read connection per thread with cached statements keeps
//! the hot read path lock-free under WAL.

mod conversations;
mod migrate;
mod notifications;
mod reminders;
mod tags;
mod verification;
mod views;
mod webhooks;
mod writer;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use dueflow_domain::event::Event;
use dueflow_domain::quickadd::DateOrder;
use dueflow_domain::status::Status;
use dueflow_domain::task::Task;
use dueflow_domain::trace::TraceParent;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use thread_local::ThreadLocal;

use crate::accounts::{
    INSERT_TOKEN, INSERT_USER, LIST_TOKENS, REVOKE_TOKEN, RawToken, SET_PREFERENCES, USER_BY_TOKEN,
    USER_CREDENTIALS, raw_token, raw_user, user,
};
use crate::codec::{INSERT_TASK, RawTask, TASK_BY_ID, UPDATE_TASK, decode_tags, encode, raw_task};
use crate::listing::{self, Dialect, KeyKind, KeyValue, ListQuery, Page, SqlValue};
use crate::{
    Accounts, Activity, ActivityQuery, Outbox, OutboxMessage, Preferences, Result, Store,
    StoreError, TagCount, Tasks, TokenOwner, TokenRecord, User,
};

pub struct SqliteStore {
    path: PathBuf,
    writer: writer::Writer,
    readers: ThreadLocal<RefCell<Connection>>,
}

/// SQLite counts every allocation under one process-wide mutex unless told
/// otherwise. FTS5 allocates for every row it reads, so concurrent searches
/// on the per-thread readers spent much of their time passing that mutex
/// around; the count itself is never read here.
fn turn_off_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: runs once, before this process opens its first connection
        // (every connection comes from `open_connection`, which calls this
        // first, and `Once` makes concurrent callers wait), as
        // `sqlite3_config` requires. Called any later, it returns
        // SQLITE_MISUSE and changes nothing.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                std::ffi::c_int::from(0u8),
            )
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            tracing::debug!(rc, "SQLite memory statistics stay on");
        }
    });
}

/// Page cache per connection, in KiB. The readers (one per runtime thread)
/// serve the hot paths; the writer touches the pages of a few index leaves
/// per write. Together they set most of the server's memory: about
/// 2 × 12 + 4 MiB once the database outgrows them.
const READER_CACHE_KIB: u32 = 12 * 1024;
const WRITER_CACHE_KIB: u32 = 4 * 1024;

fn open_connection(path: &PathBuf, cache_kib: u32) -> rusqlite::Result<Connection> {
    turn_off_memory_statistics();
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -{cache_kib}; PRAGMA temp_store = MEMORY;"
    ))?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// Idle housekeeping: a step of FTS5's segment merging. Every write
/// transaction leaves a new small segment in the full-text index, and FTS5
/// merges them only a little with each later write, so after a burst the
/// index stays fragmented and every search seeks through each segment. This
/// finishes the merging while nothing else needs the writer (merge levels of
/// two or more segments: `usermerge`, migration 0008). FTS5 reports work
/// done as two or more changes.
fn merge_search_index(tx: &Transaction<'_>) -> rusqlite::Result<bool> {
    let before = tx.total_changes();
    tx.prepare_cached("INSERT INTO tasks_fts(tasks_fts, rank) VALUES ('merge', 64)")?
        .execute([])?;
    Ok(tx.total_changes() - before >= 2)
}

/// The database and its `-wal` and `-shm` files are readable and writable
/// by this user only: they hold password hashes, token digests and webhook
/// secrets. SQLite gives the two it creates the database file's mode.
#[cfg(unix)]
fn restrict_files(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.as_os_str() == ":memory:" {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

impl SqliteStore {
    pub fn open(path: &str) -> Result<Self> {
        let path = PathBuf::from(path);
        #[cfg(unix)]
        restrict_files(&path).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let writer = writer::Writer::start(
            open_connection(&path, WRITER_CACHE_KIB)?,
            Box::new(merge_search_index),
        )
        .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(Self {
            path,
            writer,
            readers: ThreadLocal::new(),
        })
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let cell = self
            .readers
            .get_or_try(|| open_connection(&self.path, READER_CACHE_KIB).map(RefCell::new))?;
        f(&cell.borrow())
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.writer.write(f).await
    }

    /// Renew a sender's leases with `renew` (`$1` the key, `$2` the lease
    /// it holds, `$3` the new one).
    async fn renew_leases(
        &self,
        renew: &'static str,
        keys: &[String],
        held_ms: i64,
        until_ms: i64,
    ) -> Result<()> {
        let keys = keys.to_vec();
        self.write(move |tx| {
            let mut renew = tx.prepare_cached(&sql(renew))?;
            for key in &keys {
                renew.execute(params![key, held_ms, until_ms])?;
            }
            Ok(())
        })
        .await
    }
}

/// Shared SQL is written with `$n` placeholders; SQLite numbers them `?n`.
fn sql(s: &str) -> String {
    s.replace('$', "?")
}

/// Execute `sql` with a task's twenty column values (and any `extra`).
fn execute_task(
    tx: &Transaction<'_>,
    sql: &str,
    user_id: &str,
    task: &Task,
    extra: Option<i64>,
) -> Result<usize> {
    let e = encode(task);
    let mut stmt = tx.prepare_cached(sql)?;
    let values = params![
        task.id,
        user_id,
        task.title,
        task.notes,
        e.status,
        e.priority,
        e.due,
        e.due_at,
        e.overdue_at,
        task.tz.name(),
        e.tags,
        task.tags.len() as i64,
        e.recurrence,
        e.reminders,
        task.series_id,
        i64::from(task.occurrence),
        e.created_at,
        e.updated_at,
        e.completed_at,
        task.version,
        extra,
    ];
    let n = match extra {
        Some(_) => values.len(),
        None => values.len() - 1,
    };
    Ok(stmt.execute(&values[..n])?)
}

/// Insert a task, its tags and its reminders, returning the events of the
/// reminders scheduled; with `skip_existing`, a task whose series position
/// is taken already is not inserted (`None`).
fn insert_task(
    tx: &Transaction<'_>,
    user_id: &str,
    task: &Task,
    skip_existing: bool,
    trace: TraceParent,
) -> Result<Option<Vec<Event>>> {
    let n = if skip_existing {
        execute_task(
            tx,
            &sql(&format!("{INSERT_TASK} ON CONFLICT DO NOTHING")),
            user_id,
            task,
            None,
        )?
    } else {
        execute_task(tx, &sql(INSERT_TASK), user_id, task, None)?
    };
    if n == 0 {
        return Ok(None);
    }
    insert_tags(tx, user_id, task)?;
    tags::recount(tx, user_id, None, Some(counted(task)))?;
    reminders::sync(tx, user_id, task, true, trace).map(Some)
}

fn insert_tags(tx: &Transaction<'_>, user_id: &str, task: &Task) -> Result<()> {
    let mut stmt =
        tx.prepare_cached("INSERT INTO task_tags (task_id, user_id, name) VALUES (?1, ?2, ?3)")?;
    for tag in &task.tags {
        stmt.execute(params![task.id, user_id, tag])?;
    }
    Ok(())
}

/// What a task adds to its user's tag counters.
fn counted(task: &Task) -> tags::Counted<'_> {
    (&task.tags, task.status == Status::Open)
}

/// Replace a task still at `prev_version`, its tags and its reminders;
/// `None` if the version moved, else the events of reminders scheduled.
fn replace_task(
    tx: &Transaction<'_>,
    user_id: &str,
    task: &Task,
    prev_version: i64,
    trace: TraceParent,
) -> Result<Option<Vec<Event>>> {
    let Some((status, raw_tags)) = tx
        .prepare_cached(
            "SELECT status, tags FROM tasks WHERE id = ?1 AND user_id = ?2 AND version = ?3",
        )?
        .query_row(params![task.id, user_id, prev_version], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let before = decode_tags(&task.id, &raw_tags)?;
    execute_task(tx, &sql(UPDATE_TASK), user_id, task, Some(prev_version))?;
    if before != task.tags {
        tx.prepare_cached(&sql(crate::tags::DELETE_FOR_TASK))?
            .execute([&task.id])?;
        insert_tags(tx, user_id, task)?;
    }
    let was_open = status == Status::Open.as_str();
    tags::recount(tx, user_id, Some((&before, was_open)), Some(counted(task)))?;
    reminders::sync(tx, user_id, task, false, trace).map(Some)
}

/// Append events to the outbox within the caller's transaction, each with
/// the next number of its user's sequence.
fn insert_events(tx: &Transaction<'_>, events: &[Event]) -> Result<()> {
    let mut next = tx.prepare_cached(
        "UPDATE users SET event_seq = event_seq + 1 WHERE id = ?1 RETURNING event_seq",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (id, topic, partition_key, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in events {
        let mut e = e.clone();
        e.sequence = next.query_row([&e.user_id], |r| r.get(0))?;
        insert.execute(params![
            e.id,
            e.kind.topic(),
            e.user_id,
            e.to_cloudevent().to_string(),
            e.time.timestamp_millis()
        ])?;
    }
    Ok(())
}

fn to_sql(v: &SqlValue) -> Value {
    match v {
        SqlValue::Int(i) => Value::Integer(*i),
        SqlValue::Real(r) => Value::Real(*r),
        SqlValue::Text(s) => Value::Text(s.clone()),
    }
}

fn key_value(kind: KeyKind, v: Value) -> Result<KeyValue> {
    Ok(match (kind, v) {
        (_, Value::Integer(i)) if kind != KeyKind::Real => KeyValue::Int(i),
        (KeyKind::Real, Value::Integer(i)) => KeyValue::Real(i as f64),
        (_, Value::Real(r)) => KeyValue::Real(r),
        (_, Value::Text(s)) => KeyValue::Text(s),
        (_, other) => return Err(StoreError::Corrupt(format!("sort key {other:?}"))),
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        migrate::run(&mut open_connection(&self.path, WRITER_CACHE_KIB)?)
    }

    async fn ping(&self) -> Result<()> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<()> {
        let (user, password_hash) = (user.clone(), password_hash.to_owned());
        self.write(move |tx| {
            tx.execute(
                &sql(INSERT_USER),
                params![
                    user.id,
                    user.name,
                    password_hash,
                    user.tz.name(),
                    user.created_at.timestamp_millis(),
                    user.date_order.as_str()
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>> {
        let row = self.read(|c| {
            Ok(c.prepare_cached(&sql(USER_CREDENTIALS))?
                .query_row([name], |r| Ok((raw_user(r)?, r.get::<_, String>(7)?)))
                .optional()?)
        })?;
        row.map(|(u, h)| Ok((user(u)?, h))).transpose()
    }

    async fn set_preferences(&self, user_id: &str, p: Preferences) -> Result<Option<User>> {
        let user_id = user_id.to_owned();
        let row = self
            .write(move |tx| {
                Ok(tx
                    .prepare_cached(&sql(SET_PREFERENCES))?
                    .query_row(
                        params![
                            user_id,
                            p.tz.map(|t| t.name()),
                            p.date_order.map(DateOrder::as_str)
                        ],
                        |r| raw_user(r),
                    )
                    .optional()?)
            })
            .await?;
        row.map(user).transpose()
    }

    async fn insert_token(&self, t: &TokenRecord, digest: &[u8; 32]) -> Result<()> {
        let (t, digest) = (t.clone(), *digest);
        self.write(move |tx| {
            tx.execute(
                &sql(INSERT_TOKEN),
                params![
                    t.id,
                    t.user_id,
                    t.name,
                    t.kind.as_str(),
                    &digest[..],
                    t.created_at.timestamp_millis(),
                    t.expires_at.map(|e| e.timestamp_millis())
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn user_by_token(&self, digest: &[u8; 32], now_ms: i64) -> Result<Option<TokenOwner>> {
        let row = self.read(|c| {
            Ok(c.prepare_cached(&sql(USER_BY_TOKEN))?
                .query_row(params![&digest[..], now_ms], |r| {
                    Ok((raw_user(r)?, r.get(7)?, r.get(8)?))
                })
                .optional()?)
        })?;
        row.map(|(u, expires_at_ms, token_id)| {
            Ok(TokenOwner {
                token_id,
                user: user(u)?,
                expires_at_ms,
            })
        })
        .transpose()
    }

    async fn list_tokens(&self, user_id: &str) -> Result<Vec<TokenRecord>> {
        let rows = self.read(|c| {
            let mut stmt = c.prepare_cached(&sql(LIST_TOKENS))?;
            let rows = stmt.query_map([user_id], |r| raw_token(r))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter().map(RawToken::decode).collect()
    }

    async fn revoke_token(&self, user_id: &str, token_id: &str) -> Result<bool> {
        let (user_id, token_id) = (user_id.to_owned(), token_id.to_owned());
        self.write(move |tx| Ok(tx.execute(&sql(REVOKE_TOKEN), params![token_id, user_id])? == 1))
            .await
    }
}

#[async_trait]
impl Tasks for SqliteStore {
    async fn event_sequence(&self, user_id: &str) -> Result<i64> {
        let seq = self.read(|c| {
            Ok(c.prepare_cached(&sql(crate::accounts::EVENT_SEQUENCE))?
                .query_row([user_id], |r| r.get(0))
                .optional()?)
        })?;
        Ok(seq.unwrap_or(0))
    }

    async fn insert_task(&self, user_id: &str, task: &Task, events: &[Event]) -> Result<()> {
        let (user_id, task, events) = (user_id.to_owned(), task.clone(), events.to_vec());
        self.write(move |tx| {
            let scheduled = insert_task(tx, &user_id, &task, false, crate::write_trace(&events))?
                .unwrap_or_default();
            insert_events(tx, &events)?;
            insert_events(tx, &scheduled)
        })
        .await
    }

    async fn task(&self, user_id: &str, id: &str) -> Result<Option<Task>> {
        let raw = self.read(|c| {
            Ok(c.prepare_cached(&sql(&TASK_BY_ID))?
                .query_row([id, user_id], |r| raw_task(r))
                .optional()?)
        })?;
        raw.map(RawTask::decode).transpose()
    }

    async fn replace_task(
        &self,
        user_id: &str,
        task: &Task,
        prev_version: i64,
        events: &[Event],
    ) -> Result<bool> {
        let (user_id, task, events) = (user_id.to_owned(), task.clone(), events.to_vec());
        self.write(move |tx| {
            let Some(scheduled) = replace_task(
                tx,
                &user_id,
                &task,
                prev_version,
                crate::write_trace(&events),
            )?
            else {
                return Ok(false);
            };
            insert_events(tx, &events)?;
            insert_events(tx, &scheduled)?;
            Ok(true)
        })
        .await
    }

    async fn insert_occurrence(&self, user_id: &str, task: &Task, event: &Event) -> Result<bool> {
        let (user_id, task, event) = (user_id.to_owned(), task.clone(), event.clone());
        self.write(move |tx| {
            let Some(scheduled) = insert_task(tx, &user_id, &task, true, event.trace)? else {
                return Ok(false);
            };
            insert_events(tx, std::slice::from_ref(&event))?;
            insert_events(tx, &scheduled)?;
            Ok(true)
        })
        .await
    }

    async fn delete_task(&self, user_id: &str, id: &str, event: &Event) -> Result<bool> {
        let (user_id, id, event) = (user_id.to_owned(), id.to_owned(), event.clone());
        self.write(move |tx| {
            let gone = tx
                .prepare_cached(
                    "DELETE FROM tasks WHERE id = ?1 AND user_id = ?2 RETURNING status, tags",
                )?
                .query_row([&id, &user_id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?;
            let existed = gone.is_some();
            if let Some((status, raw_tags)) = gone {
                let before = decode_tags(&id, &raw_tags)?;
                let was_open = status == Status::Open.as_str();
                tags::recount(tx, &user_id, Some((&before, was_open)), None)?;
                tx.prepare_cached(&sql(crate::tags::DELETE_FOR_TASK))?
                    .execute([&id])?;
                tx.prepare_cached(&sql(crate::reminders::DELETE_FOR_TASK))?
                    .execute([&id])?;
                insert_events(tx, std::slice::from_ref(&event))?;
            }
            Ok(existed)
        })
        .await
    }

    async fn list_tasks(&self, user_id: &str, query: &ListQuery) -> Result<Page> {
        let stmt = listing::build(Dialect::Sqlite, user_id, query)?;
        let wanted = query.limit as usize + 1;
        let rows = self.read(|c| {
            let mut out = Vec::with_capacity(wanted);
            for part in &stmt.parts {
                if out.len() >= wanted {
                    break;
                }
                let mut prepared = c.prepare_cached(&part.sql)?;
                let mut rows =
                    prepared.query(rusqlite::params_from_iter(part.params.iter().map(to_sql)))?;
                while let Some(row) = rows.next()? {
                    let raw = raw_task(row)?;
                    let mut keys = Vec::with_capacity(stmt.key_kinds.len());
                    for (i, kind) in stmt.key_kinds.iter().enumerate() {
                        keys.push(key_value(*kind, row.get::<_, Value>(16 + i)?)?);
                    }
                    out.push((raw, keys));
                }
            }
            Ok(out)
        })?;
        let rows = rows
            .into_iter()
            .map(|(raw, keys)| Ok((raw.decode()?, keys)))
            .collect::<Result<Vec<_>>>()?;
        Ok(stmt.page(rows, query.limit))
    }

    async fn tags(&self, user_id: &str) -> Result<Vec<TagCount>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql(crate::tags::LIST))?;
            let rows = stmt.query_map([user_id], |r| crate::tags::tag_count(r))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    async fn set_tag_colour(&self, user_id: &str, name: &str, colour: Option<&str>) -> Result<()> {
        let (user_id, name, colour) = (
            user_id.to_owned(),
            name.to_owned(),
            colour.map(str::to_owned),
        );
        self.write(move |tx| {
            match colour {
                Some(colour) => tx
                    .prepare_cached(&sql(crate::tags::SET_COLOUR))?
                    .execute([user_id, name, colour])?,
                None => tx
                    .prepare_cached(&sql(crate::tags::CLEAR_COLOUR))?
                    .execute([user_id, name])?,
            };
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn outbox_batch(&self, limit: u32) -> Result<Vec<OutboxMessage>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql(crate::outbox::BATCH))?;
            let rows = stmt.query_map([i64::from(limit)], |r| crate::outbox::message(r))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// A SQLite database serves one process (README, roles): its relay.
    async fn relay_leader(&self) -> Result<bool> {
        Ok(true)
    }

    async fn outbox_ack(&self, seqs: &[i64]) -> Result<()> {
        let seqs = seqs.to_vec();
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
            for s in &seqs {
                stmt.execute([s])?;
            }
            Ok(())
        })
        .await
    }

    async fn outbox_backlog(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row(crate::outbox::BACKLOG, [], |r| r.get(0))?))
    }

    async fn outbox_written(&self) {
        tokio::select! {
            () = self.writer.committed() => {}
            () = tokio::time::sleep(crate::outbox::SQLITE_SAFETY_POLL) => {}
        }
    }
}

#[async_trait]
impl Activity for SqliteStore {
    async fn record_activity(&self, events: &[(Event, String)]) -> Result<()> {
        let events = events.to_vec();
        self.write(move |tx| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO activity (id, user_id, type, subject, time, payload) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?;
            for (event, payload) in &events {
                insert.execute(params![
                    event.id,
                    event.user_id,
                    event.kind.as_str(),
                    event.subject,
                    event.time.timestamp_millis(),
                    payload
                ])?;
            }
            Ok(())
        })
        .await
    }

    async fn list_activity(
        &self,
        user_id: &str,
        q: &ActivityQuery,
    ) -> Result<Vec<(i64, String, String)>> {
        let (sql, values) = crate::activity::list_sql(Dialect::Sqlite, user_id, q);
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values.iter().map(to_sql)), |r| {
                    crate::activity::entry(r)
                })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
