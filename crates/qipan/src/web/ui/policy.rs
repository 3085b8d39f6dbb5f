//! The security administrator's policy page: the password policy and the second-factor
//! requirement for administrators.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use domain::account::PasswordPolicy;
use serde::Deserialize;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::policy::{PolicyInput, SecurityPolicy};
use crate::service::{Actor, App, ServiceError};
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::{Lang, PageError};

#[derive(Template)]
#[template(path = "admin_policy.html")]
struct PolicyPage {
    t: Messages,
    chrome: Chrome,
    form: PolicyForm,
    saved: bool,
    error: Option<String>,
    ranges: Ranges,
}

struct Ranges {
    min_chars: (usize, usize),
    classes: (usize, usize),
    history: (usize, usize),
    max_age: (u32, u32),
}

const RANGES: Ranges = Ranges {
    min_chars: PasswordPolicy::MIN_CHARS,
    classes: PasswordPolicy::CLASSES,
    history: PasswordPolicy::HISTORY,
    max_age: PasswordPolicy::MAX_AGE,
};

/// The form as typed (kept on an error, so nothing typed is lost).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    min_chars: String,
    #[serde(default)]
    min_classes: String,
    #[serde(default)]
    history: String,
    #[serde(default)]
    max_age_days: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    admin_factor: Option<String>,
}

impl PolicyForm {
    fn of(p: &SecurityPolicy) -> Self {
        PolicyForm {
            min_chars: p.password.min_chars.to_string(),
            min_classes: p.password.min_classes.to_string(),
            history: p.password.history.to_string(),
            max_age_days: p.password.max_age_days.to_string(),
            admin_factor: p.admin_factor_required.then(|| "required".to_owned()),
        }
    }
}

#[derive(Deserialize)]
pub struct PolicyQuery {
    saved: Option<String>,
}

fn page(
    app: &App,
    t: Messages,
    uri: &Uri,
    actor: &Actor,
    form: PolicyForm,
    saved: bool,
    error: Option<String>,
) -> Response {
    let page = PolicyPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/admin/policy", uri),
        form,
        saved,
        error,
        ranges: RANGES,
    };
    render(&page, t)
}

pub async fn show(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(q): Query<PolicyQuery>,
) -> Response {
    match app.security_policy(&actor).await {
        Ok(policy) => page(&app, lang.0, &uri, &actor, PolicyForm::of(&policy), q.saved.is_some(), None),
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

pub async fn save(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Form(form): Form<PolicyForm>,
) -> Response {
    let typed = PolicyInput {
        min_chars: &form.min_chars,
        min_classes: &form.min_classes,
        history: &form.history,
        max_age_days: &form.max_age_days,
        admin_factor_required: form.admin_factor.is_some(),
    };
    let result = app.set_security_policy(&actor, &typed).await;
    match result {
        Ok(()) => Redirect::to("/admin/policy?saved=1").into_response(),
        Err(e @ ServiceError::Invalid { .. }) => {
            let (status, message) = message_of(&e, &lang.0);
            let mut response = page(&app, lang.0, &uri, &actor, form, false, Some(message));
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}
