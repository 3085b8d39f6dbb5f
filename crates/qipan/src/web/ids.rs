//! The page extractor of typed ids (the API's is `api::extract::Path`): the path's `{id}` as the
//! id it is, or the "no such page" answer before the handler runs.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use domain::ids::TypedId;

use crate::service::ServiceError;
use crate::web::{Lang, PageError};

/// The `{id}` of the path, typed.
#[derive(Debug, Clone, Copy)]
pub struct PathId<T>(pub T);

impl<T, S> FromRequestParts<S> for PathId<T>
where
    T: TypedId + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let raw = params.iter().find(|(name, _)| *name == "id").map(|(_, v)| v.to_owned()).unwrap_or_default();
        match T::parse(&raw) {
            Some(id) => Ok(PathId(id)),
            None => {
                let lang = Lang(crate::web::locale::locale_of(parts).messages());
                Err(PageError::new(lang, ServiceError::NotFound { what: T::WHAT, key: raw }).into_response())
            }
        }
    }
}
