//! 1,000 reminders due over 10 s with every role in one process on SQLite
//! and the in-process bus (the scenario is in `common::reminder_load`).

mod common;

use common::kafka::Api;
use common::process::{free_port, one_process_env, serve, user_with_token};
use common::reminder_load::reach_both_channels_once_and_on_time;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_one_process_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let env = one_process_env(tmp.path());
    let token = user_with_token(&env);
    let port = free_port();
    let _app = serve(&env, port, &[]);
    reach_both_channels_once_and_on_time(&Api::new(port, token)).await;
}
