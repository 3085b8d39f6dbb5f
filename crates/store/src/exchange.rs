//! Information exchange: the working-day calendar, exchange items and their timeline, the
//! notification outbox and the runs of scheduled jobs. A state change is one conditional UPDATE
//! (so a second answer, or a receipt of a draft, changes nothing) plus its timeline row and
//! audit entry, in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use domain::calendar::{CalendarDay, DayKind};
use domain::exchange::Counts;

use domain::OrgCode;
use domain::case::CaseKind;
use domain::exchange::{ItemAction, Kind, Status, Urgency};

use crate::case::{
    CaseTx, Change, EventActor, NOTIFICATION_COLUMNS, NewNotification, Notification, NotificationRow, Step,
    notifications_of,
};
use crate::{AuditDraft, Binds, Context, Page, Store, StoreResult, count_and_list, on_pool};

/// One stored exchange item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: i64,
    pub kind: Kind,
    pub categories: String,
    pub reason: Option<String>,
    pub urgency: Urgency,
    pub status: Status,
    pub person_id: i64,
    pub person_name: String,
    pub person_id_number: Option<String>,
    pub origin_area: String,
    pub origin_address: String,
    /// The county that sends it.
    pub from_unit: OrgCode,
    /// Where on the sending side it sits (the person's managing unit): who below the county sees it.
    pub from_path: String,
    /// The county that receives it.
    pub to_unit: OrgCode,
    /// Where on the receiving side it sits (the origin's area, as deep as known).
    pub to_path: String,
    pub remarks: String,
    pub source: String,
    pub event_on: Option<NaiveDate>,
    pub send_due_on: Option<NaiveDate>,
    pub answer_required: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub cycle: Option<String>,
    pub receipt_due_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub calendar_assumed: bool,
    pub received_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub found: Option<bool>,
    pub answer_remarks: Option<String>,
    pub search_steps: Option<String>,
    pub facts: Option<String>,
    pub answered_on_time: Option<bool>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub send_overdue_at: Option<DateTime<Utc>>,
}

/// An item as stored: its codes as text, its ID number sealed.
#[derive(sqlx::FromRow)]
pub(crate) struct ItemRow {
    id: i64,
    kind: String,
    categories: String,
    reason: Option<String>,
    urgency: String,
    status: String,
    person_id: i64,
    person_name: String,
    person_id_number: Option<String>,
    origin_area: String,
    origin_address: String,
    from_unit: String,
    from_path: String,
    to_unit: String,
    to_path: String,
    remarks: String,
    source: String,
    event_on: Option<NaiveDate>,
    send_due_on: Option<NaiveDate>,
    answer_required: bool,
    created_at: DateTime<Utc>,
    created_by: String,
    submitted_at: Option<DateTime<Utc>>,
    cycle: Option<String>,
    receipt_due_on: Option<NaiveDate>,
    due_on: Option<NaiveDate>,
    calendar_assumed: bool,
    received_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    found: Option<bool>,
    answer_remarks: Option<String>,
    search_steps: Option<String>,
    facts: Option<String>,
    answered_on_time: Option<bool>,
    overdue_at: Option<DateTime<Utc>>,
    send_overdue_at: Option<DateTime<Utc>>,
}

pub(crate) const ITEM_ID_NUMBER: &str = "exchange_items.person_id_number";

fn corrupt(what: &'static str, detail: &str) -> crate::StoreError {
    crate::StoreError::Corrupt { what, detail: detail.to_owned() }
}

/// An item as read: typed, its sealed ID number opened.
pub(crate) fn opened_item(r: ItemRow) -> StoreResult<Item> {
    Ok(Item {
        id: r.id,
        kind: Kind::parse(&r.kind).ok_or_else(|| corrupt("item's kind", &r.kind))?,
        categories: r.categories,
        reason: r.reason,
        urgency: Urgency::parse(&r.urgency).ok_or_else(|| corrupt("item's urgency", &r.urgency))?,
        status: Status::parse(&r.status).ok_or_else(|| corrupt("item's status", &r.status))?,
        person_id: r.person_id,
        person_name: r.person_name,
        person_id_number: crate::seal::unseal_opt(ITEM_ID_NUMBER, r.person_id_number)?,
        origin_area: r.origin_area,
        origin_address: r.origin_address,
        from_unit: OrgCode::parse(&r.from_unit).map_err(|_| corrupt("item's sender", &r.from_unit))?,
        from_path: r.from_path,
        to_unit: OrgCode::parse(&r.to_unit).map_err(|_| corrupt("item's receiver", &r.to_unit))?,
        to_path: r.to_path,
        remarks: r.remarks,
        source: r.source,
        event_on: r.event_on,
        send_due_on: r.send_due_on,
        answer_required: r.answer_required,
        created_at: r.created_at,
        created_by: r.created_by,
        submitted_at: r.submitted_at,
        cycle: r.cycle,
        receipt_due_on: r.receipt_due_on,
        due_on: r.due_on,
        calendar_assumed: r.calendar_assumed,
        received_at: r.received_at,
        answered_at: r.answered_at,
        found: r.found,
        answer_remarks: r.answer_remarks,
        search_steps: r.search_steps,
        facts: r.facts,
        answered_on_time: r.answered_on_time,
        overdue_at: r.overdue_at,
        send_overdue_at: r.send_overdue_at,
    })
}

pub(crate) fn opened_items(rows: Vec<ItemRow>) -> StoreResult<Vec<Item>> {
    rows.into_iter().map(opened_item).collect()
}

pub(crate) const ITEM_COLUMNS: &str = "id, kind, categories, reason, urgency, status, person_id, person_name, person_id_number, \
    origin_area, origin_address, from_unit, from_path, to_unit, to_path, remarks, source, event_on, send_due_on, \
    answer_required, created_at, created_by, submitted_at, cycle, receipt_due_on, due_on, calendar_assumed, \
    received_at, answered_at, found, answer_remarks, search_steps, facts, answered_on_time, overdue_at, send_overdue_at";

/// A new item, as a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub kind: Kind,
    pub categories: String,
    pub reason: Option<String>,
    pub urgency: Urgency,
    pub person_id: i64,
    pub person_name: String,
    pub person_id_number: Option<String>,
    pub origin_area: String,
    pub origin_address: String,
    pub from_unit: OrgCode,
    pub from_path: String,
    pub to_unit: OrgCode,
    pub to_path: String,
    pub remarks: String,
    pub source: String,
    pub event_on: Option<NaiveDate>,
    pub send_due_on: Option<NaiveDate>,
    pub answer_required: bool,
}

/// What submitting fixes: the terms the rules give the item on its submission day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The person as sent (the record may have been completed since the draft was made).
    pub person_name: String,
    pub person_id_number: Option<String>,
    pub origin_area: String,
    pub origin_address: String,
    pub urgency: Urgency,
    pub answer_required: bool,
    pub cycle: String,
    pub receipt_due_on: NaiveDate,
    /// The answer's last day when known at submission (a notification's follows its receipt).
    pub due_on: NaiveDate,
    pub calendar_assumed: bool,
}

/// An answer (反馈).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub found: bool,
    pub remarks: String,
    pub search_steps: String,
    pub facts: String,
}

/// Which items a list shows. Path ranges are `[low, high)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    /// Items whose receiving side lies in this range (the inbox).
    pub to_within: Option<(String, String)>,
    /// Items whose sending side lies in this range (the outbox).
    pub from_within: Option<(String, String)>,
    /// Items on either side of this range.
    pub either_within: Option<(String, String)>,
    pub statuses: Vec<String>,
    pub kind: Option<String>,
    pub cycle: Option<String>,
    pub overdue: Option<bool>,
    pub person_id: Option<i64>,
}

/// The WHERE clause and its arguments for a filter (all text; dates and ids are compared as
/// their text on SQLite and cast on PostgreSQL, so they are bound in their own types below).
fn item_where(f: &ItemFilter) -> (String, Vec<String>) {
    let mut clauses = vec!["TRUE".to_owned()];
    let mut b = Binds::default();
    if let Some(range) = &f.to_within {
        clauses.push(b.range("to_path", range));
    }
    if let Some(range) = &f.from_within {
        clauses.push(b.range("from_path", range));
    }
    if let Some(range) = &f.either_within {
        let (to, from) = (b.range("to_path", range), b.range("from_path", range));
        clauses.push(format!("(({to}) OR ({from}))"));
    }
    if !f.statuses.is_empty() {
        clauses.push(format!("status IN ({})", b.list(&f.statuses)));
    }
    if let Some(k) = &f.kind {
        clauses.push(format!("kind = {}", b.bind(k)));
    }
    if let Some(c) = &f.cycle {
        clauses.push(format!("cycle = {}", b.bind(c)));
    }
    match f.overdue {
        Some(true) => clauses.push(
            "((overdue_at IS NOT NULL AND status <> 'answered') OR (send_overdue_at IS NOT NULL AND status = 'draft'))"
                .to_owned(),
        ),
        Some(false) => clauses.push("overdue_at IS NULL AND send_overdue_at IS NULL".to_owned()),
        None => {}
    }
    if let Some(p) = f.person_id {
        // Ids are digits: safe to inline, and it spares a second argument type.
        clauses.push(format!("person_id = {p}"));
    }
    (clauses.join(" AND "), b.0)
}

/// What submitting writes into the draft's row.
fn submission_change(s: &Submission, now: DateTime<Utc>) -> StoreResult<Change> {
    Ok(Change::new()
        .set("submitted_at", now)
        .set("urgency", s.urgency.as_str())
        .set("answer_required", s.answer_required)
        .set("cycle", s.cycle.as_str())
        .set("receipt_due_on", s.receipt_due_on)
        .set("due_on", s.due_on)
        .set("calendar_assumed", s.calendar_assumed)
        .set("person_name", s.person_name.as_str())
        .set("person_id_number", crate::seal::seal_opt(ITEM_ID_NUMBER, s.person_id_number.as_deref())?)
        .set("origin_area", s.origin_area.as_str())
        .set("origin_address", s.origin_address.as_str()))
}

impl Store {
    // ---- calendar -------------------------------------------------------------------------

    /// Adds the shipped days of every shipped year not yet announced here, and records the year,
    /// so that a new release's year arrives and the administrator's changes to a known year stay.
    pub async fn seed_calendar(&self, days: &[CalendarDay], now: DateTime<Utc>) -> StoreResult<u64> {
        let known: Vec<i32> = on_pool!(self, pool => sqlx::query_scalar("SELECT year FROM calendar_years")
            .fetch_all(pool).await)
        .context("reading the calendar years")?;
        let fresh: Vec<&CalendarDay> =
            days.iter().filter(|d| !known.contains(&chrono::Datelike::year(&d.date))).collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        let years: std::collections::BTreeSet<i32> = fresh.iter().map(|d| chrono::Datelike::year(&d.date)).collect();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting the calendar seed")?;
            for d in &fresh {
                sqlx::query(
                    "INSERT INTO calendar_days (day, kind, holiday, updated_at, updated_by) VALUES ($1, $2, $3, $4, 'qipan') \
                     ON CONFLICT (day) DO NOTHING",
                )
                .bind(d.date).bind(d.kind.as_str()).bind(&d.holiday).bind(now)
                .execute(&mut *tx).await.context("seeding the calendar")?;
            }
            for y in &years {
                sqlx::query("INSERT INTO calendar_years (year, updated_at, updated_by) VALUES ($1, $2, 'qipan') ON CONFLICT (year) DO NOTHING")
                    .bind(*y).bind(now).execute(&mut *tx).await.context("recording a calendar year")?;
            }
            tx.commit().await.context("committing the calendar seed")?;
            Ok(fresh.len() as u64)
        })
    }

    /// The years whose notice the calendar holds.
    pub async fn calendar_years(&self) -> StoreResult<Vec<i32>> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT year FROM calendar_years ORDER BY year").fetch_all(pool).await)
            .context("reading the calendar years")
    }

    /// Declares a year's notice held (or not), with its audit entry.
    pub async fn set_calendar_year(
        &self,
        year: i32,
        announced: bool,
        actor_name: &str,
        now: DateTime<Utc>,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a calendar year change")?;
            if announced {
                sqlx::query("INSERT INTO calendar_years (year, updated_at, updated_by) VALUES ($1, $2, $3) ON CONFLICT (year) DO NOTHING")
                    .bind(year).bind(now).bind(actor_name).execute(&mut *tx).await.context("declaring a calendar year")?;
            } else {
                sqlx::query("DELETE FROM calendar_years WHERE year = $1")
                    .bind(year).execute(&mut *tx).await.context("withdrawing a calendar year")?;
            }
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a calendar year change")?;
            Ok(())
        })
    }

    /// Every announced day, in date order.
    pub async fn calendar_days(&self) -> StoreResult<Vec<CalendarDay>> {
        let rows: Vec<(NaiveDate, String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT day, kind, holiday FROM calendar_days ORDER BY day",
        ).fetch_all(pool).await)
        .context("reading the calendar")?;
        rows.into_iter()
            .map(|(date, kind, holiday)| {
                let kind = DayKind::parse(&kind)
                    .ok_or_else(|| crate::StoreError::Corrupt { what: "calendar day", detail: kind.clone() })?;
                Ok(CalendarDay { date, kind, holiday })
            })
            .collect()
    }

    /// Sets (or with `None`, clears) one day of the calendar, with its audit entry.
    pub async fn set_calendar_day(
        &self,
        date: NaiveDate,
        kind: Option<(DayKind, &str)>,
        actor_name: &str,
        now: DateTime<Utc>,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a calendar change")?;
            match kind {
                Some((kind, holiday)) => {
                    sqlx::query(
                        "INSERT INTO calendar_days (day, kind, holiday, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, holiday = excluded.holiday, \
                         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                    )
                    .bind(date).bind(kind.as_str()).bind(holiday).bind(now).bind(actor_name)
                    .execute(&mut *tx).await.context("setting a calendar day")?;
                }
                None => {
                    sqlx::query("DELETE FROM calendar_days WHERE day = $1")
                        .bind(date).execute(&mut *tx).await.context("clearing a calendar day")?;
                }
            }
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a calendar change")?;
            Ok(())
        })
    }

    // ---- items ----------------------------------------------------------------------------

    /// Stores a draft with its "created" timeline row, and when `submission` is given submits it
    /// at once (with its "submitted" row and the notifications to send), all in one transaction.
    pub async fn insert_item(
        &self,
        item: &NewItem,
        actor: &EventActor,
        now: DateTime<Utc>,
        submission: Option<(&Submission, &[NewNotification])>,
        audit: Option<&AuditDraft>,
    ) -> StoreResult<i64> {
        let sealed_number = crate::seal::seal_opt(ITEM_ID_NUMBER, item.person_id_number.as_deref())?;
        let change = match submission {
            Some((s, _)) => submission_change(s, now)?,
            None => Change::new(),
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting an exchange item")?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO exchange_items (kind, categories, reason, urgency, status, person_id, person_name, \
                 person_id_number, origin_area, origin_address, from_unit, from_path, to_unit, to_path, remarks, source, \
                 event_on, send_due_on, answer_required, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
                 RETURNING id",
            )
            .bind(item.kind.as_str()).bind(&item.categories).bind(&item.reason).bind(item.urgency.as_str())
            .bind(item.person_id).bind(&item.person_name).bind(&sealed_number).bind(&item.origin_area)
            .bind(&item.origin_address).bind(item.from_unit.as_str()).bind(&item.from_path)
            .bind(item.to_unit.as_str()).bind(&item.to_path).bind(&item.remarks)
            .bind(&item.source).bind(item.event_on).bind(item.send_due_on).bind(item.answer_required).bind(now)
            .bind(&actor.name)
            .fetch_one(&mut *tx)
            .await
            .context("adding an exchange item")?;
            let case = CaseKind::Exchange.case(id);
            tx.add_event(case, now, actor, "created", "").await?;
            if let Some((_, notifications)) = submission {
                let submit = ItemAction::Submit.transition();
                tx.move_case(case, &submit.from_names(), submit.to.as_str(), &change).await?;
                tx.add_event(case, now, actor, submit.event, "").await?;
                tx.queue_notifications(case, now, notifications).await?;
            }
            if let Some(audit) = audit {
                tx.append_audit(audit).await?;
            }
            tx.commit().await.context("committing an exchange item")?;
            Ok(id)
        })
    }

    pub async fn item(&self, id: i64) -> StoreResult<Option<Item>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM exchange_items WHERE id = $1");
        let row: Option<ItemRow> = on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
            .context("loading an exchange item")?;
        row.map(opened_item).transpose()
    }

    /// A page of items: overdue first, then urgent, then by last day, then newest.
    pub async fn items(&self, filter: &ItemFilter, page: Page) -> StoreResult<(i64, Vec<Item>)> {
        let (clause, args) = item_where(filter);
        let count_sql = format!("SELECT COUNT(*) FROM exchange_items WHERE {clause}");
        let list_sql = format!(
            "SELECT {ITEM_COLUMNS} FROM exchange_items WHERE {clause} \
             ORDER BY CASE WHEN status <> 'answered' AND (overdue_at IS NOT NULL OR send_overdue_at IS NOT NULL) THEN 0 ELSE 1 END, \
             CASE WHEN urgency = 'urgent' AND status <> 'answered' THEN 0 ELSE 1 END, \
             COALESCE(due_on, send_due_on) IS NULL, COALESCE(due_on, send_due_on), id DESC \
             LIMIT {} OFFSET {}",
            page.size,
            page.offset()
        );
        let (total, rows): (i64, Vec<ItemRow>) =
            on_pool!(self, pool => count_and_list!(pool, &count_sql, &list_sql, &args))
                .context("listing exchange items")?;
        Ok((total, opened_items(rows)?))
    }

    /// Submits a draft. False when it is not a draft (any more).
    pub async fn submit_item(&self, step: &Step<'_>, s: &Submission) -> StoreResult<bool> {
        self.advance_case(step, &ItemAction::Submit.transition(), &submission_change(s, step.now)?).await
    }

    /// Marks a submitted item received; `answer_due`: the answer's last day if receipt sets it
    /// (a notification's review), which clears an overdue mark. False when it is not waiting
    /// for receipt.
    pub async fn receive_item(&self, step: &Step<'_>, answer_due: Option<(NaiveDate, bool)>) -> StoreResult<bool> {
        let mut change = Change::new().set("received_at", step.now);
        if let Some((due, assumed)) = answer_due {
            change = change.set("due_on", due).set("overdue_at", None::<DateTime<Utc>>);
            if assumed {
                change = change.set("calendar_assumed", true);
            }
        }
        self.advance_case(step, &ItemAction::Receive.transition(), &change).await
    }

    /// Answers a received item. False when it is not waiting for an answer.
    pub async fn answer_item(&self, step: &Step<'_>, answer: &Answer, on_time: bool) -> StoreResult<bool> {
        let change = Change::new()
            .set("answered_at", step.now)
            .set("found", answer.found)
            .set("answer_remarks", answer.remarks.as_str())
            .set("search_steps", answer.search_steps.as_str())
            .set("facts", answer.facts.as_str())
            .set("answered_on_time", on_time);
        self.advance_case(step, &ItemAction::Answer.transition(), &change).await
    }

    /// Withdraws a draft (a suggestion the operator decided not to send); the step's note is the
    /// reason. False when it is not a draft (any more).
    pub async fn withdraw_item(&self, step: &Step<'_>) -> StoreResult<bool> {
        self.advance_case(step, &ItemAction::Withdraw.transition(), &Change::new()).await
    }

    /// Marks what is past its last day on `today` (China date): unanswered items past their
    /// answer's last day, items only to be received past their receipt's last day, and drafts
    /// (suggested notifications) past their sending limit. Each item is marked once, with a
    /// timeline row; the run is recorded. Returns how many were marked.
    pub async fn mark_overdue(&self, today: NaiveDate, now: DateTime<Utc>, job: &str) -> StoreResult<u64> {
        let system = EventActor::system();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting the overdue job")?;
            let late: Vec<i64> = sqlx::query_scalar(
                "UPDATE exchange_items SET overdue_at = $1 WHERE overdue_at IS NULL AND due_on < $2 AND ( \
                   (answer_required AND status IN ('submitted', 'received')) OR \
                   (NOT answer_required AND status = 'submitted')) RETURNING id",
            )
            .bind(now).bind(today)
            .fetch_all(&mut *tx).await.context("marking overdue items")?;
            for id in &late {
                tx.add_event(CaseKind::Exchange.case(*id), now, &system, "overdue", "").await?;
            }
            let unsent: Vec<i64> = sqlx::query_scalar(
                "UPDATE exchange_items SET send_overdue_at = $1 \
                 WHERE send_overdue_at IS NULL AND status = 'draft' AND send_due_on < $2 RETURNING id",
            )
            .bind(now).bind(today)
            .fetch_all(&mut *tx).await.context("marking unsent notifications")?;
            for id in &unsent {
                tx.add_event(CaseKind::Exchange.case(*id), now, &system, "send_overdue", "").await?;
            }
            let marked = (late.len() + unsent.len()) as i64;
            sqlx::query("INSERT INTO job_runs (job, at, outcome, marked) VALUES ($1, $2, 'done', $3)")
                .bind(job).bind(now).bind(marked)
                .execute(&mut *tx).await.context("recording a job run")?;
            tx.commit().await.context("committing the overdue job")?;
            Ok(marked as u64)
        })
    }

    /// The time of the latest completed run of a job.
    pub async fn last_job_run(&self, job: &str) -> StoreResult<Option<DateTime<Utc>>> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT at FROM job_runs WHERE job = $1 AND outcome = 'done' ORDER BY id DESC LIMIT 1",
        ).bind(job).fetch_optional(pool).await)
        .context("reading the last job run")
    }

    /// Records a run that did nothing, and why.
    pub async fn record_job_refusal(&self, job: &str, at: DateTime<Utc>, why: &str) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("INSERT INTO job_runs (job, at, outcome, marked) VALUES ($1, $2, $3, 0)")
            .bind(job).bind(at).bind(why).execute(pool).await.map(|_| ()))
        .context("recording a refused job run")
    }

    /// Counts of one cycle per unit: `(sent per sending county, incoming/received/answered per
    /// receiving county)`, as of `close` (receipts and answers after it do not count).
    pub async fn cycle_counts(&self, cycle: &str, close: DateTime<Utc>) -> StoreResult<Vec<(String, Counts)>> {
        let sent: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT from_unit, COUNT(*) FROM exchange_items WHERE cycle = $1 GROUP BY from_unit",
        ).bind(cycle).fetch_all(pool).await)
        .context("counting items sent")?;
        let incoming: Vec<(String, i64, i64, i64, i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT to_unit, COUNT(*), \
               SUM(CASE WHEN received_at <= $2 THEN 1 ELSE 0 END), \
               SUM(CASE WHEN answer_required THEN 1 ELSE 0 END), \
               SUM(CASE WHEN answered_at <= $2 AND answer_required THEN 1 ELSE 0 END), \
               SUM(CASE WHEN answered_at <= $2 AND answer_required AND answered_on_time THEN 1 ELSE 0 END) \
             FROM exchange_items WHERE cycle = $1 GROUP BY to_unit",
        ).bind(cycle).bind(close).fetch_all(pool).await)
        .context("counting items received")?;
        let mut out: std::collections::BTreeMap<String, Counts> = std::collections::BTreeMap::new();
        for (unit, n) in sent {
            out.entry(unit).or_default().sent = n as u64;
        }
        for (unit, n, received, due, answered, on_time) in incoming {
            let c = out.entry(unit).or_default();
            c.incoming = n as u64;
            c.received = received as u64;
            c.feedback_due = due as u64;
            c.answered = answered as u64;
            c.answered_on_time = on_time as u64;
        }
        Ok(out.into_iter().collect())
    }

    // ---- notifications ---------------------------------------------------------------------

    /// Notifications whose next attempt is due, oldest first.
    pub async fn due_notifications(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Notification>> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications n WHERE n.state = 'pending' AND n.next_attempt_at <= $1 \
             ORDER BY n.next_attempt_at, n.id LIMIT $2"
        );
        let rows: Vec<NotificationRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(now).bind(limit).fetch_all(pool).await)
        .context("reading due notifications")?;
        notifications_of(rows)
    }

    /// Records the outcome of one delivery attempt: sent, retry at `retry_at`, or failed for good.
    pub async fn record_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        channel: &str,
        outcome: Result<(), (&str, Option<DateTime<Utc>>)>,
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            let q = match outcome {
                Ok(()) => sqlx::query(
                    "UPDATE notifications SET state = 'sent', attempts = attempts + 1, sent_at = $1, last_error = NULL, \
                     channel = $3 WHERE id = $2 AND state = 'pending'",
                ).bind(now).bind(id).bind(channel.to_owned()),
                Err((error, Some(retry_at))) => sqlx::query(
                    "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
                     WHERE id = $3 AND state = 'pending'",
                ).bind(retry_at).bind(error.to_owned()).bind(id),
                Err((error, None)) => sqlx::query(
                    "UPDATE notifications SET state = 'failed', attempts = attempts + 1, last_error = $1 \
                     WHERE id = $2 AND state = 'pending'",
                ).bind(error.to_owned()).bind(id),
            };
            q.execute(pool).await.map(|_| ())
        })
        .context("recording a delivery")
    }

    /// The newest notifications of the cases on either side of `[low, high)` (all of them when
    /// `None`), newest first.
    pub async fn notifications(
        &self,
        unit_within: Option<(String, String)>,
        limit: i64,
    ) -> StoreResult<Vec<Notification>> {
        let mut sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications n \
             LEFT JOIN exchange_items i ON n.case_kind = 'exchange' AND i.id = n.case_id \
             LEFT JOIN supervision_orders o ON n.case_kind = 'order' AND o.id = n.case_id WHERE TRUE"
        );
        let mut args: Vec<String> = Vec::new();
        if let Some((lo, hi)) = unit_within {
            args.push(lo);
            args.push(hi);
            sql.push_str(
                " AND ((i.to_path >= $1 AND i.to_path < $2) OR (i.from_path >= $1 AND i.from_path < $2) \
                 OR (o.target_path >= $1 AND o.target_path < $2) OR (o.issuer_path >= $1 AND o.issuer_path < $2))",
            );
        }
        sql.push_str(&format!(" ORDER BY n.id DESC LIMIT {limit}"));
        let rows: Vec<NotificationRow> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })
        .context("listing notifications")?;
        notifications_of(rows)
    }
}

impl Store {
    /// The exchange operators of a county (active accounts holding the role at that unit), as
    /// (username, display name): the responsible persons an urgent item notifies.
    pub async fn county_operators(&self, unit: &str) -> StoreResult<Vec<(String, String)>> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT a.username, a.display_name FROM accounts a JOIN account_roles r ON r.account_id = a.id \
             WHERE a.org_code = $1 AND r.role = 'county_operator' AND NOT a.disabled ORDER BY a.username",
        ).bind(unit).fetch_all(pool).await)
        .context("finding a county's operators")
    }

    /// The names of some org units, by code (unknown codes are left out).
    pub async fn org_names(&self, codes: &[String]) -> StoreResult<std::collections::BTreeMap<String, String>> {
        if codes.is_empty() {
            return Ok(Default::default());
        }
        let list: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT code, name FROM org_units WHERE code IN ({})", list.join(", "));
        let rows: Vec<(String, String)> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for c in codes {
                q = q.bind(c);
            }
            q.fetch_all(pool).await
        })
        .context("reading org unit names")?;
        Ok(rows.into_iter().collect())
    }
}
