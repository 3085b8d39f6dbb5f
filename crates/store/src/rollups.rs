//! Report roll-ups (migration 29): the grouped rows of each kept month, per unit and summed into
//! every unit above, so that a monthly report reads the rows of its own unit.
//!
//! A row's `holder` is the path of the unit it counts in, its `child` the unit directly below
//! the holder that manages the people (`''`: the holder itself). A month is built with one
//! grouped pass over every record ([`Store::rollup_leaf_rows`], then
//! [`Store::finish_rollup_month`]); afterwards [`Store::refresh_rollups`] groups each queued
//! unit's own records again and moves the difference into the unit and every unit above it.
//! Every change takes the lock row first, so that builds and refreshes never interleave.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Months, NaiveDate, Utc};
use domain::report::{Flow, Groups};
use sqlx::Row;

use crate::reports::{
    GroupKey, GroupQuery, GroupRows, KIND_FACTS, KIND_PEOPLE, KIND_PEOPLE_DETAILED, group_rows, groups_of,
};
use crate::{Context, Engine, Store, StoreError, StoreResult, on_pool};

/// Rows per multi-row statement (18 arguments each, under SQLite's 32,766).
const CHUNK: usize = 1_000;

/// Rows a build writes per transaction (each a fraction of a second on SQLite, whose writers
/// wait meanwhile).
const WRITE_SLICE: usize = 20_000;

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollupRefresh {
    /// Units grouped again.
    pub units: u64,
    /// Rows whose counts moved (over every holder).
    pub moved: u64,
    /// Nothing was taken: a month is being built, and the queue waits for it.
    pub kept: bool,
}

/// What a build wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollupWrite {
    pub written: u64,
    /// Rows whose kept count differed from the one built (or that only one side holds).
    pub differed: u64,
    /// Another build of the month started after this one: nothing was written.
    pub superseded: bool,
}

/// A month's state as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// `building` or `ready`.
    pub state: String,
}

/// The first and last day of a `YYYY-MM` month.
pub fn month_days(month: &str) -> StoreResult<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt { what: "roll-up month", detail: format!("{month}: {e}") })?;
    let last = first.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).expect("a month has an end");
    Ok((first, last))
}

/// The units that count a leaf's people, top down, each with the unit directly below it on
/// the way to the leaf (`''` for the leaf itself): `/37/3716/` gives `("/37/", "3716")` and
/// `("/37/3716/", "")`. Paths follow the codes' lineage, so the unit below is the one the live
/// report's grouping names.
pub fn holders(leaf: &str) -> Vec<(String, String)> {
    let segments: Vec<&str> = leaf.split('/').filter(|s| !s.is_empty()).collect();
    (0..segments.len())
        .map(|i| {
            let holder = format!("/{}/", segments[..=i].join("/"));
            (holder, segments.get(i + 1).map(|s| (*s).to_owned()).unwrap_or_default())
        })
        .collect()
}

/// The query that groups a month's records by their managing unit (`range`: path bounds).
fn leaf_query(range: (String, String), narrow: bool, from: NaiveDate, to: NaiveDate) -> GroupQuery {
    GroupQuery {
        range,
        root: String::new(),
        child_len: 0,
        by_child: false,
        by_leaf: true,
        narrow,
        details: true,
        flow: None,
        from,
        to,
    }
}

/// A unit's own people with reason, reach and province: the base its refresh subtracts from.
/// Kind 2 counts those of the units below it, summed; a report's detailed people are both.
const KIND_OWN_DETAILED: i16 = 3;

/// A leaf's own rows (`child` ''), from rows grouped by leaf: the people twice (with and
/// without reason, reach and province), the facts once.
fn own_rows(rows: GroupRows) -> HashMap<String, HashMap<GroupKey, i64>> {
    let mut out: HashMap<String, HashMap<GroupKey, i64>> = HashMap::new();
    for (mut key, count) in rows {
        let leaf = std::mem::take(&mut key.child);
        let own = out.entry(leaf).or_default();
        if key.kind == KIND_PEOPLE_DETAILED {
            let plain = GroupKey {
                kind: KIND_PEOPLE,
                reason: String::new(),
                reach: String::new(),
                province: String::new(),
                ..key.clone()
            };
            *own.entry(plain).or_default() += count;
            key.kind = KIND_OWN_DETAILED;
        }
        *own.entry(key).or_default() += count;
    }
    out
}

/// Every holder's rows of a set of leaves' own rows: people and facts by the unit below in
/// every unit on the way up; the detailed people as the leaf's own, and in every unit above it
/// summed with the rest of what lies below that unit (without the unit below).
fn spread(own: &HashMap<String, HashMap<GroupKey, i64>>) -> HashMap<(String, GroupKey), i64> {
    let mut out: HashMap<(String, GroupKey), i64> = HashMap::new();
    for (leaf, rows) in own {
        for (holder, child) in holders(leaf) {
            for (key, count) in rows {
                if key.kind == KIND_OWN_DETAILED {
                    let key = if child.is_empty() {
                        key.clone()
                    } else {
                        GroupKey { kind: KIND_PEOPLE_DETAILED, ..key.clone() }
                    };
                    *out.entry((holder.clone(), key)).or_default() += count;
                } else {
                    let key = GroupKey { child: child.clone(), ..key.clone() };
                    *out.entry((holder.clone(), key)).or_default() += count;
                }
            }
        }
    }
    out.retain(|_, n| *n != 0);
    out
}

const COLUMNS: &str = "month, holder, kind, child, direction, gender, age, marital, reason, reach, province, \
                       at_end, arrived, gone, flags, born, delivered";

/// Writes rows (`upsert`: adds the counts to those kept) in multi-row statements.
macro_rules! write_rows {
    ($tx:expr, $month:expr, $rows:expr, $upsert:expr) => {{
        let rows: Vec<(&(String, GroupKey), &i64)> = $rows.collect();
        for chunk in rows.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO report_rollups ({COLUMNS}, count) "));
            qb.push_values(chunk, |mut b, ((holder, k), n)| {
                b.push_bind($month)
                    .push_bind(holder.as_str())
                    .push_bind(k.kind)
                    .push_bind(k.child.as_str())
                    .push_bind(k.direction.as_str())
                    .push_bind(k.gender.as_str())
                    .push_bind(k.age)
                    .push_bind(k.marital.as_str())
                    .push_bind(k.reason.as_str())
                    .push_bind(k.reach.as_str())
                    .push_bind(k.province.as_str())
                    .push_bind(k.at_end)
                    .push_bind(k.arrived)
                    .push_bind(k.gone)
                    .push_bind(k.flags)
                    .push_bind(k.born)
                    .push_bind(k.delivered)
                    .push_bind(**n);
            });
            if $upsert {
                qb.push(format!(
                    " ON CONFLICT ({COLUMNS}) DO UPDATE SET count = report_rollups.count + excluded.count"
                ));
            }
            qb.build().execute(&mut *$tx).await.context("writing report roll-ups")?;
        }
        rows.len() as u64
    }};
}

/// A kept row's key and count from a result row whose key columns start at `$at` (`kind`,
/// `child`, … `delivered`, then the count).
macro_rules! key_and_count {
    ($r:expr, $at:expr) => {{
        let (r, at) = (&$r, $at);
        let key = GroupKey {
            kind: r.try_get(at).context("reading a roll-up")?,
            child: r.try_get(at + 1).context("reading a roll-up")?,
            direction: r.try_get(at + 2).context("reading a roll-up")?,
            gender: r.try_get(at + 3).context("reading a roll-up")?,
            age: r.try_get(at + 4).context("reading a roll-up")?,
            marital: r.try_get(at + 5).context("reading a roll-up")?,
            reason: r.try_get(at + 6).context("reading a roll-up")?,
            reach: r.try_get(at + 7).context("reading a roll-up")?,
            province: r.try_get(at + 8).context("reading a roll-up")?,
            at_end: r.try_get(at + 9).context("reading a roll-up")?,
            arrived: r.try_get(at + 10).context("reading a roll-up")?,
            gone: r.try_get(at + 11).context("reading a roll-up")?,
            flags: r.try_get(at + 12).context("reading a roll-up")?,
            born: r.try_get(at + 13).context("reading a roll-up")?,
            delivered: r.try_get(at + 14).context("reading a roll-up")?,
        };
        (key, r.try_get::<i64, _>(at + 15).context("reading a roll-up")?)
    }};
}

/// Reads grouped rows kept in the roll-ups: `SELECT` the key columns then the count.
macro_rules! read_rows {
    ($conn:expr, $sql:expr, $($bind:expr),*) => {{
        let rows = sqlx::query($sql)$(.bind($bind))*.fetch_all($conn).await.context("reading report roll-ups")?;
        let mut out: GroupRows = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(key_and_count!(r, 0));
        }
        out
    }};
}

/// A unit's rows of a month (`$1` the month, `$2` the unit's path), summed over the keys a
/// report does not ask for.
fn rollup_read_sql(by_child: bool, details: bool, flow: Option<Flow>) -> String {
    let people = if details { format!("{KIND_PEOPLE_DETAILED}, {KIND_OWN_DETAILED}") } else { KIND_PEOPLE.to_string() };
    let child = if by_child { "child" } else { "''" };
    let direction = match flow {
        Some(Flow::In) => " AND direction = 'in'",
        Some(Flow::Out) => " AND direction = 'out'",
        None => "",
    };
    format!(
        "SELECT CAST(CASE WHEN kind = {KIND_OWN_DETAILED} THEN {KIND_PEOPLE_DETAILED} ELSE kind END AS SMALLINT), {child}, direction, \
         gender, age, marital, reason, reach, province, at_end, arrived, gone, \
         flags, born, delivered, CAST(SUM(count) AS BIGINT) FROM report_rollups \
         WHERE month = $1 AND holder = $2 AND kind IN ({people}, {KIND_FACTS}){direction} \
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 HAVING SUM(count) <> 0"
    )
}

const LOCK: &str = "UPDATE report_rollup_state SET refreshes = refreshes + 1 WHERE id = 1";

impl Store {
    /// The months kept, oldest first.
    pub async fn rollup_months(&self) -> StoreResult<Vec<RollupMonth>> {
        let rows: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT month, state FROM report_rollup_months ORDER BY month",
        ).fetch_all(pool).await)
        .context("listing the roll-up months")?;
        Ok(rows.into_iter().map(|(month, state)| RollupMonth { month, state }).collect())
    }

    /// Marks a month as being built (from now on, refreshes leave the queue alone) and returns
    /// the build's number: only the latest build of a month may finish it.
    pub async fn start_rollup_month(&self, month: &str, at: DateTime<Utc>) -> StoreResult<i64> {
        month_days(month)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a roll-up build")?;
            sqlx::query(LOCK).execute(&mut *tx).await.context("taking the roll-up lock")?;
            sqlx::query(
                "INSERT INTO report_rollup_months (month, state, changed_at, build) VALUES ($1, 'building', $2, 1) \
                 ON CONFLICT (month) DO UPDATE SET state = 'building', changed_at = excluded.changed_at, \
                 build = report_rollup_months.build + 1",
            )
            .bind(month).bind(at).execute(&mut *tx).await.context("marking a roll-up month")?;
            let build: i64 = sqlx::query_scalar("SELECT build FROM report_rollup_months WHERE month = $1")
                .bind(month).fetch_one(&mut *tx).await.context("numbering a roll-up build")?;
            tx.commit().await.context("starting a roll-up build")?;
            Ok(build)
        })
    }

    /// Every record's rows of a month, grouped by managing unit (the pass a build makes).
    pub async fn rollup_leaf_rows(&self, month: &str) -> StoreResult<GroupRows> {
        let (from, to) = month_days(month)?;
        // Every path starts with `/`, and `0` is the byte after it.
        self.report_group_rows(&leaf_query(("/".to_owned(), "0".to_owned()), false, from, to)).await
    }

    /// Replaces a month's roll-ups with those of `leaves` (from [`Store::rollup_leaf_rows`])
    /// and marks it ready; counts the rows that differ from those kept before. A build that
    /// another started after it (`build`: its number) writes nothing: its read may be older.
    pub async fn finish_rollup_month(
        &self,
        month: &str,
        build: i64,
        leaves: GroupRows,
        at: DateTime<Utc>,
    ) -> StoreResult<RollupWrite> {
        self.finish_rollup_month_in_slices(month, build, leaves, at, WRITE_SLICE).await
    }

    /// [`Store::finish_rollup_month`], `slice` rows per transaction.
    pub async fn finish_rollup_month_in_slices(
        &self,
        month: &str,
        build: i64,
        leaves: GroupRows,
        at: DateTime<Utc>,
        slice: usize,
    ) -> StoreResult<RollupWrite> {
        let rows = spread(&own_rows(leaves));
        on_pool!(self, pool => {
            // What was kept, compared without the lock: while the month builds, only a later build
            // of it changes its rows, and that one makes this one's writes stop below.
            let kept = sqlx::query(
                "SELECT holder, kind, child, direction, gender, age, marital, reason, reach, province, at_end, \
                 arrived, gone, flags, born, delivered, count FROM report_rollups WHERE month = $1 AND count <> 0",
            )
            .bind(month).fetch_all(pool).await.context("reading kept roll-ups")?;
            let mut differed = 0;
            let mut seen = 0;
            for r in kept {
                let (key, count) = key_and_count!(r, 1);
                match rows.get(&(r.try_get::<String, _>(0).context("reading a roll-up")?, key)) {
                    Some(n) if *n == count => seen += 1,
                    Some(_) => {
                        seen += 1;
                        differed += 1;
                    }
                    None => differed += 1,
                }
            }
            differed += rows.len() as u64 - seen;
            // The month is cleared, written a slice at a time and marked ready, each step its own
            // transaction behind the lock and only while this build is the month's latest: the
            // write of a province's month never holds the database from the clerks for long.
            let entries: Vec<(&(String, GroupKey), &i64)> = rows.iter().collect();
            let slices = std::iter::once(None).chain(entries.chunks(slice.max(1)).map(Some)).chain(std::iter::once(None));
            let mut written = 0;
            for (step, slice) in slices.enumerate() {
                let mut tx = pool.begin().await.context("finishing a roll-up build")?;
                sqlx::query(LOCK).execute(&mut *tx).await.context("taking the roll-up lock")?;
                let latest: Option<i64> = sqlx::query_scalar("SELECT build FROM report_rollup_months WHERE month = $1")
                    .bind(month).fetch_optional(&mut *tx).await.context("reading a roll-up build")?;
                if latest != Some(build) {
                    tx.commit().await.context("finishing a roll-up build")?;
                    return Ok(RollupWrite { superseded: true, ..RollupWrite::default() });
                }
                match slice {
                    Some(slice) => written += write_rows!(tx, month, slice.iter().copied(), false),
                    None if step == 0 => {
                        sqlx::query("DELETE FROM report_rollups WHERE month = $1")
                            .bind(month).execute(&mut *tx).await.context("clearing a roll-up month")?;
                    }
                    None => {
                        sqlx::query("UPDATE report_rollup_months SET state = 'ready', changed_at = $2 WHERE month = $1")
                            .bind(month).bind(at).execute(&mut *tx).await.context("marking a roll-up month")?;
                    }
                }
                tx.commit().await.context("finishing a roll-up build")?;
            }
            Ok(RollupWrite { written, differed, superseded: false })
        })
    }

    /// Forgets a month's roll-ups (a month out of the kept window).
    pub async fn drop_rollup_month(&self, month: &str) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("dropping a roll-up month")?;
            sqlx::query(LOCK).execute(&mut *tx).await.context("taking the roll-up lock")?;
            sqlx::query("DELETE FROM report_rollups WHERE month = $1")
                .bind(month).execute(&mut *tx).await.context("dropping a roll-up month")?;
            sqlx::query("DELETE FROM report_rollup_months WHERE month = $1")
                .bind(month).execute(&mut *tx).await.context("dropping a roll-up month")?;
            tx.commit().await.context("dropping a roll-up month")?;
            Ok(())
        })
    }

    /// Takes up to `limit` units from the queue (`within`: only units in these path bounds)
    /// and, for every kept month, groups each unit's own records again and moves the difference
    /// into the unit and every unit above it. One transaction, behind the lock. While a month is
    /// being built nothing is taken: the build may have read a unit before its change, so the
    /// queue waits for the build to finish.
    pub async fn refresh_rollups(&self, limit: u32, within: Option<&(String, String)>) -> StoreResult<RollupRefresh> {
        // PostgreSQL: a unit whose writer has not committed is skipped (its queue row is locked
        // by the writer's upsert) and taken once it has, never read without its write.
        let skip_locked = if self.engine() == Engine::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let (low, high) = within.cloned().unwrap_or_else(|| ("/".to_owned(), "0".to_owned()));
        let take = format!(
            "SELECT unit_path FROM report_dirty WHERE unit_path >= $1 AND unit_path < $2 \
             ORDER BY unit_path LIMIT $3{skip_locked}"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a roll-up refresh")?;
            sqlx::query(LOCK).execute(&mut *tx).await.context("taking the roll-up lock")?;
            let months: Vec<(String, String)> = sqlx::query_as("SELECT month, state FROM report_rollup_months")
                .fetch_all(&mut *tx).await.context("listing the roll-up months")?;
            if months.iter().any(|(_, state)| state != "ready") {
                tx.commit().await.context("ending a roll-up refresh")?;
                return Ok(RollupRefresh { kept: true, ..RollupRefresh::default() });
            }
            let units: Vec<String> = sqlx::query_scalar(&take)
                .bind(&low).bind(&high).bind(i64::from(limit))
                .fetch_all(&mut *tx).await.context("reading the roll-up queue")?;
            if units.is_empty() {
                tx.commit().await.context("ending a roll-up refresh")?;
                return Ok(RollupRefresh::default());
            }
            let mut qb = sqlx::QueryBuilder::new("DELETE FROM report_dirty WHERE unit_path IN (");
            let mut list = qb.separated(", ");
            for u in &units {
                list.push_bind(u.as_str());
            }
            qb.push(")");
            qb.build().execute(&mut *tx).await.context("taking units from the roll-up queue")?;
            let mut moved = 0;
            for (month, _) in months.iter().filter(|(_, state)| state == "ready") {
                let (from, to) = month_days(month)?;
                for unit in &units {
                    let mut high = unit.clone();
                    // Only the unit's own records: its path and nothing below it.
                    high.push('\u{1}');
                    let q = leaf_query((unit.clone(), high), true, from, to);
                    let new = own_rows(group_rows!(tx, &q).await?).remove(unit.as_str()).unwrap_or_default();
                    let old = read_rows!(
                        &mut *tx,
                        &format!(
                            "SELECT kind, child, direction, gender, age, marital, reason, reach, province, at_end, \
                             arrived, gone, flags, born, delivered, count FROM report_rollups \
                             WHERE month = $1 AND holder = $2 AND child = '' \
                             AND kind IN ({KIND_PEOPLE}, {KIND_FACTS}, {KIND_OWN_DETAILED})"
                        ),
                        month, unit.as_str()
                    );
                    let mut delta: HashMap<GroupKey, i64> = new;
                    for (key, count) in old {
                        *delta.entry(key).or_default() -= count;
                    }
                    delta.retain(|_, n| *n != 0);
                    if delta.is_empty() {
                        continue;
                    }
                    let rows = spread(&HashMap::from([(unit.clone(), delta)]));
                    moved += write_rows!(tx, month.as_str(), rows.iter(), true);
                    sqlx::query("DELETE FROM report_rollups WHERE month = $1 AND holder = $2 AND child = '' AND count = 0")
                        .bind(month).bind(unit).execute(&mut *tx).await.context("tidying report roll-ups")?;
                }
            }
            tx.commit().await.context("ending a roll-up refresh")?;
            Ok(RollupRefresh { units: units.len() as u64, moved, kept: false })
        })
    }

    /// Whether a unit in a subtree (`range`: path bounds) waits to be grouped again.
    pub async fn rollups_waiting(&self, range: &(String, String)) -> StoreResult<bool> {
        let found: Option<i32> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT 1 FROM report_dirty WHERE unit_path >= $1 AND unit_path < $2 LIMIT 1",
        ).bind(&range.0).bind(&range.1).fetch_optional(pool).await)
        .context("checking the roll-up queue")?;
        Ok(found.is_some())
    }

    /// A month's groups of a unit's subtree (`holder`: its path) as kept: the rows of
    /// [`Store::report_groups`] for the same month, read from the unit's own roll-ups — or
    /// `None` when they may not stand for the records (see [`Store::rollup_group_rows`]).
    pub async fn rollup_groups(
        &self,
        holder: &str,
        month: &str,
        by_child: bool,
        details: bool,
        flow: Option<Flow>,
    ) -> StoreResult<Option<Groups>> {
        self.rollup_group_rows(holder, month, by_child, details, flow).await?.map(groups_of).transpose()
    }

    /// The rows of [`Store::rollup_groups`], as [`Store::report_group_rows`] gives them; `None`
    /// unless, in one snapshot, the month is kept whole and no unit of the subtree waits.
    pub async fn rollup_group_rows(
        &self,
        holder: &str,
        month: &str,
        by_child: bool,
        details: bool,
        flow: Option<Flow>,
    ) -> StoreResult<Option<GroupRows>> {
        let sql = rollup_read_sql(by_child, details, flow);
        let engine = self.engine();
        // The subtree's bounds (as `OrgPath::subtree_range`): the final `/` becomes `0`.
        let high = format!("{}0", holder.strip_suffix('/').unwrap_or(holder));
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a roll-up read")?;
            if engine == Engine::Postgres {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx).await.context("isolating a roll-up read")?;
            }
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM report_rollup_months WHERE month = $1")
                .bind(month).fetch_optional(&mut *tx).await.context("reading a roll-up month")?;
            let waiting: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM report_dirty WHERE unit_path >= $1 AND unit_path < $2 LIMIT 1",
            ).bind(holder).bind(&high).fetch_optional(&mut *tx).await.context("checking the roll-up queue")?;
            let rows = if state.as_deref() == Some("ready") && waiting.is_none() {
                Some(read_rows!(&mut *tx, &sql, month, holder))
            } else {
                None
            };
            tx.commit().await.context("ending a roll-up read")?;
            Ok(rows)
        })
    }

    /// The plan of a report's read of its unit's roll-ups.
    pub async fn explain_rollup_read(&self, holder: &str, month: &str, by_child: bool) -> StoreResult<String> {
        let sql = rollup_read_sql(by_child, !by_child, None);
        self.explain_text(&sql, &[month.to_owned(), holder.to_owned()], "explaining a roll-up read").await
    }

    /// Queues a unit to be grouped again (as a write to its records does).
    pub async fn queue_rollup_unit(&self, path: &str) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO report_dirty (unit_path) VALUES ($1) ON CONFLICT (unit_path) DO UPDATE SET unit_path = excluded.unit_path",
        ).bind(path).execute(pool).await.map(|_| ()))
        .context("queueing a unit's roll-ups")
    }

    /// The units that hold kept rows of a month (for the tests' comparisons).
    pub async fn rollup_holders(&self, month: &str) -> StoreResult<BTreeSet<String>> {
        let rows: Vec<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT DISTINCT holder FROM report_rollups WHERE month = $1",
        ).bind(month).fetch_all(pool).await)
        .context("listing roll-up holders")?;
        Ok(rows.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_counts_in_every_unit_on_its_way_up() {
        assert_eq!(
            holders("/37/3716/371602/371602001/371602001-05/"),
            vec![
                ("/37/".to_owned(), "3716".to_owned()),
                ("/37/3716/".to_owned(), "371602".to_owned()),
                ("/37/3716/371602/".to_owned(), "371602001".to_owned()),
                ("/37/3716/371602/371602001/".to_owned(), "371602001-05".to_owned()),
                ("/37/3716/371602/371602001/371602001-05/".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn months_end_on_their_last_day() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(month_days("2028-02").unwrap(), (d("2028-02-01"), d("2028-02-29")));
        assert_eq!(month_days("2026-12").unwrap(), (d("2026-12-01"), d("2026-12-31")));
        assert!(month_days("2026-13").is_err());
    }
}
