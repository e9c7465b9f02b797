//! `/api/v1/chat`: the assistant in plain language, acting as the caller
//! through the same tools an AI client gets over MCP, and the caller's
//! conversations with it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dueflow_assistant::chat::{ChatAnswer, Turn};
use dueflow_store::ConversationHead;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::json::Json;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::trace::RequestTrace;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// What the user says, 1–2000 characters: "what's due this week?",
    /// "move the dentist to friday", "yes".
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    message: String,
    /// The conversation to continue (a confirmation is answered in the
    /// conversation that asked for it); a new one when left out.
    conversation_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationSummary {
    id: String,
    /// The conversation's first message, shortened.
    title: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ConversationHead> for ConversationSummary {
    fn from(h: ConversationHead) -> Self {
        ConversationSummary {
            id: h.id,
            title: h.title,
            created_at: h.created_at,
            updated_at: h.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConversationDetail {
    #[serde(flatten)]
    head: ConversationSummary,
    /// Oldest first.
    turns: Vec<Turn>,
}

#[utoipa::path(post, path = "/api/v1/chat", tag = "assistant", operation_id = "chat",
    request_body = ChatMessage,
    responses((status = 200, body = ChatAnswer, description = "the reply, and the tool calls made for it"),
        (status = 400, description = "the message is empty or too long"),
        (status = 404, description = "no such conversation"),
        (status = 409, description = "the conversation kept changing under other messages and this turn could not be kept; send it again")),
    security(("bearer" = [])))]
pub async fn chat(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Json(b): Json<ChatMessage>,
) -> Result<axum::Json<ChatAnswer>, ApiError> {
    Ok(axum::Json(
        state
            .chat
            .turn(&user, trace, &b.message, b.conversation_id.as_deref())
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/chat/conversations", tag = "assistant",
    operation_id = "list_conversations",
    responses((status = 200, body = Vec<ConversationSummary>, description = "the 100 most recently active, newest first")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<axum::Json<Vec<ConversationSummary>>, ApiError> {
    let heads = state.app.conversations(&user).await?;
    Ok(axum::Json(heads.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/chat/conversations/{id}", tag = "assistant",
    operation_id = "get_conversation",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationDetail), (status = 404, description = "no such conversation")),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<ConversationDetail>, ApiError> {
    let (head, turns) = state.chat.conversation(&user, &id).await?;
    Ok(axum::Json(ConversationDetail {
        head: head.into(),
        turns,
    }))
}

#[utoipa::path(delete, path = "/api/v1/chat/conversations/{id}", tag = "assistant",
    operation_id = "delete_conversation",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such conversation")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_conversation(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
