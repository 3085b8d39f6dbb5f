//! Administration pages: accounts (system administrator; the security administrator unlocks)
//! and department API tokens (security administrator). Every decision is the service layer's;
//! these handlers parse forms and show outcomes.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use domain::OrgCode;
use domain::authz::{Capability, Role};
use serde::Deserialize;
use store::{Account, Page};

use super::Chrome;
use super::orgs::Pager;
use crate::i18n::Messages;
use crate::service::{AccountAction, AccountForm, Actor, App, DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, ServiceError};
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::ids::PathId;
use crate::web::{Lang, PageError};
use domain::ids::{AccountId, TokenId, TypedId};

const PAGE_SIZE: u32 = 50;

/// The fields of a submitted form, repeated keys kept (role checkboxes).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(body: &Bytes) -> Self {
        Fields(url::form_urlencoded::parse(body).into_owned().collect())
    }
    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// An account as the administration pages show it.
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit: String,
    pub unit_code: String,
    pub roles: Vec<&'static str>,
    pub role_ids: Vec<&'static str>,
    pub state: Vec<&'static str>,
    pub version: i32,
    pub disabled: bool,
    pub locked: bool,
    pub has_factor: bool,
}

impl AccountRow {
    fn new(a: &Account, t: &Messages, now: chrono::DateTime<chrono::Utc>) -> Self {
        let locked = a.locked_until.is_some_and(|u| u > now);
        let mut state = Vec::new();
        if a.disabled {
            state.push(t.get("account.state_disabled"));
        }
        if locked {
            state.push(t.get("account.state_locked"));
        }
        if a.must_change_password {
            state.push(t.get("account.state_must_change"));
        }
        if a.has_factor {
            state.push(t.get("factor.state_on"));
        }
        if state.is_empty() {
            state.push(t.get("account.state_active"));
        }
        AccountRow {
            id: a.id,
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            unit: a.org_name.clone(),
            unit_code: a.org_code.to_string(),
            roles: a.roles.iter().map(|r| t.role(*r)).collect(),
            role_ids: a.roles.iter().map(|r| r.as_str()).collect(),
            state,
            version: a.version,
            disabled: a.disabled,
            locked,
            has_factor: a.has_factor,
        }
    }
}

/// Roles an administrator can grant to a signing-in account, with their names.
fn grantable_roles(t: &Messages) -> Vec<(&'static str, &'static str)> {
    Role::ALL.into_iter().filter(|r| *r != Role::Department).map(|r| (r.as_str(), t.role(r))).collect()
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct ListPage {
    t: Messages,
    chrome: Chrome,
    q: String,
    rows: Vec<AccountRow>,
    pager: Pager,
    can_create: bool,
}

#[derive(Deserialize)]
pub struct ListParams {
    q: Option<String>,
    page: Option<String>,
}

fn page_number(raw: Option<&str>) -> Result<u32, ServiceError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(1),
        Some(s) => {
            s.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| ServiceError::invalid("field.page", "rule.page", s))
        }
    }
}

pub async fn list(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<ListParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let page = Page { number: page_number(p.page.as_deref())?, size: PAGE_SIZE };
        app.list_accounts(&actor, p.q.as_deref(), page).await
    }
    .await;
    let listing = match result {
        Ok(l) => l,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let now = app.clock.now();
    let page = ListPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/admin/accounts", &uri),
        q: p.q.clone().unwrap_or_default(),
        rows: listing.items.iter().map(|a| AccountRow::new(a, &t, now)).collect(),
        pager: Pager::new(&listing, "/admin/accounts", &[("q", p.q.as_deref())]),
        can_create: actor.can(Capability::AccountAdmin),
    };
    render(&page, t)
}

#[derive(Template)]
#[template(path = "admin_account_new.html")]
struct NewPage {
    t: Messages,
    chrome: Chrome,
    username: String,
    display_name: String,
    unit: String,
    error: Option<String>,
}

fn new_page(
    app: &App,
    t: Messages,
    actor: &Actor,
    uri: &Uri,
    fields: Option<&Fields>,
    error: Option<String>,
) -> NewPage {
    NewPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/admin/accounts", uri),
        username: fields.map(|f| f.get("username").to_owned()).unwrap_or_default(),
        display_name: fields.map(|f| f.get("display_name").to_owned()).unwrap_or_default(),
        unit: fields.map(|f| f.get("unit").to_owned()).unwrap_or_else(|| actor.org.to_string()),
        error,
    }
}

pub async fn new_form(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn) -> Response {
    // The form itself reveals nothing, but only administrators who can create should see it.
    if let Err(e) = app.guard(&actor, Capability::AccountAdmin).await {
        return PageError::new(lang, e).into_response();
    }
    render(&new_page(&app, lang.0, &actor, &uri, None, None), lang.0)
}

#[derive(Template)]
#[template(path = "admin_secret.html")]
struct SecretPage {
    t: Messages,
    chrome: Chrome,
    title: &'static str,
    subject: String,
    secret: String,
    back: String,
}

pub async fn create(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn, body: Bytes) -> Response {
    let t = lang.0;
    let fields = Fields::parse(&body);
    let password = fields.get("password");
    let form = AccountForm {
        username: fields.get("username"),
        display_name: fields.get("display_name"),
        unit: fields.get("unit"),
        // The form offers no roles (the security administrator grants them afterwards); a
        // request that carries some anyway is refused by the service.
        roles: fields.all("role"),
        password: (!password.is_empty()).then_some(password),
        must_change: true,
    };
    match app.create_account(&actor, &form).await {
        Ok((id, Some(generated))) => {
            let page = SecretPage {
                t,
                chrome: Chrome::for_request(&app, &t, Some(&actor), "/admin/accounts", &uri),
                title: t.get("account.created"),
                subject: form.username.trim().to_lowercase(),
                secret: generated,
                back: format!("/admin/accounts/{id}"),
            };
            render(&page, t)
        }
        Ok((id, None)) => Redirect::to(&format!("/admin/accounts/{id}?done=create")).into_response(),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Duplicate { .. } | ServiceError::NotFound { .. })) => {
            let (status, message) = message_of(&e, &t);
            let mut response = render(&new_page(&app, t, &actor, &uri, Some(&fields), Some(message)), t);
            *response.status_mut() = if status == StatusCode::NOT_FOUND { StatusCode::BAD_REQUEST } else { status };
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "admin_account.html")]
struct DetailPage {
    t: Messages,
    chrome: Chrome,
    a: AccountRow,
    roles: Vec<(&'static str, &'static str)>,
    can_admin: bool,
    /// The security administrator grants and removes roles.
    can_grant: bool,
    can_unlock: bool,
    done: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct DoneParam {
    done: Option<String>,
}

fn done_message(t: &Messages, done: Option<&str>) -> Option<&'static str> {
    done.map(|_| t.get("account.saved"))
}

pub async fn detail(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<AccountId>,
    Query(d): Query<DoneParam>,
) -> Response {
    let t = lang.0;
    let account = match async { app.account_for_admin(&actor, id.get()).await }.await {
        Ok(a) => a,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let page = DetailPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/admin/accounts", &uri),
        a: AccountRow::new(&account, &t, app.clock.now()),
        roles: grantable_roles(&t),
        can_admin: actor.can(Capability::AccountAdmin),
        can_grant: actor.can(Capability::SecurityAdmin),
        can_unlock: actor.can(Capability::SecurityAdmin),
        done: done_message(&t, d.done.as_deref()),
        error: None,
    };
    render(&page, t)
}

pub async fn act(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<AccountId>,
    body: Bytes,
) -> Response {
    let t = lang.0;
    let fields = Fields::parse(&body);
    let id = id.get();
    let version = fields.get("version").parse::<i32>().unwrap_or(-1);
    let action = match fields.get("action") {
        "disable" => AccountAction::Disable,
        "enable" => AccountAction::Enable,
        "reset_password" => AccountAction::ResetPassword,
        "move" => AccountAction::Move { unit: fields.get("unit") },
        "roles" => AccountAction::SetRoles { roles: fields.all("role") },
        "reset_factor" => AccountAction::ResetFactor,
        "rename" => AccountAction::Rename { display_name: fields.get("display_name") },
        "unlock" => AccountAction::Unlock,
        other => {
            return PageError::new(lang, ServiceError::invalid("field.action", "rule.action", other)).into_response();
        }
    };
    let is_reset = matches!(action, AccountAction::ResetPassword);
    match app.act_on_account(&actor, id, version, action).await {
        Ok(done) => match done.new_password {
            Some(secret) if is_reset => {
                let subject = app.account_for_admin(&actor, id).await.map(|a| a.username).unwrap_or_default();
                let page = SecretPage {
                    t,
                    chrome: Chrome::for_request(&app, &t, Some(&actor), "/admin/accounts", &uri),
                    title: t.get("account.password_reset"),
                    subject,
                    secret,
                    back: format!("/admin/accounts/{id}"),
                };
                render(&page, t)
            }
            _ => Redirect::to(&format!("/admin/accounts/{id}?done=1")).into_response(),
        },
        Err(
            e @ (ServiceError::Invalid { .. }
            | ServiceError::Stale { .. }
            | ServiceError::NotFound { what: "thing.org_unit", .. }),
        ) => {
            let (status, message) = message_of(&e, &t);
            match app.account_for_admin(&actor, id).await {
                Ok(account) => {
                    let page = DetailPage {
                        t,
                        chrome: Chrome::for_request(&app, &t, Some(&actor), "/admin/accounts", &uri),
                        a: AccountRow::new(&account, &t, app.clock.now()),
                        roles: grantable_roles(&t),
                        can_admin: actor.can(Capability::AccountAdmin),
                        can_grant: actor.can(Capability::SecurityAdmin),
                        can_unlock: actor.can(Capability::SecurityAdmin),
                        done: None,
                        error: Some(message),
                    };
                    let mut response = render(&page, t);
                    *response.status_mut() =
                        if status == StatusCode::NOT_FOUND { StatusCode::BAD_REQUEST } else { status };
                    response
                }
                Err(e) => PageError::new(lang, e).into_response(),
            }
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

// --- API tokens -----------------------------------------------------------------------------

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub unit: String,
    pub created: String,
    pub expires: String,
    pub expired: bool,
    pub last_used: String,
    pub revoked: bool,
}

fn cst(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&domain::clock::china_standard_time()).format("%Y-%m-%d %H:%M").to_string()
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    t: Messages,
    chrome: Chrome,
    rows: Vec<TokenRow>,
    unit: String,
    name: String,
    days: String,
    max_days: u32,
    error: Option<String>,
}

async fn tokens_page(
    app: &App,
    lang: Lang,
    uri: &Uri,
    actor: &Actor,
    fields: Option<&Fields>,
    error: Option<String>,
) -> Response {
    let t = lang.0;
    let tokens = match app.list_api_tokens(actor).await {
        Ok(list) => list,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let page = TokensPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/admin/tokens", uri),
        rows: tokens
            .iter()
            .map(|k| TokenRow {
                id: k.id,
                name: k.name.clone(),
                unit: k.org_code.clone(),
                created: cst(k.created_at),
                expires: cst(k.expiry()),
                expired: app.clock.now() >= k.expiry(),
                last_used: k.last_used_at.map(cst).unwrap_or_else(|| t.get("tokens.never_used").to_owned()),
                revoked: k.revoked_at.is_some(),
            })
            .collect(),
        unit: fields.map(|f| f.get("unit").to_owned()).unwrap_or_else(|| actor.org.to_string()),
        name: fields.map(|f| f.get("name").to_owned()).unwrap_or_default(),
        days: fields.map(|f| f.get("days").to_owned()).unwrap_or_else(|| DEFAULT_TOKEN_DAYS.to_string()),
        max_days: MAX_TOKEN_DAYS,
        error,
    };
    render(&page, t)
}

pub async fn tokens(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn) -> Response {
    tokens_page(&app, lang, &uri, &actor, None, None).await
}

pub async fn create_token(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    body: Bytes,
) -> Response {
    let t = lang.0;
    let fields = Fields::parse(&body);
    let result = async {
        let unit = OrgCode::parse(fields.get("unit"))
            .map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", fields.get("unit")))?;
        let days = fields.get("days").trim();
        let days = if days.is_empty() { Ok(DEFAULT_TOKEN_DAYS) } else { days.parse::<u32>() }
            .map_err(|_| ServiceError::invalid("field.token_days", "rule.token_days", days))?;
        app.create_api_token(&actor, fields.get("name"), &unit, days).await
    }
    .await;
    match result {
        Ok((_, secret)) => {
            let page = SecretPage {
                t,
                chrome: Chrome::for_request(&app, &t, Some(&actor), "/admin/tokens", &uri),
                title: t.get("token.created"),
                subject: fields.get("name").trim().to_owned(),
                secret,
                back: "/admin/tokens".to_owned(),
            };
            render(&page, t)
        }
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::NotFound { .. })) => {
            let (_, message) = message_of(&e, &t);
            let mut response = tokens_page(&app, lang, &uri, &actor, Some(&fields), Some(message)).await;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

pub async fn revoke_token(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<TokenId>,
) -> Response {
    let result = async { app.revoke_api_token(&actor, id.get()).await }.await;
    match result {
        Ok(()) => Redirect::to("/admin/tokens").into_response(),
        Err(e) => PageError::new(lang, e).into_response(),
    }
}
