//! HTML pages: the shell every page shares, and the pages themselves.

mod account;
mod admin;
mod audit;
mod case;
mod codes;
mod exchange;
mod home;
mod lang;
mod login;
mod orgs;
mod persons;
mod policy;
mod quality;
mod reports;
mod roster;
mod supervision;

use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use domain::authz::Capability;

use crate::i18n::Messages;
use crate::service::{Actor, App};

/// The pages: method, path, handler. The router and the authorization matrix test both read
/// this table.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    let mut table = vec![
        (Method::GET, "/", get(home::page)),
        (Method::POST, "/worklist/mark", post(home::mark)),
        (Method::GET, "/login", get(login::form)),
        (Method::POST, "/login", post(login::submit)),
        (Method::POST, "/login/factor", post(login::submit_factor)),
        (Method::POST, "/logout", post(login::logout)),
        (Method::GET, "/lang", get(lang::switch)),
        (Method::GET, "/orgs", get(orgs::browser)),
        (Method::GET, "/orgs/search", get(orgs::search_fragment)),
        (Method::GET, "/orgs/tree", get(orgs::tree_fragment)),
        (Method::GET, "/orgs/suggest", get(orgs::suggest)),
        (Method::GET, "/orgs/{code}", get(orgs::detail)),
        (Method::GET, "/persons", get(persons::search)),
        (Method::GET, "/persons/new", get(persons::new_form)),
        (Method::GET, "/persons/roster", get(roster::page)),
        (Method::GET, "/persons/roster.csv", get(roster::csv)),
        (Method::GET, "/persons/roster.xlsx", get(roster::xlsx)),
        (Method::POST, "/persons", post(persons::create)),
        (Method::GET, "/persons/check-id", get(persons::check_id)),
        (Method::POST, "/persons/glass", post(persons::glass)),
        (Method::GET, "/persons/{id}", get(persons::record)),
        (Method::GET, "/persons/{id}/edit", get(persons::edit_form)),
        (Method::POST, "/persons/{id}/edit", post(persons::edit)),
        (Method::POST, "/persons/{id}/end", post(persons::end)),
        (Method::POST, "/persons/{id}/entries", post(persons::add_entry)),
        (Method::POST, "/persons/{id}/pregnancies/{pregnancy}/close", post(persons::close_pregnancy)),
        (Method::GET, "/quality", get(quality::page)),
        (Method::GET, "/exchange", get(exchange::list)),
        (Method::POST, "/exchange", post(exchange::create)),
        (Method::GET, "/exchange/new", get(exchange::new_form)),
        (Method::GET, "/exchange/stats", get(exchange::stats)),
        (Method::GET, "/exchange/notifications", get(exchange::notifications)),
        (Method::GET, "/exchange/{id}", get(case::show::<exchange::ItemCase>)),
        (Method::POST, "/exchange/{id}/submit", case::action::<exchange::ItemCase>(exchange::Act::Submit)),
        (Method::POST, "/exchange/{id}/answer", case::action::<exchange::ItemCase>(exchange::Act::Answer)),
        (Method::POST, "/exchange/{id}/remind", case::action::<exchange::ItemCase>(exchange::Act::Remind)),
        (Method::POST, "/exchange/{id}/facts", case::action::<exchange::ItemCase>(exchange::Act::Facts)),
        (Method::POST, "/exchange/{id}/withdraw", case::action::<exchange::ItemCase>(exchange::Act::Withdraw)),
        (Method::GET, "/admin/calendar", get(exchange::calendar)),
        (Method::POST, "/admin/calendar", post(exchange::calendar_change)),
        (Method::GET, "/account", get(account::page)),
        (Method::GET, "/account/password", get(account::password_form)),
        (Method::POST, "/account/password", post(account::password_submit)),
        (Method::GET, "/account/factor", get(account::factor)),
        (Method::POST, "/account/factor", post(account::factor_submit)),
        (Method::GET, "/admin/accounts", get(admin::list)),
        (Method::GET, "/admin/accounts/new", get(admin::new_form)),
        (Method::POST, "/admin/accounts", post(admin::create)),
        (Method::GET, "/admin/accounts/{id}", get(admin::detail)),
        (Method::POST, "/admin/accounts/{id}", post(admin::act)),
        (Method::GET, "/admin/policy", get(policy::show)),
        (Method::POST, "/admin/policy", post(policy::save)),
        (Method::GET, "/admin/tokens", get(admin::tokens)),
        (Method::POST, "/admin/tokens", post(admin::create_token)),
        (Method::POST, "/admin/tokens/{id}/revoke", post(admin::revoke_token)),
        (Method::GET, "/admin/codes", get(codes::page)),
        (Method::POST, "/admin/codes", post(codes::change)),
        (Method::GET, "/audit", get(audit::search)),
        (Method::GET, "/audit/export.csv", get(audit::export)),
    ];
    table.extend(supervision::routes());
    table.extend(reports::routes());
    table
}

/// One entry of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The signed-in account as the layout shows it.
#[derive(Debug, Clone)]
pub struct ChromeUser {
    pub display_name: String,
    pub unit: String,
    pub csrf: String,
}

/// What the shared layout needs: navigation for the actor's capabilities, the current address
/// (the language switch returns there), the CSRF token for forms and htmx, the clock banner.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub here: String,
    pub fixed_clock: Option<String>,
    pub user: Option<ChromeUser>,
    pub nav: Vec<NavItem>,
}

impl Chrome {
    /// A layout without navigation (error pages rendered before anyone is known).
    pub fn bare() -> Self {
        Chrome { here: "/".to_owned(), fixed_clock: None, user: None, nav: Vec::new() }
    }

    pub fn for_request(
        app: &App,
        t: &Messages,
        actor: Option<&Actor>,
        active: &'static str,
        uri: &axum::http::Uri,
    ) -> Self {
        let here = uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".to_owned());
        let fixed_clock = match app.clock {
            domain::Clock::Fixed(at) => {
                Some(at.with_timezone(&domain::clock::china_standard_time()).format("%Y-%m-%d %H:%M").to_string())
            }
            domain::Clock::System => None,
        };
        let mut nav = Vec::new();
        if let Some(actor) = actor.filter(|a| !a.must_change_password) {
            let mut item = |href: &'static str, key: &'static str| {
                nav.push(NavItem { href, label: t.get(key), current: active == href });
            };
            item("/", "nav.home");
            if actor.can(Capability::PersonRead) {
                item("/persons", "nav.persons");
            }
            if actor.can(Capability::PersonRead) {
                item("/quality", "nav.quality");
            }
            if actor.can(Capability::PersonRead) || actor.can(Capability::ExchangeAnswer) {
                item("/exchange", "nav.exchange");
            }
            if actor.can(Capability::Supervise) || actor.can(Capability::ExchangeAnswer) {
                item("/supervision", "nav.supervision");
            } else if actor.can(Capability::PersonWrite) {
                // Townships and villages answer the orders addressed to them.
                item("/orders", "nav.orders");
            }
            if actor.can(Capability::PersonRead) {
                item("/reports", "nav.reports");
            }
            if actor.can(Capability::OrgRead) {
                item("/orgs", "nav.orgs");
            }
            if actor.can(Capability::AccountAdmin) || actor.can(Capability::SecurityAdmin) {
                item("/admin/accounts", "nav.accounts");
            }
            if actor.can(Capability::OrgAdmin) {
                item("/admin/codes", "nav.codes");
                item("/admin/calendar", "nav.calendar");
            }
            if actor.can(Capability::SecurityAdmin) {
                item("/admin/tokens", "nav.tokens");
                item("/admin/policy", "nav.policy");
            }
            if actor.can(Capability::AuditRead) {
                item("/audit", "nav.audit");
            }
        }
        let user = actor.map(|a| ChromeUser {
            display_name: a.display_name.clone(),
            unit: a.org_name.clone(),
            csrf: a.csrf().unwrap_or_default().to_owned(),
        });
        Chrome { here, fixed_clock, user, nav }
    }

    /// The language-switch link for a locale tag, returning to this page.
    pub fn lang_href(&self, tag: &str) -> String {
        format!("/lang?set={tag}&next={}", percent_encode(&self.here))
    }

    /// The CSRF token for forms (empty when no one is signed in).
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map(|u| u.csrf.as_str()).unwrap_or("")
    }

    /// `{"X-CSRF-Token": "…"}` for htmx's `hx-headers`, so that htmx requests carry the token.
    pub fn htmx_headers(&self) -> String {
        let token = self.user.as_ref().map(|u| u.csrf.as_str()).unwrap_or("");
        serde_json::json!({ "X-CSRF-Token": token }).to_string()
    }
}

/// Percent-encodes everything outside the unreserved set and `/`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
