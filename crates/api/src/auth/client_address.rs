//! The address a request comes from, as the login limiter counts it. The
//! peer of the connection, unless that peer is one of the configured
//! trusted proxies: then the right-most address in `X-Forwarded-For` (or,
//! without that header, in `Forwarded`) that is not itself a trusted proxy.
//! Anyone can write those headers, so they are read only from a proxy the
//! operator named.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
pub use ipnet::IpNet;

use crate::problem::ApiError;
use crate::state::AppState;

/// The client's address (see the module's note).
pub struct ClientAddress(pub IpAddr);

/// Parse the `trusted_proxies` setting: addresses or CIDR ranges,
/// separated by commas.
pub fn parse_trusted_proxies(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("'{s}' is not an IP address or CIDR range like 10.0.0.0/8"))
        })
        .collect()
}

/// One hop of a forwarding header: `192.0.2.1`, `192.0.2.1:4711`,
/// `[2001:db8::1]:4711` or `2001:db8::1`, quoted or not.
fn hop(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// The hops a request passed, left (client) to right (the last proxy);
/// `None` for a hop that names no address (`unknown`, obfuscated).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.iter().flat_map(|v| v.split(',')).map(hop).collect();
    }
    values("forwarded")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| hop(v))
        })
        .collect()
}

/// The client's address behind `peer`, given the trusted proxies.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let trusts = |a: &IpAddr| trusted.iter().any(|n| n.contains(&a.to_canonical()));
    let mut client = peer.to_canonical();
    if !trusts(&client) {
        return client;
    }
    for hop in forwarded_hops(headers).into_iter().rev() {
        // A hop without an address ends what can be known.
        let Some(hop) = hop else { break };
        client = hop.to_canonical();
        if !trusts(&client) {
            break;
        }
    }
    client
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| ApiError::Internal("the connection's address is unknown".into()))?;
        Ok(ClientAddress(client_address(
            peer.ip(),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_a_trusted_proxy() {
        let trusted = parse_trusted_proxies("10.0.0.0/8, 192.0.2.7").unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.5, 10.1.1.1")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_address(ip("192.0.2.7"), &h, &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_address(ip("198.51.100.1"), &h, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(client_address(ip("10.0.0.1"), &h, &[]), ip("10.0.0.1"));
    }

    #[test]
    fn a_forged_left_part_is_ignored() {
        let trusted = parse_trusted_proxies("10.0.0.1").unwrap();
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "203.0.113.5"),
        ]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn reads_forwarded_when_there_is_no_x_forwarded_for() {
        let trusted = parse_trusted_proxies("10.0.0.1").unwrap();
        let h = headers(&[(
            "forwarded",
            r#"for=192.0.2.60;proto=https, For="[2001:db8:cafe::17]:4711";by=10.0.0.1"#,
        )]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "for=192.0.2.60, for=unknown")]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn bad_settings_are_named() {
        let e = parse_trusted_proxies("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(e.contains("'proxy.local'"), "{e}");
        assert!(parse_trusted_proxies("").unwrap().is_empty());
    }
}
