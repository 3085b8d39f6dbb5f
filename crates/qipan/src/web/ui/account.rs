//! Every account's own page: who am I, my recent sign-ins, and changing my password.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::{Actor, App};
use crate::web::auth::{SignedIn, is_tls, session_cookie};
use crate::web::error::{message_of, render};
use crate::web::{Lang, PageError};

/// An audit entry as the pages show it.
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub org: String,
    pub target: String,
    pub detail: String,
    pub address: String,
}

impl AuditRow {
    pub fn from_stored(s: &store::StoredAudit) -> Self {
        let e = &s.entry;
        AuditRow {
            seq: e.seq,
            at: e.at.with_timezone(&domain::clock::china_standard_time()).format("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.actor_name.clone(),
            action: e.action.clone(),
            org: e.org_code.clone().unwrap_or_default(),
            target: e.target.clone().unwrap_or_default(),
            detail: e.detail.clone(),
            address: e.address.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    t: Messages,
    chrome: Chrome,
    username: String,
    display_name: String,
    unit: String,
    roles: Vec<&'static str>,
    logins: Vec<AuditRow>,
}

pub async fn page(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn) -> Response {
    let t = lang.0;
    let logins = match app.recent_logins(&actor, 20).await {
        Ok(l) => l.iter().map(AuditRow::from_stored).collect(),
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let page = AccountPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/account", &uri),
        username: actor.name.clone(),
        display_name: actor.display_name.clone(),
        unit: format!("{} ({})", actor.org_name, actor.org),
        roles: actor.roles.iter().map(|r| t.role(*r)).collect(),
        logins,
    };
    render(&page, t)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    t: Messages,
    chrome: Chrome,
    forced: bool,
    error: Option<String>,
    /// The policy in force, in words.
    policy: String,
    min_chars: usize,
}

/// The password policy in force as the password page states it.
async fn policy_words(app: &App, t: &Messages) -> (String, usize) {
    let p = app.password_policy().await.unwrap_or_default();
    let words = t.fmt(
        "password.policy",
        &[
            ("min", &p.min_chars.to_string()),
            ("classes", &p.min_classes.to_string()),
            ("history", &p.history.to_string()),
        ],
    );
    (words, p.min_chars)
}

pub async fn password_form(State(app): State<App>, Lang(t): Lang, uri: Uri, SignedIn(actor): SignedIn) -> Response {
    let (policy, min_chars) = policy_words(&app, &t).await;
    let page = PasswordPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/account", &uri),
        forced: actor.must_change_password,
        error: None,
        policy,
        min_chars,
    };
    render(&page, t)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn password_submit(
    State(app): State<App>,
    Lang(t): Lang,
    uri: Uri,
    headers: axum::http::HeaderMap,
    SignedIn(actor): SignedIn,
    Form(f): Form<PasswordForm>,
) -> Response {
    match app.change_own_password(&actor, &f.current, &f.new, &f.confirm).await {
        Ok(session) => {
            let mut response = Redirect::to("/account?changed=1").into_response();
            if let Ok(v) = session_cookie(&session.token, is_tls(&headers)).parse() {
                response.headers_mut().append(axum::http::header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => {
            let (status, message) = message_of(&e, &t);
            let (policy, min_chars) = policy_words(&app, &t).await;
            let page = PasswordPage {
                t,
                chrome: Chrome::for_request(&app, &t, Some(&actor), "/account", &uri),
                forced: actor.must_change_password,
                error: Some(message),
                policy,
                min_chars,
            };
            let mut response = render(&page, t);
            *response.status_mut() = status;
            response
        }
    }
}

// --- the second factor -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "factor.html")]
struct FactorPage {
    t: Messages,
    chrome: Chrome,
    /// `None`: no factor; `Some((enrolment, confirmed))`.
    factor: Option<(crate::service::factors::Enrolment, bool)>,
    /// Shown once, right after the confirmation.
    recovery: Vec<String>,
    error: Option<String>,
}

async fn factor_page(
    app: &App,
    t: Messages,
    uri: &Uri,
    actor: &Actor,
    recovery: Vec<String>,
    error: Option<String>,
) -> Response {
    match app.own_factor(actor).await {
        Ok(factor) => {
            let chrome = Chrome::for_request(app, &t, Some(actor), "/account", uri);
            let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
            let mut response = render(&FactorPage { t, chrome, factor, recovery, error }, t);
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(Lang(t), e).into_response(),
    }
}

/// `GET /account/factor`: the account's second factor, or its enrolment.
pub async fn factor(State(app): State<App>, Lang(t): Lang, uri: Uri, SignedIn(actor): SignedIn) -> Response {
    factor_page(&app, t, &uri, &actor, Vec::new(), None).await
}

#[derive(Deserialize)]
pub struct FactorForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
}

/// `POST /account/factor`: `begin` an enrolment, or `confirm` it with a first code.
pub async fn factor_submit(
    State(app): State<App>,
    Lang(t): Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Form(f): Form<FactorForm>,
) -> Response {
    let result = match f.action.as_str() {
        "begin" => app.begin_factor(&actor).await.map(|_| Vec::new()),
        "confirm" => app.confirm_factor(&actor, &f.code).await,
        other => Err(crate::service::ServiceError::invalid("field.action", "rule.choice", other)),
    };
    match result {
        Ok(recovery) => factor_page(&app, t, &uri, &actor, recovery, None).await,
        Err(e @ crate::service::ServiceError::Invalid { .. }) => {
            let (_, message) = message_of(&e, &t);
            factor_page(&app, t, &uri, &actor, Vec::new(), Some(message)).await
        }
        Err(e) => PageError::new(Lang(t), e).into_response(),
    }
}
