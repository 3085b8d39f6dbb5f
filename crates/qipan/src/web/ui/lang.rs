//! `GET /lang?set=en&next=/orgs`: remember the chosen language in a cookie and go back.

use axum::extract::Query;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::i18n::Locale;
use crate::web::LANG_COOKIE;
use crate::web::auth::safe_next;

#[derive(Deserialize)]
pub struct LangParams {
    set: Option<String>,
    next: Option<String>,
}

pub async fn switch(Query(params): Query<LangParams>) -> Response {
    let locale = params.set.as_deref().and_then(Locale::from_tag).unwrap_or_default();
    let next = safe_next(params.next.as_deref());
    let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", locale.tag());
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, next.to_owned())]).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/orgs?q=1")), "/orgs?q=1");
        for bad in
            ["//evil.example/", "https://evil.example/", "/\\evil.example", "orgs", "/\t/evil.example", "/\n/x", "/ /x"]
        {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
