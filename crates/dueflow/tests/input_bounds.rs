//! Crafted values at and beyond the edges of what the API takes, on SQLite
//! and PostgreSQL: list cursors the server could not have issued, dues
//! outside the years 1–9999, offsets and relative dates too far off. Each
//! is a 400 problem naming its field, and changes nothing; values at the
//! edges work.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Session, TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn encoded(v: Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// `GET path` with `query`: a 400 problem+json naming `field`.
async fn refused(s: &TestServer, who: &Session, path: &str, query: &[(&str, &str)], field: &str) {
    let res = s
        .req(who, Method::GET, path)
        .query(query)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {query:?}: {body}");
    assert_eq!(ct, "application/problem+json", "{path} {query:?}");
    assert_eq!(body["field"], field, "{path} {query:?}: {body}");
    assert!(!body["detail"].as_str().unwrap().is_empty(), "{body}");
}

async fn cursors_the_server_never_issued(s: &TestServer) {
    let ann = s.user("ann").await;
    for i in 0..3 {
        s.create(
            &ann,
            json!({"title": format!("milk {i}"), "due": "2026-12-01"}),
        )
        .await;
    }
    let (st, page) = s
        .call(&ann, Method::GET, "/api/v1/tasks?limit=1", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let real: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(page["next_cursor"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let with = |k: &str, v: Value| {
        let mut c = real.clone();
        c[k] = v;
        encoded(c)
    };
    for cursor in [
        with("n", json!(i64::MAX)),
        with("n", json!(i64::MIN)),
        with("n", json!(253_402_300_800_000_i64)),
        with("n", json!(-62_135_596_800_001_i64)),
        with("i", json!("tsk_\u{0}")),
        with("i", json!("x' OR 1=1 --")),
    ] {
        refused(
            s,
            &ann,
            "/api/v1/tasks",
            &[("limit", "1"), ("cursor", &cursor)],
            "cursor",
        )
        .await;
    }
    let title_key = encoded(json!({"s": "title", "n": real["n"], "k": ["a\u{0}"], "i": "tsk_x"}));
    refused(
        s,
        &ann,
        "/api/v1/tasks",
        &[("sort", "title"), ("cursor", &title_key)],
        "cursor",
    )
    .await;

    // A relevance key no row could have.
    let (st, found) = s
        .call(&ann, Method::GET, "/api/v1/tasks?q=milk&limit=1", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{found}");
    let mut c: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(found["next_cursor"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    c["k"] = json!([i64::MIN]);
    let (st, v) = send(
        s.req(&ann, Method::GET, "/api/v1/tasks")
            .query(&[("q", "milk"), ("cursor", &encoded(c))]),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("cursor"), "{v}");

    // The other lists' cursors.
    for path in ["/api/v1/notifications", "/api/v1/activity"] {
        for raw in [
            format!("{}:ntf_\u{0}", i64::MAX),
            format!("{}:evt_x", i64::MIN),
            "99999999999999999999:evt_x".to_owned(),
        ] {
            let cursor = URL_SAFE_NO_PAD.encode(&raw);
            let (st, v) = send(s.req(&ann, Method::GET, path).query(&[("cursor", &cursor)])).await;
            match raw.split_once(':').unwrap().1 {
                "evt_x" if !raw.starts_with('9') => {
                    assert_eq!(st, StatusCode::OK, "{path} {raw:?}: {v}")
                }
                _ => refused(s, &ann, path, &[("cursor", &cursor)], "cursor").await,
            }
        }
    }
    // Real cursors still page through everything.
    assert_eq!(s.titles(&ann, "", "title").await.len(), 3);
    assert_eq!(s.titles(&ann, "milk", "").await.len(), 3);
}

async fn dates_beyond_the_years_a_due_takes(s: &TestServer) {
    let ann = s.user("ann").await;
    for (body, field) in [
        (json!({"title": "x", "due": "+262142-12-31"}), "due"),
        (json!({"title": "x", "due": "-0001-01-01"}), "due"),
        (json!({"title": "x", "due": "0000-12-31"}), "due"),
        (
            json!({"title": "x", "due": "+262142-12-31", "recurrence": {"rrule": "FREQ=DAILY"}}),
            "due",
        ),
        (
            json!({"title": "x", "due": "2026-12-01", "reminders": [{"before": "P9999999D"}]}),
            "reminders",
        ),
        (
            json!({"title": "x", "reminders": [{"at": "+262142-12-31T00:00:00Z"}]}),
            "reminders",
        ),
    ] {
        let (st, v) = s
            .call(&ann, Method::POST, "/api/v1/tasks", Some(body.clone()))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(
            v["field"].as_str().is_some_and(|f| f.starts_with(field))
                || v["detail"].as_str().unwrap().contains(field),
            "{body}: {v}"
        );
    }
    // An existing task is not changed by an out-of-range due either.
    let t = s.create(&ann, json!({"title": "Edge", "due": "9999-12-30", "recurrence": {"rrule": "FREQ=DAILY"}, "reminders": [{"before": "P365D"}]})).await;
    let id = t["id"].as_str().unwrap();
    let (st, v) = send(
        s.req(&ann, Method::PATCH, &format!("/api/v1/tasks/{id}"))
            .json(&json!({"due": "+262142-12-31"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (_, now) = s
        .call(&ann, Method::GET, &format!("/api/v1/tasks/{id}"), None)
        .await;
    assert_eq!(now["due"], "9999-12-30");
    assert_eq!(now["version"], t["version"]);

    // At the edge: the preview and the completion stay within the range.
    let (st, v) = s
        .call(
            &ann,
            Method::GET,
            &format!("/api/v1/tasks/{id}/occurrences"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!(["9999-12-31"]));
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/tasks/{id}/complete"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // Relative and absolute filters too far off.
    for q in ["due<=99999999d", "due>-9999999999999w", "due<+262142-12-31"] {
        refused(s, &ann, "/api/v1/tasks", &[("q", q)], "q").await;
    }

    // Snoozes too far off.
    for (body, field) in [
        (json!({"for": "P9999999D"}), "for"),
        (json!({"until": "+262142-12-31T00:00:00Z"}), "until"),
    ] {
        let (st, v) = s
            .call(
                &ann,
                Method::POST,
                "/api/v1/reminders/rem_x/snooze",
                Some(body.clone()),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["field"], field, "{body}: {v}");
    }
}

both_backends!(
    cursors_the_server_never_issued,
    dates_beyond_the_years_a_due_takes
);
