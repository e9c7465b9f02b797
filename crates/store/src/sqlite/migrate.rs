//! Schema migrations for SQLite: the numbered SQL files of
//! `migrations/sqlite`, one history with PostgreSQL's (the same file names;
//! a step that one backend does not need is a comment there). Each step is
//! applied in its own transaction together with its row in
//! `schema_migrations`; `PRAGMA user_version` follows the latest step.
//!
//! Databases written before the two histories were aligned counted only
//! SQLite's own steps, in `user_version`, and have no `schema_migrations`.
//! Such a database has its history written once, in the new numbering,
//! before any step runs.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::{Result, StoreError};

/// The migration files in order: the step at index `i` is version `i + 1`.
macro_rules! migrations {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../migrations/sqlite/", $name, ".sql")))),*]
    };
}

const MIGRATIONS: &[(&str, &str)] = migrations![
    "0001_init",
    "0002_events",
    "0003_event_sequence",
    "0004_due_sort_indexes",
    "0005_reminders_notifications_webhooks",
    "0006_search_owner",
    "0007_search_weights",
    "0008_search_prefixes",
    "0009_lighter_writes",
    "0010_webhook_secret_rotation",
    "0011_no_write_foreign_keys",
    "0012_email_verification",
    "0013_tags_views_channels",
    "0014_date_order",
    "0015_conversations",
    "0016_tag_counts",
];

/// Indexed by a `user_version` of the previous numbering: the step it had
/// reached, in the current one. The steps up to there that the previous
/// numbering did not count (7, 9 and 11) are comments on SQLite, so every
/// step up to there counts as applied.
const PREVIOUS_NUMBERING: [i64; 13] = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 13, 14, 15];

const CREATE_HISTORY: &str = "CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
)";

/// `0008_search_prefixes` → `search prefixes`, as sqlx describes a file.
fn description(name: &str) -> String {
    name.split_once('_')
        .map_or(name, |(_, d)| d)
        .replace('_', " ")
}

pub fn run(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut applied = start_history(&tx)?;
    tx.commit()?;
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= applied {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have applied it since the history was read.
        applied = latest(&tx)?;
        if version <= applied {
            continue;
        }
        tx.execute_batch(sql)?;
        record(&tx, version, name)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        applied = version;
        tracing::info!(version, name, "sqlite schema migrated");
    }
    Ok(())
}

/// Make sure `schema_migrations` exists, writing it from `user_version`
/// for a database of the previous numbering; the latest step applied.
fn start_history(tx: &Transaction<'_>) -> Result<i64> {
    let exists = tx
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if exists {
        return latest(tx);
    }
    let previous: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let reached = usize::try_from(previous)
        .ok()
        .and_then(|v| PREVIOUS_NUMBERING.get(v))
        .copied()
        .ok_or_else(|| {
            StoreError::Backend(
                format!(
                    "the database's schema version {previous} is not one this release knows \
                     (it has no schema_migrations table)"
                )
                .into(),
            )
        })?;
    tx.execute_batch(CREATE_HISTORY)?;
    for (i, (name, _)) in MIGRATIONS.iter().take(reached as usize).enumerate() {
        record(tx, i as i64 + 1, name)?;
    }
    if reached > 0 {
        tx.pragma_update(None, "user_version", reached)?;
        tracing::info!(
            previous,
            version = reached,
            "sqlite schema history renumbered"
        );
    }
    Ok(reached)
}

/// The latest step recorded; steps are applied in order, so every one
/// before it is recorded too.
fn latest(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?)
}

fn record(tx: &Transaction<'_>, version: i64, name: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, ?3)",
        params![
            version,
            description(name),
            chrono::Utc::now().timestamp_millis()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `sql` holds nothing but SQL comments.
    fn only_comments(sql: &str) -> bool {
        sql.lines()
            .map(str::trim)
            .all(|l| l.is_empty() || l.starts_with("--"))
    }

    fn history(conn: &Connection) -> Vec<(i64, String)> {
        conn.prepare("SELECT version, description FROM schema_migrations ORDER BY version")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn user_version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn the_list_is_the_directory_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS.iter().map(|(n, _)| format!("{n}.sql")).collect();
        assert_eq!(listed, files);
        for (i, (name, _)) in MIGRATIONS.iter().enumerate() {
            assert!(
                name.starts_with(&format!("{:04}_", i + 1)),
                "{name} out of place"
            );
        }
    }

    #[test]
    fn steps_the_previous_numbering_skipped_are_comments() {
        let last = PREVIOUS_NUMBERING[PREVIOUS_NUMBERING.len() - 1];
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().take(last as usize) {
            let version = i as i64 + 1;
            let counted = PREVIOUS_NUMBERING.contains(&version);
            assert_eq!(!counted, only_comments(sql), "{name}");
        }
    }

    #[test]
    fn a_fresh_database_records_every_step_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        let h = history(&conn);
        assert_eq!(h.len(), MIGRATIONS.len());
        for (i, (version, description)) in h.iter().enumerate() {
            assert_eq!(*version, i as i64 + 1);
            assert_eq!(*description, super::description(MIGRATIONS[i].0));
        }
        assert_eq!(h[7].1, "search prefixes");
        assert_eq!(user_version(&conn), MIGRATIONS.len() as i64);
    }

    #[test]
    fn an_unknown_version_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 13).unwrap();
        let err = run(&mut conn).unwrap_err().to_string();
        assert!(err.contains("schema version 13"), "{err}");
        assert_eq!(user_version(&conn), 13);
    }

    #[test]
    fn owner_index_is_rebuilt_from_existing_tasks() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (_, sql) in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 4;
             INSERT INTO users (id, name, password_hash, created_at) VALUES
                 ('usr_0a1b', 'ann', 'x', 0), ('usr_0c2d', 'bob', 'x', 0);
             INSERT INTO tasks (id, user_id, title, notes, status, priority, tz, tags, tag_count,
                 reminders, occurrence, created_at, updated_at, version) VALUES
                 ('tsk_1', 'usr_0a1b', 'Quarterly report', '', 'open', 0, 'UTC', '[]', 0, '[]', 0, 1, 1, 1),
                 ('tsk_2', 'usr_0c2d', 'Report bug', '', 'open', 0, 'UTC', '[]', 0, '[]', 0, 1, 1, 1);",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let matches = |q: &str| -> Vec<String> {
            conn.prepare(
                "SELECT t.id FROM tasks_fts JOIN tasks t ON t.seq = tasks_fts.rowid \
                 WHERE tasks_fts MATCH ?1 ORDER BY t.id",
            )
            .unwrap()
            .query_map([q], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
        };
        assert_eq!(matches("{title notes} : report"), ["tsk_1", "tsk_2"]);
        assert_eq!(matches("owner : \"0a1b\" AND report"), ["tsk_1"]);
        // Later writes keep the owner column in step.
        conn.execute_batch(
            "UPDATE tasks SET title = 'Annual summary' WHERE id = 'tsk_1';
             DELETE FROM tasks WHERE id = 'tsk_2';",
        )
        .unwrap();
        assert!(matches("report").is_empty());
        assert_eq!(matches("owner : \"0a1b\" AND summary"), ["tsk_1"]);
        conn.execute_batch("INSERT INTO tasks_fts(tasks_fts, rank) VALUES ('integrity-check', 1)")
            .unwrap();
    }
}
