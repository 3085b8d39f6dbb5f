//! Which language a request is answered in: the remembered choice (a cookie), else zh-CN.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::i18n::{Locale, Messages};

pub const LANG_COOKIE: &str = "qipan_lang";

/// The messages of the request's language.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Messages);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang(locale_of(parts).messages()))
    }
}

pub(crate) fn locale_of(parts: &Parts) -> Locale {
    locale_of_headers(&parts.headers)
}

pub(crate) fn locale_of_headers(headers: &axum::http::HeaderMap) -> Locale {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANG_COOKIE)
        .and_then(|(_, value)| Locale::from_tag(value))
        .unwrap_or_default()
}
