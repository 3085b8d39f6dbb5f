//! The home page: what this installation holds.

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};

use super::Chrome;
use crate::i18n::Messages;
use crate::service::App;
use crate::web::error::render;
use crate::web::{Lang, PageError};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: Messages,
    chrome: Chrome,
    counts: Vec<(&'static str, u64)>,
    engine: &'static str,
}

pub async fn page(State(app): State<App>, lang: Lang, uri: Uri) -> Response {
    let t = lang.0;
    let counts = match app.org_counts_by_level().await {
        Ok(c) => c,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let counts = counts
        .into_iter()
        .map(|(level, n)| (t.level(level), n))
        .collect();
    let page = HomePage {
        t,
        chrome: Chrome::for_request(&app, "home", &uri),
        counts,
        engine: app.store.engine().as_str(),
    };
    render(&page, t)
}
