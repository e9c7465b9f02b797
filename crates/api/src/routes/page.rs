//! Paging shared by the lists besides tasks (activity, notifications,
//! reminders, deliveries): the page size, and the cursor of newest-first
//! lists, the last item's (time in ms, id), opaque to clients.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::problem::ApiError;

pub fn encode_cursor(time_ms: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{time_ms}:{id}"))
}

pub fn decode_cursor(c: &str) -> Result<(i64, String), ApiError> {
    let bad = || ApiError::invalid("cursor", "cursor is not one this server issued");
    let raw = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (t, id) = text.split_once(':').ok_or_else(bad)?;
    // Ids are `[A-Za-z0-9_]`: anything else is no row's (and NUL no text's).
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(bad());
    }
    Ok((t.parse().map_err(|_| bad())?, id.to_owned()))
}

/// The page size asked for: 1–200, 50 when not given.
pub fn page_size(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(50);
    if (1..=200).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid("limit", "limit is between 1 and 200"))
    }
}
