//! Reading a row the same way on both backends, so that each row mapper is
//! written once: [`RowAccess::at`] reads a column by index, as rusqlite's
//! `Row::get` and sqlx's `Row::try_get` do, and keeps the driver's error so
//! a mapper still fits wherever that driver expects one.

/// A value both drivers can read from a column.
pub(crate) trait Cell:
    rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>
{
}

impl<T> Cell for T where
    T: rusqlite::types::FromSql
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
{
}

/// A result row of either backend.
pub(crate) trait RowAccess {
    type Error;

    /// The value of column `i` (from 0).
    fn at<T: Cell>(&self, i: usize) -> Result<T, Self::Error>;
}

impl RowAccess for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn at<T: Cell>(&self, i: usize) -> rusqlite::Result<T> {
        self.get(i)
    }
}

impl RowAccess for sqlx::postgres::PgRow {
    type Error = sqlx::Error;

    fn at<T: Cell>(&self, i: usize) -> Result<T, sqlx::Error> {
        sqlx::Row::try_get(self, i)
    }
}
