//! `dueflow mcp`: MCP over standard input and output for AI clients that
//! start their servers as processes. Each JSON-RPC message read from stdin
//! is posted to the running server's `/mcp` with the client's token, and
//! its answers are written to stdout, one per line; the tools and the user
//! they act for are the server's. A refused token ends the process with the
//! reason on stderr, as the HTTP transport answers 401.

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::connection::{Client, RefusedToken};
use crate::cli::ClientArgs;

pub async fn serve(args: ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    // The version the server agreed to in `initialize`, sent with each
    // later message as the HTTP transport asks.
    let mut protocol: Option<String> = None;
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let id = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|m| m.get("id").cloned());
        let answers = match client.mcp(line, protocol.as_deref()).await {
            Ok(answers) => answers,
            // A request still gets its answer: the error, in JSON-RPC.
            Err(e) if id.is_some() && e.downcast_ref::<RefusedToken>().is_none() => {
                vec![
                    json!({
                        "jsonrpc": "2.0",
                        "id": id,
                        "error": { "code": -32603, "message": format!("{e:#}") },
                    })
                    .to_string(),
                ]
            }
            Err(e) => return Err(e),
        };
        for answer in answers {
            if let Some(v) = serde_json::from_str::<Value>(&answer)
                .ok()
                .and_then(|m| m.pointer("/result/protocolVersion").cloned())
                .and_then(|v| v.as_str().map(str::to_owned))
            {
                protocol = Some(v);
            }
            out.write_all(answer.as_bytes()).await?;
            out.write_all(b"\n").await?;
            out.flush().await?;
        }
    }
    Ok(())
}
