use super::*;

fn ctx() -> Context {
    Context {
        now: "2026-03-02T10:00:00Z".parse().unwrap(),
        tz: "Europe/Berlin".parse().unwrap(),
        date_order: DateOrder::Dmy,
    }
}

#[test]
fn spans_count_code_points_and_name_the_phrase() {
    let p = parse("café «x» tomorrow #Étude !high", &ctx());
    let got: Vec<(usize, usize, SpanKind, &str)> = p
        .spans
        .iter()
        .map(|s| (s.start, s.end, s.kind, s.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (9, 17, SpanKind::Date, "tomorrow"),
            (18, 24, SpanKind::Tag, "#Étude"),
            (25, 30, SpanKind::Priority, "!high"),
        ]
    );
    assert_eq!(p.title, "café «x»");
    assert_eq!(p.tags, vec!["étude"]);
}

#[test]
fn quoted_words_stay_in_the_title() {
    let p = parse("read \"next friday\" by Jane tomorrow", &ctx());
    assert_eq!(p.title, "read next friday by Jane");
    assert_eq!(
        p.due,
        Some(Due::Date(NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()))
    );
}

#[test]
fn of_two_dates_the_later_is_meant_and_the_earlier_stays_in_the_title() {
    let p = parse("move meeting from monday to tuesday", &ctx());
    assert_eq!(p.title, "move meeting from monday to");
    assert_eq!(p.spans.len(), 1);
    assert_eq!(p.spans[0].text, "tuesday");
    let p = parse("Dinner with Friday team friday 7pm #social", &ctx());
    assert_eq!(p.title, "Dinner with Friday team");
    let kinds: Vec<_> = p.spans.iter().map(|s| (s.text.as_str(), s.start)).collect();
    assert_eq!(kinds, [("friday", 24), ("7pm", 31), ("#social", 35)]);
    // A part of the day does not replace a time said before it.
    let p = parse("call at 9 in the morning", &ctx());
    assert_eq!(p.spans[0].text, "at 9");
}

#[test]
fn becomes_a_valid_task() {
    let c = ctx();
    let p = parse(
        "pay rent every month on the 1st at 9am #bills !high remind me 1 day before",
        &c,
    );
    let task = crate::task::Task::create(p.into_new_task(c.tz), c.tz, c.now).unwrap();
    assert_eq!(task.title, "pay rent");
    assert_eq!(task.recurrence.unwrap().rrule, "FREQ=MONTHLY;BYMONTHDAY=1");
    assert_eq!(task.due.unwrap().to_string(), "2026-04-01T09:00:00+02:00");
}

#[test]
fn date_order_follows_the_locale() {
    assert_eq!(DateOrder::for_locale("en-US"), DateOrder::Mdy);
    assert_eq!(DateOrder::for_locale("en_GB"), DateOrder::Dmy);
    assert_eq!(DateOrder::for_locale("de-DE"), DateOrder::Dmy);
    assert_eq!(DateOrder::for_locale("ja-JP"), DateOrder::Ymd);
}

#[test]
fn the_documented_example_reads_as_documented() {
    let p = parse(
        "pay rent every month on the 1st at 9am #bills !high remind me 1 day before",
        &ctx(),
    );
    let json = serde_json::to_value(&p).unwrap();
    let want: serde_json::Value = serde_json::from_str(
        r##"{
          "title": "pay rent",
          "due": "2026-04-01T09:00:00+02:00",
          "recurrence": {"rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "anchor": "due"},
          "priority": "high",
          "tags": ["bills"],
          "reminders": [{"before": "P1D"}],
          "spans": [
            {"start": 9, "end": 31, "kind": "recurrence", "text": "every month on the 1st"},
            {"start": 32, "end": 38, "kind": "time", "text": "at 9am"},
            {"start": 39, "end": 45, "kind": "tag", "text": "#bills"},
            {"start": 46, "end": 51, "kind": "priority", "text": "!high"},
            {"start": 52, "end": 74, "kind": "reminder", "text": "remind me 1 day before"}
          ]
        }"##,
    )
    .unwrap();
    assert_eq!(json, want);
}

#[test]
fn long_input_is_read_in_linear_time_and_within_a_task_s_limits() {
    let line = "“open #t1 mon and every day at 9 tomorrow ".repeat(20_000);
    let mut text = line.clone();
    for i in 0..100 {
        text.push_str(&format!(" #tag{i} remind me {i} minutes before"));
    }
    let start = std::time::Instant::now();
    let p = parse(&text, &ctx());
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(p.tags.len(), crate::tags::MAX_TAGS);
    assert_eq!(p.reminders.len(), crate::reminder::REMINDERS_MAX);
}

#[test]
fn until_includes_that_local_day_west_of_utc() {
    let c = Context {
        now: "2026-03-02T18:00:00Z".parse().unwrap(),
        tz: "America/Los_Angeles".parse().unwrap(),
        date_order: DateOrder::Mdy,
    };
    let p = parse("stretch every day at 9pm until march 4", &c);
    let due = p.due.unwrap();
    assert_eq!(due.to_string(), "2026-03-02T21:00:00-08:00");
    let rule = p.recurrence.unwrap();
    assert_eq!(rule.rrule, "FREQ=DAILY;UNTIL=20260304");
    let next: Vec<String> = rule
        .upcoming(&due, c.tz, 1, 10)
        .iter()
        .map(ToString::to_string)
        .collect();
    // 21:00 on 4 March in Los Angeles is already 5 March in UTC, and still counts.
    assert_eq!(
        next,
        ["2026-03-03T21:00:00-08:00", "2026-03-04T21:00:00-08:00"]
    );
}
