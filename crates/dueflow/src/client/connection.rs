//! The client's line to a server: where it is (`host:port`, a URL, or
//! either with the API's `/api/v1`), which token it shows and where that
//! came from, and answers turned into errors that say what to do next —
//! a server that is down, one that is not dueflow, a refused token.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::cli::ClientArgs;

/// How long one request may take before the client gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    server: Option<String>,
    token: Option<String>,
}

/// `~/.config/dueflow/client.toml` (under `XDG_CONFIG_HOME` when set).
fn client_file_path() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("dueflow/client.toml"))
}

fn client_file(path: Option<&PathBuf>) -> anyhow::Result<ClientFile> {
    let Some(path) = path else {
        return Ok(ClientFile::default());
    };
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("invalid {}", path.display())),
        Err(_) => Ok(ClientFile::default()),
    }
}

/// The server's base URL from what a person wrote: `host:port`,
/// `http(s)://host:port`, either followed by `/api/v1` or a `/`. Without a
/// scheme, a loopback host is reached over http and any other over https:
/// the token is not sent in the clear unless `http://` is written.
pub fn base_url(given: &str) -> anyhow::Result<String> {
    let given = given.trim();
    let full = if given.contains("://") {
        given.to_owned()
    } else {
        let host = given.rsplit_once(':').map_or(given, |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let local = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        format!("{}://{given}", if local { "http" } else { "https" })
    };
    let bad = || {
        anyhow!(
            "the server address '{given}' is not one; write it as host:port or http://host:port"
        )
    };
    let mut url = url::Url::parse(&full).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/api/v1").unwrap_or(path).to_owned();
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Where the token came from, to name it when the server refuses it.
enum TokenSource {
    Flag,
    Environment,
    File(PathBuf),
}

impl std::fmt::Display for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Flag => f.write_str("--token"),
            TokenSource::Environment => f.write_str("DUEFLOW_TOKEN"),
            TokenSource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

const MAKE_A_TOKEN: &str = "make one with `dueflow token create USER` where the server's \
     database is, or under Settings → API tokens in the web app";

/// The server answered 401: nothing this client sends will be answered.
#[derive(Debug)]
pub struct RefusedToken(String);

impl std::fmt::Display for RefusedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RefusedToken {}

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    source: TokenSource,
    pub json: bool,
}

impl Client {
    pub fn new(args: ClientArgs) -> anyhow::Result<Client> {
        let path = client_file_path();
        let file = client_file(path.as_ref())?;
        let base = base_url(
            args.server
                .as_deref()
                .or(file.server.as_deref())
                .unwrap_or("http://127.0.0.1:8080"),
        )?;
        let from_env = std::env::var("DUEFLOW_TOKEN").ok();
        let (token, source) = match (args.token, file.token, path) {
            (Some(t), _, _) if from_env.as_deref() == Some(t.as_str()) => {
                (t, TokenSource::Environment)
            }
            (Some(t), _, _) => (t, TokenSource::Flag),
            (None, Some(t), Some(p)) => (t, TokenSource::File(p)),
            _ => bail!(
                "no API token: set DUEFLOW_TOKEN, pass --token, or put token = \"…\" in \
                 ~/.config/dueflow/client.toml; {MAKE_A_TOKEN}"
            ),
        };
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("cannot set up HTTP")?;
        Ok(Client {
            http,
            base,
            token,
            source,
            json: args.json,
        })
    }

    /// Send a request to `path` under the server's base URL and read its
    /// JSON answer (`None` for 204).
    pub async fn call(
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
        let res = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = res.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let kind = content_type(&res);
        if !(kind.starts_with("application/json") || kind.starts_with("application/problem+json")) {
            bail!(
                "{} answered {status} with {kind}, not with dueflow's API: is it the address \
                 of a dueflow server? (set it with --server or DUEFLOW_SERVER)",
                self.base
            );
        }
        let value: Value = res
            .json()
            .await
            .with_context(|| format!("{} sent JSON that does not parse", self.base))?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(self.refused_token());
        }
        if !status.is_success() {
            let detail = value
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or("request failed");
            bail!("{detail} ({status})");
        }
        Ok(Some(value))
    }

    fn refused_token(&self) -> anyhow::Error {
        anyhow::Error::new(RefusedToken(format!(
            "the server refused the token from {} ({}…): it is unknown, revoked or expired; \
             {MAKE_A_TOKEN}",
            self.source,
            // Its kind only (`dft_`), never a character of the secret.
            self.token
                .split_once('_')
                .map_or(String::new(), |(kind, _)| format!("{kind}_"))
        )))
    }

    /// Post one MCP message (JSON-RPC) to the server's `/mcp` and return
    /// the messages it answers with: none for a notification, else the
    /// JSON body, or each event's data of an event stream.
    pub async fn mcp(
        &self,
        message: String,
        protocol: Option<&str>,
    ) -> anyhow::Result<Vec<String>> {
        let mut req = self
            .http
            .post(format!("{}/mcp", self.base))
            .bearer_auth(&self.token)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream")
            .body(message);
        if let Some(version) = protocol {
            req = req.header("mcp-protocol-version", version);
        }
        let res = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = res.status();
        if status == StatusCode::UNAUTHORIZED {
            return Err(self.refused_token());
        }
        let kind = content_type(&res);
        let body = res
            .text()
            .await
            .with_context(|| format!("{} broke off its answer", self.base))?;
        if kind.starts_with("application/json") {
            Ok(vec![body.trim().to_owned()])
        } else if kind.starts_with("text/event-stream") {
            Ok(event_data(&body))
        } else if status.is_success() && body.trim().is_empty() {
            Ok(Vec::new())
        } else {
            bail!(
                "{}/mcp answered {status} with {kind}: is it a dueflow server?",
                self.base
            )
        }
    }

    /// A request that got no answer, said in one line.
    fn unreachable(&self, e: &reqwest::Error) -> anyhow::Error {
        if e.is_timeout() {
            anyhow!(
                "{} did not answer within {} s",
                self.base,
                REQUEST_TIMEOUT.as_secs()
            )
        } else if e.is_connect() {
            let mut cause: &dyn std::error::Error = e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            anyhow!(
                "cannot reach {} ({cause}): is `dueflow serve` running there? \
                 (another address: --server or DUEFLOW_SERVER)",
                self.base
            )
        } else {
            anyhow!("cannot reach {}: {e}", self.base)
        }
    }
}

/// What an answer says it is: its `Content-Type`, or "no content type".
fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type")
        .to_owned()
}

/// The data of each event of a whole `text/event-stream` body (events
/// without data, such as priming events, carry no message).
fn event_data(body: &str) -> Vec<String> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(|event| {
            event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|data| !data.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_address_is_read_as_people_write_it() {
        for (given, base) in [
            ("127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("localhost:8080/", "http://localhost:8080"),
            ("[::1]:8080", "http://[::1]:8080"),
            ("tasks.example.com", "https://tasks.example.com"),
            ("10.0.0.5:8080/api/v1", "https://10.0.0.5:8080"),
            ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
            ("http://h:1/api/v1", "http://h:1"),
            (
                "https://tasks.example.com/api/v1/",
                "https://tasks.example.com",
            ),
            (
                "https://example.com/dueflow/api/v1",
                "https://example.com/dueflow",
            ),
            (" http://h ", "http://h"),
        ] {
            assert_eq!(base_url(given).unwrap(), base, "{given}");
        }
        for bad in ["", "ftp://h", "http://", "h:notaport"] {
            let e = base_url(bad).unwrap_err().to_string();
            assert!(e.contains("host:port"), "{bad}: {e}");
        }
    }

    #[test]
    fn an_event_stream_gives_each_event_s_data() {
        let body = "id: 0\nretry: 3000\ndata:\n\nevent: message\ndata: {\"a\":1}\n\r\ndata: {\"b\":\ndata: 2}\n\n";
        assert_eq!(event_data(body), ["{\"a\":1}", "{\"b\":\n2}"]);
    }
}
