//! PostgreSQL backend for production and for running several replicas:
//! a sqlx pool, migrations embedded from `migrations/postgres`, full-text
//! search over a generated `tsvector` column with a GIN index.

mod conversations;
mod create;
mod group;
mod leader;
mod migrate;
mod notifications;
mod reminders;
mod replace;
mod verification;
mod views;
mod webhooks;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use dueflow_domain::event::Event;
use dueflow_domain::quickadd::DateOrder;
use dueflow_domain::task::Task;
use dueflow_domain::trace::TraceParent;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Connection, PgPool, Postgres, Row};

use create::Create;
use replace::Replace;

use crate::accounts::{
    EVENT_SEQUENCE, INSERT_TOKEN, INSERT_USER, LIST_TOKENS, REVOKE_TOKEN, SET_PREFERENCES,
    USER_BY_TOKEN, USER_CREDENTIALS, raw_token, raw_user, user,
};
use crate::codec::{EncodedTask, TASK_BY_ID, UPDATE_TASK, encode, raw_task};
use crate::listing::{self, Dialect, KeyKind, KeyValue, ListQuery, Page, SqlValue};
use crate::reminders::parse_state;
use crate::{
    Accounts, Activity, ActivityQuery, Outbox, OutboxMessage, Preferences, Result, Store, TagCount,
    Tasks, TokenOwner, TokenRecord, User,
};

pub struct PgStore {
    pool: PgPool,
    writes: group::Writes,
    relay_leader: leader::RelayLeader,
}

/// A pooled connection idle for longer is pinged before it is used.
const IDLE_BEFORE_PING: std::time::Duration = std::time::Duration::from_secs(10);

impl PgStore {
    /// The rows of one query of a list. The list compiler emits only fixed
    /// SQL fragments; all input is bound.
    async fn fetch_part(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<PgRow>> {
        Ok(bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(5))
            // sqlx pings every connection it hands out by default: a round
            // trip as dear as the statement itself. Only a connection that
            // sat idle long enough to have been dropped is checked.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > IDLE_BEFORE_PING {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await?;
        Ok(Self {
            writes: group::Writes::start(pool.clone()),
            pool,
            relay_leader: leader::RelayLeader::default(),
        })
    }
}

/// Same parameters as [`UPDATE_TASK`] plus `$22`, the task's tags. One
/// statement replaces the task and its tags and returns the task's
/// reminders as they were (`at`, `state`; one row of NULLs when it has
/// none), or no row when the version moved.
static REPLACE_TASK: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH updated AS ({UPDATE_TASK} RETURNING id), \
         untagged AS (DELETE FROM task_tags g USING updated u \
         WHERE g.task_id = u.id AND g.name <> ALL($22::text[])), \
         tagged AS (INSERT INTO task_tags (task_id, user_id, name) \
         SELECT u.id, $2, n FROM updated u, unnest($22::text[]) n ON CONFLICT DO NOTHING) \
         SELECT r.at, r.state FROM updated u LEFT JOIN reminders r ON r.task_id = u.id"
    )
});

type Tx<'a> = sqlx::Transaction<'a, Postgres>;

/// `q` with a task's twenty column values bound as `$1`…`$20`.
fn bind_task<'q>(
    q: Query<'q, Postgres, PgArguments>,
    user_id: &'q str,
    task: &'q Task,
    e: &'q EncodedTask,
) -> Query<'q, Postgres, PgArguments> {
    q.bind(&task.id)
        .bind(user_id)
        .bind(&task.title)
        .bind(&task.notes)
        .bind(e.status)
        .bind(e.priority)
        .bind(&e.due)
        .bind(e.due_at)
        .bind(e.overdue_at)
        .bind(task.tz.name())
        .bind(&e.tags)
        .bind(task.tags.len() as i64)
        .bind(&e.recurrence)
        .bind(&e.reminders)
        .bind(&task.series_id)
        .bind(i64::from(task.occurrence))
        .bind(e.created_at)
        .bind(e.updated_at)
        .bind(e.completed_at)
        .bind(task.version)
}

/// Renew a sender's leases with `renew` (`$1` the key, `$2` the lease it
/// holds, `$3` the new one).
async fn renew_leases(
    pool: &PgPool,
    renew: &'static str,
    keys: &[String],
    held_ms: i64,
    until_ms: i64,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    for key in keys {
        sqlx::query(renew)
            .bind(key)
            .bind(held_ms)
            .bind(until_ms)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Replace a task still at `prev_version`, its tags and its reminders;
/// `None` if the version moved, else the events of reminders scheduled.
async fn replace_task(
    tx: &mut Tx<'_>,
    user_id: &str,
    task: &Task,
    prev_version: i64,
    trace: TraceParent,
) -> Result<Option<Vec<Event>>> {
    let e = encode(task);
    let rows: Vec<(Option<i64>, Option<String>)> =
        bind_task(sqlx::query(REPLACE_TASK.as_str()), user_id, task, &e)
            .bind(prev_version)
            .bind(&task.tags)
            .try_map(|row: PgRow| Ok((row.try_get(0)?, row.try_get(1)?)))
            .fetch_all(&mut **tx)
            .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut existing = Vec::with_capacity(rows.len());
    for (at, state) in rows {
        if let (Some(at), Some(state)) = (at, state) {
            existing.push((at, parse_state(&state)?));
        }
    }
    reminders::sync(tx, user_id, task, &existing, trace)
        .await
        .map(Some)
}

/// The tail of a statement that appends one user's events to the outbox:
/// a `seq` CTE (updating the user row where `condition` holds, too), then
/// the insert. `$user` is the user, `$first` how many
/// events, and the next four their ids, topics, CloudEvents documents and
/// times, in order ([`EventColumns::bind`]). It takes the next numbers of
/// the user's sequence (the row lock orders one user's concurrent writers)
/// and writes each into its document, whose `usersequence` is still 0:
/// serde_json escapes the quotes inside strings, so only that member can
/// match.
fn append_events(user: u32, first: u32, condition: &str) -> String {
    let [n, ids, topics, payloads, times] = [0, 1, 2, 3, 4].map(|i| first + i);
    format!(
        "seq AS (UPDATE users SET event_seq = event_seq + ${n} WHERE id = ${user}{condition} \
         RETURNING event_seq) \
         INSERT INTO outbox (id, topic, partition_key, payload, created_at) \
         SELECT e.id, e.topic, ${user}, replace(e.payload, '\"usersequence\":0', \
         '\"usersequence\":' || (seq.event_seq - ${n} + e.n)), e.created_at \
         FROM seq, unnest(${ids}::text[], ${topics}::text[], ${payloads}::text[], ${times}::bigint[]) \
         WITH ORDINALITY AS e(id, topic, payload, created_at, n) ORDER BY e.n"
    )
}

/// One user's events as the arrays [`append_events`] binds.
struct EventColumns {
    ids: Vec<String>,
    topics: Vec<&'static str>,
    payloads: Vec<String>,
    times: Vec<i64>,
}

impl EventColumns {
    fn of<'a>(events: impl ExactSizeIterator<Item = &'a Event>) -> Self {
        let n = events.len();
        let mut c = EventColumns {
            ids: Vec::with_capacity(n),
            topics: Vec::with_capacity(n),
            payloads: Vec::with_capacity(n),
            times: Vec::with_capacity(n),
        };
        for e in events {
            debug_assert_eq!(e.sequence, 0, "numbered by the statement");
            c.ids.push(e.id.clone());
            c.topics.push(e.kind.topic());
            c.payloads.push(e.to_cloudevent().to_string());
            c.times.push(e.time.timestamp_millis());
        }
        c
    }

    /// Bind the count and the four arrays after whatever `q` has bound.
    fn bind<'q>(&'q self, q: Query<'q, Postgres, PgArguments>) -> Query<'q, Postgres, PgArguments> {
        q.bind(self.ids.len() as i64)
            .bind(&self.ids)
            .bind(&self.topics)
            .bind(&self.payloads)
            .bind(&self.times)
    }
}

/// One user's events (`$1` the user, then as for [`append_events`]).
static APPEND_EVENTS: LazyLock<String> =
    LazyLock::new(|| format!("WITH {}", append_events(1, 2, "")));

/// Append events to the outbox within the caller's transaction, one
/// statement per user (users in id order, so that two writers never wait
/// on each other in a cycle).
async fn insert_events(tx: &mut Tx<'_>, events: &[Event]) -> Result<()> {
    let mut by_user: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        by_user.entry(&e.user_id).or_default().push(e);
    }
    for (user, mine) in by_user {
        let q = sqlx::query(APPEND_EVENTS.as_str()).bind(user);
        let columns = EventColumns::of(mine.into_iter());
        columns.bind(q).execute(&mut **tx).await?;
    }
    Ok(())
}

fn bind_all<'q>(
    mut q: Query<'q, Postgres, PgArguments>,
    params: &'q [SqlValue],
) -> Query<'q, Postgres, PgArguments> {
    for p in params {
        q = match p {
            SqlValue::Int(i) => q.bind(*i),
            SqlValue::Real(r) => q.bind(*r),
            SqlValue::Text(s) => q.bind(s.as_str()),
        };
    }
    q
}

fn key_value(kind: KeyKind, row: &PgRow, i: usize) -> Result<KeyValue> {
    Ok(match kind {
        KeyKind::Int => KeyValue::Int(row.try_get(i)?),
        KeyKind::Real => KeyValue::Real(row.try_get(i)?),
        KeyKind::Text => KeyValue::Text(row.try_get(i)?),
    })
}

#[async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> Result<()> {
        migrate::run(&self.pool).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

#[async_trait]
impl Accounts for PgStore {
    async fn create_user(&self, u: &User, password_hash: &str) -> Result<()> {
        sqlx::query(INSERT_USER)
            .bind(&u.id)
            .bind(&u.name)
            .bind(password_hash)
            .bind(u.tz.name())
            .bind(u.created_at.timestamp_millis())
            .bind(u.date_order.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(USER_CREDENTIALS)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((user(raw_user(&r)?)?, r.try_get(7)?)))
            .transpose()
    }

    async fn set_preferences(&self, user_id: &str, p: Preferences) -> Result<Option<User>> {
        let row = sqlx::query(SET_PREFERENCES)
            .bind(user_id)
            .bind(p.tz.map(|t| t.name()))
            .bind(p.date_order.map(DateOrder::as_str))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| user(raw_user(&r)?)).transpose()
    }

    async fn insert_token(&self, t: &TokenRecord, digest: &[u8; 32]) -> Result<()> {
        sqlx::query(INSERT_TOKEN)
            .bind(&t.id)
            .bind(&t.user_id)
            .bind(&t.name)
            .bind(t.kind.as_str())
            .bind(&digest[..])
            .bind(t.created_at.timestamp_millis())
            .bind(t.expires_at.map(|e| e.timestamp_millis()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn user_by_token(&self, digest: &[u8; 32], now_ms: i64) -> Result<Option<TokenOwner>> {
        let row = sqlx::query(USER_BY_TOKEN)
            .bind(&digest[..])
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(TokenOwner {
                token_id: r.try_get(8)?,
                user: user(raw_user(&r)?)?,
                expires_at_ms: r.try_get(7)?,
            })
        })
        .transpose()
    }

    async fn list_tokens(&self, user_id: &str) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(LIST_TOKENS)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| raw_token(r)?.decode()).collect()
    }

    async fn revoke_token(&self, user_id: &str, token_id: &str) -> Result<bool> {
        let n = sqlx::query(REVOKE_TOKEN)
            .bind(token_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}

#[async_trait]
impl Tasks for PgStore {
    async fn event_sequence(&self, user_id: &str) -> Result<i64> {
        let seq: Option<i64> = sqlx::query_scalar(EVENT_SEQUENCE)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn insert_task(&self, user_id: &str, task: &Task, events: &[Event]) -> Result<()> {
        self.writes
            .create(Create::new(user_id, task, events, false)?)
            .await?;
        Ok(())
    }

    async fn task(&self, user_id: &str, id: &str) -> Result<Option<Task>> {
        let row = sqlx::query(TASK_BY_ID.as_str())
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| raw_task(&r)?.decode()).transpose()
    }

    async fn replace_task(
        &self,
        user_id: &str,
        task: &Task,
        prev_version: i64,
        events: &[Event],
    ) -> Result<bool> {
        self.writes
            .replace(Replace::new(user_id, task, prev_version, events))
            .await
    }

    async fn insert_occurrence(&self, user_id: &str, task: &Task, event: &Event) -> Result<bool> {
        // Not grouped: occurrences are few, and two of one series would wait
        // on each other's position in a shared transaction.
        Create::new(user_id, task, std::slice::from_ref(event), true)?
            .run(&self.pool)
            .await
    }

    async fn delete_task(&self, user_id: &str, id: &str, event: &Event) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query("DELETE FROM tasks WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 1 {
            sqlx::query(crate::tags::DELETE_FOR_TASK)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(crate::reminders::DELETE_FOR_TASK)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            insert_events(&mut tx, std::slice::from_ref(event)).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn list_tasks(&self, user_id: &str, query: &ListQuery) -> Result<Page> {
        let stmt = listing::build(Dialect::Postgres, user_id, query)?;
        let wanted = query.limit as usize + 1;
        let mut rows = Vec::with_capacity(wanted);
        for part in &stmt.parts {
            let needed = wanted.saturating_sub(rows.len());
            if needed == 0 {
                break;
            }
            let mut fetched = match &part.probe {
                Some(probe) => self.fetch_part(probe, &part.params).await?,
                None => Vec::new(),
            };
            if fetched.len() < needed {
                fetched = self.fetch_part(&part.sql, &part.params).await?;
            }
            for row in &fetched {
                let task = raw_task(row)?.decode()?;
                let keys = stmt
                    .key_kinds
                    .iter()
                    .enumerate()
                    .map(|(i, k)| key_value(*k, row, 16 + i))
                    .collect::<Result<Vec<_>>>()?;
                rows.push((task, keys));
            }
        }
        Ok(stmt.page(rows, query.limit))
    }

    async fn tags(&self, user_id: &str) -> Result<Vec<TagCount>> {
        let rows = sqlx::query(crate::tags::LIST)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(crate::tags::tag_count(r)?))
            .collect()
    }

    async fn set_tag_colour(&self, user_id: &str, name: &str, colour: Option<&str>) -> Result<()> {
        let statement = match colour {
            Some(colour) => sqlx::query(crate::tags::SET_COLOUR)
                .bind(user_id)
                .bind(name)
                .bind(colour),
            None => sqlx::query(crate::tags::CLEAR_COLOUR)
                .bind(user_id)
                .bind(name),
        };
        statement.execute(&self.pool).await?;
        Ok(())
    }
}

#[async_trait]
impl Outbox for PgStore {
    async fn outbox_batch(&self, limit: u32) -> Result<Vec<OutboxMessage>> {
        let rows = sqlx::query(crate::outbox::BATCH)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(crate::outbox::message(r)?))
            .collect()
    }

    async fn relay_leader(&self) -> Result<bool> {
        self.relay_leader.hold(&self.pool).await
    }

    async fn outbox_ack(&self, seqs: &[i64]) -> Result<()> {
        sqlx::query("DELETE FROM outbox WHERE seq = ANY($1)")
            .bind(seqs)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn outbox_backlog(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(crate::outbox::BACKLOG)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn outbox_written(&self) {
        tokio::time::sleep(crate::outbox::PG_POLL).await;
    }
}

#[async_trait]
impl Activity for PgStore {
    async fn record_activity(&self, events: &[(Event, String)]) -> Result<()> {
        let column = |f: fn(&(Event, String)) -> &str| events.iter().map(f).collect::<Vec<_>>();
        let times: Vec<i64> = events
            .iter()
            .map(|(e, _)| e.time.timestamp_millis())
            .collect();
        sqlx::query(
            "INSERT INTO activity (id, user_id, type, subject, time, payload) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) \
             ON CONFLICT DO NOTHING",
        )
        .bind(column(|(e, _)| &e.id))
        .bind(column(|(e, _)| &e.user_id))
        .bind(column(|(e, _)| e.kind.as_str()))
        .bind(column(|(e, _)| &e.subject))
        .bind(times)
        .bind(column(|(_, p)| p))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_activity(
        &self,
        user_id: &str,
        q: &ActivityQuery,
    ) -> Result<Vec<(i64, String, String)>> {
        let (sql, values) = crate::activity::list_sql(Dialect::Postgres, user_id, q);
        // Fixed fragments only; every filter value is bound.
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql.as_str())), &values)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(crate::activity::entry(r)?))
            .collect()
    }
}
