//! Org units: reading the hierarchy and loading administrative divisions into it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::divisions::Division;
use domain::{OrgCode, OrgLevel};

use crate::escape_like;
use crate::{Context, Store, StoreError, StoreResult, count_and_list, on_pool};

/// An org unit as the store hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub code: OrgCode,
    pub name: String,
    pub level: OrgLevel,
    pub parent: Option<OrgCode>,
    /// Number of units directly below.
    pub child_count: u64,
}

#[derive(sqlx::FromRow)]
struct OrgUnitRow {
    code: String,
    name: String,
    level: String,
    parent_code: Option<String>,
    child_count: i64,
}

impl TryFrom<OrgUnitRow> for OrgUnit {
    type Error = StoreError;
    fn try_from(row: OrgUnitRow) -> Result<Self, Self::Error> {
        let corrupt = |detail: String| StoreError::Corrupt { what: "org unit", detail };
        let code = OrgCode::parse(&row.code).map_err(|e| corrupt(e.to_string()))?;
        let level = OrgLevel::parse(&row.level).ok_or_else(|| corrupt(format!("level `{}`", row.level)))?;
        let parent = row.parent_code.as_deref().map(OrgCode::parse).transpose().map_err(|e| corrupt(e.to_string()))?;
        Ok(OrgUnit { code, name: row.name, level, parent, child_count: row.child_count.max(0) as u64 })
    }
}

/// Which part of the hierarchy a listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    /// Units without a parent (the provinces of this installation).
    TopLevel,
    /// The units directly below one unit.
    ChildrenOf(OrgCode),
    /// Every unit below one unit, at any depth (the unit itself excluded).
    Below(OrgCode),
    /// The whole hierarchy.
    Everywhere,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgFilter {
    pub scope: OrgScope,
    pub level: Option<OrgLevel>,
    /// Part of the name, or the start of the code.
    pub text: Option<String>,
}

/// One page of a listing, numbered from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u32,
    pub size: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page { number: 1, size: 50 }
    }
}

impl Page {
    pub(crate) fn offset(self) -> u64 {
        u64::from(self.number.saturating_sub(1)) * u64::from(self.size)
    }
}

/// What an import of divisions did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub read: u64,
    pub inserted: u64,
    pub renamed: u64,
    pub unchanged: u64,
}

const SELECT_UNIT: &str = "SELECT o.code, o.name, o.level, o.parent_code, \
     (SELECT COUNT(*) FROM org_units c WHERE c.parent_code = o.code) AS child_count \
     FROM org_units o";

/// A WHERE clause with `$n` placeholders and its text arguments, in order.
struct Where {
    sql: String,
    args: Vec<String>,
}

impl Where {
    fn new() -> Self {
        Where { sql: String::new(), args: Vec::new() }
    }

    fn and(&mut self, condition: &str, args: &[String]) {
        // Each `?` in `condition` becomes the next `$n`.
        let mut rendered = String::new();
        for (i, part) in condition.split('?').enumerate() {
            if i > 0 {
                self.args.push(args[i - 1].clone());
                rendered.push_str(&format!("${}", self.args.len()));
            }
            rendered.push_str(part);
        }
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.sql.push('(');
        self.sql.push_str(&rendered);
        self.sql.push(')');
    }
}

fn filter_clause(filter: &OrgFilter) -> Where {
    let mut w = Where::new();
    match &filter.scope {
        OrgScope::TopLevel => w.and("o.parent_code IS NULL", &[]),
        OrgScope::ChildrenOf(parent) => w.and("o.parent_code = ?", &[parent.to_string()]),
        OrgScope::Below(root) => {
            let (low, high) = root.path().subtree_range();
            w.and("o.path > ? AND o.path < ?", &[low, high]);
        }
        OrgScope::Everywhere => {}
    }
    if let Some(level) = filter.level {
        w.and("o.level = ?", &[level.as_str().to_owned()]);
    }
    if let Some(text) = filter.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = escape_like(&text.to_lowercase());
        if text.bytes().all(|b| b.is_ascii_alphabetic()) {
            // `bincheng` or `bc`: the start of a reading of the name.
            w.and(
                "o.name_pinyin LIKE ? ESCAPE '\\' OR o.name_initials LIKE ? ESCAPE '\\'",
                &[format!("% {escaped}%"), format!("% {escaped}%")],
            );
        } else {
            w.and(
                "LOWER(o.name) LIKE ? ESCAPE '\\' OR o.code LIKE ? ESCAPE '\\'",
                &[format!("%{escaped}%"), format!("{escaped}%")],
            );
        }
    }
    w
}

impl Store {
    pub async fn org_unit(&self, code: &OrgCode) -> StoreResult<Option<OrgUnit>> {
        let sql = format!("{SELECT_UNIT} WHERE o.code = $1");
        let row: Option<OrgUnitRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(code.as_str())
            .fetch_optional(pool)
            .await)
        .context("loading an org unit")?;
        row.map(OrgUnit::try_from).transpose()
    }

    /// The unit and its ancestors that are on record, from the top down.
    pub async fn org_lineage(&self, code: &OrgCode) -> StoreResult<Vec<OrgUnit>> {
        let lineage = code.lineage();
        let placeholders: Vec<String> = (1..=lineage.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{SELECT_UNIT} WHERE o.code IN ({}) ORDER BY o.path", placeholders.join(", "));
        let rows: Vec<OrgUnitRow> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for c in &lineage {
                q = q.bind(c.as_str());
            }
            q.fetch_all(pool).await
        })
        .context("loading the ancestors of an org unit")?;
        rows.into_iter().map(OrgUnit::try_from).collect()
    }

    /// One page of units matching the filter, ordered by code, and the total number matching.
    pub async fn list_org_units(&self, filter: &OrgFilter, page: Page) -> StoreResult<(Vec<OrgUnit>, u64)> {
        let w = filter_clause(filter);
        let count_sql = format!("SELECT COUNT(*) FROM org_units o{}", w.sql);
        let list_sql = format!("{SELECT_UNIT}{} ORDER BY o.code LIMIT {} OFFSET {}", w.sql, page.size, page.offset());
        let (total, rows): (i64, Vec<OrgUnitRow>) =
            on_pool!(self, pool => count_and_list!(pool, &count_sql, &list_sql, &w.args))
                .context("listing org units")?;
        let units = rows.into_iter().map(OrgUnit::try_from).collect::<StoreResult<_>>()?;
        Ok((units, total.max(0) as u64))
    }

    /// Number of units in a unit's subtree, the unit itself included.
    pub async fn count_subtree(&self, root: &OrgCode) -> StoreResult<u64> {
        let (low, high) = root.path().subtree_range();
        let n: i64 =
            on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM org_units WHERE path >= $1 AND path < $2")
            .bind(&low)
            .bind(&high)
            .fetch_one(pool)
            .await)
            .context("counting a subtree")?;
        Ok(n.max(0) as u64)
    }

    /// Counts of units per level, top level first.
    pub async fn count_by_level(&self) -> StoreResult<Vec<(OrgLevel, u64)>> {
        let rows: Vec<(String, i64)> =
            on_pool!(self, pool => sqlx::query_as("SELECT level, COUNT(*) FROM org_units GROUP BY level")
            .fetch_all(pool)
            .await)
            .context("counting org units")?;
        let mut out: Vec<(OrgLevel, u64)> =
            rows.into_iter().filter_map(|(l, n)| OrgLevel::parse(&l).map(|l| (l, n.max(0) as u64))).collect();
        out.sort();
        Ok(out)
    }

    /// Fills the pinyin keys of units that have none (units on record before the keys existed),
    /// in batches; returns how many were filled.
    pub async fn fill_org_pinyin(&self) -> StoreResult<u64> {
        let mut filled = 0u64;
        loop {
            let batch: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
                "SELECT code, name FROM org_units WHERE name_pinyin = '' LIMIT 5000",
            )
            .fetch_all(pool)
            .await)
            .context("finding units without pinyin")?;
            if batch.is_empty() {
                return Ok(filled);
            }
            on_pool!(self, pool => {
                let mut tx = pool.begin().await.context("starting a pinyin fill")?;
                for (code, name) in &batch {
                    let (pinyin, initials) = domain::pinyin_index::name_keys(name);
                    // A name with no readable character still gets a non-empty key.
                    let pinyin = if pinyin.trim().is_empty() { " ".to_owned() } else { pinyin };
                    sqlx::query("UPDATE org_units SET name_pinyin = $1, name_initials = $2 WHERE code = $3")
                        .bind(pinyin)
                        .bind(initials)
                        .bind(code)
                        .execute(&mut *tx)
                        .await
                        .context("filling pinyin")?;
                }
                tx.commit().await.context("committing a pinyin fill")?;
            });
            filled += batch.len() as u64;
        }
    }

    /// Every code on record, for checking a division file's parents before importing it.
    pub async fn org_codes(&self) -> StoreResult<Vec<String>> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT code FROM org_units").fetch_all(pool).await)
            .context("listing org codes")
    }

    /// Loads divisions (ordered parents first, as `domain::divisions::parse_set` gives them) in
    /// one transaction: new codes are inserted, renamed ones updated, the rest left alone. Units
    /// on record but absent from the input are kept: a file may cover only part of the country.
    pub async fn import_divisions(&self, divisions: &[Division], now: DateTime<Utc>) -> StoreResult<ImportCounts> {
        let mut counts = ImportCounts { read: divisions.len() as u64, ..Default::default() };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting the division import")?;
            let existing: HashMap<String, String> = sqlx::query_as::<_, (String, String)>("SELECT code, name FROM org_units")
                .fetch_all(&mut *tx)
                .await
                .context("reading the org units on record")?
                .into_iter()
                .collect();
            let mut fresh: Vec<&Division> = Vec::new();
            for d in divisions {
                match existing.get(d.code.as_str()) {
                    None => fresh.push(d),
                    Some(name) if *name == d.name => counts.unchanged += 1,
                    Some(_) => {
                        let (pinyin, initials) = domain::pinyin_index::name_keys(&d.name);
                        sqlx::query("UPDATE org_units SET name = $1, updated_at = $2, name_pinyin = $4, name_initials = $5 WHERE code = $3")
                            .bind(&d.name)
                            .bind(now)
                            .bind(d.code.as_str())
                            .bind(pinyin)
                            .bind(initials)
                            .execute(&mut *tx)
                            .await
                            .context("renaming an org unit")?;
                        counts.renamed += 1;
                    }
                }
            }
            // Multi-row INSERTs: row-by-row statements are 50 times slower on SQLite through
            // sqlx. 10 columns x 1,000 rows stays under SQLite's 32,766 bind parameters.
            for chunk in fresh.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO org_units (code, name, level, parent_code, path, province_code, created_at, updated_at, name_pinyin, name_initials) ",
                );
                qb.push_values(chunk, |mut row, d| {
                    let (pinyin, initials) = domain::pinyin_index::name_keys(&d.name);
                    row.push_bind(d.code.as_str())
                        .push_bind(d.name.as_str())
                        .push_bind(d.code.level().as_str())
                        .push_bind(d.code.parent().map(|p| p.to_string()))
                        .push_bind(d.code.path().as_str().to_owned())
                        .push_bind(d.code.province().to_owned())
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(pinyin)
                        .push_bind(initials);
                });
                qb.build().execute(&mut *tx).await.context("inserting org units")?;
                counts.inserted += chunk.len() as u64;
            }
            tx.commit().await.context("committing the division import")?;
        });
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_clause_numbers_placeholders_in_order() {
        let filter = OrgFilter {
            scope: OrgScope::ChildrenOf(OrgCode::parse("3716").unwrap()),
            level: Some(OrgLevel::County),
            text: Some("50%_off".into()),
        };
        let w = filter_clause(&filter);
        assert_eq!(
            w.sql,
            " WHERE (o.parent_code = $1) AND (o.level = $2) AND \
             (LOWER(o.name) LIKE $3 ESCAPE '\\' OR o.code LIKE $4 ESCAPE '\\')"
        );
        assert_eq!(w.args, ["3716", "county", "%50\\%\\_off%", "50\\%\\_off%"]);
    }
}
