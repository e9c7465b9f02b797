//! The store contract: every method of every store trait, run against both
//! backends (SQLite and PostgreSQL) with the same scenario and the same
//! assertions, so that behaviour one backend has and the other lacks fails
//! here rather than in production. Assertions follow the traits' doc
//! comments: where a backend disagrees with them, the backend is wrong.
//!
//! Each scenario gets a fresh, migrated database. PostgreSQL must be
//! reachable (`DUEFLOW_TEST_PG`): its tests fail, never skip, without it.

/// Run each named scenario (`async fn name(db: &Db)`) once per backend, as
/// `sqlite::name` and `postgres::name`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::Db::open($crate::common::Backend::Sqlite).await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::Db::open($crate::common::Backend::Postgres).await;
                    super::$name(&db).await;
                }
            )*
        }
    };
}

mod common;
#[path = "../pg/mod.rs"]
mod pg;

mod accounts;
mod activity;
mod conversations;
mod notifications;
mod outbox;
mod reminders;
mod tasks;
mod verification;
mod views;
mod webhooks;
