//! The roles one process can run. `dueflow serve` runs all of them by
//! default; with the Kafka bus each can run as its own process.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// REST API, and the outbox relay that publishes what it writes.
    Api,
    /// Writes every event into the activity log.
    Audit,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Api, Role::Audit];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Audit => "audit",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}
