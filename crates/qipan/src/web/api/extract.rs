//! The API's extractors: axum's `Json`, `Query` and `Path`, with their rejections answered in the
//! API's error envelope (never axum's plain text), one status per kind of mistake:
//!
//! | mistake                                     | status | code                     |
//! |---------------------------------------------|--------|--------------------------|
//! | a body without `Content-Type: application/json` | 415 | `unsupported_media_type` |
//! | a body that is not JSON                     | 400    | `malformed`              |
//! | JSON of the wrong shape, a query parameter of the wrong type | 422 | `invalid` (with the field) |
//! | a query parameter holding a NUL character   | 422    | `invalid` (with the field)  |
//! | a path segment that names nothing           | 404    | `not_found`              |

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::web::error::{FieldProblem, problem};

/// A refused request, answered in the envelope.
#[derive(Debug)]
pub struct Rejected {
    status: StatusCode,
    code: &'static str,
    detail: String,
    field: Option<String>,
    rule: &'static str,
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        let errors = self
            .field
            .map(|field| FieldProblem { field, rule: self.rule.into(), message: self.detail.clone() })
            .into_iter()
            .collect();
        problem(self.status, self.code, self.detail, errors)
    }
}

/// The field a serde error names: `items[0].name: invalid type…` → `name`; `missing field
/// `name`` → `name`.
fn field_of(text: &str) -> (Option<String>, String) {
    let (path, message) = match text.split_once(": ") {
        Some((path, message)) if !path.contains(' ') => (path, message),
        _ => (".", text),
    };
    let from_path = path.rsplit('.').next().map(|s| s.split('[').next().unwrap_or(s)).filter(|s| !s.is_empty());
    let missing = message.split('`').nth(1).filter(|_| message.starts_with("missing field"));
    let field = from_path.or(missing).map(str::to_owned);
    (field, message.to_owned())
}

fn after<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.split_once(prefix).map(|(_, rest)| rest).unwrap_or(text)
}

/// `axum::Json`, rejected in the envelope; also a response, like axum's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Rejected;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(&req) {
            return Err(Rejected {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                detail: "send the body as JSON, with Content-Type: application/json".into(),
                field: None,
                rule: "type",
            });
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(e) => {
                return Err(Rejected {
                    status: StatusCode::BAD_REQUEST,
                    code: "malformed",
                    detail: format!("the body cannot be read: {}", e.body_text()),
                    field: None,
                    rule: "type",
                });
            }
        };
        // No text column of either engine holds a NUL (PostgreSQL refuses one outright): a
        // value carrying one is refused here, named, before anything is written.
        if let Some(field) = field_with_nul(&bytes) {
            return Err(Rejected {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                detail: format!("{field}: must not contain a NUL character"),
                field: Some(field),
                rule: "characters",
            });
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Rejected {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                detail: "send the body as JSON, with Content-Type: application/json".into(),
                field: None,
                rule: "type",
            }),
            Err(JsonRejection::JsonDataError(e)) => {
                let (field, message) = field_of(after(&e.body_text(), "target type: "));
                Err(Rejected {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "invalid",
                    detail: message,
                    field,
                    rule: "type",
                })
            }
            Err(JsonRejection::JsonSyntaxError(e)) => Err(Rejected {
                status: StatusCode::BAD_REQUEST,
                code: "malformed",
                detail: format!("the body is not JSON: {}", after(&e.body_text(), "JSON body: ")),
                field: None,
                rule: "type",
            }),
            Err(e) => Err(Rejected {
                status: StatusCode::BAD_REQUEST,
                code: "malformed",
                detail: format!("the body cannot be read: {}", e.body_text()),
                field: None,
                rule: "type",
            }),
        }
    }
}

/// `application/json`, or a `+json` type, as axum's own extractor accepts.
fn json_content_type(req: &Request) -> bool {
    let Some(value) = req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The top-level field of a JSON body whose text (key or value, at any depth) holds a NUL.
/// Valid JSON can only carry one as the escape `\u0000`, so most bodies are passed at a glance.
fn field_with_nul(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    fn holds_nul(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(holds_nul),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
            _ => false,
        }
    }
    match serde_json::from_slice::<serde_json::Value>(bytes).ok()? {
        serde_json::Value::Object(map) => {
            map.iter().find(|(k, v)| k.contains('\0') || holds_nul(v)).map(|(k, _)| k.replace('\0', "\\u0000"))
        }
        other if holds_nul(&other) => Some("body".to_owned()),
        _ => None,
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query`, rejected in the envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // No text column of either engine holds a NUL (PostgreSQL refuses one outright), so a
        // parameter carrying one can match nothing: refused here, named, before any query runs.
        let query = parts.uri.query().unwrap_or_default().as_bytes();
        if let Some((field, _)) = url::form_urlencoded::parse(query).find(|(_, v)| v.contains('\0')) {
            return Err(Rejected {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                detail: format!("{field}: must not contain a NUL character"),
                field: Some(field.into_owned()),
                rule: "characters",
            });
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                let (field, message) = field_of(after(&e.body_text(), "query string: "));
                Err(Rejected {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "invalid",
                    detail: message,
                    field,
                    rule: "type",
                })
            }
            Err(e) => Err(Rejected {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                detail: e.body_text(),
                field: None,
                rule: "type",
            }),
        }
    }
}

/// `axum::extract::Path`: a segment that does not parse names nothing, so it is 404.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e @ PathRejection::FailedToDeserializePathParams(_)) => Err(Rejected {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                detail: format!("nothing is found at {}: {}", parts.uri.path(), e.body_text()),
                field: None,
                rule: "type",
            }),
            Err(e) => Err(Rejected {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "internal",
                detail: e.body_text(),
                field: None,
                rule: "type",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn the_field_at_fault_is_read_from_serdes_message() {
        assert_eq!(field_of("page: invalid digit found in string").0.as_deref(), Some("page"));
        assert_eq!(field_of("items[0].name: invalid type: integer").0.as_deref(), Some("name"));
        assert_eq!(field_of("missing field `name` at line 1 column 2").0.as_deref(), Some("name"));
        assert_eq!(field_of("invalid type: map, expected a string at line 1").0, None);
    }
}
