//! Supervision pages (监管平台).

use axum::http::Method;
use axum::routing::MethodRouter;

use crate::service::App;

/// The routes of this part: method, path, handler.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    Vec::new()
}
