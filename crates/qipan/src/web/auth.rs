//! Who is asking: the session cookie or a department's bearer token is resolved once per
//! request by [`resolve`], which also enforces CSRF on every state-changing request made with a
//! session. Handlers then take [`SignedIn`] (pages: anonymous visitors are sent to the login
//! page) or [`ApiActor`] (API: 401 JSON); what the actor may do is decided in the service layer.

use std::net::SocketAddr;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use crate::service::{Actor, App, ServiceError, Via};
use crate::web::{ApiError, Lang, PageError};

pub const SESSION_COOKIE: &str = "qipan_session";
pub const LOGIN_CSRF_COOKIE: &str = "qipan_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";
/// Largest form body the CSRF check reads (forms here are small; uploads will have their own).
const MAX_FORM_BYTES: usize = 1 << 20;

/// What an error page needs to draw the signed-in layout, for the request being handled.
#[derive(Clone)]
pub struct RequestContext {
    pub actor: Option<Actor>,
    pub uri: axum::http::Uri,
    pub app: App,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// The context of the request being handled on this task, if any.
pub fn current_context() -> Option<RequestContext> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The resolved actor, if any, in the request's extensions.
#[derive(Debug, Clone)]
pub struct MaybeActor(pub Option<Actor>);

/// The session token of the request, for logout.
#[derive(Debug, Clone)]
pub struct SessionToken(pub String);

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The client's address for the audit log: as the limits middleware worked it out (behind a
/// trusted proxy, the forwarded client), else the peer.
pub fn address_of(parts_ext: &axum::http::Extensions) -> Option<String> {
    match parts_ext.get::<crate::web::limits::ClientAddress>() {
        Some(crate::web::limits::ClientAddress(ip)) => ip.map(|ip| ip.to_string()),
        None => parts_ext.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip().to_string()),
    }
}

/// Whether the request came over TLS (directly or through a proxy that says so): cookies get
/// `Secure` then.
pub fn is_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub fn session_cookie(token: &str, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn forbidden_csrf(api: bool, lang: Lang) -> Response {
    let err = ServiceError::Forbidden { capability: "csrf" };
    if api { ApiError(err).into_response() } else { PageError::new(lang, err).into_response() }
}

/// Constant-time comparison, so that a token cannot be guessed byte by byte from timings.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Middleware: resolves the actor and checks CSRF.
pub async fn resolve(State(app): State<App>, request: Request, next: Next) -> Response {
    // Health checks and static files need no one, and must answer even when the database
    // does not.
    let path = request.uri().path();
    if path == "/healthz" || path.starts_with("/assets/") {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let api = parts.uri.path().starts_with("/api/");
    let lang = Lang(crate::web::locale::locale_of(&parts).messages());
    let address = address_of(&parts.extensions);
    let mut body = Some(body);

    let authorization = parts.headers.get(header::AUTHORIZATION);
    let bearer = authorization.and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_owned);
    // Credentials that are given are the ones used: an Authorization header that is not a bearer
    // token is refused, never passed over for a session cookie sent beside it.
    if api && authorization.is_some() && bearer.is_none() {
        return ApiError(ServiceError::Unauthenticated).into_response();
    }
    let mut clear_cookie = false;
    let actor = if let Some(token) = bearer {
        match app.token_actor(token.trim(), address.clone()).await {
            Ok(Some(actor)) => Some(actor),
            Ok(None) => return ApiError(ServiceError::Unauthenticated).into_response(),
            Err(e) => return ApiError(e).into_response(),
        }
    } else if let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) {
        match app.session_actor(&token, address.clone()).await {
            Ok(Some(actor)) => {
                parts.extensions.insert(SessionToken(token));
                Some(actor)
            }
            Ok(None) => {
                clear_cookie = true;
                None
            }
            Err(e) => return if api { ApiError(e).into_response() } else { PageError::new(lang, e).into_response() },
        }
    } else {
        None
    };

    if is_unsafe(&parts.method) {
        let expected: Option<String> = match actor.as_ref().map(|a| &a.via) {
            Some(Via::Session { csrf }) => Some(csrf.clone()),
            // Bearer tokens are not sent by browsers on their own: no CSRF risk.
            Some(_) => None,
            // Signing in: the login form carries a token matching its own cookie; the JSON
            // endpoint needs a JSON body, which a cross-site form cannot send.
            None if matches!(parts.uri.path(), "/login" | "/login/factor") => {
                match cookie(&parts.headers, LOGIN_CSRF_COOKIE) {
                    Some(token) if !token.is_empty() => Some(token.to_owned()),
                    // No form was loaded from here: a forged sign-in.
                    _ => return forbidden_csrf(api, lang),
                }
            }
            None => None,
        };
        if let Some(expected) = expected {
            let mut presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let is_form = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if presented.is_none() && is_form {
                let bytes = match to_bytes(body.take().expect("body present"), MAX_FORM_BYTES).await {
                    Ok(b) => b,
                    Err(_) => {
                        let err = ServiceError::invalid("field.form", "rule.form_size", "");
                        let mut response =
                            if api { ApiError(err).into_response() } else { PageError::new(lang, err).into_response() };
                        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                        return response;
                    }
                };
                presented = form_field(&bytes, CSRF_FIELD);
                body = Some(Body::from(bytes));
            }
            if !presented.is_some_and(|p| same(&p, &expected)) {
                if let Some(actor) = &actor {
                    let detail =
                        json!({"capability": "csrf", "method": parts.method.as_str(), "path": parts.uri.path()});
                    if let Err(e) = app.audit(actor, "access.denied", Some(&actor.org), None, detail).await {
                        tracing::error!(error = %e, "cannot audit a CSRF refusal");
                    }
                }
                return forbidden_csrf(api, lang);
            }
        }
        if api && actor.is_none() && !(parts.method == Method::POST && parts.uri.path() == "/api/v1/session") {
            return ApiError(ServiceError::Unauthenticated).into_response();
        }
    }

    // An account runs a bounded number of exports at once; the place is held until the file
    // has been sent.
    let mut export_slot = None;
    if let (Some(actor), Some(guards)) = (&actor, parts.extensions.get::<std::sync::Arc<crate::web::limits::Guards>>())
        && parts.method == Method::GET
        && crate::web::limits::is_export(parts.uri.path())
    {
        match guards.exports.take(&actor.name) {
            Some(slot) => export_slot = Some(slot),
            None => return crate::web::limits::refusal(api, lang, ServiceError::TooManyExports, 10),
        }
    }

    let here = parts.uri.clone();
    parts.extensions.insert(MaybeActor(actor.clone()));
    let request = Request::from_parts(parts, body.take().unwrap_or_else(Body::empty));
    let context = RequestContext { actor, uri: here, app: app.clone() };
    let mut response = CURRENT.scope(context, next.run(request)).await;
    if let Some(slot) = export_slot {
        response = crate::web::limits::hold_until_sent(response, slot);
    }
    if clear_cookie
        && !response.headers().contains_key(header::SET_COOKIE)
        && let Ok(v) = clear_session_cookie().parse()
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A signed-in actor for a page. Anonymous visitors are redirected to the login page (and
/// back afterwards); an account that must change its password is sent to do so first.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Actor);

impl FromRequestParts<App> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &App) -> Result<Self, Self::Rejection> {
        let actor = parts.extensions.get::<MaybeActor>().and_then(|m| m.0.clone());
        let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        match actor {
            // Department tokens are for the API only: no pages.
            Some(Actor { via: Via::Token { .. }, .. }) => {
                Err(ApiError(ServiceError::Forbidden { capability: "ui" }).into_response())
            }
            None => {
                let to = if here == "/" {
                    "/login".to_owned()
                } else {
                    format!("/login?next={}", super::ui::percent_encode(here))
                };
                Err(Redirect::to(&to).into_response())
            }
            Some(a) if a.must_change_password && !matches!(parts.uri.path(), "/account/password" | "/logout") => {
                Err(Redirect::to("/account/password").into_response())
            }
            Some(a) if a.must_enrol_factor && !matches!(parts.uri.path(), "/account/factor" | "/logout") => {
                Err(Redirect::to("/account/factor").into_response())
            }
            Some(a) => Ok(SignedIn(a)),
        }
    }
}

/// An authenticated actor for the API: a session (with CSRF on writes) or a bearer token.
#[derive(Debug, Clone)]
pub struct ApiActor(pub Actor);

impl FromRequestParts<App> for ApiActor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &App) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<MaybeActor>().and_then(|m| m.0.clone()) {
            None => Err(ApiError(ServiceError::Unauthenticated).into_response()),
            Some(a) if a.must_change_password => Err(ApiError(ServiceError::PasswordChangeRequired).into_response()),
            Some(a) if a.must_enrol_factor => Err(ApiError(ServiceError::FactorEnrolmentRequired).into_response()),
            Some(a) => Ok(ApiActor(a)),
        }
    }
}

/// Whether a redirect target is a local path (never off the site). Browsers drop tabs and
/// newlines and read `\\` as `/`, so `/\t/evil.example` would leave the site: anything but
/// plain printable characters is refused.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n[1..].starts_with(['/', '\\'])
                && !n.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            n
        }
        _ => "/",
    }
}
