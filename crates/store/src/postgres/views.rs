//! PostgreSQL side of saved views: the shared statements of
//! [`crate::views`], run on the pool.

use async_trait::async_trait;

use super::PgStore;
use crate::Result;
use crate::views::{DELETE, INSERT, LIST, REPLACE, SavedView, SavedViews, decode, raw_view};

#[async_trait]
impl SavedViews for PgStore {
    async fn saved_views(&self, user_id: &str) -> Result<Vec<SavedView>> {
        let rows = sqlx::query(LIST)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| decode(raw_view(r)?)).collect()
    }

    async fn insert_saved_view(&self, user_id: &str, view: &SavedView) -> Result<()> {
        self.write_view(INSERT, user_id, view).await.map(drop)
    }

    async fn replace_saved_view(&self, user_id: &str, view: &SavedView) -> Result<bool> {
        self.write_view(REPLACE, user_id, view).await
    }

    async fn delete_saved_view(&self, user_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query(DELETE)
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(n.rows_affected() == 1)
    }
}

impl PgStore {
    /// Run [`INSERT`] or [`REPLACE`] with a view's seven values.
    async fn write_view(
        &self,
        statement: &'static str,
        user_id: &str,
        v: &SavedView,
    ) -> Result<bool> {
        let n = sqlx::query(statement)
            .bind(&v.id)
            .bind(user_id)
            .bind(&v.name)
            .bind(&v.query)
            .bind(&v.sort)
            .bind(v.created_at.timestamp_millis())
            .bind(v.updated_at.timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(n.rows_affected() == 1)
    }
}
