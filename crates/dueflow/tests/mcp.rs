//! The MCP server with a real MCP client (the official Rust SDK's): over
//! streamable HTTP at `/mcp` on both databases, and over stdio through
//! `dueflow mcp` talking to a real server process. Every tool is listed
//! with a valid JSON Schema and called; one user reaches nothing of
//! another's through any tool; a refused token is refused by the transport.

mod common;

use std::borrow::Cow;

use common::{TestServer, process};
use reqwest::{Method, StatusCode};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value, json};

type McpClient = RunningService<RoleClient, ()>;

async fn connect(s: &TestServer, token: &str) -> Result<McpClient, String> {
    let config =
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", s.base)).auth_header(token);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .map_err(|e| e.to_string())
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

async fn call(c: &McpClient, tool: &'static str, arguments: Value) -> CallToolResult {
    c.call_tool(CallToolRequestParams::new(Cow::Borrowed(tool)).with_arguments(args(arguments)))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// A call that succeeded: its structured answer.
async fn answer(c: &McpClient, tool: &'static str, arguments: Value) -> Value {
    let r = call(c, tool, arguments.clone()).await;
    assert_ne!(r.is_error, Some(true), "{tool} {arguments}: {r:?}");
    r.structured_content.expect("structured content")
}

/// A call the tool refused: its text, for the model to read.
async fn refusal(c: &McpClient, tool: &'static str, arguments: Value) -> String {
    let r = call(c, tool, arguments.clone()).await;
    assert_eq!(
        r.is_error,
        Some(true),
        "{tool} {arguments} was not refused: {r:?}"
    );
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

const TOOLS: [&str; 12] = [
    "add_task",
    "quick_add",
    "list_tasks",
    "search_tasks",
    "get_task",
    "update_task",
    "complete_task",
    "reopen_task",
    "delete_task",
    "set_reminder",
    "snooze_reminder",
    "list_tags",
];

async fn every_tool_over_http(s: &TestServer) {
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    let c = connect(s, &ann.token).await.expect("connect");

    // Each tool is listed with a description and a schema that is valid
    // JSON Schema and accepts what the tool is called with below.
    let tools = c.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    let mut expected = TOOLS;
    expected.sort_unstable();
    assert_eq!(names, expected);
    let schema_of = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        assert!(
            tool.description.as_ref().is_some_and(|d| d.len() > 20),
            "{name}"
        );
        let schema = Value::Object(tool.input_schema.as_ref().clone());
        assert_eq!(schema["type"], "object", "{name}: {schema}");
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let checked = |name: &str, a: &Value| {
        assert!(schema_of(name).is_valid(a), "{name} schema refuses {a}");
        assert!(
            !schema_of(name).is_valid(&json!({ "user": "bob" })),
            "{name} takes no user"
        );
    };

    let quick = json!({ "text": "Pay rent every month on the 1st at 9am #bills !high remind me 1 day before" });
    checked("quick_add", &quick);
    let rent = answer(&c, "quick_add", quick).await;
    assert_eq!(rent["task"]["title"], "Pay rent");
    assert_eq!(rent["task"]["tags"], json!(["bills"]));
    assert!(rent["read"].as_array().unwrap().len() >= 4, "{rent}");
    let rent_id = rent["task"]["id"].as_str().unwrap().to_owned();

    let add = json!({ "title": "Dentist", "due": "2027-03-01", "priority": "high",
        "tags": ["health"], "reminders": [{ "before": "P1D" }] });
    checked("add_task", &add);
    let dentist = answer(&c, "add_task", add).await;
    let id = dentist["id"].as_str().unwrap().to_owned();
    assert_eq!(dentist["reminders"], json!([{ "before": "P1D" }]));

    let listed = answer(&c, "list_tasks", json!({ "tag": "health" })).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], id.as_str());
    checked("list_tasks", &json!({ "status": "all", "limit": 5 }));
    let found = answer(
        &c,
        "search_tasks",
        json!({ "query": "dentist due<=2027-03-02" }),
    )
    .await;
    assert_eq!(found["items"][0]["id"], id.as_str());
    checked("search_tasks", &json!({ "query": "x", "sort": "-due" }));
    assert_eq!(
        answer(&c, "get_task", json!({ "id": id })).await["title"],
        "Dentist"
    );

    let update = json!({ "id": id, "title": "Dentist at 10", "due": "2027-03-02T10:00:00+01:00",
        "tags": ["health", "town"], "version": dentist["version"] });
    checked("update_task", &update);
    let moved = answer(&c, "update_task", update).await;
    assert_eq!(moved["due"], "2027-03-02T10:00:00+01:00");
    let stale = refusal(
        &c,
        "update_task",
        json!({ "id": id, "title": "x", "version": dentist["version"] }),
    )
    .await;
    assert!(stale.contains("changed meanwhile"), "{stale}");
    let reminded = answer(&c, "set_reminder", json!({ "id": id, "before": "PT2H" })).await;
    assert_eq!(
        reminded["reminders"].as_array().unwrap().len(),
        2,
        "{reminded}"
    );
    let snoozed = answer(&c, "snooze_reminder", json!({ "id": id, "for": "PT1H" })).await;
    assert_eq!(snoozed["task_id"], id.as_str());
    assert_eq!(snoozed["state"], "pending");
    checked(
        "snooze_reminder",
        &json!({ "id": id, "until": "2027-03-01T08:00:00Z" }),
    );
    let none = refusal(
        &c,
        "snooze_reminder",
        json!({ "id": rent_id, "for": "PT1H", "until": "x" }),
    )
    .await;
    assert!(none.contains("exactly one"), "{none}");
    let cleared = answer(
        &c,
        "update_task",
        json!({ "id": rent_id, "rrule": null, "due": null, "reminders": [] }),
    )
    .await;
    assert!(
        cleared["recurrence"].is_null() && cleared["due"].is_null(),
        "{cleared}"
    );

    assert_eq!(
        answer(&c, "complete_task", json!({ "id": id })).await["status"],
        "done"
    );
    assert_eq!(
        answer(&c, "reopen_task", json!({ "id": id })).await["status"],
        "open"
    );
    let tags = answer(&c, "list_tags", json!({})).await;
    assert!(
        tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "town"),
        "{tags}"
    );

    // Mistakes come back as text a model can act on.
    let bad = refusal(&c, "add_task", json!({ "title": "x", "due": "someday" })).await;
    assert!(bad.contains("due"), "{bad}");
    let bad = refusal(&c, "search_tasks", json!({ "query": "priority>=whenever" })).await;
    assert!(bad.contains("priority"), "{bad}");
    let bad = refusal(&c, "set_reminder", json!({ "id": id })).await;
    assert!(bad.contains("exactly one"), "{bad}");
    let bad = refusal(&c, "get_task", json!({ "id": id, "user": "bob" })).await;
    assert!(bad.contains("user"), "{bad}");
    let unknown = c
        .call_tool(CallToolRequestParams::new("drop_everything"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("drop_everything") && unknown.contains("add_task"),
        "{unknown}"
    );

    // Bob reaches none of ann's tasks: each looks missing, nothing changes.
    let b = connect(s, &bob.token).await.expect("connect as bob");
    for (tool, a) in [
        ("get_task", json!({ "id": id })),
        ("update_task", json!({ "id": id, "title": "mine now" })),
        ("complete_task", json!({ "id": id })),
        ("reopen_task", json!({ "id": id })),
        ("set_reminder", json!({ "id": id, "before": "PT1M" })),
        ("snooze_reminder", json!({ "id": id, "for": "PT1M" })),
        ("delete_task", json!({ "id": id })),
    ] {
        let text = refusal(&b, tool, a).await;
        assert!(text.contains("no such task"), "{tool}: {text}");
    }
    for (tool, a) in [
        ("list_tasks", json!({ "status": "all" })),
        ("search_tasks", json!({ "query": "dentist" })),
    ] {
        assert_eq!(answer(&b, tool, a).await["items"], json!([]), "{tool}");
    }
    assert_eq!(answer(&b, "list_tags", json!({})).await["tags"], json!([]));
    let still = answer(&c, "get_task", json!({ "id": id })).await;
    assert_eq!(still["title"], "Dentist at 10");
    assert_eq!(still["version"], reminded["version"].as_i64().unwrap() + 2);

    assert_eq!(
        answer(&c, "delete_task", json!({ "id": id })).await["deleted"],
        id.as_str()
    );
    assert!(
        refusal(&c, "get_task", json!({ "id": id }))
            .await
            .contains("no such task")
    );
    c.cancel().await.ok();
    b.cancel().await.ok();
}

async fn a_refused_token_is_refused_by_the_transport(s: &TestServer) {
    let ann = s.user("ann").await;
    let err = connect(s, "dft_not_a_token").await.unwrap_err();
    assert!(err.contains("Auth required"), "{err}");

    // A token revoked while its client is connected: the next call fails
    // at the transport with 401, and no tool runs.
    let (st, made) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({ "name": "mcp" })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    let secret = made["token"].as_str().unwrap().to_owned();
    let c = connect(s, &secret).await.expect("connect");
    answer(&c, "list_tags", json!({})).await;
    let (st, _) = s
        .call(
            &ann,
            Method::DELETE,
            &format!("/api/v1/tokens/{}", made["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let err = c
        .call_tool(
            CallToolRequestParams::new("add_task")
                .with_arguments(args(json!({ "title": "sneaky" }))),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Auth required"), "{err}");
    let (_, page) = s
        .call(&ann, Method::GET, "/api/v1/tasks?q=sneaky", None)
        .await;
    assert_eq!(page["items"], json!([]));

    // The raw answer: 401 problem+json with a challenge, before MCP.
    let res = s
        .http
        .post(format!("{}/mcp", s.base))
        .bearer_auth(&secret)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key("www-authenticate"));
}

both_backends!(
    every_tool_over_http,
    a_refused_token_is_refused_by_the_transport
);

/// `dueflow mcp` as an AI client starts it: a child process speaking MCP
/// on stdio, acting through a running server as the token's user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_relays_to_a_running_server() {
    let tmp = tempfile::tempdir().unwrap();
    let env = process::one_process_env(tmp.path());
    let token = process::user_with_token(&env);
    let port = process::free_port();
    let _server = process::serve(&env, port, &[]);
    let url = format!("http://127.0.0.1:{port}");
    let spawn = |token: &str| {
        let mut cmd = tokio::process::Command::new(process::BIN);
        cmd.arg("mcp")
            .env_clear()
            .env("DUEFLOW_SERVER", &url)
            .env("DUEFLOW_TOKEN", token)
            .stderr(std::process::Stdio::null());
        TokioChildProcess::new(cmd).unwrap()
    };

    let c = ().serve(spawn(&token)).await.expect("initialize over stdio");
    let info = c.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("dueflow")
    );
    let tools = c.list_all_tools().await.expect("tools/list");
    assert_eq!(tools.len(), TOOLS.len());
    let added = answer(
        &c,
        "quick_add",
        json!({ "text": "Buy milk tomorrow #errands" }),
    )
    .await;
    assert_eq!(added["task"]["title"], "Buy milk");
    let listed = answer(&c, "list_tasks", json!({ "tag": "errands" })).await;
    assert_eq!(listed["items"][0]["id"], added["task"]["id"]);
    let refused = refusal(
        &c,
        "get_task",
        json!({ "id": "tsk_00000000000000000000000000000000" }),
    )
    .await;
    assert!(refused.contains("no such task"), "{refused}");
    c.cancel().await.ok();

    // A refused token ends the stdio server: the client cannot start.
    assert!(().serve(spawn("dft_not_a_token")).await.is_err());
    let out = std::process::Command::new(process::BIN)
        .arg("mcp")
        .env_clear()
        .env("DUEFLOW_SERVER", &url)
        .env("DUEFLOW_TOKEN", "dft_not_a_token")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(
                br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
"#,
            )?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the token") && err.contains("DUEFLOW_TOKEN"),
        "{err}"
    );
}
