//! Supervision pages (监管平台): live monitoring with drill-down, the items behind a count,
//! performance with trend and ranking charts, bulk reminders, the printable quarterly bulletin,
//! and supervision orders (督办).
//!
//! Charts are SVG drawn here on the server and inlined in the page, with presentation attributes
//! only (the Content-Security-Policy forbids inline styles and scripts), each beside a table of
//! its numbers: see docs/decisions/0009-supervision.md.

use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use chrono::{DateTime, Utc};
use domain::clock::china_standard_time;
use store::OrgUnit;

use crate::i18n::Messages;
use crate::service::App;

mod bulletin;
mod charts;
mod monitor;
mod orders;
mod performance;

use bulletin::bulletin;
use domain::supervision::OrderAction;
use monitor::{items, monitor};
use orders::{OrderCase, create_order, new_order, orders};

use super::case::{action, show};
use performance::{performance, remind};

/// The routes of this part: method, path, handler.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    vec![
        (Method::GET, "/supervision", get(monitor)),
        (Method::GET, "/supervision/items", get(items)),
        (Method::GET, "/supervision/performance", get(performance)),
        (Method::POST, "/supervision/reminders", post(remind)),
        (Method::GET, "/supervision/bulletin", get(bulletin)),
        (Method::GET, "/orders", get(orders)),
        (Method::GET, "/orders/new", get(new_order)),
        (Method::POST, "/orders", post(create_order)),
        (Method::GET, "/orders/{id}", get(show::<OrderCase>)),
        (Method::POST, "/orders/{id}/answer", action::<OrderCase>(OrderAction::Answer)),
        (Method::POST, "/orders/{id}/close", action::<OrderCase>(OrderAction::Close)),
        (Method::POST, "/orders/{id}/reopen", action::<OrderCase>(OrderAction::Reopen)),
    ]
}

// ---- small helpers --------------------------------------------------------------------------------

fn local(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.with_timezone(&china_standard_time()).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

fn field(body: &[u8], name: &str) -> String {
    url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// A rate as the tables and charts print it.
pub fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".to_owned())
}

/// A data-quality score (findings per 1,000 records) as printed.
pub fn per_mille(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".to_owned())
}

/// A unit as the pages name it.
pub struct UnitView {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub has_children: bool,
}

impl UnitView {
    fn new(u: &OrgUnit, t: &Messages) -> Self {
        UnitView {
            code: u.code.to_string(),
            name: u.name.clone(),
            level: t.level(u.level),
            has_children: u.child_count > 0,
        }
    }
}
