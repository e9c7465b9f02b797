//! Schema migrations for SQLite: numbered SQL files applied in order, the
//! version kept in `PRAGMA user_version`, each file in its own transaction.

use rusqlite::Connection;

use crate::Result;

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_events.sql"),
    include_str!("../../migrations/sqlite/0003_event_sequence.sql"),
    include_str!("../../migrations/sqlite/0004_due_sort_indexes.sql"),
    include_str!("../../migrations/sqlite/0005_reminders_notifications_webhooks.sql"),
    include_str!("../../migrations/sqlite/0006_search_owner.sql"),
    include_str!("../../migrations/sqlite/0007_search_prefixes.sql"),
    include_str!("../../migrations/sqlite/0008_webhook_secret_rotation.sql"),
    include_str!("../../migrations/sqlite/0009_email_verification.sql"),
    include_str!("../../migrations/sqlite/0010_tags_views_channels.sql"),
    include_str!("../../migrations/sqlite/0011_date_order.sql"),
    include_str!("../../migrations/sqlite/0012_conversations.sql"),
];

pub fn run(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        tracing::info!(version = i + 1, "sqlite schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_index_is_rebuilt_from_existing_tasks() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..4] {
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
