//! The login page, signing in with the form, and signing out.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::{App, ServiceError, secrets::random_token};
use crate::web::Lang;
use crate::web::auth::{
    LOGIN_CSRF_COOKIE, MaybeActor, SessionToken, SignedIn, clear_session_cookie, is_tls, safe_next, session_cookie,
};
use crate::web::error::{message_of, render};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Messages,
    chrome: Chrome,
    next: String,
    username: String,
    error: Option<String>,
    login_csrf: String,
    /// The second step: the pending sign-in waiting for its code.
    pending: Option<String>,
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

#[expect(clippy::too_many_arguments, reason = "the page's two steps share one template")]
fn login_page(
    app: &App,
    t: Messages,
    uri: &Uri,
    next: &str,
    username: &str,
    error: Option<String>,
    tls: bool,
    pending: Option<String>,
) -> Response {
    let login_csrf = random_token();
    let page = LoginPage {
        t,
        chrome: Chrome::for_request(app, &t, None, "/login", uri),
        next: next.to_owned(),
        username: username.to_owned(),
        error,
        login_csrf: login_csrf.clone(),
        pending,
    };
    let secure = if tls { "; Secure" } else { "" };
    let cookie = format!("{LOGIN_CSRF_COOKIE}={login_csrf}; Path=/login; HttpOnly; SameSite=Strict{secure}");
    let mut response = render(&page, t);
    if let Ok(v) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Where a new session goes (the password change first, when due), with its cookie.
fn signed_in(session: &crate::service::NewSession, next: &str, tls: bool) -> Response {
    let to = if session.actor.must_change_password { "/account/password" } else { next };
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = session_cookie(&session.token, tls).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn form(
    State(app): State<App>,
    Lang(t): Lang,
    uri: Uri,
    headers: HeaderMap,
    actor: Option<axum::Extension<MaybeActor>>,
    Query(q): Query<NextParam>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if actor.is_some_and(|a| a.0.0.is_some()) {
        return Redirect::to(next).into_response();
    }
    login_page(&app, t, &uri, next, "", None, is_tls(&headers), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(
    State(app): State<App>,
    Lang(t): Lang,
    uri: Uri,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref()).to_owned();
    let address = crate::web::auth::address_of(&ext);
    match app.login(&f.username, &f.password, address).await {
        Ok(session) => signed_in(&session, &next, is_tls(&headers)),
        Err(ServiceError::SecondFactorRequired { pending }) => {
            login_page(&app, t, &uri, &next, &f.username, None, is_tls(&headers), Some(pending))
        }
        Err(e @ ServiceError::LoginFailed) => {
            let (status, message) = message_of(&e, &t);
            let mut response = login_page(&app, t, &uri, &next, &f.username, Some(message), is_tls(&headers), None);
            *response.status_mut() = status;
            response
        }
        Err(e) => {
            let (status, message) = message_of(&e, &t);
            let mut response = login_page(&app, t, &uri, &next, &f.username, Some(message), is_tls(&headers), None);
            *response.status_mut() = if status.is_server_error() { status } else { StatusCode::BAD_REQUEST };
            response
        }
    }
}

#[derive(Deserialize)]
pub struct FactorForm {
    #[serde(default)]
    pending: String,
    #[serde(default)]
    code: String,
    next: Option<String>,
}

/// `POST /login/factor`: the second step, the code of the account's second factor.
pub async fn submit_factor(
    State(app): State<App>,
    Lang(t): Lang,
    uri: Uri,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Form(f): Form<FactorForm>,
) -> Response {
    let next = safe_next(f.next.as_deref()).to_owned();
    let address = crate::web::auth::address_of(&ext);
    match app.complete_login(&f.pending, &f.code, address).await {
        Ok(session) => signed_in(&session, &next, is_tls(&headers)),
        // A wrong or used code: the same step again, while the pending sign-in lasts.
        Err(e @ ServiceError::Invalid { .. }) => {
            let (_, message) = message_of(&e, &t);
            let mut response =
                login_page(&app, t, &uri, &next, "", Some(message), is_tls(&headers), Some(f.pending.clone()));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response
        }
        Err(e) => {
            let (status, message) = message_of(&e, &t);
            let mut response = login_page(&app, t, &uri, &next, "", Some(message), is_tls(&headers), None);
            *response.status_mut() = status;
            response
        }
    }
}

pub async fn logout(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    token: Option<axum::Extension<SessionToken>>,
) -> Response {
    if let Some(axum::Extension(SessionToken(token))) = token
        && let Err(e) = app.logout(&token, &actor).await
    {
        return crate::web::PageError::new(lang, e).into_response();
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = clear_session_cookie().parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
