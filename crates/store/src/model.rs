//! Records that storage hands back besides tasks: users, tokens, tag counts.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dueflow_domain::quickadd::DateOrder;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    /// Lower-case, unique.
    pub name: String,
    pub tz: Tz,
    pub created_at: DateTime<Utc>,
    /// The user's e-mail address, if any.
    pub email: Option<String>,
    /// Whether a secret mailed to `email` came back; only then does
    /// product mail go to it.
    pub email_verified: bool,
    /// How the user writes numeric dates: quick add reads them so.
    pub date_order: DateOrder,
}

/// Whom a live token authenticates, and until when (unix ms; `None`:
/// until revoked).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenOwner {
    /// The token's own id (what `revoke_token` takes).
    pub token_id: String,
    pub user: User,
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A personal API token, valid until revoked.
    Api,
    /// A web session from a login, valid until it expires.
    Session,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Session => "session",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "session" {
            TokenKind::Session
        } else {
            TokenKind::Api
        }
    }
}

/// A token as listed: never the secret, never its digest.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub kind: TokenKind,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagCount {
    pub name: String,
    /// Tasks carrying the tag.
    pub count: i64,
    /// Open tasks carrying the tag.
    pub open: i64,
    /// The colour its user gave it, `#rrggbb`.
    pub colour: Option<String>,
}

/// One message waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub seq: i64,
    /// The event id (consumers deduplicate on it).
    pub id: String,
    pub topic: String,
    pub partition_key: String,
    /// The CloudEvents JSON document.
    pub payload: String,
}

/// Filters for the activity log; results are newest first and strictly
/// before `before` (time in ms, id) when paging.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    pub task: Option<String>,
    /// Full CloudEvents type, e.g. `dueflow.task.completed.v1`.
    pub kind: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub before: Option<(i64, String)>,
    pub limit: u32,
}
