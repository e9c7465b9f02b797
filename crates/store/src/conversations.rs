//! Chat conversations: what a user said to the assistant and what it
//! answered and did, kept per user so a conversation can be read again,
//! continued or deleted, and so an action awaiting the user's "yes" waits
//! with it. The store keeps the turns and the waiting action as JSON text
//! the assistant writes; the trait both backends implement and the SQL they
//! share.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::codec::ms;
use crate::row::RowAccess;

/// A conversation as listed: without its turns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationHead {
    pub id: String,
    /// The first message, shortened.
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub head: ConversationHead,
    /// The turns, a JSON array.
    pub turns: String,
    /// The action waiting for the user's confirmation, JSON.
    pub pending: Option<String>,
    /// Counts the saves: a save based on an older one is refused.
    pub version: i64,
}

#[async_trait]
pub trait Conversations: Send + Sync {
    /// The user's conversations, the most recently active first.
    async fn conversation_heads(&self, user_id: &str, limit: u32) -> Result<Vec<ConversationHead>>;
    async fn conversation(&self, user_id: &str, id: &str) -> Result<Option<Conversation>>;
    async fn insert_conversation(&self, user_id: &str, c: &Conversation) -> Result<()>;
    /// Store `c`, whose `version` is one more than the one it was read at:
    /// `false` when the conversation is gone or another save came first.
    async fn replace_conversation(&self, user_id: &str, c: &Conversation) -> Result<bool>;
    async fn delete_conversation(&self, user_id: &str, id: &str) -> Result<bool>;
}

pub(crate) const HEADS: &str = "SELECT id, title, created_at, updated_at FROM conversations \
     WHERE user_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2";
pub(crate) const GET: &str = "SELECT id, title, created_at, updated_at, turns, pending, version \
     FROM conversations WHERE id = $1 AND user_id = $2";
pub(crate) const INSERT: &str = "INSERT INTO conversations \
     (id, user_id, title, created_at, updated_at, turns, pending, version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(crate) const REPLACE: &str = "UPDATE conversations SET title = $3, updated_at = $5, \
     turns = $6, pending = $7, version = $8 WHERE id = $1 AND user_id = $2 AND version = $8 - 1";
pub(crate) const DELETE: &str = "DELETE FROM conversations WHERE id = $1 AND user_id = $2";

/// A row as [`HEADS`] reads it.
pub(crate) type RawHead = (String, String, i64, i64);
/// The rest of a row as [`GET`] reads it.
pub(crate) type RawBody = (String, Option<String>, i64);

/// Reads a row of [`HEADS`], or the head of a row of [`GET`].
pub(crate) fn raw_head<R: RowAccess>(row: &R) -> Result<RawHead, R::Error> {
    Ok((row.at(0)?, row.at(1)?, row.at(2)?, row.at(3)?))
}

/// Reads a row of [`GET`].
pub(crate) fn raw_conversation<R: RowAccess>(row: &R) -> Result<(RawHead, RawBody), R::Error> {
    Ok((raw_head(row)?, (row.at(4)?, row.at(5)?, row.at(6)?)))
}

pub(crate) fn decode_head(
    (id, title, created_at, updated_at): RawHead,
) -> Result<ConversationHead> {
    Ok(ConversationHead {
        id,
        title,
        created_at: ms(created_at)?,
        updated_at: ms(updated_at)?,
    })
}

pub(crate) fn decode(head: RawHead, (turns, pending, version): RawBody) -> Result<Conversation> {
    Ok(Conversation {
        head: decode_head(head)?,
        turns,
        pending,
        version,
    })
}
