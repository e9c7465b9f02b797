//! The real server holds up against hostile or careless clients: parallel
//! password guesses meet the login limit and cannot exhaust memory, guesses
//! from elsewhere do not lock the owner out, forwarding headers count only
//! from a trusted proxy, slow and idle connections are closed without
//! holding up anyone else, open connections are capped while live streams
//! stay open, and the data directory and database are private to the
//! server's user.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::live::{connect, next};
use common::process::{Proc, free_port, named_user_with_token, one_process_env, serve};
use reqwest::StatusCode;
use serde_json::json;

/// A client whose connections come from `from` (any of 127.0.0.0/8).
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login(http: &reqwest::Client, base: &str, name: &str, password: &str) -> StatusCode {
    login_via(http, base, name, password, None).await
}

async fn login_via(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> StatusCode {
    let mut req = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"name": name, "password": password}));
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    let res = req.send().await.unwrap();
    if res.status() == StatusCode::TOO_MANY_REQUESTS {
        assert!(res.headers().contains_key("retry-after"), "{res:?}");
    }
    res.status()
}

/// A server with every role on SQLite in `dir`, the user `ann` (password
/// "correct horse") and the extra environment `extra`.
fn server_with_ann(
    dir: &tempfile::TempDir,
    extra: &[(&'static str, &str)],
) -> (Proc, String, String) {
    let mut env = one_process_env(dir.path());
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let token = named_user_with_token(&env, "ann");
    let port = free_port();
    let proc = serve(&env, port, &[]);
    (proc, format!("http://127.0.0.1:{port}"), token)
}

/// The process's peak resident memory in MiB (VmHWM).
fn peak_rss_mib(proc: &Proc) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", proc.child.id())).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kib / 1024
}

/// Wrong logins for `name`, all sent at the same moment over connections
/// from `from` opened beforehand; their statuses.
async fn burst_of_wrong_logins(base: &str, from: &str, name: &str, n: usize) -> Vec<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let mut conns = Vec::new();
    for _ in 0..n {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        conns.push(socket.connect(server).await.unwrap());
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let sends = conns.into_iter().enumerate().map(|(i, mut conn)| {
        let start = start.clone();
        let body = json!({"name": name, "password": format!("guess {i}")}).to_string();
        let req = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: dueflow\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        tokio::spawn(async move {
            start.wait().await;
            conn.write_all(req.as_bytes()).await.unwrap();
            let mut answer = String::new();
            conn.read_to_string(&mut answer).await.unwrap();
            answer[9..12].parse::<u16>().unwrap()
        })
    });
    let mut statuses = Vec::new();
    for s in sends.collect::<Vec<_>>() {
        statuses.push(s.await.unwrap());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_logins_meet_the_limit_and_hashing_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (proc, base, _) = server_with_ann(&dir, &[]);
    let http = client_from("127.0.0.5");
    for i in 0..23 {
        let s = login(&http, &base, &format!("nobody{i}"), "wrong password").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let before = peak_rss_mib(&proc);
    let statuses = burst_of_wrong_logins(&base, "127.0.0.5", "ann", 40).await;
    let peak = peak_rss_mib(&proc);
    let refused = statuses.iter().filter(|s| **s == 429).count();
    eprintln!(
        "40 parallel wrong logins: {refused} refused; peak RSS {before} MiB before, {peak} MiB after"
    );
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    assert!(refused >= 30, "only {refused} of 40 were refused");
    assert!(peak < 250, "peak RSS {peak} MiB");
    // The right password still works from an address that did not guess.
    let s = login(&client_from("127.0.0.6"), &base, "ann", "correct horse").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_from_elsewhere_do_not_lock_the_owner_out() {
    let dir = tempfile::tempdir().unwrap();
    let (_proc, base, _) = server_with_ann(&dir, &[]);
    let home = client_from("127.0.0.2");
    assert_eq!(
        login(&home, &base, "ann", "correct horse").await,
        StatusCode::OK
    );
    // Guesses from 40 addresses, then from one of them many more.
    for i in 10..50 {
        let attacker = client_from(&format!("127.0.0.{i}"));
        let _ = login(&attacker, &base, "ann", "guess").await;
    }
    let attacker = client_from("127.0.0.10");
    for _ in 0..20 {
        let _ = login(&attacker, &base, "ann", "guess").await;
    }
    assert_eq!(
        login(&attacker, &base, "ann", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A new address has to wait; the owner's known one does not.
    assert_eq!(
        login(&client_from("127.0.0.99"), &base, "ann", "correct horse").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login(&home, &base, "ann", "correct horse").await,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_no_account_can_have_are_neither_kept_nor_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (proc, base, _) = server_with_ann(&dir, &[]);
    let from = client_from("127.0.0.3");
    let before = peak_rss_mib(&proc);
    // More than the address's 50 failures, each with a 200 KB name.
    let huge = "x".repeat(200 * 1024);
    for _ in 0..60 {
        assert_eq!(
            login(&from, &base, &huge, "guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    // None was counted: the owner still logs in from that address.
    assert_eq!(
        login(&from, &base, "ann", "correct horse").await,
        StatusCode::OK
    );
    let grown = peak_rss_mib(&proc) - before;
    assert!(grown < 40, "the process grew by {grown} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let (_proc, base, _) = server_with_ann(&dir, &[("DUEFLOW_TRUSTED_PROXIES", "127.0.0.1/32")]);
    let proxy = client_from("127.0.0.1");
    for _ in 0..5 {
        let s = login_via(&proxy, &base, "ann", "guess", Some("203.0.113.7")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let again = login_via(&proxy, &base, "ann", "guess", Some("203.0.113.7")).await;
    assert_eq!(again, StatusCode::TOO_MANY_REQUESTS, "the guesser waits");
    // Another client behind the same proxy has its own count.
    let other = login_via(&proxy, &base, "ann", "typo", Some("198.51.100.9")).await;
    assert_eq!(other, StatusCode::UNAUTHORIZED);
    let owner = login_via(&proxy, &base, "ann", "correct horse", Some("198.51.100.9")).await;
    assert_eq!(owner, StatusCode::OK);

    // From an address that is no trusted proxy, the header is ignored.
    let direct = client_from("127.0.0.6");
    for i in 0..5 {
        let forged = format!("192.0.2.{i}");
        let s = login_via(&direct, &base, "nobody", "guess", Some(&forged)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let forged = login_via(&direct, &base, "nobody", "guess", Some("192.0.2.200")).await;
    assert_eq!(forged, StatusCode::TOO_MANY_REQUESTS);
}

/// Read from `conn` until it closes or `limit` passes; what was read and
/// whether it closed.
fn read_until_closed(conn: &mut TcpStream, limit: Duration) -> (String, bool) {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        conn.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match conn.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&got).into_owned(), true);
            }
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_without_holding_up_others() {
    let dir = tempfile::tempdir().unwrap();
    let (_proc, base, _) = server_with_ann(
        &dir,
        &[
            ("DUEFLOW_HTTP_HEADER_TIMEOUT_SECS", "2"),
            ("DUEFLOW_HTTP_BODY_TIMEOUT_SECS", "2"),
        ],
    );
    let addr = base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let mut half_header = TcpStream::connect(&addr).unwrap();
    half_header
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: dueflow\r\n")
        .unwrap();
    let mut slow_body = TcpStream::connect(&addr).unwrap();
    slow_body
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: dueflow\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
        )
        .unwrap();
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: dueflow\r\n\r\n")
        .unwrap();

    // Meanwhile everyone else is served at once.
    let http = reqwest::Client::new();
    let res = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));

    let (got, closed) = read_until_closed(&mut half_header, Duration::from_secs(6));
    assert!(closed, "an incomplete header is cut off; got {got:?}");
    let (got, closed) = read_until_closed(&mut slow_body, Duration::from_secs(6));
    assert!(closed, "a stalled body is cut off; got {got:?}");
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 4"), "{got}");
    let (got, closed) = read_until_closed(&mut idle, Duration::from_secs(6));
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(closed, "an idle keep-alive connection is closed");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_connections_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let (_proc, base, _) = server_with_ann(
        &dir,
        &[
            ("DUEFLOW_MAX_CONNECTIONS", "3"),
            ("DUEFLOW_MAX_STREAMS", "2"),
        ],
    );
    let addr = base.trim_start_matches("http://").to_owned();
    let mut silent: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut fourth = TcpStream::connect(&addr).unwrap();
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: dueflow\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (got, _) = read_until_closed(&mut fourth, Duration::from_secs(1));
    assert!(got.is_empty(), "a fourth connection waits; got {got:?}");
    silent.pop();
    let (got, _) = read_until_closed(&mut fourth, Duration::from_secs(3));
    assert!(
        got.starts_with("HTTP/1.1 200"),
        "served once a place is free: {got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_outlast_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (_proc, base, token) = server_with_ann(&dir, &[("DUEFLOW_HTTP_HEADER_TIMEOUT_SECS", "1")]);
    let http = reqwest::Client::new();
    let mut ws = connect(&base, &token, None).await;
    let mut sse = http
        .get(format!("{base}/api/v1/stream"))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let res = http
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(&token)
        .json(&json!({"title": "after a quiet while"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let e = next(&mut ws, Duration::from_secs(3))
        .await
        .expect("the WebSocket still delivers");
    assert_eq!(e["type"], "dueflow.task.created.v1");
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !text.contains("dueflow.task.created.v1") && Instant::now() < deadline {
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_millis(500), sse.chunk()).await
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(text.contains("dueflow.task.created.v1"), "SSE: {text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_directory_and_database_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let (_proc, base, token) = server_with_ann(&dir, &[]);
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(&token)
        .json(&json!({"title": "written through the log"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let data = dir.path().join("data");
    let mode = |name: &str| {
        let path = data.join(name);
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        meta.permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "the data directory");
    for name in ["dueflow.db", "dueflow.db-wal", "dueflow.db-shm"] {
        assert_eq!(mode(name), 0o600, "{name}");
    }
}
