//! `POST /api/v1/session` (sign in with JSON), `GET` (who am I), `DELETE` (sign out).

use super::extract::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::service::{Actor, App};
use crate::web::ApiError;
use crate::web::auth::{ApiActor, SessionToken, clear_session_cookie, is_tls, session_cookie};

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    /// The current code of the account's second factor, when it has one.
    #[serde(default)]
    totp: Option<String>,
}

/// The signed-in account, as the API shows it.
#[derive(Serialize)]
pub struct SessionView {
    pub username: String,
    pub display_name: String,
    pub unit: String,
    pub roles: Vec<&'static str>,
    pub must_change_password: bool,
    /// Send it back as `X-CSRF-Token` with every state-changing request made with this session.
    pub csrf_token: Option<String>,
}

impl From<&Actor> for SessionView {
    fn from(a: &Actor) -> Self {
        SessionView {
            username: a.name.clone(),
            display_name: a.display_name.clone(),
            unit: a.org.to_string(),
            roles: a.roles.iter().map(|r| r.as_str()).collect(),
            must_change_password: a.must_change_password,
            csrf_token: a.csrf().map(str::to_owned),
        }
    }
}

pub async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Json(c): Json<Credentials>,
) -> Result<Response, ApiError> {
    let address = crate::web::auth::address_of(&ext);
    let session = app.login_with_code(&c.username, &c.password, c.totp.as_deref(), address).await?;
    let cookie = session_cookie(&session.token, is_tls(&headers));
    Ok(([(header::SET_COOKIE, cookie)], Json(SessionView::from(&session.actor))).into_response())
}

pub async fn current(ApiActor(actor): ApiActor) -> Json<SessionView> {
    Json(SessionView::from(&actor))
}

pub async fn end(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    token: Option<axum::Extension<SessionToken>>,
) -> Result<Response, ApiError> {
    if let Some(axum::Extension(SessionToken(token))) = token {
        app.logout(&token, &actor).await?;
    }
    Ok(([(header::SET_COOKIE, clear_session_cookie())], axum::http::StatusCode::NO_CONTENT).into_response())
}
