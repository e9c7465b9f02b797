//! `dueflow-bench pipeline`: the event backbone as it is deployed at scale,
//! each role its own `dueflow serve --roles …` process over a Kafka-protocol
//! broker (a tansu it starts, with durable storage) and PostgreSQL. It
//! measures, one after the other:
//!
//! - `throughput`: closed-loop task writes through the api process, while
//!   sampling every second how many events were written, how many the audit
//!   process has logged, and the outbox backlog; then how long the rest
//!   takes to drain;
//! - `recurring`: completing a daily task → its next occurrence arriving on
//!   the user's WebSocket (the recurring process made it, the stream carried
//!   it);
//! - `live`: a change made over HTTP → the same user's other client
//!   receiving it on its WebSocket;
//! - `sockets`: thousands of idle WebSockets held by the one api process,
//!   its memory, and the live-update latency while they are open.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::http::{self, Conn};
use crate::load::{self, Plan};
use crate::report::{Memory, Outcome};
use crate::{Server, free_port, seed, start_server};

const SCENARIOS: [&str; 4] = ["throughput", "recurring", "live", "sockets"];
const TOPICS: [&str; 3] = ["task-events", "reminders", "task-updates"];
/// The consumer roles, one process each.
const CONSUMERS: [&str; 4] = ["audit", "recurring", "scheduler", "notifier"];

#[derive(clap::Args)]
pub struct PipelineArgs {
    #[arg(long, default_value = "target/release/dueflow")]
    bin: PathBuf,
    /// URL of an empty PostgreSQL database.
    #[arg(long)]
    database: String,
    /// The tansu broker binary, started in a temporary directory.
    #[arg(long, default_value = "tansu")]
    tansu: PathBuf,
    /// The broker's storage engine: `sqlite://broker.db` (durable, a file
    /// in the temporary directory) or `memory://tansu/`.
    #[arg(long, default_value = "sqlite://broker.db")]
    broker_storage: String,
    /// Partitions per topic.
    #[arg(long, default_value_t = 3)]
    partitions: u32,
    /// Users the writes are spread over (each request picks one at random).
    #[arg(long, default_value_t = 16)]
    users: usize,
    /// Concurrent keep-alive connections writing.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds of writing.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Unmeasured seconds of writing first.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Samples taken for each latency scenario.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    /// Idle WebSockets opened against the api process.
    #[arg(long, default_value_t = 10_000)]
    sockets: usize,
    /// Scenarios to run, comma-separated: throughput, recurring, live, sockets.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "throughput,recurring,live,sockets"
    )]
    only: Vec<String>,
    /// Keep the temporary directory (broker data and process logs).
    #[arg(long)]
    keep: bool,
}

/// The tansu broker child; killed when dropped.
struct Broker {
    child: Child,
    port: u16,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_broker(
    tansu: &Path,
    storage: &str,
    dir: &Path,
    partitions: u32,
) -> anyhow::Result<Broker> {
    let port = free_port()?.port();
    let url = format!("tcp://127.0.0.1:{port}");
    let broker = Broker {
        // tansu 0.6 wants a relative path for its SQLite storage.
        child: Command::new(tansu)
            .args(["broker", "--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", storage])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(File::create(dir.join("broker.log"))?)
            .spawn()
            .with_context(|| format!("cannot start {}", tansu.display()))?,
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the broker did not listen on {port} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let topics = TOPICS
        .iter()
        .map(|t| (t.to_string(), partitions))
        .chain(TOPICS.iter().map(|t| (format!("{t}.dlq"), 1)));
    for (topic, n) in topics {
        let ok = Command::new(tansu)
            .args(["topic", "create", &topic, "--broker", &url])
            .args(["--partitions", &n.to_string()])
            .stdout(Stdio::null())
            .status()?
            .success();
        if !ok {
            bail!("cannot create topic {topic}");
        }
    }
    Ok(broker)
}

/// Counts read from the database: events written (the sum of the users'
/// event sequences), events in the activity log, rows in the outbox.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    written: i64,
    logged: i64,
    outbox: i64,
}

fn counts(url: &str) -> anyhow::Result<Counts> {
    let out = Command::new("psql")
        .args([url, "-Atqc"])
        .arg(
            "SELECT (SELECT coalesce(sum(event_seq), 0) FROM users), \
             (SELECT count(*) FROM activity), (SELECT count(*) FROM outbox)",
        )
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout)?;
    let f: Vec<i64> = text
        .trim()
        .split('|')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("odd psql output {text:?}"))?;
    Ok(Counts {
        written: f[0],
        logged: f[1],
        outbox: f[2],
    })
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn websocket(addr: std::net::SocketAddr, token: &str) -> anyhow::Result<Ws> {
    let mut req = format!("ws://{addr}/api/v1/stream").into_client_request()?;
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

/// Read events from `ws` until one satisfies `found`; when it arrived.
async fn wait_for(ws: &mut Ws, found: impl Fn(&Value) -> bool) -> anyhow::Result<Instant> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .context("no such event within 10 s")?
            .context("the stream closed")??;
        if let WsMessage::Text(t) = msg {
            let e: Value = serde_json::from_str(&t)?;
            if found(&e) {
                return Ok(Instant::now());
            }
        }
    }
}

/// p50, p99 and max of latencies in milliseconds.
fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    format!(
        "{} samples: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn post(conn: &mut Conn, path: &str, token: &str, body: &Value) -> anyhow::Result<Value> {
    let res = conn
        .send(&http::post_json(path, token, body.to_string().as_bytes()))
        .await?;
    if !res.ok() {
        bail!("POST {path} answered {}", res.status);
    }
    res.json()
}

/// Complete `samples` daily tasks one after the other; for each, the time
/// until its next occurrence arrives on the user's WebSocket.
async fn recurring(
    addr: std::net::SocketAddr,
    token: &str,
    samples: usize,
) -> anyhow::Result<String> {
    let mut ws = websocket(addr, token).await?;
    let mut conn = Conn::connect(addr).await?;
    let mut ms = Vec::with_capacity(samples);
    for i in 0..samples {
        let title = format!("series {i}");
        let task = post(
            &mut conn,
            "/api/v1/tasks",
            token,
            &json!({"title": title, "due": "2026-12-01", "recurrence": {"rrule": "FREQ=DAILY"}}),
        )
        .await?;
        let id = task["id"].as_str().context("task without id")?.to_owned();
        let sent = Instant::now();
        post(
            &mut conn,
            &format!("/api/v1/tasks/{id}/complete"),
            token,
            &json!({}),
        )
        .await?;
        let arrived = wait_for(&mut ws, |e| {
            e["type"] == "dueflow.task.created.v1"
                && e["data"]["task"]["title"] == title.as_str()
                && e["subject"] != id.as_str()
        })
        .await?;
        ms.push(millis(arrived - sent));
    }
    Ok(summary(ms))
}

/// Rename one task `samples` times, 10 ms apart; for each, the time from
/// sending the change until the user's other client receives it.
async fn live(addr: std::net::SocketAddr, token: &str, samples: usize) -> anyhow::Result<String> {
    let mut ws = websocket(addr, token).await?;
    let mut conn = Conn::connect(addr).await?;
    let task = post(&mut conn, "/api/v1/tasks", token, &json!({"title": "live"})).await?;
    let id = task["id"].as_str().context("task without id")?.to_owned();
    let mut ms = Vec::with_capacity(samples);
    for i in 0..samples {
        let title = format!("live {i}");
        let body = json!({ "title": title }).to_string();
        let req = format!(
            "PATCH /api/v1/tasks/{id} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        let res = conn.send(req.as_bytes()).await?;
        if !res.ok() {
            bail!("PATCH answered {}", res.status);
        }
        let arrived = wait_for(&mut ws, |e| {
            e["type"] == "dueflow.task.updated.v1" && e["data"]["task"]["title"] == title.as_str()
        })
        .await?;
        ms.push(millis(arrived - sent));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    ws.close(None).await?;
    Ok(summary(ms))
}

/// Open `n` WebSockets (256 handshakes at a time), spread over `tokens`.
async fn open_sockets(
    addr: std::net::SocketAddr,
    tokens: &[String],
    n: usize,
) -> anyhow::Result<Vec<Ws>> {
    let tokens = Arc::new(tokens.to_vec());
    futures_util::stream::iter(0..n)
        .map(|i| {
            let tokens = tokens.clone();
            async move { websocket(addr, &tokens[i % tokens.len()]).await }
        })
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// `dueflow_live_connections` as the api process reports it.
async fn live_connections(addr: std::net::SocketAddr) -> anyhow::Result<f64> {
    let mut conn = Conn::connect(addr).await?;
    let res = conn
        .send(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
        .await?;
    let text = String::from_utf8_lossy(res.body);
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("dueflow_live_connections "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0))
}

pub fn run(args: PipelineArgs) -> anyhow::Result<()> {
    if let Some(k) = args.only.iter().find(|k| !SCENARIOS.contains(&k.as_str())) {
        bail!("unknown scenario '{k}'; use {}", SCENARIOS.join(", "));
    }
    let dir = std::env::temp_dir().join(format!("dueflow-bench-pipe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = measure(&args, &dir);
    if args.keep {
        eprintln!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn measure(args: &PipelineArgs, dir: &Path) -> anyhow::Result<()> {
    let broker = start_broker(&args.tansu, &args.broker_storage, dir, args.partitions)?;
    let brokers = format!("127.0.0.1:{}", broker.port);
    let cli = seed::Cli {
        bin: &args.bin,
        data_dir: dir,
        database: Some(&args.database),
    };
    let names: Vec<String> = (0..args.users.max(2)).map(|i| format!("user{i}")).collect();
    let tokens = names
        .iter()
        .map(|n| cli.user_with_token(n))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The sockets scenario holds all its streams over a few users, each
    // stream on a connection of its own, with room for the other requests.
    let api_config = dir.join("api.toml");
    let streams = args.sockets.max(1);
    std::fs::write(
        &api_config,
        format!(
            "max_streams_per_user = {streams}\nmax_streams = {streams}\nmax_connections = {}\n",
            streams + 1_024
        ),
    )?;
    let api_config = api_config.display().to_string();
    let kafka = |roles: &str, extra: &[&str]| -> anyhow::Result<Server> {
        let mut flags = vec![
            "--roles",
            roles,
            "--bus",
            "kafka",
            "--kafka-brokers",
            &brokers,
        ];
        flags.extend_from_slice(extra);
        start_server(&args.bin, dir, Some(&args.database), roles, &flags)
    };
    let api = kafka("api", &["--config", &api_config])?;
    let _consumers = CONSUMERS
        .iter()
        .map(|r| kafka(r, &[]))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Consumer groups take a few seconds to form.
    std::thread::sleep(Duration::from_secs(8));
    let addr = api.addr;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!(
        "PostgreSQL, Kafka bus (tansu, {} partitions per topic); one process each for api, {}",
        args.partitions,
        CONSUMERS.join(", ")
    );

    if args.only.iter().any(|s| s == "throughput") {
        let (line, outcome) = throughput(args, &tokens, addr, api.child.id())?;
        print!("\n{}", crate::report::table(&[outcome]));
        println!("{line}");
    }
    // The latency scenarios act as the last user (the writers picked users
    // at random, so it has tasks, which does not matter here).
    let me = tokens.last().context("no users")?;
    if args.only.iter().any(|s| s == "recurring") {
        let line = rt.block_on(recurring(addr, me, args.samples))?;
        println!("\ncompletion → next occurrence on the WebSocket: {line}");
    }
    if args.only.iter().any(|s| s == "live") {
        let line = rt.block_on(live(addr, me, args.samples))?;
        println!("\nlive update to the user's other client: {line}");
    }
    if args.only.iter().any(|s| s == "sockets") {
        let before = Memory::of(api.child.id())?;
        let started = Instant::now();
        let others = &tokens[..tokens.len() - 1];
        let sockets = rt.block_on(open_sockets(addr, others, args.sockets))?;
        let opened = started.elapsed();
        std::thread::sleep(Duration::from_secs(2));
        let held = Memory::of(api.child.id())?;
        let counted = rt.block_on(live_connections(addr))?;
        let line = rt.block_on(live(addr, me, args.samples))?;
        println!(
            "\n{} idle WebSockets opened in {:.1} s (api reports {counted} live connections); \
             api RSS {:.1} MiB before, {:.1} MiB holding them ({:.1} KiB each)",
            sockets.len(),
            opened.as_secs_f64(),
            before.current_mib,
            held.current_mib,
            (held.current_mib - before.current_mib) * 1024.0 / sockets.len().max(1) as f64
        );
        println!("live update with them open: {line}");
        drop(sockets);
    }
    drop(broker);
    Ok(())
}

/// Closed-loop writes, with the pipeline's progress sampled every second.
fn throughput(
    args: &PipelineArgs,
    tokens: &[String],
    addr: std::net::SocketAddr,
    api_pid: u32,
) -> anyhow::Result<(String, Outcome)> {
    let tokens = Arc::new(tokens.to_vec());
    let make: load::MakeRequest = Arc::new(move |rng| {
        let token = &tokens[rng.below(tokens.len())];
        http::post_json("/api/v1/tasks", token, &seed::task_body(rng))
    });
    let plan = Arc::new(Plan {
        addr,
        connections: args.connections,
        threads: 1,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
        server_pid: api_pid,
    });
    let url = args.database.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || -> anyhow::Result<Vec<(Instant, Counts)>> {
            let mut out = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                out.push((Instant::now(), counts(&url)?));
                std::thread::sleep(Duration::from_secs(1));
            }
            Ok(out)
        })
    };
    let load_start = Instant::now();
    let outcome = load::run(&plan, "POST /tasks (api → outbox → broker → audit)", make)?;
    let load_end = Instant::now();
    // Drain: everything written reaches the activity log.
    let deadline = load_end + Duration::from_secs(300);
    let drained = loop {
        let c = counts(&args.database)?;
        if c.logged >= c.written {
            break load_end.elapsed();
        }
        if Instant::now() > deadline {
            bail!(
                "the audit log is {} events behind 300 s after the writes stopped",
                c.written - c.logged
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let samples = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("the sampler panicked"))??;
    // Rates over the measured window (after the warm-up, until the writes stopped).
    let window: Vec<&(Instant, Counts)> = samples
        .iter()
        .filter(|(t, _)| *t >= load_start + plan.warmup && *t <= load_end)
        .collect();
    let (Some(first), Some(last)) = (window.first(), window.last()) else {
        bail!("too few samples; use a longer --duration");
    };
    let secs = (last.0 - first.0).as_secs_f64().max(1e-9);
    let rate = |f: fn(&Counts) -> i64| (f(&last.1) - f(&first.1)) as f64 / secs;
    let max_outbox = window.iter().map(|(_, c)| c.outbox).max().unwrap_or(0);
    let max_behind = window
        .iter()
        .map(|(_, c)| c.written - c.logged)
        .max()
        .unwrap_or(0);
    let end_behind = last.1.written - last.1.logged;
    let line = format!(
        "events written {:.0}/s, logged by the audit process {:.0}/s over the measured {secs:.0} s; \
         outbox backlog at most {max_outbox}; audit log at most {max_behind} events behind \
         ({end_behind} when the writes stopped, caught up {:.1} s later)",
        rate(|c| c.written),
        rate(|c| c.logged),
        drained.as_secs_f64()
    );
    Ok((line, outcome))
}
