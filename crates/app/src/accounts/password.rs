//! Password hashing with argon2id, run on the blocking pool so that the
//! deliberate slowness never stalls request handling, and never while a
//! database connection is held. Each hash takes about 19 MiB and a core for
//! a while, so one process-wide limit of as many hashes at once as there are
//! cores bounds both; a caller that cannot start within [`WAIT`] is told
//! that the server is busy instead of piling up.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppError;

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 1024;

/// Check a new password against the policy.
pub fn check_policy(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(AppError::invalid(
            "password",
            format!("a password has at least {MIN_LEN} characters"),
        ));
    }
    if n > MAX_LEN {
        return Err(AppError::invalid(
            "password",
            format!("a password has at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

/// How long a hash may wait for a core before the caller is told to retry.
pub const WAIT: Duration = Duration::from_secs(2);

/// Hashes running at once in this process: one per core.
static HASHING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Arc::new(Semaphore::new(cores))
});

/// A turn to hash, or [`AppError::Busy`] when none frees up within [`WAIT`]. The permit
/// moves into the blocking task, so that a caller who goes away does not
/// free it while the hash still runs.
async fn turn() -> Result<OwnedSemaphorePermit, AppError> {
    match tokio::time::timeout(WAIT, HASHING.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(AppError::Busy {
            retry_after_secs: 1,
        }),
    }
}

/// A hashing failure: logged, and told as the server's own.
fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "{what}");
    AppError::Internal
}

/// Hash a password (argon2id, default parameters, random salt).
pub async fn hash(password: String) -> Result<String, AppError> {
    let permit = turn().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| failed("could not hash a password", e))
    })
    .await
    .map_err(|e| failed("a password hashing task failed", e))?
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

/// Whether `password` matches `stored` (or the decoy when `None`, which
/// takes the same time); `Err` when the server is too busy to check now.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    let exists = stored.is_some();
    let permit = turn().await?;
    let matched = tokio::task::spawn_blocking(move || {
        let _permit = permit;
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
    .unwrap_or(false);
    Ok(matched && exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn busy_when_every_core_is_hashing() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let all = HASHING
            .clone()
            .acquire_many_owned(cores as u32)
            .await
            .unwrap();
        let e = verify("whatever".into(), None).await.unwrap_err();
        assert!(
            matches!(
                e,
                AppError::Busy {
                    retry_after_secs: 1
                }
            ),
            "{e:?}"
        );
        assert!(matches!(
            hash("whatever".into()).await,
            Err(AppError::Busy { .. })
        ));
        drop(all);
        assert!(!verify("whatever".into(), None).await.unwrap());
    }
}
