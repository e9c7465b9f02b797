//! The published contract: the OpenAPI document lists exactly the routes the
//! server serves, probes and metrics answer, unknown paths are problems.

mod common;

use std::collections::BTreeSet;

use common::{Backend, TestServer, send};
use reqwest::{Method, StatusCode};

/// Every operation of the API, as `METHOD path`; a route added to the router
/// must be added here and is then checked against the document.
const ROUTES: &[&str] = &[
    "GET /api/v1/activity",
    "GET /api/v1/me",
    "GET /api/v1/notifications",
    "GET /api/v1/reminders",
    "GET /api/v1/webhooks",
    "GET /api/v1/webhooks/{id}/deliveries",
    "DELETE /api/v1/webhooks/{id}",
    "POST /api/v1/notifications/{id}/read",
    "POST /api/v1/reminders/{id}/dismiss",
    "POST /api/v1/reminders/{id}/snooze",
    "POST /api/v1/webhooks",
    "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    "POST /api/v1/webhooks/{id}/secret",
    "GET /api/v1/stream",
    "GET /api/v1/tags",
    "GET /api/v1/tasks",
    "GET /api/v1/tasks/{id}",
    "GET /api/v1/tasks/{id}/occurrences",
    "GET /api/v1/tokens",
    "GET /api/v1/me/reminder-channels",
    "PUT /api/v1/me/reminder-channels",
    "GET /api/v1/views",
    "GET /api/v1/views/{id}",
    "DELETE /api/v1/tags/{name}",
    "DELETE /api/v1/tasks/{id}",
    "DELETE /api/v1/tokens/{id}",
    "DELETE /api/v1/views/{id}",
    "PATCH /api/v1/me",
    "PATCH /api/v1/tags/{name}",
    "PATCH /api/v1/tasks/{id}",
    "PATCH /api/v1/views/{id}",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/verify-email",
    "POST /api/v1/me/email/verification",
    "POST /api/v1/parse",
    "POST /api/v1/tasks",
    "POST /api/v1/tasks/quick",
    "POST /api/v1/tasks/{id}/complete",
    "POST /api/v1/tasks/{id}/reopen",
    "POST /api/v1/tokens",
    "POST /api/v1/views",
    "POST /api/v1/chat",
    "GET /api/v1/chat/conversations",
    "GET /api/v1/chat/conversations/{id}",
    "DELETE /api/v1/chat/conversations/{id}",
];

#[tokio::test]
async fn openapi_matches_the_router() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (st, doc) = send(s.http.get(format!("{}/api/v1/openapi.json", s.base))).await;
    assert_eq!(st, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let expected: BTreeSet<String> = ROUTES.iter().map(|s| s.to_string()).collect();
    assert_eq!(documented, expected);

    // Each documented operation is served: the router answers with something
    // other than "no such route" (404 from the fallback) or 405.
    for op in &expected {
        let (method, path) = op.split_once(' ').unwrap();
        let url = format!(
            "{}{}",
            s.base,
            path.replace("{id}", "x").replace("{delivery_id}", "y")
        );
        let res = s
            .http
            .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
            .send()
            .await
            .unwrap();
        assert_ne!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{op}");
        assert!(
            matches!(
                res.status(),
                StatusCode::UNAUTHORIZED
                    | StatusCode::BAD_REQUEST
                    | StatusCode::FORBIDDEN
                    | StatusCode::UNSUPPORTED_MEDIA_TYPE
            ),
            "{op} answered {} without credentials",
            res.status()
        );
    }
    // And a path outside the document is not served.
    let (st, v) = send(s.http.get(format!("{}/api/v1/nothing-here", s.base))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["status"], 404);
}

#[tokio::test]
async fn probes_and_metrics() {
    let s = TestServer::start(Backend::Sqlite).await;
    let ann = s.user("ann").await;
    s.call(&ann, Method::GET, "/api/v1/tasks", None).await;
    assert_eq!(
        send(s.http.get(format!("{}/healthz", s.base))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(s.http.get(format!("{}/readyz", s.base))).await.0,
        StatusCode::OK
    );
    let text = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/api/v1/tasks",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}
