//! The README's first steps, run as written: its shell blocks from "First
//! steps" to "The API" go through bash against a real server, with
//! `dueflow` the binary under test. Only what a test cannot do as a person
//! would is changed: the password is piped in rather than typed, the server
//! listens on a free port, and `tsk_…` stands for the first task added.

mod common;

use std::process::Command;

use common::process::{self, BIN, free_port};

/// The README's shell blocks between two headings, as one script.
fn shell_blocks(readme: &str, from: &str, to: &str) -> Vec<String> {
    let start = readme.find(from).expect("first heading");
    let end = start + readme[start..].find(to).expect("second heading");
    let mut lines = Vec::new();
    let mut in_block = false;
    for line in readme[start..end].lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
        } else if in_block {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// One README line as the test runs it. Lines inside a quoted string that
/// spans lines start with neither `dueflow` nor `alias`, and stay as they are.
fn as_run(line: &str, url: &str) -> String {
    if line.starts_with("alias dueflow=") {
        return String::new();
    }
    if line.starts_with("dueflow user add ann") {
        return "echo 'correct horse' | dueflow user add ann --password-stdin".into();
    }
    let line = line
        .replace("http://127.0.0.1:8080", url)
        .replace("tsk_…", "\"$ID\"");
    if line.starts_with("dueflow task add") {
        // The first task added is the one `tsk_…` names.
        return format!(
            "OUT=$({line}\n)\necho \"$OUT\"\n\
             [ -n \"${{ID:-}}\" ] || ID=$(echo \"$OUT\" | grep -o 'tsk_[0-9a-f]*' | head -1)"
        );
    }
    line
}

#[test]
fn the_readme_first_steps_run_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let lines = shell_blocks(&readme, "## First steps", "## The API");
    assert!(
        lines.iter().any(|l| l.starts_with("dueflow task rm")),
        "the README's client examples are where this test looks: {lines:#?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let env = vec![
        ("HOME", tmp.path().display().to_string()),
        (
            "DUEFLOW_DATA_DIR",
            tmp.path().join("data").display().to_string(),
        ),
    ];
    let port = free_port();
    let _server = process::serve(&env, port, &[]);
    let url = format!("http://127.0.0.1:{port}");
    let mut script = format!("set -euxo pipefail\ndueflow() {{ '{BIN}' \"$@\"; }}\n");
    for line in &lines {
        script.push_str(&as_run(line, &url));
        script.push('\n');
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("DUEFLOW_SERVER", &url)
        .envs(env)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a README step failed:\n{stdout}\n{stderr}\nscript:\n{script}"
    );
    // What the steps did: the quick-add line was read, the task was
    // deleted at the end, and the curl calls were answered by the API.
    assert!(stdout.contains("\"#home\" (tag)"), "{stdout}");
    assert!(stdout.contains("deleted tsk_"), "{stdout}");
    assert!(
        stdout.contains("\"title\":\"Water the plants\""),
        "{stdout}"
    );
}
