//! Real `dueflow` processes for tests: commands with a clean environment,
//! servers that are killed (SIGKILL) when dropped and whose last words are
//! shown when a test fails, a user with a token.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_dueflow");

/// `dueflow ARGS` with only PATH and the given variables set.
pub fn dueflow(env: &[(&str, String)], args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Their logs are read from files.
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process, killed with SIGKILL when dropped. Its stderr goes to a
/// file whose end is printed when the process is dropped by a failing test.
pub struct Proc {
    pub child: Child,
    what: String,
    log: tempfile::NamedTempFile,
}

/// How many of a process's last log lines a failing test prints.
const LAST_WORDS: usize = 40;

impl Proc {
    /// Start `command` with stdout discarded and stderr kept; `what` names
    /// it in a failing test's output.
    pub fn spawn(command: &mut Command, what: &str) -> Proc {
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = command
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Proc {
            child,
            what: what.to_owned(),
            log,
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Send SIGTERM, as Kubernetes does to end a pod, and wait for the
    /// process to exit by itself; fails the test if it takes longer than
    /// `within`.
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let term = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(term.success(), "cannot send SIGTERM to {}", self.what);
        let asked = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                asked.elapsed() < within,
                "{} still runs {within:?} after SIGTERM",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the process has written to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let from = lines.len().saturating_sub(LAST_WORDS);
            eprintln!("--- the last lines of {} ---", self.what);
            for line in &lines[from..] {
                eprintln!("{line}");
            }
        }
    }
}

/// The environment of one process with every role on SQLite in `dir` and
/// the in-process bus, its webhooks allowed to reach receivers on loopback.
pub fn one_process_env(dir: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("DUEFLOW_DATA_DIR", dir.join("data").display().to_string()),
        ("DUEFLOW_WEBHOOKS_ALLOW_PRIVATE", "true".to_owned()),
    ]
}

/// `dueflow serve --listen 127.0.0.1:PORT EXTRA…`, once it accepts connections.
pub fn serve(env: &[(&str, String)], port: u16, extra: &[&str]) -> Proc {
    let proc = Proc::spawn(
        dueflow(env, &["serve", "--listen", &format!("127.0.0.1:{port}")]).args(extra),
        &format!("dueflow serve {} on {port}", extra.join(" ")),
    );
    wait_for_port(port, "dueflow serve");
    proc
}

/// Create the user `ann` (password "correct horse") and a new API token.
pub fn user_with_token(env: &[(&str, String)]) -> String {
    named_user_with_token(env, "ann")
}

/// Create the user `name` (password "correct horse"; the database too,
/// the first time) and a new API token.
pub fn named_user_with_token(env: &[(&str, String)], name: &str) -> String {
    let out = dueflow(env, &["migrate"]).output().unwrap();
    assert!(out.status.success(), "migrate");
    let mut add = dueflow(env, &["user", "add", name, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"correct horse\n")
        .unwrap();
    assert!(add.wait().unwrap().success(), "user add");
    let out = dueflow(env, &["token", "create", name]).output().unwrap();
    assert!(out.status.success(), "token create");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned()
}
