//! The opaque keyset cursor: the sort it belongs to, the "now" the first
//! page was computed at (so relative dates and urgency stay put), and the
//! sort-key values and id of the last row served.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

    pub fn decode(s: &str) -> Result<Cursor, StoreError> {
        let bad = || StoreError::BadQuery("cursor is not one this server issued".into());
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
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
    }
}
