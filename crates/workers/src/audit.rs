//! The audit role: writes every event once into the activity log, a
//! batch of events in one insert. The event id is the row's key, so
//! redelivered events change nothing.

use std::sync::Arc;

use async_trait::async_trait;
use dueflow_bus::{Handler, HandlerError, Message};
use dueflow_domain::event::Event;
use dueflow_store::Activity;

pub struct Audit {
    store: Arc<dyn Activity>,
}

impl Audit {
    pub fn new(store: Arc<dyn Activity>) -> Self {
        Self { store }
    }
}

fn parse(m: &Message) -> Result<(Event, String), HandlerError> {
    let doc: serde_json::Value = serde_json::from_str(&m.payload)
        .map_err(|e| HandlerError::Reject(format!("not JSON: {e}")))?;
    let event = Event::from_cloudevent(&doc).map_err(HandlerError::Reject)?;
    Ok((event, m.payload.clone()))
}

#[async_trait]
impl Handler for Audit {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(m)).await
    }

    /// One insert for the whole batch.
    async fn handle_batch(&self, messages: &[Message]) -> Result<(), HandlerError> {
        let events = messages.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
        self.store
            .record_activity(&events)
            .await
            .map_err(|e| HandlerError::Retry(e.to_string()))
    }
}
