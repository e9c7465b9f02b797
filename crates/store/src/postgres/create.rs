//! The statements that create tasks. A create writes the task, its tags,
//! its reminders and its events, and advances its user's event sequence,
//! all in one statement: one round trip, atomic without `BEGIN`/`COMMIT`.
//! Creates that queue up together ([`super::group`]) are written by one
//! statement too, each of its columns bound as one array, so that a group
//! costs one round trip and one commit, however many creates it holds.

use std::sync::LazyLock;

use dueflow_domain::event::Event;
use dueflow_domain::reminder::schedule;
use dueflow_domain::task::Task;
use sqlx::{AssertSqlSafe, Postgres};

use super::{EventColumns, append_events, bind_task};
use crate::Result;
use crate::codec::{EncodedTask, INSERT_TASK, encode};

/// A new task, its tags, its reminders and its events (plus those of the
/// reminders), ready to be bound. It owns what it binds, so that a
/// [`super::group::Writes`] writer can write it for the caller.
pub(super) struct Create {
    pub(super) user_id: String,
    task: Task,
    encoded: EncodedTask,
    shape: CreateShape,
    reminder_ids: Vec<String>,
    reminder_ats: Vec<i64>,
    events: EventColumns,
}

impl Create {
    /// `skip_existing`: write nothing if the task's series position is taken.
    pub(super) fn new(
        user_id: &str,
        task: &Task,
        events: &[Event],
        skip_existing: bool,
    ) -> Result<Self> {
        debug_assert!(!events.is_empty(), "a task write carries its events");
        let now = task.updated_at;
        let mut all = events.to_vec();
        let (mut reminder_ids, mut reminder_ats) = (Vec::new(), Vec::new());
        let trace = crate::write_trace(events);
        for at in schedule::plan(&[], &schedule::instants(task), now.timestamp_millis()).1 {
            let r = crate::reminders::new_pending(&task.id, at)?;
            all.push(Event::reminder_scheduled(user_id, &r, now).in_trace(trace));
            reminder_ids.push(r.id);
            reminder_ats.push(at);
        }
        Ok(Create {
            user_id: user_id.to_owned(),
            encoded: encode(task),
            task: task.clone(),
            shape: CreateShape {
                skip_existing,
                tags: !task.tags.is_empty(),
                reminders: !reminder_ids.is_empty(),
            },
            reminder_ids,
            reminder_ats,
            events: EventColumns::of(all.iter()),
        })
    }

    /// Write it through `db`; `false` when the series position was taken
    /// and so nothing was written.
    pub(super) async fn run<'e, E: sqlx::Executor<'e, Database = Postgres>>(
        &self,
        db: E,
    ) -> Result<bool> {
        let mut q = bind_task(
            sqlx::query(AssertSqlSafe(self.shape.sql())),
            &self.user_id,
            &self.task,
            &self.encoded,
        );
        if self.shape.tags {
            q = q.bind(&self.task.tags);
        }
        if self.shape.reminders {
            q = q.bind(&self.reminder_ids).bind(&self.reminder_ats);
        }
        // Every new task has at least its `task.created` event.
        let written = self.events.bind(q).execute(db).await?.rows_affected();
        Ok(written > 0)
    }
}

/// Which parts the statement creating a task needs. A part left out costs
/// nothing: no executor node, no index opened, no lock taken.
#[derive(Clone, Copy)]
struct CreateShape {
    /// A task whose series position is taken is not inserted, and then
    /// nothing else is.
    skip_existing: bool,
    tags: bool,
    reminders: bool,
}

impl CreateShape {
    fn sql(self) -> &'static str {
        let i = usize::from(self.skip_existing)
            | usize::from(self.tags) << 1
            | usize::from(self.reminders) << 2;
        CREATE_TASK[i].as_str()
    }

    /// A new task (`$1`…`$20` as for [`INSERT_TASK`]), then, where present,
    /// its tags (one array) and its reminders (ids, instants), then its
    /// events (see [`append_events`]), in one statement.
    fn build(self) -> String {
        let conflict = if self.skip_existing {
            " ON CONFLICT DO NOTHING"
        } else {
            ""
        };
        let mut parts = vec![format!("task AS ({INSERT_TASK}{conflict} RETURNING id)")];
        let mut next = 21;
        if self.tags {
            parts.push(format!(
                "tags AS (INSERT INTO task_tags (task_id, user_id, name) \
                 SELECT task.id, $2, unnest(${next}::text[]) FROM task)"
            ));
            next += 1;
        }
        if self.reminders {
            parts.push(format!(
                "reminders AS (INSERT INTO reminders (id, user_id, task_id, at, fire_at, state) \
                 SELECT r.id, $2, task.id, r.at, r.at, 'pending' \
                 FROM task, unnest(${next}::text[], ${}::bigint[]) AS r(id, at))",
                next + 1
            ));
            next += 2;
        }
        parts.push(append_events(2, next, " AND EXISTS (SELECT 1 FROM task)"));
        format!("WITH {}", parts.join(", "))
    }
}

/// Every [`CreateShape`]'s statement, indexed as [`CreateShape::sql`] does.
static CREATE_TASK: LazyLock<[String; 8]> = LazyLock::new(|| {
    std::array::from_fn(|i| {
        CreateShape {
            skip_existing: i & 1 != 0,
            tags: i & 2 != 0,
            reminders: i & 4 != 0,
        }
        .build()
    })
});

/// Creates written by one statement: the [`Create`]s' values, column by
/// column. No create may take a series position: any that were refused
/// would fail the whole statement.
pub(super) struct Group<'a> {
    tasks: TaskColumns<'a>,
    /// Each tag's task, owner and name.
    tags: [Vec<&'a str>; 3],
    /// Each reminder's id, owner, task, and instant.
    reminders: ([Vec<&'a str>; 3], Vec<i64>),
    /// Each event's id, owner, topic and CloudEvents document, and time.
    events: ([Vec<&'a str>; 4], Vec<i64>),
}

/// The twenty columns of [`INSERT_TASK`], in its order.
#[derive(Default)]
struct TaskColumns<'a> {
    ids: Vec<&'a str>,
    users: Vec<&'a str>,
    titles: Vec<&'a str>,
    notes: Vec<&'a str>,
    statuses: Vec<&'static str>,
    priorities: Vec<i64>,
    dues: Vec<Option<&'a str>>,
    due_ats: Vec<Option<i64>>,
    overdue_ats: Vec<Option<i64>>,
    zones: Vec<&'static str>,
    tags: Vec<&'a str>,
    tag_counts: Vec<i64>,
    recurrences: Vec<Option<&'a str>>,
    reminders: Vec<&'a str>,
    series: Vec<Option<&'a str>>,
    occurrences: Vec<i64>,
    created: Vec<i64>,
    updated: Vec<i64>,
    completed: Vec<Option<i64>>,
    versions: Vec<i64>,
}

impl<'a> Group<'a> {
    /// `creates` in the order their users' events are to be numbered.
    pub(super) fn of(creates: impl IntoIterator<Item = &'a Create>) -> Self {
        let mut g = Group {
            tasks: TaskColumns::default(),
            tags: Default::default(),
            reminders: Default::default(),
            events: Default::default(),
        };
        for c in creates {
            g.push(c);
        }
        g
    }

    fn push(&mut self, c: &'a Create) {
        let (t, e, user) = (&c.task, &c.encoded, c.user_id.as_str());
        let cols = &mut self.tasks;
        cols.ids.push(&t.id);
        cols.users.push(user);
        cols.titles.push(&t.title);
        cols.notes.push(&t.notes);
        cols.statuses.push(e.status);
        cols.priorities.push(e.priority);
        cols.dues.push(e.due.as_deref());
        cols.due_ats.push(e.due_at);
        cols.overdue_ats.push(e.overdue_at);
        cols.zones.push(t.tz.name());
        cols.tags.push(&e.tags);
        cols.tag_counts.push(t.tags.len() as i64);
        cols.recurrences.push(e.recurrence.as_deref());
        cols.reminders.push(&e.reminders);
        cols.series.push(t.series_id.as_deref());
        cols.occurrences.push(i64::from(t.occurrence));
        cols.created.push(e.created_at);
        cols.updated.push(e.updated_at);
        cols.completed.push(e.completed_at);
        cols.versions.push(t.version);
        for name in &t.tags {
            let [tasks, users, names] = &mut self.tags;
            tasks.push(&t.id);
            users.push(user);
            names.push(name);
        }
        let ([ids, users, tasks], ats) = &mut self.reminders;
        for (id, at) in c.reminder_ids.iter().zip(&c.reminder_ats) {
            ids.push(id);
            users.push(user);
            tasks.push(&t.id);
            ats.push(*at);
        }
        let ([ids, users, topics, payloads], times) = &mut self.events;
        let ev = &c.events;
        for i in 0..ev.ids.len() {
            ids.push(&ev.ids[i]);
            users.push(user);
            topics.push(ev.topics[i]);
            payloads.push(&ev.payloads[i]);
            times.push(ev.times[i]);
        }
    }

    /// Write every create of the group, or (if the database refuses any
    /// part) none of them.
    pub(super) async fn run<'e, E: sqlx::Executor<'e, Database = Postgres>>(
        &self,
        db: E,
    ) -> std::result::Result<(), sqlx::Error> {
        let shape = GroupShape {
            tags: !self.tags[0].is_empty(),
            reminders: !self.reminders.1.is_empty(),
        };
        let t = &self.tasks;
        let mut q = sqlx::query(AssertSqlSafe(shape.sql()))
            .bind(&t.ids)
            .bind(&t.users)
            .bind(&t.titles)
            .bind(&t.notes)
            .bind(&t.statuses)
            .bind(&t.priorities)
            .bind(&t.dues)
            .bind(&t.due_ats)
            .bind(&t.overdue_ats)
            .bind(&t.zones)
            .bind(&t.tags)
            .bind(&t.tag_counts)
            .bind(&t.recurrences)
            .bind(&t.reminders)
            .bind(&t.series)
            .bind(&t.occurrences)
            .bind(&t.created)
            .bind(&t.updated)
            .bind(&t.completed)
            .bind(&t.versions);
        if shape.tags {
            let [tasks, users, names] = &self.tags;
            q = q.bind(tasks).bind(users).bind(names);
        }
        if shape.reminders {
            let ([ids, users, tasks], ats) = &self.reminders;
            q = q.bind(ids).bind(users).bind(tasks).bind(ats);
        }
        let ([ids, users, topics, payloads], times) = &self.events;
        q.bind(ids)
            .bind(users)
            .bind(topics)
            .bind(payloads)
            .bind(times)
            .execute(db)
            .await?;
        Ok(())
    }
}

/// Which parts a group's statement needs, as for [`CreateShape`].
#[derive(Clone, Copy)]
struct GroupShape {
    tags: bool,
    reminders: bool,
}

impl GroupShape {
    fn sql(self) -> &'static str {
        CREATE_GROUP[usize::from(self.tags) | usize::from(self.reminders) << 1].as_str()
    }

    /// The tasks (`$1`…`$20`, one array per column of [`INSERT_TASK`]),
    /// then, where present, the tags (tasks, owners, names) and the
    /// reminders (ids, owners, tasks, instants), then the events (ids,
    /// owners, topics, documents, times). Each user's events are numbered
    /// as [`append_events`] numbers them, in the order given; the users'
    /// rows are locked first, in the byte order of their ids as every other
    /// writer of several users takes them, so that no two wait on each
    /// other in a cycle.
    fn build(self) -> String {
        let (columns, _) = INSERT_TASK
            .split_once(" VALUES")
            .expect("INSERT_TASK ends in its VALUES list");
        let types = [
            "text", "text", "text", "text", "text", "bigint", "text", "bigint", "bigint", "text",
            "text", "bigint", "text", "text", "text", "bigint", "bigint", "bigint", "bigint",
            "bigint",
        ];
        let mut next = 1;
        let mut arrays = |types: &[&str]| {
            let list: Vec<String> = types
                .iter()
                .enumerate()
                .map(|(i, t)| format!("${}::{t}[]", next + i))
                .collect();
            next += types.len();
            list.join(", ")
        };
        let mut parts = vec![format!(
            "task AS ({columns} SELECT * FROM unnest({}))",
            arrays(&types)
        )];
        if self.tags {
            parts.push(format!(
                "tags AS (INSERT INTO task_tags (task_id, user_id, name) \
                 SELECT * FROM unnest({}))",
                arrays(&["text", "text", "text"])
            ));
        }
        if self.reminders {
            parts.push(format!(
                "reminders AS (INSERT INTO reminders (id, user_id, task_id, at, fire_at, state) \
                 SELECT r.id, r.user_id, r.task_id, r.at, r.at, 'pending' \
                 FROM unnest({}) AS r(id, user_id, task_id, at))",
                arrays(&["text", "text", "text", "bigint"])
            ));
        }
        parts.push(format!(
            "e AS (SELECT * FROM unnest({}) \
             WITH ORDINALITY AS e(id, user_id, topic, payload, created_at, n)), \
             counts AS (SELECT user_id, count(*) AS n FROM e GROUP BY user_id), \
             locked AS MATERIALIZED (SELECT id FROM users WHERE id IN (SELECT user_id FROM counts) \
             ORDER BY id COLLATE \"C\" FOR UPDATE), \
             seq AS (UPDATE users u SET event_seq = u.event_seq + counts.n FROM counts, locked \
             WHERE u.id = counts.user_id AND locked.id = u.id \
             RETURNING u.id, u.event_seq - counts.n AS base) \
             INSERT INTO outbox (id, topic, partition_key, payload, created_at) \
             SELECT e.id, e.topic, e.user_id, replace(e.payload, '\"usersequence\":0', \
             '\"usersequence\":' || (seq.base + row_number() OVER (PARTITION BY e.user_id ORDER BY e.n))), \
             e.created_at FROM e JOIN seq ON seq.id = e.user_id ORDER BY e.n",
            arrays(&["text", "text", "text", "text", "bigint"])
        ));
        format!("WITH {}", parts.join(", "))
    }
}

/// Every [`GroupShape`]'s statement, indexed as [`GroupShape::sql`] does.
static CREATE_GROUP: LazyLock<[String; 4]> = LazyLock::new(|| {
    std::array::from_fn(|i| {
        GroupShape {
            tags: i & 1 != 0,
            reminders: i & 2 != 0,
        }
        .build()
    })
});
