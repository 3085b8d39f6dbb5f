//! The home page: what this installation holds.

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use domain::authz::Capability;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::App;
use crate::web::auth::SignedIn;
use crate::web::error::render;
use crate::web::{Lang, PageError};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: Messages,
    chrome: Chrome,
    counts: Option<Vec<(&'static str, u64)>>,
    engine: &'static str,
    roles: Vec<&'static str>,
    unit: String,
}

pub async fn page(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn) -> Response {
    let t = lang.0;
    let counts = if actor.can(Capability::OrgRead) {
        match app.org_counts_by_level(&actor).await {
            Ok(c) => Some(c.into_iter().map(|(level, n)| (t.level(level), n)).collect()),
            Err(e) => return PageError::new(lang, e).into_response(),
        }
    } else {
        None
    };
    let page = HomePage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/", &uri),
        counts,
        engine: app.store.engine().as_str(),
        roles: actor.roles.iter().map(|r| t.role(*r)).collect(),
        unit: format!("{} ({})", actor.org_name, actor.org),
    };
    render(&page, t)
}
