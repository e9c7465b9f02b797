//! Accounts: users, their preferences and their API tokens — what signing
//! in and authenticating a request need — and the statements and row
//! mappers both backends read and write them with.

use async_trait::async_trait;
use chrono_tz::Tz;
use dueflow_domain::quickadd::DateOrder;

use crate::codec::ms;
use crate::row::RowAccess;
use crate::{Result, StoreError, TokenKind, TokenOwner, TokenRecord, User};

#[async_trait]
pub trait Accounts: Send + Sync {
    /// Create a user; [`crate::StoreError::Conflict`] when the name is taken.
    async fn create_user(&self, user: &User, password_hash: &str) -> Result<()>;
    /// A user and their password hash, by (lower-case) name.
    async fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>>;
    /// Change what `p` sets; `None` when there is no such user.
    async fn set_preferences(&self, user_id: &str, p: Preferences) -> Result<Option<User>>;

    async fn insert_token(&self, token: &TokenRecord, digest: &[u8; 32]) -> Result<()>;
    /// The user a live token belongs to.
    async fn user_by_token(&self, digest: &[u8; 32], now_ms: i64) -> Result<Option<TokenOwner>>;
    async fn list_tokens(&self, user_id: &str) -> Result<Vec<TokenRecord>>;
    async fn revoke_token(&self, user_id: &str, token_id: &str) -> Result<bool>;
}

/// What a preferences change sets; `None` keeps the stored value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Preferences {
    pub tz: Option<Tz>,
    pub date_order: Option<DateOrder>,
}

/// `$1` id, `$2` name, `$3` password hash, `$4` zone, `$5` created (ms),
/// `$6` date order.
pub(crate) const INSERT_USER: &str = "INSERT INTO users \
     (id, name, password_hash, tz, created_at, date_order) VALUES ($1, $2, $3, $4, $5, $6)";

/// `$1` user, `$2` zone, `$3` date order.
pub(crate) const SET_PREFERENCES: &str = "UPDATE users \
     SET tz = COALESCE($2, tz), date_order = COALESCE($3, date_order) WHERE id = $1 \
     RETURNING id, name, tz, created_at, email, email_verified, date_order";

/// The number of the last event of user `$1`.
pub(crate) const EVENT_SEQUENCE: &str = "SELECT event_seq FROM users WHERE id = $1";

/// The user named `$1`, as [`raw_user`] reads it, and the password hash.
pub(crate) const USER_CREDENTIALS: &str = "SELECT id, name, tz, created_at, email, \
     email_verified, date_order, password_hash FROM users WHERE name = $1";

/// The owner of a live token, as [`raw_user`] reads it, then the token's
/// expiry and id; `$1` the digest, `$2` now.
pub(crate) const USER_BY_TOKEN: &str = "SELECT u.id, u.name, u.tz, u.created_at, u.email, \
     u.email_verified, u.date_order, k.expires_at, k.id \
     FROM tokens k JOIN users u ON u.id = k.user_id \
     WHERE k.digest = $1 AND (k.expires_at IS NULL OR k.expires_at > $2)";

pub(crate) const INSERT_TOKEN: &str = "INSERT INTO tokens \
     (id, user_id, name, kind, digest, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// A user's tokens, as [`raw_token`] reads them.
pub(crate) const LIST_TOKENS: &str = "SELECT id, user_id, name, kind, created_at, expires_at \
     FROM tokens WHERE user_id = $1 ORDER BY created_at, id";

pub(crate) const REVOKE_TOKEN: &str = "DELETE FROM tokens WHERE id = $1 AND user_id = $2";

/// A user row as stored.
pub(crate) struct RawUser {
    pub id: String,
    pub name: String,
    pub tz: String,
    pub created_at: i64,
    pub email: Option<String>,
    pub email_verified: bool,
    pub date_order: String,
}

/// Reads a row whose first columns are `id, name, tz, created_at, email,
/// email_verified, date_order`.
pub(crate) fn raw_user<R: RowAccess>(row: &R) -> Result<RawUser, R::Error> {
    Ok(RawUser {
        id: row.at(0)?,
        name: row.at(1)?,
        tz: row.at(2)?,
        created_at: row.at(3)?,
        email: row.at(4)?,
        email_verified: row.at(5)?,
        date_order: row.at(6)?,
    })
}

pub(crate) fn user(raw: RawUser) -> Result<User> {
    let RawUser {
        id,
        name,
        tz,
        created_at,
        email,
        email_verified,
        date_order,
    } = raw;
    Ok(User {
        date_order: DateOrder::parse(&date_order)
            .ok_or_else(|| StoreError::Corrupt(format!("user {id}: date order {date_order}")))?,
        tz: tz
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("user {id}: zone {tz}")))?,
        created_at: ms(created_at)?,
        id,
        name,
        email,
        email_verified,
    })
}

/// A token row as [`LIST_TOKENS`] reads it.
pub(crate) struct RawToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub kind: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

pub(crate) fn raw_token<R: RowAccess>(row: &R) -> Result<RawToken, R::Error> {
    Ok(RawToken {
        id: row.at(0)?,
        user_id: row.at(1)?,
        name: row.at(2)?,
        kind: row.at(3)?,
        created_at: row.at(4)?,
        expires_at: row.at(5)?,
    })
}

impl RawToken {
    pub fn decode(self) -> Result<TokenRecord> {
        Ok(TokenRecord {
            kind: TokenKind::parse(&self.kind),
            created_at: ms(self.created_at)?,
            expires_at: self.expires_at.map(ms).transpose()?,
            id: self.id,
            user_id: self.user_id,
            name: self.name,
        })
    }
}
