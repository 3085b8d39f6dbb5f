//! The clerk's day: the facts that tasks are derived from, in one subtree (path range
//! `[low, high)`), and the marks (done, snoozed) a unit put on its tasks. Every query is bounded
//! by the managing or exchange path index and a row limit, so that the day of a township stays
//! quick in a province of millions.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::case::CaseTx;
use crate::{Context, Store, StoreResult, on_pool};

/// Rows a task query returns at most; the page says when there are more.
pub const TASK_LIMIT: i64 = 500;

/// A person the task is about.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskPerson {
    pub person_id: i64,
    pub name: String,
    pub managing_unit: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenPregnancy {
    #[sqlx(flatten)]
    pub person: TaskPerson,
    pub detected_on: NaiveDate,
    pub expected_on: Option<NaiveDate>,
    pub last_prenatal_check: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecentBirth {
    #[sqlx(flatten)]
    pub person: TaskPerson,
    pub born: NaiveDate,
    pub last_postnatal_check: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EndingCertificate {
    #[sqlx(flatten)]
    pub person: TaskPerson,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LateRegistration {
    #[sqlx(flatten)]
    pub person: TaskPerson,
    pub moved_on: NaiveDate,
    pub registered_on: NaiveDate,
}

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

const PERSON: &str = "p.id AS person_id, p.name, p.managing_unit";
const IN_RANGE: &str = "p.status = 'active' AND p.managing_path >= $1 AND p.managing_path < $2";

// Each kind of work starts from its own facts in the unit — open pregnancies, recent births,
// certificates running out, which carry their person's managing path (migration 23) — through
// an index on the path and the date, and reads each person by primary key (the person's own
// path and status are checked there too). SQLite is held to that order with CROSS JOIN;
// PostgreSQL chooses it from statistics. Recent registrations start from the date.
impl Store {
    fn section_join(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "CROSS JOIN",
            Store::Postgres(_) => "JOIN",
        }
    }

    fn open_pregnancies_sql(&self) -> String {
        format!(
            "SELECT {PERSON}, g.detected_on, g.expected_on, \
               (SELECT MAX(c.done_on) FROM person_checks c WHERE c.person_id = p.id \
                  AND c.kind IN ('pregnancy', 'prenatal')) AS last_prenatal_check \
             FROM person_pregnancies g {} persons p ON p.id = g.person_id \
             WHERE g.outcome IS NULL AND g.managing_path >= $1 AND g.managing_path < $2 \
               AND g.detected_on IS NOT NULL AND {IN_RANGE} ORDER BY p.id LIMIT {TASK_LIMIT}",
            self.section_join()
        )
    }

    /// Open pregnancies of active people managed in the range, with their latest prenatal check.
    pub async fn open_pregnancies(&self, low: &str, high: &str) -> StoreResult<Vec<OpenPregnancy>> {
        let sql = self.open_pregnancies_sql();
        on_pool!(self, pool => sqlx::query_as(&sql).bind(low).bind(high).fetch_all(pool).await)
            .context("reading open pregnancies")
    }

    fn recent_births_sql(&self) -> String {
        let check = "(SELECT MAX(c.done_on) FROM person_checks c WHERE c.person_id = p.id AND c.kind = 'postnatal')";
        let join = self.section_join();
        format!(
            "SELECT {PERSON}, k.birth_date AS born, {check} AS last_postnatal_check \
             FROM person_children k {join} persons p ON p.id = k.person_id \
             WHERE k.managing_path >= $1 AND k.managing_path < $2 AND k.birth_date >= $3 AND {IN_RANGE} \
             UNION \
             SELECT {PERSON}, g.ended_on AS born, {check} AS last_postnatal_check \
             FROM person_pregnancies g {join} persons p ON p.id = g.person_id \
             WHERE g.outcome = 'birth' AND g.managing_path >= $1 AND g.managing_path < $2 AND g.ended_on >= $3 \
               AND {IN_RANGE} \
             ORDER BY person_id LIMIT {TASK_LIMIT}"
        )
    }

    /// Births since `since` (children born, and pregnancies ended in a birth), with the latest
    /// postnatal check of the mother.
    pub async fn recent_births(&self, low: &str, high: &str, since: NaiveDate) -> StoreResult<Vec<RecentBirth>> {
        let sql = self.recent_births_sql();
        on_pool!(self, pool => sqlx::query_as(&sql).bind(low).bind(high).bind(since).fetch_all(pool).await)
            .context("reading recent births")
    }

    fn ending_certificates_sql(&self) -> String {
        // A certificate in the window that no later one of the same person replaces.
        format!(
            "SELECT DISTINCT {PERSON}, c.valid_until \
             FROM person_certificates c {} persons p ON p.id = c.person_id \
             WHERE c.managing_path >= $1 AND c.managing_path < $2 AND c.valid_until >= $3 AND c.valid_until <= $4 \
               AND {IN_RANGE} \
               AND NOT EXISTS (SELECT 1 FROM person_certificates l \
                               WHERE l.person_id = c.person_id AND l.valid_until > c.valid_until) \
             ORDER BY person_id LIMIT {TASK_LIMIT}",
            self.section_join()
        )
    }

    /// People whose latest certificate runs out between `from` and `to`.
    pub async fn ending_certificates(
        &self,
        low: &str,
        high: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<EndingCertificate>> {
        let sql = self.ending_certificates_sql();
        on_pool!(self, pool => sqlx::query_as(&sql).bind(low).bind(high).bind(from).bind(to).fetch_all(pool).await)
            .context("reading ending certificates")
    }

    fn late_registrations_sql(&self) -> String {
        // From the registrations of the last days, not the subtree's records: on SQLite the
        // path range is kept out of the index choice (`+`), so that it starts from the date.
        let p = match self {
            Store::Sqlite(_) => "+p",
            Store::Postgres(_) => "p",
        };
        format!(
            "SELECT {PERSON}, p.moved_on, p.registered_on FROM persons p \
             WHERE p.registered_on >= $3 AND p.registered_on > p.moved_on AND p.status = 'active' \
               AND {p}.managing_path >= $1 AND {p}.managing_path < $2 \
             ORDER BY p.registered_on DESC, p.id LIMIT {TASK_LIMIT}"
        )
    }

    /// Registrations since `since` that came after the day of the move.
    pub async fn late_registrations(
        &self,
        low: &str,
        high: &str,
        since: NaiveDate,
    ) -> StoreResult<Vec<LateRegistration>> {
        let sql = self.late_registrations_sql();
        on_pool!(self, pool => sqlx::query_as(&sql).bind(low).bind(high).bind(since).fetch_all(pool).await)
            .context("reading late registrations")
    }

    /// The plans of the clerk's day's queries over the range `[low, high)`, by name: on
    /// PostgreSQL with sequential scans priced out (one left means no index serves the query),
    /// on SQLite `EXPLAIN QUERY PLAN`'s lines.
    pub async fn explain_worklist(
        &self,
        low: &str,
        high: &str,
        day: NaiveDate,
    ) -> StoreResult<Vec<(&'static str, String)>> {
        let queries = [
            ("open pregnancies", self.open_pregnancies_sql(), 0),
            ("recent births", self.recent_births_sql(), 1),
            ("ending certificates", self.ending_certificates_sql(), 2),
            ("late registrations", self.late_registrations_sql(), 1),
        ];
        let mut plans = Vec::new();
        for (name, sql, dates) in queries {
            let lines = match self {
                Store::Postgres(pool) => {
                    let mut tx = pool.begin().await.context("explaining the clerk's day")?;
                    sqlx::query("SET LOCAL enable_seqscan = off")
                        .execute(&mut *tx)
                        .await
                        .context("explaining the clerk's day")?;
                    let explain = format!("EXPLAIN {sql}");
                    let mut q = sqlx::query_scalar::<_, String>(&explain).bind(low).bind(high);
                    for _ in 0..dates {
                        q = q.bind(day);
                    }
                    let lines = q.fetch_all(&mut *tx).await.context("explaining the clerk's day")?;
                    tx.rollback().await.context("explaining the clerk's day")?;
                    lines
                }
                Store::Sqlite(pool) => {
                    let explain = format!("EXPLAIN QUERY PLAN {sql}");
                    let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain).bind(low).bind(high);
                    for _ in 0..dates {
                        q = q.bind(day);
                    }
                    q.fetch_all(pool).await.context("explaining the clerk's day")?.into_iter().map(|r| r.3).collect()
                }
            };
            plans.push((name, lines.join("\n")));
        }
        Ok(plans)
    }

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
