//! The live-stream hub of one `api` process: it consumes every event, keeps
//! each user's most recent ones (a bounded window, by per-user sequence) and
//! fans them out to that user's open connections. Every replica consumes
//! all events, so a client may reconnect to any of them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use dueflow_bus::{Handler, HandlerError, Message};
use tokio::sync::broadcast;

/// Events kept per user for clients that reconnect.
pub const WINDOW: usize = 200;

#[derive(Debug, Clone)]
pub struct Item {
    pub seq: i64,
    pub kind: Arc<str>,
    /// The CloudEvents JSON document.
    pub json: Arc<str>,
}

struct UserLog {
    recent: VecDeque<Item>,
    live: broadcast::Sender<Item>,
    last: i64,
}

impl UserLog {
    fn new() -> Self {
        Self {
            recent: VecDeque::new(),
            live: broadcast::channel(WINDOW).0,
            last: 0,
        }
    }
}

/// What a new connection gets: the missed events, then the live feed.
pub struct Subscription {
    pub backlog: Vec<Item>,
    pub live: broadcast::Receiver<Item>,
    /// Events after the client's position are no longer held: it must reload.
    pub gap: bool,
}

#[derive(Default)]
pub struct StreamHub {
    users: Mutex<HashMap<String, UserLog>>,
}

impl StreamHub {
    /// Record an event; older or repeated sequence numbers are ignored.
    pub fn push(&self, user_id: &str, item: Item) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let log = users.entry(user_id.to_owned()).or_insert_with(UserLog::new);
        if item.seq <= log.last {
            return;
        }
        log.last = item.seq;
        log.recent.push_back(item.clone());
        if log.recent.len() > WINDOW {
            log.recent.pop_front();
        }
        let _ = log.live.send(item);
    }

    /// Subscribe `user_id`, replaying what came after `after`.
    pub fn subscribe(&self, user_id: &str, after: Option<i64>) -> Subscription {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let log = users.entry(user_id.to_owned()).or_insert_with(UserLog::new);
        let live = log.live.subscribe();
        let Some(after) = after else {
            return Subscription {
                backlog: Vec::new(),
                live,
                gap: false,
            };
        };
        let oldest = log.recent.front().map_or(log.last + 1, |i| i.seq);
        Subscription {
            backlog: log
                .recent
                .iter()
                .filter(|i| i.seq > after)
                .cloned()
                .collect(),
            live,
            gap: after < log.last && oldest > after + 1,
        }
    }

    /// Connections currently open, for metrics.
    pub fn connections(&self) -> usize {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.values().map(|l| l.live.receiver_count()).sum()
    }
}

/// The hub consumes the task events topic.
pub struct HubFeed(pub Arc<StreamHub>);

#[async_trait]
impl Handler for HubFeed {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        let doc: serde_json::Value = serde_json::from_str(&m.payload)
            .map_err(|e| HandlerError::Reject(format!("not JSON: {e}")))?;
        let seq = doc["usersequence"].as_i64().unwrap_or(0);
        let (Some(user), Some(kind)) = (doc["partitionkey"].as_str(), doc["type"].as_str()) else {
            return Err(HandlerError::Reject(
                "event without partitionkey or type".into(),
            ));
        };
        if seq > 0 {
            self.0.push(
                user,
                Item {
                    seq,
                    kind: kind.into(),
                    json: m.payload.as_str().into(),
                },
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(seq: i64) -> Item {
        Item {
            seq,
            kind: "t".into(),
            json: seq.to_string().into(),
        }
    }

    #[test]
    fn replays_after_a_position_and_reports_gaps() {
        let hub = StreamHub::default();
        for s in 1..=(WINDOW as i64 + 10) {
            hub.push("u", item(s));
        }
        hub.push("u", item(3));
        let sub = hub.subscribe("u", Some(WINDOW as i64 + 5));
        assert_eq!(
            sub.backlog.iter().map(|i| i.seq).collect::<Vec<_>>(),
            (WINDOW as i64 + 6..=WINDOW as i64 + 10).collect::<Vec<_>>()
        );
        assert!(!sub.gap);
        assert!(hub.subscribe("u", Some(2)).gap, "events 3..10 are gone");
        assert!(hub.subscribe("other", Some(0)).backlog.is_empty());
    }
}
