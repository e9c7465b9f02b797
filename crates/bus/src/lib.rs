//! The event bus behind two narrow traits: a [`Publisher`] that the outbox
//! relay hands ordered batches to, and a [`Handler`] that each consuming
//! role implements. One module per transport (`inproc`, `kafka`, `dapr`);
//! `inproc` runs every role in one process with the same at-least-once
//! semantics as a broker.

pub mod dapr;
pub mod health;
pub mod inproc;
pub mod kafka;
pub mod subscribers;

use std::collections::BTreeMap;

use async_trait::async_trait;

/// How dueflow's topics are named on the broker: a prefix, and names that
/// replace the built-in ones (`task-events`, `reminders`, `task-updates`).
/// Dead-letter topics are the named topic plus `.dlq`.
#[derive(Debug, Clone, Default)]
pub struct TopicNames {
    pub prefix: String,
    /// Built-in name → name on the broker.
    pub renamed: BTreeMap<String, String>,
}

impl TopicNames {
    /// The broker's name for the topic dueflow calls `topic`.
    pub fn wire(&self, topic: &str) -> String {
        let name = self.renamed.get(topic).map_or(topic, String::as_str);
        format!("{}{name}", self.prefix)
    }
}

/// One event on its way to consumers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The event id; handlers deduplicate on it.
    pub id: String,
    pub topic: String,
    /// Partition key (the user id): one key's messages stay in order.
    pub key: String,
    /// The CloudEvents JSON document.
    pub payload: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The messages were not (all) delivered; publish them again later.
    #[error("delivery failed: {0}")]
    Unavailable(String),
    /// The request was refused as it is; sending it again changes nothing.
    #[error("refused: {0}")]
    Refused(String),
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// A passing failure (database down, …): deliver again later.
    #[error("retry: {0}")]
    Retry(String),
    /// The message can never be handled (malformed): dead-letter it.
    #[error("reject: {0}")]
    Reject(String),
}

/// Publishes batches, in order, at least once.
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(&self, messages: &[Message]) -> Result<(), BusError>;

    /// The messaging system, as traces name it.
    fn system(&self) -> &'static str;
}

/// A consumer role's reaction to one message. Must be idempotent.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, message: &Message) -> Result<(), HandlerError>;

    /// Handle messages that arrived together, in order, as one piece of
    /// work where a role can do it cheaper than one by one (the default).
    /// On an error the transport hands each message to [`Handler::handle`]
    /// again, so a failing one is retried or dead-lettered alone.
    async fn handle_batch(&self, messages: &[Message]) -> Result<(), HandlerError> {
        for m in messages {
            self.handle(m).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_topics_for_the_broker() {
        let t = TopicNames {
            prefix: "prod.".into(),
            renamed: [("task-events".to_owned(), "dueflow-changes".to_owned())].into(),
        };
        assert_eq!(t.wire("task-events"), "prod.dueflow-changes");
        assert_eq!(t.wire("reminders"), "prod.reminders");
        assert_eq!(TopicNames::default().wire("reminders"), "reminders");
    }
}
