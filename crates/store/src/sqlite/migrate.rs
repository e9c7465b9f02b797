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
