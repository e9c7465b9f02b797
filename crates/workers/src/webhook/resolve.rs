//! Keeps webhooks off private networks after DNS: every address a target
//! name resolves to is checked on every new connection (an answer can
//! change between deliveries), unless the operator allowed private ones.

use std::net::SocketAddr;

use dueflow_domain::webhook::is_public;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub struct GuardedResolver {
    pub allow_private: bool,
}

/// A target refused after DNS. Its text is what the delivery log shows: the
/// addresses a name resolves to inside the operator's network are the
/// operator's to see (in the process log), not the endpoint owner's.
#[derive(Debug)]
pub struct NotAllowed;

impl std::fmt::Display for NotAllowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("target not allowed")
    }
}

impl std::error::Error for NotAllowed {}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                tracing::warn!(%host, ip = %bad.ip(), "webhook target resolves to an address that is not global; refused");
                return Err(NotAllowed.into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}
