//! The real binary as a user drives it: `user add`, `token create`,
//! `serve` as its own process, the `task` client commands with `--json`,
//! a bad configuration refused in one line, and acknowledged writes that
//! survive `kill -9` of the server.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::process::{self, free_port};
use serde_json::Value;

fn env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", dir.display().to_string()),
        ("DUEFLOW_DATA_DIR", dir.join("data").display().to_string()),
    ]
}

fn dueflow(dir: &Path, args: &[&str]) -> Command {
    process::dueflow(&env(dir), args)
}

fn start(dir: &Path, port: u16) -> process::Proc {
    process::serve(&env(dir), port, &[])
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut add = dueflow(
        dir,
        &[
            "user",
            "add",
            "Ann",
            "--password-stdin",
            "--tz",
            "Europe/Berlin",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"correct horse\n")
        .unwrap();
    assert!(ok(add.wait_with_output().unwrap()).contains("created user ann"));
    let out = ok(dueflow(dir, &["token", "create", "ann"]).output().unwrap());
    let token = out.lines().last().unwrap().to_owned();
    assert!(token.starts_with("dft_"), "{out}");

    let port = free_port();
    let server = start(dir, port);
    let url = format!("http://127.0.0.1:{port}");
    let client = |args: &[&str]| {
        let mut c = dueflow(dir, args);
        c.env("DUEFLOW_SERVER", &url).env("DUEFLOW_TOKEN", &token);
        c.output().unwrap()
    };
    let added: Value = serde_json::from_str(&ok(client(&[
        "task",
        "add",
        "Pay rent",
        "--due",
        "2026-12-01",
        "--priority",
        "high",
        "--tag",
        "home",
        "--every",
        "FREQ=MONTHLY",
        "--json",
    ])))
    .unwrap();
    assert_eq!(added["tz"], "Europe/Berlin");
    let id = added["id"].as_str().unwrap().to_owned();
    let listed: Value = serde_json::from_str(&ok(client(&[
        "task",
        "list",
        "tag:home",
        "priority:high",
        "--json",
    ])))
    .unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    // A sort may start with '-' (descending); after `--`, so may a word.
    ok(client(&["task", "add", "Water plants", "--tag", "garden"]));
    for args in [
        &["--sort", "-priority", "--json", "--", "-tag:garden"][..],
        &["--json", "--sort", "-priority,due", "--", "-tag:garden"][..],
    ] {
        let listed: Value =
            serde_json::from_str(&ok(client(&[&["task", "list"][..], args].concat()))).unwrap();
        let titles: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Pay rent"], "{args:?}");
    }
    let text = ok(client(&["task", "list"]));
    assert!(
        text.contains("Pay rent") && text.contains("#home"),
        "{text}"
    );
    let edited: Value = serde_json::from_str(&ok(client(&[
        "task",
        "edit",
        &id,
        "--title",
        "Pay the rent",
        "--json",
    ])))
    .unwrap();
    assert_eq!(edited["title"], "Pay the rent");
    let done = ok(client(&["task", "done", &id]));
    assert!(done.contains("[x]"), "{done}");
    // The recurring role creates the next occurrence right after.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !ok(client(&["task", "list"])).contains("2027-01-01") {
        assert!(
            std::time::Instant::now() < deadline,
            "no next occurrence due 2027-01-01"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    ok(client(&["task", "rm", &id]));
    let bad = client(&["task", "add", " "]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("title"),
        "errors name the field"
    );
    let unauth = dueflow(dir, &["task", "list"])
        .env("DUEFLOW_SERVER", &url)
        .env("DUEFLOW_TOKEN", "dft_nope")
        .output()
        .unwrap();
    assert!(!unauth.status.success());

    // An acknowledged write survives kill -9 of the server.
    let kept: Value =
        serde_json::from_str(&ok(client(&["task", "add", "Survive a crash", "--json"]))).unwrap();
    let mut server = server;
    server.kill();
    let _again = start(dir, port);
    let listed: Value =
        serde_json::from_str(&ok(client(&["task", "list", "survive", "--json"]))).unwrap();
    assert_eq!(listed[0]["id"], kept["id"]);
}

#[test]
fn a_password_is_not_asked_for_without_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = dueflow(tmp.path(), &["user", "add", "ann"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no terminal") && err.contains("--password-stdin"),
        "{err}"
    );
}

#[test]
fn bad_configuration_stops_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = dueflow(tmp.path(), &["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("listen"), "{err}");

    let cfg = tmp.path().join("dueflow.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:1\"\ncolour = \"red\"\n").unwrap();
    let out = dueflow(tmp.path(), &["migrate", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("colour"), "unknown keys are refused: {err}");

    let out = dueflow(tmp.path(), &["migrate"])
        .env("DUEFLOW_DATABASE_URL", "mysql://u:hunter2@h/db")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        !out.status.success() && err.contains("sqlite:") && !err.contains("hunter2"),
        "{err}"
    );
}
