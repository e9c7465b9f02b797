//! A user's tags on SQLite: the counters every task write keeps in its own
//! transaction (the web app shows them on every page, and counting a
//! 10,000-task user's tags per page took 20 ms), and the colours users give
//! their tags.

use rusqlite::{Transaction, params};

use crate::Result;

/// What a task contributes to the counters: its tags and whether it is open.
pub(super) type Counted<'a> = (&'a [String], bool);

/// Move the counters from a task's previous state (`None`: it did not
/// exist) to its next one (`None`: it is gone).
pub(super) fn recount(
    tx: &Transaction<'_>,
    user_id: &str,
    before: Option<Counted<'_>>,
    after: Option<Counted<'_>>,
) -> Result<()> {
    if before == after {
        return Ok(());
    }
    let (old, was_open) = before.unwrap_or((&[], false));
    let (new, is_open) = after.unwrap_or((&[], false));
    let mut bump = tx.prepare_cached(
        "INSERT INTO tag_counts (user_id, name, count, open) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (user_id, name) DO UPDATE \
         SET count = count + excluded.count, open = open + excluded.open",
    )?;
    let mut drop_empty = tx
        .prepare_cached("DELETE FROM tag_counts WHERE user_id = ?1 AND name = ?2 AND count <= 0")?;
    for tag in old {
        let (count, open) = if new.contains(tag) {
            (0, i64::from(is_open) - i64::from(was_open))
        } else {
            (-1, -i64::from(was_open))
        };
        if (count, open) != (0, 0) {
            bump.execute(params![user_id, tag, count, open])?;
        }
        if count < 0 {
            drop_empty.execute(params![user_id, tag])?;
        }
    }
    for tag in new.iter().filter(|t| !old.contains(t)) {
        bump.execute(params![user_id, tag, 1, i64::from(is_open)])?;
    }
    Ok(())
}
