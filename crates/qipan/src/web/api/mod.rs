//! The JSON API under `/api/v1`. Its field names are a public contract that department systems
//! code against: change them only by adding, never by renaming. `openapi.json` describes it.

mod openapi;
mod org_units;

use axum::Router;
use axum::routing::get;

use crate::service::App;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/org-units", get(org_units::list))
        .route("/org-units/{code}", get(org_units::one))
}
