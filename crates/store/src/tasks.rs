//! The clerk's day from maintained tasks (migration 26): triggers queue every person whose
//! facts change; [`Store::refresh_tasks`] replaces the queued persons' tasks with what
//! `domain::worklist::person_tasks` derives from their facts. Readers get an index range of a
//! unit's showing tasks, never the subtree's records.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use domain::worklist::{Category, PersonFacts, PersonTask, person_tasks};

use crate::{Context, Store, StoreResult, on_pool, push_list};

/// A task as the day lists it, with the person it is about.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    pub person_id: i64,
    pub task_key: String,
    pub category: String,
    pub detail_key: String,
    pub detail: String,
    pub due_on: NaiveDate,
    pub name: String,
    pub managing_unit: String,
}

/// What one derivation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskRefresh {
    /// Persons taken from the queue.
    pub checked: u64,
    /// Tasks written for them.
    pub written: u64,
    /// Persons whose tasks (still able to show) differed from what was kept.
    pub differed: u64,
}

type Kept = (String, String, String, NaiveDate, NaiveDate, Option<NaiveDate>, String);

fn kept(t: &PersonTask, path: &str) -> Kept {
    (t.key.clone(), t.detail.key().to_owned(), t.detail.value(), t.due_on, t.show_from, t.hide_after, path.to_owned())
}

/// The showing condition on `today`, as SQL (a date we format ourselves, so a literal: it
/// compares with DATE columns on PostgreSQL and with ISO text on SQLite).
fn showing(today: NaiveDate) -> String {
    format!("show_from <= '{today}' AND (hide_after IS NULL OR hide_after >= '{today}')")
}

/// The lengths of the unit paths that have a day index of their own (migration 31): a
/// province's, a city's, a county's and a township's.
const DAY_INDEXED_PATHS: [usize; 4] = [4, 9, 16, 26];

fn tasks_page_sql(today: NaiveDate, limit: i64, low: &str) -> String {
    // The unit's showing tasks are picked and ordered from an index alone; only the page's
    // rows are read, with their person's name. The person's own path is checked too: a record
    // moved out of the unit whose tasks wait to be derived again never shows outside it.
    // An area down to a township walks its day index in order and stops at the page's end; a
    // smaller unit sorts its range of the unit index (a village's tasks are few).
    let pick = match low.len() {
        n if DAY_INDEXED_PATHS.contains(&n) => {
            format!("substr(managing_path, 1, {n}) = $1 AND {}", showing(today))
        }
        _ => format!("managing_path >= $1 AND managing_path < $2 AND {}", showing(today)),
    };
    format!(
        "SELECT t.person_id, t.task_key, t.category, t.detail_key, t.detail, t.due_on, p.name, p.managing_unit \
         FROM (SELECT id FROM person_tasks WHERE {pick} ORDER BY due_on, id LIMIT {limit}) page \
         CROSS JOIN person_tasks t CROSS JOIN persons p \
         WHERE t.id = page.id AND p.id = t.person_id AND p.status = 'active' \
           AND p.managing_path >= $1 AND p.managing_path < $2 \
         ORDER BY t.due_on, t.id"
    )
}

/// A category's count stops here: more is shown as "1,000+".
pub const TASK_COUNT_CAP: u64 = 1000;

fn task_counts_sql(today: NaiveDate, extra: u64) -> String {
    // One capped count per category, each an index range of the category in the unit: the
    // cost is bounded by the cap (and the marks taken off it), not by the unit's tasks.
    let cap = TASK_COUNT_CAP + 1 + extra;
    Category::ALL
        .iter()
        .filter(|c| c.from_records())
        .map(|c| {
            format!(
                "SELECT '{c}' AS category, (SELECT COUNT(*) FROM (SELECT 1 FROM person_tasks \
                   WHERE category = '{c}' AND managing_path >= $1 AND managing_path < $2 AND {} LIMIT {cap}) x) AS n",
                showing(today),
                c = c.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

impl Store {
    /// Takes up to `limit` persons from the queue and replaces their tasks with those their
    /// facts make on `today` or later. One transaction, behind the derivation lock.
    pub async fn refresh_tasks(&self, limit: u32, today: NaiveDate) -> StoreResult<TaskRefresh> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a task derivation")?;
            sqlx::query("UPDATE task_state SET refreshes = refreshes + 1 WHERE id = 1")
                .execute(&mut *tx).await.context("taking the task lock")?;
            let ids: Vec<i64> = sqlx::query_scalar("SELECT person_id FROM task_dirty ORDER BY person_id LIMIT $1")
                .bind(i64::from(limit)).fetch_all(&mut *tx).await.context("reading the task queue")?;
            if ids.is_empty() {
                tx.commit().await.context("ending a task derivation")?;
                return Ok(TaskRefresh::default());
            }
            let mut qb = sqlx::QueryBuilder::new("DELETE FROM task_dirty WHERE person_id IN ");
            push_list(&mut qb, &ids);
            qb.build().execute(&mut *tx).await.context("taking persons from the task queue")?;

            let mut facts: HashMap<i64, PersonFacts> = HashMap::new();
            let mut paths: HashMap<i64, String> = HashMap::new();
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT id, status, managing_path, moved_on, registered_on FROM persons WHERE id IN ",
            );
            push_list(&mut qb, &ids);
            type PersonRow = (i64, String, String, Option<NaiveDate>, Option<NaiveDate>);
            let rows: Vec<PersonRow> =
                qb.build_query_as().fetch_all(&mut *tx).await.context("reading the facts of tasks")?;
            for (id, status, path, moved_on, registered_on) in rows {
                paths.insert(id, path);
                facts.insert(id, PersonFacts { active: status == "active", moved_on, registered_on, ..PersonFacts::default() });
            }

            let mut qb = sqlx::QueryBuilder::new(
                "SELECT person_id, detected_on, expected_on, outcome, ended_on FROM person_pregnancies WHERE person_id IN ",
            );
            push_list(&mut qb, &ids);
            type PregnancyRow = (i64, Option<NaiveDate>, Option<NaiveDate>, Option<String>, Option<NaiveDate>);
            let rows: Vec<PregnancyRow> =
                qb.build_query_as().fetch_all(&mut *tx).await.context("reading the facts of tasks")?;
            for (id, detected, expected, outcome, ended) in rows {
                let Some(f) = facts.get_mut(&id) else { continue };
                match (outcome.as_deref(), detected, ended) {
                    (None, Some(detected), _) => f.open_pregnancies.push((detected, expected)),
                    (Some("birth"), _, Some(ended)) => f.births.push(ended),
                    _ => {}
                }
            }
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT person_id, birth_date FROM person_children WHERE birth_date IS NOT NULL AND person_id IN ",
            );
            push_list(&mut qb, &ids);
            let rows: Vec<(i64, NaiveDate)> =
                qb.build_query_as().fetch_all(&mut *tx).await.context("reading the facts of tasks")?;
            for (id, born) in rows {
                if let Some(f) = facts.get_mut(&id) {
                    f.births.push(born);
                }
            }
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT person_id, kind, done_on FROM person_checks \
                 WHERE kind IN ('pregnancy', 'prenatal', 'postnatal') AND done_on IS NOT NULL AND person_id IN ",
            );
            push_list(&mut qb, &ids);
            let rows: Vec<(i64, String, NaiveDate)> =
                qb.build_query_as().fetch_all(&mut *tx).await.context("reading the facts of tasks")?;
            for (id, kind, done) in rows {
                if let Some(f) = facts.get_mut(&id) {
                    if kind == "postnatal" { f.postnatal_checks.push(done) } else { f.prenatal_checks.push(done) }
                }
            }
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT person_id, valid_until FROM person_certificates WHERE valid_until IS NOT NULL AND person_id IN ",
            );
            push_list(&mut qb, &ids);
            let rows: Vec<(i64, NaiveDate)> =
                qb.build_query_as().fetch_all(&mut *tx).await.context("reading the facts of tasks")?;
            for (id, until) in rows {
                if let Some(f) = facts.get_mut(&id) {
                    f.certificates_valid_until.push(until);
                }
            }

            // What was kept, to count the persons whose tasks differ (the nightly repair's check).
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT person_id, task_key, detail_key, detail, due_on, show_from, hide_after, managing_path \
                 FROM person_tasks WHERE person_id IN ",
            );
            push_list(&mut qb, &ids);
            type OldRow = (i64, String, String, String, NaiveDate, NaiveDate, Option<NaiveDate>, String);
            let rows: Vec<OldRow> = qb.build_query_as().fetch_all(&mut *tx).await.context("reading kept tasks")?;
            let mut old: HashMap<i64, BTreeSet<Kept>> = HashMap::new();
            for (id, key, detail_key, detail, due, show, hide, path) in rows {
                if hide.is_none_or(|h| today <= h) {
                    old.entry(id).or_default().insert((key, detail_key, detail, due, show, hide, path));
                }
            }
            let mut qb = sqlx::QueryBuilder::new("DELETE FROM person_tasks WHERE person_id IN ");
            push_list(&mut qb, &ids);
            qb.build().execute(&mut *tx).await.context("removing kept tasks")?;

            let mut fresh: Vec<(i64, PersonTask, String)> = Vec::new();
            let mut differed = 0;
            for id in &ids {
                let tasks = match (facts.get(id), paths.get(id)) {
                    (Some(f), Some(_)) => person_tasks(*id, f, today),
                    _ => Vec::new(),
                };
                let path = paths.get(id).cloned().unwrap_or_default();
                let new: BTreeSet<Kept> = tasks.iter().map(|t| kept(t, &path)).collect();
                if old.remove(id).unwrap_or_default() != new {
                    differed += 1;
                }
                fresh.extend(tasks.into_iter().map(|t| (*id, t, path.clone())));
            }
            for chunk in fresh.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO person_tasks (person_id, task_key, category, detail_key, detail, due_on, show_from, \
                     hide_after, managing_path) ",
                );
                qb.push_values(chunk, |mut b, (id, t, path)| {
                    b.push_bind(*id).push_bind(t.key.clone()).push_bind(t.category.as_str())
                        .push_bind(t.detail.key()).push_bind(t.detail.value()).push_bind(t.due_on)
                        .push_bind(t.show_from).push_bind(t.hide_after).push_bind(path.clone());
                });
                qb.build().execute(&mut *tx).await.context("writing tasks")?;
            }
            tx.commit().await.context("committing a task derivation")?;
            Ok(TaskRefresh { checked: ids.len() as u64, written: fresh.len() as u64, differed })
        })
    }

    /// Persons waiting for their tasks to be derived, counted up to `cap` (after a bulk load
    /// the queue holds a million).
    pub async fn tasks_waiting(&self, cap: u64) -> StoreResult<u64> {
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM task_dirty LIMIT {cap}) q");
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar(&sql).fetch_one(pool).await)
            .context("counting the task queue")?;
        Ok(n.max(0) as u64)
    }

    /// Whether any person waits (one index probe: the day asks before every read).
    pub async fn tasks_pending(&self) -> StoreResult<bool> {
        let any: Option<i64> =
            on_pool!(self, pool => sqlx::query_scalar("SELECT person_id FROM task_dirty LIMIT 1").fetch_optional(pool).await)
                .context("reading the task queue")?;
        Ok(any.is_some())
    }

    /// Puts every person whose facts can make work back in the queue (the nightly repair, which
    /// also drops the tasks whose showing days have passed) and records the day.
    pub async fn queue_task_repair(&self, today: NaiveDate) -> StoreResult<u64> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("queueing the task repair")?;
            let n = sqlx::query(
                "INSERT INTO task_dirty (person_id) SELECT person_id FROM ( \
                   SELECT person_id FROM person_tasks \
                   UNION SELECT id FROM persons WHERE registered_on > moved_on AND status = 'active' \
                   UNION SELECT person_id FROM person_pregnancies \
                   UNION SELECT person_id FROM person_children \
                   UNION SELECT person_id FROM person_checks \
                   UNION SELECT person_id FROM person_certificates) owed \
                 WHERE true ON CONFLICT DO NOTHING",
            )
            .execute(&mut *tx).await.context("queueing the task repair")?.rows_affected();
            sqlx::query("UPDATE task_state SET repaired_on = $1 WHERE id = 1")
                .bind(today).execute(&mut *tx).await.context("queueing the task repair")?;
            tx.commit().await.context("queueing the task repair")?;
            Ok(n)
        })
    }

    /// The day of the last full repair.
    pub async fn tasks_repaired_on(&self) -> StoreResult<Option<NaiveDate>> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT repaired_on FROM task_state WHERE id = 1").fetch_one(pool).await)
            .context("reading the task state")
    }

    /// The first `limit` tasks showing on `today` in the range `[low, high)`, by last day.
    pub async fn tasks_showing(
        &self,
        low: &str,
        high: &str,
        today: NaiveDate,
        limit: i64,
    ) -> StoreResult<Vec<TaskRow>> {
        let sql = tasks_page_sql(today, limit, low);
        on_pool!(self, pool => sqlx::query_as(&sql).bind(low).bind(high).fetch_all(pool).await)
            .context("reading the day's tasks")
    }

    /// Tasks showing on `today` in the range, per category, each counted up to
    /// [`TASK_COUNT_CAP`] + 1 + `extra` (the caller takes `extra` marked tasks off; a count
    /// still above the cap means "more than").
    pub async fn task_counts(
        &self,
        low: &str,
        high: &str,
        today: NaiveDate,
        extra: u64,
    ) -> StoreResult<Vec<(Category, u64)>> {
        let sql = task_counts_sql(today, extra);
        let rows: Vec<(String, i64)> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(low).bind(high).fetch_all(pool).await)
                .context("counting the day's tasks")?;
        Ok(rows
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .filter_map(|(c, n)| Some((Category::parse(&c)?, n.max(0) as u64)))
            .collect())
    }

    /// Of the given task keys, those showing on `today` in the range, with their category
    /// (the tasks a unit's marks hide).
    pub async fn tasks_among(
        &self,
        low: &str,
        high: &str,
        today: NaiveDate,
        keys: &[String],
    ) -> StoreResult<Vec<(String, Category)>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(500) {
            let rows: Vec<(String, String)> = on_pool!(self, pool => {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT task_key, category FROM person_tasks WHERE managing_path >= ");
                qb.push_bind(low).push(" AND managing_path < ").push_bind(high);
                qb.push(format!(" AND {} AND task_key IN (", showing(today)));
                let mut list = qb.separated(", ");
                for k in chunk {
                    list.push_bind(k.as_str());
                }
                list.push_unseparated(")");
                qb.build_query_as().fetch_all(pool).await
            })
            .context("reading marked tasks")?;
            found.extend(rows.into_iter().filter_map(|(k, c)| Some((k, Category::parse(&c)?))));
        }
        Ok(found)
    }

    /// The plans of the day's two reads of maintained tasks over `[low, high)`.
    pub async fn explain_task_reads(
        &self,
        low: &str,
        high: &str,
        today: NaiveDate,
    ) -> StoreResult<Vec<(&'static str, String)>> {
        let args = [low.to_owned(), high.to_owned()];
        let mut plans = Vec::new();
        for (what, sql) in [("tasks page", tasks_page_sql(today, 500, low)), ("task counts", task_counts_sql(today, 0))]
        {
            plans.push((what, self.explain_text(&sql, &args, "explaining the day's tasks").await?));
        }
        Ok(plans)
    }
}
