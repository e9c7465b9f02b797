//! The model engine: any OpenAI-compatible Chat Completions API with tool
//! calling (OpenAI, Gemini's OpenAI-compatible endpoint, Ollama, vLLM). The
//! model sees the tools' own descriptions and schemas and acts only through
//! them; the loop of tool calls is bounded, each request has a timeout, and
//! a failure of the model or the network is returned for the caller to
//! answer offline. A destructive call, or several changes in one step,
//! waits for the user's yes instead of running.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::Utc;
use dueflow_domain::trace::TraceParent;
use dueflow_store::User;
use serde_json::{Map, Value, json};

use super::{Calls, Outcome, Pending, Turn};
use crate::tools::{Tools, catalogue};

/// Requests to the model for one message, at most.
const MAX_ROUNDS: usize = 6;
/// Earlier turns the model is shown.
const HISTORY_TURNS: usize = 10;

/// Where the model is. No `Debug` of the key.
#[derive(Clone)]
pub struct LlmConfig {
    /// The API's base URL, before `/chat/completions`
    /// (`https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`).
    pub url: String,
    pub model: String,
    /// Sent as a bearer token; none for a local server that wants none.
    pub api_key: Option<String>,
    /// How long one request to the model may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Clone)]
pub(super) struct Llm {
    http: reqwest::Client,
    config: LlmConfig,
}

fn system_prompt(user: &User) -> String {
    let now = Utc::now().with_timezone(&user.tz);
    format!(
        "You are the assistant of dueflow, the user's task list. Act only through the tools. \
         Find a task's id with search_tasks or list_tasks before changing it. Add tasks from the \
         user's own words with quick_add. Dates and times are in the user's zone, {}; it is now \
         {}. Answer briefly, in plain text, and say what you did.",
        user.tz.name(),
        now.format("%A %Y-%m-%d %H:%M")
    )
}

/// The tools as Chat Completions functions, made once.
fn functions() -> &'static Value {
    static FUNCTIONS: LazyLock<Value> = LazyLock::new(|| {
        catalogue()
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.input_schema.as_ref(),
                    }
                })
            })
            .collect()
    });
    &FUNCTIONS
}

/// Whether the tool `name` changes tasks, and whether it destroys: a name
/// no tool has changes nothing (the call is answered with the error).
fn effect(name: &str) -> (bool, bool) {
    catalogue()
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| t.annotations.as_ref())
        .map_or((false, false), |a| {
            (
                !a.read_only_hint.unwrap_or(false),
                a.destructive_hint.unwrap_or(false),
            )
        })
}

/// One tool call the model asked for.
struct Asked {
    id: String,
    name: String,
    /// The arguments, or why they do not parse.
    arguments: Result<Map<String, Value>, String>,
}

fn asked(message: &Value) -> Vec<Asked> {
    message["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let raw = c["function"]["arguments"].as_str().unwrap_or("{}");
            let arguments =
                match serde_json::from_str::<Value>(if raw.trim().is_empty() { "{}" } else { raw })
                {
                    Ok(Value::Object(m)) => Ok(m),
                    Ok(_) => Err("the arguments must be a JSON object".to_owned()),
                    Err(e) => Err(format!("the arguments are not JSON: {e}")),
                };
            Asked {
                id: c["id"].as_str().unwrap_or("").to_owned(),
                name: c["function"]["name"].as_str().unwrap_or("").to_owned(),
                arguments,
            }
        })
        .collect()
}

impl Llm {
    pub(super) fn new(config: LlmConfig) -> Result<Llm, String> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| format!("cannot set up HTTP for the assistant model: {e}"))?;
        Ok(Llm { http, config })
    }

    /// One completion: the model's next message.
    async fn complete(&self, messages: &[Value]) -> Result<Value, String> {
        let url = format!("{}/chat/completions", self.config.url.trim_end_matches('/'));
        let mut req = self.http.post(&url).json(&json!({
            "model": self.config.model,
            "messages": messages,
            "tools": functions(),
            "tool_choice": "auto",
        }));
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} s", self.config.timeout.as_secs())
            } else {
                "it cannot be reached".to_owned()
            }
        })?;
        let status = res.status();
        if !status.is_success() {
            return Err(format!("it answered {status}"));
        }
        let body: Value = res
            .json()
            .await
            .map_err(|_| "its answer is not JSON".to_owned())?;
        body["choices"][0]["message"]
            .as_object()
            .map(|m| Value::Object(m.clone()))
            .ok_or_else(|| "its answer has no message".to_owned())
    }

    /// Answer `message` after `history`; `Err` says why the model failed.
    pub(super) async fn answer(
        &self,
        tools: &Tools,
        user: &User,
        trace: TraceParent,
        history: &[Turn],
        message: &str,
    ) -> Result<Outcome, String> {
        let mut messages = vec![json!({ "role": "system", "content": system_prompt(user) })];
        let from = history.len().saturating_sub(HISTORY_TURNS);
        for t in &history[from..] {
            messages.push(json!({ "role": "user", "content": t.message }));
            messages.push(json!({ "role": "assistant", "content": t.reply }));
        }
        messages.push(json!({ "role": "user", "content": message }));
        let mut calls = Calls::new(tools, user, trace);
        for _ in 0..MAX_ROUNDS {
            let reply = match self.complete(&messages).await {
                Ok(reply) => reply,
                // What was done stays done and is said; the message is not
                // answered again offline, which would do it twice.
                Err(why) if !calls.actions.is_empty() => {
                    return Ok(Outcome {
                        reply: format!(
                            "The assistant model stopped answering ({why}) after {} steps; \
                             they are listed here. Say what is left.",
                            calls.actions.len()
                        ),
                        actions: calls.actions,
                        pending: None,
                    });
                }
                Err(why) => return Err(why),
            };
            let wanted = asked(&reply);
            if wanted.is_empty() {
                let text = reply["content"].as_str().unwrap_or("").trim().to_owned();
                return Ok(Outcome {
                    reply: if text.is_empty() {
                        "Done.".into()
                    } else {
                        text
                    },
                    actions: calls.actions,
                    pending: None,
                });
            }
            let changes: Vec<&Asked> = wanted.iter().filter(|a| effect(&a.name).0).collect();
            if changes.iter().any(|a| effect(&a.name).1) || changes.len() > 1 {
                let pending = self.ask(tools, user, trace, &changes).await;
                return Ok(Outcome {
                    reply: format!(
                        "Shall I {}? Say yes to go ahead; anything else cancels.",
                        pending.what
                    ),
                    actions: calls.actions,
                    pending: Some(pending),
                });
            }
            messages.push(reply);
            for a in wanted {
                let content = match a.arguments {
                    Ok(args) => match calls.call(&a.name, Value::Object(args)).await {
                        Ok(v) => v.to_string(),
                        Err(e) => format!("error: {e}"),
                    },
                    Err(e) => format!("error: {e}"),
                };
                messages.push(json!({ "role": "tool", "tool_call_id": a.id, "content": content }));
            }
        }
        Ok(Outcome {
            reply: format!(
                "I stopped after {MAX_ROUNDS} steps without finishing; {} were done. Say what is left.",
                calls.actions.len()
            ),
            actions: calls.actions,
            pending: None,
        })
    }

    /// The question before the changes `changes`: each named by its task's
    /// title where it names a task.
    async fn ask(
        &self,
        tools: &Tools,
        user: &User,
        trace: TraceParent,
        changes: &[&Asked],
    ) -> Pending {
        let mut what = Vec::new();
        let mut kept = Vec::new();
        for a in changes {
            let Ok(args) = &a.arguments else { continue };
            let title = match args.get("id") {
                Some(id) => {
                    let mut get = Map::new();
                    get.insert("id".into(), id.clone());
                    tools
                        .call(user, trace, "get_task", get)
                        .await
                        .ok()
                        .and_then(|t| t["title"].as_str().map(|s| format!(" \"{s}\"")))
                        .unwrap_or_default()
                }
                None => ["title", "text"]
                    .iter()
                    .find_map(|k| args.get(*k).and_then(Value::as_str))
                    .map(|s| format!(" \"{s}\""))
                    .unwrap_or_default(),
            };
            what.push(format!(
                "{}{title}",
                a.name.replace('_', " ").replace(" task", "")
            ));
            kept.push((a.name.clone(), args.clone()));
        }
        Pending {
            what: what.join(", "),
            calls: kept,
        }
    }
}
