//! The event contract: every event a running server emits (task and
//! reminder events alike) is a valid CloudEvents 1.0 document and matches
//! the JSON Schema published for its type in `docs/events/`; the activity
//! log shows a user exactly their own events, in order, filtered and paged
//! correctly. Also: every event type has a schema, every schema is a valid
//! draft 2020-12 schema, and the schemas reject what the contract forbids.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Session, TestServer, send};
use dueflow_domain::event::EventType;
use jsonschema::{Resource, Validator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The shared Task schema the type schemas refer to.
const TASK_SCHEMA: &str = "task.schema.json";
/// The body of a webhook message, whose `data` refers to the type schemas.
const WEBHOOK_SCHEMA: &str = "webhook.schema.json";
/// Base the schemas' relative `$ref`s resolve against; only a name, never fetched.
const BASE: &str = "https://dueflow.invalid/events/";

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/events")
}

fn read_json(name: &str) -> Value {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn schema_file(t: EventType) -> String {
    format!("{}.schema.json", t.as_str())
}

/// Every `*.schema.json` file in `docs/events/`, sorted.
fn schema_files() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(events_dir())
        .expect("docs/events exists")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .filter(|n| n.ends_with(".schema.json"))
        .collect();
    out.sort();
    out
}

/// A validator for one schema file, with every other schema registered under
/// its `$id` (so that relative `$ref`s resolve), and formats checked.
fn validator(name: &str) -> Validator {
    let schema = read_json(name);
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("{name} is not a valid JSON Schema: {e}"));
    assert_eq!(
        schema["$id"],
        format!("{BASE}{name}"),
        "{name} names itself by its $id"
    );
    let others = schema_files()
        .into_iter()
        .filter(|n| n != name)
        .map(|other| {
            let doc = read_json(&other);
            let id = doc["$id"]
                .as_str()
                .expect("every schema has an $id")
                .to_owned();
            (id, Resource::from_contents(doc))
        });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_resources(others)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{name} does not compile: {e}"))
}

/// Validators for every event type, by CloudEvents `type`.
fn validators() -> BTreeMap<&'static str, Validator> {
    EventType::ALL
        .into_iter()
        .map(|t| (t.as_str(), validator(&schema_file(t))))
        .collect()
}

fn schema_errors(v: &Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Validate one event against the schema for its `type`.
fn assert_matches_schema(validators: &BTreeMap<&'static str, Validator>, doc: &Value) {
    let t = doc["type"]
        .as_str()
        .unwrap_or_else(|| panic!("no type: {doc}"));
    let v = validators
        .get(t)
        .unwrap_or_else(|| panic!("no schema for event type '{t}': {doc}"));
    let errors = schema_errors(v, doc);
    assert!(
        errors.is_empty(),
        "event does not match {t}.schema.json:\n  {}\n{doc:#}",
        errors.join("\n  ")
    );
}

/// The CloudEvents 1.0 rules for a JSON structured-mode document, checked in
/// code (independently of the schema files).
fn assert_cloudevents_1_0(doc: &Value) {
    const CORE: [&str; 8] = [
        "specversion",
        "id",
        "source",
        "type",
        "datacontenttype",
        "dataschema",
        "subject",
        "time",
    ];
    let obj = doc
        .as_object()
        .unwrap_or_else(|| panic!("an event is a JSON object: {doc}"));
    assert_eq!(obj.get("specversion"), Some(&json!("1.0")), "{doc}");
    for required in ["id", "source", "type"] {
        let v = obj.get(required).and_then(Value::as_str);
        assert!(
            v.is_some_and(|s| !s.is_empty()),
            "'{required}' is a required non-empty string: {doc}"
        );
    }
    for optional in ["datacontenttype", "dataschema", "subject"] {
        if let Some(v) = obj.get(optional) {
            assert!(
                v.as_str().is_some_and(|s| !s.is_empty()),
                "'{optional}' is a non-empty string when present: {doc}"
            );
        }
    }
    if let Some(t) = obj.get("time") {
        let t = t
            .as_str()
            .unwrap_or_else(|| panic!("time is a string: {doc}"));
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap_or_else(|e| panic!("time '{t}' is not RFC 3339: {e}"));
    }
    assert!(
        !(obj.contains_key("data") && obj.contains_key("data_base64")),
        "an event carries data or data_base64, not both: {doc}"
    );
    for (name, value) in obj {
        if name == "data" || name == "data_base64" {
            continue;
        }
        assert!(
            !name.is_empty()
                && name.len() <= 20
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "attribute name '{name}' must be lower-case a-z/0-9, at most 20 characters"
        );
        if !CORE.contains(&name.as_str()) {
            assert!(
                value.is_string() || value.is_number() || value.is_boolean(),
                "extension '{name}' must be a string, number or boolean, got {value}"
            );
        }
    }
}

#[test]
fn every_event_type_has_a_valid_schema() {
    let files = schema_files();
    assert!(
        files.contains(&TASK_SCHEMA.to_owned()),
        "{TASK_SCHEMA} is missing"
    );
    jsonschema::meta::validate(&read_json(TASK_SCHEMA))
        .unwrap_or_else(|e| panic!("{TASK_SCHEMA} is not a valid JSON Schema: {e}"));

    let mut expected: BTreeSet<String> = EventType::ALL.into_iter().map(schema_file).collect();
    expected.insert(TASK_SCHEMA.to_owned());
    expected.insert(WEBHOOK_SCHEMA.to_owned());
    let present: BTreeSet<String> = files.iter().cloned().collect();
    let missing: Vec<_> = expected.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "event types without a schema in docs/events/: {missing:?}"
    );
    let unknown: Vec<_> = present.difference(&expected).collect();
    assert!(
        unknown.is_empty(),
        "schemas in docs/events/ for no known event type: {unknown:?}"
    );

    // Each type schema compiles (its $ref resolves), pins its own type, and
    // shares one envelope with the others: only `type` and `data` differ.
    let mut envelope: Option<Value> = None;
    for t in EventType::ALL {
        let name = schema_file(t);
        validator(&name);
        let mut schema = read_json(&name);
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert_eq!(schema["properties"]["type"]["const"], t.as_str(), "{name}");
        assert_eq!(schema["additionalProperties"], false, "{name}");
        let obj = schema.as_object_mut().unwrap();
        for volatile in ["$id", "title", "description"] {
            obj.remove(volatile);
        }
        let props = obj["properties"].as_object_mut().unwrap();
        props.remove("type");
        props.remove("data");
        match &envelope {
            None => envelope = Some(schema),
            Some(first) => assert_eq!(
                &schema, first,
                "{name}: the envelope differs from the other event schemas"
            ),
        }
    }
}

/// The example in the README is a valid event, and the schemas reject what
/// the contract forbids (so they are not vacuously permissive).
#[test]
fn schemas_accept_the_documented_example_and_reject_violations() {
    let readme = std::fs::read_to_string(events_dir().join("README.md")).expect("README.md");
    let example = readme
        .split("```json")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md has a ```json example");
    let example: Value = serde_json::from_str(example).expect("the README example is JSON");
    let validators = validators();
    assert_cloudevents_1_0(&example);
    assert_matches_schema(&validators, &example);

    let completed = &validators[EventType::TaskCompleted.as_str()];
    type Mutation = fn(&mut Value);
    let violations: &[(&str, Mutation)] = &[
        ("no id", |e| {
            e.as_object_mut().unwrap().remove("id");
        }),
        ("no data", |e| {
            e.as_object_mut().unwrap().remove("data");
        }),
        ("no partitionkey", |e| {
            e.as_object_mut().unwrap().remove("partitionkey");
        }),
        ("specversion 0.3", |e| e["specversion"] = json!("0.3")),
        ("another type", |e| {
            e["type"] = json!("dueflow.task.created.v1")
        }),
        ("a v2 type", |e| {
            e["type"] = json!("dueflow.task.completed.v2")
        }),
        ("id without prefix", |e| {
            e["id"] = json!("0193a5c3e4f07c2b9a1d5e6f7a8b9c0d")
        }),
        ("subject not a task", |e| {
            e["subject"] = json!("usr_0193a5c1a2b37c4d8e9f0a1b2c3d4e5f")
        }),
        ("time without offset", |e| {
            e["time"] = json!("2026-11-24T10:00:00.123")
        }),
        ("unknown attribute", |e| e["priority"] = json!("high")),
        ("data_base64 as well", |e| e["data_base64"] = json!("e30=")),
        ("task: unknown status", |e| {
            e["data"]["task"]["status"] = json!("archived")
        }),
        ("task: unknown priority", |e| {
            e["data"]["task"]["priority"] = json!("extreme")
        }),
        ("task: done without completed_at", |e| {
            e["data"]["task"]["completed_at"] = Value::Null
        }),
        ("task: version 0", |e| {
            e["data"]["task"]["version"] = json!(0)
        }),
        ("task: missing field", |e| {
            e["data"]["task"].as_object_mut().unwrap().remove("tags");
        }),
        ("task: extra field", |e| {
            e["data"]["task"]["occurrence"] = json!(2)
        }),
        ("task: due not a date", |e| {
            e["data"]["task"]["due"] = json!("tomorrow")
        }),
        ("task: reminder with both keys", |e| {
            e["data"]["task"]["reminders"] =
                json!([{"at": "2026-11-24T09:00:00Z", "before": "PT15M"}])
        }),
        ("task: reminder duration with months", |e| {
            e["data"]["task"]["reminders"] = json!([{"before": "P1M"}])
        }),
        ("task: recurrence without due", |e| {
            e["data"]["task"]["due"] = Value::Null;
            e["data"]["task"]["reminders"] = json!([]);
        }),
        ("task: unknown anchor", |e| {
            e["data"]["task"]["recurrence"]["anchor"] = json!("start")
        }),
        ("updated's changed on a completed event", |e| {
            e["data"]["changed"] = json!(["title"])
        }),
    ];
    for (what, mutate) in violations {
        let mut doc = example.clone();
        mutate(&mut doc);
        assert!(
            !completed.is_valid(&doc),
            "the completed schema accepts an event with {what}: {doc:#}"
        );
    }

    // The other shapes: deleted carries only the id; updated needs `changed`.
    let deleted = &validators[EventType::TaskDeleted.as_str()];
    let mut doc = example.clone();
    doc["type"] = json!(EventType::TaskDeleted.as_str());
    doc["data"] = json!({"task_id": example["subject"]});
    assert!(deleted.is_valid(&doc), "{:?}", schema_errors(deleted, &doc));
    doc["data"]["task"] = example["data"]["task"].clone();
    assert!(!deleted.is_valid(&doc), "deleted carries only task_id");

    let updated = &validators[EventType::TaskUpdated.as_str()];
    let mut doc = example.clone();
    doc["type"] = json!(EventType::TaskUpdated.as_str());
    assert!(!updated.is_valid(&doc), "updated requires `changed`");
    doc["data"]["changed"] = json!(["title", "tags"]);
    assert!(updated.is_valid(&doc), "{:?}", schema_errors(updated, &doc));
    for bad in [json!([]), json!(["status"]), json!(["title", "title"])] {
        doc["data"]["changed"] = bad.clone();
        assert!(!updated.is_valid(&doc), "changed = {bad} is accepted");
    }
}

/// The webhook schema accepts the body the notifier sends for an event
/// (short type, time, the CloudEvent's data) and rejects the CloudEvent
/// itself and mismatched data.
#[test]
fn webhook_schema_describes_the_webhook_body() {
    let readme = std::fs::read_to_string(events_dir().join("README.md")).expect("README.md");
    let event: Value = readme
        .split("```json")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .and_then(|e| serde_json::from_str(e).ok())
        .expect("README.md has a ```json example");
    let webhook = validator(WEBHOOK_SCHEMA);
    let body = json!({
        "type": "task.completed",
        "timestamp": event["time"],
        "data": event["data"],
    });
    assert!(
        webhook.is_valid(&body),
        "{:?}",
        schema_errors(&webhook, &body)
    );
    assert!(
        !webhook.is_valid(&event),
        "a CloudEvent is not a webhook body"
    );
    let mut deleted = body.clone();
    deleted["type"] = json!("task.deleted");
    assert!(
        !webhook.is_valid(&deleted),
        "task.deleted carries only task_id"
    );
    deleted["data"] = json!({"task_id": event["subject"]});
    assert!(
        webhook.is_valid(&deleted),
        "{:?}",
        schema_errors(&webhook, &deleted)
    );
    let mut unknown = body.clone();
    unknown["type"] = json!("task.archived");
    assert!(!webhook.is_valid(&unknown), "unknown type");
}

/// One page of the caller's activity.
async fn activity_page(s: &TestServer, who: &Session, query: &[(&str, &str)]) -> Value {
    let (st, v) = send(s.req(who, Method::GET, "/api/v1/activity").query(query)).await;
    assert_eq!(st, StatusCode::OK, "activity {query:?}: {v}");
    v
}

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().expect("items").clone()
}

fn is_task_event(e: &Value) -> bool {
    e["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("dueflow.task."))
}

/// Poll the activity log until it holds `n` task events (the relay and the
/// audit role run in the background; reminder events come and go with the
/// dates in the scenario); fail after 5 s. Returns every event.
async fn wait_for_events(s: &TestServer, who: &Session, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let page = activity_page(s, who, &[("limit", "200")]).await;
        let got = items(&page);
        let tasks = got.iter().filter(|e| is_task_event(e)).count();
        assert!(tasks <= n, "more events than expected: {got:#?}");
        if tasks == n {
            assert!(page["next_cursor"].is_null(), "{page}");
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "after 5 s the activity log has {tasks} of {n} task events: {got:#?}",
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn ok(
    s: &TestServer,
    who: &Session,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let (st, v) = s.call(who, method.clone(), path, body).await;
    assert_eq!(st, StatusCode::OK, "{method} {path}: {v}");
    v
}

/// The next occurrence of a recurring task, once the recurring role made it.
async fn next_occurrence(s: &TestServer, who: &Session, task: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (st, page) = send(
            s.req(who, Method::GET, "/api/v1/tasks")
                .query(&[("q", "status:open"), ("limit", "200")]),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{page}");
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["series_id"] == task["series_id"] && t["id"] != task["id"]);
        if let Some(t) = found {
            return t.clone();
        }
        assert!(Instant::now() < deadline, "no next occurrence of {task}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn event_contract(s: &TestServer) {
    let validators = validators();
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;

    // What ann does, and the events it must produce: (type, subject, task JSON
    // the API answered with, or None for a deletion).
    let mut expected: Vec<(EventType, String, Option<Value>)> = Vec::new();

    let plants = s
        .create(
            &ann,
            json!({
                "title": "Water the plants",
                "due": "2026-12-01",
                "tz": "Europe/Berlin",
                "tags": ["Home", "garden"],
                "recurrence": {"rrule": "FREQ=DAILY;INTERVAL=3", "anchor": "due"},
                "reminders": [{"before": "PT15M"}, {"at": "2026-11-30T18:00:00+01:00"}]
            }),
        )
        .await;
    expected.push((EventType::TaskCreated, id_of(&plants), Some(plants.clone())));

    let report = s
        .create(
            &ann,
            json!({
                "title": "Quarterly report",
                "notes": "see **drive**",
                "priority": "high",
                "due": "2026-12-15T17:00:00+01:00",
                "tags": ["work"],
                "reminders": [{"before": "P1D"}]
            }),
        )
        .await;
    expected.push((EventType::TaskCreated, id_of(&report), Some(report.clone())));

    let scratch = s.create(&ann, json!({"title": "Scratch"})).await;
    expected.push((
        EventType::TaskCreated,
        id_of(&scratch),
        Some(scratch.clone()),
    ));

    let report_path = format!("/api/v1/tasks/{}", id_of(&report));
    let updated = ok(
        s,
        &ann,
        Method::PATCH,
        &report_path,
        Some(json!({"title": "Q4 report", "tags": ["work", "finance"], "due": null, "reminders": []})),
    )
    .await;
    expected.push((
        EventType::TaskUpdated,
        id_of(&report),
        Some(updated.clone()),
    ));
    // A change that changes nothing emits nothing.
    ok(
        s,
        &ann,
        Method::PATCH,
        &report_path,
        Some(json!({"title": "Q4 report"})),
    )
    .await;

    // Completing a recurring task: completed, then (from the recurring role)
    // created for the next one, at the completion's instant.
    let done = ok(
        s,
        &ann,
        Method::POST,
        &format!("/api/v1/tasks/{}/complete", id_of(&plants)),
        None,
    )
    .await;
    expected.push((EventType::TaskCompleted, id_of(&plants), Some(done.clone())));
    let next = next_occurrence(s, &ann, &plants).await;
    assert_eq!(next["created_at"], done["completed_at"]);
    expected.push((EventType::TaskCreated, id_of(&next), Some(next.clone())));

    let done = ok(
        s,
        &ann,
        Method::POST,
        &format!("{report_path}/complete"),
        None,
    )
    .await;
    expected.push((EventType::TaskCompleted, id_of(&report), Some(done)));
    // Completing a done task changes nothing.
    ok(
        s,
        &ann,
        Method::POST,
        &format!("{report_path}/complete"),
        None,
    )
    .await;

    let reopened = ok(
        s,
        &ann,
        Method::POST,
        &format!("{report_path}/reopen"),
        None,
    )
    .await;
    expected.push((EventType::TaskReopened, id_of(&report), Some(reopened)));

    let (st, v) = s
        .call(
            &ann,
            Method::DELETE,
            &format!("/api/v1/tasks/{}", id_of(&scratch)),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    expected.push((EventType::TaskDeleted, id_of(&scratch), None));

    let all = wait_for_events(s, &ann, expected.len()).await;

    // Every event: CloudEvents 1.0 and the published schema for its type.
    for doc in &all {
        assert_cloudevents_1_0(doc);
        assert_matches_schema(&validators, doc);
    }
    let ids: HashSet<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all.len(), "event ids are unique");
    let newest_first: Vec<Value> = all.iter().filter(|e| is_task_event(e)).cloned().collect();

    // Oldest to newest, they are exactly what ann did, carrying the task as
    // the API returned it.
    let mut oldest_first = newest_first.clone();
    oldest_first.reverse();
    let ann_id = id_of(&ok(s, &ann, Method::GET, "/api/v1/me", None).await);
    let got: Vec<(&str, &str)> = oldest_first
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["subject"].as_str().unwrap()))
        .collect();
    let want: Vec<(&str, &str)> = expected
        .iter()
        .map(|(t, subject, _)| (t.as_str(), subject.as_str()))
        .collect();
    assert_eq!(got, want, "events in order (type, subject)");
    let mut last_time = String::new();
    for (doc, (kind, subject, task)) in oldest_first.iter().zip(&expected) {
        assert_eq!(
            doc["partitionkey"],
            ann_id.as_str(),
            "one user, one key: {doc}"
        );
        let time = doc["time"].as_str().unwrap().to_owned();
        assert!(
            time >= last_time,
            "time goes forward: {last_time} then {time}"
        );
        last_time = time;
        match task {
            Some(task) => {
                assert_eq!(
                    &doc["data"]["task"],
                    task,
                    "{} carries the task as answered",
                    kind.as_str()
                );
                assert_eq!(
                    doc["time"],
                    task["updated_at"].as_str().map(millis_z).unwrap()
                );
            }
            None => assert_eq!(doc["data"], json!({"task_id": subject}), "{doc}"),
        }
    }
    let changed = &oldest_first[3]["data"]["changed"];
    assert_eq!(
        changed,
        &json!(["title", "due", "tags", "reminders"]),
        "{changed}"
    );
    // The completion and the next occurrence it created happen at one instant.
    assert_eq!(oldest_first[4]["time"], oldest_first[5]["time"]);

    // Filters return only what matches.
    let completed =
        items(&activity_page(s, &ann, &[("type", "task.completed"), ("limit", "200")]).await);
    let subjects: Vec<&str> = completed
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, [id_of(&report), id_of(&plants)], "newest first");
    assert!(
        completed
            .iter()
            .all(|e| e["type"] == EventType::TaskCompleted.as_str())
    );
    let full = items(
        &activity_page(
            s,
            &ann,
            &[
                ("type", EventType::TaskCompleted.as_str()),
                ("limit", "200"),
            ],
        )
        .await,
    );
    assert_eq!(
        full, completed,
        "the short and the full type name filter alike"
    );

    // A time window: `since` is inclusive, `until` exclusive, so the two
    // halves split the log at any instant.
    let everything = items(&activity_page(s, &ann, &[("limit", "200")]).await);
    let cut = everything[everything.len() / 2]["time"]
        .as_str()
        .unwrap()
        .to_owned();
    let later = items(&activity_page(s, &ann, &[("since", cut.as_str()), ("limit", "200")]).await);
    let earlier =
        items(&activity_page(s, &ann, &[("until", cut.as_str()), ("limit", "200")]).await);
    assert!(!later.is_empty() && !earlier.is_empty());
    assert!(
        later
            .iter()
            .all(|e| e["time"].as_str().unwrap() >= cut.as_str())
    );
    assert!(
        earlier
            .iter()
            .all(|e| e["time"].as_str().unwrap() < cut.as_str())
    );
    assert_eq!([later, earlier].concat(), everything);
    let (st, v) = send(
        s.req(&ann, Method::GET, "/api/v1/activity")
            .query(&[("since", "yesterday")]),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "since", "{v}");

    let report_id = id_of(&report);
    let about =
        items(&activity_page(s, &ann, &[("task", report_id.as_str()), ("limit", "200")]).await);
    let types: Vec<&str> = about
        .iter()
        .filter(|e| is_task_event(e))
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            EventType::TaskReopened.as_str(),
            EventType::TaskCompleted.as_str(),
            EventType::TaskUpdated.as_str(),
            EventType::TaskCreated.as_str()
        ]
    );
    assert!(about.iter().all(|e| e["subject"] == report_id.as_str()));
    let deleted_id = id_of(&scratch);
    let about = items(&activity_page(s, &ann, &[("task", deleted_id.as_str())]).await);
    assert_eq!(about.len(), 2, "a deleted task's history stays: {about:#?}");

    // Isolation: bob sees none of it, even asking for ann's task by id.
    assert_eq!(
        items(&activity_page(s, &bob, &[("limit", "200")]).await),
        Vec::<Value>::new()
    );
    assert_eq!(
        items(&activity_page(s, &bob, &[("task", report_id.as_str())]).await),
        Vec::<Value>::new()
    );

    // Paging by two yields every event exactly once, in the same order.
    let mut paged: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..=all.len() {
        let mut query = vec![("limit", "2")];
        if let Some(c) = &cursor {
            query.push(("cursor", c.as_str()));
        }
        let page = activity_page(s, &ann, &query).await;
        let got = items(&page);
        assert!(got.len() <= 2, "{page}");
        paged.extend(got);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, all, "paging by two");
}

/// An instant as the event's `time` writes it: UTC with milliseconds.
fn millis_z(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .expect("instant")
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A reminder's whole life — scheduled, due, delivered, snoozed, due and
/// delivered again, dismissed — emits events that match their schemas.
async fn reminder_events_contract(s: &TestServer) {
    let validators = validators();
    let ann = s.user("ann").await;
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(700);
    let task = s
        .create(
            &ann,
            json!({"title": "Call the bank", "reminders": [{"at": at.to_rfc3339()}]}),
        )
        .await;
    let id = id_of(&task);
    let history = |n: usize| {
        let id = id.clone();
        let ann = &ann;
        async move {
            let deadline = Instant::now() + Duration::from_secs(6);
            loop {
                let page = activity_page(s, ann, &[("task", id.as_str()), ("limit", "200")]).await;
                let got = items(&page);
                if got.len() >= n {
                    return got;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} of {n} events: {got:#?}",
                    got.len()
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    };
    // created, scheduled, due, delivered
    let events = history(4).await;
    let rid = events[0]["data"]["reminder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let snoozed = ok(
        s,
        &ann,
        Method::POST,
        &format!("/api/v1/reminders/{rid}/snooze"),
        Some(json!({"for": "PT1S"})),
    )
    .await;
    assert_eq!(snoozed["state"], "pending");
    // snoozed, due, delivered
    history(7).await;
    ok(
        s,
        &ann,
        Method::POST,
        &format!("/api/v1/reminders/{rid}/dismiss"),
        None,
    )
    .await;
    let newest_first = history(8).await;
    let types: Vec<&str> = newest_first
        .iter()
        .rev()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "dueflow.task.created.v1",
            "dueflow.reminder.scheduled.v1",
            "dueflow.reminder.due.v1",
            "dueflow.reminder.delivered.v1",
            "dueflow.reminder.snoozed.v1",
            "dueflow.reminder.due.v1",
            "dueflow.reminder.delivered.v1",
            "dueflow.reminder.dismissed.v1",
        ]
    );
    for doc in &newest_first {
        assert_cloudevents_1_0(doc);
        assert_matches_schema(&validators, doc);
        assert_eq!(
            doc["subject"],
            id.as_str(),
            "reminder events are about the task"
        );
    }
}

/// `traceparent` fields as (trace id, span id, flags).
fn trace_of(e: &Value) -> (String, String, String) {
    let t = e["traceparent"]
        .as_str()
        .expect("every event has a traceparent");
    let f: Vec<&str> = t.split('-').collect();
    assert_eq!((f.len(), f[0]), (4, "00"), "{t}");
    (f[1].to_owned(), f[2].to_owned(), f[3].to_owned())
}

async fn traces_follow_the_request(s: &TestServer) {
    let ann = s.user("ann").await;
    let created_in = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let completed_in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    let (st, task) = send(
        s.req(&ann, Method::POST, "/api/v1/tasks")
            .header("traceparent", created_in)
            .json(&json!({
                "title": "Traced",
                "due": "2026-12-01",
                "recurrence": {"rrule": "FREQ=DAILY"},
                "reminders": [{"at": "2030-01-01T09:00:00Z"}]
            })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{task}");
    let id = id_of(&task);
    let (st, v) = send(
        s.req(&ann, Method::POST, &format!("/api/v1/tasks/{id}/complete"))
            .header("traceparent", completed_in),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let next = next_occurrence(s, &ann, &task).await;
    let untraced = s.create(&ann, json!({"title": "No header"})).await;
    let wanted = [
        ("dueflow.task.created.v1", id.clone()),
        ("dueflow.reminder.scheduled.v1", id.clone()),
        ("dueflow.task.completed.v1", id.clone()),
        ("dueflow.task.created.v1", id_of(&next)),
        ("dueflow.task.created.v1", id_of(&untraced)),
    ];
    // The audit role logs them in the background.
    let deadline = Instant::now() + Duration::from_secs(5);
    let events = loop {
        let got = items(&activity_page(s, &ann, &[("limit", "200")]).await);
        let all = wanted.iter().all(|(k, id)| {
            got.iter()
                .any(|e| e["type"] == *k && e["subject"] == id.as_str())
        });
        if all {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "events missing after 5 s: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let find = |kind: &str, subject: &str| {
        events
            .iter()
            .find(|e| e["type"] == kind && e["subject"] == subject)
            .expect("waited for above")
            .clone()
    };
    let created = trace_of(&find("dueflow.task.created.v1", &id));
    assert_eq!(
        created.0, "0af7651916cd43dd8448eb211c80319c",
        "the caller's trace"
    );
    assert_ne!(created.1, "b7ad6b7169203331", "a span of the server's own");
    assert_eq!(created.2, "01", "the caller's sampling decision");
    assert_eq!(
        trace_of(&find("dueflow.reminder.scheduled.v1", &id)),
        created,
        "events of one write share its span"
    );
    let completed = trace_of(&find("dueflow.task.completed.v1", &id));
    assert_eq!(completed.0, "4bf92f3577b34da6a3ce929d0e0e4736");
    let occurrence = trace_of(&find("dueflow.task.created.v1", &id_of(&next)));
    assert_eq!(
        occurrence.0, completed.0,
        "the recurring role stays in the completion's trace"
    );
    assert_ne!(occurrence.1, completed.1, "in a span of its own");
    let fresh = trace_of(&find("dueflow.task.created.v1", &id_of(&untraced)));
    assert!(
        fresh.0 != created.0 && fresh.0 != completed.0 && fresh.0 != "0".repeat(32),
        "a request without a traceparent starts a trace: {fresh:?}"
    );
}

both_backends!(
    event_contract,
    reminder_events_contract,
    traces_follow_the_request
);
