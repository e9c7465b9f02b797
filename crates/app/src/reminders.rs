//! Reminder operations: the caller's scheduled reminders, soonest first,
//! and what a person does with one that fired or is about to — snooze it
//! to a later instant, or dismiss it.

use chrono::{DateTime, Duration, Utc};
use dueflow_domain::reminder::Offset;
use dueflow_domain::reminder::schedule::{ReminderState, ScheduledReminder};
use dueflow_store::{ReminderQuery, User};

use crate::paging::page_size;
use crate::{App, AppError};

/// Until when a reminder is snoozed: an instant, or a time from now.
#[derive(Debug, Clone)]
pub enum SnoozeFor {
    /// An RFC 3339 instant.
    Until(String),
    /// An ISO 8601 duration, e.g. `PT10M`.
    For(String),
}

impl SnoozeFor {
    fn field(&self) -> &'static str {
        match self {
            SnoozeFor::Until(_) => "until",
            SnoozeFor::For(_) => "for",
        }
    }

    fn end(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
        let at = match self {
            SnoozeFor::Until(t) => DateTime::parse_from_rfc3339(t)
                .map_err(|_| {
                    AppError::invalid("until", format!("'{t}' is not an RFC 3339 date-time"))
                })?
                .with_timezone(&Utc),
            SnoozeFor::For(d) => {
                let offset: Offset = d.parse().map_err(|e| AppError::invalid("for", e))?;
                now + Duration::days(i64::from(offset.days()))
                    + Duration::seconds(i64::from(offset.seconds()))
            }
        };
        if at <= now {
            return Err(AppError::invalid(
                self.field(),
                "a snooze ends in the future",
            ));
        }
        Ok(at)
    }
}

impl App {
    /// Reminders, soonest first: of one task, in one state
    /// (`pending`, `fired` or `dismissed`), at most `limit` (1–200).
    pub async fn reminders(
        &self,
        user: &User,
        task: Option<String>,
        state: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Vec<ScheduledReminder>, AppError> {
        let limit = page_size(limit)?;
        let state = state
            .map(|s| {
                ReminderState::parse(s).ok_or_else(|| {
                    AppError::invalid(
                        "state",
                        format!("unknown state '{s}'; use pending, fired or dismissed"),
                    )
                })
            })
            .transpose()?;
        let q = ReminderQuery { task, state, limit };
        Ok(self.store.list_reminders(&user.id, &q).await?)
    }

    pub async fn snooze_reminder(
        &self,
        user: &User,
        id: &str,
        snooze: &SnoozeFor,
    ) -> Result<ScheduledReminder, AppError> {
        let now = Utc::now();
        let until = snooze.end(now)?;
        self.store
            .snooze_reminder(&user.id, id, until, now)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn dismiss_reminder(
        &self,
        user: &User,
        id: &str,
    ) -> Result<ScheduledReminder, AppError> {
        self.store
            .dismiss_reminder(&user.id, id, Utc::now())
            .await?
            .ok_or(AppError::NotFound)
    }
}
