//! Mapping service errors to HTTP, once.
//!
//! | error              | status | message                                  |
//! |--------------------|--------|------------------------------------------|
//! | `NotFound`         | 404    | what was not found, and its key          |
//! | `Invalid`          | 400    | the field and the rule it breaks         |
//! | `Import`, `ReadFile` | 400  | the file and line                        |
//! | `Store` (internal) | 500    | a generic message; the cause is logged   |
//!
//! Pages answer in the request's language; the API answers an RFC 9457 problem document
//! (`application/problem+json`, see [`problem`]) with an English message, and 422 for `invalid`.

use std::any::Any;

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::Lang;
use super::ui::Chrome;
use crate::i18n::{Locale, Messages};
use crate::service::ServiceError;

/// Status, machine code and human message of an error, in the given language.
fn describe(err: &ServiceError, t: &Messages) -> (StatusCode, &'static str, String, Option<&'static str>) {
    match err {
        ServiceError::NotFound { what, key } => (
            StatusCode::NOT_FOUND,
            "not_found",
            t.fmt("error.not_found_thing", &[("what", t.get(what)), ("key", key)]),
            None,
        ),
        ServiceError::Invalid { field, rule, value } => (
            StatusCode::BAD_REQUEST,
            "invalid",
            t.fmt("error.invalid_field", &[("field", t.get(field)), ("rule", t.get(rule)), ("value", value)]),
            Some(*field),
        ),
        ServiceError::Import(e) => (StatusCode::BAD_REQUEST, "invalid_file", e.to_string(), None),
        ServiceError::ReadFile { .. } => (StatusCode::BAD_REQUEST, "invalid_file", err.to_string(), None),
        ServiceError::Unauthenticated => {
            (StatusCode::UNAUTHORIZED, "unauthenticated", t.get("error.unauthenticated").to_owned(), None)
        }
        ServiceError::LoginFailed => {
            (StatusCode::UNAUTHORIZED, "login_failed", t.get("error.login_failed").to_owned(), None)
        }
        ServiceError::SecondFactorRequired { .. } => {
            (StatusCode::UNAUTHORIZED, "second_factor_required", t.get("error.second_factor_required").to_owned(), None)
        }
        ServiceError::TokenExpired { on } => {
            (StatusCode::UNAUTHORIZED, "token_expired", t.fmt("error.token_expired", &[("on", on)]), None)
        }
        ServiceError::Forbidden { .. } => {
            (StatusCode::FORBIDDEN, "forbidden", t.get("error.forbidden").to_owned(), None)
        }
        ServiceError::FactorEnrolmentRequired => {
            (StatusCode::FORBIDDEN, "factor_required", t.get("error.factor_required").to_owned(), None)
        }
        ServiceError::PasswordChangeRequired => (
            StatusCode::FORBIDDEN,
            "password_change_required",
            t.get("error.password_change_required").to_owned(),
            None,
        ),
        ServiceError::Stale { what } => {
            (StatusCode::CONFLICT, "stale", t.fmt("error.stale", &[("what", t.get(what))]), None)
        }
        ServiceError::Duplicate { field, value } => (
            StatusCode::CONFLICT,
            "duplicate",
            t.fmt("error.duplicate", &[("field", t.get(field)), ("value", value)]),
            Some(*field),
        ),
        ServiceError::Conflict { rule } => (StatusCode::CONFLICT, "conflict", t.get(rule).to_owned(), None),
        ServiceError::TooManyRequests { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            t.fmt("error.rate_limited", &[("seconds", &retry_after.to_string())]),
            None,
        ),
        ServiceError::TooManyExports => {
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited", t.get("error.exports_busy").to_owned(), None)
        }
        ServiceError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", t.get("error.busy").to_owned(), None),
        ServiceError::TimedOut => {
            (StatusCode::SERVICE_UNAVAILABLE, "timeout", t.get("error.timed_out").to_owned(), None)
        }
        e @ (ServiceError::AuditKeyMissing
        | ServiceError::DataKeys(_)
        | ServiceError::Backup(_)
        | ServiceError::Store(_)) => {
            tracing::error!(error = %e, "internal error");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal", t.get("error.internal").to_owned(), None)
        }
    }
}

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e)
    }
}

/// One field at fault in a refused request.
#[derive(Debug, Clone, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub rule: String,
    pub message: String,
}

/// The error envelope of every 4xx and 5xx answer of the API: an RFC 9457 problem document
/// (`application/problem+json`) whose extension members are the machine code, the fields at
/// fault, and `error` — the envelope of v1's first clients, kept so that none of them breaks.
#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
    errors: Vec<FieldProblem>,
    error: ApiErrorDetail,
}

#[derive(Serialize)]
struct ApiErrorDetail {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

/// The media type of every API error.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An API error answer: status, code, message, and the fields at fault (the first one is also
/// `error.field`).
pub fn problem(status: StatusCode, code: &'static str, detail: String, errors: Vec<FieldProblem>) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let field = errors.first().map(|e| e.field.clone());
    let body = Problem {
        kind: format!("urn:qipan:problem:{code}"),
        title,
        status: status.as_u16(),
        detail: detail.clone(),
        code,
        errors,
        error: ApiErrorDetail { code, message: detail, field },
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(PROBLEM_JSON));
    response
}

fn api_body(
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    rule: Option<&'static str>,
) -> Response {
    // A well-formed request that breaks a rule is 422 in the API (pages answer 400 with the form).
    let status = if code == "invalid" { StatusCode::UNPROCESSABLE_ENTITY } else { status };
    // API field names are the parameter names, not catalogue keys.
    let errors = field
        .map(|f| FieldProblem {
            field: f.strip_prefix("field.").unwrap_or(f).to_owned(),
            rule: rule.map(|r| r.strip_prefix("rule.").unwrap_or(r)).unwrap_or("").to_owned(),
            message: message.clone(),
        })
        .into_iter()
        .collect();
    problem(status, code, message, errors)
}

impl ApiError {
    pub fn not_found_route(path: &str) -> Self {
        ApiError(ServiceError::NotFound { what: "thing.api_route", key: path.to_owned() })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = describe(&self.0, &Locale::En.messages());
        let rule = match &self.0 {
            ServiceError::Invalid { rule, .. } => Some(*rule),
            _ => None,
        };
        api_body(status, code, message, field, rule)
    }
}

/// An error answered as a page in the site's style.
#[derive(Debug)]
pub struct PageError {
    pub err: ServiceError,
    pub t: Messages,
}

impl PageError {
    pub fn new(Lang(t): Lang, err: ServiceError) -> Self {
        PageError { err, t }
    }

    pub fn not_found(Lang(t): Lang) -> Self {
        PageError { err: ServiceError::NotFound { what: "thing.page", key: String::new() }, t }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Messages,
    chrome: Chrome,
    status: u16,
    title: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let t = self.t;
        match &self.err {
            ServiceError::Unauthenticated => return axum::response::Redirect::to("/login").into_response(),
            ServiceError::PasswordChangeRequired => {
                return axum::response::Redirect::to("/account/password").into_response();
            }
            _ => {}
        }
        let (status, _, message, _) = describe(&self.err, &t);
        let title = match status {
            StatusCode::NOT_FOUND => t.get("error.not_found_title"),
            StatusCode::BAD_REQUEST => t.get("error.bad_request_title"),
            StatusCode::FORBIDDEN => t.get("error.forbidden_title"),
            StatusCode::CONFLICT => t.get("error.conflict_title"),
            StatusCode::UNAUTHORIZED => t.get("error.unauthenticated_title"),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => t.get("error.busy_title"),
            _ => t.get("error.internal_title"),
        };
        let message = match &self.err {
            ServiceError::NotFound { what: "thing.page", .. } => t.get("error.page_not_found").to_owned(),
            _ => message,
        };
        render_error(status, t, title, message)
    }
}

fn render_error(status: StatusCode, t: Messages, title: &'static str, message: String) -> Response {
    // Inside a request, an error page keeps the signed-in layout (navigation, sign-out).
    let chrome = super::auth::current_context()
        .map(|c| Chrome::for_request(&c.app, &t, c.actor.as_ref(), "", &c.uri))
        .unwrap_or_else(Chrome::bare);
    let page = ErrorPage { t, chrome, status: status.as_u16(), title, message };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the error page");
            (status, title).into_response()
        }
    }
}

/// A handler panicked: log it and answer 500 without detail (the panic message may hold data).
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    let t = Locale::ZhCn.messages();
    render_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        t,
        t.get("error.internal_title"),
        t.get("error.internal").to_owned(),
    )
}

/// The status and message of an error, for handlers that show it inside a form.
pub fn message_of(err: &ServiceError, t: &Messages) -> (StatusCode, String) {
    let (status, _, message, _) = describe(err, t);
    (status, message)
}

/// Renders a template, or answers 500 (logged) if rendering fails.
pub fn render(template: &impl Template, t: Messages) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render a page");
            render_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                t,
                t.get("error.internal_title"),
                t.get("error.internal").to_owned(),
            )
        }
    }
}
