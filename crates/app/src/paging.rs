//! Paging shared by the lists besides tasks (activity, notifications,
//! reminders, deliveries): the page size, and the cursor of newest-first
//! lists — the last item's (time in ms, id), opaque to callers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::AppError;

const DEFAULT_SIZE: u32 = 50;
const MAX_SIZE: u32 = 200;

pub(crate) fn encode_cursor(time_ms: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{time_ms}:{id}"))
}

/// Where a page starts: after the item a cursor names, or at the newest
/// when there is none (an empty cursor asks for the first page too).
pub(crate) fn decode_cursor(c: Option<&str>) -> Result<Option<(i64, String)>, AppError> {
    let Some(c) = c.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let bad = || AppError::invalid("cursor", "cursor is not one this server issued");
    let raw = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (t, id) = text.split_once(':').ok_or_else(bad)?;
    // Ids are `[A-Za-z0-9_]`: anything else is no row's (and NUL no text's).
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(bad());
    }
    Ok(Some((t.parse().map_err(|_| bad())?, id.to_owned())))
}

/// The page size asked for: 1–200, 50 when not given.
pub(crate) fn page_size(limit: Option<u32>) -> Result<u32, AppError> {
    let limit = limit.unwrap_or(DEFAULT_SIZE);
    if (1..=MAX_SIZE).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid(
            "limit",
            format!("limit is between 1 and {MAX_SIZE}"),
        ))
    }
}

/// A newest-first page: what was read (one more than `limit` where there
/// is more), cut to `limit`, and the cursor after its last item.
pub(crate) fn cut<T>(
    mut items: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> (i64, &str),
) -> (Vec<T>, Option<String>) {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = items.last().filter(|_| more).map(|i| {
        let (t, id) = key(i);
        encode_cursor(t, id)
    });
    (items, next)
}
