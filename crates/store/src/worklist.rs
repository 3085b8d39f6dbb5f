//! The clerk's day: the exchange items waiting in one subtree (path range `[low, high)`), and
//! the marks (done, snoozed) a unit put on its tasks. The work records make is kept per person
//! (`tasks.rs`). Every query is bounded by a path index and a row limit, so that the day of a
//! township stays quick in a province of millions.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::case::CaseTx;
use crate::{Context, Store, StoreResult, on_pool};

/// Rows a task query returns at most; the page says when there are more.
pub const TASK_LIMIT: i64 = 500;

/// An exchange item waiting on one side.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WaitingItem {
    pub id: i64,
    pub kind: String,
    pub urgency: String,
    pub status: String,
    pub person_name: String,
    pub from_unit: String,
    pub to_unit: String,
    pub due_on: Option<NaiveDate>,
    pub send_due_on: Option<NaiveDate>,
    pub reminded: bool,
}

/// The latest mark on a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub state: String,
    pub until: Option<NaiveDate>,
    pub reason: String,
    pub actor_name: String,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Exchange items waiting at the receiving side in the range (submitted or received and not
    /// answered), or with `drafts`, drafts waiting to be sent from it.
    pub async fn waiting_items(&self, low: &str, high: &str, drafts: bool) -> StoreResult<Vec<WaitingItem>> {
        let condition = if drafts {
            "i.from_path >= $1 AND i.from_path < $2 AND i.status = 'draft'"
        } else {
            "i.to_path >= $1 AND i.to_path < $2 AND (i.status = 'submitted' OR (i.status = 'received' AND i.answer_required))"
        };
        let sql = format!(
            "SELECT i.id, i.kind, i.urgency, i.status, i.person_name, i.from_unit, i.to_unit, i.due_on, i.send_due_on, \
               EXISTS (SELECT 1 FROM case_events e WHERE e.case_kind = 'exchange' AND e.case_id = i.id AND e.event = 'reminded') AS reminded \
             FROM exchange_items i WHERE {condition} \
             ORDER BY COALESCE(i.due_on, i.send_due_on), i.id LIMIT {TASK_LIMIT}"
        );
        on_pool!(self, pool => sqlx::query_as(&sql).bind(low).bind(high).fetch_all(pool).await)
            .context("reading waiting exchange items")
    }

    /// The latest mark on each task of a unit.
    pub async fn worklist_marks(&self, unit: &str) -> StoreResult<HashMap<String, Mark>> {
        type Row = (String, String, Option<NaiveDate>, String, String, DateTime<Utc>);
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(
            "SELECT task_key, state, until, reason, actor_name, at FROM worklist_marks WHERE unit = $1 ORDER BY id",
        ).bind(unit).fetch_all(pool).await)
        .context("reading worklist marks")?;
        Ok(rows
            .into_iter()
            .map(|(key, state, until, reason, actor_name, at)| (key, Mark { state, until, reason, actor_name, at }))
            .collect())
    }

    /// Marks a task of a unit done, or snoozed until a day, with the audit entry.
    #[expect(clippy::too_many_arguments, reason = "the mark, and its audit")]
    pub async fn mark_task(
        &self,
        unit: &str,
        key: &str,
        state: &str,
        until: Option<NaiveDate>,
        reason: &str,
        actor_name: &str,
        now: DateTime<Utc>,
        audit: &crate::AuditDraft,
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a worklist mark")?;
            sqlx::query(
                "INSERT INTO worklist_marks (unit, task_key, state, until, reason, actor_name, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(unit).bind(key).bind(state).bind(until).bind(reason).bind(actor_name).bind(now)
            .execute(&mut *tx).await.context("marking a task")?;
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a worklist mark")?;
            Ok(())
        })
    }
}

impl Store {
    /// For benchmarks: gives a share of the active women sections that make work — an open
    /// pregnancy (1 in 31), a child born in the last weeks (1 in 37), a prenatal check (1 in 62)
    /// and a certificate running out around `today` (1 in 29) — with one INSERT … SELECT each.
    pub async fn seed_bench_sections(&self, today: NaiveDate, now: DateTime<Utc>) -> StoreResult<u64> {
        let d = |days: i64| today + chrono::Duration::days(days);
        let statements: [(&str, Vec<NaiveDate>); 4] = [
            (
                "INSERT INTO person_pregnancies (person_id, detected_on, expected_on, created_at, created_by, managing_path) \
                 SELECT id, $1, $2, $3, 'bench', managing_path FROM persons WHERE gender = '2' AND status = 'active' AND id % 31 = 0",
                vec![d(-25), d(200)],
            ),
            (
                "INSERT INTO person_children (person_id, name, gender, birth_date, created_at, created_by, managing_path) \
                 SELECT id, '新生儿', '1', $1, $2, 'bench', managing_path FROM persons WHERE gender = '2' AND status = 'active' AND id % 37 = 0",
                vec![d(-3)],
            ),
            (
                "INSERT INTO person_checks (person_id, kind, done_on, created_at, created_by) \
                 SELECT id, 'prenatal', $1, $2, 'bench' FROM persons WHERE gender = '2' AND status = 'active' AND id % 62 = 0",
                vec![d(-20)],
            ),
            (
                "INSERT INTO person_certificates (person_id, number, issuer, issued_on, valid_until, created_at, created_by, managing_path) \
                 SELECT id, 'BENCH', 'bench', $1, $2, $3, 'bench', managing_path FROM persons WHERE gender = '2' AND status = 'active' AND id % 29 = 0",
                vec![d(-700), d(3)],
            ),
        ];
        let mut total = 0;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting the bench sections")?;
            for (sql, dates) in &statements {
                let mut q = sqlx::query(sql);
                for date in dates {
                    q = q.bind(*date);
                }
                total += q.bind(now).execute(&mut *tx).await.context("adding bench sections")?.rows_affected();
            }
            tx.commit().await.context("committing the bench sections")?;
            Ok::<_, crate::StoreError>(())
        })?;
        on_pool!(self, pool => sqlx::query("ANALYZE").execute(pool).await.map(|_| ()))
            .context("refreshing statistics")?;
        Ok(total)
    }
}

impl Store {
    /// Puts back the managing path the sections of the day carry wherever it differs from their
    /// person's (the daily check of migration 23's upkeep): the number of rows repaired, which
    /// is 0 unless a write path forgot it.
    pub async fn repair_section_units(&self) -> StoreResult<u64> {
        let mut repaired = 0;
        for section in crate::sections::UNIT_SECTIONS {
            let t = section.table();
            let sql = format!(
                "UPDATE {t} SET managing_path = (SELECT p.managing_path FROM persons p WHERE p.id = {t}.person_id) \
                 WHERE managing_path <> (SELECT p.managing_path FROM persons p WHERE p.id = {t}.person_id)"
            );
            repaired += on_pool!(self, pool => sqlx::query(&sql).execute(pool).await.map(|r| r.rows_affected()))
                .context("repairing the units of the sections")?;
        }
        Ok(repaired)
    }
}
