//! HTML pages: the shell every page shares, the home page, the org browser, the language switch.

mod home;
mod lang;
mod orgs;

use axum::Router;
use axum::routing::get;

use crate::i18n::Messages;
use crate::service::App;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(home::page))
        .route("/orgs", get(orgs::browser))
        .route("/orgs/search", get(orgs::search_fragment))
        .route("/orgs/tree", get(orgs::tree_fragment))
        .route("/orgs/{code}", get(orgs::detail))
        .route("/lang", get(lang::switch))
}

/// What the shared layout needs: the active navigation entry and the current address (the
/// language switch returns there).
#[derive(Debug, Clone)]
pub struct Chrome {
    pub active: &'static str,
    pub here: String,
    pub fixed_clock: Option<String>,
}

impl Chrome {
    pub fn new(_t: Messages, active: &'static str) -> Self {
        Chrome {
            active,
            here: "/".to_owned(),
            fixed_clock: None,
        }
    }

    pub fn for_request(app: &App, active: &'static str, uri: &axum::http::Uri) -> Self {
        let here = uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let fixed_clock = match app.clock {
            domain::Clock::Fixed(at) => Some(
                at.with_timezone(&domain::clock::china_standard_time())
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            ),
            domain::Clock::System => None,
        };
        Chrome {
            active,
            here,
            fixed_clock,
        }
    }

    /// The language-switch link for a locale tag, returning to this page.
    pub fn lang_href(&self, tag: &str) -> String {
        format!("/lang?set={tag}&next={}", percent_encode(&self.here))
    }
}

/// Percent-encodes everything outside the unreserved set and `/`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
