//! Quick add against a table of phrases and what each must read as
//! (`quickadd_golden.txt`). Lines starting `# ` are comments; a line `@ NOW ZONE ORDER` sets the context for the
//! rows below it; a row is `PHRASE => JSON`, the JSON being the parse
//! without its spans. Every RRULE must also be one the task accepts as is,
//! and every parse with a title must make a valid task.
//! `QUICKADD_BLESS=1` rewrites the table with today's readings, for review.

use std::fmt::Write;

use dueflow_domain::quickadd::{Context, DateOrder, parse};
use dueflow_domain::recurrence::Recurrence;
use dueflow_domain::task::Task;

const TABLE: &str = include_str!("quickadd_golden.txt");
const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/quickadd_golden.txt");

fn context(line: &str) -> Context {
    let mut parts = line.split_whitespace();
    let now = parts.next().expect("now").parse().expect("now is RFC 3339");
    let tz = parts.next().expect("zone").parse().expect("an IANA zone");
    let date_order = match parts.next().expect("date order") {
        "dmy" => DateOrder::Dmy,
        "mdy" => DateOrder::Mdy,
        "ymd" => DateOrder::Ymd,
        other => panic!("unknown date order {other}"),
    };
    Context {
        now,
        tz,
        date_order,
    }
}

fn reading(phrase: &str, ctx: &Context) -> serde_json::Value {
    let parsed = parse(phrase, ctx);
    if let Some(r) = &parsed.recurrence {
        let canonical =
            Recurrence::parse(&r.rrule, r.anchor).unwrap_or_else(|e| panic!("{phrase}: {e}"));
        assert_eq!(canonical.rrule, r.rrule, "{phrase}: RRULE not canonical");
    }
    if !parsed.title.is_empty() {
        let task = Task::create(parsed.clone().into_new_task(ctx.tz), ctx.tz, ctx.now);
        assert!(task.is_ok(), "{phrase}: not a valid task: {task:?}");
    }
    let mut json = serde_json::to_value(&parsed).expect("serialisable");
    json.as_object_mut().expect("an object").remove("spans");
    json
}

#[test]
fn every_phrase_reads_as_the_table_says() {
    let bless = std::env::var_os("QUICKADD_BLESS").is_some();
    let mut ctx = None;
    let mut failures = Vec::new();
    let mut rows = 0;
    let mut blessed = String::new();
    for (n, line) in TABLE.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(c) = trimmed.strip_prefix('@') {
            ctx = Some(context(c));
        }
        let comment = trimmed.is_empty() || trimmed == "#" || trimmed.starts_with("# ");
        let row = trimmed.split_once(" => ").filter(|_| !comment);
        let Some((phrase, expected)) = row else {
            blessed.push_str(line);
            blessed.push('\n');
            continue;
        };
        let ctx = ctx.as_ref().expect("a context line comes first");
        rows += 1;
        let got = reading(phrase, ctx);
        let _ = writeln!(blessed, "{phrase} => {got}");
        let want: serde_json::Value = serde_json::from_str(expected)
            .unwrap_or_else(|e| panic!("line {}: bad JSON: {e}", n + 1));
        if got != want {
            failures.push(format!(
                "line {}: {phrase}\n  want {want}\n  got  {got}",
                n + 1
            ));
        }
    }
    if bless {
        std::fs::write(PATH, blessed).expect("table written");
        return;
    }
    assert!(rows >= 300, "the table has {rows} phrases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
