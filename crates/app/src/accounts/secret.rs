//! API tokens, session tokens and e-mail verification secrets: 256 random
//! bits, shown (or mailed) once, stored only as a SHA-256 digest. They are
//! long random secrets, so a fast digest is safe here; slow hashing is kept
//! for passwords.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "dft_";
/// Of the secrets that verify an e-mail address: they are no tokens.
pub const VERIFICATION_PREFIX: &str = "dfv_";

/// A new secret token.
pub fn generate() -> String {
    with_prefix(PREFIX)
}

/// A new secret to mail to an address to be verified.
pub fn generate_verification() -> String {
    with_prefix(VERIFICATION_PREFIX)
}

fn with_prefix(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The digest stored and looked up for a token.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_digests_stable() {
        let a = generate();
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 43);
        assert_ne!(a, generate());
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest("dft_other"));
        let v = generate_verification();
        assert!(v.starts_with(VERIFICATION_PREFIX) && v.len() == a.len());
    }
}
