//! Opaque, prefixed identifiers (`tsk_…`, `usr_…`, `tok_…`). Time-ordered
//! (UUIDv7) so that they also serve as a stable tie-breaker when sorting.

use uuid::Uuid;

/// Kinds of identifier, each with its own prefix so an id says what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Task,
    Series,
    User,
    Token,
    Event,
    Reminder,
    Notification,
    Webhook,
    /// One webhook message (its `webhook-id`), stable across retries.
    Delivery,
    /// One e-mail address verification (and the mail carrying its secret).
    Verification,
    /// A saved view: a named query and sort.
    View,
    /// A chat conversation with the assistant.
    Conversation,
}

impl IdKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            IdKind::Task => "tsk_",
            IdKind::Series => "ser_",
            IdKind::User => "usr_",
            IdKind::Token => "tok_",
            IdKind::Event => "evt_",
            IdKind::Reminder => "rem_",
            IdKind::Notification => "ntf_",
            IdKind::Webhook => "whk_",
            IdKind::Delivery => "msg_",
            IdKind::Verification => "vfy_",
            IdKind::View => "viw_",
            IdKind::Conversation => "cnv_",
        }
    }
}

/// A new identifier of the given kind.
pub fn new_id(kind: IdKind) -> String {
    let mut s = String::with_capacity(36);
    s.push_str(kind.prefix());
    s.push_str(
        Uuid::now_v7()
            .simple()
            .encode_lower(&mut Uuid::encode_buffer()),
    );
    s
}

/// Whether `s` looks like an id of `kind` (cheap check before touching storage).
pub fn is_valid(kind: IdKind, s: &str) -> bool {
    s.strip_prefix(kind.prefix())
        .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_ordered() {
        let a = new_id(IdKind::Task);
        let b = new_id(IdKind::Task);
        assert!(is_valid(IdKind::Task, &a));
        assert!(!is_valid(IdKind::User, &a));
        assert!(a < b, "{a} !< {b}");
    }
}
