//! Two `api` replicas over a real Kafka-protocol broker and PostgreSQL,
//! each its own process: only one relays the outbox, so each event is
//! published once whichever replica wrote it; when that one is killed
//! (SIGKILL), the other takes over and nothing written is lost.

mod common;

use std::time::{Duration, Instant};

use common::kafka::{Api, Cluster, env};
use common::process::{free_port, user_with_token};

/// Which of the replicas lead, by their `dueflow_relay_leader`.
async fn leaders(apis: &[&Api]) -> Vec<bool> {
    let mut out = Vec::new();
    for api in apis {
        out.push(api.metric("dueflow_relay_leader").await == 1.0);
    }
    out
}

/// Messages the replicas published to `topic`, together.
async fn published(apis: &[&Api], topic: &str) -> f64 {
    let series = format!("dueflow_published_total{{topic=\"{topic}\"}}");
    let mut sum = 0.0;
    for api in apis {
        sum += api.metric(&series).await;
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_relays_and_another_takes_over_when_it_dies() {
    let c = Cluster::start().await;
    let token = user_with_token(&env(&c.db));
    let ports = [free_port(), free_port()];
    let mut procs = [c.role("api", ports[0]), c.role("api", ports[1])];
    let _audit = c.role("audit", free_port());
    let apis = [
        Api::new(ports[0], token.clone()),
        Api::new(ports[1], token.clone()),
    ];
    let both = [&apis[0], &apis[1]];

    // Writes through both replicas; every event is published exactly once.
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(
            apis[i % 2]
                .create(&format!("Written through {}", i % 2))
                .await,
        );
    }
    apis[0]
        .expect_exactly_once("task.created", &ids, Duration::from_secs(30))
        .await;
    // The counters move after the outbox rows are gone: wait for them,
    // then make sure no second relay publishes the rows again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while published(&both, "task-updates").await < ids.len() as f64 {
        assert!(Instant::now() < deadline, "the counters did not reach 100");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(published(&both, "task-events").await, ids.len() as f64);
    assert_eq!(published(&both, "task-updates").await, ids.len() as f64);
    let who = leaders(&both).await;
    assert_eq!(
        who.iter().filter(|l| **l).count(),
        1,
        "relay leaders: {who:?}"
    );

    // The leader dies. The survivor takes writes meanwhile, and takes
    // over within its one-second check (and some slack for a slow machine).
    let leader = who.iter().position(|l| *l).unwrap();
    let survivor = &apis[1 - leader];
    procs[leader].kill();
    let killed = Instant::now();
    let writes = async {
        let mut written = Vec::new();
        for i in 0..50 {
            written.push(survivor.create(&format!("After the kill {i}")).await);
        }
        written
    };
    let takeover = async {
        while survivor.metric("dueflow_relay_leader").await != 1.0 {
            assert!(
                killed.elapsed() < Duration::from_secs(3),
                "no replica took over the relay"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!("the standby led {:?} after the kill", killed.elapsed());
    };
    let (written, ()) = tokio::join!(writes, takeover);
    ids.extend(written);
    survivor
        .expect_exactly_once("task.created", &ids, Duration::from_secs(30))
        .await;
}
