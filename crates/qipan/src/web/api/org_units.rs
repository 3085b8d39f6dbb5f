//! `GET /api/v1/org-units` and `GET /api/v1/org-units/{code}`.

use super::extract::Json;
use axum::extract::State;

use super::extract::{Path, Query};
use domain::OrgCode;
use serde::{Deserialize, Serialize};
use store::OrgUnit;

use crate::service::{App, OrgQuery, RawOrgQuery, ServiceError};
use crate::web::ApiError;
use crate::web::auth::ApiActor;

/// An org unit in the API (the contract: `code`, `name`, `level`, `parent`).
#[derive(Debug, Serialize)]
pub struct OrgUnitView {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub parent: Option<String>,
    pub child_count: u64,
}

impl From<&OrgUnit> for OrgUnitView {
    fn from(u: &OrgUnit) -> Self {
        OrgUnitView {
            code: u.code.to_string(),
            name: u.name.clone(),
            level: u.level.as_str(),
            parent: u.parent.as_ref().map(ToString::to_string),
            child_count: u.child_count,
        }
    }
}

pub type OrgUnitList = super::Paged<OrgUnitView>;

#[derive(Debug, Deserialize)]
pub struct ListParams {
    parent: Option<String>,
    level: Option<String>,
    q: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

pub async fn list(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Query(p): Query<ListParams>,
) -> Result<Json<OrgUnitList>, ApiError> {
    let query = OrgQuery::parse(RawOrgQuery {
        parent: p.parent.as_deref(),
        level: p.level.as_deref(),
        q: p.q.as_deref(),
        page: p.page.as_deref(),
        per_page: p.per_page.as_deref(),
    })?;
    let listing = app.list_org_units(&actor, &query).await?;
    Ok(Json(OrgUnitList::of(&listing, |u| OrgUnitView::from(u))))
}

pub async fn one(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
) -> Result<Json<OrgUnitView>, ApiError> {
    // A code that cannot be one names no unit: 404, like any path that names nothing.
    let code =
        OrgCode::parse(&code).map_err(|_| ServiceError::NotFound { what: "thing.org_unit", key: code.clone() })?;
    let unit = app.org_unit(&actor, &code).await?;
    Ok(Json(OrgUnitView::from(&unit)))
}
