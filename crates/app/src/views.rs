//! Saved views: a user's named lists (a query and a sort), offered in the
//! web app's sidebar and through the API. A view is checked as a list
//! would be, so a saved one always opens.

use chrono::Utc;
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::query;
use dueflow_domain::sort::parse_sort;
use dueflow_store::{SavedView, StoreError, User};

use crate::{App, AppError};

/// Longest view name, in characters.
const MAX_VIEW_NAME: usize = 80;
/// Views a user may keep.
const MAX_VIEWS: usize = 100;

/// A view's fields as a caller gives them; in a change, `None` keeps what
/// is stored.
#[derive(Debug, Clone, Default)]
pub struct ViewFields {
    pub name: Option<String>,
    /// The query language; empty lists every task.
    pub query: Option<String>,
    /// Sort keys; empty is the list's default order.
    pub sort: Option<String>,
}

fn name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "a view needs a name"));
    }
    if name.chars().count() > MAX_VIEW_NAME {
        return Err(AppError::invalid(
            "name",
            format!("a view's name has at most {MAX_VIEW_NAME} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// The query as the list reads it, refused as the list would refuse it.
fn checked(fields: &ViewFields, view: &mut SavedView) -> Result<(), AppError> {
    if let Some(raw) = &fields.name {
        view.name = name(raw)?;
    }
    if let Some(q) = &fields.query {
        query::parse(q).map_err(|e| AppError::invalid("query", format!("query: {e}")))?;
        view.query = q.trim().to_owned();
    }
    if let Some(s) = &fields.sort {
        parse_sort(s)?;
        view.sort = s.trim().to_owned();
    }
    Ok(())
}

fn taken(e: StoreError, name: &str) -> AppError {
    match e {
        StoreError::Conflict(_) => {
            AppError::Conflict(format!("you have a view named '{name}' already"))
        }
        other => other.into(),
    }
}

impl App {
    /// The user's views, by name.
    pub async fn saved_views(&self, user: &User) -> Result<Vec<SavedView>, AppError> {
        Ok(self.store.saved_views(&user.id).await?)
    }

    pub async fn saved_view(&self, user: &User, id: &str) -> Result<SavedView, AppError> {
        self.saved_views(user)
            .await?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or(AppError::NotFound)
    }

    pub async fn create_saved_view(
        &self,
        user: &User,
        fields: ViewFields,
    ) -> Result<SavedView, AppError> {
        if fields.name.is_none() {
            return Err(AppError::invalid("name", "a view needs a name"));
        }
        if self.store.saved_views(&user.id).await?.len() >= MAX_VIEWS {
            return Err(AppError::Conflict(format!(
                "you have {MAX_VIEWS} views, the most there can be; delete one first"
            )));
        }
        let now = Utc::now();
        let mut view = SavedView {
            id: new_id(IdKind::View),
            name: String::new(),
            query: String::new(),
            sort: String::new(),
            created_at: now,
            updated_at: now,
        };
        checked(&fields, &mut view)?;
        self.store
            .insert_saved_view(&user.id, &view)
            .await
            .map_err(|e| taken(e, &view.name))?;
        Ok(view)
    }

    /// Change the fields given; the others stay.
    pub async fn update_saved_view(
        &self,
        user: &User,
        id: &str,
        fields: ViewFields,
    ) -> Result<SavedView, AppError> {
        let mut view = self.saved_view(user, id).await?;
        checked(&fields, &mut view)?;
        view.updated_at = Utc::now();
        let replaced = self
            .store
            .replace_saved_view(&user.id, &view)
            .await
            .map_err(|e| taken(e, &view.name))?;
        if replaced {
            Ok(view)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// After a tag's rename, the views that name it name the new tag. The
    /// tasks are renamed already: a view that cannot take the new name
    /// (its query would grow too long) keeps its query, and is logged.
    pub(crate) async fn rename_tag_in_views(
        &self,
        user: &User,
        from: &str,
        to: &str,
    ) -> Result<(), AppError> {
        for view in self.saved_views(user).await? {
            let Ok(before) = query::parse(&view.query) else {
                continue;
            };
            let after = before.clone().renaming_tag(from, to);
            if after != before {
                let fields = ViewFields {
                    query: Some(after.to_string()),
                    ..ViewFields::default()
                };
                match self.update_saved_view(user, &view.id, fields).await {
                    Err(e @ AppError::Invalid { .. }) => {
                        tracing::warn!(view = %view.id, error = %e.detail(), "a saved view kept the tag's old name");
                    }
                    other => {
                        other?;
                    }
                }
            }
        }
        Ok(())
    }

    pub async fn delete_saved_view(&self, user: &User, id: &str) -> Result<(), AppError> {
        if self.store.delete_saved_view(&user.id, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
