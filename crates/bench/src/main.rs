//! `dueflow-bench run`: start a `dueflow serve` child on a free loopback
//! port with a throw-away data directory (or a given PostgreSQL database),
//! seed it, measure the hot paths one after the other, print a markdown
//! table and stop the server. Everything a run needs is in one command so
//! that the figures in docs/benchmarks.md can be reproduced exactly.

mod http;
mod load;
mod pipeline;
mod reminders;
mod report;
mod seed;

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::load::{MakeRequest, Plan};
use crate::report::Memory;

#[derive(Parser)]
#[command(name = "dueflow-bench", about = "Load generator for dueflow")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a server, seed it, measure, print a markdown table.
    Run(RunArgs),
    /// Start a server, schedule many reminders, report how late they fired.
    Reminders(reminders::ReminderArgs),
    /// Start a broker and every role as its own process over Kafka and
    /// PostgreSQL; measure the event pipeline end to end.
    Pipeline(pipeline::PipelineArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The dueflow binary to benchmark.
    #[arg(long, default_value = "target/release/dueflow")]
    bin: PathBuf,
    /// `sqlite` (a file in a fresh temporary data directory) or the URL of
    /// an empty PostgreSQL database. Several, comma-separated, are measured
    /// one after the other and compared side by side at the end (so a URL
    /// here cannot itself hold a comma).
    #[arg(long, value_delimiter = ',', default_value = "sqlite")]
    database: Vec<String>,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured seconds before each scenario.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Client OS threads (one single-threaded runtime each). One keeps up
    /// with the server on two cores and leaves it the most CPU.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Tasks of user A, the user every scenario acts as.
    #[arg(long, default_value_t = 10_000)]
    tasks_a: usize,
    /// Further users, each with `--tasks-other` tasks.
    #[arg(long, default_value_t = 9)]
    other_users: usize,
    #[arg(long, default_value_t = 1_000)]
    tasks_other: usize,
    /// Connections used for seeding.
    #[arg(long, default_value_t = 32)]
    seed_connections: usize,
    /// Scenarios to run, comma-separated: get, list, search, create, patch
    /// (a task's notes), complete (complete or reopen a task), page (the web
    /// app's task list, rendered on the server), mcp (get_task over MCP),
    /// chat (an offline chat turn).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "get,list,search,create,patch,complete,page"
    )]
    only: Vec<String>,
    /// Keep the temporary data directory (and server log) afterwards.
    #[arg(long)]
    keep: bool,
}

/// The server child; killed when dropped, whatever happened.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// `dueflow serve` with `dir` as its data directory, on `database` (or
/// SQLite in `dir`) with `extra` arguments, logging to `dir/NAME.log`;
/// returned once it accepts connections.
fn start_server(
    bin: &Path,
    dir: &Path,
    database: Option<&str>,
    name: &str,
    extra: &[&str],
) -> anyhow::Result<Server> {
    let addr = free_port()?;
    let log = dir.join(format!("{name}.log"));
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .arg("--listen")
        .arg(addr.to_string());
    if let Some(url) = database {
        cmd.arg("--database").arg(url);
    }
    cmd.args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log)?);
    let mut server = Server {
        child: cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?,
        addr,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "the server exited ({status}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        if Instant::now() > deadline {
            bail!("the server did not listen on {addr} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(server)
}

/// Gather PostgreSQL's planner statistics, as autovacuum would have by now
/// on a server that had just taken the seeding inserts. (Autovacuum may be off,
/// as it is on the machine the figures in docs/benchmarks.md come from.)
fn analyze(url: &str) -> anyhow::Result<()> {
    let status = Command::new("psql")
        .args([url, "-qc", "ANALYZE"])
        .status()
        .context("running psql to ANALYZE the seeded database")?;
    if !status.success() {
        bail!("psql ANALYZE failed: {status}");
    }
    eprintln!("ANALYZE done");
    Ok(())
}

/// Wait (at most a minute) until the server and PostgreSQL are idle:
/// seeding leaves work for the background roles (outbox relay, audit),
/// which would otherwise eat into the first measurement.
fn settle(pid: u32) -> anyhow::Result<()> {
    let start = Instant::now();
    let busy = || -> anyhow::Result<f64> {
        let a = report::cpu_seconds(&pid.to_string())? + report::postgres_seconds();
        std::thread::sleep(Duration::from_secs(1));
        Ok(report::cpu_seconds(&pid.to_string())? + report::postgres_seconds() - a)
    };
    loop {
        let cores = busy()?;
        if cores <= 0.05 {
            eprintln!(
                "server idle {:.0} s after seeding",
                start.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(60) {
            eprintln!(
                "server (with PostgreSQL) still uses {cores:.2} cores 60 s after seeding; measuring anyway"
            );
            return Ok(());
        }
    }
}

/// Run one request and return its JSON, for the sanity checks before measuring.
async fn probe(addr: SocketAddr, request: &[u8]) -> anyhow::Result<serde_json::Value> {
    let mut conn = http::Conn::connect(addr).await?;
    let res = conn.send(request).await?;
    if !res.ok() {
        bail!(
            "probe answered {}: {}",
            res.status,
            String::from_utf8_lossy(res.body)
        );
    }
    res.json()
}

const SCENARIOS: [&str; 9] = [
    "get", "list", "search", "create", "patch", "complete", "page", "mcp", "chat",
];

fn run(args: RunArgs) -> anyhow::Result<()> {
    if let Some(k) = args.only.iter().find(|k| !SCENARIOS.contains(&k.as_str())) {
        bail!("unknown scenario '{k}'; use {}", SCENARIOS.join(", "));
    }
    let mut runs = Vec::new();
    for (i, db) in args.database.iter().enumerate() {
        let database = (db != "sqlite").then_some(db.as_str());
        let dir = std::env::temp_dir().join(format!("dueflow-bench-{}-{i}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let result = measure(&args, &dir, database);
        if args.keep {
            eprintln!("kept {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
        // Each run is named by its backend, and a PostgreSQL one by its
        // database too, so that two of them can be told apart.
        let label = match database {
            Some(url) => {
                let name = url.rsplit('/').next().unwrap_or(url);
                format!("PostgreSQL {}", name.split('?').next().unwrap_or(name))
            }
            None => "SQLite".to_owned(),
        };
        runs.push((label, result?));
    }
    if runs.len() > 1 {
        println!("\n{}", report::side_by_side(&runs));
    }
    Ok(())
}

/// Seed one backend, measure the chosen scenarios on it and print its table.
fn measure(
    args: &RunArgs,
    dir: &Path,
    database: Option<&str>,
) -> anyhow::Result<Vec<report::Outcome>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let cli = seed::Cli {
        bin: &args.bin,
        data_dir: dir,
        database,
    };
    let t = Instant::now();
    let names: Vec<String> = std::iter::once("usera".to_owned())
        .chain((1..=args.other_users).map(|i| format!("user{i}")))
        .collect();
    let tokens = names
        .iter()
        .map(|n| cli.user_with_token(n))
        .collect::<anyhow::Result<Vec<_>>>()?;
    eprintln!(
        "{} users and tokens created through the CLI in {:.1} s",
        names.len(),
        t.elapsed().as_secs_f64()
    );

    let server = start_server(&args.bin, dir, database, "server", &[])?;
    let addr = server.addr;
    let pid = server.child.id();
    let counts: Vec<usize> = std::iter::once(args.tasks_a)
        .chain(std::iter::repeat_n(args.tasks_other, args.other_users))
        .collect();
    let t = Instant::now();
    let ids = rt.block_on(seed::tasks(addr, &tokens, &counts, args.seed_connections))?;
    let total: usize = counts.iter().sum();
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{total} tasks created over HTTP in {secs:.1} s ({:.0}/s)",
        total as f64 / secs
    );
    let seeded = Memory::of(pid)?;
    settle(pid)?;
    if let Some(url) = database {
        analyze(url)?;
    }

    let token = Arc::new(tokens[0].clone());
    let list = http::get("/api/v1/tasks?q=priority%3Ahigh&sort=due&limit=50", &token);
    let search = http::get(
        &format!("/api/v1/tasks?q={}&limit=50", seed::COMMON_WORD),
        &token,
    );
    for (name, req) in [("list", &list), ("search", &search)] {
        let page = rt.block_on(probe(addr, req))?;
        let n = page["items"].as_array().map_or(0, Vec::len);
        eprintln!("{name}: first page has {n} tasks");
        if n == 0 {
            bail!("{name} returns no tasks; the measurement would be meaningless");
        }
    }
    let page = http::get_page("/", &token);
    let rendered = rt.block_on(async {
        let mut conn = http::Conn::connect(addr).await?;
        let res = conn.send(&page).await?;
        anyhow::ensure!(res.ok(), "the task list page answered {}", res.status);
        anyhow::Ok(res.body.len())
    })?;
    eprintln!("page: the task list page is {rendered} bytes compressed");
    drop(rt);

    let ids = Arc::new(ids);
    let scenarios: Vec<(&str, MakeRequest)> = vec![
        ("GET /tasks/{id}", {
            let (ids, token) = (ids.clone(), token.clone());
            Arc::new(move |rng| {
                http::get(
                    &format!("/api/v1/tasks/{}", ids[rng.below(ids.len())]),
                    &token,
                )
            })
        }),
        (
            "list priority:high sort=due",
            Arc::new(move |_| list.clone()),
        ),
        ("search \"report\"", Arc::new(move |_| search.clone())),
        ("POST /tasks", {
            let token = token.clone();
            Arc::new(move |rng| http::post_json("/api/v1/tasks", &token, &seed::task_body(rng)))
        }),
        ("PATCH /tasks/{id} (notes)", {
            let (ids, token) = (ids.clone(), token.clone());
            Arc::new(move |rng| {
                let body = format!(r#"{{"notes": "edited {}"}}"#, rng.next());
                http::patch_json(
                    &format!("/api/v1/tasks/{}", ids[rng.below(ids.len())]),
                    &token,
                    body.as_bytes(),
                )
            })
        }),
        ("POST /tasks/{id}/complete or /reopen", {
            let (ids, token) = (ids.clone(), token.clone());
            // Whether each task was last sent a completion, so that every
            // request changes its task: done ones are reopened.
            let done: Arc<Vec<AtomicBool>> =
                Arc::new(ids.iter().map(|_| AtomicBool::new(false)).collect());
            Arc::new(move |rng| {
                let i = rng.below(ids.len());
                let action = if done[i].fetch_xor(true, Ordering::Relaxed) {
                    "reopen"
                } else {
                    "complete"
                };
                http::post_json(&format!("/api/v1/tasks/{}/{action}", ids[i]), &token, b"")
            })
        }),
        ("GET / (task list page)", Arc::new(move |_| page.clone())),
        ("MCP tools/call get_task", {
            let (ids, token) = (ids.clone(), token.clone());
            Arc::new(move |rng| {
                let call = serde_json::json!({
                    "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": { "name": "get_task", "arguments": { "id": ids[rng.below(ids.len())] } },
                });
                http::post_mcp(&token, call.to_string().as_bytes())
            })
        }),
        ("POST /chat \"what's due this week?\"", {
            let token = token.clone();
            Arc::new(move |_| {
                http::post_json(
                    "/api/v1/chat",
                    &token,
                    br#"{"message": "what's due this week?"}"#,
                )
            })
        }),
    ];
    let plan = Arc::new(Plan {
        addr,
        connections: args.connections,
        threads: args.threads,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
        server_pid: pid,
    });
    let mut outcomes = Vec::new();
    for (key, (name, make)) in SCENARIOS.iter().zip(scenarios) {
        if args.only.iter().any(|k| k == key) {
            eprintln!("measuring {name} …");
            outcomes.push(load::run(&plan, name, make)?);
        }
    }
    let end = Memory::of(pid)?;
    drop(server);
    if outcomes.iter().any(|o| o.ok == 0) {
        bail!("a scenario answered nothing: {}", report::table(&outcomes));
    }

    println!(
        "backend: {}; user A: {} tasks; {} other users × {} tasks; {} connections, {} client threads, {} s per scenario after {} s warm-up\n",
        if database.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        args.tasks_a,
        args.other_users,
        args.tasks_other,
        args.connections,
        args.threads,
        args.duration,
        args.warmup
    );
    print!("{}", report::table(&outcomes));
    println!(
        "\nserver RSS: {:.1} MiB after seeding, {:.1} MiB at the end, peak (VmHWM) {:.1} MiB",
        seeded.current_mib, end.current_mib, end.peak_mib
    );
    Ok(outcomes)
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Run(args) => run(args),
        Cmd::Reminders(args) => reminders::run(args),
        Cmd::Pipeline(args) => pipeline::run(args),
    }
}
