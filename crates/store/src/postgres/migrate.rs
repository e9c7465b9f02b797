//! Schema migrations for PostgreSQL: sqlx's migrator over the files of
//! `migrations/postgres`, one history with SQLite's (the same file names; a
//! step that one backend does not need is a comment there), recorded in
//! `_sqlx_migrations`.
//!
//! Databases written before the two histories were aligned numbered only
//! PostgreSQL's own steps. Their history is renumbered first, in one
//! transaction, so that the migrator finds every applied step under its
//! current number and runs none of them again.

use sqlx::PgPool;
use sqlx::migrate::{Migration, Migrator};

use crate::{Result, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The steps of the previous numbering that moved: (then, now). Steps 1 to
/// 7 kept their numbers.
const RENUMBERED: [(i64, i64); 7] = [
    (8, 9),
    (9, 10),
    (10, 11),
    (11, 12),
    (12, 13),
    (13, 14),
    (14, 15),
];

/// The one step the previous numbering did not have here: a comment on
/// PostgreSQL, so a history that has the steps after it has it too.
const ADDED: i64 = 8;

/// Step 8 of the previous numbering; step 8 is another one now, so a
/// history with this one at 8 is in the previous numbering.
const PREVIOUS_EIGHTH: &str = "lighter writes";

pub(super) async fn run(pool: &PgPool) -> Result<()> {
    renumber(pool).await?;
    MIGRATOR.run(pool).await?;
    Ok(())
}

fn step(version: i64) -> Option<&'static Migration> {
    MIGRATOR.iter().find(|m| m.version == version)
}

/// Move a history of the previous numbering onto the current one, after
/// checking that each moved row is the step it becomes (same description,
/// same checksum); anything else is refused with nothing changed.
async fn renumber(pool: &PgPool) -> Result<()> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    // Of replicas starting together, one renumbers; the others wait here
    // and then find the current numbering.
    sqlx::query("LOCK TABLE _sqlx_migrations IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let eighth: Option<String> =
        sqlx::query_scalar("SELECT description FROM _sqlx_migrations WHERE version = 8")
            .fetch_optional(&mut *tx)
            .await?;
    if eighth.as_deref() != Some(PREVIOUS_EIGHTH) {
        tx.commit().await?;
        return Ok(());
    }
    let rows: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(
        "SELECT version, description, checksum FROM _sqlx_migrations \
         WHERE version > 7 ORDER BY version",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut moves = Vec::with_capacity(rows.len());
    for (then, description, checksum) in &rows {
        let now = RENUMBERED
            .iter()
            .find(|(t, _)| t == then)
            .and_then(|(_, n)| step(*n))
            .filter(|m| *m.description == **description && *m.checksum == **checksum)
            .ok_or_else(|| {
                StoreError::Backend(
                    format!(
                        "_sqlx_migrations is in the numbering of earlier releases, but its \
                         step {then} ({description}) is not one this release knows; \
                         nothing was changed"
                    )
                    .into(),
                )
            })?;
        moves.push((*then, now.version));
    }
    // The version is the primary key: each row goes to minus its new number
    // first, so that no two rows ever hold the same one.
    for (then, now) in &moves {
        sqlx::query("UPDATE _sqlx_migrations SET version = $2 WHERE version = $1")
            .bind(then)
            .bind(-now)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE _sqlx_migrations SET version = -version WHERE version < 0")
        .execute(&mut *tx)
        .await?;
    // Step 8 of the previous numbering was applied, so the added step falls
    // inside the applied range; recorded as sqlx records a step.
    let added = step(ADDED).expect("the added step is embedded");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, $2, TRUE, $3, 0)",
    )
    .bind(added.version)
    .bind(&*added.description)
    .bind(&*added.checksum)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(moved = moves.len(), "postgres schema history renumbered");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_numbering_maps_onto_every_step() {
        let mut covered: Vec<i64> = (1..=7)
            .chain(RENUMBERED.iter().map(|(_, now)| *now))
            .chain([ADDED])
            .collect();
        covered.sort_unstable();
        let last = RENUMBERED[RENUMBERED.len() - 1].1;
        assert_eq!(covered, (1..=last).collect::<Vec<_>>());
        for (then, now) in RENUMBERED {
            assert!(step(now).is_some(), "{then} → {now}");
        }
        assert_eq!(step(9).unwrap().description, PREVIOUS_EIGHTH);
        assert_ne!(step(8).unwrap().description, PREVIOUS_EIGHTH);
    }

    #[test]
    fn the_added_step_is_a_comment() {
        let added = step(ADDED).unwrap();
        assert!(
            added
                .sql
                .as_str()
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with("--")),
            "{}",
            added.description
        );
        assert!(!added.no_tx);
    }
}
