//! `/api/v1/reports`: the list of tables and one table as JSON, CSV or XLSX.

use axum::http::Method;
use axum::routing::MethodRouter;

use crate::service::App;

/// The routes of this part: method, path, handler.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    Vec::new()
}

/// Adds this part's paths and schemas to the OpenAPI document.
pub fn add_openapi(_doc: &mut serde_json::Value) {}
