//! The org browser: a tree that expands level by level, a search by name or code, and a page
//! per unit with its ancestry and the units below it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use domain::{OrgCode, OrgLevel};
use serde::Deserialize;
use store::OrgUnit;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::{Actor, App, Listing, OrgQuery, RawOrgQuery, ServiceError};
use crate::web::auth::SignedIn;
use crate::web::error::render;
use crate::web::{Lang, PageError};

#[derive(Debug, Default, Deserialize)]
pub struct OrgParams {
    parent: Option<String>,
    level: Option<String>,
    q: Option<String>,
    page: Option<String>,
}

impl OrgParams {
    fn raw(&self) -> RawOrgQuery<'_> {
        RawOrgQuery {
            parent: self.parent.as_deref(),
            level: self.level.as_deref(),
            q: self.q.as_deref(),
            page: self.page.as_deref(),
            per_page: None,
        }
    }

    fn is_search(&self) -> bool {
        [&self.q, &self.level].iter().any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()))
    }
}

/// A unit as the pages show it.
pub struct OrgRow {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub child_count: u64,
}

impl OrgRow {
    fn from_unit(u: &OrgUnit, t: &Messages) -> Self {
        OrgRow { code: u.code.to_string(), name: u.name.clone(), level: t.level(u.level), child_count: u.child_count }
    }
}

/// Paging links of a listing, keeping the other query parameters.
pub struct Pager {
    pub page: u32,
    pub pages: u64,
    pub total: u64,
    /// More than `total` match: the count stopped there.
    pub more: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub(super) fn new<T>(listing: &Listing<T>, base: &str, params: &[(&str, Option<&str>)]) -> Self {
        let pages = listing.page_count();
        let page = listing.page.number;
        let href = |n: u32| {
            let mut query: Vec<String> = params
                .iter()
                .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| format!("{k}={}", super::percent_encode(v))))
                .collect();
            query.push(format!("page={n}"));
            format!("{base}?{}", query.join("&"))
        };
        Pager {
            page,
            pages,
            total: listing.total,
            more: listing.more,
            prev: (page > 1).then(|| href(page - 1)),
            // The next page starts after this one's last record when the list knows it.
            next: listing.has_next().then(|| match listing.next_after {
                Some(after) => format!("{}&after={after}", href(page + 1)),
                None => href(page + 1),
            }),
        }
    }
}

#[derive(Template)]
#[template(path = "org_tree.html")]
struct TreeFragment {
    t: Messages,
    units: Vec<OrgRow>,
    /// Units below `parent` beyond those shown, with the page that lists them all.
    more: Option<(u64, String)>,
}

#[derive(Template)]
#[template(path = "org_results.html")]
struct ResultsFragment {
    t: Messages,
    units: Vec<OrgRow>,
    pager: Pager,
    q: String,
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct BrowserPage {
    t: Messages,
    chrome: Chrome,
    q: String,
    level: String,
    levels: Vec<(&'static str, &'static str)>,
    tree: Option<TreeFragment>,
    results: Option<ResultsFragment>,
}

fn level_options(t: &Messages) -> Vec<(&'static str, &'static str)> {
    OrgLevel::ALL.iter().map(|l| (l.as_str(), t.level(*l))).collect()
}

async fn tree(app: &App, actor: &Actor, t: Messages, parent: Option<&str>) -> Result<TreeFragment, ServiceError> {
    let mut query = OrgQuery::parse(RawOrgQuery { parent, per_page: Some("500"), ..Default::default() })?;
    query.level = None;
    query.text = None;
    let listing = app.list_org_units(actor, &query).await?;
    let shown = listing.items.len() as u64;
    let more =
        (listing.total > shown).then(|| (listing.total - shown, format!("/orgs/{}", parent.unwrap_or_default())));
    Ok(TreeFragment { t, units: listing.items.iter().map(|u| OrgRow::from_unit(u, &t)).collect(), more })
}

async fn results(app: &App, actor: &Actor, t: Messages, params: &OrgParams) -> Result<ResultsFragment, ServiceError> {
    let query = OrgQuery::parse(params.raw())?;
    let listing = app.list_org_units(actor, &query).await?;
    let pager = Pager::new(
        &listing,
        "/orgs",
        &[("q", params.q.as_deref()), ("level", params.level.as_deref()), ("parent", params.parent.as_deref())],
    );
    Ok(ResultsFragment {
        t,
        units: listing.items.iter().map(|u| OrgRow::from_unit(u, &t)).collect(),
        pager,
        q: params.q.clone().unwrap_or_default(),
    })
}

/// `GET /orgs`: the tree, or search results when a search text or level is given.
pub async fn browser(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(params): Query<OrgParams>,
) -> Response {
    let t = lang.0;
    let (tree, results) = if params.is_search() {
        match results(&app, &actor, t, &params).await {
            Ok(r) => (None, Some(r)),
            Err(e) => return PageError::new(lang, e).into_response(),
        }
    } else {
        match tree(&app, &actor, t, None).await {
            Ok(f) => (Some(f), None),
            Err(e) => return PageError::new(lang, e).into_response(),
        }
    };
    let page = BrowserPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/orgs", &uri),
        q: params.q.clone().unwrap_or_default(),
        level: params.level.clone().unwrap_or_default(),
        levels: level_options(&t),
        tree,
        results,
    };
    render(&page, t)
}

/// `GET /orgs/search`: the results fragment htmx swaps in as the user types (the tree when the
/// search is cleared).
pub async fn search_fragment(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    Query(params): Query<OrgParams>,
) -> Response {
    let t = lang.0;
    let fragment = if params.is_search() {
        results(&app, &actor, t, &params).await.map(|r| render(&r, t))
    } else {
        tree(&app, &actor, t, None).await.map(|f| render(&f, t))
    };
    fragment.unwrap_or_else(|e| PageError::new(lang, e).into_response())
}

/// `GET /orgs/tree?parent=CODE`: the units directly below one unit, as tree nodes.
pub async fn tree_fragment(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    Query(params): Query<OrgParams>,
) -> Response {
    let t = lang.0;
    match tree(&app, &actor, t, params.parent.as_deref()).await {
        Ok(f) => render(&f, t),
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "org_detail.html")]
struct DetailPage {
    t: Messages,
    chrome: Chrome,
    unit: OrgRow,
    lineage: Vec<OrgRow>,
    children: Vec<OrgRow>,
    pager: Pager,
}

/// `GET /orgs/{code}`: one unit, its ancestry and a page of the units directly below it.
pub async fn detail(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Path(code): Path<String>,
    Query(params): Query<OrgParams>,
) -> Response {
    let t = lang.0;
    let result: Result<DetailPage, ServiceError> = async {
        let code = OrgCode::parse(&code).map_err(|_| ServiceError::invalid("field.code", "rule.org_code", &code))?;
        let unit = app.org_unit(&actor, &code).await?;
        let lineage = app.org_lineage(&actor, &code).await?;
        let query = OrgQuery::parse(RawOrgQuery {
            parent: Some(code.as_str()),
            page: params.page.as_deref(),
            ..Default::default()
        })?;
        let listing = app.list_org_units(&actor, &query).await?;
        let base = format!("/orgs/{code}");
        Ok(DetailPage {
            t,
            chrome: Chrome::for_request(&app, &t, Some(&actor), "/orgs", &uri),
            unit: OrgRow::from_unit(&unit, &t),
            lineage: lineage.iter().filter(|u| u.code != code).map(|u| OrgRow::from_unit(u, &t)).collect(),
            children: listing.items.iter().map(|u| OrgRow::from_unit(u, &t)).collect(),
            pager: Pager::new(&listing, &base, &[]),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page, t),
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "org_suggest.html")]
struct Suggestions {
    units: Vec<OrgRow>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SuggestParams {
    /// The text typed: part of a name, its pinyin or initials, or the start of a code.
    q: Option<String>,
    /// The field being typed into (the page may pass its value under that name instead).
    field: Option<String>,
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

/// `GET /orgs/suggest?q=滨城` (or `bc`, or `371602`): up to 20 matching units as `<option>`s
/// for the datalist of an area field, so that a clerk types a few characters, not a code.
pub async fn suggest(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    Query(p): Query<SuggestParams>,
) -> Response {
    let t = lang.0;
    let typed = p.q.clone().or_else(|| p.field.as_ref().and_then(|f| p.rest.get(f).cloned())).unwrap_or_default();
    let typed = typed.trim().to_owned();
    if typed.is_empty() {
        return render(&Suggestions { units: Vec::new() }, t);
    }
    let result = async {
        let query = OrgQuery::parse(RawOrgQuery { q: Some(&typed), per_page: Some("20"), ..Default::default() })?;
        app.list_org_units(&actor, &query).await
    }
    .await;
    match result {
        Ok(listing) => {
            render(&Suggestions { units: listing.items.iter().map(|u| OrgRow::from_unit(u, &t)).collect() }, t)
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}
