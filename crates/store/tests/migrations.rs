//! The schema's one numbered history, on both backends: the two migration
//! folders hold the same files; every step applies on an empty database and
//! migrating again changes nothing; and a database as the previous release
//! left it (its history in the numbering of that release, full of data) is
//! renumbered and brought up to date with every row kept, new writes
//! working and every step recorded once.
//!
//! PostgreSQL must be reachable at `DUEFLOW_TEST_PG`: these tests fail when
//! it is not, they never skip.

mod pg;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use dueflow_domain::event::Event;
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::quickadd::DateOrder;
use dueflow_domain::task::{NewTask, Task};
use dueflow_store::{
    ActivityQuery, Conversation, ConversationHead, ListQuery, Preferences, ReminderQuery,
    SavedView, Store, TokenKind, TokenRecord, User, Webhook,
};
use serde_json::json;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, PgPool, SqlSafeStr};

/// The files of the previous release, in its order (their contents did not
/// change, only their numbers).
const PREVIOUS_SQLITE: [&str; 12] = [
    "0001_init",
    "0002_events",
    "0003_event_sequence",
    "0004_due_sort_indexes",
    "0005_reminders_notifications_webhooks",
    "0006_search_owner",
    "0008_search_prefixes",
    "0010_webhook_secret_rotation",
    "0012_email_verification",
    "0013_tags_views_channels",
    "0014_date_order",
    "0015_conversations",
];
const PREVIOUS_POSTGRES: [&str; 14] = [
    "0001_init",
    "0002_events",
    "0003_event_sequence",
    "0004_due_sort_indexes",
    "0005_reminders_notifications_webhooks",
    "0006_search_owner",
    "0007_search_weights",
    "0009_lighter_writes",
    "0010_webhook_secret_rotation",
    "0011_no_write_foreign_keys",
    "0012_email_verification",
    "0013_tags_views_channels",
    "0014_date_order",
    "0015_conversations",
];

fn migrations_dir(backend: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend)
}

/// The migration files of a backend, without `.sql`, in order.
fn steps(backend: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(migrations_dir(backend))
        .expect("migrations folder")
        .map(|e| {
            let name = e.expect("entry").file_name().into_string().expect("UTF-8");
            name.strip_suffix(".sql")
                .unwrap_or_else(|| panic!("{name} is not an .sql file"))
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

fn sql(backend: &str, step: &str) -> String {
    std::fs::read_to_string(migrations_dir(backend).join(format!("{step}.sql"))).expect("read")
}

/// `0008_search_prefixes` → `search prefixes`, as sqlx describes a file.
fn description(step: &str) -> String {
    step.split_once('_').expect("numbered").1.replace('_', " ")
}

/// The history every database ends with: (version, description).
fn expected_history() -> Vec<(i64, String)> {
    steps("sqlite")
        .iter()
        .enumerate()
        .map(|(i, s)| (i as i64 + 1, description(s)))
        .collect()
}

#[test]
fn both_backends_have_one_history() {
    let sqlite = steps("sqlite");
    assert_eq!(sqlite, steps("postgres"));
    for (i, step) in sqlite.iter().enumerate() {
        assert!(
            step.starts_with(&format!("{:04}_", i + 1)),
            "{step} is out of place: the versions run 1, 2, 3… without gaps"
        );
    }
}

// --- SQLite ---------------------------------------------------------------

struct SqliteDb {
    dir: tempfile::TempDir,
}

impl SqliteDb {
    fn new() -> SqliteDb {
        SqliteDb {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("dueflow.db")
    }

    async fn store(&self) -> Arc<dyn Store> {
        dueflow_store::connect(&format!("sqlite:{}", self.path().display()))
            .await
            .expect("open the SQLite store")
    }

    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path()).expect("open")
    }

    /// The database as the previous release's runner left it after its
    /// first `upto` steps: each step in a transaction with its number in
    /// `user_version`, and no other record.
    fn previous_release(&self, upto: usize) {
        let mut conn = self.conn();
        for (i, step) in PREVIOUS_SQLITE.iter().take(upto).enumerate() {
            let tx = conn.transaction().expect("begin");
            tx.execute_batch(&sql("sqlite", step)).expect(step);
            tx.pragma_update(None, "user_version", i + 1)
                .expect("user_version");
            tx.commit().expect("commit");
        }
    }

    fn history(&self) -> Vec<(i64, String, i64)> {
        self.conn()
            .prepare(
                "SELECT version, description, applied_at FROM schema_migrations ORDER BY version",
            )
            .expect("history table")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    }

    fn user_version(&self) -> i64 {
        self.conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("user_version")
    }

    fn schema(&self) -> Vec<(String, String, Option<String>)> {
        self.conn()
            .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    }
}

fn without_times<T>(history: Vec<(i64, String, T)>) -> Vec<(i64, String)> {
    history.into_iter().map(|(v, d, _)| (v, d)).collect()
}

#[tokio::test]
async fn sqlite_migrates_an_empty_database_and_again_changes_nothing() {
    let db = SqliteDb::new();
    let store = db.store().await;
    store.migrate().await.expect("migrate");
    let first = db.history();
    assert_eq!(without_times(first.clone()), expected_history());
    assert_eq!(db.user_version(), expected_history().len() as i64);
    store.migrate().await.expect("migrate again");
    assert_eq!(db.history(), first, "the second run recorded nothing");
    // And the schema works.
    let data = Data::write(store.as_ref()).await;
    data.check(store.as_ref()).await;
}

#[tokio::test]
async fn sqlite_upgrades_the_previous_release_with_its_data() {
    let db = SqliteDb::new();
    db.previous_release(PREVIOUS_SQLITE.len());
    assert_eq!(db.user_version(), 12);
    // Written through this release's store on the previous schema: its
    // statements touch only tables that schema has (the tag counters that
    // 0016 adds on PostgreSQL are kept by a trigger, not by them).
    let data = {
        let old = db.store().await;
        Data::write(old.as_ref()).await
    };
    let before = db.schema();

    let store = db.store().await;
    store.migrate().await.expect("migrate");

    assert_eq!(without_times(db.history()), expected_history());
    assert_eq!(db.user_version(), expected_history().len() as i64);
    // Nothing ran again: the schema gained only its history table.
    let mut after = db.schema();
    after.retain(|(_, name, _)| name != "schema_migrations");
    assert_eq!(after, before);
    data.check(store.as_ref()).await;
    data.write_more(store.as_ref()).await;

    store.migrate().await.expect("migrate again");
    assert_eq!(without_times(db.history()), expected_history());
}

/// Every point the previous release could have stopped at: the upgrade
/// ends with the history, version and schema of a fresh database.
#[tokio::test]
async fn sqlite_upgrades_from_every_previous_version() {
    let fresh = SqliteDb::new();
    fresh.store().await.migrate().await.expect("migrate");
    let schema = fresh.schema();
    for upto in 0..=PREVIOUS_SQLITE.len() {
        let db = SqliteDb::new();
        db.previous_release(upto);
        db.store().await.migrate().await.expect("migrate");
        assert_eq!(
            without_times(db.history()),
            expected_history(),
            "from {upto}"
        );
        assert_eq!(db.user_version(), expected_history().len() as i64);
        assert_eq!(db.schema(), schema, "from {upto}");
    }
}

#[tokio::test]
async fn sqlite_upgrades_a_release_in_the_middle_of_the_previous_numbering() {
    let fresh = SqliteDb::new();
    fresh.store().await.migrate().await.expect("migrate");
    // Old version 8 is today's 10 (webhook secret rotation, which cannot
    // run twice); 11 to 15 are to run.
    let db = SqliteDb::new();
    db.previous_release(8);
    let store = db.store().await;
    store.migrate().await.expect("migrate");
    assert_eq!(without_times(db.history()), expected_history());
    assert_eq!(db.schema(), fresh.schema());
    let data = Data::write(store.as_ref()).await;
    data.check(store.as_ref()).await;
}

// --- PostgreSQL -------------------------------------------------------------

struct PgDb {
    url: String,
    pool: PgPool,
}

/// A row of `_sqlx_migrations`: version, description, success, checksum.
type PgHistoryRow = (i64, String, bool, Vec<u8>);

impl PgDb {
    async fn new() -> PgDb {
        let url = pg::fresh_pg_database().await;
        let pool = PgPool::connect(&url).await.expect("connect");
        PgDb { url, pool }
    }

    async fn store(&self) -> Arc<dyn Store> {
        dueflow_store::connect(&self.url)
            .await
            .expect("open the PostgreSQL store")
    }

    /// The database as the previous release left it after its first `upto`
    /// steps: sqlx's migrator over the same files, numbered as then, writes
    /// the same schema and the same `_sqlx_migrations` rows as that
    /// release's did.
    async fn previous_release(&self, upto: usize) {
        let migrations = PREVIOUS_POSTGRES
            .iter()
            .take(upto)
            .enumerate()
            .map(|(i, step)| {
                Migration::new(
                    i as i64 + 1,
                    description(step).into(),
                    MigrationType::Simple,
                    AssertSqlSafe(sql("postgres", step)).into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&self.pool)
            .await
            .expect("the previous release's migrations");
    }

    async fn history(&self) -> Vec<PgHistoryRow> {
        sqlx::query_as(
            "SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        .expect("history")
    }

    async fn installed_on(&self) -> Vec<(i64, String)> {
        sqlx::query_as("SELECT version, installed_on::text FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .expect("history")
    }

    /// Columns, indexes, constraints, functions and text search
    /// configurations of the public schema.
    async fn schema(&self) -> Vec<(String, String, String)> {
        sqlx::query_as(
            "SELECT 'column', table_name || '.' || column_name, concat_ws(' ', ordinal_position, \
                 data_type, is_nullable, column_default, generation_expression) \
             FROM information_schema.columns WHERE table_schema = 'public' \
             UNION ALL SELECT 'index', indexname::text, indexdef FROM pg_indexes \
                 WHERE schemaname = 'public' \
             UNION ALL SELECT 'constraint', conrelid::regclass::text || '.' || conname, \
                 pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE connamespace = 'public'::regnamespace \
             UNION ALL SELECT 'function', proname::text, pg_get_function_identity_arguments(oid) \
                 FROM pg_proc WHERE pronamespace = 'public'::regnamespace \
             UNION ALL SELECT 'text search configuration', cfgname::text, '' FROM pg_ts_config \
                 WHERE cfgnamespace = 'public'::regnamespace \
             ORDER BY 1, 2, 3",
        )
        .fetch_all(&self.pool)
        .await
        .expect("schema")
    }
}

/// The history every PostgreSQL database ends with, checksums as sqlx
/// computes them from today's files.
fn expected_pg_history() -> Vec<PgHistoryRow> {
    steps("postgres")
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let m = Migration::new(
                i as i64 + 1,
                description(step).into(),
                MigrationType::Simple,
                AssertSqlSafe(sql("postgres", step)).into_sql_str(),
                false,
            );
            (
                m.version,
                m.description.into_owned(),
                true,
                m.checksum.into_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn postgres_migrates_an_empty_database_and_again_changes_nothing() {
    let db = PgDb::new().await;
    let store = db.store().await;
    store.migrate().await.expect("migrate");
    assert_eq!(db.history().await, expected_pg_history());
    let first = db.installed_on().await;
    store.migrate().await.expect("migrate again");
    assert_eq!(db.history().await, expected_pg_history());
    assert_eq!(
        db.installed_on().await,
        first,
        "the second run recorded nothing"
    );
    let data = Data::write(store.as_ref()).await;
    data.check(store.as_ref()).await;
}

#[tokio::test]
async fn postgres_upgrades_the_previous_release_with_its_data() {
    let db = PgDb::new().await;
    db.previous_release(PREVIOUS_POSTGRES.len()).await;
    let old_history = db.history().await;
    assert_eq!(old_history.len(), 14);
    assert_eq!(old_history[7].1, "lighter writes");
    // Written through this release's store on the previous schema: its
    // statements touch only tables that schema has (the tag counters that
    // 0016 adds on PostgreSQL are kept by a trigger, not by them).
    let data = {
        let old = db.store().await;
        Data::write(old.as_ref()).await
    };
    let applied_before = db.installed_on().await;

    let store = db.store().await;
    store.migrate().await.expect("migrate");

    let history = db.history().await;
    assert_eq!(history, expected_pg_history());
    // Each old row moved with its checksum and installation time (so none
    // ran again), and the comment-only step 8 was recorded.
    let applied_after = db.installed_on().await;
    for (i, step) in PREVIOUS_POSTGRES.iter().enumerate() {
        let now: usize = step[..4].parse().expect("number");
        assert_eq!(history[now - 1].3, old_history[i].3, "{step}");
        assert_eq!(
            applied_after[now - 1].1,
            applied_before[i].1,
            "{step} was not applied again"
        );
    }
    let fresh = PgDb::new().await;
    fresh.store().await.migrate().await.expect("migrate");
    assert_eq!(db.schema().await, fresh.schema().await);
    data.check(store.as_ref()).await;
    data.write_more(store.as_ref()).await;

    store.migrate().await.expect("migrate again");
    assert_eq!(db.history().await, expected_pg_history());
}

/// Every point the previous release could have stopped at: the upgrade
/// ends with the history and schema of a fresh database.
#[tokio::test]
async fn postgres_upgrades_from_every_previous_version() {
    let fresh = PgDb::new().await;
    fresh.store().await.migrate().await.expect("migrate");
    let schema = fresh.schema().await;
    for upto in 1..=PREVIOUS_POSTGRES.len() {
        let db = PgDb::new().await;
        db.previous_release(upto).await;
        db.store().await.migrate().await.expect("migrate");
        assert_eq!(db.history().await, expected_pg_history(), "from {upto}");
        assert_eq!(db.schema().await, schema, "from {upto}");
    }
}

/// Replicas of the new release starting together on an old database: one
/// renumbers, the others find the new numbering; each step is recorded once.
#[tokio::test]
async fn postgres_replicas_upgrade_together() {
    let db = PgDb::new().await;
    db.previous_release(PREVIOUS_POSTGRES.len()).await;
    let mut replicas = Vec::new();
    for _ in 0..4 {
        let store = db.store().await;
        replicas.push(tokio::spawn(async move { store.migrate().await }));
    }
    for r in replicas {
        r.await.expect("join").expect("migrate");
    }
    assert_eq!(db.history().await, expected_pg_history());
}

/// An old history whose rows are not the steps they would become is left
/// as it is, and the migration fails saying so.
#[tokio::test]
async fn postgres_refuses_an_old_history_it_does_not_recognise() {
    let db = PgDb::new().await;
    db.previous_release(PREVIOUS_POSTGRES.len()).await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = 10")
        .execute(&db.pool)
        .await
        .expect("tamper");
    let before = db.history().await;
    let err = db
        .store()
        .await
        .migrate()
        .await
        .expect_err("an unknown step 10")
        .to_string();
    assert!(err.contains("step 10 (no write foreign keys)"), "{err}");
    assert_eq!(db.history().await, before);
}

// --- Data through the store API ---------------------------------------------

fn now() -> DateTime<Utc> {
    "2030-03-01T09:00:00Z".parse().expect("an instant")
}

fn task(body: serde_json::Value) -> Task {
    let input: NewTask = serde_json::from_value(body).expect("a new task's JSON");
    Task::create(input, chrono_tz::UTC, now()).expect("a valid task")
}

/// One user's worth of everything the store keeps, as written.
struct Data {
    user: User,
    digest: [u8; 32],
    token: TokenRecord,
    tasks: Vec<Task>,
    webhook: Webhook,
    view: SavedView,
    conversation: Conversation,
    activity: Vec<Event>,
}

impl Data {
    async fn write(s: &dyn Store) -> Data {
        let mut user = User {
            id: new_id(IdKind::User),
            name: "ann".into(),
            tz: chrono_tz::UTC,
            created_at: now(),
            email: None,
            email_verified: false,
            date_order: DateOrder::default(),
        };
        s.create_user(&user, "hash of ann").await.expect("user");
        user = s
            .set_preferences(
                &user.id,
                Preferences {
                    tz: Some(chrono_tz::Europe::Berlin),
                    date_order: Some(DateOrder::Mdy),
                },
            )
            .await
            .expect("preferences")
            .expect("the user");

        let token = TokenRecord {
            id: new_id(IdKind::Token),
            user_id: user.id.clone(),
            name: "laptop".into(),
            kind: TokenKind::Api,
            created_at: now(),
            expires_at: None,
        };
        let digest = [7; 32];
        s.insert_token(&token, &digest).await.expect("token");

        let weekly = task(json!({
            "title": "Water the plants",
            "notes": "the ones on the balcony",
            "due": "2030-03-04",
            "tags": ["home", "weekly"],
            "recurrence": {"rrule": "FREQ=WEEKLY"},
            "reminders": [{"before": "PT1H"}],
            "priority": "high",
        }));
        let cafe = task(json!({"title": "Café reservation", "tags": ["home"]}));
        let mut activity = Vec::new();
        for t in [&weekly, &cafe] {
            let e = Event::task_created(&user.id, t);
            s.insert_task(&user.id, t, std::slice::from_ref(&e))
                .await
                .expect("task");
            activity.push(e);
        }
        let done = cafe.complete(now()).expect("open");
        let e = Event::task_completed(&user.id, &done);
        assert!(
            s.replace_task(&user.id, &done, cafe.version, std::slice::from_ref(&e))
                .await
                .expect("complete")
        );
        activity.push(e);
        s.set_tag_colour(&user.id, "home", Some("#336699"))
            .await
            .expect("colour");
        let cloudevents: Vec<(Event, String)> = activity
            .iter()
            .map(|e| (e.clone(), e.to_cloudevent().to_string()))
            .collect();
        s.record_activity(&cloudevents).await.expect("activity");

        let mut webhook = Webhook {
            id: new_id(IdKind::Webhook),
            user_id: user.id.clone(),
            url: "https://hooks.example.com/dueflow".into(),
            events: vec!["reminder.due".into(), "task.completed".into()],
            secret: "whsec_first".into(),
            enabled: true,
            disabled_reason: None,
            created_at: now(),
        };
        s.insert_webhook(&webhook).await.expect("webhook");
        assert!(
            s.rotate_webhook_secret(
                &user.id,
                &webhook.id,
                "whsec_second",
                now() + TimeDelta::days(1)
            )
            .await
            .expect("rotate")
        );
        webhook.secret = "whsec_second".into();

        let view = SavedView {
            id: new_id(IdKind::View),
            name: "Home".into(),
            query: "tag:home".into(),
            sort: "due".into(),
            created_at: now(),
            updated_at: now(),
        };
        s.insert_saved_view(&user.id, &view).await.expect("view");

        let conversation = Conversation {
            head: ConversationHead {
                id: new_id(IdKind::Conversation),
                title: "What is due this week?".into(),
                created_at: now(),
                updated_at: now(),
            },
            turns: r#"[{"role":"user","text":"What is due this week?"}]"#.into(),
            pending: Some(r#"{"action":"complete"}"#.into()),
            version: 1,
        };
        s.insert_conversation(&user.id, &conversation)
            .await
            .expect("conversation");

        Data {
            user,
            digest,
            token,
            tasks: vec![weekly, done],
            webhook,
            view,
            conversation,
            activity,
        }
    }

    /// Everything written reads back as it was.
    async fn check(&self, s: &dyn Store) {
        let u = &self.user;
        let (user, hash) = s
            .user_credentials("ann")
            .await
            .expect("credentials")
            .expect("the user");
        assert_eq!(user, *u);
        assert_eq!(hash, "hash of ann");
        let owner = s
            .user_by_token(&self.digest, now().timestamp_millis())
            .await
            .expect("by token")
            .expect("a live token");
        assert_eq!(owner.user, *u);
        assert_eq!(
            s.list_tokens(&u.id).await.expect("tokens"),
            std::slice::from_ref(&self.token)
        );

        for t in &self.tasks {
            assert_eq!(s.task(&u.id, &t.id).await.expect("task").as_ref(), Some(t));
        }
        let tags: Vec<(String, i64, i64, Option<String>)> = s
            .tags(&u.id)
            .await
            .expect("tags")
            .into_iter()
            .map(|t| (t.name, t.count, t.open, t.colour))
            .collect();
        assert_eq!(
            tags,
            [
                ("home".into(), 2, 1, Some("#336699".into())),
                ("weekly".into(), 1, 1, None)
            ]
        );
        // The search index covers the tasks written before (diacritics
        // folded, the last word as a prefix).
        let found = s
            .list_tasks(&u.id, &query("cafe reserv"))
            .await
            .expect("search");
        assert_eq!(ids(&found.items), [self.tasks[1].id.as_str()]);
        let found = s
            .list_tasks(&u.id, &query("balcony"))
            .await
            .expect("search");
        assert_eq!(ids(&found.items), [self.tasks[0].id.as_str()]);

        let reminders = s
            .list_reminders(
                &u.id,
                &ReminderQuery {
                    limit: 10,
                    ..ReminderQuery::default()
                },
            )
            .await
            .expect("reminders");
        assert_eq!(reminders.len(), 1);
        assert_eq!(reminders[0].task_id, self.tasks[0].id);
        assert_eq!(
            s.next_reminder_at().await.expect("next"),
            Some(reminders[0].fire_at)
        );

        assert_eq!(
            s.list_webhooks(&[&u.id]).await.expect("webhooks"),
            std::slice::from_ref(&self.webhook)
        );
        assert_eq!(
            s.saved_views(&u.id).await.expect("views"),
            std::slice::from_ref(&self.view)
        );
        assert_eq!(
            s.conversation(&u.id, &self.conversation.head.id)
                .await
                .expect("conversation")
                .as_ref(),
            Some(&self.conversation)
        );

        let activity = s
            .list_activity(
                &u.id,
                &ActivityQuery {
                    limit: 100,
                    ..ActivityQuery::default()
                },
            )
            .await
            .expect("activity");
        let mut listed: Vec<&str> = activity.iter().map(|(_, id, _)| id.as_str()).collect();
        let mut written: Vec<&str> = self.activity.iter().map(|e| e.id.as_str()).collect();
        listed.sort_unstable();
        written.sort_unstable();
        assert_eq!(listed, written);

        // Each task event and each reminder scheduled waits in the outbox,
        // numbered in the user's sequence.
        let outbox = s.outbox_batch(100).await.expect("outbox");
        for e in &self.activity {
            assert!(
                outbox.iter().any(|m| m.id == e.id),
                "{} in the outbox",
                e.id
            );
        }
        assert_eq!(
            s.event_sequence(&u.id).await.expect("sequence"),
            outbox.len() as i64
        );
    }

    /// Writes of every kind land after the upgrade.
    async fn write_more(&self, s: &dyn Store) {
        let u = &self.user;
        let before = s.event_sequence(&u.id).await.expect("sequence");
        let t = task(
            json!({"title": "Renew passport", "tags": ["papers"], "due": "2030-04-01",
            "reminders": [{"before": "P1D"}]}),
        );
        s.insert_task(&u.id, &t, &[Event::task_created(&u.id, &t)])
            .await
            .expect("insert");
        assert_eq!(s.task(&u.id, &t.id).await.expect("read").as_ref(), Some(&t));
        let done = self.tasks[0].complete(now()).expect("open");
        let next = done.next_occurrence(now()).expect("weekly");
        assert!(
            s.replace_task(
                &u.id,
                &done,
                self.tasks[0].version,
                &[Event::task_completed(&u.id, &done)]
            )
            .await
            .expect("complete")
        );
        let e = Event::task_created(&u.id, &next);
        assert!(
            s.insert_occurrence(&u.id, &next, &e)
                .await
                .expect("occurrence")
        );
        assert!(!s.insert_occurrence(&u.id, &next, &e).await.expect("again"));
        assert!(s.event_sequence(&u.id).await.expect("sequence") > before);
        let found = s.list_tasks(&u.id, &query("passp")).await.expect("search");
        assert_eq!(ids(&found.items), [t.id.as_str()]);

        let mut c = self.conversation.clone();
        c.turns = r#"[{"role":"user","text":"What is due this week?"},{"role":"assistant","text":"Nothing."}]"#.into();
        c.pending = None;
        c.version = 2;
        assert!(s.replace_conversation(&u.id, &c).await.expect("save"));
        assert_eq!(
            s.conversation(&u.id, &c.head.id).await.expect("read"),
            Some(c)
        );
        assert!(
            s.delete_saved_view(&u.id, &self.view.id)
                .await
                .expect("delete view")
        );
        assert!(s.revoke_token(&u.id, &self.token.id).await.expect("revoke"));
    }
}

fn query(q: &str) -> ListQuery {
    ListQuery {
        filter: dueflow_domain::query::parse(q).expect("a query"),
        sort: Vec::new(),
        limit: 50,
        cursor: None,
        now: now(),
        tz: chrono_tz::UTC,
    }
}

fn ids(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|t| t.id.as_str()).collect()
}
