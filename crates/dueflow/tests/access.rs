//! Accounts and access on SQLite and PostgreSQL: registration only when
//! open, login with cookie and rate limit, token lifecycle, and isolation —
//! another user's task answers exactly like a missing one, through every
//! route and verb, and changes nothing.

mod common;

use common::{Backend, TestServer, send};
use dueflow_api::ApiConfig;
use dueflow_app::AppConfig;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

async fn tokens_and_sessions(s: &TestServer) {
    let ann = s.user("ann").await;
    let (st, _) = send(s.http.get(format!("{}/api/v1/tasks", s.base))).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = send(
        s.http
            .get(format!("{}/api/v1/tasks", s.base))
            .bearer_auth("dft_forged"),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let (st, created) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "laptop"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap().to_owned();
    let (_, list) = s.call(&ann, Method::GET, "/api/v1/tokens", None).await;
    let text = list.to_string();
    assert!(
        text.contains("laptop") && !text.contains(&secret),
        "listed without secrets"
    );
    let second = common::Session {
        name: "ann".into(),
        token: secret,
    };
    let (st, me) = s.call(&second, Method::GET, "/api/v1/me", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["name"], "ann");
    let (st, _) = s
        .call(
            &ann,
            Method::DELETE,
            &format!("/api/v1/tokens/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.call(&second, Method::GET, "/api/v1/me", None).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "a revoked token stops working at once"
    );

    // Login sets an HttpOnly cookie that authenticates the web UI.
    let res = s
        .http
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"name": "ANN", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let (st, me) = send(
        s.http
            .get(format!("{}/api/v1/me", s.base))
            .header(header::COOKIE, pair),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["name"], "ann");

    // Time zone of the account.
    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"tz": "Europe/Berlin"})),
        )
        .await;
    assert_eq!(
        (st, v["tz"].as_str()),
        (StatusCode::OK, Some("Europe/Berlin"))
    );
    let t = s.create(&ann, json!({"title": "zoned"})).await;
    assert_eq!(t["tz"], "Europe/Berlin");
    let (st, _) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"tz": "Nowhere/Else"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Registration is closed by default.
    let (st, v) = send(
        s.http
            .post(format!("{}/api/v1/auth/register", s.base))
            .json(&json!({"name": "eve", "password": "long enough"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
}

async fn login_rate_limit(s: &TestServer) {
    s.user("bob").await;
    let login = |pw: &'static str| {
        send(
            s.http
                .post(format!("{}/api/v1/auth/login", s.base))
                .json(&json!({"name": "bob", "password": pw})),
        )
    };
    for _ in 0..dueflow_app::accounts::limiter::FREE_PER_PAIR {
        assert_eq!(login("wrong password").await.0, StatusCode::UNAUTHORIZED);
    }
    let (st, v) = login("correct horse").await;
    assert_eq!(
        st,
        StatusCode::TOO_MANY_REQUESTS,
        "locked even with the right password: {v}"
    );
    let (st, _) = send(
        s.http
            .post(format!("{}/api/v1/auth/login", s.base))
            .json(&json!({"name": "nobody", "password": "whatever1"})),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "an unknown user looks like a wrong password"
    );
}

async fn isolation(s: &TestServer) {
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    // A webhook first, so that creating the task queues a delivery for it.
    let (st, hook) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "https://hooks.example.com/ann", "events": ["task.created"]})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{hook}");
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let t = s.create(&ann, json!({"title": "ann's secret", "tags": ["private"], "due": "2099-12-01", "recurrence": {"rrule": "FREQ=DAILY"}, "reminders": [{"before": "PT1H"}]})).await;
    let id = t["id"].as_str().unwrap();
    let (_, tokens) = s.call(&ann, Method::GET, "/api/v1/tokens", None).await;
    let ann_token_id = tokens[0]["id"].as_str().unwrap().to_owned();
    let (_, reminders) = s.call(&ann, Method::GET, "/api/v1/reminders", None).await;
    let reminder_id = reminders[0]["id"].as_str().unwrap().to_owned();
    let deliveries_path = format!("/api/v1/webhooks/{hook_id}/deliveries");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let delivery_id = loop {
        let (_, d) = s.call(&ann, Method::GET, &deliveries_path, None).await;
        if let Some(id) = d[0]["id"].as_str() {
            break id.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery queued: {d}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let missing = "tsk_00000000000000000000000000000000";

    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/tasks/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/tasks/{id}"),
            Some(json!({"title": "pwned"})),
        ),
        (Method::DELETE, format!("/api/v1/tasks/{id}"), None),
        (Method::POST, format!("/api/v1/tasks/{id}/complete"), None),
        (Method::POST, format!("/api/v1/tasks/{id}/reopen"), None),
        (Method::GET, format!("/api/v1/tasks/{id}/occurrences"), None),
        (
            Method::DELETE,
            format!("/api/v1/tokens/{ann_token_id}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/reminders/{reminder_id}/snooze"),
            Some(json!({"for": "PT1M"})),
        ),
        (
            Method::POST,
            format!("/api/v1/reminders/{reminder_id}/dismiss"),
            None,
        ),
        (Method::GET, deliveries_path.clone(), None),
        (
            Method::POST,
            format!("{deliveries_path}/{delivery_id}/redeliver"),
            None,
        ),
        (Method::DELETE, format!("/api/v1/webhooks/{hook_id}"), None),
    ];
    for (method, path, body) in routes {
        let (st, theirs) = s.call(&bob, method.clone(), &path, body.clone()).await;
        let missing_path = path
            .replace(id, missing)
            .replace(&ann_token_id, "tok_00000000000000000000000000000000")
            .replace(&reminder_id, "rem_00000000000000000000000000000000")
            .replace(&hook_id, "whk_00000000000000000000000000000000")
            .replace(&delivery_id, "msg_00000000000000000000000000000000");
        let (st_missing, nothing) = s.call(&bob, method.clone(), &missing_path, body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(
            (st, &theirs),
            (st_missing, &nothing),
            "{method} {path} looks exactly like a missing one"
        );
    }
    assert!(s.titles(&bob, "", "").await.is_empty());
    assert!(s.titles(&bob, "secret", "").await.is_empty());
    let (_, tags) = s.call(&bob, Method::GET, "/api/v1/tags", None).await;
    assert_eq!(tags, json!([]));
    let (_, bob_tokens) = s.call(&bob, Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(bob_tokens.as_array().unwrap().len(), 1);
    for list in ["/api/v1/reminders", "/api/v1/webhooks"] {
        let (_, theirs) = s.call(&bob, Method::GET, list, None).await;
        assert_eq!(theirs, json!([]), "{list}");
    }
    let (_, still) = s.call(&ann, Method::GET, "/api/v1/reminders", None).await;
    assert_eq!(still, reminders, "ann's reminders unchanged");
    let (_, hooks) = s.call(&ann, Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(hooks.as_array().unwrap().len(), 1, "ann's webhook survived");

    let (st, after) = s
        .call(&ann, Method::GET, &format!("/api/v1/tasks/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(after, t, "nothing of ann's changed");
    let (st, _) = s.call(&ann, Method::GET, "/api/v1/me", None).await;
    assert_eq!(st, StatusCode::OK, "ann's token survived");
}

both_backends!(tokens_and_sessions, login_rate_limit, isolation);

#[tokio::test]
async fn open_registration_creates_accounts() {
    let s = TestServer::start_with(
        Backend::Sqlite,
        ApiConfig {
            app: AppConfig {
                open_registration: true,
                ..AppConfig::default()
            },
            ..ApiConfig::default()
        },
    )
    .await;
    let reg = |name: &'static str, pw: &'static str| {
        send(
            s.http
                .post(format!("{}/api/v1/auth/register", s.base))
                .json(&json!({"name": name, "password": pw, "tz": "Asia/Tokyo"})),
        )
    };
    let (st, v) = reg("Eve", "long enough").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["name"].as_str(), v["tz"].as_str()),
        (Some("eve"), Some("Asia/Tokyo"))
    );
    assert_eq!(reg("eve", "long enough").await.0, StatusCode::CONFLICT);
    let (st, v) = reg("mallory", "short").await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password"))
    );
    let (st, v) = reg("bad name!", "long enough").await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name"))
    );
}
