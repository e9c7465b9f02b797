//! The assistant's tools: ordinary task operations of one user, each with
//! a name, a description a model can act on and a JSON Schema of its
//! arguments. They go through the application layer like every other door
//! (same validation, events and activity log). The acting user is always
//! the caller, never an argument: another user's task looks missing.

pub mod args;

use std::sync::{Arc, LazyLock};

use dueflow_app::{App, AppError, Expected, SnoozeFor, TaskListing};
use dueflow_domain::task::{NewTask, TaskPatch};
use dueflow_domain::trace::TraceParent;
use dueflow_store::User;
use rmcp::handler::server::tool::schema_for_input;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use args::{
    AddTask, ListTasks, NoArguments, QuickAdd, SearchTasks, SetReminder, SnoozeReminder, StatusArg,
    TaskId, UpdateTask,
};

/// Tasks a list or search returns when the model does not say, and at most.
const PAGE_DEFAULT: u32 = 20;
const PAGE_MAX: u32 = 100;

/// Why a tool call did nothing, in words a model (or a person) can act on.
#[derive(Debug)]
pub enum ToolError {
    /// No tool has this name.
    Unknown(String),
    /// The arguments or the operation were refused; the text says why.
    Refused(String),
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::Unknown(name) => write!(
                f,
                "there is no tool named '{name}'; the tools are {}",
                catalogue()
                    .iter()
                    .map(|t| t.name.as_ref())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ToolError::Refused(why) => f.write_str(why),
        }
    }
}

impl From<AppError> for ToolError {
    fn from(e: AppError) -> Self {
        ToolError::Refused(match e {
            AppError::NotFound => {
                "no such task: check its id (list_tasks and search_tasks show the ids)".into()
            }
            other => other.detail(),
        })
    }
}

/// What the model may read before calling a tool.
struct Entry {
    name: &'static str,
    description: &'static str,
    schema: fn() -> Arc<JsonObject>,
    /// Reads only (no change to any task).
    reads: bool,
    /// Removes something that cannot be brought back.
    destroys: bool,
}

/// The JSON Schema of a tool's arguments, as MCP wants it (draft 2020-12).
fn schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_input::<T>().unwrap_or_else(|e| panic!("a tool's arguments have no schema: {e}"))
}

const ENTRIES: &[Entry] = &[
    Entry {
        name: "add_task",
        description: "Create a task from separate fields. When you have the user's own words \
            ('call mom friday 5pm #family'), prefer quick_add, which reads dates, repeats, tags, \
            priorities and reminders in the user's zone. Returns the task.",
        schema: schema::<AddTask>,
        reads: false,
        destroys: false,
    },
    Entry {
        name: "quick_add",
        description: "Create a task from one line of plain English as a person types it: \
            'pay rent every month on the 1st at 9am #bills !high remind me 1 day before'. \
            Dates and times are read in the user's zone; words it does not understand stay \
            in the title. Returns the task and the phrases it read.",
        schema: schema::<QuickAdd>,
        reads: false,
        destroys: false,
    },
    Entry {
        name: "list_tasks",
        description: "List the user's tasks, soonest due first: open ones unless status says \
            otherwise, optionally with one tag. Returns items and, when more exist, a \
            next_cursor to pass back for the next page.",
        schema: schema::<ListTasks>,
        reads: true,
        destroys: false,
    },
    Entry {
        name: "search_tasks",
        description: "Find tasks with dueflow's query language (words and filters such as \
            tag:work priority>=high due<=7d overdue). Use it to find a task's id from its \
            name before changing it. Returns items and next_cursor.",
        schema: schema::<SearchTasks>,
        reads: true,
        destroys: false,
    },
    Entry {
        name: "get_task",
        description: "Read one task by id, with its version, reminders and recurrence.",
        schema: schema::<TaskId>,
        reads: true,
        destroys: false,
    },
    Entry {
        name: "update_task",
        description: "Change a task's title, notes, due, priority, tags, repeat or reminders; \
            fields left out stay as they are, null removes due or rrule. Returns the task.",
        schema: schema::<UpdateTask>,
        reads: false,
        destroys: false,
    },
    Entry {
        name: "complete_task",
        description: "Mark a task done. A repeating task's next occurrence is created. \
            Returns the task.",
        schema: schema::<TaskId>,
        reads: false,
        destroys: false,
    },
    Entry {
        name: "reopen_task",
        description: "Mark a done task open again. Returns the task.",
        schema: schema::<TaskId>,
        reads: false,
        destroys: false,
    },
    Entry {
        name: "delete_task",
        description: "Delete a task for good. Confirm with the user first.",
        schema: schema::<TaskId>,
        reads: false,
        destroys: true,
    },
    Entry {
        name: "set_reminder",
        description: "Add a reminder to a task, kept with its others: `before` its due (an \
            ISO 8601 duration such as PT30M or P1D) or `at` an instant (RFC 3339). \
            Returns the task.",
        schema: schema::<SetReminder>,
        reads: false,
        destroys: false,
    },
    Entry {
        name: "snooze_reminder",
        description: "Snooze a task's reminder: the one that fired last, or else the next one \
            to fire, `for` a while (PT10M, PT1H, P1D) or `until` an instant (RFC 3339). \
            Returns the reminder with its new fire_at.",
        schema: schema::<SnoozeReminder>,
        reads: false,
        destroys: false,
    },
    Entry {
        name: "list_tags",
        description: "The user's tags with how many tasks, and how many open ones, carry each.",
        schema: schema::<NoArguments>,
        reads: true,
        destroys: false,
    },
];

/// Every tool, as MCP describes one (and chat models read their functions).
pub fn catalogue() -> &'static [Tool] {
    static TOOLS: LazyLock<Vec<Tool>> = LazyLock::new(|| {
        ENTRIES
            .iter()
            .map(|e| {
                Tool::new(e.name, e.description, (e.schema)()).annotate(
                    ToolAnnotations::new()
                        .read_only(e.reads)
                        .destructive(e.destroys)
                        .open_world(false),
                )
            })
            .collect()
    });
    &TOOLS
}

fn read<T: DeserializeOwned>(args: Map<String, Value>) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(args))
        .map_err(|e| ToolError::Refused(format!("the arguments do not fit the tool's schema: {e}")))
}

/// A body in the API's own shape, read as the API reads it.
fn as_api<T: DeserializeOwned>(body: Value) -> Result<T, ToolError> {
    serde_json::from_value(body).map_err(|e| ToolError::Refused(e.to_string()))
}

fn recurrence(rrule: Option<String>) -> Value {
    rrule.map_or(Value::Null, |r| json!({ "rrule": r }))
}

fn page_size(limit: Option<u32>) -> Result<u32, ToolError> {
    match limit.unwrap_or(PAGE_DEFAULT) {
        n @ 1..=PAGE_MAX => Ok(n),
        _ => Err(ToolError::Refused(format!(
            "limit: between 1 and {PAGE_MAX}"
        ))),
    }
}

/// The task operations a model may call, for one application.
#[derive(Clone)]
pub struct Tools {
    app: App,
}

impl Tools {
    pub fn new(app: App) -> Tools {
        Tools { app }
    }

    /// Call the tool `name` as `user`, within the span `trace` of the
    /// request that asked, with the model's arguments; the answer is JSON,
    /// as the REST API would give it.
    pub async fn call(
        &self,
        user: &User,
        trace: TraceParent,
        name: &str,
        args: Map<String, Value>,
    ) -> Result<Value, ToolError> {
        let app = &self.app;
        let task = |t| serde_json::to_value(t).unwrap_or_default();
        Ok(match name {
            "add_task" => {
                let a: AddTask = read(args)?;
                let new: NewTask = as_api(json!({
                    "title": a.title,
                    "due": a.due,
                    "priority": a.priority,
                    "tags": a.tags,
                    "notes": a.notes,
                    "recurrence": recurrence(a.rrule),
                    "reminders": a.reminders,
                }))?;
                task(app.create_task(user, new, trace).await?)
            }
            "quick_add" => {
                let a: QuickAdd = read(args)?;
                let parsed = app.parse_quick_add(user, &a.text, None, None)?;
                let spans = serde_json::to_value(&parsed.spans).unwrap_or_default();
                let created = app.quick_add(user, &a.text, trace).await?;
                json!({ "task": task(created), "read": spans })
            }
            "list_tasks" => {
                let a: ListTasks = read(args)?;
                let mut q = match a.status {
                    StatusArg::Open => "status:open".to_owned(),
                    StatusArg::Done => "status:done".to_owned(),
                    StatusArg::All => String::new(),
                };
                if let Some(tag) = a.tag {
                    q.push_str(&format!(" tag:\"{}\"", tag.replace('"', "")));
                }
                self.page(user, q, "due".into(), a.limit, a.cursor).await?
            }
            "search_tasks" => {
                let a: SearchTasks = read(args)?;
                self.page(user, a.query, a.sort.unwrap_or_default(), a.limit, a.cursor)
                    .await?
            }
            "get_task" => task(app.task(user, &read::<TaskId>(args)?.id).await?),
            "update_task" => {
                let a: UpdateTask = read(args)?;
                let mut body = Map::new();
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        body.insert(k.into(), v);
                    }
                };
                put("title", a.title.map(Value::from));
                put("notes", a.notes.map(Value::from));
                put("due", a.due.map(|d| json!(d)));
                put("priority", a.priority.map(|p| json!(p)));
                put("tags", a.tags.map(|t| json!(t)));
                put("recurrence", a.rrule.map(recurrence));
                put("reminders", a.reminders.map(|r| json!(r)));
                let patch: TaskPatch = as_api(Value::Object(body))?;
                let expected = a.version.map(Expected);
                task(app.update_task(user, &a.id, patch, expected, trace).await?)
            }
            "complete_task" => task(
                app.complete_task(user, &read::<TaskId>(args)?.id, trace)
                    .await?,
            ),
            "reopen_task" => task(
                app.reopen_task(user, &read::<TaskId>(args)?.id, trace)
                    .await?,
            ),
            "delete_task" => {
                let id = read::<TaskId>(args)?.id;
                app.delete_task(user, &id, trace).await?;
                json!({ "deleted": id })
            }
            "set_reminder" => {
                let a: SetReminder = read(args)?;
                let reminder = match (a.before, a.at) {
                    (Some(before), None) => json!({ "before": before }),
                    (None, Some(at)) => json!({ "at": at }),
                    _ => {
                        return Err(ToolError::Refused(
                            "give exactly one of before (PT30M) and at (an RFC 3339 instant)"
                                .into(),
                        ));
                    }
                };
                let current = app.task(user, &a.id).await?;
                let mut reminders = serde_json::to_value(&current.reminders)
                    .ok()
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default();
                reminders.push(reminder);
                let patch: TaskPatch = as_api(json!({ "reminders": reminders }))?;
                let expected = Some(Expected(current.version));
                task(app.update_task(user, &a.id, patch, expected, trace).await?)
            }
            "snooze_reminder" => {
                let a: SnoozeReminder = read(args)?;
                let snooze = match (a.for_, a.until) {
                    (Some(d), None) => SnoozeFor::For(d),
                    (None, Some(t)) => SnoozeFor::Until(t),
                    _ => {
                        return Err(ToolError::Refused(
                            "give exactly one of for (PT10M) and until (an RFC 3339 instant)"
                                .into(),
                        ));
                    }
                };
                app.task(user, &a.id).await?;
                let task = Some(a.id.clone());
                let fired = app
                    .reminders(user, task.clone(), Some("fired"), Some(200))
                    .await?;
                let target = match fired.last() {
                    Some(r) => r.clone(),
                    None => app
                        .reminders(user, task, Some("pending"), Some(1))
                        .await?
                        .into_iter()
                        .next()
                        .ok_or_else(|| {
                            ToolError::Refused(
                                "the task has no reminder to snooze; add one with set_reminder"
                                    .into(),
                            )
                        })?,
                };
                json!(app.snooze_reminder(user, &target.id, &snooze).await?)
            }
            "list_tags" => {
                read::<NoArguments>(args)?;
                json!({ "tags": app.tags(user).await? })
            }
            other => return Err(ToolError::Unknown(other.to_owned())),
        })
    }

    async fn page(
        &self,
        user: &User,
        q: String,
        sort: String,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<Value, ToolError> {
        let listing = TaskListing {
            q,
            sort,
            limit: Some(page_size(limit)?),
            cursor,
        };
        let page = self.app.list_tasks(user, &listing).await?;
        Ok(json!({ "items": page.items, "next_cursor": page.next_cursor }))
    }
}
