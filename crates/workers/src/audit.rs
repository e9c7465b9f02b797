//! The audit role: writes every event once into the activity log. The
//! event id is the row's key, so redelivered events change nothing.

use std::sync::Arc;

use async_trait::async_trait;
use dueflow_bus::{Handler, HandlerError, Message};
use dueflow_domain::event::Event;
use dueflow_store::Store;

pub struct Audit {
    store: Arc<dyn Store>,
}

impl Audit {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Handler for Audit {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        let doc: serde_json::Value = serde_json::from_str(&m.payload)
            .map_err(|e| HandlerError::Reject(format!("not JSON: {e}")))?;
        let event = Event::from_cloudevent(&doc).map_err(HandlerError::Reject)?;
        self.store
            .record_activity(&event, &m.payload)
            .await
            .map_err(|e| HandlerError::Retry(e.to_string()))?;
        Ok(())
    }
}
