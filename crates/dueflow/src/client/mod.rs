//! `dueflow task …`: a small client for a running server. The server and
//! token come from flags, `DUEFLOW_SERVER` / `DUEFLOW_TOKEN`, or
//! `~/.config/dueflow/client.toml` (`server = "…"`, `token = "…"`).

mod connection;
mod ids;
pub mod mcp_stdio;
mod reading;

use anyhow::bail;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::cli::{Clearing, TaskCmd, TaskFields};
use connection::Client;
use reading::Parsed;

/// Tasks fetched per request by `list --all` and when counting what a
/// page left out: the server's largest page.
const PAGE_MAX: u32 = 500;

/// Whether the fields are for a new task or a change.
#[derive(PartialEq)]
enum Fields {
    New,
    Change,
}

/// The body fields the flags set, in the API's formats.
async fn fields_json(
    c: &Client,
    f: &TaskFields,
    body: &mut Map<String, Value>,
    fields: Fields,
) -> anyhow::Result<()> {
    if let Some(d) = &f.due {
        body.insert("due".into(), reading::due(c, d).await?);
    }
    if let Some(p) = &f.priority {
        body.insert("priority".into(), json!(reading::priority(p)));
    }
    if !f.tags.is_empty() {
        body.insert("tags".into(), json!(f.tags));
    }
    if let Some(n) = &f.notes {
        body.insert("notes".into(), json!(n));
    }
    if let Some(r) = &f.every {
        let (recurrence, first) = reading::every(c, r).await?;
        body.insert("recurrence".into(), recurrence);
        // A new task starts on the repeat's first day; a changed one keeps
        // its due.
        if let Some(first) = first.filter(|_| fields == Fields::New) {
            body.entry("due").or_insert(first);
        }
    }
    Ok(())
}

/// The fields a quick-add reading gives a new task. `None` when the text
/// is to be kept as the title: nothing was read in it, or a flag sets
/// what a phrase also set (then neither phrase nor flag is dropped).
fn quick_fields(parsed: &Parsed, f: &TaskFields) -> Option<Map<String, Value>> {
    let overridden = (f.due.is_some() && parsed.get("due").is_some())
        || (f.priority.is_some() && parsed.get("priority").is_some())
        || (f.every.is_some() && parsed.get("recurrence").is_some());
    if parsed.spans().is_empty() || overridden {
        return None;
    }
    let mut body = Map::new();
    body.insert("title".into(), json!(parsed.title()));
    for field in ["due", "recurrence", "priority", "reminders"] {
        if let Some(v) = parsed.get(field) {
            body.insert(field.into(), v.clone());
        }
    }
    let mut tags: Vec<Value> = parsed
        .get("tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    tags.extend(f.tags.iter().map(|t| json!(t)));
    body.insert("tags".into(), Value::Array(tags));
    Some(body)
}

async fn add(c: &Client, text: &str, literal: bool, f: &TaskFields) -> anyhow::Result<()> {
    let parsed = if literal {
        None
    } else {
        Some(reading::parse(c, text).await?)
    };
    let quick = parsed.as_ref().and_then(|p| quick_fields(p, f));
    if quick.is_some() && parsed.as_ref().is_some_and(|p| p.title().is_empty()) {
        bail!(
            "'{text}' leaves no title once its dates, tags and other phrases are read; \
             add words for the title, or pass --literal to keep the text as it is"
        );
    }
    let mut body = quick.clone().unwrap_or_else(|| {
        let mut b = Map::new();
        b.insert("title".into(), json!(text));
        b
    });
    let mut flags = Map::new();
    fields_json(c, f, &mut flags, Fields::New).await?;
    for (k, v) in flags {
        // Tags were joined to the phrases' already; a repeat's first
        // occurrence gives way to a date the text named.
        let given = match k.as_str() {
            "tags" => quick.is_none(),
            "due" => f.due.is_some() || !body.contains_key("due"),
            _ => true,
        };
        if given {
            body.insert(k, v);
        }
    }
    let task = c
        .call(
            Method::POST,
            "/api/v1/tasks",
            Some(Value::Object(body)),
            &[],
        )
        .await?
        .unwrap_or_default();
    c.show(&task);
    if c.json {
        return Ok(());
    }
    match (&parsed, quick) {
        (Some(p), Some(_)) => println!(
            "read {}; --literal keeps the text as the title",
            p.phrases()
        ),
        (Some(p), None) if !p.spans().is_empty() => println!(
            "kept the text as the title: a flag sets what {} would have set",
            p.phrases()
        ),
        _ => {}
    }
    Ok(())
}

async fn edit(
    c: &Client,
    id: &str,
    title: Option<String>,
    f: &TaskFields,
    clearing: &Clearing,
) -> anyhow::Result<()> {
    let mut body = Map::new();
    if let Some(t) = title {
        body.insert("title".into(), json!(t));
    }
    fields_json(c, f, &mut body, Fields::Change).await?;
    if clearing.no_due {
        body.insert("due".into(), Value::Null);
    }
    if clearing.no_recurrence {
        body.insert("recurrence".into(), Value::Null);
    }
    if clearing.clear_tags {
        body.insert("tags".into(), json!([]));
    }
    if !clearing.untag.is_empty() {
        let task = c
            .call(Method::GET, &format!("/api/v1/tasks/{id}"), None, &[])
            .await?
            .unwrap_or_default();
        let dropped: Vec<String> = clearing.untag.iter().map(|t| t.to_lowercase()).collect();
        let kept: Vec<&Value> = task["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter(|t| !dropped.contains(&t.as_str().unwrap_or("").to_lowercase()))
                    .collect()
            })
            .unwrap_or_default();
        body.insert("tags".into(), json!(kept));
        // Refused if the task changed since it was read: no tag added
        // meanwhile is lost.
        body.insert("version".into(), task["version"].clone());
    }
    if body.is_empty() {
        bail!(
            "nothing to change: pass --title, --due, --no-due, --tag, --untag or another flag (see --help)"
        );
    }
    let task = c
        .call(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}"),
            Some(Value::Object(body)),
            &[],
        )
        .await?
        .unwrap_or_default();
    c.show(&task);
    Ok(())
}

#[derive(Default)]
struct ListArgs {
    query: String,
    sort: Option<String>,
    limit: u32,
    all: bool,
    cursor: Option<String>,
}

async fn page(
    c: &Client,
    a: &ListArgs,
    limit: u32,
    cursor: Option<String>,
) -> anyhow::Result<Value> {
    let mut q = vec![("q", a.query.clone()), ("limit", limit.to_string())];
    if let Some(s) = &a.sort {
        q.push(("sort", s.clone()));
    }
    if let Some(cur) = cursor {
        q.push(("cursor", cur));
    }
    let page = c
        .call(Method::GET, "/api/v1/tasks", None, &q)
        .await?
        .unwrap_or_default();
    if !page.get("items").is_some_and(Value::is_array) {
        bail!("the server's task list has no items: is --server the address of a dueflow server?");
    }
    Ok(page)
}

fn next_cursor(page: &Value) -> Option<String> {
    page.get("next_cursor")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Every task `a` matches, page after page of the largest size, each
/// given to `each`.
async fn every_task(c: &Client, a: &ListArgs, mut each: impl FnMut(&Value)) -> anyhow::Result<()> {
    let mut cursor = None;
    loop {
        let p = page(c, a, PAGE_MAX, cursor).await?;
        p["items"]
            .as_array()
            .into_iter()
            .flatten()
            .for_each(&mut each);
        cursor = next_cursor(&p);
        if cursor.is_none() {
            return Ok(());
        }
    }
}

async fn list(c: &Client, a: ListArgs) -> anyhow::Result<()> {
    if a.all {
        return every_task(c, &a, |t| c.show(t)).await;
    }
    let p = page(c, &a, a.limit, a.cursor.clone()).await?;
    if c.json {
        println!("{p}");
        return Ok(());
    }
    for t in p["items"].as_array().into_iter().flatten() {
        c.show(t);
    }
    if let Some(cursor) = next_cursor(&p) {
        let rest = page(c, &a, PAGE_MAX, Some(cursor)).await?;
        let counted = rest["items"].as_array().map_or(0, Vec::len);
        let more = if next_cursor(&rest).is_some() {
            format!("more than {counted} more tasks match")
        } else if counted == 1 {
            "1 more task matches".to_owned()
        } else {
            format!("{counted} more tasks match")
        };
        eprintln!("{more}: show them all with --all, or up to 500 with --limit 500");
    }
    Ok(())
}

fn line(t: &Value) -> String {
    let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let mark = if s("status") == "done" { "x" } else { " " };
    let mut out = format!("[{mark}] {}  {}", s("id"), s("title"));
    if !s("due").is_empty() {
        out.push_str(&format!("  due {}", s("due")));
    }
    if let Some(rrule) = t.pointer("/recurrence/rrule").and_then(Value::as_str) {
        out.push_str(&format!("  every {rrule}"));
    }
    if s("priority") != "none" {
        out.push_str(&format!("  !{}", s("priority")));
    }
    if let Some(tags) = t.get("tags").and_then(Value::as_array) {
        for tag in tags.iter().filter_map(Value::as_str) {
            out.push_str(&format!("  #{tag}"));
        }
    }
    out
}

impl Client {
    fn show(&self, v: &Value) {
        if self.json {
            println!("{v}");
        } else {
            println!("{}", line(v));
        }
    }
}

pub async fn task(cmd: TaskCmd) -> anyhow::Result<()> {
    match cmd {
        TaskCmd::Add {
            title,
            literal,
            fields,
            client,
        } => add(&Client::new(client)?, &title, literal, &fields).await,
        TaskCmd::List {
            query,
            sort,
            limit,
            all,
            cursor,
            client,
        } => {
            let args = ListArgs {
                query: query.join(" "),
                sort,
                limit,
                all,
                cursor,
            };
            list(&Client::new(client)?, args).await
        }
        TaskCmd::Done { id, client } => {
            let c = Client::new(client)?;
            let id = ids::task_id(&c, &id).await?;
            let r = c
                .call(
                    Method::POST,
                    &format!("/api/v1/tasks/{id}/complete"),
                    None,
                    &[],
                )
                .await?
                .unwrap_or_default();
            c.show(&r);
            Ok(())
        }
        TaskCmd::Edit {
            id,
            title,
            fields,
            clearing,
            client,
        } => {
            let c = Client::new(client)?;
            let id = ids::task_id(&c, &id).await?;
            edit(&c, &id, title, &fields, &clearing).await
        }
        TaskCmd::Rm { id, client } => {
            let c = Client::new(client)?;
            let id = ids::task_id(&c, &id).await?;
            c.call(Method::DELETE, &format!("/api/v1/tasks/{id}"), None, &[])
                .await?;
            if !c.json {
                println!("deleted {id}");
            }
            Ok(())
        }
    }
}
