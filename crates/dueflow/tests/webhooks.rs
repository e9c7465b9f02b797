//! Webhooks end to end, against a real HTTP receiver on loopback (allowed
//! here by configuration): every delivery verifies with the Standard
//! Webhooks reference library; retries keep the `webhook-id`; `Retry-After`
//! is honoured; redirects are not followed; 410 turns the endpoint off; the
//! delivery log shows it all and redelivery sends again. Without the
//! setting, private targets are refused. Another user's endpoints look
//! missing.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::response::{IntoResponse, Response};
use common::{Backend, Session, TestServer, send};
use dueflow_api::ApiConfig;
use dueflow_app::AppConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>,
}

impl Receiver {
    fn hits(&self, mode: &str) -> Vec<(HeaderMap, Bytes)> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, ..)| m == mode)
            .map(|(_, h, b)| (h.clone(), b.clone()))
            .collect()
    }
}

async fn hook(
    State(r): State<Receiver>,
    Path(mode): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // How often this message (webhook-id) reached this endpoint, this time included.
    let seen = {
        let mut got = r.got.lock().unwrap();
        let id = headers["webhook-id"].clone();
        got.push((mode.clone(), headers, body));
        got.iter()
            .filter(|(m, h, _)| *m == mode && h["webhook-id"] == id)
            .count()
    };
    match (mode.as_str(), seen) {
        ("gone", _) => AxStatus::GONE.into_response(),
        ("flaky", 1) => (AxStatus::SERVICE_UNAVAILABLE, [("retry-after", "1")]).into_response(),
        ("redirect", _) => {
            (AxStatus::TEMPORARY_REDIRECT, [("location", "/hook/ok")]).into_response()
        }
        _ => AxStatus::NO_CONTENT.into_response(),
    }
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = Router::new()
        .route("/hook/{mode}", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, base)
}

async fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "after {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn endpoint(s: &TestServer, who: &Session, url: String, events: Value) -> (String, String) {
    let (st, v) = s
        .call(
            who,
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url, "events": events})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let secret = v["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{v}");
    (v["id"].as_str().unwrap().to_owned(), secret)
}

/// The published schema of a webhook body (docs/events/webhook.schema.json),
/// with the event schemas it refers to registered under their `$id`s.
fn webhook_schema() -> jsonschema::Validator {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/events");
    let read = |p: &std::path::Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let files = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path());
    let schemas = files.filter(|p| p.to_string_lossy().ends_with(".schema.json"));
    let others = schemas.map(|p| {
        let doc = read(&p);
        let id = doc["$id"].as_str().unwrap().to_owned();
        (id, jsonschema::Resource::from_contents(doc))
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_resources(others.collect::<Vec<_>>().into_iter())
        .build(&read(&dir.join("webhook.schema.json")))
        .unwrap()
}

/// A delivered body: signed as Standard Webhooks says, shaped as published.
fn verify(secret: &str, (headers, body): &(HeaderMap, Bytes)) -> Value {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(body, headers)
        .unwrap_or_else(|e| panic!("signature does not verify: {e:?} {headers:?}"));
    assert!(headers["webhook-id"].to_str().unwrap().starts_with("msg_"));
    assert_eq!(headers["content-type"], "application/json");
    let doc: Value = serde_json::from_slice(body).unwrap();
    let errors: Vec<String> = webhook_schema()
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the body does not match webhook.schema.json: {errors:?}\n{doc:#}"
    );
    doc
}

async fn deliveries(s: &TestServer, who: &Session, hook: &str) -> Vec<Value> {
    let (st, v) = s
        .call(
            who,
            Method::GET,
            &format!("/api/v1/webhooks/{hook}/deliveries"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

async fn delivers_signed_retries_and_disables(s: &TestServer) {
    let (rx, base) = receiver().await;
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    let (ok, ok_secret) = endpoint(
        s,
        &ann,
        format!("{base}/hook/ok"),
        json!(["reminder.due", "task.completed"]),
    )
    .await;
    let (flaky, flaky_secret) = endpoint(
        s,
        &ann,
        format!("{base}/hook/flaky"),
        json!(["task.created"]),
    )
    .await;
    let (gone, _) = endpoint(
        s,
        &ann,
        format!("{base}/hook/gone"),
        json!(["task.created"]),
    )
    .await;
    let (redirect, _) = endpoint(
        s,
        &ann,
        format!("{base}/hook/redirect"),
        json!(["task.created"]),
    )
    .await;

    let (st, list) = s.call(&ann, Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 4);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|w| w.get("secret").is_none()),
        "{list}"
    );

    let at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    s.create(
        &ann,
        json!({"title": "Pay rent", "reminders": [{"at": at.to_rfc3339()}]}),
    )
    .await;
    let done = s.create(&ann, json!({"title": "File taxes"})).await;
    let (st, _) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/tasks/{}/complete", done["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    // task.completed comes at once; reminder.due when the reminder fires.
    wait_until("the ok endpoint got task.completed", 5, || {
        !rx.hits("ok").is_empty()
    })
    .await;
    let first = verify(&ok_secret, &rx.hits("ok")[0]);
    assert_eq!(first["type"], "task.completed", "{first}");
    assert_eq!(first["data"]["task"]["title"], "File taxes");
    assert!(first["timestamp"].is_string());

    // A flaky receiver answers each message's first attempt 503 with
    // Retry-After: 1; the retry, a second later, carries the same webhook-id.
    wait_until("the flaky endpoint got both messages twice", 6, || {
        rx.hits("flaky").len() >= 4
    })
    .await;
    let flaky_hits = rx.hits("flaky");
    let ids: std::collections::BTreeSet<_> = flaky_hits
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "two messages, each sent twice");
    for id in &ids {
        let stamps: Vec<i64> = flaky_hits
            .iter()
            .filter(|(h, _)| h["webhook-id"] == id.as_str())
            .map(|(h, _)| h["webhook-timestamp"].to_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(stamps.len(), 2, "{id}");
        assert!(
            stamps[1] - stamps[0] >= 1,
            "Retry-After: 1 was honoured: {stamps:?}"
        );
    }
    for hit in &flaky_hits {
        assert_eq!(verify(&flaky_secret, hit)["type"], "task.created");
    }

    // 410 turns the endpoint off; a redirect is not followed.
    wait_until("the gone endpoint was called", 5, || {
        !rx.hits("gone").is_empty()
    })
    .await;
    wait_until("the redirect endpoint was called", 5, || {
        !rx.hits("redirect").is_empty()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, list) = s.call(&ann, Method::GET, "/api/v1/webhooks", None).await;
        let g = list
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == gone.as_str())
            .unwrap()
            .clone();
        if g["enabled"] == false {
            assert!(
                g["disabled_reason"].as_str().unwrap().contains("410"),
                "{g}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "410 did not disable the endpoint: {g}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The scheduled reminder fires too, to the ok endpoint only.
    wait_until("the ok endpoint got reminder.due", 6, || {
        rx.hits("ok").len() >= 2
    })
    .await;
    let due = verify(&ok_secret, &rx.hits("ok")[1]);
    assert_eq!(due["type"], "reminder.due", "{due}");
    assert_eq!(due["data"]["task"]["title"], "Pay rent");

    let r = deliveries(s, &ann, &redirect).await;
    assert_eq!(r.len(), 2, "{r:#?}");
    for d in &r {
        assert_eq!(
            d["state"], "pending",
            "a redirect is a failure to retry: {d}"
        );
        assert_eq!(d["last_status"], 307);
    }
    assert_eq!(
        rx.hits("ok").len(),
        2,
        "the redirect was not followed to /hook/ok"
    );
    for d in deliveries(s, &ann, &flaky).await {
        assert_eq!(
            (d["state"].as_str(), d["attempts"].as_i64()),
            (Some("delivered"), Some(2)),
            "{d}"
        );
    }
    // The first 410 disabled the endpoint; a delivery claimed after that
    // fails without being sent.
    let g = deliveries(s, &ann, &gone).await;
    assert!(g.iter().all(|d| d["state"] == "failed"), "{g:#?}");
    assert!(g.iter().any(|d| d["last_status"] == 410), "{g:#?}");

    // The log of the ok endpoint, newest first; redeliver the older one.
    let log = deliveries(s, &ann, &ok).await;
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(
        log.iter()
            .all(|d| d["state"] == "delivered" && d["attempts"] == 1)
    );
    let older = log[1]["id"].as_str().unwrap();
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/webhooks/{ok}/deliveries/{older}/redeliver"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    wait_until("the redelivery arrived", 5, || rx.hits("ok").len() >= 3).await;
    let hits = rx.hits("ok");
    assert_eq!(
        hits[2].0["webhook-id"], hits[0].0["webhook-id"],
        "redelivery keeps the webhook-id"
    );
    verify(&ok_secret, &hits[2]);

    // Rotating the secret: messages are signed with both while the old one
    // still counts, so a receiver on either secret accepts them.
    let (st, _) = s
        .call(
            &bob,
            Method::POST,
            &format!("/api/v1/webhooks/{ok}/secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not bob's endpoint");
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/webhooks/{ok}/secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let new_secret = v["secret"].as_str().unwrap().to_owned();
    assert!(
        new_secret.starts_with("whsec_") && new_secret != ok_secret,
        "{v}"
    );
    let until: chrono::DateTime<chrono::Utc> =
        v["previous_valid_until"].as_str().unwrap().parse().unwrap();
    assert!(
        until > chrono::Utc::now() + chrono::Duration::hours(23),
        "{v}"
    );
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            &format!("/api/v1/webhooks/{ok}/deliveries/{older}/redeliver"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    wait_until("the re-signed redelivery arrived", 5, || {
        rx.hits("ok").len() >= 4
    })
    .await;
    let signed = &rx.hits("ok")[3];
    let header = signed.0["webhook-signature"].to_str().unwrap().to_owned();
    assert_eq!(
        header.split(' ').filter(|s| s.starts_with("v1,")).count(),
        2,
        "{header}"
    );
    verify(&new_secret, signed);
    verify(&ok_secret, signed);

    // Bob sees none of it and cannot touch it.
    let (_, list) = s.call(&bob, Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(list, json!([]));
    for (method, path) in [
        (Method::GET, format!("/api/v1/webhooks/{ok}/deliveries")),
        (
            Method::POST,
            format!("/api/v1/webhooks/{ok}/deliveries/{older}/redeliver"),
        ),
        (Method::DELETE, format!("/api/v1/webhooks/{ok}")),
    ] {
        let (st, v) = s.call(&bob, method.clone(), &path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {path}: {v}");
    }
    let (st, _) = s
        .call(
            &ann,
            Method::DELETE,
            &format!("/api/v1/webhooks/{ok}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .call(
            &ann,
            Method::GET,
            &format!("/api/v1/webhooks/{ok}/deliveries"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn refuses_private_and_bad_input(s: &TestServer) {
    let ann = s.user("ann").await;
    for (body, field) in [
        (
            json!({"url": "http://127.0.0.1:9/x", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "http://localhost/x", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "http://[::1]/x", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "ftp://example.com/x", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "http://[64:ff9b::a9fe:a9fe]/latest/meta-data", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "http://[::127.0.0.1]/x", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "http://[2002:7f00:1::]/x", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "http://[fec0::1]/x", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "http://192.0.0.1/x", "events": ["task.created"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["task.exploded"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["task.created"], "secret": "hunter2"}),
            "secret",
        ),
    ] {
        let (st, v) = s
            .call(&ann, Method::POST, "/api/v1/webhooks", Some(body.clone()))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["field"], field, "{v}");
    }
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "https://example.com/x", "events": ["task.created"], "colour": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (_, list) = s.call(&ann, Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(list, json!([]), "bad requests changed nothing");
    // A given secret is kept.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (st, v) = s
        .call(&ann, Method::POST, "/api/v1/webhooks", Some(json!({"url": "https://example.com/x", "events": ["task.created"], "secret": secret})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["secret"], secret);
    delete_webhook(s, &ann, v["id"].as_str().unwrap()).await;

    // A name is vetted after DNS, on delivery: this machine's own host
    // name passes the text check but resolves to a loopback or private
    // address, so nothing is sent and the log says only that the target is
    // not allowed, never what the name resolves to.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0))
        .await
        .unwrap_or_else(|e| panic!("the host name {host} does not resolve: {e}"))
        .collect();
    assert!(
        addrs
            .iter()
            .all(|a| !dueflow_domain::webhook::is_public(a.ip())),
        "{host} should resolve to this machine's own addresses: {addrs:?}"
    );
    let (rx, base) = receiver().await;
    let port = base.rsplit(':').next().unwrap();
    let (hook, _) = endpoint(
        s,
        &ann,
        format!("http://{host}:{port}/hook/ok"),
        json!(["task.created"]),
    )
    .await;
    s.create(&ann, json!({"title": "Resolve me"})).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let tried = loop {
        let log = deliveries(s, &ann, &hook).await;
        // An attempt counts from its lease; wait for its outcome too.
        let done = |d: &&Value| {
            d["attempts"].as_i64() >= Some(1)
                && (d["last_error"].is_string() || !d["last_status"].is_null())
        };
        if let Some(d) = log.iter().find(done) {
            break d.clone();
        }
        assert!(Instant::now() < deadline, "no delivery attempt: {log:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(tried["state"], "pending", "refused, to retry: {tried}");
    assert_eq!(tried["last_status"], Value::Null, "{tried}");
    let error = tried["last_error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("target not allowed"),
        "the log names the refusal: {tried}"
    );
    for a in &addrs {
        assert!(
            !error.contains(&a.ip().to_string()),
            "the log does not tell what {host} resolves to: {tried}"
        );
    }
    assert!(rx.hits("ok").is_empty(), "nothing reached the receiver");
}

async fn delete_webhook(s: &TestServer, who: &Session, id: &str) {
    let (st, v) = s
        .call(who, Method::DELETE, &format!("/api/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
}

/// A user's reminder channels: checked as a whole, theirs alone, and
/// honoured by the notifier from the next reminder that fires.
async fn reminder_channels_are_honoured(s: &TestServer) {
    let (rx, base) = receiver().await;
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    endpoint(s, &ann, format!("{base}/hook/ok"), json!(["reminder.due"])).await;
    let path = "/api/v1/me/reminder-channels";
    let all = json!({"in_app": true, "email": true, "webhook": true});
    let (st, v) = s.call(&ann, Method::GET, path, None).await;
    assert_eq!((st, &v), (StatusCode::OK, &all));
    let (st, v) = s
        .call(&ann, Method::PUT, path, Some(json!({"in_app": false})))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let quiet = json!({"in_app": false, "email": true, "webhook": false});
    let (st, v) = s.call(&ann, Method::PUT, path, Some(quiet.clone())).await;
    assert_eq!((st, &v), (StatusCode::OK, &quiet));
    let (_, v) = s.call(&bob, Method::GET, path, None).await;
    assert_eq!(v, all, "bob's are his own");

    let remind = |title: &str| {
        let at = chrono::Utc::now() + chrono::Duration::milliseconds(800);
        s.create(
            &ann,
            json!({"title": title, "reminders": [{"at": at.to_rfc3339()}]}),
        )
    };
    let quiet_task = remind("Quiet").await;
    // Fired, and recorded as fired, while the channels were off.
    let task = quiet_task["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        let (_, v) = send(
            s.req(&ann, Method::GET, "/api/v1/activity")
                .query(&[("task", task), ("type", "reminder.due")]),
        )
        .await;
        if !v["items"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the reminder did not fire");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (st, _) = s.call(&ann, Method::PUT, path, Some(all)).await;
    assert_eq!(st, StatusCode::OK);
    remind("Loud").await;
    // Loud fired after Quiet, for the same user: once it is through, so is Quiet.
    wait_until("the endpoint got Loud's reminder", 6, || {
        !rx.hits("ok").is_empty()
    })
    .await;
    let hits = rx.hits("ok");
    assert_eq!(hits.len(), 1, "only Loud's reminder reached the webhook");
    let body: Value = serde_json::from_slice(&hits[0].1).unwrap();
    assert_eq!(body["data"]["task"]["title"], "Loud");
    let deadline = Instant::now() + Duration::from_secs(6);
    let titles = loop {
        let (_, v) = s
            .call(&ann, Method::GET, "/api/v1/notifications", None)
            .await;
        let titles: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap().to_owned())
            .collect();
        if !titles.is_empty() || Instant::now() > deadline {
            break titles;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(titles, ["Loud"], "no in-app notification for Quiet");
}

macro_rules! on_both {
    ($name:ident, $allow:expr) => {
        mod $name {
            use super::*;
            async fn start(b: Backend) -> TestServer {
                TestServer::start_with(
                    b,
                    ApiConfig {
                        app: AppConfig {
                            webhooks_allow_private: $allow,
                            ..AppConfig::default()
                        },
                        ..ApiConfig::default()
                    },
                )
                .await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(&start(Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(&start(Backend::Postgres).await).await;
            }
        }
    };
}

on_both!(delivers_signed_retries_and_disables, true);
on_both!(refuses_private_and_bad_input, false);
on_both!(reminder_channels_are_honoured, true);
