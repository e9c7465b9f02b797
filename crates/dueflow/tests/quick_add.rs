//! Quick add over HTTP: `POST /api/v1/parse` says what a line means without
//! storing anything, `POST /api/v1/tasks/quick` creates the task it
//! describes (with its event, like any create), and a line that leaves no
//! title, or input that is too long or invalid, changes nothing.

mod common;

use reqwest::{Method, StatusCode};
use serde_json::json;

use common::TestServer;

const LINE: &str = "pay rent every month on the 1st at 9am #bills !high remind me 1 day before";

async fn parse_reads_the_line_in_the_given_context(s: &TestServer) {
    let ann = s.user("ann").await;
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/parse",
            Some(json!({"text": LINE, "now": "2026-03-02T10:00:00Z", "tz": "Europe/Berlin"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["title"], "pay rent");
    assert_eq!(v["due"], "2026-04-01T09:00:00+02:00");
    assert_eq!(
        v["recurrence"],
        json!({"rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "anchor": "due"})
    );
    assert_eq!(v["priority"], "high");
    assert_eq!(v["tags"], json!(["bills"]));
    assert_eq!(v["reminders"], json!([{"before": "P1D"}]));
    // Each span names its words by code point, as the text has them.
    let chars: Vec<char> = LINE.chars().collect();
    let spans = v["spans"].as_array().unwrap();
    assert!(!spans.is_empty());
    for span in spans {
        let (a, b) = (
            span["start"].as_u64().unwrap() as usize,
            span["end"].as_u64().unwrap() as usize,
        );
        let text: String = chars[a..b].iter().collect();
        assert_eq!(span["text"], text.as_str(), "{span}");
    }
    // Nothing was stored.
    let (_, list) = s.call(&ann, Method::GET, "/api/v1/tasks", None).await;
    assert_eq!(list["items"], json!([]));

    for (body, field) in [
        (json!({"text": "x", "tz": "Mars/Olympus"}), "tz"),
        (json!({"text": "x", "now": "yesterday"}), "now"),
        (json!({"text": "x".repeat(2_001)}), "text"),
    ] {
        let (st, v) = s
            .call(&ann, Method::POST, "/api/v1/parse", Some(body))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["field"], field, "{v}");
    }
}

async fn quick_add_creates_the_task_the_line_describes(s: &TestServer) {
    let ann = s.user("ann").await;
    let (st, task) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/tasks/quick",
            Some(json!({"text": "dentist tomorrow at 3pm #Health !urgent"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{task}");
    assert_eq!(task["title"], "dentist");
    assert_eq!(task["priority"], "urgent");
    assert_eq!(task["tags"], json!(["health"]));
    assert!(
        task["due"].as_str().unwrap().contains("T15:00:00"),
        "{task}"
    );
    let id = task["id"].as_str().unwrap();
    let (st, stored) = s
        .call(&ann, Method::GET, &format!("/api/v1/tasks/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(stored, task);

    // Quoted words stay words.
    let (st, task) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/tasks/quick",
            Some(json!({"text": "read \"next friday\" tomorrow"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{task}");
    assert_eq!(task["title"], "read next friday");

    // A line of phrases only makes no task.
    let (st, v) = s
        .call(
            &ann,
            Method::POST,
            "/api/v1/tasks/quick",
            Some(json!({"text": "tomorrow #home"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "text");
    let (_, list) = s.call(&ann, Method::GET, "/api/v1/tasks", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    // Another user sees none of it.
    let bob = s.user("bob").await;
    let (st, _) = s
        .call(&bob, Method::GET, &format!("/api/v1/tasks/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// Numeric dates read in the order the user chose; a bad order is refused
/// and changes nothing.
async fn numeric_dates_follow_the_users_date_order(s: &TestServer) {
    let ann = s.user("ann").await;
    let line = json!({"text": "dentist 3/4/2027", "now": "2026-12-01T10:00:00Z", "tz": "UTC"});
    let due = |v: &serde_json::Value| v["due"].as_str().unwrap_or_default().to_owned();
    let (_, me) = s.call(&ann, Method::GET, "/api/v1/me", None).await;
    assert_eq!(me["date_order"], "dmy", "{me}");
    let (_, v) = s
        .call(&ann, Method::POST, "/api/v1/parse", Some(line.clone()))
        .await;
    assert_eq!(due(&v), "2027-04-03", "{v}");

    let (st, me) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"date_order": "mdy"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["date_order"], "mdy");
    let (_, v) = s
        .call(&ann, Method::POST, "/api/v1/parse", Some(line.clone()))
        .await;
    assert_eq!(due(&v), "2027-03-04", "{v}");

    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"date_order": "dym", "tz": "Europe/Paris"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "date_order", "{v}");
    let (_, me) = s.call(&ann, Method::GET, "/api/v1/me", None).await;
    assert_eq!(
        (me["date_order"].as_str(), me["tz"].as_str()),
        (Some("mdy"), Some("UTC")),
        "{me}"
    );
}

both_backends!(
    parse_reads_the_line_in_the_given_context,
    quick_add_creates_the_task_the_line_describes,
    numeric_dates_follow_the_users_date_order,
);
