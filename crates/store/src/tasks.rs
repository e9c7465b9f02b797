//! Tasks, the heart of the store: each write persists a task and the events
//! describing it in one transaction, checks the version so that a stale
//! write never lands, and every read is scoped to the task's owner.

use async_trait::async_trait;
use dueflow_domain::event::Event;
use dueflow_domain::task::Task;

use crate::{ListQuery, Page, Result, TagCount};

#[async_trait]
pub trait Tasks: Send + Sync {
    // Every write takes the events describing it (at least one, of the
    // task's owner: appending them takes the owner's row, which the tag
    // counters rely on); they are appended to the outbox in the same
    // transaction, or not at all.
    async fn insert_task(&self, user_id: &str, task: &Task, events: &[Event]) -> Result<()>;
    async fn task(&self, user_id: &str, id: &str) -> Result<Option<Task>>;
    /// Replace a task if it is still at `prev_version`; `false` otherwise.
    async fn replace_task(
        &self,
        user_id: &str,
        task: &Task,
        prev_version: i64,
        events: &[Event],
    ) -> Result<bool>;
    /// Insert the next occurrence of a recurring task unless its series
    /// position is taken already (then nothing, `false`): replaying one
    /// completion creates one occurrence.
    async fn insert_occurrence(&self, user_id: &str, task: &Task, event: &Event) -> Result<bool>;
    /// Delete a task; `event` is recorded only if it existed.
    async fn delete_task(&self, user_id: &str, id: &str, event: &Event) -> Result<bool>;
    async fn list_tasks(&self, user_id: &str, query: &ListQuery) -> Result<Page>;
    /// The user's latest event number (`usersequence`); 0 before any.
    async fn event_sequence(&self, user_id: &str) -> Result<i64>;
    /// The user's tags (those on at least one task), by name.
    async fn tags(&self, user_id: &str) -> Result<Vec<TagCount>>;
    /// Give a tag a colour (`#rrggbb`), or take it away (`None`).
    async fn set_tag_colour(&self, user_id: &str, name: &str, colour: Option<&str>) -> Result<()>;
}
