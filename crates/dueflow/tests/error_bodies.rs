//! Every error the real router gives is `application/problem+json` with a
//! detail, those it answers by itself too: a method a route does not take,
//! a path segment that is not UTF-8, a bad query, JSON or header, and paths
//! no route matches. Made-up methods add no series to `/metrics`.

mod common;

use common::{TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn every_error_is_a_problem(s: &TestServer) {
    let ann = s.user("ann").await;
    let task = s.create(&ann, serde_json::json!({"title": "x"})).await;
    let id = task["id"].as_str().unwrap();
    let made_up = Method::from_bytes(b"BREW").unwrap();
    let cases: Vec<(reqwest::RequestBuilder, StatusCode)> = vec![
        // Methods a route does not take.
        (
            s.req(&ann, Method::PUT, "/api/v1/tasks"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            s.req(&ann, Method::DELETE, "/healthz"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            s.req(&ann, made_up.clone(), "/api/v1/tasks"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (s.req(&ann, made_up, "/no/such/path"), StatusCode::NOT_FOUND),
        // Path segments.
        (
            s.req(&ann, Method::GET, "/api/v1/tasks/%FF"),
            StatusCode::BAD_REQUEST,
        ),
        (
            s.req(&ann, Method::DELETE, "/api/v1/webhooks/%C3%28"),
            StatusCode::BAD_REQUEST,
        ),
        (
            s.req(&ann, Method::GET, "/api/v1/nothing-here"),
            StatusCode::NOT_FOUND,
        ),
        // Queries.
        (
            s.req(&ann, Method::GET, "/api/v1/tasks?limit=abc"),
            StatusCode::BAD_REQUEST,
        ),
        (
            s.req(&ann, Method::GET, "/api/v1/tasks?limit=%FF"),
            StatusCode::BAD_REQUEST,
        ),
        // JSON bodies.
        (
            s.req(&ann, Method::POST, "/api/v1/tasks")
                .header("content-type", "application/json")
                .body("{"),
            StatusCode::BAD_REQUEST,
        ),
        (
            s.req(&ann, Method::POST, "/api/v1/tasks")
                .header("content-type", "text/plain")
                .body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            s.req(&ann, Method::PATCH, &format!("/api/v1/tasks/{id}"))
                .header("content-type", "application/json")
                .body(vec![b'"'; 300 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        // Headers.
        (
            s.req(&ann, Method::GET, "/api/v1/stream")
                .header("upgrade", "websocket"),
            StatusCode::BAD_REQUEST,
        ),
        (
            s.http
                .get(format!("{}/api/v1/tasks", s.base))
                .header("authorization", "Basic Zm9vOmJhcg=="),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (req, want) in cases {
        let req = req.build().unwrap();
        let what = format!("{} {}", req.method(), req.url());
        let res = s.http.execute(req).await.unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let allow = res.headers().get("allow").cloned();
        let body: Value = serde_json::from_str(&res.text().await.unwrap())
            .unwrap_or_else(|e| panic!("{what}: the body is not JSON: {e}"));
        assert_eq!(status, want, "{what}: {body}");
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{what}");
        assert_eq!(body["status"], status.as_u16(), "{what}: {body}");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {body}"
        );
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(allow.is_some(), "{what}: a 405 says what the path takes");
            assert!(
                allow.unwrap().to_str().unwrap().contains("GET"),
                "{what}: {body}"
            );
        }
    }
    // Nothing changed.
    let (st, v) = send(s.req(&ann, Method::GET, "/api/v1/tasks")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
}

async fn made_up_methods_add_no_metric_series(s: &TestServer) {
    let ann = s.user("ann").await;
    for i in 0..20 {
        let m = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let _ = s.req(&ann, m, "/api/v1/tasks").send().await.unwrap();
    }
    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("MADEUP"), "{metrics}");
    assert!(metrics.contains("method=\"other\""), "{metrics}");
}

both_backends!(
    every_error_is_a_problem,
    made_up_methods_add_no_metric_series
);
