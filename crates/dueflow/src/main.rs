//! The `dueflow` binary: runs the server, administers it (`migrate`,
//! `user add`, `token create`) and talks to a running server as a client
//! (`task …`, `mcp`). Configuration is layered in `config`; each command lives in
//! its own module.

mod admin;
mod cli;
mod client;
mod config;
mod roles;
mod secret_store;
mod server;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// jemalloc serves every allocation in the process, the C libraries' too
/// (SQLite, librdkafka): glibc's arenas made the runtime threads queue on
/// each other's locks when one freed what another had allocated, which cost
/// searches about a third of their throughput.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse_from(cli::with_negations_as_words(std::env::args_os().collect()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => server::serve(args).await,
            Command::Migrate(args) => admin::migrate(args).await,
            Command::User(cmd) => admin::user(cmd).await,
            Command::Token(cmd) => admin::token(cmd).await,
            Command::Task(cmd) => client::task(cmd).await,
            Command::Mcp(args) => client::mcp_stdio::serve(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
