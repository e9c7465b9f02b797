//! Chat conversations, kept for their user: read, listed, saved after each
//! turn and deleted. What a turn holds is the assistant's business; here a
//! conversation is found only by its owner (another's looks missing) and a
//! save based on an older version is refused rather than losing a turn.

use dueflow_domain::ids::{IdKind, is_valid};
use dueflow_store::{Conversation, ConversationHead, User};

use crate::{App, AppError};

/// Conversations a list shows, the most recently active first.
const LISTED: u32 = 100;

impl App {
    pub async fn conversations(&self, user: &User) -> Result<Vec<ConversationHead>, AppError> {
        Ok(self.store.conversation_heads(&user.id, LISTED).await?)
    }

    pub async fn conversation(&self, user: &User, id: &str) -> Result<Conversation, AppError> {
        if !is_valid(IdKind::Conversation, id) {
            return Err(AppError::NotFound);
        }
        self.store
            .conversation(&user.id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Store a conversation after a turn: a new one (version 1) is
    /// inserted, a known one replaced if nobody saved it meanwhile.
    pub async fn save_conversation(&self, user: &User, c: &Conversation) -> Result<(), AppError> {
        if c.version == 1 {
            return Ok(self.store.insert_conversation(&user.id, c).await?);
        }
        if self.store.replace_conversation(&user.id, c).await? {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "the conversation changed meanwhile (another message was answered first); \
                 send this message again"
                    .into(),
            ))
        }
    }

    pub async fn delete_conversation(&self, user: &User, id: &str) -> Result<(), AppError> {
        if is_valid(IdKind::Conversation, id)
            && self.store.delete_conversation(&user.id, id).await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
