//! Chat: a conversation in plain language with the assistant. It acts only
//! through the [`tools`](crate::tools), as the user who writes, and keeps
//! each conversation for that user: the turns, and an action that waits
//! for the user's "yes" (deleting, or changing many tasks at once, is only
//! done on the next message's yes). The [`offline`] engine answers with
//! rules over the quick-add parser and needs no network; with a model
//! configured, the [`llm`] engine answers instead, and the offline one
//! whenever the model fails.

mod llm;
mod offline;

pub use llm::LlmConfig;

use chrono::{DateTime, Utc};
use dueflow_app::{App, AppError};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::trace::TraceParent;
use dueflow_store::{Conversation, ConversationHead, User};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::tools::Tools;
use llm::Llm;

/// Longest message, in characters.
pub const MESSAGE_MAX_CHARS: usize = 2_000;
/// Turns a conversation keeps; older ones give way.
const TURNS_KEPT: usize = 200;
/// Characters of the first message that name a conversation.
const TITLE_CHARS: usize = 80;
/// Saves of a turn tried when other messages of the conversation are saved
/// at the same time.
const SAVE_ATTEMPTS: usize = 4;

/// One tool call the assistant made for a message (its `result` is in the
/// answer to the message, not in the conversation as kept).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Action {
    pub tool: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub arguments: Map<String, Value>,
    /// What the tool answered, as the REST API would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub result: Option<Value>,
    /// Why the tool refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A message and what the assistant answered and did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Turn {
    pub at: DateTime<Utc>,
    pub message: String,
    pub reply: String,
    pub actions: Vec<Action>,
}

/// The answer to one message.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatAnswer {
    pub conversation_id: String,
    pub reply: String,
    pub actions: Vec<Action>,
}

/// Tool calls that wait for the user's yes, and how to ask for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// What will be done, as in "delete 'Groceries'".
    what: String,
    calls: Vec<(String, Map<String, Value>)>,
}

/// What an engine made of a message.
struct Outcome {
    reply: String,
    actions: Vec<Action>,
    pending: Option<Pending>,
}

/// The tool calls made for one message, in order, as the user who wrote it.
struct Calls<'a> {
    tools: &'a Tools,
    user: &'a User,
    /// The span of the request the message came in.
    trace: TraceParent,
    actions: Vec<Action>,
}

impl<'a> Calls<'a> {
    fn new(tools: &'a Tools, user: &'a User, trace: TraceParent) -> Self {
        Calls {
            tools,
            user,
            trace,
            actions: Vec::new(),
        }
    }

    /// Call `tool`, keeping the call and its answer among the actions.
    async fn call(&mut self, tool: &str, arguments: Value) -> Result<Value, String> {
        let arguments = arguments.as_object().cloned().unwrap_or_default();
        let answer = self
            .tools
            .call(self.user, self.trace, tool, arguments.clone())
            .await;
        let (result, error) = match &answer {
            Ok(v) => (Some(v.clone()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        self.actions.push(Action {
            tool: tool.to_owned(),
            arguments,
            result,
            error,
        });
        answer.map_err(|e| e.to_string())
    }
}

/// The assistant's side of chat, for one application.
#[derive(Clone)]
pub struct Chat {
    app: App,
    tools: Tools,
    llm: Option<Llm>,
}

impl Chat {
    /// Chat answered by the offline engine alone.
    pub fn offline(app: App) -> Chat {
        Chat {
            tools: Tools::new(app.clone()),
            llm: None,
            app,
        }
    }

    /// Chat answered by the model `llm` names (offline when it fails).
    pub fn with_model(app: App, llm: LlmConfig) -> Result<Chat, String> {
        Ok(Chat {
            llm: Some(Llm::new(llm)?),
            ..Chat::offline(app)
        })
    }

    /// Answer `message` in the conversation `conversation_id` (a new one
    /// when `None`), and keep the turn.
    pub async fn turn(
        &self,
        user: &User,
        trace: TraceParent,
        message: &str,
        conversation_id: Option<&str>,
    ) -> Result<ChatAnswer, AppError> {
        let message = message.trim();
        if message.is_empty() {
            return Err(AppError::invalid(
                "message",
                "say something: the message is empty",
            ));
        }
        if message.chars().count() > MESSAGE_MAX_CHARS {
            return Err(AppError::invalid(
                "message",
                format!("a message has at most {MESSAGE_MAX_CHARS} characters"),
            ));
        }
        let now = Utc::now();
        let mut conversation = match conversation_id {
            Some(id) => self.app.conversation(user, id).await?,
            None => Conversation {
                head: ConversationHead {
                    id: new_id(IdKind::Conversation),
                    title: message.chars().take(TITLE_CHARS).collect(),
                    created_at: now,
                    updated_at: now,
                },
                turns: "[]".into(),
                pending: None,
                version: 0,
            },
        };
        let history = turns_of(&conversation)?;
        let pending = conversation
            .pending
            .as_deref()
            .and_then(|p| serde_json::from_str::<Pending>(p).ok());
        // Only one message acts on a question: the one that takes it out of
        // the conversation first. Another yes sent at the same time finds
        // no question.
        let pending = match pending {
            Some(p) if offline::is_confirmation(message) => {
                let mut claimed = conversation.clone();
                claimed.pending = None;
                claimed.version += 1;
                claimed.head.updated_at = now;
                match self.app.save_conversation(user, &claimed).await {
                    Ok(()) => {
                        conversation = claimed;
                        Some(p)
                    }
                    Err(AppError::Conflict(_)) => None,
                    Err(e) => return Err(e),
                }
            }
            other => other,
        };
        let outcome = match &self.llm {
            // A yes or no to a question is the offline engine's to act on.
            Some(llm) if !(pending.is_some() && offline::is_confirmation(message)) => {
                match llm
                    .answer(&self.tools, user, trace, &history, message)
                    .await
                {
                    Ok(outcome) => outcome,
                    Err(why) => {
                        tracing::warn!(error = %why, "the assistant model failed; answering offline");
                        let mut o =
                            offline::answer(&self.tools, &self.app, user, trace, message, None)
                                .await;
                        o.reply = format!(
                            "(The assistant model did not answer: {why}. Answered without it.) {}",
                            o.reply
                        );
                        o
                    }
                }
            }
            _ => offline::answer(&self.tools, &self.app, user, trace, message, pending).await,
        };
        // A kept turn says what was done, not what the tools answered: the
        // tasks themselves hold that, and a summary's answer is many times
        // the size of the rest of the turn.
        let done = outcome.actions.iter().map(|a| Action {
            tool: a.tool.clone(),
            arguments: a.arguments.clone(),
            result: None,
            error: a.error.clone(),
        });
        let turn = Turn {
            at: now,
            message: message.to_owned(),
            reply: outcome.reply.clone(),
            actions: done.collect(),
        };
        let asks = outcome
            .pending
            .map(|p| serde_json::to_string(&p))
            .transpose()
            .map_err(|_| AppError::Internal)?;
        let conversation_id = self.keep(user, conversation, turn, asks).await?;
        Ok(ChatAnswer {
            conversation_id,
            reply: outcome.reply,
            actions: outcome.actions,
        })
    }

    /// Add `turn` to the conversation and save it. When another message of
    /// it was saved meanwhile, the turn goes after that one's rather than
    /// being lost (its tools have acted already). The question the turn
    /// asks, if any, waits for the next message; without one, a question
    /// found on the first try is cancelled, one a later message asked stays.
    async fn keep(
        &self,
        user: &User,
        mut c: Conversation,
        turn: Turn,
        asks: Option<String>,
    ) -> Result<String, AppError> {
        for attempt in 0..SAVE_ATTEMPTS {
            let mut turns = turns_of(&c)?;
            turns.push(turn.clone());
            let excess = turns.len().saturating_sub(TURNS_KEPT);
            turns.drain(..excess);
            c.turns = serde_json::to_string(&turns).map_err(|_| AppError::Internal)?;
            if attempt == 0 || asks.is_some() {
                c.pending.clone_from(&asks);
            }
            c.head.updated_at = turn.at;
            c.version += 1;
            match self.app.save_conversation(user, &c).await {
                Ok(()) => return Ok(c.head.id),
                Err(AppError::Conflict(_)) => c = self.app.conversation(user, &c.head.id).await?,
                Err(e) => return Err(e),
            }
        }
        Err(AppError::Conflict(
            "the conversation keeps changing under other messages; send this one again".into(),
        ))
    }

    /// A conversation of the user's with its turns, oldest first.
    pub async fn conversation(
        &self,
        user: &User,
        id: &str,
    ) -> Result<(ConversationHead, Vec<Turn>), AppError> {
        let c = self.app.conversation(user, id).await?;
        Ok((c.head.clone(), turns_of(&c)?))
    }
}

/// The turns a conversation keeps.
fn turns_of(c: &Conversation) -> Result<Vec<Turn>, AppError> {
    serde_json::from_str(&c.turns).map_err(|e| {
        tracing::error!(error = %e, conversation = %c.head.id, "unreadable turns");
        AppError::Internal
    })
}
