//! Webhook operations: a user's endpoints (Standard Webhooks; the signing
//! secret is generated, or given, and shown once), secret rotation with an
//! overlap, delivery logs, and manual redelivery.

use chrono::{DateTime, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::webhook::{check_url, format_secret, parse_event, secret_key};
use dueflow_store::{Delivery, User, Webhook};
use rand::RngCore;

use crate::paging::page_size;
use crate::{App, AppError};

/// Endpoints one user may register.
const MAX_ENDPOINTS: usize = 20;
const URL_MAX: usize = 2_000;
/// How long the previous secret keeps signing after a rotation.
const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// The event types' short names (`reminder.due`), checked, without repeats.
fn event_names(events: &[String]) -> Result<Vec<String>, AppError> {
    if events.is_empty() {
        return Err(AppError::invalid(
            "events",
            "name at least one event type, e.g. reminder.due",
        ));
    }
    let mut names = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let kind =
            parse_event(e.trim()).map_err(|m| AppError::invalid(&format!("events[{i}]"), m))?;
        let short = kind.short().to_owned();
        if !names.contains(&short) {
            names.push(short);
        }
    }
    Ok(names)
}

/// The `whsec_…` secret given, checked, or a new random one.
fn signing_secret(given: Option<&str>) -> Result<String, AppError> {
    match given {
        Some(s) => {
            secret_key(s).map_err(|e| AppError::invalid("secret", e))?;
            Ok(s.to_owned())
        }
        None => {
            let mut key = [0u8; 24];
            rand::rngs::OsRng.fill_bytes(&mut key);
            Ok(format_secret(&key))
        }
    }
}

impl App {
    /// Register an endpoint for `events`; the answer carries its secret,
    /// which is never shown again.
    pub async fn create_webhook(
        &self,
        user: &User,
        url: &str,
        events: &[String],
        secret: Option<&str>,
    ) -> Result<Webhook, AppError> {
        if url.len() > URL_MAX {
            return Err(AppError::invalid(
                "url",
                format!("a URL has at most {URL_MAX} characters"),
            ));
        }
        check_url(url, self.config.webhooks_allow_private)
            .map_err(|e| AppError::invalid("url", e))?;
        let events = event_names(events)?;
        let secret = signing_secret(secret)?;
        if self.store.list_webhooks(&[&user.id]).await?.len() >= MAX_ENDPOINTS {
            return Err(AppError::Conflict(format!(
                "a user has at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
            )));
        }
        let w = Webhook {
            id: new_id(IdKind::Webhook),
            user_id: user.id.clone(),
            url: url.to_owned(),
            events,
            secret,
            enabled: true,
            disabled_reason: None,
            created_at: Utc::now(),
        };
        self.store.insert_webhook(&w).await?;
        Ok(w)
    }

    pub async fn webhooks(&self, user: &User) -> Result<Vec<Webhook>, AppError> {
        Ok(self.store.list_webhooks(&[&user.id]).await?)
    }

    pub async fn delete_webhook(&self, user: &User, id: &str) -> Result<(), AppError> {
        if self.store.delete_webhook(&user.id, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Sign with a new secret (given, or generated); until the instant
    /// returned, messages carry a signature with the previous one too.
    pub async fn rotate_webhook_secret(
        &self,
        user: &User,
        id: &str,
        secret: Option<&str>,
    ) -> Result<(String, DateTime<Utc>), AppError> {
        let secret = signing_secret(secret)?;
        let until = Utc::now() + ROTATION_OVERLAP;
        if self
            .store
            .rotate_webhook_secret(&user.id, id, &secret, until)
            .await?
        {
            Ok((secret, until))
        } else {
            Err(AppError::NotFound)
        }
    }

    /// An endpoint's deliveries, newest first, at most `limit` (1–200).
    pub async fn webhook_deliveries(
        &self,
        user: &User,
        id: &str,
        limit: Option<u32>,
    ) -> Result<Vec<Delivery>, AppError> {
        let limit = page_size(limit)?;
        self.store
            .list_deliveries(&user.id, id, limit)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Queue a delivery to be sent again now.
    pub async fn redeliver(
        &self,
        user: &User,
        id: &str,
        delivery_id: &str,
    ) -> Result<(), AppError> {
        if self
            .store
            .redeliver(&user.id, id, delivery_id, Utc::now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
