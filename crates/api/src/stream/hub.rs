//! The live-stream hub of one `api` process: it consumes every event, keeps
//! each user's most recent ones (a bounded window, by per-user sequence) and
//! fans them out to that user's open connections. Every replica consumes
//! all events, so a client may reconnect to any of them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use dueflow_bus::{Handler, HandlerError, Message};
use dueflow_domain::event::Envelope;
use dueflow_store::Tasks;
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
    /// The first number this process saw of the user (0: none yet): it
    /// cannot vouch for what came before (it consumes from its start on).
    first: i64,
}

impl UserLog {
    fn new() -> Self {
        Self {
            recent: VecDeque::new(),
            live: broadcast::channel(WINDOW).0,
            last: 0,
            first: 0,
        }
    }
}

/// Where a reconnecting client resumes: after the last number it saw, and
/// the user's latest number as the database has it now.
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    pub after: i64,
    pub latest: i64,
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
    /// Whether `seq` would skip numbers after the last one held for the
    /// user (or is the first): one user's numbers are contiguous on the
    /// live-update topic, so only such a number can be forged, and it is
    /// confirmed with the database before it is adopted.
    fn skips_ahead(&self, user_id: &str, seq: i64) -> bool {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let last = users.get(user_id).map_or(0, |l| l.last);
        seq > last && (last == 0 || seq - last != 1)
    }

    /// Record an event; older or repeated sequence numbers are ignored.
    pub fn push(&self, user_id: &str, item: Item) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let log = users.entry(user_id.to_owned()).or_insert_with(UserLog::new);
        if item.seq <= log.last {
            return;
        }
        log.last = item.seq;
        if log.first == 0 {
            log.first = item.seq;
        }
        log.recent.push_back(item.clone());
        if log.recent.len() > WINDOW {
            log.recent.pop_front();
        }
        let _ = log.live.send(item);
    }

    /// Subscribe `user_id`, replaying what came after `resume.after`. A gap
    /// is reported when events after it are no longer held, or may never
    /// have reached this process (it started, or first heard of the user,
    /// after them) while the database says there are some.
    pub fn subscribe(&self, user_id: &str, resume: Option<Resume>) -> Subscription {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let log = users.entry(user_id.to_owned()).or_insert_with(UserLog::new);
        let live = log.live.subscribe();
        let Some(Resume { after, latest }) = resume else {
            return Subscription {
                backlog: Vec::new(),
                live,
                gap: false,
            };
        };
        let oldest = log.recent.front().map_or(log.last + 1, |i| i.seq);
        let trimmed = after < log.last && oldest > after + 1;
        let unseen = log.first == 0 || log.first > after + 1;
        Subscription {
            backlog: log
                .recent
                .iter()
                .filter(|i| i.seq > after)
                .cloned()
                .collect(),
            live,
            gap: trimmed || (unseen && latest > after),
        }
    }
}

/// The hub consumes the live-update topic. A number that skips ahead is
/// adopted only once the database has handed it out: a bus may carry
/// events from outside the store, and a number that was never handed out
/// would hide the user's real events that follow it.
pub struct HubFeed {
    hub: Arc<StreamHub>,
    store: Arc<dyn Tasks>,
}

impl HubFeed {
    pub fn new(hub: Arc<StreamHub>, store: Arc<dyn Tasks>) -> Self {
        Self { hub, store }
    }
}

#[async_trait]
impl Handler for HubFeed {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        let head = Envelope::parse(&m.payload).map_err(HandlerError::Reject)?;
        let (user, seq) = (head.partitionkey.as_ref(), head.usersequence);
        if seq <= 0 {
            return Ok(());
        }
        if self.hub.skips_ahead(user, seq) {
            let latest = self
                .store
                .event_sequence(user)
                .await
                .map_err(|e| HandlerError::Retry(e.to_string()))?;
            if seq > latest {
                return Err(HandlerError::Reject(format!(
                    "usersequence {seq} of user {user} is beyond the {latest} the database handed out"
                )));
            }
        }
        self.hub.push(
            user,
            Item {
                seq,
                kind: head.kind.as_ref().into(),
                json: m.payload.as_str().into(),
            },
        );
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
        let at = |after: i64| {
            Some(Resume {
                after,
                latest: WINDOW as i64 + 10,
            })
        };
        let sub = hub.subscribe("u", at(WINDOW as i64 + 5));
        assert_eq!(
            sub.backlog.iter().map(|i| i.seq).collect::<Vec<_>>(),
            (WINDOW as i64 + 6..=WINDOW as i64 + 10).collect::<Vec<_>>()
        );
        assert!(!sub.gap);
        assert!(hub.subscribe("u", at(2)).gap, "events 3..10 are gone");
        assert!(hub.subscribe("other", at(0)).backlog.is_empty());
    }

    #[test]
    fn numbers_that_skip_ahead_are_the_ones_to_confirm() {
        let hub = StreamHub::default();
        assert!(hub.skips_ahead("u", 1), "the first number heard of a user");
        hub.push("u", item(7));
        assert!(!hub.skips_ahead("u", 8));
        assert!(!hub.skips_ahead("u", 7), "a repeat is ignored anyway");
        assert!(!hub.skips_ahead("u", 3), "an old one is ignored anyway");
        assert!(hub.skips_ahead("u", 9));
        assert!(hub.skips_ahead("u", 9_000_000_000_000_000_000));
    }

    #[test]
    fn a_gap_where_this_process_cannot_vouch_for_what_came_after() {
        let hub = StreamHub::default();
        let resume = |after, latest| Some(Resume { after, latest });
        // Never heard of the user: fine only while nothing happened since.
        assert!(!hub.subscribe("u", resume(5, 5)).gap);
        assert!(hub.subscribe("u", resume(5, 7)).gap);
        // First heard of the user at 10: 6..9 may have passed it by.
        for s in 10..=12 {
            hub.push("u", item(s));
        }
        assert!(hub.subscribe("u", resume(5, 12)).gap);
        // From 9 on it saw everything.
        let sub = hub.subscribe("u", resume(9, 12));
        assert!(!sub.gap);
        assert_eq!(sub.backlog.len(), 3);
        assert!(
            !hub.subscribe("u", resume(12, 14)).gap,
            "13, 14 on their way"
        );
    }
}
