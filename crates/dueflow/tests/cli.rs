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

/// `dueflow user add ARGS --password-stdin`, the password piped in.
fn add_user(dir: &Path, args: &[&str]) -> Output {
    let mut add = dueflow(
        dir,
        &[&["user", "add"][..], args, &["--password-stdin"]].concat(),
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
    add.wait_with_output().unwrap()
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
    ok(dueflow(dir, &["migrate"]).output().unwrap());
    let added = add_user(dir, &["Ann", "--tz", "Europe/Berlin"]);
    assert!(ok(added).contains("created user ann"));
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
    assert_eq!(listed["items"][0]["id"], id.as_str());
    // A sort may start with '-' (descending), and so may a query word,
    // with or without `--` before it.
    ok(client(&["task", "add", "Water plants", "--tag", "garden"]));
    for args in [
        &["--sort", "-priority", "--json", "--", "-tag:garden"][..],
        &["--json", "--sort", "-priority,due", "--", "-tag:garden"][..],
        &["-tag:garden", "--sort", "-priority", "--json"][..],
        &["--sort=-due", "-tag:garden", "--json", "status:open"][..],
    ] {
        let listed: Value =
            serde_json::from_str(&ok(client(&[&["task", "list"][..], args].concat()))).unwrap();
        let titles: Vec<&str> = listed["items"]
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
    assert_eq!(listed["items"][0]["id"], kept["id"]);
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

/// A server with the user ann and her token, and the client pointed at it.
struct Served {
    tmp: tempfile::TempDir,
    url: String,
    token: String,
    _server: process::Proc,
}

impl Served {
    fn new() -> Served {
        let tmp = tempfile::tempdir().unwrap();
        let token = process::user_with_token(&env(tmp.path()));
        let port = free_port();
        let server = start(tmp.path(), port);
        Served {
            url: format!("http://127.0.0.1:{port}"),
            tmp,
            token,
            _server: server,
        }
    }

    fn client(&self, args: &[&str]) -> Command {
        let mut c = dueflow(self.tmp.path(), args);
        c.env("DUEFLOW_SERVER", &self.url)
            .env("DUEFLOW_TOKEN", &self.token);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.client(args).output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = ok(self.run(&[args, &["--json"]].concat()));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

fn failed(out: Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn admin_commands_refuse_a_database_that_is_not_there() {
    let tmp = tempfile::tempdir().unwrap();
    let err = failed(
        dueflow(tmp.path(), &["token", "create", "ann"])
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("no database at") && err.contains("dueflow.db") && err.contains("--data-dir"),
        "{err}"
    );
    let err = failed(add_user(tmp.path(), &["ann"]));
    assert!(err.contains("no database at"), "{err}");
    assert!(
        !tmp.path().join("data").exists(),
        "nothing is created where there was no database"
    );
    ok(dueflow(tmp.path(), &["migrate"]).output().unwrap());
    assert!(tmp.path().join("data/dueflow.db").exists());
}

#[test]
fn task_add_reads_quick_add_and_says_what_it_read() {
    let s = Served::new();
    let rent = s.json(&[
        "task",
        "add",
        "Pay rent every month on the 1st at 9am #bills !high remind me 1 day before",
    ]);
    assert_eq!(rent["title"], "Pay rent", "{rent}");
    assert_eq!(rent["priority"], "high");
    assert_eq!(rent["tags"], serde_json::json!(["bills"]));
    assert_eq!(rent["reminders"], serde_json::json!([{ "before": "P1D" }]));
    let rrule = rent["recurrence"]["rrule"].as_str().unwrap();
    assert!(
        rrule.contains("FREQ=MONTHLY") && rrule.contains("BYMONTHDAY=1"),
        "{rrule}"
    );
    assert!(
        rent["due"].as_str().unwrap().contains("T09:00:00"),
        "{rent}"
    );

    let text = ok(s.run(&["task", "add", "Call mom tomorrow #family"]));
    assert!(
        text.contains("Call mom")
            && text.contains("\"tomorrow\" (date)")
            && text.contains("\"#family\" (tag)"),
        "{text}"
    );
    let literal = s.json(&["task", "add", "Read #rust tomorrow", "--literal"]);
    assert_eq!(literal["title"], "Read #rust tomorrow");
    assert!(literal["due"].is_null());
    // A flag that sets what a phrase set keeps the whole text as the title.
    let both = s.run(&["task", "add", "Dentist friday", "--due", "2027-03-01"]);
    let text = ok(both);
    assert!(
        text.contains("Dentist friday") && text.contains("kept the text"),
        "{text}"
    );
    // Tags from the text and from flags join.
    let joined = s.json(&["task", "add", "Plan trip #travel", "--tag", "family"]);
    assert_eq!(joined["tags"], serde_json::json!(["travel", "family"]));
    let err = failed(s.run(&["task", "add", "tomorrow #x"]));
    assert!(
        err.contains("no title") && err.contains("--literal"),
        "{err}"
    );
}

#[test]
fn flags_read_dates_repeats_and_priorities_as_people_write_them() {
    let s = Served::new();
    let day = |v: &Value| v["due"].as_str().unwrap()[..10].to_owned();
    let tomorrow = s.json(&[
        "task",
        "add",
        "A",
        "--due",
        "tomorrow",
        "--priority",
        "High",
    ]);
    assert_eq!(tomorrow["priority"], "high");
    let in3 = s.json(&["task", "add", "B", "--due", "+3d", "--priority", "!URGENT"]);
    assert_eq!(in3["priority"], "urgent");
    let t = |v: &Value| chrono::NaiveDate::parse_from_str(&day(v), "%Y-%m-%d").unwrap();
    assert_eq!((t(&in3) - t(&tomorrow)).num_days(), 2, "{in3} {tomorrow}");
    let fri = s.json(&["task", "add", "C", "--due", "fri 9am"]);
    assert!(fri["due"].as_str().unwrap().contains("T09:00:00"), "{fri}");
    let iso = s.json(&["task", "add", "D", "--due", "2027-03-01T10:00:00+01:00"]);
    assert_eq!(iso["due"], "2027-03-01T10:00:00+01:00");
    let err = failed(s.run(&["task", "add", "E", "--due", "someday soon"]));
    assert!(err.contains("--due") && err.contains("fri 9am"), "{err}");
    let err = failed(s.run(&["task", "add", "E", "--priority", "very"]));
    assert!(err.contains("priority"), "{err}");

    // A repeat in words brings its first occurrence as the due.
    let weekly = s.json(&[
        "task", "add", "Bins", "--every", "monday", "--tag", "home", "--tag", "chores",
    ]);
    assert!(
        weekly["recurrence"]["rrule"]
            .as_str()
            .unwrap()
            .contains("BYDAY=MO"),
        "{weekly}"
    );
    assert!(!weekly["due"].is_null());
    let id = weekly["id"].as_str().unwrap();
    let err = failed(s.run(&["task", "add", "F", "--every", "now and then"]));
    assert!(err.contains("--every"), "{err}");

    // Values are cleared by their own flags.
    let untagged = s.json(&["task", "edit", id, "--untag", "HOME"]);
    assert_eq!(untagged["tags"], serde_json::json!(["chores"]));
    let cleared = s.json(&[
        "task",
        "edit",
        id,
        "--no-recurrence",
        "--no-due",
        "--clear-tags",
    ]);
    assert!(
        cleared["due"].is_null() && cleared["recurrence"].is_null(),
        "{cleared}"
    );
    assert_eq!(cleared["tags"], serde_json::json!([]));
    let err = failed(s.run(&["task", "edit", id, "--due", "tomorrow", "--no-due"]));
    assert!(err.contains("--no-due"), "{err}");
    let err = failed(s.run(&["task", "edit", id]));
    assert!(err.contains("nothing to change"), "{err}");
}

#[test]
fn task_list_says_what_a_page_left_out_and_pages_for_scripts() {
    let s = Served::new();
    for n in 1..=5 {
        ok(s.run(&["task", "add", &format!("Task {n}"), "--literal"]));
    }
    let out = s.run(&["task", "list", "--limit", "2"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(ok(out).lines().count(), 2);
    assert!(
        err.contains("3 more tasks match") && err.contains("--all"),
        "{err}"
    );

    let first = s.json(&["task", "list", "--limit", "2"]);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = s.json(&["task", "list", "--limit", "2", "--cursor", cursor]);
    assert_ne!(second["items"][0]["id"], first["items"][0]["id"]);

    let all = ok(s.run(&["task", "list", "--all", "--json"]));
    let ids: Vec<Value> = all
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
        .collect();
    assert_eq!(ids.len(), 5, "{all}");
    let text = ok(s.run(&["task", "list", "--all"]));
    assert_eq!(text.lines().count(), 5);

    // A unique start of an id names its task, with or without `tsk_`.
    let ids: Vec<&str> = ids.iter().map(|i| i.as_str().unwrap()).collect();
    let unique = |id: &str| {
        (5..=id.len())
            .map(|n| &id[..n])
            .find(|p| ids.iter().filter(|i| i.starts_with(p)).count() == 1)
            .unwrap()
            .len()
    };
    let (a, b) = (ids[0], ids[1]);
    let shared = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let done = ok(s.run(&["task", "done", &a[..unique(a)]]));
    assert!(done.contains(a) && done.contains("[x]"), "{done}");
    let edited = s.json(&["task", "edit", &b[4..unique(b)], "--title", "Renamed"]);
    assert_eq!(edited["id"], b);
    let err = failed(s.run(&["task", "rm", &a[..shared]]));
    assert!(err.contains("give more of the id"), "{err}");
    let err = failed(s.run(&["task", "rm", "tsk_ffffffff"]));
    assert!(
        err.contains("no task's id starts with tsk_ffffffff"),
        "{err}"
    );
    let err = failed(s.run(&["task", "rm", "task-7"]));
    assert!(err.contains("not a task id"), "{err}");
}

#[test]
fn the_client_says_what_is_wrong_with_its_server_or_token() {
    let s = Served::new();
    let port = s.url.rsplit(':').next().unwrap().to_owned();
    for server in [format!("127.0.0.1:{port}"), format!("{}/api/v1/", s.url)] {
        let out = s
            .client(&["task", "list", "--json"])
            .env("DUEFLOW_SERVER", &server)
            .output()
            .unwrap();
        let page: Value = serde_json::from_str(&ok(out)).unwrap();
        assert!(page["items"].is_array(), "{server}: {page}");
    }

    let down = format!("127.0.0.1:{}", free_port());
    let err = failed(
        s.client(&["task", "list"])
            .env("DUEFLOW_SERVER", &down)
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("cannot reach http://127.0.0.1") && err.contains("dueflow serve"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // A web server that is not dueflow answers 200 with a page.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_url = format!("http://{}", other.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in other.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut conn, &mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        }
    });
    let err = failed(
        s.client(&["task", "list"])
            .env("DUEFLOW_SERVER", &other_url)
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("text/html") && err.contains("dueflow server"),
        "{err}"
    );

    let err = failed(
        s.client(&["task", "list"])
            .env("DUEFLOW_TOKEN", "dft_revoked0000")
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("DUEFLOW_TOKEN (dft_…)")
            && !err.contains("dft_revo")
            && err.contains("dueflow token create"),
        "{err}"
    );
    let err = failed(
        s.client(&["task", "list", "--token", "dft_flagged"])
            .output()
            .unwrap(),
    );
    assert!(err.contains("from --token"), "{err}");
    let err = failed(
        s.client(&["task", "list"])
            .env("DUEFLOW_SERVER", "ftp://x")
            .output()
            .unwrap(),
    );
    assert!(err.contains("host:port"), "{err}");
}
