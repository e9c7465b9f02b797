//! A user's tags across their tasks: listing them with their counts,
//! giving one a colour, and renaming, merging or deleting one on every task
//! that carries it. Those go through the same change as any edit, so each
//! affected task gets its own `task.updated` event and activity entry, and
//! every door and the activity log agree on what happened.

use chrono::Utc;
use dueflow_domain::query::{Expr, Term};
use dueflow_domain::tags;
use dueflow_domain::task::{Task, TaskPatch};
use dueflow_domain::trace::TraceParent;
use dueflow_store::{ListQuery, TagCount, User};

use crate::{App, AppError};

/// A change to a tag; `None` keeps that part.
#[derive(Debug, Clone, Default)]
pub struct TagChange {
    /// A new name; one that is a tag already merges the two.
    pub name: Option<String>,
    /// `#rrggbb`, or `Some(None)` to take the colour away.
    pub colour: Option<Option<String>>,
}

/// Tasks read per round while a tag is renamed or deleted.
const BATCH: u32 = 200;

/// A colour as `#rrggbb`, lower-case.
fn colour(raw: &str) -> Result<String, AppError> {
    let hex = raw.trim().strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("#{}", hex.to_ascii_lowercase()))
    } else {
        Err(AppError::invalid(
            "colour",
            format!("'{raw}' is not a colour; write it as #rrggbb, e.g. #2f6fde"),
        ))
    }
}

/// `task`'s tags with `from` replaced by `to` in its place (`None`:
/// removed); a task that has `to` already keeps it once.
fn retagged(task: &Task, from: &str, to: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(task.tags.len());
    for t in &task.tags {
        let t = if t == from { to } else { Some(t.as_str()) };
        if let Some(t) = t
            && !out.iter().any(|o| o == t)
        {
            out.push(t.to_owned());
        }
    }
    out
}

impl App {
    /// The user's tags with how many tasks (and open tasks) carry each.
    pub async fn tags(&self, user: &User) -> Result<Vec<TagCount>, AppError> {
        Ok(self.store.tags(&user.id).await?)
    }

    /// One of the user's tags; a tag no task carries is not found.
    pub async fn tag(&self, user: &User, name: &str) -> Result<TagCount, AppError> {
        let name = tags::normalise("name", name).map_err(|_| AppError::NotFound)?;
        self.tags(user)
            .await?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or(AppError::NotFound)
    }

    /// Change a tag: its colour (`Some(None)` takes it away), then its
    /// name. Both are checked before either is applied. Returns the tag
    /// as changed, under its new name.
    pub async fn update_tag(
        &self,
        user: &User,
        name: &str,
        change: TagChange,
        trace: TraceParent,
    ) -> Result<TagCount, AppError> {
        let mut tag = self.tag(user, name).await?;
        let to = change
            .name
            .as_deref()
            .map(|n| tags::normalise("name", n))
            .transpose()?;
        if let Some(raw) = change.colour {
            let colour = raw.as_deref().map(colour).transpose()?;
            self.store
                .set_tag_colour(&user.id, &tag.name, colour.as_deref())
                .await?;
            tag.colour = colour;
        }
        match to {
            Some(to) if to != tag.name => self.rename_tag(user, tag, &to, trace).await,
            _ => Ok(tag),
        }
    }

    /// Rename a tag on every task that carries it, and in the saved views
    /// that name it; renaming it to a tag that exists merges the two. The
    /// colour goes along unless the other tag has one.
    async fn rename_tag(
        &self,
        user: &User,
        from: TagCount,
        to: &str,
        trace: TraceParent,
    ) -> Result<TagCount, AppError> {
        let target_colour = self
            .tags(user)
            .await?
            .into_iter()
            .find(|t| t.name == to)
            .and_then(|t| t.colour);
        self.retag(user, &from.name, Some(to), trace).await?;
        self.rename_tag_in_views(user, &from.name, to).await?;
        if let (Some(colour), None) = (&from.colour, &target_colour) {
            self.store
                .set_tag_colour(&user.id, to, Some(colour))
                .await?;
        }
        if from.colour.is_some() {
            self.store
                .set_tag_colour(&user.id, &from.name, None)
                .await?;
        }
        self.tag(user, to).await
    }

    /// Remove a tag from every task that carries it (the tasks stay), and
    /// its colour. Returns how many tasks changed.
    pub async fn delete_tag(
        &self,
        user: &User,
        name: &str,
        trace: TraceParent,
    ) -> Result<usize, AppError> {
        let tag = self.tag(user, name).await?;
        let changed = self.retag(user, &tag.name, None, trace).await?;
        self.store.set_tag_colour(&user.id, &tag.name, None).await?;
        Ok(changed)
    }

    /// Replace `from` with `to` (or remove it) on every task carrying it,
    /// one change (and event) per task; returns how many changed.
    async fn retag(
        &self,
        user: &User,
        from: &str,
        to: Option<&str>,
        trace: TraceParent,
    ) -> Result<usize, AppError> {
        let mut changed = 0;
        loop {
            let query = ListQuery {
                filter: Expr::Term(Term::Tag(from.to_owned())),
                sort: Vec::new(),
                limit: BATCH,
                cursor: None,
                now: Utc::now(),
                tz: user.tz,
            };
            // Each changed task leaves the tag, so the first page is always
            // the rest; one that stays (a concurrent edit put the tag back)
            // would be read again, so a round without progress ends it.
            let page = self.store.list_tasks(&user.id, &query).await?;
            let before = changed;
            for task in &page.items {
                let moved = self
                    .patch_task(user, &task.id, None, trace, |task| {
                        Ok(task.tags.iter().any(|t| t == from).then(|| TaskPatch {
                            tags: Some(retagged(task, from, to)),
                            ..TaskPatch::default()
                        }))
                    })
                    .await;
                match moved {
                    Ok(t) if !t.tags.iter().any(|x| x == from) => changed += 1,
                    Ok(_) => {}
                    // Deleted meanwhile: nothing left to retag.
                    Err(AppError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            if page.next_cursor.is_none() || changed == before {
                return Ok(changed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_checked_and_lower_cased() {
        assert_eq!(colour(" #2F6FDE ").unwrap(), "#2f6fde");
        assert!(colour("2f6fde").is_err());
        assert!(colour("#2f6fd").is_err());
        assert!(colour("#2f6fdg").is_err());
    }
}
