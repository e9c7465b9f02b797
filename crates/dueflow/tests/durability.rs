//! Nothing acknowledged is lost: the real server process is killed with
//! SIGKILL right after a burst of acknowledged writes; after a restart every
//! task is there and every event reaches the activity log exactly once.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_dueflow");

fn dueflow(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_clear()
        .env("DUEFLOW_DATA_DIR", dir.join("data"));
    c
}

fn start(dir: &std::path::Path, port: u16) -> Child {
    let child = dueflow(dir, &["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_write_or_event() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut add = dueflow(dir, &["user", "add", "ann", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"correct horse\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let out = dueflow(dir, &["token", "create", "ann"]).output().unwrap();
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let mut server = start(dir, port);
    let writes = (0..200).map(|i| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            let res = http
                .post(format!("{base}/api/v1/tasks"))
                .bearer_auth(&token)
                .json(&json!({"title": format!("burst {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    });
    let mut acked = Vec::new();
    for w in writes {
        acked.push(w.await.unwrap());
    }
    server.kill().unwrap(); // SIGKILL, no graceful shutdown
    server.wait().unwrap();

    let mut server = start(dir, port);
    for id in &acked {
        let res = http
            .get(format!("{base}/api/v1/tasks/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "acknowledged task {id} survived");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut subjects = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = http
                .get(format!("{base}/api/v1/activity"))
                .bearer_auth(&token)
                .query(&[("limit", "200"), ("type", "task.created")]);
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let page: Value = req.send().await.unwrap().json().await.unwrap();
            subjects.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["subject"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        subjects.sort();
        let mut expected = acked.clone();
        expected.sort();
        if subjects == expected {
            break;
        }
        assert!(
            subjects.len() <= expected.len(),
            "an event was recorded twice"
        );
        assert!(
            Instant::now() < deadline,
            "only {} of {} events arrived",
            subjects.len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
