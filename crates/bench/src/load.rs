//! The measurement: a fixed number of keep-alive connections, each sending
//! its next request as soon as the previous answer is read (closed loop),
//! spread over a few OS threads with one single-threaded runtime each (no
//! work stealing, no cross-thread wake-ups). Requests started during the
//! warm-up are not counted; every status is checked, and anything but 2xx
//! (or a broken connection) counts as an error.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::http::Conn;
use crate::report::{Cpu, Outcome};
use crate::seed::Rng;

/// Makes the bytes of the next request; shared by all connections.
pub type MakeRequest = Arc<dyn Fn(&mut Rng) -> Vec<u8> + Send + Sync>;

pub struct Plan {
    pub addr: SocketAddr,
    pub connections: usize,
    pub threads: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub server_pid: u32,
}

/// What one connection saw inside the measured window.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

async fn connection(
    plan: Arc<Plan>,
    make: MakeRequest,
    seed: u64,
    measure_from: Instant,
    end: Instant,
) -> Tally {
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut conn = None;
    loop {
        let start = Instant::now();
        if start >= end {
            return tally;
        }
        let counted = start >= measure_from;
        let c = match &mut conn {
            Some(c) => c,
            None => match Conn::connect(plan.addr).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    if counted {
                        tally.error(format!("connect: {e}"));
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let req = make(&mut rng);
        let outcome = match c.send(&req).await {
            Ok(res) if res.ok() => Ok(()),
            Ok(res) => Err(format!(
                "HTTP {}: {}",
                res.status,
                String::from_utf8_lossy(res.body)
            )),
            Err(e) => {
                conn = None;
                Err(format!("I/O: {e}"))
            }
        };
        if counted {
            let us = start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
            match outcome {
                Ok(()) => tally.latencies_us.push(us),
                Err(e) => tally.error(e),
            }
        }
    }
}

/// Run one scenario and return its figures.
pub fn run(plan: &Arc<Plan>, name: &str, make: MakeRequest) -> anyhow::Result<Outcome> {
    let measure_from = Instant::now() + plan.warmup;
    let end = measure_from + plan.duration;
    let threads: Vec<_> = (0..plan.threads)
        .map(|t| {
            let (plan, make) = (plan.clone(), make.clone());
            std::thread::spawn(move || -> anyhow::Result<Vec<Tally>> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    let mut set = tokio::task::JoinSet::new();
                    for c in (t..plan.connections).step_by(plan.threads) {
                        set.spawn(connection(
                            plan.clone(),
                            make.clone(),
                            c as u64 + 1,
                            measure_from,
                            end,
                        ));
                    }
                    let mut out = Vec::new();
                    while let Some(tally) = set.join_next().await {
                        out.push(tally?);
                    }
                    Ok(out)
                })
            })
        })
        .collect();
    std::thread::sleep(measure_from.saturating_duration_since(Instant::now()));
    let cpu_start = Cpu::sample(plan.server_pid)?;
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    let cpu = Cpu::sample(plan.server_pid)?.since(&cpu_start, plan.duration);

    let mut all = Tally::default();
    for t in threads {
        for tally in t
            .join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))??
        {
            all.latencies_us.extend(tally.latencies_us);
            all.errors += tally.errors;
            if all.first_error.is_none() {
                all.first_error = tally.first_error;
            }
        }
    }
    Ok(Outcome::new(
        name,
        all.latencies_us,
        all.errors,
        all.first_error,
        plan.duration,
        cpu,
    ))
}
