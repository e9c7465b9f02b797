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

/// IPv4 blocks that are not global unicast: the IANA IPv4 Special-Purpose
/// Address Registry (RFC 6890 and its updates) entries not marked globally
/// reachable, plus multicast (RFC 5771) and the reserved 240/4 with the
/// broadcast address (RFC 1112).
const V4_NOT_GLOBAL: [([u8; 4], u8); 15] = [
    ([0, 0, 0, 0], 8),       // "this network" (RFC 791)
    ([10, 0, 0, 0], 8),      // private (RFC 1918)
    ([100, 64, 0, 0], 10),   // shared address space (RFC 6598)
    ([127, 0, 0, 0], 8),     // loopback (RFC 1122)
    ([169, 254, 0, 0], 16),  // link-local (RFC 3927)
    ([172, 16, 0, 0], 12),   // private (RFC 1918)
    ([192, 0, 0, 0], 24),    // IETF protocol assignments (RFC 6890)
    ([192, 0, 2, 0], 24),    // documentation (RFC 5737)
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast, deprecated (RFC 7526)
    ([192, 168, 0, 0], 16),  // private (RFC 1918)
    ([198, 18, 0, 0], 15),   // benchmarking (RFC 2544)
    ([198, 51, 100, 0], 24), // documentation (RFC 5737)
    ([203, 0, 113, 0], 24),  // documentation (RFC 5737)
    ([224, 0, 0, 0], 4),     // multicast (RFC 5771)
    ([240, 0, 0, 0], 4),     // reserved (RFC 1112), with 255.255.255.255
];

/// IPv6 blocks inside global unicast (2000::/3, RFC 4291) that are not
/// global: the IANA IPv6 Special-Purpose Address Registry entries there not
/// marked globally reachable.
const V6_NOT_GLOBAL: [(u128, u8); 3] = [
    // IETF protocol assignments (RFC 2928): Teredo 2001::/32 (RFC 4380),
    // benchmarking, ORCHID and the rest.
    (0x2001_0000 << 96, 23),
    (0x2001_0db8 << 96, 32), // documentation (RFC 3849)
    (0x3fff << 112, 20),     // documentation (RFC 9637)
];

/// Whether the `bits`-bit address `addr` is in `net`/`len`.
fn in_block(addr: u128, bits: u32, net: u128, len: u8) -> bool {
    (addr ^ net) >> (bits - u32::from(len)) == 0
}

/// Whether `ip` is global unicast, the only kind of address a webhook may
/// reach unless the operator allows private ones. IPv4 embedded in IPv6
/// (IPv4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96` of RFC 6052, 6to4
/// `2002::/16` of RFC 3056) is judged as the IPv4 address it carries;
/// IPv4-compatible, site-local, unique-local, link-local, multicast and
/// everything else outside 2000::/3 is not global.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let a = u128::from(u32::from(v4));
            !V4_NOT_GLOBAL
                .iter()
                .any(|(net, len)| in_block(a, 32, u128::from(u32::from_be_bytes(*net)), *len))
        }
        IpAddr::V6(v6) => {
            let a = u128::from(v6);
            let embedded = |shift: u32| IpAddr::V4(std::net::Ipv4Addr::from((a >> shift) as u32));
            if in_block(a, 128, 0xffff << 32, 96) || in_block(a, 128, 0x0064_ff9b << 96, 96) {
                return is_public(embedded(0));
            }
            if in_block(a, 128, 0x2002 << 112, 16) {
                return is_public(embedded(80));
            }
            in_block(a, 128, 0x2 << 124, 3)
                && !V6_NOT_GLOBAL
                    .iter()
                    .any(|(net, len)| in_block(a, 128, *net, *len))
        }
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
            "{ip} is not a public address (it is private, loopback or reserved); webhooks \
             only reach public addresses unless the server allows private ones \
             (DUEFLOW_WEBHOOKS_ALLOW_PRIVATE)"
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
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::1.1.1.1",
            "::127.0.0.1",
            "::1.1.1.1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "fec0::1",
            "192.0.0.1",
            "192.0.0.170",
            "192.88.99.1",
            "198.18.0.1",
            "203.0.113.9",
            "224.0.0.1",
            "255.255.255.255",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "3fff::1",
            "ff02::1",
            "100::1",
            "::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "192.0.3.1",
            "172.32.0.1",
            "2606:4700::1111",
            "2a00:1450:4001:80b::200e",
            "64:ff9b::101:101",
            "::ffff:1.1.1.1",
            "2002:101:101::1",
        ] {
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
