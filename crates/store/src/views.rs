//! Saved views: a name a user gives a query and a sort, so a list they
//! look at often is one click (or one API call) away. The trait both
//! backends implement and the SQL they share.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Result;
use crate::codec::ms;
use crate::row::RowAccess;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedView {
    pub id: String,
    /// Unique per user, compared as written.
    pub name: String,
    /// The query language, as for `GET /api/v1/tasks?q=`.
    pub query: String,
    /// Sort keys, as for `GET /api/v1/tasks?sort=`.
    pub sort: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait SavedViews: Send + Sync {
    /// The user's views, by name.
    async fn saved_views(&self, user_id: &str) -> Result<Vec<SavedView>>;
    /// Store a new view; [`crate::StoreError::Conflict`] when the user has
    /// one of that name.
    async fn insert_saved_view(&self, user_id: &str, view: &SavedView) -> Result<()>;
    /// Replace a view of the user's (`false`: there is none with its id);
    /// a conflict as for [`SavedViews::insert_saved_view`].
    async fn replace_saved_view(&self, user_id: &str, view: &SavedView) -> Result<bool>;
    async fn delete_saved_view(&self, user_id: &str, id: &str) -> Result<bool>;
}

pub(crate) const LIST: &str = "SELECT id, name, query, sort, created_at, updated_at \
     FROM saved_views WHERE user_id = $1 ORDER BY name";
pub(crate) const INSERT: &str = "INSERT INTO saved_views \
     (id, user_id, name, query, sort, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const REPLACE: &str = "UPDATE saved_views SET name = $3, query = $4, sort = $5, \
     updated_at = $7 WHERE id = $1 AND user_id = $2";
pub(crate) const DELETE: &str = "DELETE FROM saved_views WHERE id = $1 AND user_id = $2";

/// A row as [`LIST`] reads it.
pub(crate) type RawView = (String, String, String, String, i64, i64);

pub(crate) fn raw_view<R: RowAccess>(row: &R) -> Result<RawView, R::Error> {
    Ok((
        row.at(0)?,
        row.at(1)?,
        row.at(2)?,
        row.at(3)?,
        row.at(4)?,
        row.at(5)?,
    ))
}

pub(crate) fn decode(
    (id, name, query, sort, created_at, updated_at): RawView,
) -> Result<SavedView> {
    Ok(SavedView {
        id,
        name,
        query,
        sort,
        created_at: ms(created_at)?,
        updated_at: ms(updated_at)?,
    })
}
