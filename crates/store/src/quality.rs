//! Data-quality findings kept as data changes (差错校验, migration 24): a trigger queues every
//! record whose checked fields change; [`Store::refresh_quality`] replaces the findings of the
//! queued records with what the caller's rules say, re-derives the duplicate rule (重复管理) for
//! the ID numbers they carry or carried, and moves the per-unit counts in the same transaction.
//! Readers get an index range of a unit, never a scan of the subtree's records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::persons::{PERSON_COLUMNS, all_opened};
use crate::{Context, Person, Store, StoreResult, on_pool, push_list};

/// The rule that spans records: the same ID number managed in two units.
pub const DUPLICATE_RULE: &str = "quality.duplicate_management";

/// One finding as the page lists it, with the record's name and the unit that must fix it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QualityRow {
    pub person_id: i64,
    pub rule: String,
    pub detail: String,
    pub name: String,
    pub unit: String,
    pub unit_name: String,
}

/// What one refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QualityRefresh {
    /// Records taken from the queue and checked.
    pub checked: u64,
    /// Findings written for them (their own and their duplicate groups').
    pub written: u64,
}

/// A finding about to be written.
struct NewFinding {
    person_id: i64,
    rule: String,
    detail: String,
    path: String,
    id_index: Option<String>,
}

impl Store {
    /// Takes up to `limit` records from the queue and replaces their findings with `check`'s
    /// (`check` sees each record that is not removed, unsealed; it names the per-record rules,
    /// never the duplicate rule, which is derived here from the ID numbers' blind index).
    /// One transaction; the first statement takes the refresh lock, so two refreshes never
    /// move the same counts.
    pub async fn refresh_quality<F>(&self, limit: u32, check: F) -> StoreResult<QualityRefresh>
    where
        F: Fn(&Person) -> Vec<(&'static str, String)>,
    {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a quality refresh")?;
            sqlx::query("UPDATE quality_state SET refreshes = refreshes + 1 WHERE id = 1")
                .execute(&mut *tx).await.context("taking the quality lock")?;
            let ids: Vec<i64> = sqlx::query_scalar("SELECT person_id FROM quality_dirty ORDER BY person_id LIMIT $1")
                .bind(i64::from(limit)).fetch_all(&mut *tx).await.context("reading the quality queue")?;
            if ids.is_empty() {
                tx.commit().await.context("ending a quality refresh")?;
                return Ok(QualityRefresh::default());
            }
            let mut qb = sqlx::QueryBuilder::new("DELETE FROM quality_dirty WHERE person_id IN ");
            push_list(&mut qb, &ids);
            qb.build().execute(&mut *tx).await.context("taking records from the quality queue")?;

            let mut qb = sqlx::QueryBuilder::new(format!(
                "SELECT {PERSON_COLUMNS} FROM persons p JOIN org_units o ON o.code = p.managing_unit WHERE p.id IN "
            ));
            push_list(&mut qb, &ids);
            let persons: Vec<Person> = qb.build_query_as().fetch_all(&mut *tx).await.context("reading records to check")?;
            let persons = all_opened(persons)?;
            let mut qb = sqlx::QueryBuilder::new("SELECT id, managing_path, id_index FROM persons WHERE id IN ");
            push_list(&mut qb, &ids);
            let places: Vec<(i64, String, Option<String>)> =
                qb.build_query_as().fetch_all(&mut *tx).await.context("reading records to check")?;
            let places: HashMap<i64, (String, Option<String>)> =
                places.into_iter().map(|(id, path, index)| (id, (path, index))).collect();

            // What goes: the records' own findings, and their duplicate groups' (old and new).
            let mut counts: BTreeMap<(String, String), i64> = BTreeMap::new();
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT person_id, rule, managing_path, id_index FROM quality_findings WHERE person_id IN ",
            );
            push_list(&mut qb, &ids);
            let old: Vec<(i64, String, String, Option<String>)> =
                qb.build_query_as().fetch_all(&mut *tx).await.context("reading earlier findings")?;
            let mut groups: BTreeSet<String> = old.iter().filter_map(|(.., index)| index.clone()).collect();
            for p in &persons {
                if p.status == "active"
                    && let Some((_, Some(index))) = places.get(&p.id)
                {
                    groups.insert(index.clone());
                }
            }
            let groups: Vec<String> = groups.into_iter().collect();
            for (_, rule, path, _) in old.iter().filter(|(.., index)| index.is_none()) {
                *counts.entry((path.clone(), rule.clone())).or_default() -= 1;
            }
            let mut qb = sqlx::QueryBuilder::new("DELETE FROM quality_findings WHERE person_id IN ");
            push_list(&mut qb, &ids);
            qb.push(" AND id_index IS NULL");
            qb.build().execute(&mut *tx).await.context("removing earlier findings")?;
            let mut members: Vec<(i64, String, String, String)> = Vec::new();
            if !groups.is_empty() {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT managing_path, rule FROM quality_findings WHERE id_index IN ",
                );
                push_list(&mut qb, &groups);
                let old_groups: Vec<(String, String)> =
                    qb.build_query_as().fetch_all(&mut *tx).await.context("reading earlier duplicates")?;
                for (path, rule) in old_groups {
                    *counts.entry((path, rule)).or_default() -= 1;
                }
                let mut qb = sqlx::QueryBuilder::new("DELETE FROM quality_findings WHERE id_index IN ");
                push_list(&mut qb, &groups);
                qb.build().execute(&mut *tx).await.context("removing earlier duplicates")?;
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT id, id_index, managing_unit, managing_path FROM persons \
                     WHERE status = 'active' AND id_index IN ",
                );
                push_list(&mut qb, &groups);
                qb.push(" ORDER BY id_index, id");
                members = qb.build_query_as().fetch_all(&mut *tx).await.context("reading duplicate groups")?;
            }

            // What comes: each record's own findings, then the groups managed in two units or more.
            let mut fresh: Vec<NewFinding> = Vec::new();
            for p in persons.iter().filter(|p| p.status != "removed") {
                let Some((path, _)) = places.get(&p.id) else { continue };
                let mut seen = BTreeSet::new();
                for (rule, detail) in check(p) {
                    if seen.insert((rule, detail.clone())) {
                        fresh.push(NewFinding { person_id: p.id, rule: rule.to_owned(), detail, path: path.clone(), id_index: None });
                    }
                }
            }
            for group in members.chunk_by(|a, b| a.1 == b.1) {
                let units: BTreeSet<&str> = group.iter().map(|m| m.2.as_str()).collect();
                if units.len() < 2 {
                    continue;
                }
                for (id, index, _, path) in group {
                    let others: Vec<&str> =
                        group.iter().filter(|m| m.0 != *id).map(|m| m.2.as_str()).collect();
                    fresh.push(NewFinding {
                        person_id: *id,
                        rule: DUPLICATE_RULE.to_owned(),
                        detail: others.join(", "),
                        path: path.clone(),
                        id_index: Some(index.clone()),
                    });
                }
            }
            for chunk in fresh.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO quality_findings (person_id, rule, detail, managing_path, id_index) ",
                );
                qb.push_values(chunk, |mut b, f| {
                    b.push_bind(f.person_id).push_bind(f.rule.clone()).push_bind(f.detail.clone())
                        .push_bind(f.path.clone()).push_bind(f.id_index.clone());
                });
                qb.build().execute(&mut *tx).await.context("writing findings")?;
            }
            for f in &fresh {
                *counts.entry((f.path.clone(), f.rule.clone())).or_default() += 1;
            }
            let moved: Vec<((String, String), i64)> = counts.into_iter().filter(|(_, n)| *n != 0).collect();
            for chunk in moved.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO quality_counts (managing_path, rule, n) ");
                qb.push_values(chunk, |mut b, ((path, rule), n)| {
                    b.push_bind(path.clone()).push_bind(rule.clone()).push_bind(*n);
                });
                qb.push(" ON CONFLICT (managing_path, rule) DO UPDATE SET n = quality_counts.n + excluded.n");
                qb.build().execute(&mut *tx).await.context("counting findings")?;
            }
            tx.commit().await.context("committing a quality refresh")?;
            Ok(QualityRefresh { checked: ids.len() as u64, written: fresh.len() as u64 })
        })
    }

    /// Records waiting to be checked.
    pub async fn quality_waiting(&self) -> StoreResult<u64> {
        let n: i64 =
            on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM quality_dirty").fetch_one(pool).await)
                .context("counting the quality queue")?;
        Ok(n.max(0) as u64)
    }

    /// Puts every record back in the queue (the daily re-check: some rules depend on the date
    /// and on the code tables in force) and records the day. Returns the records queued.
    pub async fn queue_quality_recheck(&self, today: chrono::NaiveDate) -> StoreResult<u64> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("queueing a quality re-check")?;
            let n = sqlx::query(
                "INSERT INTO quality_dirty (person_id) SELECT id FROM persons WHERE id > 0 ON CONFLICT DO NOTHING",
            )
            .execute(&mut *tx).await.context("queueing a quality re-check")?.rows_affected();
            sqlx::query("UPDATE quality_state SET rechecked_on = $1 WHERE id = 1")
                .bind(today).execute(&mut *tx).await.context("queueing a quality re-check")?;
            tx.commit().await.context("queueing a quality re-check")?;
            Ok(n)
        })
    }

    /// The day of the last full re-check.
    pub async fn quality_rechecked_on(&self) -> StoreResult<Option<chrono::NaiveDate>> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT rechecked_on FROM quality_state WHERE id = 1").fetch_one(pool).await)
            .context("reading the quality state")
    }

    /// Findings per rule under a management range (`None`: everywhere).
    pub async fn quality_counts_by_rule(&self, managing: Option<&(String, String)>) -> StoreResult<Vec<(String, u64)>> {
        self.quality_counts("rule", managing).await
    }

    /// Findings per managing unit's path under a management range.
    pub async fn quality_counts_by_path(&self, managing: Option<&(String, String)>) -> StoreResult<Vec<(String, u64)>> {
        self.quality_counts("managing_path", managing).await
    }

    async fn quality_counts(&self, by: &str, managing: Option<&(String, String)>) -> StoreResult<Vec<(String, u64)>> {
        let (sql, args) = counts_sql(by, managing);
        let rows: Vec<(String, i64)> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })
        .context("counting findings")?;
        Ok(rows.into_iter().map(|(k, n)| (k, n.max(0) as u64)).collect())
    }

    /// The first `limit` findings under a management range, of one rule or all, in unit order.
    pub async fn quality_findings(
        &self,
        managing: Option<&(String, String)>,
        rule: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<QualityRow>> {
        let (sql, args) = findings_sql(managing, rule, limit);
        on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })
        .context("listing findings")
    }

    /// The plans of the quality page's reads under a range: the counts per rule, the first
    /// findings of all rules and of one.
    pub async fn explain_quality_reads(&self, managing: &(String, String)) -> StoreResult<Vec<(&'static str, String)>> {
        let reads = [
            ("counts per rule", counts_sql("rule", Some(managing))),
            ("findings", findings_sql(Some(managing), None, 500)),
            ("findings of one rule", findings_sql(Some(managing), Some(DUPLICATE_RULE), 500)),
        ];
        let mut plans = Vec::new();
        for (what, (sql, args)) in reads {
            plans.push((what, self.explain_text(&sql, &args, "explaining the quality reads").await?));
        }
        Ok(plans)
    }
}

fn counts_sql(by: &str, managing: Option<&(String, String)>) -> (String, Vec<String>) {
    let (scope, args) = match managing {
        Some((low, high)) => (" WHERE managing_path >= $1 AND managing_path < $2", vec![low.clone(), high.clone()]),
        None => ("", Vec::new()),
    };
    (
        format!(
            "SELECT {by}, CAST(SUM(n) AS BIGINT) FROM quality_counts{scope} GROUP BY {by} HAVING SUM(n) > 0 ORDER BY {by}"
        ),
        args,
    )
}

fn findings_sql(managing: Option<&(String, String)>, rule: Option<&str>, limit: u32) -> (String, Vec<String>) {
    let mut conds = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if let Some(r) = rule {
        args.push(r.to_owned());
        conds.push(format!("f.rule = ${}", args.len()));
    }
    if let Some((low, high)) = managing {
        args.push(low.clone());
        conds.push(format!("f.managing_path >= ${}", args.len()));
        args.push(high.clone());
        conds.push(format!("f.managing_path < ${}", args.len()));
    }
    // CROSS JOIN holds SQLite to the findings first (it would otherwise scan the records and
    // look their findings up); PostgreSQL plans it as the inner join it is.
    conds.push("p.id = f.person_id".to_owned());
    let w = format!(" WHERE {}", conds.join(" AND "));
    let order = if rule.is_some() { "f.managing_path, f.person_id" } else { "f.managing_path, f.rule, f.person_id" };
    (
        format!(
            "SELECT f.person_id, f.rule, f.detail, p.name, p.managing_unit AS unit, o.name AS unit_name \
             FROM quality_findings f CROSS JOIN persons p JOIN org_units o ON o.code = p.managing_unit\
             {w} ORDER BY {order} LIMIT {limit}"
        ),
        args,
    )
}
