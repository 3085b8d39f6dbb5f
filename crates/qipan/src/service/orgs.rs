//! Browsing the organisation hierarchy.

use domain::{OrgCode, OrgLevel};
use store::{OrgFilter, OrgUnit, Page};

use domain::authz::Capability;

use super::{Actor, App, ServiceError, ServiceResult};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;
pub const MAX_QUERY_CHARS: usize = 50;

/// A request for org units, as it arrives from a form or the API: raw text, checked by
/// [`OrgQuery::parse`] into a filter and a page.
#[derive(Debug, Clone, Default)]
pub struct RawOrgQuery<'a> {
    pub parent: Option<&'a str>,
    pub level: Option<&'a str>,
    pub q: Option<&'a str>,
    pub page: Option<&'a str>,
    pub per_page: Option<&'a str>,
}

/// A checked request for org units.
///
/// Scope: with `parent` alone, the units directly below it; with `parent` and a search text or
/// level, every unit below it at any depth; without `parent`, the top level — or, with a search
/// text or level, the whole hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgQuery {
    pub parent: Option<OrgCode>,
    pub level: Option<OrgLevel>,
    pub text: Option<String>,
    pub page: Page,
}

fn none_if_blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn parse_number(field: &'static str, raw: Option<&str>, default: u32, max: u32) -> ServiceResult<u32> {
    match none_if_blank(raw) {
        None => Ok(default),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ServiceError::invalid(field, if max == u32::MAX { "rule.page" } else { "rule.per_page" }, s)),
        },
    }
}

impl OrgQuery {
    pub fn parse(raw: RawOrgQuery<'_>) -> ServiceResult<OrgQuery> {
        let parent = none_if_blank(raw.parent)
            .map(|s| OrgCode::parse(s).map_err(|_| ServiceError::invalid("field.parent", "rule.org_code", s)))
            .transpose()?;
        let level = none_if_blank(raw.level)
            .map(|s| OrgLevel::parse(s).ok_or_else(|| ServiceError::invalid("field.level", "rule.level", s)))
            .transpose()?;
        let text = none_if_blank(raw.q).map(str::to_owned);
        if let Some(t) = &text
            && t.chars().count() > MAX_QUERY_CHARS
        {
            return Err(ServiceError::invalid("field.q", "rule.q_length", t.clone()));
        }
        let number = parse_number("field.page", raw.page, 1, u32::MAX)?;
        let size = parse_number("field.per_page", raw.per_page, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        Ok(OrgQuery { parent, level, text, page: Page { number, size } })
    }

    fn filter(&self) -> OrgFilter {
        use store::OrgScope;
        let searching = self.text.is_some() || self.level.is_some();
        let scope = match (&self.parent, searching) {
            (None, false) => OrgScope::TopLevel,
            (None, true) => OrgScope::Everywhere,
            (Some(p), false) => OrgScope::ChildrenOf(p.clone()),
            (Some(p), true) => OrgScope::Below(p.clone()),
        };
        OrgFilter { scope, level: self.level, text: self.text.clone() }
    }
}

/// One page of results and the total that matched.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// How many match, over all pages; with `more`, only a lower bound.
    pub total: u64,
    /// More match than `total`: the count stopped there (a person search counts up to
    /// `store::COUNT_CAP`).
    pub more: bool,
    pub page: Page,
    /// The last record of this page, when a page follows: passed back as `after` with the
    /// next page number, that page starts after it (keyset paging) instead of counting rows.
    pub next_after: Option<i64>,
}

impl<T> Listing<T> {
    /// A list whose total is exact.
    pub fn exact(items: Vec<T>, total: u64, page: Page) -> Self {
        Listing { items, total, more: false, page, next_after: None }
    }

    /// The pages known to exist; with `more`, the one after the last full page is reachable too.
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(u64::from(self.page.size)).max(1)
    }

    /// Whether a page follows this one.
    pub fn has_next(&self) -> bool {
        u64::from(self.page.number) < self.page_count()
            || (self.more && self.items.len() as u64 == u64::from(self.page.size))
    }
}

// The hierarchy of administrative divisions is public knowledge: every account that may read
// org units reads all of them (a clerk picks origin areas anywhere in the country).
impl App {
    /// An org unit that must exist (no permission check: for use inside other use cases).
    pub(super) async fn existing_org_unit(&self, code: &OrgCode) -> ServiceResult<OrgUnit> {
        self.store
            .org_unit(code)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "thing.org_unit", key: code.to_string() })
    }

    pub async fn org_unit(&self, actor: &Actor, code: &OrgCode) -> ServiceResult<OrgUnit> {
        self.guard(actor, Capability::OrgRead).await?;
        self.existing_org_unit(code).await
    }

    /// The unit and its ancestors, from the top down.
    pub async fn org_lineage(&self, actor: &Actor, code: &OrgCode) -> ServiceResult<Vec<OrgUnit>> {
        self.guard(actor, Capability::OrgRead).await?;
        Ok(self.store.org_lineage(code).await?)
    }

    pub async fn list_org_units(&self, actor: &Actor, query: &OrgQuery) -> ServiceResult<Listing<OrgUnit>> {
        self.guard(actor, Capability::OrgRead).await?;
        if let Some(parent) = &query.parent {
            // Listing below a unit that does not exist is a mistake worth telling, not an empty list.
            self.existing_org_unit(parent).await?;
        }
        let (items, total) = self.store.list_org_units(&query.filter(), query.page).await?;
        Ok(Listing::exact(items, total, query.page))
    }

    pub async fn org_counts_by_level(&self, actor: &Actor) -> ServiceResult<Vec<(OrgLevel, u64)>> {
        self.guard(actor, Capability::OrgRead).await?;
        Ok(self.store.count_by_level().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_checked_and_name_their_field() {
        let bad = [
            (RawOrgQuery { parent: Some("37x"), ..Default::default() }, "field.parent"),
            (RawOrgQuery { level: Some("galaxy"), ..Default::default() }, "field.level"),
            (RawOrgQuery { page: Some("0"), ..Default::default() }, "field.page"),
            (RawOrgQuery { page: Some("-3"), ..Default::default() }, "field.page"),
            (RawOrgQuery { per_page: Some("501"), ..Default::default() }, "field.per_page"),
        ];
        for (raw, field) in bad {
            match OrgQuery::parse(raw) {
                Err(ServiceError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected {field} to be refused, got {other:?}"),
            }
        }
        let q = OrgQuery::parse(RawOrgQuery { q: Some("  "), ..Default::default() }).unwrap();
        assert_eq!(q.text, None, "a blank search is no search");
        assert_eq!(q.page, Page { number: 1, size: DEFAULT_PAGE_SIZE });
    }
}
