//! A throwaway PostgreSQL database for one test, on the server at
//! `DUEFLOW_TEST_PG` (`scripts/ensure-postgres.sh` starts one). A test that
//! needs it fails when the server cannot be reached; it never skips. The
//! store's tests and the `dueflow` crate's tests share this file.

#![allow(dead_code)]

use sqlx::Connection;

/// Base URL of the PostgreSQL server the tests create databases on.
pub fn pg_admin_url() -> String {
    std::env::var("DUEFLOW_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty database on the test PostgreSQL server; its URL.
pub async fn fresh_pg_database() -> String {
    let admin = pg_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for these tests and is not reachable at {admin} \
                 (set DUEFLOW_TEST_PG, or run `source scripts/ensure-postgres.sh`): {e}"
            )
        });
    // The test script sets a per-run prefix and drops those databases after.
    let prefix = std::env::var("DUEFLOW_TEST_DB_PREFIX").unwrap_or_else(|_| "dueflow_test_".into());
    let name = format!("{prefix}{}", uuid::Uuid::now_v7().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}
