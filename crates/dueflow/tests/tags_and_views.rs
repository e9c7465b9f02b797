//! Tags and saved views over HTTP, on SQLite and PostgreSQL: the tag counts
//! stay equal to the tags on the tasks through every kind of write; a tag's
//! colour, rename (one `task.updated` per task), merge and delete; saved
//! views with their checks; and another user's tag or view looks exactly
//! like a missing one.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Session, TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every task of `who` (open and done), following cursors.
async fn all_tasks(s: &TestServer, who: &Session) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let query = [("limit", "200"), ("sort", "created"), ("cursor", &cursor)];
        let (st, v) = send(s.req(who, Method::GET, "/api/v1/tasks").query(&query)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        out.extend(v["items"].as_array().expect("items").iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return out,
        }
    }
}

/// `GET /api/v1/tags` as name → (count, open, colour).
async fn tags(s: &TestServer, who: &Session) -> BTreeMap<String, (i64, i64, Value)> {
    let (st, v) = s.call(who, Method::GET, "/api/v1/tags", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                (
                    t["count"].as_i64().unwrap(),
                    t["open"].as_i64().unwrap(),
                    t["colour"].clone(),
                ),
            )
        })
        .collect()
}

/// The counts must be those of the tags on the tasks, whatever wrote them.
async fn assert_counts_match(s: &TestServer, who: &Session) {
    let mut expected: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for t in all_tasks(s, who).await {
        let open = i64::from(t["status"] == "open");
        for tag in t["tags"].as_array().unwrap() {
            let e = expected
                .entry(tag.as_str().unwrap().to_owned())
                .or_default();
            e.0 += 1;
            e.1 += open;
        }
    }
    let got: BTreeMap<String, (i64, i64)> = tags(s, who)
        .await
        .into_iter()
        .map(|(name, (count, open, _))| (name, (count, open)))
        .collect();
    assert_eq!(got, expected, "tag counts drifted from the tasks");
}

/// A fixed-seed sequence of creates, tag changes, completions, reopenings
/// and deletes, with the counts checked along the way.
async fn counts_follow_every_write(s: &TestServer) {
    let ann = s.user("ann").await;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let pool = ["a", "b", "c", "d", "e"];
    let pick = |next: &mut dyn FnMut(u64) -> u64| -> Vec<&str> {
        (0..next(4))
            .map(|_| pool[next(pool.len() as u64) as usize])
            .collect()
    };
    let mut ids: Vec<String> = Vec::new();
    for step in 0..160 {
        let action = if ids.is_empty() { 0 } else { next(5) };
        match action {
            0 => {
                let t = s
                    .create(
                        &ann,
                        json!({"title": format!("t{step}"), "tags": pick(&mut next)}),
                    )
                    .await;
                ids.push(t["id"].as_str().unwrap().to_owned());
            }
            1 => {
                let id = &ids[next(ids.len() as u64) as usize];
                let (st, v) = s
                    .call(
                        &ann,
                        Method::PATCH,
                        &format!("/api/v1/tasks/{id}"),
                        Some(json!({"tags": pick(&mut next)})),
                    )
                    .await;
                assert_eq!(st, StatusCode::OK, "{v}");
            }
            2 | 3 => {
                let id = &ids[next(ids.len() as u64) as usize];
                let act = if action == 2 { "complete" } else { "reopen" };
                let (st, v) = s
                    .call(
                        &ann,
                        Method::POST,
                        &format!("/api/v1/tasks/{id}/{act}"),
                        None,
                    )
                    .await;
                assert_eq!(st, StatusCode::OK, "{v}");
            }
            _ => {
                let id = ids.swap_remove(next(ids.len() as u64) as usize);
                let (st, _) = s
                    .call(&ann, Method::DELETE, &format!("/api/v1/tasks/{id}"), None)
                    .await;
                assert_eq!(st, StatusCode::NO_CONTENT);
            }
        }
        if step % 40 == 39 {
            assert_counts_match(s, &ann).await;
        }
    }
    // A user's counts are theirs alone.
    let bob = s.user("bob").await;
    s.create(&bob, json!({"title": "bob's", "tags": ["a"]}))
        .await;
    assert_counts_match(s, &ann).await;
    assert_eq!(tags(s, &bob).await["a"].0, 1);
}

/// The ids of the tasks in `who`'s `task.updated` events, once the
/// activity log (written by its own role, behind the bus) holds `n`.
async fn updated_tasks(s: &TestServer, who: &Session, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, v) = send(
            s.req(who, Method::GET, "/api/v1/activity")
                .query(&[("type", "task.updated"), ("limit", "200")]),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let items = v["items"].as_array().unwrap();
        if items.len() >= n || Instant::now() > deadline {
            assert_eq!(items.len(), n, "{v}");
            return items
                .iter()
                .map(|e| e["subject"].as_str().unwrap_or_default().to_owned())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn rename_merge_colour_delete(s: &TestServer) {
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    let home = s
        .create(
            &ann,
            json!({"title": "Water plants", "tags": ["home", "garden"]}),
        )
        .await;
    let fix_id = s
        .create(&ann, json!({"title": "Fix tap", "tags": ["house", "home"]}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.create(&ann, json!({"title": "Rake leaves", "tags": ["garden"]}))
        .await;
    s.create(&bob, json!({"title": "bob's", "tags": ["home"]}))
        .await;

    // A colour: checked, stored, shown with the counts.
    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/tags/home",
            Some(json!({"colour": "red"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("#rrggbb"), "{v}");
    assert_eq!(
        tags(s, &ann).await["home"].2,
        Value::Null,
        "nothing changed"
    );
    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/tags/home",
            Some(json!({"colour": "#2F6FDE"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["colour"], "#2f6fde");
    assert_eq!(
        tags(s, &bob).await["home"].2,
        Value::Null,
        "bob's tag keeps no colour"
    );

    // Another user's tag, or none, looks the same: not found, and nothing changes.
    for (who, path) in [
        (&bob, "/api/v1/tags/garden"),
        (&ann, "/api/v1/tags/nothing"),
    ] {
        let (st, _) = s
            .call(who, Method::PATCH, path, Some(json!({"name": "x"})))
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = s.call(who, Method::DELETE, path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    // A bad new name changes nothing, not even a colour asked for with it.
    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/tags/home",
            Some(json!({"name": "two words", "colour": "#000000"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(tags(s, &ann).await["home"].2, json!("#2f6fde"));

    // A rename: every task carrying the tag, one event each; the colour goes
    // along, and views that name the tag name the new one.
    let view = |who, query: &str| {
        s.call(
            who,
            Method::POST,
            "/api/v1/views",
            Some(json!({"name": "At home", "query": query})),
        )
    };
    let (st, ann_view) = view(&ann, "tag:home -tag:garden OR tag:homely").await;
    assert_eq!(st, StatusCode::CREATED, "{ann_view}");
    let (_, bob_view) = view(&bob, "tag:home").await;
    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/tags/home",
            Some(json!({"name": "Household"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "household");
    assert_eq!(v["count"], 2);
    assert_eq!(v["colour"], "#2f6fde");
    // One event for each of the two tasks: the colour was no task change.
    let mut changed = updated_tasks(s, &ann, 2).await;
    changed.sort();
    let mut expected = vec![home["id"].as_str().unwrap().to_owned(), fix_id.clone()];
    expected.sort();
    assert_eq!(changed, expected);
    let (_, t) = s
        .call(
            &ann,
            Method::GET,
            &format!("/api/v1/tasks/{}", home["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        t["tags"],
        json!(["household", "garden"]),
        "in the same place"
    );
    assert!(
        tags(s, &bob).await.contains_key("home"),
        "bob's tasks are untouched"
    );
    let query_of = |who, v: &Value| {
        let path = format!("/api/v1/views/{}", v["id"].as_str().unwrap());
        async move { s.call(who, Method::GET, &path, None).await.1["query"].clone() }
    };
    assert_eq!(
        query_of(&ann, &ann_view).await,
        "tag:household -tag:garden OR tag:homely"
    );
    assert_eq!(
        query_of(&bob, &bob_view).await,
        "tag:home",
        "bob's view is his"
    );

    // Renaming onto an existing tag merges: a task with both keeps one.
    let (st, v) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/tags/house",
            Some(json!({"name": "household"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["count"], 2, "{v}");
    let all = tags(s, &ann).await;
    assert!(!all.contains_key("house"));
    let fix = all_tasks(s, &ann)
        .await
        .into_iter()
        .find(|t| t["title"] == "Fix tap")
        .unwrap();
    assert_eq!(fix["tags"], json!(["household"]));

    // Deleting a tag takes it off its tasks; the tasks stay.
    let (st, v) = s
        .call(&ann, Method::DELETE, "/api/v1/tags/garden", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["tasks"], 2);
    assert!(!tags(s, &ann).await.contains_key("garden"));
    assert_eq!(all_tasks(s, &ann).await.len(), 3);
    assert_counts_match(s, &ann).await;
}

async fn saved_views(s: &TestServer) {
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    let create = |body: Value| s.call(&ann, Method::POST, "/api/v1/views", Some(body));

    let (st, v) =
        create(json!({"name": "Work", "query": "tag:work status:open", "sort": "-priority,due"}))
            .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert!(v["id"].as_str().unwrap().starts_with("viw_"));
    let id = v["id"].as_str().unwrap().to_owned();

    // Refused with a reason, and nothing stored.
    for (body, field) in [
        (json!({"query": "tag:x"}), "name"),
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(81)}), "name"),
        (json!({"name": "Bad", "query": "due<=someday"}), "query"),
        (json!({"name": "Bad", "sort": "colour"}), "sort"),
    ] {
        let (st, v) = create(body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(field), "{body}: {v}");
    }
    let (st, v) = create(json!({"name": "Work"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("Work"), "{v}");
    let (_, list) = s.call(&ann, Method::GET, "/api/v1/views", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    // A change keeps what it does not name.
    let path = format!("/api/v1/views/{id}");
    let (st, v) = s
        .call(&ann, Method::PATCH, &path, Some(json!({"name": "Office"})))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "Office");
    assert_eq!(v["query"], "tag:work status:open");
    assert_eq!(v["sort"], "-priority,due");

    // Another user's view looks like none at all.
    let (_, theirs) = s.call(&bob, Method::GET, "/api/v1/views", None).await;
    assert_eq!(theirs, json!([]));
    for method in [Method::GET, Method::DELETE] {
        let (st, _) = s.call(&bob, method, &path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    let (st, _) = s
        .call(&bob, Method::PATCH, &path, Some(json!({"name": "mine"})))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = s.call(&ann, Method::GET, &path, None).await;
    assert_eq!((st, &v["name"]), (StatusCode::OK, &json!("Office")));

    let (st, _) = s.call(&ann, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.call(&ann, Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

both_backends!(
    counts_follow_every_write,
    rename_merge_colour_delete,
    saved_views
);
