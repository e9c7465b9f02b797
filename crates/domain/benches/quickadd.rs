//! Quick-add throughput on one core: a fixed mix of everyday lines parsed
//! over and over for a few seconds, printed as phrases per second.
//! Run with `cargo bench -p dueflow-domain --bench quickadd`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dueflow_domain::quickadd::{Context, DateOrder, parse};

const PHRASES: &[&str] = &[
    "buy milk",
    "call mom tomorrow",
    "pay rent every month on the 1st at 9am #bills !high remind me 1 day before",
    "dentist next friday at 3pm #health !2",
    "water plants every 3 days",
    "team standup every weekday at 9:30 #work",
    "submit report by friday 5pm !urgent",
    "book flights in 2 weeks #travel",
    "renew passport on 3 march remind me 2 weeks before",
    "gym every mon and thu at 18:00",
    "board meeting every 2nd tuesday at 10am #work",
    "review budget every last friday",
    "birthday party every year on 12 june",
    "change filters every 3 months starting jan 5",
    "take vitamins every day until 1 june",
    "physio every week for 10 times",
    "clean the gutters every! 6 months",
    "read \"next friday\" article tonight",
    "call the plumber in 2 hours",
    "send invoice end of month #finance",
    "prepare slides for the quarterly planning session with the whole team tomorrow morning",
    "pick up dry cleaning 17:30",
    "book review club the 15th #books !low",
    "renew car insurance 12/03/2027 remind me at 8am",
];

fn main() {
    let ctx = Context {
        now: "2026-03-02T10:00:00Z".parse().expect("an instant"),
        tz: "Europe/Berlin".parse().expect("a zone"),
        date_order: DateOrder::Dmy,
    };
    let run = |budget: Duration| {
        let start = Instant::now();
        let mut parsed = 0u64;
        while start.elapsed() < budget {
            for p in PHRASES {
                black_box(parse(black_box(p), &ctx));
            }
            parsed += PHRASES.len() as u64;
        }
        (parsed, start.elapsed())
    };
    run(Duration::from_secs(1));
    let (parsed, took) = run(Duration::from_secs(5));
    let per_second = parsed as f64 / took.as_secs_f64();
    println!(
        "quick add: {parsed} phrases in {:.2} s on one thread = {per_second:.0} phrases/s ({:.2} µs each)",
        took.as_secs_f64(),
        1e6 / per_second
    );
}
