//! The notifier role: turns events into what reaches people. A fired
//! reminder (`reminder.due`) becomes an in-app notification (once per
//! event, with its `reminder.delivered` event) and, where the user has a
//! verified address and SMTP is configured, a queued mail ([`crate::email`]); every
//! event a user's webhook endpoints subscribed to is queued for them (once
//! per endpoint) and sent by [`crate::webhook::Sender`]. A reminder goes
//! only through the channels its user chose ([`ReminderChannels`]).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use dueflow_bus::{Handler, HandlerError, Message};
use dueflow_domain::event::{Event, EventType};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::reminder::schedule::ScheduledReminder;
use dueflow_store::{
    InApp, NewDelivery, Notification, Notifications, QueuedEmail, ReminderChannels, Webhooks,
};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub struct Notifier {
    pub notifications: Arc<dyn Notifications>,
    pub webhooks: Arc<dyn Webhooks>,
    /// Wakes the webhook sender when deliveries were queued.
    pub wake: Arc<Notify>,
    /// Wakes the mailer when a mail was queued; `None`: no SMTP server.
    pub mail: Option<Arc<Notify>>,
}

fn retry(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::Retry(e.to_string())
}

/// The in-app notification announcing a fired reminder.
fn notification(e: &Event) -> Result<(Notification, ScheduledReminder), HandlerError> {
    let reminder: ScheduledReminder = serde_json::from_value(e.data["reminder"].clone())
        .map_err(|err| HandlerError::Reject(format!("reminder.due without a reminder: {err}")))?;
    let task = &e.data["task"];
    let title = task["title"].as_str().unwrap_or("A task").to_owned();
    let mut body = match task["due"].as_str() {
        Some(due) => format!("Due {due}"),
        None => "Reminder".to_owned(),
    };
    if e.data["late"] == Value::Bool(true) {
        let secs = e.data["late_ms"].as_i64().unwrap_or(0) / 1000;
        body.push_str(&format!(" (reminder {secs} s late)"));
    }
    Ok((
        Notification {
            id: new_id(IdKind::Notification),
            event_id: e.id.clone(),
            task_id: e.subject.clone(),
            reminder_id: reminder.id.clone(),
            title,
            body,
            created_at: Utc::now(),
            read_at: None,
        },
        reminder,
    ))
}

impl Notifier {
    async fn queue_mail(
        &self,
        event: &Event,
        n: &Notification,
        wake: &Notify,
    ) -> Result<(), HandlerError> {
        let Some(to) = self
            .notifications
            .verified_email(&event.user_id)
            .await
            .map_err(retry)?
        else {
            return Ok(());
        };
        let mail = QueuedEmail {
            event_id: event.id.clone(),
            user_id: event.user_id.clone(),
            to,
            subject: format!("Reminder: {}", n.title),
            body: format!("{}\n\n{}\n", n.title, n.body),
        };
        if self
            .notifications
            .queue_email(&mail, Utc::now())
            .await
            .map_err(retry)?
        {
            wake.notify_one();
        }
        Ok(())
    }
}

/// The webhook body of an event.
fn webhook_body(event: &Event) -> String {
    json!({
        "type": event.kind.short(),
        "timestamp": event.time.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": event.data,
    })
    .to_string()
}

impl Notifier {
    /// Fired reminders' in-app notifications (with their
    /// `reminder.delivered` events) in one transaction and, where the user
    /// has a verified address, their mails.
    async fn announce(
        &self,
        due: &[&Event],
        channels: &HashMap<String, ReminderChannels>,
    ) -> Result<(), HandlerError> {
        let chose = |e: &Event, pick: fn(&ReminderChannels) -> bool| {
            channels.get(&e.user_id).is_none_or(pick)
        };
        let mut notes = Vec::with_capacity(due.len());
        let mut mails = Vec::new();
        for event in due {
            let (n, reminder) = notification(event)?;
            if chose(event, |c| c.email) {
                mails.push((*event, n.clone()));
            }
            if !chose(event, |c| c.in_app) {
                continue;
            }
            let delivered =
                Event::reminder_delivered(&event.user_id, &reminder, "in_app", n.created_at)
                    .in_trace(crate::traced::handling(&event.id, event.trace));
            notes.push(InApp {
                user_id: event.user_id.clone(),
                notification: n,
                delivered,
            });
        }
        let added = self
            .notifications
            .notify_in_app(&notes)
            .await
            .map_err(retry)?;
        metrics::counter!("dueflow_notifications_total", "channel" => "in_app")
            .increment(added as u64);
        if let Some(wake) = &self.mail {
            for (event, n) in &mails {
                self.queue_mail(event, n, wake).await?;
            }
        }
        Ok(())
    }

    /// The channels of each user with a fired reminder among `due`.
    async fn channels(
        &self,
        due: &[&Event],
    ) -> Result<HashMap<String, ReminderChannels>, HandlerError> {
        let mut out = HashMap::new();
        for e in due {
            if !out.contains_key(&e.user_id) {
                let c = self
                    .notifications
                    .reminder_channels(&e.user_id)
                    .await
                    .map_err(retry)?;
                out.insert(e.user_id.clone(), c);
            }
        }
        Ok(out)
    }

    /// Queue `events` for their owners' endpoints that subscribed to them,
    /// in one transaction. The users' endpoints are read with one query:
    /// most events are of users (or types) without any, and then cost
    /// nothing more.
    async fn queue_webhooks(
        &self,
        events: &[Event],
        channels: &HashMap<String, ReminderChannels>,
    ) -> Result<(), HandlerError> {
        // A fired reminder reaches webhooks only where its user wants it to.
        let events: Vec<&Event> = events
            .iter()
            .filter(|e| {
                e.kind != EventType::ReminderDue
                    || channels.get(&e.user_id).is_none_or(|c| c.webhook)
            })
            .collect();
        let mut users: Vec<&str> = events.iter().map(|e| e.user_id.as_str()).collect();
        users.sort_unstable();
        users.dedup();
        let endpoints = self.webhooks.list_webhooks(&users).await.map_err(retry)?;
        let mut deliveries = Vec::new();
        for event in events {
            let short = event.kind.short();
            let mut body = None;
            for w in endpoints
                .iter()
                .filter(|w| w.user_id == event.user_id && w.wants(short))
            {
                deliveries.push(NewDelivery {
                    webhook_id: w.id.clone(),
                    user_id: event.user_id.clone(),
                    event_id: event.id.clone(),
                    event_type: short,
                    payload: body.get_or_insert_with(|| webhook_body(event)).clone(),
                });
            }
        }
        if deliveries.is_empty() {
            return Ok(());
        }
        let queued = self
            .webhooks
            .enqueue_deliveries(&deliveries, Utc::now())
            .await
            .map_err(retry)?;
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(())
    }
}

#[async_trait]
impl Handler for Notifier {
    async fn handle(&self, m: &Message) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(m)).await
    }

    /// A batch costs one transaction for its in-app notifications and one
    /// for its webhook deliveries, whatever its size (mails, where SMTP is
    /// configured, one each).
    async fn handle_batch(&self, messages: &[Message]) -> Result<(), HandlerError> {
        let mut events = Vec::with_capacity(messages.len());
        for m in messages {
            let doc: Value = serde_json::from_str(&m.payload)
                .map_err(|e| HandlerError::Reject(format!("not JSON: {e}")))?;
            events.push(Event::from_cloudevent(&doc).map_err(HandlerError::Reject)?);
        }
        let due: Vec<&Event> = events
            .iter()
            .filter(|e| e.kind == EventType::ReminderDue)
            .collect();
        let channels = self.channels(&due).await?;
        if !due.is_empty() {
            self.announce(&due, &channels).await?;
        }
        self.queue_webhooks(&events, &channels).await
    }
}
