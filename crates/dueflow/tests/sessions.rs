//! The session cookie and the live streams against the real binary: the
//! cookie works only from this server's own pages (its `Origin`), bearer
//! tokens anywhere; revoking a token or session, or logging out, closes
//! the streams opened with it (also when revoked through another `api`
//! process on the same database); and live streams are capped per user and
//! per process.

mod common;

use std::time::{Duration, Instant};

use common::process::{
    Proc, dueflow, free_port, named_user_with_token, one_process_env, serve, user_with_token,
};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const EVIL: &str = "http://evil.example";

/// One `dueflow serve` (every role, SQLite) with extra environment.
struct Server {
    _proc: Proc,
    base: String,
    /// API tokens of the users `ann` and `bob`.
    token: String,
    bob: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[(&'static str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut env = one_process_env(dir.path());
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let token = user_with_token(&env);
        let bob = named_user_with_token(&env, "bob");
        let port = free_port();
        Server {
            _proc: serve(&env, port, &[]),
            base: format!("http://127.0.0.1:{port}"),
            token,
            bob,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// This server's own origin, as its pages send it.
    fn origin(&self) -> &str {
        &self.base
    }
}

/// Log `name` in at `base`: the `Set-Cookie` line, the cookie's
/// `name=value` pair and the session token.
async fn login(base: &str, name: &str) -> (String, String, String) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"name": name, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let pair = set.split(';').next().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    (set, pair, body["token"].as_str().unwrap().to_owned())
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect()
}

/// Send `method path` with `hs` (and a JSON body if given): status and body.
async fn call(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    hs: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = http
        .request(method, format!("{base}{path}"))
        .headers(headers(hs));
    if let Some(b) = body {
        r = r.json(&b);
    }
    common::send(r).await
}

/// Open the WebSocket stream with `hs`: the socket, or the refusal's
/// status, `Retry-After` and body.
async fn websocket(base: &str, hs: &[(&str, &str)]) -> Result<Ws, (u16, String, String)> {
    let mut req = format!("{}/api/v1/stream", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().extend(headers(hs));
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(res)) => Err((
            res.status().as_u16(),
            res.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            String::from_utf8_lossy(res.body().as_deref().unwrap_or_default()).into_owned(),
        )),
        Err(e) => panic!("websocket: {e}"),
    }
}

/// Open the Server-Sent Events stream with `hs`.
async fn sse(base: &str, hs: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/stream"))
        .header(header::ACCEPT, "text/event-stream")
        .headers(headers(hs))
        .send()
        .await
        .unwrap()
}

/// Whether the WebSocket ends (closed by the server) within `wait`.
async fn ws_ends(ws: &mut Ws, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Whether the SSE body ends within `wait`.
async fn sse_ends(res: &mut reqwest::Response, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Err(_) => return false,
            Ok(Ok(None) | Err(_)) => return true,
            Ok(Ok(Some(_))) => {}
        }
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_works_only_from_this_servers_own_pages() {
    let s = Server::start(&[]);
    let (set, cookie, _) = login(&s.base, "ann").await;
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && !set.contains("Secure"),
        "plain http without public_url: {set}"
    );
    let auth = bearer(&s.token);
    let (st, task) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/tasks",
        &[("authorization", &auth)],
        Some(json!({"title": "keep me"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = task["id"].as_str().unwrap().to_owned();

    // The cookie from another site's page, or with no Origin at all.
    for hs in [
        vec![("cookie", cookie.as_str()), ("origin", EVIL)],
        vec![("cookie", cookie.as_str()), ("origin", "null")],
        vec![("cookie", cookie.as_str())],
        vec![
            ("cookie", cookie.as_str()),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        for (method, path, body) in [
            (
                reqwest::Method::POST,
                "/api/v1/tasks".to_owned(),
                Some(json!({"title": "forged"})),
            ),
            (
                reqwest::Method::POST,
                format!("/api/v1/tasks/{id}/complete"),
                None,
            ),
            (reqwest::Method::DELETE, format!("/api/v1/tasks/{id}"), None),
            (
                reqwest::Method::PATCH,
                "/api/v1/me".to_owned(),
                Some(json!({"tz": "Europe/Berlin"})),
            ),
        ] {
            let res = s
                .http
                .request(method.clone(), format!("{}{path}", s.base))
                .headers(headers(&hs))
                .json(&body.unwrap_or(Value::Null))
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::FORBIDDEN,
                "{method} {path} {hs:?}"
            );
            assert_eq!(
                res.headers()[header::CONTENT_TYPE],
                "application/problem+json"
            );
            let v: Value = res.json().await.unwrap();
            assert!(
                v["detail"].as_str().unwrap().contains("session cookie"),
                "{v}"
            );
        }
        let ws = websocket(&s.base, &hs).await.expect_err("refused");
        assert_eq!(ws.0, 403, "WebSocket {hs:?}: {ws:?}");
        assert!(ws.2.contains("session cookie"), "{ws:?}");
        let res = sse(&s.base, &hs).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "SSE {hs:?}");
    }
    let (st, v) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/tasks",
        &[("cookie", &cookie), ("origin", EVIL)],
        Some(json!({"title": "forged"})),
    )
    .await;
    assert!(
        st == StatusCode::FORBIDDEN && v["detail"].as_str().unwrap().contains(EVIL),
        "the detail names the foreign origin: {v}"
    );
    // Nothing changed.
    let (st, v) = call(
        &s.http,
        &s.base,
        reqwest::Method::GET,
        &format!("/api/v1/tasks/{id}"),
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], "open", "{v}");
    let (_, list) = call(
        &s.http,
        &s.base,
        reqwest::Method::GET,
        "/api/v1/tasks",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // Reading with the cookie is not a change: a link from another site works.
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::GET,
        "/api/v1/me",
        &[("cookie", &cookie), ("origin", EVIL)],
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    // From this server's own pages everything works.
    let own = [("cookie", cookie.as_str()), ("origin", s.origin())];
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/tasks",
        &own,
        Some(json!({"title": "mine"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        &format!("/api/v1/tasks/{id}/complete"),
        &own,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::DELETE,
        &format!("/api/v1/tasks/{id}"),
        &own,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(websocket(&s.base, &own).await.is_ok());
    let same_origin_fetch = [
        ("cookie", cookie.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    assert_eq!(
        sse(&s.base, &same_origin_fetch).await.status(),
        StatusCode::OK,
        "a same-origin EventSource sends no Origin"
    );

    // A bearer token is never sent by a browser on its own: no Origin rule.
    let foreign_bearer = [("authorization", auth.as_str()), ("origin", EVIL)];
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/tasks",
        &foreign_bearer,
        Some(json!({"title": "from a script elsewhere"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(websocket(&s.base, &foreign_bearer).await.is_ok());
    assert_eq!(sse(&s.base, &foreign_bearer).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_url_sets_the_origin_and_the_secure_cookie() {
    let s = Server::start(&[("DUEFLOW_PUBLIC_URL", "https://tasks.example.test/app/")]);
    let (set, cookie, _) = login(&s.base, "ann").await;
    assert!(set.contains("; Secure"), "https public_url: {set}");
    let post = |origin: &'static str| {
        let (http, base, cookie) = (s.http.clone(), s.base.clone(), cookie.clone());
        async move {
            call(
                &http,
                &base,
                reqwest::Method::POST,
                "/api/v1/tasks",
                &[("cookie", &cookie), ("origin", origin)],
                Some(json!({"title": "t"})),
            )
            .await
            .0
        }
    };
    assert_eq!(
        post("https://tasks.example.test").await,
        StatusCode::CREATED
    );
    assert_eq!(
        post("http://tasks.example.test").await,
        StatusCode::FORBIDDEN,
        "another scheme is another origin"
    );
    let own_host = format!("http://{}", s.base.trim_start_matches("http://"));
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/tasks",
        &[("cookie", &cookie), ("origin", &own_host)],
        Some(json!({"title": "t"})),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "public_url, not the Host, is the origin"
    );

    // secure_cookies overrides what public_url implies.
    let s = Server::start(&[
        ("DUEFLOW_PUBLIC_URL", "https://tasks.example.test"),
        ("DUEFLOW_SECURE_COOKIES", "false"),
    ]);
    let (set, _, _) = login(&s.base, "ann").await;
    assert!(!set.contains("Secure"), "{set}");

    // A public_url that is not an absolute http(s) URL stops the server.
    let dir = tempfile::tempdir().unwrap();
    let mut env = one_process_env(dir.path());
    env.push(("DUEFLOW_PUBLIC_URL", "tasks.example.test".to_owned()));
    let out = dueflow(&env, &["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("public_url = 'tasks.example.test'"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_token_closes_its_streams_at_once() {
    let s = Server::start(&[]);
    let auth = bearer(&s.token);
    let (st, second) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/tokens",
        &[("authorization", &auth)],
        Some(json!({"name": "phone"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let second_auth = bearer(second["token"].as_str().unwrap());
    let mut ws = websocket(&s.base, &[("authorization", &second_auth)])
        .await
        .unwrap();
    let mut events = sse(&s.base, &[("authorization", &second_auth)]).await;
    assert_eq!(events.status(), StatusCode::OK);
    let mut other = websocket(&s.base, &[("authorization", &auth)])
        .await
        .unwrap();
    assert!(
        !ws_ends(&mut ws, Duration::from_millis(300)).await,
        "open before"
    );

    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::DELETE,
        &format!("/api/v1/tokens/{}", second["id"].as_str().unwrap()),
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let revoked = Instant::now();
    assert!(ws_ends(&mut ws, Duration::from_secs(2)).await, "WebSocket");
    assert!(sse_ends(&mut events, Duration::from_secs(2)).await, "SSE");
    assert!(revoked.elapsed() < Duration::from_secs(2));

    // A login session revokes the same way.
    let (_, cookie, _) = login(&s.base, "ann").await;
    let mut by_cookie = websocket(&s.base, &[("cookie", &cookie), ("origin", s.origin())])
        .await
        .unwrap();
    let (_, tokens) = call(
        &s.http,
        &s.base,
        reqwest::Method::GET,
        "/api/v1/tokens",
        &[("authorization", &auth)],
        None,
    )
    .await;
    let session = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "session")
        .expect("the session is listed");
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::DELETE,
        &format!("/api/v1/tokens/{}", session["id"].as_str().unwrap()),
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(
        ws_ends(&mut by_cookie, Duration::from_secs(2)).await,
        "the session's stream"
    );

    // The other token's stream stays and still carries events.
    call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/tasks",
        &[("authorization", &auth)],
        Some(json!({"title": "still live"})),
    )
    .await;
    let got = common::live::next(&mut other, Duration::from_secs(5)).await;
    assert_eq!(got.expect("event")["type"], "dueflow.task.created.v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_revokes_the_session_and_closes_its_streams() {
    let s = Server::start(&[]);
    let (_, cookie, token) = login(&s.base, "ann").await;
    let own = [("cookie", cookie.as_str()), ("origin", s.origin())];
    let mut by_cookie = websocket(&s.base, &own).await.unwrap();
    let session_auth = bearer(&token);
    let mut by_token = sse(&s.base, &[("authorization", &session_auth)]).await;
    assert_eq!(by_token.status(), StatusCode::OK);

    // Another site cannot log the user out.
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/auth/logout",
        &[("cookie", &cookie), ("origin", EVIL)],
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let res = s
        .http
        .post(format!("{}/api/v1/auth/logout", s.base))
        .headers(headers(&own))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cleared = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("dueflow_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert!(ws_ends(&mut by_cookie, Duration::from_secs(2)).await);
    assert!(sse_ends(&mut by_token, Duration::from_secs(2)).await);
    for hs in [own.to_vec(), vec![("authorization", session_auth.as_str())]] {
        let (st, _) = call(
            &s.http,
            &s.base,
            reqwest::Method::GET,
            "/api/v1/me",
            &hs,
            None,
        )
        .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{hs:?}");
    }

    // A bearer session logs out the same way; other credentials stay.
    let (_, _, token) = login(&s.base, "ann").await;
    let session_auth = bearer(&token);
    let (st, _) = call(
        &s.http,
        &s.base,
        reqwest::Method::POST,
        "/api/v1/auth/logout",
        &[("authorization", &session_auth)],
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for (auth, expected) in [
        (session_auth, StatusCode::UNAUTHORIZED),
        (bearer(&s.token), StatusCode::OK),
    ] {
        let (st, _) = call(
            &s.http,
            &s.base,
            reqwest::Method::GET,
            "/api/v1/me",
            &[("authorization", &auth)],
            None,
        )
        .await;
        assert_eq!(st, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_another_replica_closes_streams_within_two_seconds() {
    let db = common::fresh_pg_database().await;
    let env = vec![("DUEFLOW_DATABASE_URL", db)];
    assert!(dueflow(&env, &["migrate"]).status().unwrap().success());
    let token = named_user_with_token(&env, "ann");
    // Two api replicas; no broker runs, and none is needed to revoke.
    let nowhere = format!("127.0.0.1:{}", free_port());
    let api = |port: u16| {
        serve(
            &env,
            port,
            &[
                "--roles",
                "api",
                "--bus",
                "kafka",
                "--kafka-brokers",
                &nowhere,
            ],
        )
    };
    let (pa, pb) = (free_port(), free_port());
    let (_a, _b) = (api(pa), api(pb));
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    let http = reqwest::Client::new();
    let auth = bearer(&token);
    for round in 0..3 {
        let (st, second) = call(
            &http,
            &a,
            reqwest::Method::POST,
            "/api/v1/tokens",
            &[("authorization", &auth)],
            Some(json!({"name": format!("phone {round}")})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        let second_auth = bearer(second["token"].as_str().unwrap());
        let mut ws = websocket(&b, &[("authorization", &second_auth)])
            .await
            .unwrap();
        let mut events = sse(&b, &[("authorization", &second_auth)]).await;
        assert_eq!(events.status(), StatusCode::OK);
        // Revoke at different points of replica B's re-checking.
        tokio::time::sleep(Duration::from_millis(700 * round + 300)).await;
        assert!(!ws_ends(&mut ws, Duration::from_millis(10)).await);

        let (st, _) = call(
            &http,
            &a,
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{}", second["id"].as_str().unwrap()),
            &[("authorization", &auth)],
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let revoked = Instant::now();
        let (ws_closed, sse_closed) = tokio::join!(
            ws_ends(&mut ws, Duration::from_secs(2)),
            sse_ends(&mut events, Duration::from_secs(2))
        );
        assert!(
            ws_closed && sse_closed,
            "round {round}: WebSocket closed {ws_closed}, SSE closed {sse_closed}, after {:?}",
            revoked.elapsed()
        );
        let (st, _) = call(
            &http,
            &b,
            reqwest::Method::GET,
            "/api/v1/me",
            &[("authorization", &second_auth)],
            None,
        )
        .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_holds_at_most_twenty_streams() {
    let s = Server::start(&[]);
    let auth = bearer(&s.token);
    let me = [("authorization", auth.as_str())];
    let mut open = Vec::new();
    for _ in 0..20 {
        open.push(websocket(&s.base, &me).await.expect("within the cap"));
    }
    let (status, retry_after, body) = websocket(&s.base, &me).await.expect_err("the 21st");
    assert_eq!(status, 429, "{body}");
    assert!(retry_after.parse::<u64>().unwrap() > 0);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("20 live streams open, the most one user may hold"),
        "{v}"
    );
    let res = sse(&s.base, &me).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key(header::RETRY_AFTER));

    // Another user is not held back by ann's streams.
    let bob = bearer(&s.bob);
    let _bobs = websocket(&s.base, &[("authorization", &bob)])
        .await
        .expect("bob's first stream");

    // A closed stream frees its place.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match websocket(&s.base, &me).await {
            Ok(ws) => {
                open.push(ws);
                break;
            }
            Err((429, _, _)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the freed place was not given back: {e:?}"),
        }
    }
    assert_eq!(websocket(&s.base, &me).await.err().unwrap().0, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_holds_at_most_max_streams() {
    let s = Server::start(&[("DUEFLOW_MAX_STREAMS", "3")]);
    let (ann, bob, base) = (bearer(&s.token), bearer(&s.bob), s.base.clone());
    let _held = [
        websocket(&base, &[("authorization", &ann)]).await.unwrap(),
        websocket(&base, &[("authorization", &ann)]).await.unwrap(),
        websocket(&base, &[("authorization", &bob)]).await.unwrap(),
    ];
    for who in [&ann, &bob] {
        let (status, _, body) = websocket(&base, &[("authorization", who)])
            .await
            .expect_err("over the process's cap");
        assert_eq!(status, 429);
        assert!(body.contains("this server holds 3 live streams"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_streams_and_the_process_exits() {
    let mut s = Server::start(&[]);
    let auth = bearer(&s.token);
    let mut ws = websocket(&s.base, &[("authorization", &auth)])
        .await
        .unwrap();
    let mut events = sse(&s.base, &[("authorization", &auth)]).await;
    assert_eq!(events.status(), StatusCode::OK);
    assert!(
        !ws_ends(&mut ws, Duration::from_millis(300)).await,
        "open before"
    );

    let ending = tokio::task::spawn_blocking(move || {
        let exited = s._proc.terminate(Duration::from_secs(10));
        (s, exited)
    });
    assert!(ws_ends(&mut ws, Duration::from_secs(3)).await, "WebSocket");
    assert!(sse_ends(&mut events, Duration::from_secs(3)).await, "SSE");
    let (_s, exited) = ending.await.unwrap();
    assert!(exited.success(), "{exited}");
}
