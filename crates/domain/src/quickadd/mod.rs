//! Quick add: one line of English ("pay rent every month on the 1st at 9am
//! #bills !high remind me 1 day before") read into the fields of a task.
//! Pure and deterministic for a given "now", zone and date order, so the
//! REST route, the CLI and the chat engine all understand a line alike.
//!
//! The text is split into words ([`lexer`]); at each word the phrases are
//! tried in a fixed order, each taking as many words as it can ([`grammar`]); the phrases are then
//! placed on the calendar ([`resolve`]). Words no phrase takes stay in the
//! title, so nothing is dropped; every recognised phrase is reported as a
//! [`Span`]. The readings are written down in `docs/quick-add.md`.

mod grammar;
mod lexer;
mod resolve;
mod words;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::due::Due;
use crate::priority::Priority;
use crate::recurrence::{Anchor, Recurrence};
use crate::reminder::{Offset, REMINDERS_MAX, Reminder};
use crate::tags::MAX_TAGS;
use crate::task::NewTask;
use grammar::{DateSpec, Input, Piece, RecurSpec, ReminderSpec, TimeSpec};
use words::DayPart;

/// How numeric dates such as `3/4/2026` are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DateOrder {
    /// Day first: `3/4` is 3 April.
    #[default]
    Dmy,
    /// Month first: `3/4` is 4 March.
    Mdy,
    /// Year first: `2026/3/4`; without a year, month first.
    Ymd,
}

impl DateOrder {
    pub const ALL: [DateOrder; 3] = [DateOrder::Dmy, DateOrder::Mdy, DateOrder::Ymd];

    /// `dmy`, `mdy` or `ymd`, as stored and as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
            DateOrder::Ymd => "ymd",
        }
    }

    /// The order [`DateOrder::as_str`] names, in any case.
    pub fn parse(s: &str) -> Option<DateOrder> {
        DateOrder::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The order a BCP 47 locale writes dates in (`en-US` month first,
    /// `ja-JP` year first, most others day first).
    pub fn for_locale(tag: &str) -> DateOrder {
        let tag = tag.to_ascii_lowercase().replace('_', "-");
        let mut parts = tag.split('-');
        let lang = parts.next().unwrap_or_default();
        let region = parts.find(|p| p.len() == 2).unwrap_or_default();
        match (lang, region) {
            (_, "us" | "ph" | "fm" | "mh" | "pw") | ("en", "") => DateOrder::Mdy,
            ("zh" | "ja" | "ko" | "hu" | "lt" | "mn", _) => DateOrder::Ymd,
            _ => DateOrder::Dmy,
        }
    }
}

/// What a parse is relative to.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Dues fall in the years 1 to 9999; a "now" far outside them reads
    /// every word as title.
    pub now: DateTime<Utc>,
    /// The user's zone: dates and times are read there.
    pub tz: Tz,
    pub date_order: DateOrder,
}

/// What a recognised phrase set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SpanKind {
    Date,
    Time,
    Recurrence,
    Tag,
    Priority,
    Reminder,
}

/// A recognised phrase: `start..end` in Unicode code points of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: SpanKind,
    /// The phrase as written.
    pub text: String,
}

/// The task a line describes, in the task's own types.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Parsed {
    /// The words no phrase took, spaces collapsed; may be empty.
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "2026-12-01T09:00:00+01:00"))]
    pub due: Option<Due>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Lower case, without `#`, first spelling first.
    pub tags: Vec<String>,
    pub reminders: Vec<Reminder>,
    /// The recognised phrases, in input order.
    pub spans: Vec<Span>,
}

impl Parsed {
    /// The new task this line describes, in the zone it was read in.
    pub fn into_new_task(self, tz: Tz) -> NewTask {
        NewTask {
            title: self.title,
            notes: None,
            priority: self.priority,
            due: self.due.map(|d| d.to_string()),
            tz: Some(tz.name().to_owned()),
            tags: Some(self.tags),
            recurrence: self.recurrence,
            reminders: Some(self.reminders),
        }
    }

    /// Whether any phrase was recognised; a line without one is a plain title.
    pub fn understood_something(&self) -> bool {
        !self.spans.is_empty()
    }
}

/// The phrases found, before they are placed on the calendar.
#[derive(Default)]
struct Found {
    date: Option<DateSpec>,
    part: Option<DayPart>,
    time: Option<TimeSpec>,
    after: Option<u32>,
    recur: Option<RecurSpec>,
    until: Option<DateSpec>,
    count: Option<u32>,
    completion: bool,
    priority: Option<Priority>,
    tags: Vec<String>,
    /// Each reminder with the index of its phrase among the taken ones.
    reminders: Vec<(ReminderSpec, usize)>,
}

impl Found {
    /// Take `piece` unless what it sets is already set, or it needs what is
    /// missing (an end needs a recurrence; a series ends by a count or a
    /// date, not both), or a task could not hold it (more tags or reminders
    /// than a task keeps): then its words stay in the title. Returns the kind of span it makes.
    fn take(&mut self, piece: Piece, index: usize) -> Option<SpanKind> {
        let dated = self.date.is_some() || self.after.is_some();
        let clocked = self.time.is_some() || self.after.is_some();
        let parted = self.part.is_some() || self.after.is_some();
        Some(match piece {
            Piece::Date(d) if !dated => {
                self.date = Some(d);
                SpanKind::Date
            }
            Piece::Time(TimeSpec::Part(p)) if !parted && !clocked => {
                self.part = Some(p);
                SpanKind::Time
            }
            Piece::Time(t) if !clocked => {
                self.time = Some(t);
                SpanKind::Time
            }
            Piece::DateTime(d, p) if !dated && !parted && !clocked => {
                self.date = Some(d);
                self.part = Some(p);
                SpanKind::Date
            }
            Piece::After(s) if !dated && !clocked && !parted && self.recur.is_none() => {
                self.after = Some(s);
                SpanKind::Time
            }
            Piece::Recur(r) if self.recur.is_none() && self.after.is_none() => {
                self.completion |= r.completion;
                self.recur = Some(r);
                SpanKind::Recurrence
            }
            Piece::Until(d)
                if self.recur.is_some() && self.until.is_none() && self.count.is_none() =>
            {
                self.until = Some(d);
                SpanKind::Recurrence
            }
            Piece::Count(n)
                if self.recur.is_some() && self.until.is_none() && self.count.is_none() =>
            {
                self.count = Some(n);
                SpanKind::Recurrence
            }
            Piece::AfterCompletion if self.recur.is_some() => {
                self.completion = true;
                SpanKind::Recurrence
            }
            Piece::Tag(t) if self.tags.contains(&t) => SpanKind::Tag,
            Piece::Tag(t) if self.tags.len() < MAX_TAGS => {
                self.tags.push(t);
                SpanKind::Tag
            }
            Piece::Priority(p) if self.priority.is_none() => {
                self.priority = Some(p);
                SpanKind::Priority
            }
            Piece::Reminder(r) if self.reminders.len() < REMINDERS_MAX => {
                self.reminders.push((r, index));
                SpanKind::Reminder
            }
            _ => return None,
        })
    }
}

/// Read `text` as a task, relative to `ctx`.
pub fn parse(text: &str, ctx: &Context) -> Parsed {
    let (words, quote_marks) = lexer::words(text);
    let input = Input {
        words: &words,
        order: ctx.date_order,
    };
    // Nothing is read relative to a "now" whose local date chrono cannot hold.
    let today = resolve::today(ctx.now, ctx.tz);
    // A line names its when at its end: where a date, time or repeat is
    // said twice, the last one is meant, and the earlier words belong to
    // the title ("Dinner with Friday team friday 7pm"). Each round passes
    // over every phrase of a kind that a later one of that kind replaces,
    // and ends the rounds when none is left (after at most one round per
    // kind in practice; one per word at worst, since each passes over new words).
    let mut passed_over = vec![false; words.len()];
    let (found, mut taken) = loop {
        let scan = scan(&input, today, &passed_over);
        let superseded = scan.superseded();
        if superseded.is_empty() {
            break (scan.found, scan.taken);
        }
        for at in superseded {
            passed_over[at] = true;
        }
    };
    let (due, recurrence, reminders) =
        today.map_or_else(Default::default, |d| place(&found, ctx, d));
    if due.is_none() {
        // A reminder before the due needs a due: without one its words stay in the title.
        let orphans: Vec<usize> = found
            .reminders
            .iter()
            .filter(|(r, _)| matches!(r, ReminderSpec::Before { .. }))
            .map(|&(_, i)| i)
            .collect();
        let mut i = 0;
        taken.retain(|_| {
            i += 1;
            !orphans.contains(&(i - 1))
        });
    }
    Parsed {
        title: title(text, &taken, &quote_marks),
        due,
        recurrence,
        priority: found.priority,
        tags: found.tags,
        reminders,
        spans: spans(text, &taken),
    }
}

/// One reading of a line, left to right, passing over the phrases that
/// start at the words marked in `passed_over`.
struct Scan {
    found: Found,
    /// Byte ranges of the recognised phrases, and their kinds.
    taken: Vec<(usize, usize, SpanKind)>,
    /// Every date, time or repeat phrase met, taken or not: its kind, its
    /// first word, and whether it was taken.
    met: Vec<(SpanKind, usize, bool)>,
}

impl Scan {
    /// The first words of the date, time and repeat phrases that come
    /// before the last one of their kind that was turned down.
    fn superseded(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for kind in [SpanKind::Date, SpanKind::Time, SpanKind::Recurrence] {
            let of_kind = || self.met.iter().filter(move |(k, _, _)| *k == kind);
            let Some(last) = of_kind()
                .filter(|(_, _, taken)| !taken)
                .map(|(_, at, _)| *at)
                .max()
            else {
                continue;
            };
            if of_kind().any(|(_, at, taken)| *taken && *at < last) {
                out.extend(of_kind().map(|(_, at, _)| *at).filter(|at| *at < last));
            }
        }
        out
    }
}

fn scan(input: &Input, today: Option<NaiveDate>, passed_over: &[bool]) -> Scan {
    let mut found = Found::default();
    let (mut taken, mut met) = (Vec::new(), Vec::new());
    let words = input.words;
    let mut i = 0;
    while i < words.len() {
        if passed_over[i] {
            i += 1;
            continue;
        }
        match input.piece(i) {
            Some((n, piece)) if today.is_some_and(|d| makes_sense(&piece, d)) => {
                let exclusive = exclusive_kind(&piece);
                let took = found.take(piece, taken.len());
                if let Some(kind) = exclusive {
                    met.push((kind, i, took.is_some()));
                }
                match took {
                    Some(kind) => {
                        taken.push((words[i].start, words[i + n - 1].end, kind));
                        i += n;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    Scan { found, taken, met }
}

/// The kind of a phrase a task holds one of (its date, its time, its
/// repeat); `None` for phrases that add up (tags, reminders), that only
/// follow another (a repeat's end), or that refine a time ("at 9 in the
/// morning").
fn exclusive_kind(piece: &Piece) -> Option<SpanKind> {
    match piece {
        Piece::Time(TimeSpec::Part(_)) => None,
        Piece::Date(_) | Piece::DateTime(..) => Some(SpanKind::Date),
        Piece::Time(_) | Piece::After(_) => Some(SpanKind::Time),
        Piece::Recur(_) => Some(SpanKind::Recurrence),
        _ => None,
    }
}

/// Whether `piece` means something said on `today`: a day that exists, a
/// rule that matches some day, a reminder offset in range. A phrase that does
/// not ("on 30 feb") stays in the title.
fn makes_sense(piece: &Piece, today: NaiveDate) -> bool {
    let exists = |d: &DateSpec| resolve::date(*d, today).is_some();
    match piece {
        Piece::Date(d) | Piece::DateTime(d, _) | Piece::Until(d) => exists(d),
        Piece::Recur(r) => r.start.as_ref().is_none_or(exists) && resolve::matches_some_day(r),
        Piece::Reminder(ReminderSpec::Before { days, seconds }) => {
            Offset::new(*days, *seconds).is_some()
        }
        Piece::Reminder(ReminderSpec::At { date, .. }) => date.as_ref().is_none_or(exists),
        _ => true,
    }
}

/// The due, the recurrence and the reminders the found phrases mean.
fn place(
    f: &Found,
    ctx: &Context,
    today: NaiveDate,
) -> (Option<Due>, Option<Recurrence>, Vec<Reminder>) {
    let tz = ctx.tz;
    let time = resolve::clock(f.time, f.part);
    let date = f.date.and_then(|d| resolve::date(d, today));
    let due = if let Some(s) = f.after {
        resolve::after(ctx.now, s, tz)
    } else if let Some(r) = &f.recur {
        let start = r.start.and_then(|d| resolve::date(d, today)).or(date);
        resolve::first_due(r, start.unwrap_or(today), time, ctx.now, tz)
    } else {
        match (date, time) {
            (Some(d), Some(t)) => resolve::at(d, t, tz).map(resolve::due_at),
            (Some(d), None) => Some(Due::Date(d)),
            (None, Some(t)) => resolve::next_at(t, ctx.now, tz).map(resolve::due_at),
            (None, None) => None,
        }
    };
    let recurrence = f.recur.as_ref().map(|r| Recurrence {
        rrule: resolve::rrule(r, f.count, f.until.and_then(|d| resolve::date(d, today))),
        anchor: if f.completion {
            Anchor::Completion
        } else {
            Anchor::Due
        },
    });
    let mut reminders: Vec<Reminder> = Vec::new();
    for (r, _) in &f.reminders {
        let reminder = match *r {
            ReminderSpec::Before { days, seconds } => due
                .as_ref()
                .and(Offset::new(days, seconds))
                .map(Reminder::Before),
            ReminderSpec::At { date, time } => reminder_at(date, time, due.as_ref(), ctx, today),
        };
        if let Some(r) = reminder
            && !reminders.contains(&r)
        {
            reminders.push(r);
        }
    }
    (due, recurrence, reminders)
}

/// The hour of a reminder given a day but no time.
const REMINDER_DEFAULT_HOUR: u32 = 9;

/// `remind me at 8am` is 8:00 on the due's day when that is still ahead,
/// else the next 8:00; `remind me friday` is 9:00 that day.
fn reminder_at(
    date: Option<DateSpec>,
    time: Option<TimeSpec>,
    due: Option<&Due>,
    ctx: &Context,
    today: NaiveDate,
) -> Option<Reminder> {
    let tz = ctx.tz;
    let time = resolve::clock(time, None)
        .or_else(|| NaiveTime::from_hms_opt(REMINDER_DEFAULT_HOUR, 0, 0))?;
    let t = match date {
        Some(d) => resolve::at(resolve::date(d, today)?, time, tz)?,
        None => {
            let due_day: Option<NaiveDate> = due.map(|d| match d {
                Due::Date(d) => *d,
                Due::At(t) => t.with_timezone(&tz).date_naive(),
            });
            match due_day
                .and_then(|d| resolve::at(d, time, tz))
                .filter(|t| *t > ctx.now)
            {
                Some(t) => t,
                None => resolve::next_at(time, ctx.now, tz)?,
            }
        }
    };
    Some(Reminder::At(t.fixed_offset()))
}

/// The input without its recognised phrases and quote marks, spaces
/// collapsed; punctuation next to a removed phrase closes up ("call mom
/// tomorrow, please" keeps "call mom, please").
fn title(text: &str, taken: &[(usize, usize, SpanKind)], quote_marks: &[(usize, usize)]) -> String {
    let closing = |c: char| matches!(c, ',' | '.' | ';' | ':' | '!' | '?' | ')' | ']');
    let mut cut: Vec<(usize, usize)> = taken
        .iter()
        .map(|&(s, e, _)| (s, e))
        .chain(quote_marks.iter().copied())
        .collect();
    cut.sort_unstable();
    let mut kept = String::with_capacity(text.len());
    let mut at = 0;
    let mut after_open = false;
    for &(s, e) in &cut {
        if s > at {
            let chunk = &text[at..s];
            kept.push_str(if after_open {
                chunk.trim_start()
            } else {
                chunk
            });
        }
        at = at.max(e);
        let trimmed = kept.trim_end().len();
        after_open = kept[..trimmed].ends_with(['(', '[']);
        if after_open || text[at..].starts_with(closing) {
            kept.truncate(trimmed);
        } else {
            kept.push(' ');
        }
    }
    let rest = &text[at..];
    kept.push_str(if after_open { rest.trim_start() } else { rest });
    let mut out = String::with_capacity(kept.len());
    for w in kept.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    if cut.is_empty() {
        return out;
    }
    // Separators left at either end, or brackets left empty, by a removed phrase.
    let out = out.replace("()", "").replace("[]", "");
    out.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '-' | '–') || c.is_whitespace())
        .to_owned()
}

fn spans(text: &str, taken: &[(usize, usize, SpanKind)]) -> Vec<Span> {
    let mut taken = taken.to_vec();
    taken.sort_unstable_by_key(|t| t.0);
    let mut chars = 0;
    let mut at = 0;
    let mut to_chars = |b: usize| {
        chars += text[at..b].chars().count();
        at = b;
        chars
    };
    taken
        .into_iter()
        .map(|(s, e, kind)| Span {
            start: to_chars(s),
            end: to_chars(e),
            kind,
            text: text[s..e].to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
