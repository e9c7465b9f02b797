//! The roles one process can run. `dueflow serve` runs all of them by
//! default; with the Kafka bus each can run as its own process.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// REST API, and the outbox relay that publishes what it writes.
    Api,
    /// Creates the next occurrence of completed recurring tasks.
    Recurring,
    /// Fires reminders at their instant.
    Scheduler,
    /// Delivers fired reminders (in-app) and events to webhooks.
    Notifier,
    /// Writes every event into the activity log.
    Audit,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Api,
        Role::Recurring,
        Role::Scheduler,
        Role::Notifier,
        Role::Audit,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Recurring => "recurring",
            Role::Scheduler => "scheduler",
            Role::Notifier => "notifier",
            Role::Audit => "audit",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}
