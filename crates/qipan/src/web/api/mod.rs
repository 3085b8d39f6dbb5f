//! The JSON API under `/api/v1`. Its field names are a public contract that department systems
//! code against: change them only by adding, never by renaming. `openapi.json` describes it.

mod case;
pub mod exchange;
mod extract;
mod openapi;
mod org_units;
pub mod persons;
pub mod reports;
mod session;
pub mod supervision;
mod worklist;

use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, post, put};

use store::Page;

use crate::service::{App, Listing, ServiceError};

/// A page number and size.
pub fn parse_page(page: Option<&str>, per_page: Option<&str>) -> Result<Page, ServiceError> {
    let number = match page.map(str::trim).filter(|s| !s.is_empty()) {
        None => 1,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ServiceError::invalid("field.page", "rule.page", s))?,
    };
    let size = match per_page.map(str::trim).filter(|s| !s.is_empty()) {
        None => 50,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ServiceError::invalid("field.per_page", "rule.per_page", s))?,
    };
    Ok(Page { number, size })
}

/// One page of a list, as every list of the API answers it.
#[derive(Debug, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// More match than `total` (the count stopped there).
    pub more: bool,
    pub page: u32,
    pub per_page: u32,
    /// Person lists: pass as `after`, with the next page number, to start that page after this
    /// one's last record (keyset paging).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

impl<T> Paged<T> {
    /// The page a listing holds, each row turned into its JSON.
    pub fn of<U>(listing: &Listing<U>, json: impl FnMut(&U) -> T) -> Paged<T> {
        Paged {
            items: listing.items.iter().map(json).collect(),
            total: listing.total,
            more: listing.more,
            page: listing.page.number,
            per_page: listing.page.size,
            next_after: listing.next_after,
        }
    }
}

pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    let mut table = vec![
        (Method::GET, "/api/v1/openapi.json", get(openapi::document)),
        (Method::GET, "/api/v1/org-units", get(org_units::list)),
        (Method::GET, "/api/v1/org-units/{code}", get(org_units::one)),
        (Method::POST, "/api/v1/session", post(session::create)),
        (Method::GET, "/api/v1/session", get(session::current)),
        (Method::DELETE, "/api/v1/session", delete(session::end)),
        (Method::GET, "/api/v1/persons", get(persons::search)),
        (Method::POST, "/api/v1/persons", post(persons::create)),
        (Method::GET, "/api/v1/persons/{id}", get(persons::one)),
        (Method::PUT, "/api/v1/persons/{id}", put(persons::update)),
        (Method::GET, "/api/v1/persons/{id}/history", get(persons::history)),
        (Method::POST, "/api/v1/persons/{id}/moves", post(persons::end_move)),
        (Method::GET, "/api/v1/persons/{id}/marriages", get(persons::list_entries)),
        (Method::POST, "/api/v1/persons/{id}/marriages", post(persons::add_entry)),
        (Method::GET, "/api/v1/persons/{id}/children", get(persons::list_entries)),
        (Method::POST, "/api/v1/persons/{id}/children", post(persons::add_entry)),
        (Method::GET, "/api/v1/persons/{id}/pregnancies", get(persons::list_entries)),
        (Method::POST, "/api/v1/persons/{id}/pregnancies", post(persons::add_entry)),
        (Method::PUT, "/api/v1/persons/{id}/pregnancies/{pregnancy}", put(persons::close_pregnancy)),
        (Method::GET, "/api/v1/persons/{id}/checks", get(persons::list_entries)),
        (Method::POST, "/api/v1/persons/{id}/checks", post(persons::add_entry)),
        (Method::GET, "/api/v1/persons/{id}/services", get(persons::list_entries)),
        (Method::POST, "/api/v1/persons/{id}/services", post(persons::add_entry)),
        (Method::GET, "/api/v1/persons/{id}/certificates", get(persons::list_entries)),
        (Method::POST, "/api/v1/persons/{id}/certificates", post(persons::add_entry)),
        (Method::GET, "/api/v1/exchange/items", get(exchange::list)),
        (Method::POST, "/api/v1/exchange/items", post(exchange::create)),
        (Method::GET, "/api/v1/exchange/items/{id}", get(exchange::one)),
        (Method::POST, "/api/v1/exchange/items/{id}/submit", post(exchange::submit)),
        (Method::POST, "/api/v1/exchange/items/{id}/receive", post(exchange::receive)),
        (Method::POST, "/api/v1/exchange/items/{id}/answer", post(exchange::answer)),
        (Method::POST, "/api/v1/exchange/items/{id}/remind", post(exchange::remind)),
        (Method::GET, "/api/v1/exchange/stats", get(exchange::stats)),
        (Method::GET, "/api/v1/exchange/ranking", get(exchange::ranking)),
        (Method::GET, "/api/v1/worklist", get(worklist::list)),
        (Method::POST, "/api/v1/worklist/marks", post(worklist::mark)),
    ];
    table.extend(supervision::routes());
    table.extend(reports::routes());
    table
}
