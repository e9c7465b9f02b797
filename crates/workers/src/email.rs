//! E-mail, part of the notifier role: a fired reminder is queued as a mail
//! to its owner's verified address (once per event), the API queues the
//! mails that verify an address, and a sender works the queue
//! over SMTP (lettre), retrying with backoff while the server is away, so
//! a mail server outage delays reminders by mail without holding up any
//! other event. The Message-ID derives from the mail's key (the event's or
//! the verification's id); a crash between sending and recording can repeat
//! one mail, never lose it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use dueflow_store::{MailOutcome, Notifications, QueuedEmail};
use tokio::task::JoinSet;

use crate::pump::{LEASE_MS, Queue, while_leased};

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a relay on localhost or inside the cluster).
    None,
    /// Upgrade with STARTTLS (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl SmtpTls {
    pub fn parse(s: &str) -> Option<SmtpTls> {
        match s {
            "none" => Some(SmtpTls::None),
            "starttls" => Some(SmtpTls::StartTls),
            "tls" => Some(SmtpTls::Tls),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. `dueflow <reminders@example.com>`.
    pub from: String,
    /// PEM certificates trusted for the server besides the system's roots
    /// (a mail server with a private CA or a self-signed certificate).
    pub ca_pem: Option<Vec<u8>>,
}

/// TLS towards `c.host`: its name checked against the certificate, which
/// must chain to a public root or to one of `c.ca_pem`.
fn tls_parameters(c: &SmtpConfig) -> Result<TlsParameters, String> {
    let mut params = TlsParameters::builder(c.host.clone());
    if let Some(pem) = &c.ca_pem {
        let text = String::from_utf8_lossy(pem);
        let blocks: Vec<&str> = text
            .split_inclusive("-----END CERTIFICATE-----")
            .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
            .collect();
        if blocks.is_empty() {
            return Err("smtp_ca_file holds no PEM certificate".into());
        }
        for block in blocks {
            let cert = Certificate::from_pem(block.trim().as_bytes())
                .map_err(|e| format!("smtp_ca_file: not a usable certificate: {e}"))?;
            params = params.add_root_certificate(cert);
        }
    }
    params
        .build()
        .map_err(|e| format!("TLS towards SMTP server {}: {e}", c.host))
}

/// Mails claimed (and sent concurrently) at once.
const BATCH: u32 = 16;
/// The longest one mail's sending may take, connection included.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// Waits after failed attempts 1, 2, …: 5 s up to 8 h, about a day in all.
const BACKOFF_SECS: [i64; 9] = [5, 30, 120, 600, 1_800, 3_600, 7_200, 14_400, 28_800];

/// Cheap to clone: the transport's connection pool and the store are shared.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
    store: Arc<dyn Notifications>,
}

impl Mailer {
    pub fn new(c: &SmtpConfig, store: Arc<dyn Notifications>) -> Result<Mailer, String> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host);
        let builder = match c.tls {
            SmtpTls::None => builder,
            SmtpTls::StartTls => builder.tls(Tls::Required(tls_parameters(c)?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(tls_parameters(c)?)),
        };
        let mut builder = builder.port(c.port).timeout(Some(SEND_TIMEOUT));
        if let (Some(user), Some(pass)) = (&c.username, &c.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from: c
                .from
                .parse()
                .map_err(|e| format!("smtp_from '{}' is not an address: {e}", c.from))?,
            store,
        })
    }

    async fn send(&self, mail: &QueuedEmail, attempts: i64) -> MailOutcome {
        let to = match mail.to.parse() {
            Ok(to) => to,
            Err(e) => {
                return MailOutcome::Failed {
                    error: format!("'{}' is not an address: {e}", mail.to),
                };
            }
        };
        let message = match Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(format!("<{}@dueflow>", mail.event_id)))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
        {
            Ok(m) => m,
            Err(e) => {
                return MailOutcome::Failed {
                    error: format!("cannot build the mail: {e}"),
                };
            }
        };
        // The transport's own timeout covers only connecting.
        let error = match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Ok(Ok(_)) => return MailOutcome::Sent,
            // A permanent refusal (5xx: no such mailbox, …) will not get better.
            Ok(Err(e)) if e.is_permanent() => {
                return MailOutcome::Failed {
                    error: format!("SMTP: {e}"),
                };
            }
            Ok(Err(e)) => format!("SMTP: {e}"),
            Err(_) => format!(
                "SMTP: the server did not take the mail within {} s",
                SEND_TIMEOUT.as_secs()
            ),
        };
        match BACKOFF_SECS.get(usize::try_from(attempts - 1).unwrap_or(0)) {
            Some(wait) => MailOutcome::Retry {
                at_ms: Utc::now().timestamp_millis() + wait * 1000,
                error,
            },
            None => MailOutcome::Failed {
                error: format!("{error}; gave up after {attempts} attempts"),
            },
        }
    }

    async fn round(&self) -> Result<usize, String> {
        let now = Utc::now();
        let mails = self
            .store
            .claim_emails(now, LEASE_MS, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        let n = mails.len();
        let keys = mails.iter().map(|(m, _)| m.event_id.clone()).collect();
        let mut sending = JoinSet::new();
        for (mail, attempts) in mails {
            let me = self.clone();
            sending.spawn(async move {
                let outcome = me.send(&mail, attempts).await;
                let label = match &outcome {
                    MailOutcome::Sent => "sent",
                    MailOutcome::Retry { .. } => "retry",
                    MailOutcome::Failed { .. } => "failed",
                };
                metrics::counter!("dueflow_mail_attempts_total", "outcome" => label).increment(1);
                if let MailOutcome::Retry { error, .. } | MailOutcome::Failed { error } = &outcome {
                    tracing::warn!(event = %mail.event_id, %error, "mail not sent");
                }
                if let Err(e) = me.store.finish_email(&mail.event_id, &outcome, Utc::now()).await {
                    // The lease runs out and the mail is sent again.
                    tracing::warn!(event = %mail.event_id, error = %e, "cannot record a mail attempt");
                }
                mail.event_id
            });
        }
        let store = &self.store;
        while_leased(
            <Self as Queue>::WHAT,
            sending,
            keys,
            now.timestamp_millis() + LEASE_MS,
            |keys, held, until| async move {
                store
                    .renew_emails(&keys, held, until)
                    .await
                    .map_err(|e| e.to_string())
            },
        )
        .await;
        Ok(n)
    }
}

#[async_trait]
impl Queue for Mailer {
    const WHAT: &'static str = "mails";
    const BATCH: usize = BATCH as usize;

    async fn round(&self) -> Result<usize, String> {
        Mailer::round(self).await
    }

    async fn next_at(&self) -> Result<Option<i64>, String> {
        self.store.next_email_at().await.map_err(|e| e.to_string())
    }
}
