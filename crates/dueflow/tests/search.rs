//! The query language, sorting and keyset pagination end to end, on SQLite
//! and PostgreSQL: every filter form, full-text with phrases and prefixes,
//! every sort key, cursors that stay correct while tasks change, and
//! relevance in tiers.

mod common;

use common::{TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).to_string()
}

async fn seed(s: &TestServer, who: &common::Session) {
    let tasks = [
        json!({"title": "Write quarterly report", "notes": "numbers for the board", "priority": "high", "tags": ["work"], "due": day(-3)}),
        json!({"title": "Report bug in printer", "priority": "low", "tags": ["work", "home"], "due": day(2)}),
        json!({"title": "Water the plants", "priority": "medium", "tags": ["home"], "due": day(5)}),
        json!({"title": "Plan the trip", "notes": "book the night train to Vienna", "priority": "urgent", "due": day(30)}),
        json!({"title": "Read a book", "priority": "none"}),
        json!({"title": "Café reservation", "priority": "high", "tags": ["social"]}),
    ];
    for t in tasks {
        s.create(who, t).await;
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn filters(s: &TestServer) {
    let ann = s.user("ann").await;
    seed(s, &ann).await;
    let ann = &ann;
    let q = |q: &'static str| async move { sorted(s.titles(ann, q, "title").await) };
    assert_eq!(
        q("priority:high").await,
        ["Café reservation", "Write quarterly report"]
    );
    assert_eq!(
        q("priority>=high").await,
        [
            "Café reservation",
            "Plan the trip",
            "Write quarterly report"
        ]
    );
    assert_eq!(q("tag:work -tag:home").await, ["Write quarterly report"]);
    assert_eq!(q("tag:WORK").await.len(), 2);
    assert_eq!(q("overdue").await, ["Write quarterly report"]);
    assert_eq!(q("due:none").await, ["Café reservation", "Read a book"]);
    assert_eq!(
        q("due<=7d").await,
        [
            "Report bug in printer",
            "Water the plants",
            "Write quarterly report"
        ]
    );
    let before = format!("due<{}", day(0));
    assert_eq!(
        sorted(s.titles(ann, &before, "").await),
        ["Write quarterly report"]
    );
    assert_eq!(
        q("report").await,
        ["Report bug in printer", "Write quarterly report"]
    );
    assert_eq!(
        q("repo").await,
        ["Report bug in printer", "Write quarterly report"],
        "last word is a prefix"
    );
    assert_eq!(
        q("\"night train\"").await,
        ["Plan the trip"],
        "phrases search notes"
    );
    assert_eq!(q("\"train night\"").await, Vec::<String>::new());
    assert_eq!(q("cafe").await, ["Café reservation"], "diacritics fold");
    assert_eq!(q("CAFÉ").await, ["Café reservation"], "in the query too");
    assert_eq!(q("réserv").await, ["Café reservation"], "and in prefixes");
    // The owner's id is in the SQLite index but is never searchable text.
    let (_, me) = s.call(ann, Method::GET, "/api/v1/me", None).await;
    let hex = me["id"].as_str().unwrap().trim_start_matches("usr_");
    for word in [hex, &hex[..3], "usr"] {
        assert_eq!(
            s.titles(ann, word, "").await,
            Vec::<String>::new(),
            "{word}"
        );
    }
    assert_eq!(
        q("(tag:social OR priority:urgent) -overdue").await,
        ["Café reservation", "Plan the trip"]
    );
    assert_eq!(
        q("report OR plants").await,
        [
            "Report bug in printer",
            "Water the plants",
            "Write quarterly report"
        ]
    );
    assert_eq!(q("status:done").await, Vec::<String>::new());
    assert_eq!(q("created>-1d updated>-1d").await.len(), 6);
    assert_eq!(q("created<-1d").await.len(), 0);

    // Malformed queries answer 400 with where and why.
    let (st, v) = send(
        s.req(ann, Method::GET, "/api/v1/tasks")
            .query(&[("q", "tag:work (priority:high")]),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "q");
    assert!(v["position"].is_u64(), "{v}");
    for bad in ["colour:red", "priority:extreme", "due<someday", "OR report"] {
        let (st, v) = send(
            s.req(ann, Method::GET, "/api/v1/tasks")
                .query(&[("q", bad)]),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    for (k, v) in [
        ("sort", "colour"),
        ("limit", "0"),
        ("limit", "501"),
        ("cursor", "garbage"),
        ("page", "2"),
    ] {
        let (st, body) = send(s.req(ann, Method::GET, "/api/v1/tasks").query(&[(k, v)])).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{k}={v}: {body}");
    }
    let (st, v) = s.call(ann, Method::GET, "/api/v1/tags", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v,
        json!([
            {"name": "home", "count": 2, "open": 2, "colour": null},
            {"name": "social", "count": 1, "open": 1, "colour": null},
            {"name": "work", "count": 2, "open": 2, "colour": null},
        ])
    );
}

async fn sorting(s: &TestServer) {
    let ann = s.user("ann").await;
    seed(s, &ann).await;
    assert_eq!(
        s.titles(&ann, "", "due").await,
        [
            "Write quarterly report",
            "Report bug in printer",
            "Water the plants",
            "Plan the trip",
            "Read a book",
            "Café reservation"
        ],
        "due ascending, undated last, then by id"
    );
    assert_eq!(
        s.titles(&ann, "", "-due").await[..4],
        [
            "Plan the trip",
            "Water the plants",
            "Report bug in printer",
            "Write quarterly report"
        ]
    );
    assert_eq!(
        s.titles(&ann, "", "-priority,title").await,
        [
            "Plan the trip",
            "Café reservation",
            "Write quarterly report",
            "Water the plants",
            "Report bug in printer",
            "Read a book"
        ]
    );
    assert_eq!(s.titles(&ann, "", "title").await[0], "Café reservation");
    let urgent = s.titles(&ann, "", "-urgency").await;
    assert_eq!(
        urgent[0], "Write quarterly report",
        "overdue and high comes first: {urgent:?}"
    );
    assert_eq!(urgent.last().unwrap(), "Read a book");
    assert_eq!(
        s.titles(&ann, "report", "").await.len(),
        2,
        "relevance is the default with words"
    );
    let (st, _) = send(
        s.req(&ann, Method::GET, "/api/v1/tasks")
            .query(&[("sort", "relevance")]),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "relevance needs words");
    assert_eq!(s.titles(&ann, "", "-created").await[0], "Café reservation");
}

async fn pagination_survives_changes(s: &TestServer) {
    let ann = s.user("ann").await;
    for i in 0..20 {
        let priority = if i % 2 == 0 { "low" } else { "high" };
        s.create(
            &ann,
            json!({"title": format!("t{i:02}"), "due": day(i % 7), "priority": priority}),
        )
        .await;
    }
    let params = [("limit", "6"), ("sort", "-priority,due")];
    // Tasks added before the cursor position do not shift the next pages.
    let seen = paged_titles(s, &ann, &params, async || {
        s.create(&ann, json!({"title": "late high", "priority": "urgent"}))
            .await;
    })
    .await;
    let mut expected: Vec<String> = (0..20).map(|i| format!("t{i:02}")).collect();
    expected.sort();
    assert_eq!(
        sorted(seen.clone()),
        expected,
        "every task exactly once: {seen:?}"
    );
    // A cursor from one sort is refused by another.
    let (_, v) = send(s.req(&ann, Method::GET, "/api/v1/tasks").query(&params)).await;
    let c = v["next_cursor"].as_str().unwrap();
    let (st, _) = send(
        s.req(&ann, Method::GET, "/api/v1/tasks")
            .query(&[("cursor", c), ("sort", "title")]),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

async fn relevance(s: &TestServer) {
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    s.create(&bob, json!({"title": "needle for bob"})).await;
    let due = day(3);
    for (title, notes) in [
        ("old needle in the title", ""),
        ("hay", "a needle in the notes"),
        ("needlework kit", ""),
        ("straw", "needle again, in the notes"),
        ("new needle", ""),
        ("unrelated", "nothing here"),
    ] {
        s.create(&ann, json!({"title": title, "notes": notes, "due": due}))
            .await;
    }
    let ranked = [
        "new needle",
        "needlework kit",
        "old needle in the title",
        "straw",
        "hay",
    ];
    // Three to a page, so the second page starts inside the notes tier.
    assert_eq!(
        s.titles(&ann, "needle", "").await,
        ranked,
        "title matches first, then notes; newest first in each"
    );
    assert_eq!(s.titles(&ann, "needle", "relevance,title").await, ranked);
    let mut reversed = ranked;
    reversed.reverse();
    assert_eq!(s.titles(&ann, "needle", "-relevance").await, reversed);
    assert_eq!(
        s.titles(&ann, "needle notes", "").await,
        ["straw", "hay"],
        "every word must be in the title for the first tier"
    );
    assert_eq!(
        s.titles(&ann, "needle", "due,relevance").await,
        ranked,
        "equal due dates fall back to relevance"
    );
    assert_eq!(s.titles(&bob, "needle", "").await, ["needle for bob"]);

    // A task added while paging lands before the cursor: the following
    // pages neither show it nor repeat anything.
    let params = [("q", "needle"), ("limit", "2")];
    let seen = paged_titles(s, &ann, &params, async || {
        s.create(&ann, json!({"title": "needle added while paging"}))
            .await;
    })
    .await;
    assert_eq!(seen, ranked);
}

/// The titles on every page of the task list with `params`, following
/// `next_cursor`; `between` runs after the first page.
async fn paged_titles(
    s: &TestServer,
    who: &common::Session,
    params: &[(&str, &str)],
    between: impl AsyncFnOnce(),
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut between = Some(between);
    loop {
        let mut q: Vec<(&str, String)> =
            params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        q.extend(cursor.take().map(|c| ("cursor", c)));
        let (st, v) = send(s.req(who, Method::GET, "/api/v1/tasks").query(&q)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        seen.extend(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["title"].as_str().unwrap().to_owned()),
        );
        if let Some(f) = between.take() {
            f().await;
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
}

both_backends!(filters, sorting, pagination_survives_changes, relevance);
