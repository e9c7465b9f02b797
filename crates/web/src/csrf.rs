//! The form token that proves a form was served by this server to the
//! signed-in user. It is derived from the session's digest, so it needs no
//! storage, changes with every session, and no other site can learn it;
//! every state-changing form carries it, and [`crate::session::Posted`]
//! refuses a form without the right one. (The session cookie's `Origin`
//! check applies as well: two defences, each enough alone.)

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The form token of the session whose digest is `session_digest`.
pub fn token(session_digest: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"dueflow form token\0");
    h.update(session_digest);
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `sent` is `expected`, compared in constant time.
pub fn matches(expected: &str, sent: &str) -> bool {
    expected.len() == sent.len() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_belongs_to_its_session() {
        let a = token(&[1; 32]);
        assert_eq!(a.len(), 32);
        assert_eq!(a, token(&[1; 32]));
        assert_ne!(a, token(&[2; 32]));
        assert!(matches(&a, &a.clone()));
        assert!(!matches(&a, &token(&[2; 32])));
        assert!(!matches(&a, ""));
    }
}
