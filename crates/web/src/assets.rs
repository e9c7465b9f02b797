//! The files pages load (stylesheet, scripts, icon, manifest), embedded in
//! the binary. Each is served under a name carrying a hash of its content,
//! so that browsers keep it for good (`immutable`) and a new release is
//! fetched at once; each is gzip-compressed once, at first use, for the
//! clients that accept it.

use std::io::Write as _;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    /// The name pages refer to it by, e.g. `app.css`.
    name: &'static str,
    /// The name it is served under, e.g. `app.1a2b3c4d5e.css`.
    file: String,
    /// `/assets/` and `file`.
    href: String,
    mime: &'static str,
    body: &'static [u8],
    gzip: Vec<u8>,
}

/// Every asset: its name, media type and bytes.
const FILES: [(&str, &str, &[u8]); 5] = [
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "htmx.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/htmx-4.0.1.min.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../assets/icon.svg"),
    ),
    (
        "app.webmanifest",
        "application/manifest+json",
        include_bytes!("../assets/app.webmanifest"),
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, mime, body)| {
            let hash = Sha256::digest(body);
            let hash: String = hash[..5].iter().map(|b| format!("{b:02x}")).collect();
            let file = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            let mut gz = GzEncoder::new(Vec::new(), Compression::best());
            gz.write_all(body).expect("compress in memory");
            Asset {
                name,
                href: format!("/assets/{file}"),
                file,
                mime,
                body,
                gzip: gz.finish().expect("compress in memory"),
            }
        })
        .collect()
});

/// The address of the asset `name` (one of [`FILES`]).
pub fn href(name: &str) -> &'static str {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.href.as_str())
        .unwrap_or_else(|| panic!("no asset is named {name}"))
}

/// `GET /assets/{file}`: an asset by its hashed name, kept for good; or by
/// its plain name (for the manifest's icon), checked again on every use.
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (asset, cache) = if let Some(a) = ASSETS.iter().find(|a| a.file == file) {
        (a, "public, max-age=31536000, immutable")
    } else if let Some(a) = ASSETS.iter().find(|a| a.name == file) {
        (a, "public, no-cache")
    } else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            parts.next().is_some_and(|c| c.trim() == "gzip")
                && !parts.any(|p| p.trim().replace(' ', "") == "q=0")
        });
    let mut res = if gzip {
        let mut res = asset.gzip.clone().into_response();
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        res
    } else {
        asset.body.into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        let css = href("app.css");
        assert!(
            css.starts_with("/assets/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/assets/app.".len() + 10 + ".css".len());
        let files: std::collections::HashSet<_> = ASSETS.iter().map(|a| &a.file).collect();
        assert_eq!(files.len(), FILES.len(), "every asset has its own name");
    }

    #[test]
    fn compressed_copies_hold_the_same_bytes() {
        use std::io::Read as _;
        for a in ASSETS.iter() {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&a.gzip[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, a.body, "{}", a.name);
        }
    }
}
