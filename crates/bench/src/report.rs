//! Turning raw samples into the figures we publish: throughput, latency
//! percentiles, errors, the CPU the server and the bench each used (to show
//! whether the client starved the server), and the server's memory from
//! `/proc`. Prints a markdown table that goes into docs/benchmarks.md as is.

use std::time::Duration;

use anyhow::Context;

/// Linux reports CPU times in clock ticks; 100 per second everywhere we run.
const TICKS_PER_SECOND: f64 = 100.0;

/// Cumulative CPU seconds of the server, of this process and of the whole
/// machine (the latter shows when something else competed for the cores).
pub struct Cpu {
    server: f64,
    bench: f64,
    database: f64,
    machine: f64,
}

/// Cores used on average over a window.
#[derive(Clone, Copy)]
pub struct CpuUse {
    pub server: f64,
    pub bench: f64,
    /// PostgreSQL's processes (0 with SQLite, which runs inside the server).
    pub database: f64,
    /// Everything else on the machine; should be near 0 for a clean run.
    pub other: f64,
}

/// Busy CPU seconds of all cores since boot, from the first line of /proc/stat.
fn machine_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().context("empty /proc/stat")?;
    let f: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    // user nice system idle iowait irq softirq steal; idle and iowait are not busy.
    let busy = f[0] + f[1] + f[2] + f[5] + f[6] + f.get(7).copied().unwrap_or(0.0);
    Ok(busy / TICKS_PER_SECOND)
}

pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>()? + f[12].parse::<f64>()?;
    Ok(ticks / TICKS_PER_SECOND)
}

/// CPU seconds of all PostgreSQL processes (server, backends, writers).
pub fn postgres_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        // Processes may exit between the listing and the read.
        .filter_map(|pid| cpu_seconds(&pid).ok())
        .sum()
}

impl Cpu {
    pub fn sample(server_pid: u32) -> anyhow::Result<Cpu> {
        Ok(Cpu {
            server: cpu_seconds(&server_pid.to_string())?,
            bench: cpu_seconds("self")?,
            database: postgres_seconds(),
            machine: machine_seconds()?,
        })
    }

    pub fn since(&self, start: &Cpu, window: Duration) -> CpuUse {
        let s = window.as_secs_f64();
        let (server, bench) = (self.server - start.server, self.bench - start.bench);
        let database = (self.database - start.database).max(0.0);
        CpuUse {
            server: server / s,
            bench: bench / s,
            database: database / s,
            other: ((self.machine - start.machine - server - bench - database) / s).max(0.0),
        }
    }
}

/// Peak and current resident memory of a process, in MiB.
pub struct Memory {
    pub peak_mib: f64,
    pub current_mib: f64,
}

impl Memory {
    pub fn of(pid: u32) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = |key: &str| -> anyhow::Result<f64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(key))
                .with_context(|| format!("no {key} in /proc"))?;
            Ok(line[key.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()?
                / 1024.0)
        };
        Ok(Memory {
            peak_mib: kib("VmHWM:")?,
            current_mib: kib("VmRSS:")?,
        })
    }
}

/// The figures of one scenario.
pub struct Outcome {
    pub name: String,
    pub ok: usize,
    pub errors: u64,
    pub first_error: Option<String>,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub cpu: CpuUse,
}

impl Outcome {
    pub fn new(
        name: &str,
        mut latencies_us: Vec<u32>,
        errors: u64,
        first_error: Option<String>,
        window: Duration,
        cpu: CpuUse,
    ) -> Outcome {
        latencies_us.sort_unstable();
        let pct = |p: f64| -> f64 {
            if latencies_us.is_empty() {
                return f64::NAN;
            }
            let i =
                ((latencies_us.len() as f64 * p).ceil() as usize).clamp(1, latencies_us.len()) - 1;
            f64::from(latencies_us[i]) / 1000.0
        };
        Outcome {
            name: name.to_owned(),
            ok: latencies_us.len(),
            errors,
            first_error,
            per_second: latencies_us.len() as f64 / window.as_secs_f64(),
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            max_ms: pct(1.0),
            cpu,
        }
    }
}

/// The markdown table of all scenarios.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = String::from(
        "| scenario | req/s | p50 ms | p99 ms | max ms | ok | errors | server CPU | server µs/req | db CPU | bench CPU | other CPU |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for o in outcomes {
        s.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} |\n",
            o.name,
            o.per_second,
            o.p50_ms,
            o.p99_ms,
            o.max_ms,
            o.ok,
            o.errors,
            o.cpu.server,
            o.cpu.server * 1e6 / o.per_second,
            o.cpu.database,
            o.cpu.bench,
            o.cpu.other
        ));
    }
    s.push_str("\nCPU columns are cores used on average (2 = both cores busy); \"db\" is PostgreSQL's \
         processes, \"other\" the rest of the machine; server µs/req is server CPU time per answered request.\n");
    for o in outcomes {
        if let Some(e) = &o.first_error {
            let e: String = e.chars().take(300).collect();
            s.push_str(&format!("\nfirst error in {}: {e}\n", o.name));
        }
    }
    s
}

/// One row per scenario, a req/s and p99 column pair per backend run, so
/// that the backends measured in one run can be read against each other.
pub fn side_by_side(runs: &[(String, Vec<Outcome>)]) -> String {
    let mut s = String::from("| scenario |");
    let mut rule = String::from("|---|");
    for (backend, _) in runs {
        s.push_str(&format!(" {backend} req/s | {backend} p99 ms |"));
        rule.push_str("---:|---:|");
    }
    s.push('\n');
    s.push_str(&rule);
    s.push('\n');
    let Some((_, first)) = runs.first() else {
        return s;
    };
    for (i, o) in first.iter().enumerate() {
        s.push_str(&format!("| {} |", o.name));
        for (_, outcomes) in runs {
            match outcomes.get(i) {
                Some(o) => s.push_str(&format!(" {:.0} | {:.2} |", o.per_second, o.p99_ms)),
                None => s.push_str(" | |"),
            }
        }
        s.push('\n');
    }
    s
}
