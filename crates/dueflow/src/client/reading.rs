//! Values as people write them: `--due 'fri 9am'`, `--every monday`,
//! `--priority High` and quick-add lines. Phrases are read by the server's
//! quick-add parser (`POST /api/v1/parse`) in the user's zone and date
//! order, so the client reads a date exactly as the web app and the API do.

use anyhow::bail;
use chrono::{DateTime, NaiveDate};
use reqwest::Method;
use serde_json::{Value, json};

use super::connection::Client;

/// What the parser made of a line: the task's fields and its phrases.
pub struct Parsed(pub Value);

impl Parsed {
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    pub fn title(&self) -> &str {
        self.0.get("title").and_then(Value::as_str).unwrap_or("")
    }

    pub fn spans(&self) -> &[Value] {
        self.0
            .get("spans")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    fn kinds_only(&self, kinds: &[&str]) -> bool {
        self.spans()
            .iter()
            .all(|s| kinds.contains(&s["kind"].as_str().unwrap_or("")))
    }

    /// The phrases read, as `"at 9am" (time), "#bills" (tag)`.
    pub fn phrases(&self) -> String {
        self.spans()
            .iter()
            .map(|s| {
                format!(
                    "\"{}\" ({})",
                    s["text"].as_str().unwrap_or(""),
                    s["kind"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Read `text` as the server's quick add reads it; nothing is stored.
pub async fn parse(c: &Client, text: &str) -> anyhow::Result<Parsed> {
    let v = c
        .call(
            Method::POST,
            "/api/v1/parse",
            Some(json!({ "text": text })),
            &[],
        )
        .await?
        .unwrap_or_default();
    Ok(Parsed(v))
}

const DUE_EXAMPLES: &str =
    "write it as 2026-12-01, tomorrow, 'fri 9am', 'next monday', +3d or 2026-12-01T09:00:00+01:00";

/// A due as the API takes it: a `YYYY-MM-DD` date or an RFC 3339
/// date-time as given; an offset from now as the query language writes it
/// (`+3d`, `12h`, `2w`) or a phrase (`tomorrow`, `fri 9am`) as quick add
/// reads it.
pub async fn due(c: &Client, given: &str) -> anyhow::Result<Value> {
    let given = given.trim();
    if NaiveDate::parse_from_str(given, "%Y-%m-%d").is_ok()
        || DateTime::parse_from_rfc3339(given).is_ok()
    {
        return Ok(json!(given));
    }
    let phrase = offset_phrase(given).unwrap_or_else(|| given.to_owned());
    let parsed = parse(c, &phrase).await?;
    match parsed.get("due") {
        Some(due) if parsed.title().is_empty() && parsed.kinds_only(&["date", "time"]) => {
            Ok(due.clone())
        }
        _ => bail!("--due: cannot read '{given}' as a date; {DUE_EXAMPLES}"),
    }
}

/// `+3d`, `3d`, `12h`, `30m`, `2w` as the phrase quick add reads.
fn offset_phrase(s: &str) -> Option<String> {
    let rest = s.strip_prefix('+').unwrap_or(s);
    let unit = match rest.bytes().last()? {
        b'm' => "minutes",
        b'h' => "hours",
        b'd' => "days",
        b'w' => "weeks",
        _ => return None,
    };
    let digits = &rest[..rest.len() - 1];
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("in {digits} {unit}"))
}

/// A repeat: an RRULE (`FREQ=…`) as given, or words (`monday`, `every 2
/// weeks`, `weekday at 9am`) read as quick add reads "every …". Returns the
/// recurrence and, for words, the first occurrence as a due.
pub async fn every(c: &Client, given: &str) -> anyhow::Result<(Value, Option<Value>)> {
    let given = given.trim();
    if given.contains('=') {
        return Ok((json!({ "rrule": given }), None));
    }
    let phrase = if given.to_lowercase().starts_with("every") {
        given.to_owned()
    } else {
        format!("every {given}")
    };
    let parsed = parse(c, &phrase).await?;
    match parsed.get("recurrence") {
        Some(r)
            if parsed.title().is_empty() && parsed.kinds_only(&["recurrence", "date", "time"]) =>
        {
            Ok((r.clone(), parsed.get("due").cloned()))
        }
        _ => bail!(
            "--every: cannot read '{given}' as a repeat; write it as 'monday', '2 weeks', \
             'weekday at 9am', 'month on the 15th' or an RRULE such as FREQ=WEEKLY;BYDAY=MO"
        ),
    }
}

/// A priority in any case, with or without quick add's `!`.
pub fn priority(given: &str) -> String {
    given.trim().trim_start_matches('!').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_written_as_phrases() {
        assert_eq!(offset_phrase("+3d").as_deref(), Some("in 3 days"));
        assert_eq!(offset_phrase("12h").as_deref(), Some("in 12 hours"));
        assert_eq!(offset_phrase("2w").as_deref(), Some("in 2 weeks"));
        for other in ["d", "+d", "-3d", "3x", "fri", "3é"] {
            assert_eq!(offset_phrase(other), None, "{other}");
        }
    }
}
