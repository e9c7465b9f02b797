//! Rules for webhook endpoints, shared by the API that registers them and
//! the notifier that sends to them: which URLs are acceptable targets,
//! which events one may subscribe to, and the Standard Webhooks secret
//! format (`whsec_` + base64 of the key).

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use url::{Host, Url};

use crate::event::EventType;

pub const SECRET_PREFIX: &str = "whsec_";

/// A secret for a key of random bytes.
pub fn format_secret(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The key inside a secret, or why the secret is not one.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| format!("a webhook secret starts with '{SECRET_PREFIX}'"))?;
    let key = STANDARD
        .decode(b64)
        .map_err(|_| format!("the part after '{SECRET_PREFIX}' must be base64"))?;
    if !(24..=64).contains(&key.len()) {
        return Err("a webhook secret holds 24 to 64 bytes".into());
    }
    Ok(key)
}

/// An event type endpoints may subscribe to, by its short name
/// (`reminder.due`, `task.completed`, …).
pub fn parse_event(name: &str) -> Result<EventType, String> {
    EventType::ALL
        .into_iter()
        .find(|t| t.short() == name)
        .ok_or_else(|| {
            let all: Vec<&str> = EventType::ALL.iter().map(|t| t.short()).collect();
            format!("unknown event '{name}'; use {}", all.join(", "))
        })
}

/// Whether `ip` is on the public internet (not loopback, private,
/// link-local, shared, reserved or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80)
            }
        },
    }
}

/// Parse a webhook target and refuse what its text alone rules out: other
/// schemes, and literal private addresses (names are checked again after
/// DNS resolution on every delivery).
pub fn check_url(text: &str, allow_private: bool) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("'{text}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("a webhook URL starts with http:// or https://".into());
    }
    let literal = match url.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::from([127, 0, 0, 1]))
        }
        Some(Host::Domain(_)) => None,
        None => return Err("a webhook URL names a host".into()),
    };
    match literal {
        Some(ip) if !allow_private && !is_public(ip) => Err(format!(
            "{ip} is a private or loopback address; webhooks only reach public addresses \
             unless the server allows private ones (DUEFLOW_WEBHOOKS_ALLOW_PRIVATE)"
        )),
        _ => Ok(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_private_targets() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(check_url("http://127.0.0.1:9/x", false).is_err());
        assert!(check_url("http://LOCALHOST/x", false).is_err());
        assert!(check_url("http://[::1]/x", false).is_err());
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_url("https://example.com/x", false).is_ok());
        assert!(check_url("ftp://example.com/x", true).is_err());
        assert!(check_url("not a url", true).is_err());
    }

    #[test]
    fn secrets_and_events() {
        let s = format_secret(&[7u8; 24]);
        assert_eq!(secret_key(&s).unwrap(), vec![7u8; 24]);
        assert!(secret_key("whsec_!!").is_err());
        assert!(secret_key("abc").is_err());
        assert_eq!(parse_event("reminder.due"), Ok(EventType::ReminderDue));
        assert!(
            parse_event("reminder.nope")
                .unwrap_err()
                .contains("task.completed")
        );
    }
}
