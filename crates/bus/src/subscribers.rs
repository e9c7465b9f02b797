//! Who consumes what, for the transports that deliver by calling handlers
//! in this process (in-process, Dapr): each topic's handlers, each under
//! its consumer group's name.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::Handler;

/// A consumer group's name and its handler.
pub type Subscriber = (String, Arc<dyn Handler>);

#[derive(Default)]
pub struct Subscribers {
    topics: RwLock<HashMap<String, Vec<Subscriber>>>,
}

impl Subscribers {
    /// Deliver `topic` to `handler` under the consumer group `group`.
    pub fn subscribe(&self, topic: &str, group: &str, handler: Arc<dyn Handler>) {
        self.topics
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(topic.to_owned())
            .or_default()
            .push((group.to_owned(), handler));
    }

    pub fn handlers(&self, topic: &str) -> Vec<Subscriber> {
        self.topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(topic)
            .cloned()
            .unwrap_or_default()
    }

    /// The topics someone consumes, sorted.
    pub fn topics(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        t.sort();
        t
    }
}
