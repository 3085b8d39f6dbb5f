//! The system administrator's code tables page: add, rename, deactivate; a shipped code, or one
//! a record holds, is never deleted.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use domain::codes::CodeTable;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::{App, CodeRequest, ServiceError};
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::{Lang, PageError};

pub struct TableView {
    pub id: &'static str,
    pub title: &'static str,
    /// Code, Chinese label, English label, active, shipped.
    pub items: Vec<(String, String, String, bool, bool)>,
}

#[derive(Template)]
#[template(path = "admin_codes.html")]
struct CodesPage {
    t: Messages,
    chrome: Chrome,
    tables: Vec<TableView>,
    error: Option<String>,
    /// Only the top of the installation changes the code tables; below it the page reads.
    editable: bool,
}

async fn codes_page(
    app: &App,
    lang: Lang,
    uri: &Uri,
    actor: &crate::service::Actor,
    error: Option<String>,
) -> Response {
    let t = lang.0;
    let (book, shipped) = match app.code_tables(actor).await {
        Ok(v) => v,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let tables = CodeTable::ALL
        .into_iter()
        .map(|table| TableView {
            id: table.as_str(),
            title: t.get(&format!("codes.{}", table.as_str())),
            items: book
                .items(table)
                .iter()
                .map(|i| {
                    let is_shipped = shipped.iter().any(|(tb, c, s)| *tb == table && *c == i.code && *s);
                    (i.code.clone(), i.zh.clone(), i.en.clone(), i.active, is_shipped)
                })
                .collect(),
        })
        .collect();
    let chrome = Chrome::for_request(app, &t, Some(actor), "/admin/codes", uri);
    let page = CodesPage { t, chrome, tables, error, editable: actor.at_installation_top() };
    render(&page, t)
}

pub async fn page(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn) -> Response {
    codes_page(&app, lang, &uri, &actor, None).await
}

pub async fn change(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn, body: Bytes) -> Response {
    let field = |name: &str| {
        url::form_urlencoded::parse(&body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
    };
    let (zh, en) = (field("zh"), field("en"));
    let request = match field("action").as_str() {
        "add" => CodeRequest::Add { zh: &zh, en: &en },
        "rename" => CodeRequest::Rename { zh: &zh, en: &en },
        "deactivate" => CodeRequest::Deactivate,
        "activate" => CodeRequest::Activate,
        "delete" => CodeRequest::Delete,
        other => {
            return PageError::new(lang, ServiceError::invalid("field.action", "rule.action", other)).into_response();
        }
    };
    match app.change_code(&actor, &field("table"), &field("code"), request).await {
        Ok(()) => Redirect::to(&format!("/admin/codes#{}", field("table"))).into_response(),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Duplicate { .. } | ServiceError::NotFound { .. })) => {
            let (status, message) = message_of(&e, &lang.0);
            let mut response = codes_page(&app, lang, &uri, &actor, Some(message)).await;
            *response.status_mut() = if status == StatusCode::NOT_FOUND { StatusCode::BAD_REQUEST } else { status };
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}
