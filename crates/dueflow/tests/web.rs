//! The web app in a real browser: a real `dueflow serve` (every role, on
//! SQLite, registration open), two users, and the scenarios of
//! `web/app.test.mjs` run by Node's test runner, which drives Debian's
//! chromium with playwright-core: signing in, quick add, filters and their
//! errors, the repeat preview, live changes between tabs and from the API,
//! reminder toasts, one user's tasks hidden from another, keyboard-only
//! use, refused forged forms, axe on every main view (each saved as a
//! screenshot under `target/screenshots/`), the weight of a first load,
//! and Lighthouse's mobile scores. The tools are installed by
//! scripts/ensure-browser.sh; without them the test fails.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::process::{free_port, named_user_with_token, one_process_env, serve};

fn tool(var: &str) -> String {
    let v = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run `source scripts/ensure-browser.sh` (scripts/test does)")
    });
    assert!(
        std::path::Path::new(&v).exists(),
        "{var}={v} does not exist"
    );
    v
}

#[test]
fn the_web_app_works_in_a_real_browser() {
    let chromium = tool("DUEFLOW_TEST_CHROMIUM");
    let modules = tool("DUEFLOW_TEST_NODE_MODULES");
    let dir = tempfile::tempdir().unwrap();
    let mut env = one_process_env(dir.path());
    env.push(("DUEFLOW_OPEN_REGISTRATION", "true".into()));
    let ann = named_user_with_token(&env, "ann");
    named_user_with_token(&env, "bob");
    let lee = named_user_with_token(&env, "lee");
    let port = free_port();
    let _server = serve(&env, port, &[]);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shots = manifest.join("../../target/screenshots");
    let out = Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .arg(manifest.join("tests/web/app.test.mjs"))
        .env("DUEFLOW_URL", format!("http://127.0.0.1:{port}"))
        .env("DUEFLOW_ANN_TOKEN", ann)
        .env("DUEFLOW_LEE_TOKEN", lee)
        .env("DUEFLOW_TEST_CHROMIUM", chromium)
        .env("DUEFLOW_TEST_NODE_MODULES", modules)
        .env("DUEFLOW_SCREENSHOTS", &shots)
        .output()
        .expect("run node (the browser tests need Node.js)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(out.status.success(), "the browser tests failed:\n{report}");
    assert!(
        report.contains("pass 21") && report.contains("fail 0"),
        "every browser test ran and passed:\n{report}"
    );
}
