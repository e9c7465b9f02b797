//! Events: every change to a user's data is described by one typed,
//! versioned event, written to the outbox in the same transaction as the
//! change and published as a CloudEvents 1.0 JSON document. Consumers
//! (audit, scheduler, notifier, live clients) read only these documents.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::ids::{IdKind, new_id};
use crate::reminder::schedule::{LATE_AFTER_MS, ScheduledReminder};
use crate::task::Task;
use crate::trace::TraceParent;

pub const SPEC_VERSION: &str = "1.0";
pub const SOURCE: &str = "/dueflow";

/// The topic task changes are published on.
pub const TASK_EVENTS: &str = "task-events";
/// The topic reminder events (scheduled, due, delivered, …) are published on.
pub const REMINDERS: &str = "reminders";
/// The topic live clients are fed from: every event of both topics above,
/// in one per-user order.
pub const TASK_UPDATES: &str = "task-updates";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    TaskCreated,
    TaskUpdated,
    TaskCompleted,
    TaskReopened,
    TaskDeleted,
    ReminderScheduled,
    ReminderDue,
    ReminderDelivered,
    ReminderSnoozed,
    ReminderDismissed,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::TaskCreated,
        EventType::TaskUpdated,
        EventType::TaskCompleted,
        EventType::TaskReopened,
        EventType::TaskDeleted,
        EventType::ReminderScheduled,
        EventType::ReminderDue,
        EventType::ReminderDelivered,
        EventType::ReminderSnoozed,
        EventType::ReminderDismissed,
    ];

    /// The CloudEvents `type`, e.g. `dueflow.task.completed.v1`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::TaskCreated => "dueflow.task.created.v1",
            EventType::TaskUpdated => "dueflow.task.updated.v1",
            EventType::TaskCompleted => "dueflow.task.completed.v1",
            EventType::TaskReopened => "dueflow.task.reopened.v1",
            EventType::TaskDeleted => "dueflow.task.deleted.v1",
            EventType::ReminderScheduled => "dueflow.reminder.scheduled.v1",
            EventType::ReminderDue => "dueflow.reminder.due.v1",
            EventType::ReminderDelivered => "dueflow.reminder.delivered.v1",
            EventType::ReminderSnoozed => "dueflow.reminder.snoozed.v1",
            EventType::ReminderDismissed => "dueflow.reminder.dismissed.v1",
        }
    }

    /// The short name users filter by, e.g. `task.completed`.
    pub fn short(self) -> &'static str {
        let s = self.as_str();
        &s["dueflow.".len()..s.len() - ".v1".len()]
    }

    pub fn parse(s: &str) -> Option<EventType> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s || t.short() == s)
    }

    pub const fn topic(self) -> &'static str {
        match self {
            EventType::TaskCreated
            | EventType::TaskUpdated
            | EventType::TaskCompleted
            | EventType::TaskReopened
            | EventType::TaskDeleted => TASK_EVENTS,
            EventType::ReminderScheduled
            | EventType::ReminderDue
            | EventType::ReminderDelivered
            | EventType::ReminderSnoozed
            | EventType::ReminderDismissed => REMINDERS,
        }
    }
}

/// The envelope fields consumers decide by, read from a CloudEvents
/// document without building the rest of it (most consumers skip most
/// events).
#[derive(Debug, serde::Deserialize)]
pub struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub partitionkey: std::borrow::Cow<'a, str>,
    #[serde(default)]
    pub usersequence: i64,
    #[serde(default, borrow)]
    pub traceparent: Option<std::borrow::Cow<'a, str>>,
}

impl<'a> Envelope<'a> {
    pub fn parse(payload: &'a str) -> Result<Envelope<'a>, String> {
        serde_json::from_str(payload).map_err(|e| format!("not a dueflow CloudEvent: {e}"))
    }

    pub fn is(&self, kind: EventType) -> bool {
        self.kind == kind.as_str()
    }

    /// The span that made the event, if it names a valid one.
    pub fn trace(&self) -> Option<TraceParent> {
        self.traceparent.as_deref().and_then(TraceParent::parse)
    }
}

/// One event, before it is rendered as a CloudEvent.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique and stable across redeliveries: consumers deduplicate on it.
    pub id: String,
    pub kind: EventType,
    /// Owner of the data; also the partition key, so one user's events stay in order.
    pub user_id: String,
    /// The task the event is about.
    pub subject: String,
    pub time: DateTime<Utc>,
    pub data: Value,
    /// Position among this user's events (1, 2, …), assigned by storage in
    /// the writing transaction; 0 until then. Live clients resume from it.
    pub sequence: i64,
    /// The span of the work that made this event: the request, or the
    /// handling of the event that caused it.
    pub trace: TraceParent,
}

impl Event {
    fn new(
        kind: EventType,
        user_id: &str,
        subject: &str,
        time: DateTime<Utc>,
        data: Value,
    ) -> Event {
        Event {
            id: new_id(IdKind::Event),
            kind,
            user_id: user_id.to_owned(),
            subject: subject.to_owned(),
            time,
            data,
            sequence: 0,
            trace: TraceParent::root(),
        }
    }

    /// This event as made by the work `trace` stands for.
    pub fn in_trace(mut self, trace: TraceParent) -> Event {
        self.trace = trace;
        self
    }

    fn about(kind: EventType, user_id: &str, task: &Task, extra: Option<(&str, Value)>) -> Event {
        let mut data = Map::new();
        data.insert(
            "task".into(),
            serde_json::to_value(task).expect("task serialises"),
        );
        if let Some((k, v)) = extra {
            data.insert(k.into(), v);
        }
        Event::new(
            kind,
            user_id,
            &task.id,
            task.updated_at,
            Value::Object(data),
        )
    }

    pub fn task_created(user_id: &str, task: &Task) -> Event {
        Event::about(EventType::TaskCreated, user_id, task, None)
    }

    /// A change; `changed` names the fields that differ.
    pub fn task_updated(user_id: &str, before: &Task, after: &Task) -> Event {
        Event::about(
            EventType::TaskUpdated,
            user_id,
            after,
            Some(("changed", json!(changed_fields(before, after)))),
        )
    }

    pub fn task_completed(user_id: &str, task: &Task) -> Event {
        Event::about(EventType::TaskCompleted, user_id, task, None)
    }

    pub fn task_reopened(user_id: &str, task: &Task) -> Event {
        Event::about(EventType::TaskReopened, user_id, task, None)
    }

    pub fn task_deleted(user_id: &str, task_id: &str, time: DateTime<Utc>) -> Event {
        Event::new(
            EventType::TaskDeleted,
            user_id,
            task_id,
            time,
            json!({ "task_id": task_id }),
        )
    }

    fn reminder(
        kind: EventType,
        user_id: &str,
        r: &ScheduledReminder,
        time: DateTime<Utc>,
        extra: Map<String, Value>,
    ) -> Event {
        let mut data = Map::new();
        data.insert(
            "reminder".into(),
            serde_json::to_value(r).expect("reminder serialises"),
        );
        data.extend(extra);
        Event::new(kind, user_id, &r.task_id, time, Value::Object(data))
    }

    pub fn reminder_scheduled(user_id: &str, r: &ScheduledReminder, time: DateTime<Utc>) -> Event {
        Event::reminder(EventType::ReminderScheduled, user_id, r, time, Map::new())
    }

    /// A reminder fired at `now` (`r` already marked fired); `late` when it
    /// fired more than [`LATE_AFTER_MS`] after its time, with how late.
    pub fn reminder_due(
        user_id: &str,
        r: &ScheduledReminder,
        task: &Task,
        now: DateTime<Utc>,
    ) -> Event {
        let late_ms = (now - r.fire_at).num_milliseconds().max(0);
        let mut extra = Map::new();
        extra.insert(
            "task".into(),
            serde_json::to_value(task).expect("task serialises"),
        );
        extra.insert("late".into(), json!(late_ms > LATE_AFTER_MS));
        extra.insert("late_ms".into(), json!(late_ms));
        Event::reminder(EventType::ReminderDue, user_id, r, now, extra)
    }

    /// A fired reminder reached the user through `channel` (`in_app`, …).
    pub fn reminder_delivered(
        user_id: &str,
        r: &ScheduledReminder,
        channel: &str,
        time: DateTime<Utc>,
    ) -> Event {
        let mut extra = Map::new();
        extra.insert("channel".into(), json!(channel));
        Event::reminder(EventType::ReminderDelivered, user_id, r, time, extra)
    }

    pub fn reminder_snoozed(user_id: &str, r: &ScheduledReminder, time: DateTime<Utc>) -> Event {
        Event::reminder(EventType::ReminderSnoozed, user_id, r, time, Map::new())
    }

    pub fn reminder_dismissed(user_id: &str, r: &ScheduledReminder, time: DateTime<Utc>) -> Event {
        Event::reminder(EventType::ReminderDismissed, user_id, r, time, Map::new())
    }

    /// The CloudEvents 1.0 structured-mode JSON document.
    pub fn to_cloudevent(&self) -> Value {
        json!({
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": SOURCE,
            "type": self.kind.as_str(),
            "subject": self.subject,
            "time": self.time.to_rfc3339_opts(SecondsFormat::Millis, true),
            "datacontenttype": "application/json",
            "partitionkey": self.user_id,
            "usersequence": self.sequence,
            "traceparent": self.trace.to_string(),
            "data": self.data,
        })
    }

    /// Read a CloudEvent produced by [`Event::to_cloudevent`].
    pub fn from_cloudevent(v: &Value) -> Result<Event, String> {
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("missing '{k}'"))
        };
        if s("specversion")? != SPEC_VERSION {
            return Err("specversion is not 1.0".into());
        }
        let kind = EventType::parse(s("type")?)
            .ok_or_else(|| format!("unknown type '{}'", s("type").unwrap_or("")))?;
        let time = DateTime::parse_from_rfc3339(s("time")?)
            .map_err(|e| format!("bad time: {e}"))?
            .with_timezone(&Utc);
        Ok(Event {
            id: s("id")?.to_owned(),
            kind,
            user_id: s("partitionkey")?.to_owned(),
            subject: s("subject")?.to_owned(),
            time,
            data: v.get("data").cloned().unwrap_or(Value::Null),
            sequence: v.get("usersequence").and_then(Value::as_i64).unwrap_or(0),
            // Events written before traces were recorded have none.
            trace: v
                .get("traceparent")
                .and_then(Value::as_str)
                .and_then(TraceParent::parse)
                .unwrap_or_else(TraceParent::root),
        })
    }
}

/// Names of the task fields that differ between two versions.
pub fn changed_fields(before: &Task, after: &Task) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name: &'static str, same: bool| {
        if !same {
            out.push(name);
        }
    };
    check("title", before.title == after.title);
    check("notes", before.notes == after.notes);
    check("priority", before.priority == after.priority);
    check("due", before.due == after.due);
    check("tz", before.tz == after.tz);
    check("tags", before.tags == after.tags);
    check("recurrence", before.recurrence == after.recurrence);
    check("reminders", before.reminders == after.reminders);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::NewTask;

    #[test]
    fn round_trips_through_cloudevents() {
        let now: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
        let task = Task::create(
            NewTask {
                title: "a".into(),
                ..Default::default()
            },
            chrono_tz::UTC,
            now,
        )
        .unwrap();
        let e = Event::task_created("usr_1", &task);
        let ce = e.to_cloudevent();
        assert_eq!(ce["type"], "dueflow.task.created.v1");
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(Event::from_cloudevent(&ce).unwrap(), e);
        let text = ce.to_string();
        let head = Envelope::parse(&text).unwrap();
        assert!(head.is(EventType::TaskCreated) && !head.is(EventType::TaskCompleted));
        assert_eq!(head.partitionkey, "usr_1");
        assert_eq!(EventType::TaskCompleted.short(), "task.completed");
        assert_eq!(
            EventType::parse("task.deleted"),
            Some(EventType::TaskDeleted)
        );
    }
}
