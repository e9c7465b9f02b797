//! `dueflow task …`: a small client for a running server. The server and
//! token come from flags, `DUEFLOW_SERVER` / `DUEFLOW_TOKEN`, or
//! `~/.config/dueflow/client.toml` (`server = "…"`, `token = "…"`).

use anyhow::{Context, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::cli::{ClientArgs, TaskCmd, TaskFields};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    server: Option<String>,
    token: Option<String>,
}

fn client_file() -> anyhow::Result<ClientFile> {
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".config")));
    let Some(path) = dir.map(|d| d.join("dueflow/client.toml")) else {
        return Ok(ClientFile::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("invalid {}", path.display())),
        Err(_) => Ok(ClientFile::default()),
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    json: bool,
}

impl Client {
    fn new(args: ClientArgs) -> anyhow::Result<Client> {
        let file = client_file()?;
        let base = args
            .server
            .or(file.server)
            .unwrap_or_else(|| "http://127.0.0.1:8080".into());
        let token = args
            .token
            .or(file.token)
            .ok_or_else(|| anyhow!("no API token: set DUEFLOW_TOKEN, pass --token, or put token = \"…\" in ~/.config/dueflow/client.toml"))?;
        Ok(Client {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            token,
            json: args.json,
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        query: &[(&str, String)],
    ) -> anyhow::Result<Option<Value>> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .query(query);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = res.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let value: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let detail = value
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or("request failed");
            bail!("{} ({status})", detail);
        }
        Ok(Some(value))
    }
}

fn fields_json(f: &TaskFields, body: &mut Map<String, Value>, editing: bool) {
    if let Some(d) = &f.due {
        body.insert(
            "due".into(),
            if editing && d == "none" {
                Value::Null
            } else {
                json!(d)
            },
        );
    }
    if let Some(p) = &f.priority {
        body.insert("priority".into(), json!(p));
    }
    if !f.tags.is_empty() {
        body.insert("tags".into(), json!(f.tags));
    }
    if let Some(n) = &f.notes {
        body.insert("notes".into(), json!(n));
    }
    if let Some(r) = &f.every {
        body.insert("recurrence".into(), json!({ "rrule": r }));
    }
}

fn line(t: &Value) -> String {
    let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let mark = if s("status") == "done" { "x" } else { " " };
    let mut out = format!("[{mark}] {}  {}", s("id"), s("title"));
    if !s("due").is_empty() {
        out.push_str(&format!("  due {}", s("due")));
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
            fields,
            client,
        } => {
            let c = Client::new(client)?;
            let mut body = Map::new();
            body.insert("title".into(), json!(title));
            fields_json(&fields, &mut body, false);
            let t = c
                .call(
                    Method::POST,
                    "/api/v1/tasks",
                    Some(Value::Object(body)),
                    &[],
                )
                .await?;
            c.show(&t.unwrap_or_default());
        }
        TaskCmd::List {
            query,
            sort,
            limit,
            client,
        } => {
            let c = Client::new(client)?;
            let mut q = vec![("q", query.join(" ")), ("limit", limit.to_string())];
            if let Some(s) = sort {
                q.push(("sort", s));
            }
            let page = c
                .call(Method::GET, "/api/v1/tasks", None, &q)
                .await?
                .unwrap_or_default();
            let items = page
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if c.json {
                println!("{}", Value::Array(items));
            } else {
                for t in &items {
                    println!("{}", line(t));
                }
            }
        }
        TaskCmd::Done { id, client } => {
            let c = Client::new(client)?;
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
        }
        TaskCmd::Edit {
            id,
            title,
            fields,
            client,
        } => {
            let c = Client::new(client)?;
            let mut body = Map::new();
            if let Some(t) = title {
                body.insert("title".into(), json!(t));
            }
            fields_json(&fields, &mut body, true);
            let t = c
                .call(
                    Method::PATCH,
                    &format!("/api/v1/tasks/{id}"),
                    Some(Value::Object(body)),
                    &[],
                )
                .await?;
            c.show(&t.unwrap_or_default());
        }
        TaskCmd::Rm { id, client } => {
            let c = Client::new(client)?;
            c.call(Method::DELETE, &format!("/api/v1/tasks/{id}"), None, &[])
                .await?;
            if !c.json {
                println!("deleted {id}");
            }
        }
    }
    Ok(())
}
