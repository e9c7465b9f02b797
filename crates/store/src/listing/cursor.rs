//! The opaque keyset cursor: the sort it belongs to, the "now" the first
//! page was computed at (so relative dates and urgency stay put), and the
//! sort-key values and id of the last row served.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike};
use dueflow_domain::due::YEARS;
use serde::{Deserialize, Serialize};

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyValue {
    Int(i64),
    Real(#[serde(with = "exact")] f64),
    Text(String),
}

/// A real key as its bit pattern, `{"f": bits}`. A keyset condition compares
/// keys for equality, and serde_json's default float parsing can land one
/// ulp away from the number it printed, which made a relevance or urgency
/// cursor repeat its own page.
mod exact {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Bits {
        f: u64,
    }

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        Bits { f: v.to_bits() }.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(f64::from_bits(Bits::deserialize(d)?.f))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "n")]
    pub now_ms: i64,
    #[serde(rename = "k")]
    pub keys: Vec<KeyValue>,
    #[serde(rename = "i")]
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serialises"))
    }

    /// Read a cursor a client sent back, refusing any that this server
    /// could not have issued: its "now" outside the years dues take, or
    /// text no row holds (ids are `[A-Za-z0-9_]`; no text holds NUL).
    pub fn decode(s: &str) -> Result<Cursor, StoreError> {
        let bad = || StoreError::BadQuery("cursor is not one this server issued".into());
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let now_in_range =
            DateTime::from_timestamp_millis(c.now_ms).is_some_and(|t| YEARS.contains(&t.year()));
        let id_ok = c.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let keys_ok = c.keys.iter().all(|k| match k {
            KeyValue::Text(t) => !t.contains('\0'),
            KeyValue::Real(r) => r.is_finite(),
            KeyValue::Int(_) => true,
        });
        if now_in_range && id_ok && keys_ok {
            Ok(c)
        } else {
            Err(bad())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = Cursor {
            sort: "due,-priority".into(),
            now_ms: 5,
            keys: vec![
                KeyValue::Int(3),
                KeyValue::Real(1.25),
                KeyValue::Real(-9.995918922595567e-7),
                KeyValue::Text("a".into()),
            ],
            id: "tsk_x".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("!!").is_err());
        assert!(Cursor::decode("e30").is_err());
        for bad in [
            Cursor {
                now_ms: i64::MAX,
                ..c.clone()
            },
            Cursor {
                now_ms: i64::MIN,
                ..c.clone()
            },
            Cursor {
                now_ms: 253_402_300_800_000,
                ..c.clone()
            },
            Cursor {
                id: "tsk_\0".into(),
                ..c.clone()
            },
            Cursor {
                keys: vec![KeyValue::Text("a\0".into())],
                ..c.clone()
            },
            Cursor {
                keys: vec![KeyValue::Real(f64::NAN)],
                ..c.clone()
            },
        ] {
            assert!(Cursor::decode(&bad.encode()).is_err(), "{bad:?}");
        }
    }
}
