//! The recurring role: when a recurring task is completed, creates its next
//! occurrence (same content, reminders shifted, the due the rule and its
//! anchor give). The series position is the idempotency key (a unique
//! index on series and occurrence), so a duplicated or replayed
//! `task.completed` creates nothing new, and `COUNT` / `UNTIL` end the
//! series.

use std::sync::Arc;

use async_trait::async_trait;
use dueflow_bus::{Handler, HandlerError, Message};
use dueflow_domain::event::{Envelope, Event, EventType};
use dueflow_store::Tasks;

pub struct Recurring {
    store: Arc<dyn Tasks>,
}

impl Recurring {
    pub fn new(store: Arc<dyn Tasks>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Handler for Recurring {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        if !Envelope::parse(&m.payload)
            .map_err(HandlerError::Reject)?
            .is(EventType::TaskCompleted)
        {
            return Ok(());
        }
        let doc: serde_json::Value = serde_json::from_str(&m.payload)
            .map_err(|e| HandlerError::Reject(format!("not JSON: {e}")))?;
        let event = Event::from_cloudevent(&doc).map_err(HandlerError::Reject)?;
        if event.kind != EventType::TaskCompleted || doc["data"]["task"]["recurrence"].is_null() {
            return Ok(());
        }
        let retry = |e: dueflow_store::StoreError| HandlerError::Retry(e.to_string());
        // The stored task knows its position in the series; a task deleted
        // since has no next occurrence.
        let Some(task) = self
            .store
            .task(&event.user_id, &event.subject)
            .await
            .map_err(retry)?
        else {
            return Ok(());
        };
        // Completed at the event's time: the completion anchor, and the
        // same occurrence however often the event is replayed.
        let Some(next) = task.next_occurrence(event.time) else {
            return Ok(());
        };
        let created = Event::task_created(&event.user_id, &next)
            .in_trace(crate::traced::handling(&event.id, event.trace));
        if self
            .store
            .insert_occurrence(&event.user_id, &next, &created)
            .await
            .map_err(retry)?
        {
            metrics::counter!("dueflow_occurrences_created_total").increment(1);
        }
        Ok(())
    }
}
