//! SQLite side of saved views: the shared statements of [`crate::views`],
//! run on the writer or a reader connection.

use async_trait::async_trait;
use rusqlite::params;

use super::{SqliteStore, sql};
use crate::Result;
use crate::views::{DELETE, INSERT, LIST, REPLACE, SavedView, SavedViews, decode, raw_view};

#[async_trait]
impl SavedViews for SqliteStore {
    async fn saved_views(&self, user_id: &str) -> Result<Vec<SavedView>> {
        let rows = self.read(|c| {
            let mut stmt = c.prepare_cached(&sql(LIST))?;
            let rows = stmt.query_map([user_id], |r| raw_view(r))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter().map(decode).collect()
    }

    async fn insert_saved_view(&self, user_id: &str, view: &SavedView) -> Result<()> {
        self.write_view(INSERT, user_id, view).await.map(drop)
    }

    async fn replace_saved_view(&self, user_id: &str, view: &SavedView) -> Result<bool> {
        self.write_view(REPLACE, user_id, view).await
    }

    async fn delete_saved_view(&self, user_id: &str, id: &str) -> Result<bool> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.write(move |tx| Ok(tx.prepare_cached(&sql(DELETE))?.execute([id, user_id])? == 1))
            .await
    }
}

impl SqliteStore {
    /// Run [`INSERT`] or [`REPLACE`] with a view's seven values.
    async fn write_view(
        &self,
        statement: &'static str,
        user_id: &str,
        view: &SavedView,
    ) -> Result<bool> {
        let (user_id, v) = (user_id.to_owned(), view.clone());
        self.write(move |tx| {
            let n = tx.prepare_cached(&sql(statement))?.execute(params![
                v.id,
                user_id,
                v.name,
                v.query,
                v.sort,
                v.created_at.timestamp_millis(),
                v.updated_at.timestamp_millis()
            ])?;
            Ok(n == 1)
        })
        .await
    }
}
