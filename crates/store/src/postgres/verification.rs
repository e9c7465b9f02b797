//! PostgreSQL side of e-mail address verification. A request locks its
//! user's row first, so two requests (on any replicas) check the limit one
//! after the other; a secret's row is locked while it is used, so it is
//! used once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{PgStore, Tx};
use crate::accounts::{raw_user, user};
use crate::verification::{
    CLEAR, EmailVerification, FORGET_OLD, INSERT_VERIFICATION, LIVE_SECRET, MARK_VERIFIED,
    QUEUE_MAIL, RECENT_MAILS, Requested, SET_ADDRESS, Settled, USE_UP, USER, USER_ADDRESS,
    VerificationMail, day_ago, limited, target,
};
use crate::{Result, User};

async fn stored_user(tx: &mut Tx<'_>, user_id: &str) -> Result<User> {
    let row = sqlx::query(USER).bind(user_id).fetch_one(&mut **tx).await?;
    user(raw_user(&row)?)
}

async fn request(
    tx: &mut Tx<'_>,
    user_id: &str,
    address: Option<&str>,
    mail: &VerificationMail,
    now_ms: i64,
) -> Result<Requested> {
    let current: Option<(Option<String>, bool)> =
        sqlx::query_as(AssertSqlSafe(format!("{USER_ADDRESS} FOR UPDATE")))
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(current) = current else {
        return Ok(Requested::NoUser);
    };
    let (to, new) = match target(current, address) {
        Ok(t) => t,
        Err(Settled::Unchanged) => {
            return Ok(Requested::Unchanged(stored_user(tx, user_id).await?));
        }
        Err(Settled::NoAddress) => return Ok(Requested::NoAddress),
    };
    let recent: (i64, Option<i64>, Option<i64>) = sqlx::query_as(RECENT_MAILS)
        .bind(user_id)
        .bind(day_ago(now_ms))
        .fetch_one(&mut **tx)
        .await?;
    if let Some(limit) = limited(recent, now_ms) {
        return Ok(limit);
    }
    if new {
        sqlx::query(SET_ADDRESS)
            .bind(user_id)
            .bind(&to)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(FORGET_OLD)
        .bind(user_id)
        .bind(day_ago(now_ms))
        .execute(&mut **tx)
        .await?;
    sqlx::query(INSERT_VERIFICATION)
        .bind(&mail.id)
        .bind(user_id)
        .bind(&mail.digest[..])
        .bind(&to)
        .bind(now_ms)
        .bind(mail.expires_at.timestamp_millis())
        .execute(&mut **tx)
        .await?;
    sqlx::query(QUEUE_MAIL)
        .bind(&mail.id)
        .bind(user_id)
        .bind(&to)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    Ok(Requested::Queued(stored_user(tx, user_id).await?))
}

#[async_trait]
impl EmailVerification for PgStore {
    async fn request_verification(
        &self,
        user_id: &str,
        address: Option<&str>,
        mail: &VerificationMail,
        now: DateTime<Utc>,
    ) -> Result<Requested> {
        let mut tx = self.pool.begin().await?;
        let requested = request(&mut tx, user_id, address, mail, now.timestamp_millis()).await?;
        tx.commit().await?;
        Ok(requested)
    }

    async fn clear_email(&self, user_id: &str) -> Result<Option<User>> {
        let row = sqlx::query(CLEAR)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| user(raw_user(&r)?)).transpose()
    }

    async fn verify_email(&self, digest: &[u8; 32], now: DateTime<Utc>) -> Result<Option<User>> {
        let now_ms = now.timestamp_millis();
        let mut tx = self.pool.begin().await?;
        let secret: Option<(String, String)> =
            sqlx::query_as(AssertSqlSafe(format!("{LIVE_SECRET} FOR UPDATE")))
                .bind(&digest[..])
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((user_id, address)) = secret else {
            return Ok(None);
        };
        let Some(row) = sqlx::query(MARK_VERIFIED)
            .bind(&user_id)
            .bind(&address)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        sqlx::query(USE_UP)
            .bind(&user_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        user(raw_user(&row)?).map(Some)
    }
}
