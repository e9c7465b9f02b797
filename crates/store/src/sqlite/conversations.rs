//! SQLite side of chat conversations: the shared statements of
//! [`crate::conversations`], run on the writer or a reader connection.

use async_trait::async_trait;
use rusqlite::params;

use super::{SqliteStore, sql};
use crate::Result;
use crate::conversations::{
    Conversation, ConversationHead, Conversations, DELETE, GET, HEADS, INSERT, REPLACE, decode,
    decode_head, raw_conversation, raw_head,
};

#[async_trait]
impl Conversations for SqliteStore {
    async fn conversation_heads(&self, user_id: &str, limit: u32) -> Result<Vec<ConversationHead>> {
        let rows = self.read(|c| {
            let mut stmt = c.prepare_cached(&sql(HEADS))?;
            let rows = stmt.query_map(params![user_id, limit], |r| raw_head(r))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter().map(decode_head).collect()
    }

    async fn conversation(&self, user_id: &str, id: &str) -> Result<Option<Conversation>> {
        let row = self.read(|c| {
            let mut stmt = c.prepare_cached(&sql(GET))?;
            let mut rows = stmt.query_map([id, user_id], |r| raw_conversation(r))?;
            Ok(rows.next().transpose()?)
        })?;
        row.map(|(head, body)| decode(head, body)).transpose()
    }

    async fn insert_conversation(&self, user_id: &str, c: &Conversation) -> Result<()> {
        self.write_conversation(INSERT, user_id, c).await.map(drop)
    }

    async fn replace_conversation(&self, user_id: &str, c: &Conversation) -> Result<bool> {
        self.write_conversation(REPLACE, user_id, c).await
    }

    async fn delete_conversation(&self, user_id: &str, id: &str) -> Result<bool> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.write(move |tx| Ok(tx.prepare_cached(&sql(DELETE))?.execute([id, user_id])? == 1))
            .await
    }
}

impl SqliteStore {
    /// Run [`INSERT`] or [`REPLACE`] with a conversation's eight values.
    async fn write_conversation(
        &self,
        statement: &'static str,
        user_id: &str,
        c: &Conversation,
    ) -> Result<bool> {
        let (user_id, c) = (user_id.to_owned(), c.clone());
        self.write(move |tx| {
            let n = tx.prepare_cached(&sql(statement))?.execute(params![
                c.head.id,
                user_id,
                c.head.title,
                c.head.created_at.timestamp_millis(),
                c.head.updated_at.timestamp_millis(),
                c.turns,
                c.pending,
                c.version
            ])?;
            Ok(n == 1)
        })
        .await
    }
}
