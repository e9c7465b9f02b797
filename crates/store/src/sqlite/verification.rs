//! SQLite side of e-mail address verification. The one writer connection
//! runs each request alone, so the limit is checked and the mail queued
//! without another request in between.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{SqliteStore, sql};
use crate::accounts::{raw_user, user};
use crate::verification::{
    CLEAR, EmailVerification, FORGET_OLD, INSERT_VERIFICATION, LIVE_SECRET, MARK_VERIFIED,
    QUEUE_MAIL, RECENT_MAILS, Requested, SET_ADDRESS, Settled, USE_UP, USER, USER_ADDRESS,
    VerificationMail, day_ago, limited, target,
};
use crate::{Result, User};

fn stored_user(tx: &Transaction<'_>, user_id: &str) -> Result<User> {
    user(
        tx.prepare_cached(&sql(USER))?
            .query_row([user_id], |r| raw_user(r))?,
    )
}

fn request(
    tx: &Transaction<'_>,
    user_id: &str,
    address: Option<&str>,
    mail: &VerificationMail,
    now_ms: i64,
) -> Result<Requested> {
    let Some(current) = tx
        .prepare_cached(&sql(USER_ADDRESS))?
        .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
    else {
        return Ok(Requested::NoUser);
    };
    let (to, new) = match target(current, address) {
        Ok(t) => t,
        Err(Settled::Unchanged) => return Ok(Requested::Unchanged(stored_user(tx, user_id)?)),
        Err(Settled::NoAddress) => return Ok(Requested::NoAddress),
    };
    let recent = tx
        .prepare_cached(&sql(RECENT_MAILS))?
        .query_row(params![user_id, day_ago(now_ms)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if let Some(limit) = limited(recent, now_ms) {
        return Ok(limit);
    }
    if new {
        tx.prepare_cached(&sql(SET_ADDRESS))?
            .execute(params![user_id, to])?;
    }
    tx.prepare_cached(&sql(FORGET_OLD))?
        .execute(params![user_id, day_ago(now_ms)])?;
    tx.prepare_cached(&sql(INSERT_VERIFICATION))?
        .execute(params![
            mail.id,
            user_id,
            &mail.digest[..],
            to,
            now_ms,
            mail.expires_at.timestamp_millis()
        ])?;
    tx.prepare_cached(&sql(QUEUE_MAIL))?.execute(params![
        mail.id,
        user_id,
        to,
        mail.subject,
        mail.body,
        now_ms
    ])?;
    Ok(Requested::Queued(stored_user(tx, user_id)?))
}

#[async_trait]
impl EmailVerification for SqliteStore {
    async fn request_verification(
        &self,
        user_id: &str,
        address: Option<&str>,
        mail: &VerificationMail,
        now: DateTime<Utc>,
    ) -> Result<Requested> {
        let (user_id, address, mail) =
            (user_id.to_owned(), address.map(str::to_owned), mail.clone());
        self.write(move |tx| {
            request(
                tx,
                &user_id,
                address.as_deref(),
                &mail,
                now.timestamp_millis(),
            )
        })
        .await
    }

    async fn clear_email(&self, user_id: &str) -> Result<Option<User>> {
        let user_id = user_id.to_owned();
        let row = self
            .write(move |tx| {
                Ok(tx
                    .prepare_cached(&sql(CLEAR))?
                    .query_row([user_id], |r| raw_user(r))
                    .optional()?)
            })
            .await?;
        row.map(user).transpose()
    }

    async fn verify_email(&self, digest: &[u8; 32], now: DateTime<Utc>) -> Result<Option<User>> {
        let (digest, now_ms) = (*digest, now.timestamp_millis());
        let row = self
            .write(move |tx| {
                let Some((user_id, address)) = tx
                    .prepare_cached(&sql(LIVE_SECRET))?
                    .query_row(params![&digest[..], now_ms], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })
                    .optional()?
                else {
                    return Ok(None);
                };
                let Some(row) = tx
                    .prepare_cached(&sql(MARK_VERIFIED))?
                    .query_row(params![user_id, address], |r| raw_user(r))
                    .optional()?
                else {
                    return Ok(None);
                };
                tx.prepare_cached(&sql(USE_UP))?
                    .execute(params![user_id, now_ms])?;
                Ok(Some(row))
            })
            .await?;
        row.map(user).transpose()
    }
}
