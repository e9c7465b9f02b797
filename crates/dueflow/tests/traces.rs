//! What an operator follows a request by. The api role and the recurring
//! role, each its own process over a real Kafka-protocol broker and
//! PostgreSQL, export their spans over OTLP to a collector stand-in
//! (`common::otlp`): completing a recurring task is one trace, from the
//! caller's span through the request, the relay and the broker to the
//! recurring role, and on to the next occurrence it publishes; a reminder
//! the scheduler fires starts a trace that the notifier's handling joins.
//! With `--log-format json` each log line is one JSON object naming the
//! trace.

mod common;

use std::time::Duration;

use common::kafka::{Api, Cluster, env};
use common::otlp::{CONSUMER, Collector, INTERNAL, PRODUCER, Recorded, SERVER};
use common::process::{free_port, user_with_token};
use serde_json::{Value, json};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER: &str = "00f067aa0ba902b7";

/// The JSON log lines of a process that name `trace` and say `message`.
fn logged(log: &str, trace: &str, message: &str) -> Vec<Value> {
    log.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .filter(|v| v["span"]["trace_id"] == trace && v["message"] == message)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_from_the_request_through_the_broker_to_the_recurring_role() {
    let collector = Collector::start().await;
    let c = Cluster::start().await;
    let token = user_with_token(&env(&c.db));
    let observed = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.clone()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ("DUEFLOW_LOG_FORMAT", "json".to_owned()),
        (
            "DUEFLOW_LOG",
            "info,dueflow_api=debug,dueflow_workers=debug".to_owned(),
        ),
    ];
    let api_port = free_port();
    let api_proc = c.role_with("api", api_port, &observed);
    let recurring_proc = c.role_with("recurring,scheduler,notifier", free_port(), &observed);
    let api = Api::new(api_port, token);
    let roles = |s: &Recorded| s.resource["dueflow.roles"].clone();
    // The live stream's consumer reads from the newest event on, from
    // when it has joined its group: only after it has handled one does the
    // completion's update surely reach it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !collector
        .all()
        .iter()
        .any(|s| s.name == "process task-updates" && roles(s) == "api")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the api's live stream handled no update"
        );
        api.create_with(json!({"title": "Warm-up"})).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let id = api
        .create_with(json!({"title": "Standup", "due": "2026-12-01",
                            "recurrence": {"rrule": "FREQ=DAILY"}}))
        .await;
    let res = api
        .http
        .post(format!("{}/api/v1/tasks/{id}/complete", api.base))
        .bearer_auth(&api.token)
        .header("traceparent", format!("00-{TRACE}-{CALLER}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    api.wait_next("Standup", std::slice::from_ref(&id)).await;

    const WORKERS: &str = "recurring,scheduler,notifier";
    let group = |s: &Recorded| s.attributes.get("messaging.consumer.group.name").cloned();
    let spans = collector
        .trace_when(TRACE, Duration::from_secs(20), |spans| {
            spans.iter().filter(|s| s.kind == PRODUCER).count() >= 2
                && spans
                    .iter()
                    .filter(|s| s.name == "process task-updates")
                    .count()
                    >= 2
                && spans
                    .iter()
                    .any(|s| s.kind == CONSUMER && roles(s) == WORKERS)
        })
        .await;
    let one = |what: &str, pick: &dyn Fn(&Recorded) -> bool| {
        let found: Vec<&Recorded> = spans.iter().filter(|s| pick(s)).collect();
        assert_eq!(found.len(), 1, "{what}: {spans:#?}");
        found[0].clone()
    };
    let request = one("the request", &|s| s.kind == SERVER);
    assert_eq!(request.name, "POST /api/v1/tasks/{id}/complete");
    assert_eq!(request.parent_span_id, CALLER, "the caller's span");
    assert_eq!(roles(&request), "api");
    assert_eq!(request.resource["service.name"], "dueflow");
    assert_eq!(request.attributes["http.response.status_code"], "200");

    let relayed = one("the completion's relay", &|s| {
        s.kind == PRODUCER && s.parent_span_id == request.span_id
    });
    assert_eq!(relayed.name, "send task-events");
    assert_eq!(roles(&relayed), "api");
    assert_eq!(relayed.attributes["messaging.system"], "kafka");

    let recurring = one("the recurring role's handling", &|s| {
        s.kind == CONSUMER
            && group(s).as_deref() == Some("dueflow-recurring")
            && s.parent_span_id == request.span_id
    });
    assert_eq!(roles(&recurring), WORKERS);
    assert_eq!(recurring.name, "process task-events");
    assert_eq!(
        recurring.attributes["messaging.consumer.group.name"],
        "dueflow-recurring"
    );
    assert_eq!(
        recurring.attributes["messaging.message.id"], relayed.attributes["messaging.message.id"],
        "the event the relay sent"
    );

    let next = one("the next occurrence's relay", &|s| {
        s.kind == PRODUCER && s.parent_span_id == recurring.span_id
    });
    assert_eq!(next.name, "send task-events");
    assert_eq!(roles(&next), "api");
    // The live stream's consumer in the api process saw both, in the trace.
    for parent in [&request.span_id, &recurring.span_id] {
        one("the live stream's handling", &|s| {
            s.kind == CONSUMER && s.name == "process task-updates" && &s.parent_span_id == parent
        });
    }

    // A reminder: the scheduler's firing is the first span of a trace the
    // notifier's handling of its `reminder.due` joins.
    let at = chrono::Utc::now() + chrono::Duration::seconds(1);
    api.create_with(json!({"title": "Stretch", "reminders": [{"at": at.to_rfc3339()}]}))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (fired, notified) = loop {
        let spans = collector.all();
        let fired = spans
            .iter()
            .find(|s| s.kind == INTERNAL && s.name == "fire reminder");
        let notified = fired.and_then(|f| {
            spans.iter().find(|s| {
                s.kind == CONSUMER
                    && s.parent_span_id == f.span_id
                    && group(s).as_deref() == Some("dueflow-notifier")
            })
        });
        if let (Some(f), Some(n)) = (fired, notified) {
            break (f.clone(), n.clone());
        }
        assert!(std::time::Instant::now() < deadline, "{spans:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(fired.parent_span_id, "", "the first span of its trace");
    assert_eq!(roles(&fired), WORKERS);
    assert_eq!(notified.trace_id, fired.trace_id);
    assert_eq!(notified.name, "process reminders");

    // The log lines of both processes name the trace.
    let answered = logged(&api_proc.log(), TRACE, "answered");
    assert_eq!(answered.len(), 1, "{}", api_proc.log());
    assert_eq!(answered[0]["status"], 200);
    assert_eq!(answered[0]["span"]["route"], "/api/v1/tasks/{id}/complete");
    let handled = logged(&recurring_proc.log(), TRACE, "event handled");
    assert!(
        handled
            .iter()
            .any(|l| l["span"]["group"] == "dueflow-recurring"),
        "{}",
        recurring_proc.log()
    );
}

#[test]
fn an_endpoint_the_exporter_cannot_reach_safely_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let mut env = common::process::one_process_env(tmp.path());
    env.push((
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "https://collector.example:4318".to_owned(),
    ));
    let out = common::process::dueflow(
        &env,
        &["serve", "--listen", &format!("127.0.0.1:{}", free_port())],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && err.contains("http://"),
        "{err}"
    );
}
