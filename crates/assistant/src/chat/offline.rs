//! The offline engine: the common things people say to a task list, read
//! by rules over the quick-add parser, with no model and no network.
//!
//! - add: "add call mom friday 5pm #family", "remind me to pay rent on the 1st"
//! - summaries: "what's due this week?", "what's overdue", "show #work"
//! - find: "find dentist"
//! - complete and reopen: "done with groceries", "reopen groceries"
//! - move: "move the dentist to friday", "postpone taxes until next month"
//! - priority: "make taxes urgent"
//! - remind: "remind me about the dentist 1 day before"
//! - snooze: "snooze the dentist for 1 hour", "… until tomorrow 9am"
//! - delete: "delete the old groceries task", "delete all done tasks"
//!
//! A task is named by words of its title; when several match, the engine
//! asks which. Deleting, and changing many tasks at once, wait for "yes".

use dueflow_app::App;
use dueflow_domain::due::Due;
use dueflow_domain::reminder::Reminder;
use dueflow_domain::trace::TraceParent;
use dueflow_store::User;
use serde_json::{Map, Value, json};

use super::{Calls, Outcome, Pending};
use crate::tools::Tools;

/// Tasks a summary lists, and a bulk change touches, at most.
const LISTED: u32 = 20;
const BULK_MAX: u32 = 100;

const HELP: &str = "I can add, list, find, complete, reopen, move, prioritise and delete your \
    tasks. Try: \"add call mom friday 5pm #family\", \"what's due this week?\", \"find dentist\", \
    \"done with groceries\", \"move the dentist to friday\", \"make taxes urgent\", \
    \"remind me about the dentist 1 day before\", \"snooze the dentist for 1 hour\" or \
    \"delete the old groceries task\".";

/// Words that name no task ("delete *the old* groceries *task*").
const FILLER: &[&str] = &[
    "the", "a", "an", "my", "our", "task", "tasks", "todo", "to-do", "item", "old", "that", "this",
    "please", "one",
];

impl Calls<'_> {
    /// The tasks `query` finds, at most `limit`.
    async fn find(&mut self, query: &str, limit: u32) -> Result<Vec<Value>, String> {
        let page = self
            .call("search_tasks", json!({ "query": query, "limit": limit }))
            .await?;
        Ok(items(page))
    }

    /// The one task `name` (words of its title) means among `status`
    /// (a filter such as `status:open`, or empty), or the reply to give.
    async fn one(&mut self, name: &str, status: &str) -> Result<Value, String> {
        let words = title_words(name);
        if words.is_empty() {
            return Err("Which task? Say some words of its title.".into());
        }
        let found = self
            .find(&format!("{} {status}", words.join(" ")), 10)
            .await?;
        let exact: Vec<Value> = found
            .iter()
            .filter(|t| {
                t["title"]
                    .as_str()
                    .unwrap_or("")
                    .eq_ignore_ascii_case(name.trim())
            })
            .cloned()
            .collect();
        match (found.as_slice(), exact.as_slice()) {
            ([], _) => Err(format!(
                "I found no {}task matching \"{}\".",
                status_word(status),
                name.trim()
            )),
            ([one], _) | (_, [one]) => Ok(one.clone()),
            (many, _) => Err(format!(
                "Several tasks match \"{}\": {}. Which one? Say more of its title.",
                name.trim(),
                many.iter().map(describe).collect::<Vec<_>>().join("; ")
            )),
        }
    }
}

/// The tasks of a page a list or search answered, taken out of it.
fn items(page: Value) -> Vec<Value> {
    match page {
        Value::Object(mut m) => match m.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn status_word(status: &str) -> &'static str {
    match status {
        "status:open" => "open ",
        "status:done" => "done ",
        _ => "",
    }
}

/// The words of `name` that can be in a title, lower case, without filler
/// words or the query language's signs.
fn title_words(name: &str) -> Vec<String> {
    name.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty() && !FILLER.contains(&w.as_str()) && w != "or" && w != "and")
        .collect()
}

/// A task as a reply names it: "Dentist" (due 2027-03-05 10:00, high).
fn describe(t: &Value) -> String {
    let mut about = Vec::new();
    if let Some(due) = t["due"].as_str() {
        about.push(format!(
            "due {}",
            due.get(..16).unwrap_or(due).replace('T', " ")
        ));
    }
    if let Some(p) = t["priority"].as_str().filter(|p| *p != "none") {
        about.push(p.to_owned());
    }
    if t["status"] == "done" {
        about.push("done".into());
    }
    let title = t["title"].as_str().unwrap_or("");
    if about.is_empty() {
        format!("\"{title}\"")
    } else {
        format!("\"{title}\" ({})", about.join(", "))
    }
}

/// `text` after the first of `prefixes` it starts with (ignoring ASCII
/// case), where the prefix ends a word.
fn after<'t>(text: &'t str, prefixes: &[&str]) -> Option<&'t str> {
    prefixes.iter().find_map(|p| {
        let head = text.get(..p.len())?;
        let rest = &text[p.len()..];
        (head.eq_ignore_ascii_case(p) && (rest.is_empty() || rest.starts_with(' ')))
            .then(|| rest.trim())
    })
}

/// `text` less the first of `suffixes` it ends with (ignoring ASCII case).
fn before<'t>(text: &'t str, suffixes: &[&str]) -> &'t str {
    suffixes
        .iter()
        .find_map(|s| {
            let cut = text.len().checked_sub(s.len())?;
            let tail = text.get(cut..)?;
            tail.eq_ignore_ascii_case(s).then(|| text[..cut].trim())
        })
        .unwrap_or(text)
}

/// The last `word` in `text` splitting it in two non-empty halves.
fn split_last<'t>(text: &'t str, words: &[&str]) -> Option<(&'t str, &'t str)> {
    let lower = text.to_ascii_lowercase();
    words
        .iter()
        .filter_map(|w| {
            let needle = format!(" {w} ");
            lower.rfind(&needle).map(|i| (i, needle.len()))
        })
        .max_by_key(|(i, _)| *i)
        .map(|(i, n)| (text[..i].trim(), text[i + n..].trim()))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
}

/// Whether `text` answers a question: yes or no.
pub(super) fn is_confirmation(text: &str) -> bool {
    is_yes(text) || is_no(text)
}

fn is_yes(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase()
            .trim_end_matches(['.', '!'])
            .trim(),
        "yes"
            | "y"
            | "yes please"
            | "yes, please"
            | "yep"
            | "sure"
            | "ok"
            | "okay"
            | "confirm"
            | "do it"
            | "go ahead"
    )
}

fn is_no(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase()
            .trim_end_matches(['.', '!'])
            .trim(),
        "no" | "n" | "nope" | "cancel" | "stop" | "don't" | "never mind"
    )
}

/// A priority named in words ("urgent", "high priority", "!high").
fn priority_word(text: &str) -> Option<&'static str> {
    let t = before(text.trim().trim_start_matches('!'), &[" priority"]).to_ascii_lowercase();
    ["none", "low", "medium", "high", "urgent"]
        .into_iter()
        .find(|p| *p == t)
}

/// Answer `message`; `pending` is what waited for a yes.
pub(super) async fn answer(
    tools: &Tools,
    app: &App,
    user: &User,
    trace: TraceParent,
    message: &str,
    pending: Option<Pending>,
) -> Outcome {
    let mut turn = Calls::new(tools, user, trace);
    let text = message.trim().trim_end_matches(['?', '.', '!']).trim();
    let mut pending_out = None;
    let reply = if let Some(p) = pending.filter(|_| is_yes(text) || is_no(text)) {
        if is_yes(text) {
            confirmed(&mut turn, p).await
        } else {
            format!("All right, I did not {}. Nothing changed.", p.what)
        }
    } else {
        match act(&mut turn, app, text).await {
            Ok(Said::Done(reply)) => reply,
            Ok(Said::Ask(p)) => {
                let reply = format!(
                    "Shall I {}? Say yes to go ahead; anything else cancels.",
                    p.what
                );
                pending_out = Some(p);
                reply
            }
            Err(reply) => reply,
        }
    };
    Outcome {
        reply,
        actions: turn.actions,
        pending: pending_out,
    }
}

/// What a message came to: a reply, or a question before acting.
enum Said {
    Done(String),
    Ask(Pending),
}

async fn confirmed(turn: &mut Calls<'_>, p: Pending) -> String {
    let mut failed = Vec::new();
    for (tool, arguments) in &p.calls {
        if let Err(e) = turn.call(tool, Value::Object(arguments.clone())).await {
            failed.push(e);
        }
    }
    let done = p.calls.len() - failed.len();
    if failed.is_empty() {
        format!("Done: I did {}.", p.what)
    } else {
        format!(
            "I did {} of {} ({}); the rest failed: {}",
            done,
            p.calls.len(),
            p.what,
            failed.join("; ")
        )
    }
}

async fn act(turn: &mut Calls<'_>, app: &App, text: &str) -> Result<Said, String> {
    let lower = text.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "help" | "" | "what can you do" | "commands" | "hi" | "hello"
    ) {
        return Ok(Said::Done(HELP.into()));
    }
    if let Some(rest) = after(text, &["remind me about", "remind me of"]) {
        return remind(turn, app, rest).await.map(Said::Done);
    }
    if let Some(rest) = after(
        text,
        &[
            "add a task to",
            "add task",
            "add",
            "create a task to",
            "create",
            "new task",
            "todo",
            "remember to",
            "remind me to",
        ],
    ) {
        let reminded = lower.starts_with("remind me to");
        return add(turn, rest, reminded).await.map(Said::Done);
    }
    if let Some(rest) = after(
        text,
        &["find", "search for", "search", "look for", "look up"],
    ) {
        let found = turn.find(rest, LISTED).await?;
        return Ok(Said::Done(listing(&found, &format!("matching \"{rest}\""))));
    }
    if let Some(rest) = after(text, &["snooze"]) {
        let (name, when) = split_last(rest, &["for", "until", "till", "to", "by"])
            .ok_or_else(|| format!("For how long? Say it like \"snooze {rest} for 1 hour\"."))?;
        return snooze(turn, app, name, when).await.map(Said::Done);
    }
    if let Some(rest) = after(text, &["delete", "remove", "drop", "get rid of", "trash"]) {
        return delete(turn, rest).await.map(Said::Ask);
    }
    if let Some(rest) = after(text, &["make", "set", "mark"])
        && let Some((name, level)) = split_last(rest, &["as", "to"]).or_else(|| {
            // "make taxes urgent", "make taxes high priority"
            let rest = before(rest, &[" priority"]);
            rest.rsplit_once(' ')
        })
        && let Some(p) = priority_word(level)
    {
        return prioritise(turn, name, p).await.map(Said::Done);
    }
    if let Some(rest) = after(
        text,
        &[
            "complete",
            "finish",
            "finished",
            "done with",
            "done",
            "mark",
            "tick off",
            "tick",
            "check off",
            "i did",
            "i finished",
            "i've finished",
            "i have finished",
            "i completed",
        ],
    ) {
        let name = before(
            rest,
            &[
                " as done",
                " as complete",
                " as completed",
                " as finished",
                " done",
                " off",
            ],
        );
        return complete(turn, name).await;
    }
    if let Some(name) = lower
        .strip_suffix(" is done")
        .map(|_| &text[..text.len() - 8])
    {
        return complete(turn, name).await;
    }
    if let Some(rest) = after(text, &["reopen", "undo", "uncomplete", "not done"]) {
        let t = turn.one(rest, "status:done").await?;
        let t = turn.call("reopen_task", json!({ "id": t["id"] })).await?;
        return Ok(Said::Done(format!("Reopened {}.", describe(&t))));
    }
    if let Some(rest) = after(
        text,
        &[
            "move",
            "reschedule",
            "postpone",
            "push",
            "shift",
            "change",
            "set",
        ],
    ) {
        let (name, when) = split_last(rest, &["to", "for", "until", "till", "on"])
            .ok_or_else(|| format!("To when? Say it like \"move {rest} to friday\"."))?;
        return reschedule(turn, app, name, when).await.map(Said::Done);
    }
    if let Some(query) = summary_query(&lower) {
        let (q, what) = query;
        let found = turn
            .call(
                "search_tasks",
                json!({ "query": q, "sort": "due", "limit": LISTED }),
            )
            .await?;
        return Ok(Said::Done(listing(&items(found), &what)));
    }
    Ok(Said::Done(format!(
        "I did not understand \"{text}\". {HELP}"
    )))
}

/// A list of tasks as a reply.
fn listing(items: &[Value], what: &str) -> String {
    match items {
        [] => format!("No tasks {what}."),
        [one] => format!("1 task {what}: {}.", describe(one)),
        many => format!(
            "{} tasks {what}{}:\n{}",
            many.len(),
            if many.len() as u32 >= LISTED {
                " (the first ones)"
            } else {
                ""
            },
            many.iter()
                .map(|t| format!("- {}", describe(t)))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// The query a question about the list asks, and how a reply says it;
/// `None` when `lower` asks no such question.
fn summary_query(lower: &str) -> Option<(String, String)> {
    let asks = [
        "what",
        "show",
        "list",
        "summar",
        "give me",
        "which",
        "any ",
        "do i have",
        "how many",
        "due",
        "overdue",
        "my tasks",
        "tasks",
    ]
    .iter()
    .any(|w| lower.starts_with(w));
    if !asks {
        return None;
    }
    let mut q = Vec::new();
    let mut what = Vec::new();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let tag = words.iter().enumerate().find_map(|(i, w)| {
        w.strip_prefix('#').map(str::to_owned).or_else(|| {
            matches!(*w, "tagged" | "tag")
                .then(|| words.get(i + 1).map(|t| t.to_string()))
                .flatten()
        })
    });
    // Phrases match as written; single words only as whole words (so
    // "late" is not found in "template"), done words by their stem.
    let has = |w: &str| {
        if w.contains(' ') {
            lower.contains(w)
        } else {
            lower
                .split(|c: char| !c.is_alphanumeric())
                .any(|x| x == w || (w.len() > 5 && x.starts_with(w)))
        }
    };
    if has("overdue") || has("late") {
        q.push("overdue".to_owned());
        what.push("overdue".to_owned());
    } else if has("done") || has("complet") || has("finish") {
        q.push("status:done".to_owned());
        what.push("done".to_owned());
    } else {
        q.push("status:open".to_owned());
        if has("today") {
            q.push("due<=today".into());
            what.push("due today or overdue".into());
        } else if has("tomorrow") {
            q.push("due:tomorrow".into());
            what.push("due tomorrow".into());
        } else if has("next week") {
            q.push("due>7d due<=14d".into());
            what.push("due the week after this one".into());
        } else if has("week") {
            q.push("due<=7d".into());
            what.push("due in the next 7 days".into());
        } else if has("month") {
            q.push("due<=31d".into());
            what.push("due in the next 31 days".into());
        } else {
            what.push("open".into());
        }
    }
    if let Some(tag) = tag.filter(|t| !t.is_empty()) {
        let tag: String = tag
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '/'))
            .collect();
        q.push(format!("tag:\"{tag}\""));
        what.push(format!("tagged {tag}"));
    }
    Some((q.join(" "), what.join(", ")))
}

async fn add(turn: &mut Calls<'_>, text: &str, reminded: bool) -> Result<String, String> {
    let text = after(text, &["to"]).unwrap_or(text);
    if text.is_empty() {
        return Err("Add what? Say it like \"add call mom friday 5pm #family\".".into());
    }
    let made = turn.call("quick_add", json!({ "text": text })).await?;
    let mut task = made["task"].clone();
    // "Remind me to …" with a time asks for a reminder at it.
    if reminded && !task["due"].is_null() && task["reminders"].as_array().is_some_and(Vec::is_empty)
    {
        task = turn
            .call(
                "set_reminder",
                json!({ "id": task["id"], "before": "PT0S" }),
            )
            .await?;
    }
    let read: Vec<String> = made["read"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            format!(
                "\"{}\" ({})",
                s["text"].as_str().unwrap_or(""),
                s["kind"].as_str().unwrap_or("")
            )
        })
        .collect();
    Ok(if read.is_empty() {
        format!("Added {}.", describe(&task))
    } else {
        format!("Added {}, reading {}.", describe(&task), read.join(", "))
    })
}

/// The filter after "all" in a bulk request ("all done tasks", "all
/// tasks tagged groceries", "all groceries"), and how to say it. Words that
/// are neither a status nor a tag must be in the titles.
fn bulk_filter(rest: &str, default_status: &str) -> Option<(String, String)> {
    let rest = after(rest, &["all", "every", "everything"])?;
    let lower = rest.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut q = Vec::new();
    let mut what = Vec::new();
    let mut used = vec![false; words.len()];
    let done = |w: &str| matches!(w, "done" | "completed" | "finished");
    if let Some(i) = words.iter().position(|w| done(w)) {
        used[i] = true;
        q.push("status:done".to_owned());
        what.push("done".to_owned());
    } else if !default_status.is_empty() {
        q.push(default_status.to_owned());
    }
    let tag = match words.iter().position(|w| matches!(*w, "tagged" | "tag")) {
        Some(i) => {
            used[i] = true;
            if let Some(u) = used.get_mut(i + 1) {
                *u = true;
            }
            Some(words.get(i + 1)?.trim_start_matches('#'))
        }
        None => words.iter().position(|w| w.starts_with('#')).map(|i| {
            used[i] = true;
            &words[i][1..]
        }),
    };
    if let Some(tag) = tag {
        q.push(format!("tag:\"{}\"", tag.replace('"', "")));
        what.push(format!("tagged {tag}"));
    }
    let rest: Vec<&str> = words
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(w, _)| *w)
        .collect();
    let named = title_words(&rest.join(" "));
    if !named.is_empty() {
        what.push(format!("matching \"{}\"", named.join(" ")));
        q.extend(named);
    }
    Some((q.join(" "), what.join(" ")))
}

async fn many(turn: &mut Calls<'_>, query: &str) -> Result<Vec<Value>, String> {
    turn.find(query, BULK_MAX).await
}

fn titles(tasks: &[Value]) -> String {
    let shown: Vec<String> = tasks.iter().take(5).map(describe).collect();
    if tasks.len() > 5 {
        format!("{} and {} more", shown.join(", "), tasks.len() - 5)
    } else {
        shown.join(", ")
    }
}

fn calls(tool: &str, tasks: &[Value]) -> Vec<(String, Map<String, Value>)> {
    tasks
        .iter()
        .map(|t| {
            let mut args = Map::new();
            args.insert("id".into(), t["id"].clone());
            (tool.to_owned(), args)
        })
        .collect()
}

async fn delete(turn: &mut Calls<'_>, rest: &str) -> Result<Pending, String> {
    if let Some((query, what)) = bulk_filter(rest, "") {
        let tasks = many(turn, &query).await?;
        if tasks.is_empty() {
            return Err(format!("There are no {what} tasks to delete.").replace("  ", " "));
        }
        return Ok(Pending {
            what: format!("delete {} tasks: {}", tasks.len(), titles(&tasks)),
            calls: calls("delete_task", &tasks),
        });
    }
    let task = turn.one(rest, "").await?;
    Ok(Pending {
        what: format!("delete {}", describe(&task)),
        calls: calls("delete_task", std::slice::from_ref(&task)),
    })
}

async fn complete(turn: &mut Calls<'_>, name: &str) -> Result<Said, String> {
    if let Some((query, _)) = bulk_filter(name, "status:open") {
        let tasks = many(turn, &query).await?;
        if tasks.is_empty() {
            return Err("No open tasks match that.".into());
        }
        return Ok(Said::Ask(Pending {
            what: format!("complete {} tasks: {}", tasks.len(), titles(&tasks)),
            calls: calls("complete_task", &tasks),
        }));
    }
    let task = turn.one(name, "status:open").await?;
    let done = turn
        .call("complete_task", json!({ "id": task["id"] }))
        .await?;
    let next = if done["recurrence"].is_null() {
        ""
    } else {
        " Its next occurrence is on the list."
    };
    Ok(Said::Done(format!("Completed {}.{next}", describe(&done))))
}

async fn prioritise(turn: &mut Calls<'_>, name: &str, priority: &str) -> Result<String, String> {
    let task = turn.one(name, "status:open").await?;
    let t = turn
        .call(
            "update_task",
            json!({ "id": task["id"], "priority": priority, "version": task["version"] }),
        )
        .await?;
    Ok(format!("Set {} to {priority} priority.", describe(&t)))
}

async fn reschedule(
    turn: &mut Calls<'_>,
    app: &App,
    name: &str,
    when: &str,
) -> Result<String, String> {
    let parsed = app
        .parse_quick_add(turn.user, when, None, None)
        .map_err(|e| e.detail())?;
    let Some(due) = parsed.due.filter(|_| parsed.title.is_empty()) else {
        return Err(format!(
            "I could not read \"{when}\" as a date; say it like \"friday\", \"tomorrow 9am\" or \"3 march\"."
        ));
    };
    let task = turn.one(name, "status:open").await?;
    let t = turn
        .call(
            "update_task",
            json!({ "id": task["id"], "due": due.to_string(), "version": task["version"] }),
        )
        .await?;
    Ok(format!("Moved {}.", describe(&t)))
}

/// "snooze the dentist for 1 hour" / "… until tomorrow 9am": the
/// reminder of the task, to the instant the words name.
async fn snooze(turn: &mut Calls<'_>, app: &App, name: &str, when: &str) -> Result<String, String> {
    let instant = [format!("in {when}"), when.to_owned()]
        .iter()
        .find_map(|w| {
            let parsed = app.parse_quick_add(turn.user, w, None, None).ok()?;
            match parsed.due {
                Some(Due::At(at)) if parsed.title.is_empty() => Some(at),
                _ => None,
            }
        });
    let Some(until) = instant else {
        return Err(format!(
            "I could not read \"{when}\" as a time; say it like \"for 1 hour\" or \"until tomorrow 9am\"."
        ));
    };
    let task = turn.one(name, "status:open").await?;
    turn.call(
        "snooze_reminder",
        json!({ "id": task["id"], "until": until.to_rfc3339() }),
    )
    .await?;
    Ok(format!(
        "Snoozed the reminder of {} until {}.",
        describe(&task),
        until.format("%Y-%m-%d %H:%M")
    ))
}

/// The one reminder `phrase` ("1 day before", "at 8am tomorrow") is, read
/// as quick add reads "remind me …". A reminder before the due is only
/// read beside a due, so it is tried with one too (its offset is all that
/// is kept).
fn reminder_in(app: &App, user: &User, phrase: &str) -> Option<Reminder> {
    [
        format!("remind me {phrase}"),
        format!("today remind me {phrase}"),
    ]
    .iter()
    .find_map(|line| {
        let parsed = app.parse_quick_add(user, line, None, None).ok()?;
        match parsed.reminders.as_slice() {
            [one] if parsed.title.is_empty() => Some(one.clone()),
            _ => None,
        }
    })
}

/// "remind me about the dentist 1 day before": the task's name, then a
/// reminder.
async fn remind(turn: &mut Calls<'_>, app: &App, rest: &str) -> Result<String, String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    for cut in 1..words.len() {
        if let Some(reminder) = reminder_in(app, turn.user, &words[cut..].join(" ")) {
            let task = turn.one(&words[..cut].join(" "), "status:open").await?;
            let mut args = serde_json::to_value(&reminder).unwrap_or_default();
            args["id"] = task["id"].clone();
            let t = turn.call("set_reminder", args).await?;
            return Ok(format!(
                "I will remind you of {} {}.",
                describe(&t),
                words[cut..].join(" ")
            ));
        }
    }
    Err(
        "When? Say it like \"remind me about the dentist 1 day before\" or \"… at 8am tomorrow\"."
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_taken_apart_where_words_end() {
        assert_eq!(after("Add milk", &["add"]), Some("milk"));
        assert_eq!(after("address book", &["add"]), None);
        assert_eq!(
            after("Done with groceries", &["done with", "done"]),
            Some("groceries")
        );
        assert_eq!(before("groceries as done", &[" as done"]), "groceries");
        assert_eq!(
            split_last("the dentist to friday", &["to", "on"]),
            Some(("the dentist", "friday"))
        );
        assert_eq!(split_last("to friday", &["to"]), None);
        assert_eq!(title_words("the OLD Groceries task"), ["groceries"]);
        assert_eq!(title_words("tag:x (a OR b)"), ["tagx", "b"]);
        assert_eq!(priority_word("High priority"), Some("high"));
        assert_eq!(priority_word("!urgent"), Some("urgent"));
        assert!(is_yes("Yes!") && is_no("no") && !is_yes("yesterday"));
    }

    #[test]
    fn questions_about_the_list_become_queries() {
        let q = |s: &str| summary_query(s).map(|(q, _)| q);
        assert_eq!(
            q("what's due this week").as_deref(),
            Some("status:open due<=7d")
        );
        assert_eq!(q("what is overdue").as_deref(), Some("overdue"));
        assert_eq!(
            q("show tasks tagged work").as_deref(),
            Some("status:open tag:\"work\"")
        );
        assert_eq!(
            q("what's due today #home").as_deref(),
            Some("status:open due<=today tag:\"home\"")
        );
        assert_eq!(q("buy milk"), None);
        assert_eq!(
            bulk_filter("all done tasks", "").map(|(q, _)| q).as_deref(),
            Some("status:done")
        );
        assert_eq!(
            bulk_filter("all tasks tagged groceries", "status:open")
                .map(|(q, _)| q)
                .as_deref(),
            Some("status:open tag:\"groceries\"")
        );
        assert_eq!(bulk_filter("groceries", ""), None);
        // Other words must be in the titles: never "every task" by accident.
        assert_eq!(
            bulk_filter("all groceries", "").map(|(q, _)| q).as_deref(),
            Some("groceries")
        );
        assert_eq!(
            bulk_filter("all old milk tasks #shop", "status:open")
                .map(|(q, _)| q)
                .as_deref(),
            Some("status:open tag:\"shop\" milk")
        );
        assert_eq!(q("what did I finish").as_deref(), Some("status:done"));
        assert_eq!(q("show the template tasks").as_deref(), Some("status:open"));
    }
}
