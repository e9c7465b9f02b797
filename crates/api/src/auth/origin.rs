//! Cross-site request defence for the session cookie. A browser sends the
//! cookie with requests that other sites' pages make, so a request
//! authenticated by it may change something, or open a live stream, only
//! when it comes from this server's own pages: its `Origin` header is this
//! server's origin (`public_url`'s, or else `http://` or `https://` plus the
//! request's own `Host`). Without an `Origin`, `Sec-Fetch-Site: same-origin`
//! is accepted instead (browsers send it, scripts cannot forge it, and a
//! same-origin `EventSource` sends no `Origin`). Bearer tokens are never
//! sent by a browser on its own, so requests carrying one are not checked.

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use url::Url;

use crate::problem::ApiError;

/// Whether a cookie-authenticated request must prove it is same-origin:
/// every method but the safe ones, and every live-stream open.
pub fn needs_check(method: &Method, opens_stream: bool) -> bool {
    opens_stream || !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuse a cookie-authenticated request that does not come from this
/// server's own pages (see the module's note).
pub fn check(parts: &Parts, public_url: Option<&Url>) -> Result<(), ApiError> {
    let Some(origin) = parts.headers.get(header::ORIGIN) else {
        return if fetch_site(&parts.headers) == Some("same-origin") {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this request carries the session cookie but no Origin header, so it may come \
                 from another site: a browser page of this server sends one; other clients \
                 authenticate with 'Authorization: Bearer <token>'"
                    .into(),
            ))
        };
    };
    let origin = origin.to_str().unwrap_or("(not text)");
    let ours = own_origin(parts, public_url, origin);
    if ours.is_some() && normalised(origin) == ours {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "this request carries the session cookie but comes from another site (Origin: {origin}, \
         this server: {}): cross-site requests may not use the cookie; other clients \
         authenticate with 'Authorization: Bearer <token>'",
        ours.as_deref()
            .unwrap_or("unknown, the request has no Host"),
    )))
}

fn fetch_site(headers: &HeaderMap) -> Option<&str> {
    headers.get("sec-fetch-site")?.to_str().ok()
}

/// `scheme://host[:port]` of a URL, lower case, without a default port;
/// `None` for anything but http(s) (`null` included).
fn normalised(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

/// This server's origin: `public_url`'s; without one, the request's `Host`
/// under the scheme the `Origin` names (http or https: the server cannot
/// tell which one its clients reach it by behind a proxy).
fn own_origin(parts: &Parts, public_url: Option<&Url>, origin: &str) -> Option<String> {
    if let Some(url) = public_url {
        return Some(url.origin().ascii_serialization());
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))?;
    let scheme = match origin.split_once("://") {
        Some(("https", _)) => "https",
        _ => "http",
    };
    normalised(&format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut r = Request::post("/api/v1/tasks");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(()).unwrap().into_parts().0
    }

    #[test]
    fn own_pages_pass_and_other_sites_do_not() {
        let host = ("host", "tasks.example:8080");
        let ok = |h: &[(&str, &str)], public: Option<&str>| {
            let public = public.map(|p| Url::parse(p).unwrap());
            check(&parts(h), public.as_ref()).is_ok()
        };
        assert!(ok(&[host, ("origin", "http://tasks.example:8080")], None));
        assert!(ok(&[host, ("origin", "https://TASKS.example:8080")], None));
        assert!(!ok(&[host, ("origin", "http://evil.example")], None));
        assert!(!ok(&[host, ("origin", "null")], None));
        assert!(!ok(&[host], None), "no Origin");
        assert!(ok(&[host, ("sec-fetch-site", "same-origin")], None));
        assert!(!ok(&[host, ("sec-fetch-site", "same-site")], None));
        assert!(
            !ok(
                &[
                    host,
                    ("origin", "http://evil.example"),
                    ("sec-fetch-site", "same-origin")
                ],
                None
            ),
            "the Origin decides when there is one"
        );
        let public = Some("https://tasks.example/app/");
        assert!(ok(&[host, ("origin", "https://tasks.example:443")], public));
        assert!(!ok(&[host, ("origin", "http://tasks.example")], public));
        assert!(
            !ok(&[host, ("origin", "http://tasks.example:8080")], public),
            "public_url fixes the origin whatever the Host"
        );
    }

    #[test]
    fn only_unsafe_methods_and_streams_are_checked() {
        assert!(!needs_check(&Method::GET, false));
        assert!(needs_check(&Method::GET, true));
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(needs_check(&m, false));
        }
    }
}
