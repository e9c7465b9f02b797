//! Seeding: users and tokens through the `dueflow` CLI (the only door for
//! them when registration is closed), tasks through concurrent
//! `POST /api/v1/tasks` so the data goes through the same validation as a
//! real client's. The task mix is generated from a fixed-seed PRNG so runs
//! are comparable: 30 tags, 60 % with a due date, 10 % recurring, skewed
//! priorities, and the word "report" in about 20 % of the titles.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::io::Write;
use std::process::Command;

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use serde_json::json;

use crate::http::{self, Conn};

/// The word about a fifth of the titles contain; the search scenario looks for it.
pub const COMMON_WORD: &str = "report";

const VERBS: [&str; 12] = [
    "write", "review", "send", "update", "check", "plan", "call", "fix", "prepare", "book",
    "clean", "order",
];
const NOUNS: [&str; 16] = [
    "invoice",
    "budget",
    "slides",
    "garden",
    "car",
    "dentist",
    "roadmap",
    "newsletter",
    "kitchen",
    "tickets",
    "contract",
    "backup",
    "library",
    "meeting",
    "taxes",
    "laptop",
];
const NOTE_WORDS: [&str; 16] = [
    "before", "friday", "ask", "team", "about", "details", "remember", "the", "numbers", "draft",
    "final", "version", "with", "notes", "from", "last",
];
const RULES: [(&str, &str); 4] = [
    ("FREQ=WEEKLY;BYDAY=MO", "due"),
    ("FREQ=DAILY;INTERVAL=2", "completion"),
    ("FREQ=MONTHLY;BYMONTHDAY=1", "due"),
    ("FREQ=WEEKLY;BYDAY=TU,TH", "due"),
];

/// splitmix64: small, fast, good enough for picking test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// The JSON body of one random new task.
pub fn task_body(rng: &mut Rng) -> Vec<u8> {
    let noun = if rng.chance(20) {
        COMMON_WORD
    } else {
        rng.pick(&NOUNS)
    };
    let title = format!("{} {} {}", rng.pick(&VERBS), noun, rng.pick(&NOUNS));
    let notes: Vec<&str> = (0..5 + rng.below(8))
        .map(|_| rng.pick(&NOTE_WORDS))
        .collect();
    let priority = match rng.below(100) {
        0..30 => "none",
        30..50 => "low",
        50..75 => "medium",
        75..90 => "high",
        _ => "urgent",
    };
    let tags: Vec<String> = (0..rng.below(4))
        .map(|_| format!("tag{:02}", rng.below(30)))
        .collect();
    let mut task =
        json!({ "title": title, "notes": notes.join(" "), "priority": priority, "tags": tags });
    if rng.chance(60) {
        let day = Utc::now() + Duration::days(rng.below(120) as i64 - 30);
        task["due"] = if rng.chance(70) {
            json!(day.format("%Y-%m-%d").to_string())
        } else {
            json!(format!(
                "{}T{:02}:30:00+02:00",
                day.format("%Y-%m-%d"),
                8 + rng.below(10)
            ))
        };
        // 1 in 6 of the 60 % with a due date: 10 % of all tasks recur.
        if rng.chance(17) {
            let (rrule, anchor) = RULES[rng.below(RULES.len())];
            task["recurrence"] = json!({ "rrule": rrule, "anchor": anchor });
        }
    }
    serde_json::to_vec(&task).expect("a JSON value serialises")
}

/// How the `dueflow` CLI reaches the database the server uses.
pub struct Cli<'a> {
    pub bin: &'a Path,
    pub data_dir: &'a Path,
    pub database: Option<&'a str>,
}

impl Cli<'_> {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        let mut cmd = Command::new(self.bin);
        cmd.args(args).arg("--data-dir").arg(self.data_dir);
        if let Some(url) = self.database {
            cmd.arg("--database").arg(url);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot run {}", self.bin.display()))?;
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(stdin.unwrap_or("").as_bytes())?;
        drop(pipe);
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "dueflow {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Create a user (and the database, the first time) and return a
    /// fresh API token for them.
    pub fn user_with_token(&self, name: &str) -> anyhow::Result<String> {
        self.run(&["migrate"], None)?;
        self.run(
            &["user", "add", name, "--password-stdin"],
            Some("bench-password-1\n"),
        )?;
        let out = self.run(&["token", "create", name, "--label", "bench"], None)?;
        let token = out.lines().map(str::trim).rfind(|l| !l.is_empty());
        Ok(token.context("`token create` printed no token")?.to_owned())
    }
}

/// Create `counts[i]` tasks for the user holding `tokens[i]` over `conns`
/// concurrent connections; returns the ids of the first user's tasks.
pub async fn tasks(
    addr: SocketAddr,
    tokens: &[String],
    counts: &[usize],
    conns: usize,
) -> anyhow::Result<Vec<String>> {
    // Interleave users so every connection keeps the writer busy with a mix.
    let mut jobs: Vec<usize> = Vec::with_capacity(counts.iter().sum());
    let mut left = counts.to_vec();
    while left.iter().any(|&n| n > 0) {
        for (user, n) in left.iter_mut().enumerate() {
            if *n > 0 {
                *n -= 1;
                jobs.push(user);
            }
        }
    }
    let jobs = Arc::new(jobs);
    let shared_tokens: Arc<Vec<String>> = Arc::new(tokens.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..conns {
        let (jobs, tokens, next) = (jobs.clone(), shared_tokens.clone(), next.clone());
        workers.spawn(async move {
            let mut rng = Rng::new(0xD0E_F10E ^ w as u64);
            let mut conn = Conn::connect(addr).await?;
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&user) = jobs.get(i) else { break };
                let req = http::post_json("/api/v1/tasks", &tokens[user], &task_body(&mut rng));
                let res = conn.send(&req).await?;
                if !res.ok() {
                    bail!(
                        "seeding: POST /api/v1/tasks answered {}: {}",
                        res.status,
                        String::from_utf8_lossy(res.body)
                    );
                }
                if user == 0 {
                    let id = res.json()?["id"]
                        .as_str()
                        .context("created task without id")?
                        .to_owned();
                    ids.push(id);
                }
            }
            anyhow::Ok(ids)
        });
    }
    let mut ids = Vec::with_capacity(counts[0]);
    while let Some(r) = workers.join_next().await {
        ids.extend(r??);
    }
    Ok(ids)
}
