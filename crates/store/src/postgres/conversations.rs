//! PostgreSQL side of chat conversations: the shared statements of
//! [`crate::conversations`], run on the pool.

use async_trait::async_trait;

use super::PgStore;
use crate::Result;
use crate::conversations::{
    Conversation, ConversationHead, Conversations, DELETE, GET, HEADS, INSERT, REPLACE, decode,
    decode_head, raw_conversation, raw_head,
};

#[async_trait]
impl Conversations for PgStore {
    async fn conversation_heads(&self, user_id: &str, limit: u32) -> Result<Vec<ConversationHead>> {
        let rows = sqlx::query(HEADS)
            .bind(user_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| decode_head(raw_head(r)?)).collect()
    }

    async fn conversation(&self, user_id: &str, id: &str) -> Result<Option<Conversation>> {
        let row = sqlx::query(GET)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let (head, body) = raw_conversation(&r)?;
            decode(head, body)
        })
        .transpose()
    }

    async fn insert_conversation(&self, user_id: &str, c: &Conversation) -> Result<()> {
        self.write_conversation(INSERT, user_id, c).await.map(drop)
    }

    async fn replace_conversation(&self, user_id: &str, c: &Conversation) -> Result<bool> {
        self.write_conversation(REPLACE, user_id, c).await
    }

    async fn delete_conversation(&self, user_id: &str, id: &str) -> Result<bool> {
        let n = sqlx::query(DELETE)
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(n.rows_affected() == 1)
    }
}

impl PgStore {
    /// Run [`INSERT`] or [`REPLACE`] with a conversation's eight values.
    async fn write_conversation(
        &self,
        statement: &'static str,
        user_id: &str,
        c: &Conversation,
    ) -> Result<bool> {
        let n = sqlx::query(statement)
            .bind(&c.head.id)
            .bind(user_id)
            .bind(&c.head.title)
            .bind(c.head.created_at.timestamp_millis())
            .bind(c.head.updated_at.timestamp_millis())
            .bind(&c.turns)
            .bind(&c.pending)
            .bind(c.version)
            .execute(&self.pool)
            .await?;
        Ok(n.rows_affected() == 1)
    }
}
