//! One change to many tasks at once (the web app's multi-select): each task
//! goes through the same operation as when changed alone, with its own
//! event and activity entry. A task that is not the caller's (or is gone)
//! is skipped, exactly as if it did not exist.

use dueflow_domain::priority::Priority;
use dueflow_domain::task::TaskPatch;
use dueflow_domain::trace::TraceParent;
use dueflow_store::User;

use crate::{App, AppError};

/// Tasks one bulk change may name.
const MAX_BULK: usize = 500;

/// What to do to every selected task.
#[derive(Debug, Clone)]
pub enum BulkChange {
    Complete,
    Reopen,
    Delete,
    Priority(Priority),
    /// A due date (`YYYY-MM-DD`) or instant, as `PATCH` takes it.
    Due(String),
    /// Add a tag (kept once on a task that has it).
    Tag(String),
}

impl App {
    /// Apply `change` to each of `ids`; returns how many tasks it reached.
    /// A change that is invalid in itself (a bad tag or date) is refused
    /// before any task is touched.
    pub async fn bulk_change(
        &self,
        user: &User,
        ids: &[String],
        change: &BulkChange,
        trace: TraceParent,
    ) -> Result<usize, AppError> {
        if ids.is_empty() {
            return Err(AppError::invalid("ids", "select at least one task"));
        }
        if ids.len() > MAX_BULK {
            return Err(AppError::invalid(
                "ids",
                format!("at most {MAX_BULK} tasks at once, got {}", ids.len()),
            ));
        }
        let tag = match change {
            BulkChange::Tag(tag) => dueflow_domain::tags::normalise("tag", tag)?,
            _ => String::new(),
        };
        if let BulkChange::Due(due) = change {
            dueflow_domain::due::Due::parse("due", due)?;
        }
        let mut reached = 0;
        for id in ids {
            let done = match change {
                BulkChange::Complete => self.complete_task(user, id, trace).await.map(drop),
                BulkChange::Reopen => self.reopen_task(user, id, trace).await.map(drop),
                BulkChange::Delete => self.delete_task(user, id, trace).await,
                BulkChange::Priority(p) => self
                    .update_task(user, id, patch(|t| t.priority = Some(*p)), None, trace)
                    .await
                    .map(drop),
                BulkChange::Due(due) => self
                    .update_task(
                        user,
                        id,
                        patch(|t| t.due = Some(Some(due.clone()))),
                        None,
                        trace,
                    )
                    .await
                    .map(drop),
                // Added to the tags as they are when written, so a
                // concurrent edit of them is kept.
                BulkChange::Tag(_) => self
                    .patch_task(user, id, None, trace, |task| {
                        Ok((!task.tags.contains(&tag)).then(|| {
                            let mut tags = task.tags.clone();
                            tags.push(tag.clone());
                            patch(|t| t.tags = Some(tags))
                        }))
                    })
                    .await
                    .map(drop),
            };
            match done {
                Ok(()) => reached += 1,
                Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(reached)
    }
}

fn patch(set: impl FnOnce(&mut TaskPatch)) -> TaskPatch {
    let mut p = TaskPatch::default();
    set(&mut p);
    p
}
