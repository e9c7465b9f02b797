//! `dueflow-bench reminders`: how punctually a server fires many scheduled
//! reminders. It creates `count` tasks for one user, each with one reminder
//! at an instant spread evenly over `spread` seconds that start `lead`
//! seconds after seeding began, waits until the last one is due, and reads
//! the scheduler's own lateness histogram, fired count and the server's
//! peak memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{SecondsFormat, Utc};

use crate::http::{self, Conn};
use crate::report::Memory;
use crate::{seed, start_server};

#[derive(clap::Args)]
pub struct ReminderArgs {
    #[arg(long, default_value = "target/release/dueflow")]
    bin: std::path::PathBuf,
    /// `sqlite` or the URL of an empty PostgreSQL database.
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Reminders (one task each).
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// Seconds from the start of seeding to the first reminder; seeding must
    /// be done by then.
    #[arg(long, default_value_t = 180)]
    lead: u64,
    /// Seconds the reminders are spread over.
    #[arg(long, default_value_t = 60)]
    spread: u64,
    #[arg(long, default_value_t = 32)]
    connections: usize,
}

/// Cumulative counts of one Prometheus histogram: (upper bound, count).
fn histogram(metrics: &str, name: &str) -> Vec<(f64, u64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect()
}

/// The smallest bucket bound under which `q` of the samples fall.
fn quantile_bound(buckets: &[(f64, u64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1 as f64;
    buckets
        .iter()
        .find(|(_, c)| *c as f64 >= q * total)
        .map(|(le, _)| *le)
}

fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
        .unwrap_or(0.0) as u64
}

async fn scrape(addr: SocketAddr) -> anyhow::Result<String> {
    let mut conn = Conn::connect(addr).await?;
    let res = conn
        .send(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
        .await?;
    Ok(String::from_utf8_lossy(res.body).into_owned())
}

async fn seed(
    addr: SocketAddr,
    token: &str,
    first_ms: i64,
    args: &ReminderArgs,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let step = args.spread as f64 * 1000.0 / args.count.max(1) as f64;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.connections {
        let (next, token, count) = (next.clone(), token.to_owned(), args.count);
        workers.spawn(async move {
            let mut conn = Conn::connect(addr).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let at = chrono::DateTime::from_timestamp_millis(first_ms + (i as f64 * step) as i64)
                    .context("instant out of range")?
                    .to_rfc3339_opts(SecondsFormat::Millis, true);
                let body = serde_json::json!({"title": format!("reminder {i}"), "reminders": [{"at": at}]});
                let res = conn
                    .send(&http::post_json("/api/v1/tasks", &token, body.to_string().as_bytes()))
                    .await?;
                if !res.ok() {
                    bail!("POST /api/v1/tasks answered {}", res.status);
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = workers.join_next().await {
        r??;
    }
    Ok(())
}

pub fn run(args: ReminderArgs) -> anyhow::Result<()> {
    let database = (args.database != "sqlite").then_some(args.database.as_str());
    let dir = std::env::temp_dir().join(format!("dueflow-bench-rem-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let cli = seed::Cli {
        bin: &args.bin,
        data_dir: &dir,
        database,
    };
    let token = cli.user_with_token("usera")?;
    let server = start_server(&args.bin, &dir, database, "server", &[])?;
    let (addr, pid) = (server.addr, server.child.id());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let start = Instant::now();
    let first_ms = Utc::now().timestamp_millis() + args.lead as i64 * 1000;
    rt.block_on(seed(addr, &token, first_ms, &args))?;
    let seeded = start.elapsed();
    eprintln!(
        "{} tasks with reminders created in {:.1} s ({:.0}/s)",
        args.count,
        seeded.as_secs_f64(),
        args.count as f64 / seeded.as_secs_f64()
    );
    if seeded > Duration::from_secs(args.lead) {
        bail!("seeding outlasted --lead; the first reminders were due before all were scheduled");
    }
    let held = Memory::of(pid)?;
    let last_due = Duration::from_secs(args.lead + args.spread);
    std::thread::sleep(last_due.saturating_sub(start.elapsed()) + Duration::from_secs(5));
    let metrics = rt.block_on(scrape(addr))?;
    let end = Memory::of(pid)?;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let fired = counter(&metrics, "dueflow_reminders_fired_total");
    let late = histogram(&metrics, "dueflow_reminder_lateness_seconds");
    let bound = |q| quantile_bound(&late, q).map_or("n/a".to_owned(), |b| format!("≤ {b} s"));
    println!(
        "backend: {}; {} reminders over {} s, first {} s after seeding began",
        if database.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        args.count,
        args.spread,
        args.lead
    );
    println!("fired: {fired} of {}", args.count);
    println!(
        "lateness (fire time − reminder time): p50 {}, p99 {}, max {}",
        bound(0.5),
        bound(0.99),
        bound(1.0)
    );
    println!(
        "server RSS: {:.1} MiB holding them, {:.1} MiB at the end, peak (VmHWM) {:.1} MiB",
        held.current_mib, end.current_mib, end.peak_mib
    );
    if fired < args.count as u64 {
        bail!("only {fired} of {} reminders fired", args.count);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_histograms_and_counters() {
        let m = "x_bucket{le=\"0.1\"} 90\nx_bucket{le=\"0.5\"} 99\nx_bucket{le=\"1\"} 100\n\
                 x_bucket{le=\"+Inf\"} 100\nx_sum 3\nx_count 100\nfired_total 7\n";
        let h = histogram(m, "x");
        assert_eq!(h.len(), 4);
        assert_eq!(quantile_bound(&h, 0.5), Some(0.1));
        assert_eq!(quantile_bound(&h, 0.99), Some(0.5));
        assert_eq!(quantile_bound(&h, 1.0), Some(1.0));
        assert_eq!(counter(m, "fired_total"), 7);
    }
}
