//! What an operator reads: log lines written to a file or a pipe carry no
//! colour codes, a log filter that does not parse stops the start with
//! one line saying so (instead of being replaced by `info` unnoticed), and
//! a misspelt setting's variable is named in a warning.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{BIN, free_port};

#[test]
fn logs_to_a_pipe_are_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Not through common::process, which sets NO_COLOR: here only the
    // pipe may turn the colours off.
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DUEFLOW_DATA_DIR", dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    let mut seen = Vec::new();
    let serving = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no 'dueflow serving' line: {seen:?}"
        );
        let Some(Ok(line)) = lines.next() else {
            break None;
        };
        let done = line.contains("dueflow serving");
        seen.push(line);
        if done {
            break seen.last().cloned();
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(serving.is_some(), "the server stopped: {seen:?}");
    for line in &seen {
        assert!(!line.contains('\u{1b}'), "a colour code in {line:?}");
    }
}

#[test]
fn a_log_filter_that_does_not_parse_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DUEFLOW_DATA_DIR", dir.path().join("data"))
        .env("DUEFLOW_LOG", "info,dueflow_api=loud")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid configuration: log = 'info,dueflow_api=loud'"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

/// `dueflow migrate` on a new SQLite database with `vars` set: its exit
/// status and what it wrote to stderr.
fn migrate(vars: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("migrate")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DUEFLOW_DATA_DIR", dir.path().join("data"))
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_variable_that_is_no_setting_is_named_in_a_warning() {
    let (ok, err) = migrate(&[
        ("DUEFLOW_SMTP_HOTS", "mail.example.com"),
        ("DUEFLOW_SMTP_PORT", "2525"),
    ]);
    assert!(ok, "{err}");
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("no such setting"))
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("WARN")
            && warnings[0].contains("DUEFLOW_SMTP_HOTS is set, but dueflow has no such setting"),
        "{err}"
    );
}

#[test]
fn a_refused_start_names_a_variable_that_is_no_setting() {
    let (ok, err) = migrate(&[("DUEFLOW_BUS", "dapr"), ("DUEFLOW_DAPR_APP_TOKN", "secret")]);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("invalid configuration"), "{err}");
    assert!(
        err.contains("(DUEFLOW_DAPR_APP_TOKN set, but dueflow has no such setting)"),
        "{err}"
    );
}
