//! Password hashing with argon2id, run on the blocking pool so that the
//! deliberate slowness never stalls request handling, and never while a
//! database connection is held.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::sync::OnceLock;

use crate::problem::ApiError;

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 1024;

/// Check a new password against the policy.
pub fn check_policy(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(ApiError::invalid(
            "password",
            format!("a password has at least {MIN_LEN} characters"),
        ));
    }
    if n > MAX_LEN {
        return Err(ApiError::invalid(
            "password",
            format!("a password has at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

/// Hash a password (argon2id, default parameters, random salt).
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(format!("could not hash the password: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("hashing task failed: {e}")))?
}

/// A hash of a random password, verified against when the user does not
/// exist so that both cases take the same time.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let random = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(random.as_str().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Whether `password` matches `stored` (or the decoy when `None`).
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let exists = stored.is_some();
    tokio::task::spawn_blocking(move || {
        let stored: &str = match &stored {
            Some(s) => s,
            None => decoy(),
        };
        match PasswordHash::new(stored) {
            Ok(h) => Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok(),
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
        && exists
}
