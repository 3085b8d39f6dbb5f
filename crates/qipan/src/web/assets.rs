//! Static assets, embedded in the binary at pinned versions: no CDN, no internet.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Name, media type, bytes and caching of each asset. htmx 2.0.11 comes from the npm package
/// `htmx.org` (BSD-2-Clause); its file name carries the version, so it is cached for a year.
const ASSETS: &[(&str, &str, &[u8], &str)] = &[
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/htmx-2.0.11.min.js"),
        "public, max-age=31536000, immutable",
    ),
    ("qipan.css", "text/css; charset=utf-8", include_bytes!("../../assets/qipan.css"), "public, max-age=300"),
    ("qipan.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/qipan.js"), "public, max-age=300"),
];

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, ..)| *n == name) {
        Some((_, mime, body, cache)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, *cache)], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}
