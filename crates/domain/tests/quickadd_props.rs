//! Quick add on arbitrary text: it never panics, and every letter and digit
//! of the input ends up in the title or inside a recognised span.

use dueflow_domain::quickadd::{Context, DateOrder, parse};
use proptest::prelude::*;

fn letters_and_digits(s: &str) -> Vec<char> {
    let mut v: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
    v.sort_unstable();
    v
}

/// Words quick add knows, so that random text often forms phrases.
const VOCABULARY: &[&str] = &[
    "every",
    "every!",
    "day",
    "days",
    "week",
    "month",
    "year",
    "other",
    "on",
    "the",
    "at",
    "in",
    "by",
    "next",
    "this",
    "tomorrow",
    "today",
    "tonight",
    "friday",
    "mon",
    "and",
    "last",
    "2nd",
    "15th",
    "3",
    "9am",
    "17:30",
    "noon",
    "midnight",
    "march",
    "3/4",
    "2026-02-29",
    "until",
    "for",
    "times",
    "after",
    "completion",
    "remind",
    "me",
    "before",
    "hours",
    "#tag",
    "!high",
    "!1",
    "\"",
    "“",
    "”",
    "end",
    "of",
    "morning",
    "evening",
    "starting",
    "jan",
    "5",
    ",",
    "(",
];

fn phrase() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(VOCABULARY).prop_map(str::to_owned),
            "\\PC{0,6}",
            "[0-9:/.!#-]{1,5}",
        ],
        0..14,
    )
    .prop_map(|words| words.join(" "))
}

fn context() -> impl Strategy<Value = Context> {
    (
        prop_oneof![
            8 => 0i64..4_102_444_800,
            // The ends of what RFC 3339 can write, and of chrono's range.
            1 => Just(253_402_300_799i64),
            1 => Just(-62_167_219_200i64),
            1 => Just(chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp()),
            1 => Just(chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp()),
        ],
        prop::sample::select(vec![
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "Pacific/Auckland",
            "Asia/Kolkata",
            "Pacific/Kiritimati",
            "Pacific/Apia",
        ]),
        prop::sample::select(vec![DateOrder::Dmy, DateOrder::Mdy, DateOrder::Ymd]),
    )
        .prop_map(|(secs, tz, date_order)| Context {
            now: chrono::DateTime::from_timestamp(secs, 0).expect("in range"),
            tz: tz.parse().expect("a zone"),
            date_order,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn never_panics_and_never_loses_a_letter_or_digit(
        text in prop_oneof![phrase(), "\\PC{0,40}", any::<String>()],
        ctx in context(),
    ) {
        let parsed = parse(&text, &ctx);
        let chars: Vec<char> = text.chars().collect();
        let mut kept = parsed.title.clone();
        let mut last_end = 0;
        for span in &parsed.spans {
            prop_assert!(span.start >= last_end && span.start < span.end && span.end <= chars.len());
            let slice: String = chars[span.start..span.end].iter().collect();
            prop_assert_eq!(&slice, &span.text);
            kept.push_str(&span.text);
            last_end = span.end;
        }
        prop_assert_eq!(letters_and_digits(&kept), letters_and_digits(&text));
        // What it read is in the task's own formats.
        let json = serde_json::to_value(&parsed).expect("serialisable");
        prop_assert!(json["tags"].is_array() && json["reminders"].is_array());
        if let Some(r) = &parsed.recurrence {
            let again = dueflow_domain::recurrence::Recurrence::parse(&r.rrule, r.anchor);
            prop_assert!(again.is_ok(), "{} from {:?}", r.rrule, text);
        }
    }
}
