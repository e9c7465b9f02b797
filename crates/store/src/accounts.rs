//! Accounts: users, their preferences and their API tokens — what signing
//! in and authenticating a request need — and the users' rows as both
//! backends write them.

use async_trait::async_trait;
use chrono_tz::Tz;
use dueflow_domain::quickadd::DateOrder;

use crate::{Result, TokenOwner, TokenRecord, User};

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
