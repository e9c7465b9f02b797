//! E-mail address verification: product mail goes to an address only once
//! a secret mailed to it came back. Setting an address (or asking again)
//! stores the secret's digest with the address it was sent to and queues
//! the mail in the same transaction, in the queue reminder mails use; the
//! limit on how often a user can have one sent is checked there too, so
//! concurrent requests and replicas cannot pass it together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Result, User};

/// At most one verification mail a minute per user…
pub const MAIL_GAP_MS: i64 = 60_000;
/// …and this many a day.
pub const MAILS_PER_DAY: i64 = 5;
const DAY_MS: i64 = 86_400_000;

/// A verification mail to queue: its id (also the mail's), the digest of
/// the secret it carries, and its text.
#[derive(Debug, Clone)]
pub struct VerificationMail {
    pub id: String,
    pub digest: [u8; 32],
    pub subject: String,
    pub body: String,
    pub expires_at: DateTime<Utc>,
}

/// What became of a request for a verification mail.
#[derive(Debug, Clone, PartialEq)]
pub enum Requested {
    /// The mail is queued; the user as now stored.
    Queued(User),
    /// Nothing to send: the address is the user's already (when setting
    /// one) or verified already (when asking again).
    Unchanged(User),
    /// The user has no address to verify.
    NoAddress,
    /// Too soon: another mail may go in this many seconds; `daily` when
    /// the day's allowance is used up.
    Limited { retry_after_secs: u64, daily: bool },
    /// No such user.
    NoUser,
}

#[async_trait]
pub trait EmailVerification: Send + Sync {
    /// Queue `mail` to verify an address: `address`, which becomes the
    /// user's unverified address unless it is theirs already (then nothing
    /// changes), or with `None` the user's current, unverified one.
    async fn request_verification(
        &self,
        user_id: &str,
        address: Option<&str>,
        mail: &VerificationMail,
        now: DateTime<Utc>,
    ) -> Result<Requested>;
    /// Stop mailing the user: no address, nothing verified.
    async fn clear_email(&self, user_id: &str) -> Result<Option<User>>;
    /// Mark the address a live secret was sent to verified, if it is still
    /// its user's address; the user's secrets are used up. `None` (and
    /// nothing changed) for an unknown, used or expired secret.
    async fn verify_email(&self, digest: &[u8; 32], now: DateTime<Utc>) -> Result<Option<User>>;
}

/// The user's columns, as [`crate::accounts::raw_user`] reads them.
pub(crate) const USER: &str =
    "SELECT id, name, tz, created_at, email, email_verified, date_order FROM users WHERE id = $1";
/// The user's address and whether it is verified, `$1` the user.
pub(crate) const USER_ADDRESS: &str = "SELECT email, email_verified FROM users WHERE id = $1";
/// The user's verification mails of the last day: how many, the first
/// and the last (ms); `$1` user, `$2` a day ago.
pub(crate) const RECENT_MAILS: &str = "SELECT COUNT(*), MIN(created_at), MAX(created_at) \
     FROM email_verifications WHERE user_id = $1 AND created_at > $2";
pub(crate) const FORGET_OLD: &str =
    "DELETE FROM email_verifications WHERE user_id = $1 AND created_at <= $2";
/// `$1` user, `$2` address.
pub(crate) const SET_ADDRESS: &str =
    "UPDATE users SET email = $2, email_verified = FALSE WHERE id = $1";
pub(crate) const INSERT_VERIFICATION: &str = "INSERT INTO email_verifications \
     (id, user_id, digest, address, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// The mail, carrying the secret: `$1` id, `$2` user, `$3` address,
/// `$4` subject, `$5` body, `$6` now.
pub(crate) const QUEUE_MAIL: &str = "INSERT INTO emails (event_id, user_id, to_addr, subject, \
     body, state, attempts, next_attempt_at, updated_at, holds_secret) \
     VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, TRUE)";
pub(crate) const CLEAR: &str = "UPDATE users SET email = NULL, email_verified = FALSE \
     WHERE id = $1 RETURNING id, name, tz, created_at, email, email_verified, date_order";
/// A live secret's user and address, `$1` digest, `$2` now.
pub(crate) const LIVE_SECRET: &str = "SELECT user_id, address FROM email_verifications \
     WHERE digest = $1 AND used_at IS NULL AND expires_at > $2";
/// `$1` user, `$2` address.
pub(crate) const MARK_VERIFIED: &str = "UPDATE users SET email_verified = TRUE \
     WHERE id = $1 AND email = $2 RETURNING id, name, tz, created_at, email, email_verified, date_order";
/// `$1` user, `$2` now.
pub(crate) const USE_UP: &str =
    "UPDATE email_verifications SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";

/// Whether a mail may go now, given the user's mails of the last day
/// (count, first, last); `Some` is the answer when not.
pub(crate) fn limited(recent: (i64, Option<i64>, Option<i64>), now_ms: i64) -> Option<Requested> {
    let (count, first, last) = recent;
    let wait = |until_ms: i64| {
        u64::try_from((until_ms - now_ms + 999) / 1000)
            .unwrap_or(0)
            .max(1)
    };
    if count >= MAILS_PER_DAY {
        let first = first.unwrap_or(now_ms);
        return Some(Requested::Limited {
            retry_after_secs: wait(first + DAY_MS),
            daily: true,
        });
    }
    match last {
        Some(last) if last + MAIL_GAP_MS > now_ms => Some(Requested::Limited {
            retry_after_secs: wait(last + MAIL_GAP_MS),
            daily: false,
        }),
        _ => None,
    }
}

/// What to do about a request, given the user's address and whether it is
/// verified: send to this address (and whether it is new), or answer.
pub(crate) fn target(
    current: (Option<String>, bool),
    address: Option<&str>,
) -> std::result::Result<(String, bool), Settled> {
    let (email, verified) = current;
    match (address, email) {
        (Some(a), Some(e)) if a == e => Err(Settled::Unchanged),
        (Some(a), _) => Ok((a.to_owned(), true)),
        (None, None) => Err(Settled::NoAddress),
        (None, Some(_)) if verified => Err(Settled::Unchanged),
        (None, Some(e)) => Ok((e, false)),
    }
}

/// An answer reached without sending anything.
pub(crate) enum Settled {
    Unchanged,
    NoAddress,
}

/// A day before `now_ms`: mails since then count towards the limit.
pub(crate) fn day_ago(now_ms: i64) -> i64 {
    now_ms - DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_a_minute_and_five_a_day() {
        let now = 10 * DAY_MS;
        assert_eq!(limited((0, None, None), now), None);
        assert_eq!(
            limited((1, Some(now - 1_000), Some(now - 1_000)), now),
            Some(Requested::Limited {
                retry_after_secs: 59,
                daily: false
            })
        );
        assert_eq!(
            limited((4, Some(now - 3_600_000), Some(now - 60_000)), now),
            None
        );
        assert_eq!(
            limited(
                (5, Some(now - DAY_MS + 7_200_000), Some(now - 600_000)),
                now
            ),
            Some(Requested::Limited {
                retry_after_secs: 7_200,
                daily: true
            })
        );
    }

    #[test]
    fn the_same_address_or_a_verified_one_sends_nothing() {
        let ann = || Some("ann@example.com".to_owned());
        assert!(matches!(
            target((ann(), false), Some("ann@example.com")),
            Err(Settled::Unchanged)
        ));
        assert!(matches!(
            target((ann(), true), Some("bob@example.com")),
            Ok((a, true)) if a == "bob@example.com"
        ));
        assert!(matches!(
            target((None, false), None),
            Err(Settled::NoAddress)
        ));
        assert!(matches!(
            target((ann(), true), None),
            Err(Settled::Unchanged)
        ));
        assert!(matches!(
            target((ann(), false), None),
            Ok((a, false)) if a == "ann@example.com"
        ));
    }
}
