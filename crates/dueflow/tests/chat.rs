//! Chat with the offline engine, end to end over HTTP on both databases:
//! create → list → complete → move → delete only after a yes; bulk changes
//! wait for a yes too; conversations are kept per user and another user's
//! look missing, as do their tasks.

mod common;

use common::{Session, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One message; the answer and its conversation.
async fn say(s: &TestServer, who: &Session, conversation: Option<&str>, message: &str) -> Value {
    let mut body = json!({ "message": message });
    if let Some(c) = conversation {
        body["conversation_id"] = json!(c);
    }
    let (st, v) = s.call(who, Method::POST, "/api/v1/chat", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{message}: {v}");
    v
}

fn reply(v: &Value) -> &str {
    v["reply"].as_str().unwrap()
}

fn tools(v: &Value) -> Vec<&str> {
    v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["tool"].as_str().unwrap())
        .collect()
}

async fn tasks(s: &TestServer, who: &Session, q: &str) -> Vec<Value> {
    let (st, v) = s
        .call(
            who,
            Method::GET,
            &format!("/api/v1/tasks?q={q}&limit=100"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

async fn a_conversation_manages_tasks(s: &TestServer) {
    let ann = s.user("ann").await;
    let first = say(s, &ann, None, "add call mom friday 5pm #family !high").await;
    let c = first["conversation_id"].as_str().unwrap().to_owned();
    assert!(c.starts_with("cnv_"));
    assert_eq!(tools(&first), ["quick_add"]);
    assert!(
        reply(&first).contains("Call mom") || reply(&first).contains("call mom"),
        "{first}"
    );
    let mom = first["actions"][0]["result"]["task"].clone();
    assert_eq!(mom["priority"], "high");
    assert_eq!(mom["tags"], json!(["family"]));

    let week = say(s, &ann, Some(&c), "What's due this week?").await;
    assert_eq!(tools(&week), ["search_tasks"]);
    assert!(reply(&week).contains("call mom"), "{week}");
    let none = say(s, &ann, Some(&c), "what's overdue?").await;
    assert!(reply(&none).starts_with("No tasks"), "{none}");

    let done = say(s, &ann, Some(&c), "done with call mom").await;
    assert_eq!(tools(&done), ["search_tasks", "complete_task"]);
    assert_eq!(tasks(s, &ann, "status:done").await.len(), 1);
    let reopened = say(s, &ann, Some(&c), "reopen call mom").await;
    assert!(reply(&reopened).starts_with("Reopened"), "{reopened}");
    let moved = say(s, &ann, Some(&c), "move the call mom task to 3 march 2031").await;
    assert!(reply(&moved).starts_with("Moved"), "{moved}");
    assert_eq!(tasks(s, &ann, "").await[0]["due"], "2031-03-03");
    let high = say(s, &ann, Some(&c), "make call mom high priority").await;
    assert!(reply(&high).contains("high priority"), "{high}");
    let urgent = say(s, &ann, Some(&c), "make call mom urgent").await;
    assert!(reply(&urgent).contains("urgent"), "{urgent}");
    let reminded = say(s, &ann, Some(&c), "remind me about call mom 1 day before").await;
    assert_eq!(
        tools(&reminded),
        ["search_tasks", "set_reminder"],
        "{reminded}"
    );
    assert_eq!(
        tasks(s, &ann, "").await[0]["reminders"],
        json!([{ "before": "P1D" }])
    );

    let snoozed = say(s, &ann, Some(&c), "snooze call mom for 2 hours").await;
    assert_eq!(
        tools(&snoozed),
        ["search_tasks", "snooze_reminder"],
        "{snoozed}"
    );
    assert!(reply(&snoozed).starts_with("Snoozed"), "{snoozed}");
    let until = snoozed["actions"][1]["result"]["fire_at"].as_str().unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(until).unwrap();
    let ahead = until.signed_duration_since(chrono::Utc::now());
    assert!((110..=120).contains(&ahead.num_minutes()), "{ahead}");

    // A delete waits for yes; no, or any other message, cancels it.
    let ask = say(s, &ann, Some(&c), "delete the old call mom task").await;
    assert!(reply(&ask).contains("Shall I delete"), "{ask}");
    assert_eq!(tools(&ask), ["search_tasks"]);
    let no = say(s, &ann, Some(&c), "no").await;
    assert!(reply(&no).contains("Nothing changed"), "{no}");
    say(s, &ann, Some(&c), "delete call mom").await;
    say(s, &ann, Some(&c), "show my tasks").await;
    let late_yes = say(s, &ann, Some(&c), "yes").await;
    assert!(tools(&late_yes).is_empty(), "{late_yes}");
    assert_eq!(
        tasks(s, &ann, "").await.len(),
        1,
        "nothing deleted without a yes"
    );
    say(s, &ann, Some(&c), "delete call mom").await;
    // Two yeses at once: only the first to take the question acts on it,
    // and both turns are kept.
    let (a, b) = tokio::join!(
        say(s, &ann, Some(&c), "Yes!"),
        say(s, &ann, Some(&c), "yes")
    );
    let deletes = [&a, &b]
        .iter()
        .filter(|v| tools(v) == ["delete_task"])
        .count();
    assert_eq!(deletes, 1, "{a} {b}");
    assert!(tasks(s, &ann, "").await.is_empty());

    // Bulk changes wait for yes as well.
    for item in ["milk", "bread", "eggs"] {
        say(s, &ann, Some(&c), &format!("add buy {item} #groceries")).await;
    }
    let which = say(s, &ann, Some(&c), "done with buy").await;
    assert!(reply(&which).contains("Which one"), "{which}");
    assert_eq!(tasks(s, &ann, "status:done").await.len(), 0);
    let ask = say(s, &ann, Some(&c), "complete all tasks tagged groceries").await;
    assert!(reply(&ask).contains("complete 3 tasks"), "{ask}");
    assert_eq!(tasks(s, &ann, "status:done").await.len(), 0);
    let yes = say(s, &ann, Some(&c), "yes").await;
    assert_eq!(tools(&yes), ["complete_task"; 3]);
    let ask = say(s, &ann, Some(&c), "delete all done tasks").await;
    assert!(reply(&ask).contains("delete 3 tasks"), "{ask}");
    say(s, &ann, Some(&c), "yes").await;
    assert!(tasks(s, &ann, "").await.is_empty());

    let lost = say(s, &ann, Some(&c), "frobnicate the widgets").await;
    assert!(reply(&lost).contains("did not understand"), "{lost}");
    assert!(tools(&lost).is_empty());

    // The conversation is kept, turn by turn.
    let (st, list) = s
        .call(&ann, Method::GET, "/api/v1/chat/conversations", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list[0]["id"], c.as_str());
    assert_eq!(list[0]["title"], "add call mom friday 5pm #family !high");
    let (st, whole) = s
        .call(
            &ann,
            Method::GET,
            &format!("/api/v1/chat/conversations/{c}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{whole}");
    let turns = whole["turns"].as_array().unwrap();
    assert!(
        turns
            .iter()
            .filter(|t| t["message"] == "Yes!" || t["message"] == "yes")
            .count()
            >= 2,
        "no turn is lost to another sent at the same time"
    );
    assert_eq!(turns[0]["message"], "add call mom friday 5pm #family !high");
    assert_eq!(turns.last().unwrap()["message"], "frobnicate the widgets");
}

async fn another_user_reaches_nothing(s: &TestServer) {
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    let first = say(s, &ann, None, "add dentist tomorrow").await;
    let c = first["conversation_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/chat/conversations/{c}");
    for method in [Method::GET, Method::DELETE] {
        let (st, v) = s.call(&bob, method.clone(), &path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {v}");
    }
    let (st, _) = s
        .call(
            &bob,
            Method::POST,
            "/api/v1/chat",
            Some(json!({ "message": "yes", "conversation_id": c })),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = s
        .call(&bob, Method::GET, "/api/v1/chat/conversations", None)
        .await;
    assert_eq!(list, json!([]));
    let tried = say(s, &bob, None, "delete dentist").await;
    assert!(reply(&tried).contains("no task matching"), "{tried}");
    let tried = say(s, &bob, None, "done with dentist").await;
    assert!(reply(&tried).contains("no open task matching"), "{tried}");
    assert_eq!(tasks(s, &ann, "status:open").await.len(), 1);

    for bad in [
        json!({ "message": "  " }),
        json!({ "message": "x".repeat(2001) }),
        json!({}),
    ] {
        let (st, v) = s
            .call(&ann, Method::POST, "/api/v1/chat", Some(bad.clone()))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    let (st, _) = s.call(&ann, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.call(&ann, Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

both_backends!(a_conversation_manages_tasks, another_user_reaches_nothing);

/// Chat through a model: the stand-in plays an OpenAI-compatible API whose
/// answers are scripted per message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_acts_through_the_tools_within_bounds() {
    use common::llm::{StandIn, Step, after_tool, last_tool_result, last_user_message};
    use dueflow_api::ApiConfig;
    use dueflow_assistant::chat::LlmConfig;
    use std::sync::Arc;
    use std::time::Duration;

    let model = StandIn::start(Arc::new(|body: &Value| {
        let said = last_user_message(body);
        match said.as_str() {
            "buy milk tomorrow please" if !after_tool(body) => {
                Step::Call(vec![("quick_add", json!({ "text": "buy milk tomorrow" }))])
            }
            "buy milk tomorrow please" => Step::Say("Added buy milk for tomorrow."),
            "throw away the milk" if !after_tool(body) => {
                Step::Call(vec![("search_tasks", json!({ "query": "milk" }))])
            }
            "throw away the milk" => {
                let id = last_tool_result(body)["items"][0]["id"].clone();
                Step::Call(vec![("delete_task", json!({ "id": id }))])
            }
            "add bread and eggs" => Step::Call(vec![
                ("add_task", json!({ "title": "bread" })),
                ("add_task", json!({ "title": "eggs" })),
            ]),
            "keep going" => Step::Call(vec![("list_tags", json!({}))]),
            "use magic" if !after_tool(body) => Step::Call(vec![("frobnicate", json!({}))]),
            "use magic" => Step::Say("Sorry, I cannot do magic."),
            "be slow" => Step::Stall(Duration::from_secs(3)),
            "water the plants then fail" if !after_tool(body) => {
                Step::Call(vec![("quick_add", json!({ "text": "water the plants" }))])
            }
            _ => Step::Fail(503),
        }
    }))
    .await;
    let s = TestServer::start_with(
        common::Backend::Sqlite,
        ApiConfig {
            assistant: Some(LlmConfig {
                url: model.url.clone(),
                model: "test-model".into(),
                api_key: Some("sk-test".into()),
                timeout: Duration::from_secs(1),
            }),
            ..ApiConfig::default()
        },
    )
    .await;
    let ann = s.user("ann").await;

    let added = say(&s, &ann, None, "buy milk tomorrow please").await;
    assert_eq!(reply(&added), "Added buy milk for tomorrow.");
    assert_eq!(tools(&added), ["quick_add"]);
    let c = added["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(tasks(&s, &ann, "milk").await.len(), 1);
    let (headers, first) = &model.requests()[0];
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(first["model"], "test-model");
    assert_eq!(first["tools"].as_array().unwrap().len(), 12);
    assert_eq!(
        first["tools"][0]["function"]["parameters"]["type"],
        "object"
    );
    assert!(
        first["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("UTC")
    );

    // A delete the model asks for waits for the user's yes.
    let ask = say(&s, &ann, Some(&c), "throw away the milk").await;
    assert!(reply(&ask).contains("Shall I delete \"buy milk\""), "{ask}");
    assert_eq!(tools(&ask), ["search_tasks"]);
    assert_eq!(tasks(&s, &ann, "milk").await.len(), 1);
    let yes = say(&s, &ann, Some(&c), "yes").await;
    assert_eq!(tools(&yes), ["delete_task"]);
    assert!(tasks(&s, &ann, "milk").await.is_empty());

    // Several changes in one step wait too; no cancels them.
    let ask = say(&s, &ann, Some(&c), "add bread and eggs").await;
    assert!(
        reply(&ask).contains("Shall I add \"bread\", add \"eggs\"?"),
        "{ask}"
    );
    say(&s, &ann, Some(&c), "no").await;
    assert!(tasks(&s, &ann, "").await.is_empty());

    // A model that keeps calling tools is stopped.
    let looped = say(&s, &ann, Some(&c), "keep going").await;
    assert!(reply(&looped).contains("stopped after 6 steps"), "{looped}");
    assert_eq!(tools(&looped).len(), 6);
    // An unknown tool is an error the model reads, not a failure.
    let magic = say(&s, &ann, Some(&c), "use magic").await;
    assert_eq!(reply(&magic), "Sorry, I cannot do magic.");
    let told = model
        .requests()
        .iter()
        .rev()
        .find_map(|(_, b)| {
            b["messages"]
                .as_array()
                .and_then(|m| m.last())
                .filter(|m| m["role"] == "tool")
                .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        })
        .unwrap();
    assert!(told.contains("no tool named 'frobnicate'"), "{told}");
    // A model that is slow or failing: the offline engine answers.
    let slow = say(&s, &ann, Some(&c), "be slow").await;
    assert!(reply(&slow).contains("no answer within 1 s"), "{slow}");
    // A model that fails after acting: what it did is said, not done again.
    let partial = say(&s, &ann, Some(&c), "water the plants then fail").await;
    assert!(reply(&partial).contains("stopped answering"), "{partial}");
    assert_eq!(tools(&partial), ["quick_add"]);
    assert_eq!(tasks(&s, &ann, "water").await.len(), 1);
    let failing = say(&s, &ann, Some(&c), "add pay rent friday").await;
    assert!(
        reply(&failing).contains("503") && reply(&failing).contains("Added"),
        "{failing}"
    );
    assert_eq!(tools(&failing), ["quick_add"]);
}
