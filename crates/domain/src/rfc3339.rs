//! Instants as JSON strings, written as chrono writes them
//! (`2026-12-01T09:30:00.125Z`: RFC 3339, fractional seconds only when
//! there are any, in 3, 6 or 9 digits) without going through `fmt`. A task
//! list answers with three instants per task, and chrono's own `Serialize`
//! writes them one character at a time through the JSON escaper.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::Serializer;

/// The longest text [`write`] produces: `9999-12-31T23:59:59.999999999Z`.
const LONGEST: usize = 30;

/// Writes ASCII into a fixed buffer.
struct Out<'a> {
    buf: &'a mut [u8; LONGEST],
    len: usize,
}

impl Out<'_> {
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `value`'s last `width` digits, zero-padded.
    fn digits(&mut self, value: u32, width: u32) {
        for i in (0..width).rev() {
            self.byte(b'0' + (value / 10u32.pow(i) % 10) as u8);
        }
    }
}

/// `t` as RFC 3339 in UTC, as `t.to_rfc3339_opts(SecondsFormat::AutoSi,
/// true)` writes it; `None` for what that writes specially (years outside
/// 0–9999, a leap second).
fn write(t: &DateTime<Utc>, buf: &mut [u8; LONGEST]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut out = Out { buf, len: 0 };
    out.digits(year, 4);
    for (sep, value) in [
        (b'-', t.month()),
        (b'-', t.day()),
        (b'T', t.hour()),
        (b':', t.minute()),
        (b':', t.second()),
    ] {
        out.byte(sep);
        out.digits(value, 2);
    }
    if nanos != 0 {
        out.byte(b'.');
        if nanos.is_multiple_of(1_000_000) {
            out.digits(nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            out.digits(nanos / 1_000, 6);
        } else {
            out.digits(nanos, 9);
        }
    }
    out.byte(b'Z');
    Some(out.len)
}

/// Serialize `t` as chrono does.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut out = [0; LONGEST];
    match write(t, &mut out) {
        Some(n) => s.serialize_str(std::str::from_utf8(&out[..n]).expect("ASCII")),
        None => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// The same for an instant that may be missing (`null`).
pub mod option {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use serde::Serialize;

    #[derive(Serialize)]
    struct Ours(#[serde(serialize_with = "super::serialize")] DateTime<Utc>);

    /// Each instant reads exactly as chrono's own serialisation has it.
    #[test]
    fn writes_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 5).unwrap();
        let mut instants = vec![
            Utc.timestamp_opt(0, 0).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 6, 1, 0, 0, 0).unwrap(),
            // A leap second.
            Utc.timestamp_opt(1_483_228_799, 1_500_000_000).unwrap(),
        ];
        for nanos in [
            0,
            1,
            10,
            999,
            1_000,
            120_000,
            999_000,
            1_000_000,
            125_000_000,
            999_999_999,
        ] {
            instants.push(base + chrono::Duration::nanoseconds(nanos));
        }
        for ms in (0..1_000_000_000_000i64).step_by(7_919_999_999) {
            instants.push(Utc.timestamp_millis_opt(ms * 3 + 17).unwrap());
        }
        for t in instants {
            assert_eq!(
                serde_json::to_string(&Ours(t)).unwrap(),
                serde_json::to_string(&t).unwrap(),
                "{t:?}"
            );
        }
    }
}
