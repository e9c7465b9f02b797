//! The published contract is exact: `/api/v1/openapi.json` of a real
//! `dueflow serve` is a valid OpenAPI document, and an OpenAPI fuzzer
//! (schemathesis, with every check: documented statuses, headers and
//! bodies, schema-valid requests accepted, schema-violating ones rejected,
//! authentication enforced, undocumented methods refused) finds nothing, on
//! SQLite and on PostgreSQL; and a Python client generated from it
//! (openapi-python-client) creates, lists and completes a task unedited.
//! The tools are installed by scripts/ensure-schemathesis.sh; without them
//! the test fails.
//!
//! Three operations are left out of the fuzzing, and each is checked here
//! instead: `open_stream` answers with a stream that never ends, which the
//! fuzzer cannot read to its end; `create_webhook` makes the notifier POST
//! to the URL it is given, and the fuzzer's URLs could name any host;
//! `log_out` revokes the very token the fuzzer sends.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::process::{free_port, named_user_with_token, one_process_env, serve};
use serde_json::{Value, json};

/// The fuzzer's bounds, chosen so that one backend's run takes about two
/// minutes on two busy cores: at most 50 generated cases per operation and
/// phase, two workers, and no request waits longer than 10 s.
const MAX_EXAMPLES: &str = "50";
const WORKERS: &str = "2";
const REQUEST_TIMEOUT_SECS: &str = "10";
/// The fuzzer's seed, fixed so that a run's cases are the same each time
/// and a failure reproduces; `DUEFLOW_FUZZ_SEED` picks another (`random`
/// for a new one each run, to explore).
const SEED: &str = "20261206";

/// Operations the fuzzer leaves alone (see the module comment).
const NOT_FUZZED: [&str; 3] = ["open_stream", "create_webhook", "log_out"];

fn tool(var: &str) -> PathBuf {
    let path = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run `source scripts/ensure-schemathesis.sh` (scripts/test does)")
    });
    let path = PathBuf::from(path);
    assert!(path.exists(), "{var}={} does not exist", path.display());
    path
}

/// The Python of the tools' virtual environment.
fn tools_python() -> PathBuf {
    tool("DUEFLOW_TEST_SCHEMATHESIS").with_file_name("python")
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run the fuzzer; a second time only when the first run found nothing
/// wrong with the server but stopped on the fuzzer's own error ("Inconsistent
/// results": its case generator raised once, then not). Any failed check
/// fails at once.
fn run_fuzzer(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let own_error = !out.status.success()
        && !stdout.contains("= FAILURES =")
        && stdout.contains("Inconsistent results");
    if own_error {
        eprintln!("{what}: the fuzzer stopped on its own error; running it again:\n{stdout}");
        return run(cmd, what);
    }
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn fetch_document(base: &str) -> Value {
    reqwest::get(format!("{base}/api/v1/openapi.json"))
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the OpenAPI document")
        .json()
        .await
        .expect("the OpenAPI document is JSON")
}

/// What the document says of itself, beyond what a validator checks.
fn assert_document_shape(doc: &Value) {
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            if op.get("security").is_some() {
                let security = &op["security"];
                assert_eq!(
                    security,
                    &json!([{"bearer": []}, {"cookie": []}]),
                    "{id}: a bearer token or the session cookie"
                );
                let unauthorized = &op["responses"]["401"];
                assert_eq!(
                    unauthorized["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{id} documents its 401 problem"
                );
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{id} {status} is a problem+json"
                    );
                }
            }
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["cookie"],
        json!({"type": "apiKey", "in": "cookie", "name": "dueflow_session",
            "description": "The web session cookie set by POST /api/v1/auth/login"}),
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for id in NOT_FUZZED {
        assert!(ids.contains(id), "{id} is in the document");
    }
}

/// The operations the fuzzer does not reach answer as documented.
async fn check_unfuzzed_operations(base: &str, token: &str) {
    let http = reqwest::Client::new();
    let problem = |r: reqwest::Response, status: u16, what: &str| {
        assert_eq!(r.status().as_u16(), status, "{what}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
    };
    let stream = format!("{base}/api/v1/stream");
    problem(
        http.get(&stream).send().await.unwrap(),
        401,
        "stream without a token",
    );
    problem(
        http.get(format!("{stream}?after=-1"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
        400,
        "stream after a negative sequence",
    );
    let sse = http
        .get(format!("{stream}?after=0"))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status().as_u16(), 200);
    assert!(
        sse.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    drop(sse);

    let hooks = format!("{base}/api/v1/webhooks");
    problem(
        http.post(&hooks)
            .bearer_auth(token)
            .json(&json!({"url": "", "events": ["task.completed"]}))
            .send()
            .await
            .unwrap(),
        400,
        "an empty webhook URL",
    );
    problem(
        http.post(&hooks)
            .bearer_auth(token)
            .json(&json!({"url": "http://127.0.0.1:9/hook", "events": []}))
            .send()
            .await
            .unwrap(),
        400,
        "no events",
    );
    problem(
        http.post(&hooks)
            .bearer_auth(token)
            .body(r#"{"url":"http://127.0.0.1:9/hook","events":["task.completed"]}"#)
            .send()
            .await
            .unwrap(),
        415,
        "a body without its JSON content type",
    );
    // Loopback is refused (the server allows no private targets here).
    problem(
        http.post(&hooks)
            .bearer_auth(token)
            .json(&json!({"url": "http://127.0.0.1:9/hook", "events": ["task.completed"]}))
            .send()
            .await
            .unwrap(),
        400,
        "a loopback target",
    );

    // Logging out revokes the token it is sent with, and only that one.
    let other: Value = http
        .post(format!("{base}/api/v1/tokens"))
        .bearer_auth(token)
        .json(&json!({"name": "to log out"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = other["token"].as_str().unwrap();
    let out = http
        .post(format!("{base}/api/v1/auth/logout"))
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    assert!(
        out.headers().contains_key("set-cookie"),
        "the cookie is removed"
    );
    let me = format!("{base}/api/v1/me");
    problem(
        http.get(&me).bearer_auth(other).send().await.unwrap(),
        401,
        "a logged-out token",
    );
    assert_eq!(
        http.get(&me)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200,
        "the other token still works"
    );
    problem(
        http.post(format!("{base}/api/v1/auth/logout"))
            .send()
            .await
            .unwrap(),
        401,
        "log out without a token",
    );
}

/// Where the server itself disagreed with its contract, it now answers as
/// the document says.
async fn check_server_answers(base: &str, token: &str) {
    let http = reqwest::Client::new();
    let send = |r: reqwest::RequestBuilder| async move {
        let r = r.bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        let kind = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = r.json().await.unwrap_or(Value::Null);
        (status, kind, body)
    };
    let url = |path: &str| format!("{base}{path}");
    let problem = Some("application/problem+json".to_owned());

    // A body is a JSON object: an array is not read as one (it cleared fields).
    let (st, _, me) = send(
        http.patch(url("/api/v1/me"))
            .json(&json!({"tz": "Europe/Berlin"})),
    )
    .await;
    assert_eq!(st, 200, "{me}");
    let (st, kind, _) = send(http.patch(url("/api/v1/me")).json(&json!([null, null]))).await;
    assert_eq!((st, &kind), (400, &problem), "an array body");
    let (_, _, me) = send(http.get(url("/api/v1/me"))).await;
    assert_eq!(me["tz"], "Europe/Berlin", "nothing changed");

    // NUL never reaches the database, whichever it is.
    let (st, kind, v) = send(
        http.post(url("/api/v1/tasks"))
            .json(&json!({"title": "a\u{0}b"})),
    )
    .await;
    assert_eq!((st, &kind), (400, &problem), "{v}");
    let (st, kind, _) = send(http.get(url("/api/v1/tasks?q=a%00b"))).await;
    assert_eq!((st, &kind), (400, &problem), "NUL in a query");
    let (st, kind, _) = send(http.get(url("/api/v1/tasks/tsk_%00"))).await;
    assert_eq!((st, &kind), (404, &problem), "NUL in a path");

    // An empty cursor asks for the first page.
    let (st, _, v) = send(http.get(url("/api/v1/tasks?cursor="))).await;
    assert_eq!(st, 200, "{v}");

    // An invalid change is refused as such, whatever version it names; an
    // If-Match is an entity tag of digits.
    let (st, _, task) = send(http.post(url("/api/v1/tasks")).json(&json!({"title": "t"}))).await;
    assert_eq!(st, 201, "{task}");
    let path = url(&format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()));
    let (st, _, v) = send(
        http.patch(&path)
            .header("if-match", "\"7\"")
            .json(&json!({"tz": "Mars/Olympus"})),
    )
    .await;
    assert_eq!(st, 400, "an invalid zone with a stale If-Match: {v}");
    let (st, _, v) = send(
        http.patch(&path)
            .header("if-match", "\"\"1\"\"")
            .json(&json!({"title": "u"})),
    )
    .await;
    assert_eq!(st, 400, "a malformed If-Match: {v}");
    let (st, _, v) = send(
        http.patch(&path)
            .header("if-match", "W/\"1\"")
            .json(&json!({"title": "u"})),
    )
    .await;
    assert_eq!(st, 200, "a weak entity tag: {v}");
}

async fn fuzz(label: &str, env: &[(&str, String)], dir: &Path) {
    let started = Instant::now();
    let port = free_port();
    let _server = serve(env, port, &[]);
    let token = named_user_with_token(env, "fuzz");
    let base = format!("http://127.0.0.1:{port}");

    let doc = fetch_document(&base).await;
    assert_document_shape(&doc);
    let doc_path = dir.join("openapi.json");
    std::fs::write(&doc_path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    run(
        Command::new(tools_python())
            .args(["-m", "openapi_spec_validator"])
            .arg(&doc_path),
        "openapi-spec-validator on the document",
    );
    check_unfuzzed_operations(&base, &token).await;
    check_server_answers(&base, &token).await;

    // A client generated from the document works as generated.
    let setup = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/openapi");
    let generated = dir.join("generated");
    run(
        Command::new(tool("DUEFLOW_TEST_OPENAPI_CLIENT"))
            .args(["generate", "--meta", "none", "--path"])
            .arg(&doc_path)
            .arg("--config")
            .arg(setup.join("client.yml"))
            .arg("--output-path")
            .arg(generated.join("client")),
        "openapi-python-client generate",
    );
    run(
        Command::new(tools_python())
            .arg(setup.join("drive_client.py"))
            .arg(&generated)
            .args([&base, &token]),
        "the generated client",
    );

    // The fuzzer's hooks (formats.py) and configuration (schemathesis.toml).
    let mut st = Command::new(tool("DUEFLOW_TEST_SCHEMATHESIS"));
    st.current_dir(dir)
        .env("SCHEMATHESIS_HOOKS", "formats")
        .env("PYTHONPATH", &setup)
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(setup.join("schemathesis.toml"))
        .args(["run", &format!("{base}/api/v1/openapi.json")])
        .args(["--url", &base])
        .args(["--checks", "all"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--workers", WORKERS])
        .args(["--request-timeout", REQUEST_TIMEOUT_SECS])
        .args(["--generation-database", "none"]);
    match std::env::var("DUEFLOW_FUZZ_SEED").as_deref() {
        Ok("random") => {}
        Ok(seed) => {
            st.args(["--seed", seed]);
        }
        Err(_) => {
            st.args(["--seed", SEED]);
        }
    }
    for id in NOT_FUZZED {
        st.args(["--exclude-operation-id", id]);
    }
    run_fuzzer(&mut st, &format!("schemathesis on {label}"));
    eprintln!("{label}: contract checked in {:?}", started.elapsed());
}

/// The environment of one server on SQLite, private webhook targets refused.
fn sqlite_env(dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = one_process_env(dir);
    env.retain(|(k, _)| *k != "DUEFLOW_WEBHOOKS_ALLOW_PRIVATE");
    env
}

#[tokio::test]
async fn openapi_contract_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let env = sqlite_env(dir.path());
    fuzz("SQLite", &env, dir.path()).await;
}

#[tokio::test]
async fn openapi_contract_holds_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = sqlite_env(dir.path());
    env.push(("DUEFLOW_DATABASE_URL", common::fresh_pg_database().await));
    fuzz("PostgreSQL", &env, dir.path()).await;
}
