//! The web layer: HTML pages (`ui`) and the JSON API (`api`) over the service layer.
//!
//! Handlers parse input, call one use case on [`App`] and render the result; they never write
//! SQL and never decide permissions. Errors are mapped to a status and a message once, in
//! [`error`].

mod api;
mod assets;
pub mod auth;
mod error;
pub mod export;
pub mod ids;
pub mod limits;
mod locale;
pub(crate) mod ui;

use axum::Router;
use axum::http::Method;
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::service::App;

pub use error::{ApiError, PageError};
pub use locale::{LANG_COOKIE, Lang};

/// The whole application as one router with the default limits, for in-process tests.
pub fn router(app: App) -> Router {
    router_with(app, limits::WebConfig::default())
}

/// The whole application as one router, with the deployment's web settings (`serve`).
pub fn router_with(app: App, config: limits::WebConfig) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(
            |req: &Request<_>| tracing::info_span!("request", method = %req.method(), path = %req.uri().path()),
        )
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(tower_http::LatencyUnit::Micros));
    let mut router = Router::new();
    for (_, path, handler) in route_table() {
        router = router.route(path, handler);
    }
    router
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), auth::resolve))
        .layer(axum::middleware::from_fn(drop_nul_from_page_queries))
        .with_state(app)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // Pages hold personal data and one-time secrets: never kept in a (shared office) browser's
        // cache. Assets set their own caching.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        // Everything comes from this server; no inline script, no framing, forms post only here.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
            ),
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(trace)
        // Outermost: the limits see every request first, and find their state in it.
        .layer(axum::middleware::from_fn(limits::guard))
        .layer(axum::Extension(limits::Guards::new(config)))
}

/// PostgreSQL refuses a NUL in text and no page has a use for one: a page's query string loses
/// its NULs (`%00`) before any handler reads it, as the name search already ignores control
/// characters. The API refuses them instead, naming the parameter (`api::extract`).
async fn drop_nul_from_page_queries(mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if !req.uri().path().starts_with("/api/")
        && let Some(query) = req.uri().query().filter(|q| q.contains("%00"))
    {
        let cleaned = format!("{}?{}", req.uri().path(), query.replace("%00", ""));
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = cleaned.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    next.run(req).await
}

/// Every route of the application: method, path, handler. The router is built from it, and the
/// authorization matrix test walks it, so that no route escapes the test.
fn route_table() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    let mut table = ui::routes();
    table.extend(api::routes());
    table.push((Method::GET, "/assets/{name}", axum::routing::get(assets::asset)));
    table.push((Method::GET, "/healthz", axum::routing::get(healthz)));
    table
}

/// The method and path of every route, for tests and documentation.
pub fn route_list() -> Vec<(Method, &'static str)> {
    route_table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
async fn healthz(axum::extract::State(app): axum::extract::State<App>) -> Response {
    match app.health().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn not_found(lang: Lang, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found_route(uri.path()).into_response()
    } else {
        PageError::not_found(lang).into_response()
    }
}
