//! What the binary prints about its database never holds a password: the
//! URL's own, one after an `@` inside it, or a `password` parameter.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::process::dueflow;

/// `dueflow migrate --database URL` against nothing: all it printed.
fn migrate_output(url: &str) -> String {
    let mut child = dueflow(&[], &["migrate", "--database", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("dueflow migrate did not give up on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "migrated against nothing");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn migrate_never_prints_the_database_password() {
    for url in [
        "postgres://app@127.0.0.1:1/db?password=hunter2",
        "postgres://app:p@ss-hunter2@127.0.0.1:1/db",
        "postgres://app:hunter2@127.0.0.1:1/db?sslmode=disable&password=hunter2",
        "postgres://app:hunter2@[127.0.0.1:1/db",
    ] {
        let out = migrate_output(url);
        assert!(!out.contains("hunter2"), "{url} printed as: {out}");
        assert!(
            out.contains("postgres://"),
            "{url}: says which database: {out}"
        );
    }
}
