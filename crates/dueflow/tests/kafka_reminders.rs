//! 1,000 reminders due over 10 s with the `api`, `scheduler` and
//! `notifier` roles as their own processes over a real Kafka-protocol
//! broker and PostgreSQL (the scenario is in `common::reminder_load`).

mod common;

use common::kafka::{Api, Cluster};
use common::process::{free_port, user_with_token};
use common::reminder_load::reach_both_channels_once_and_on_time;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_kafka_and_postgres_with_a_process_per_role() {
    let c = Cluster::start().await;
    let token = user_with_token(&common::kafka::env(&c.db));
    let api_port = free_port();
    let _api = c.role("api", api_port);
    let _scheduler = c.role("scheduler", free_port());
    let _notifier = c.role("notifier", free_port());
    reach_both_channels_once_and_on_time(&Api::new(api_port, token)).await;
}
