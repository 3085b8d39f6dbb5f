//! Supervision orders (督办) and reminders (催办), their timeline, and the monitoring queries.
//!
//! A state change is one conditional UPDATE (so answering a closed order, or closing one twice,
//! changes nothing) plus its timeline row, its audit entry and the notifications it sends, in one
//! transaction. Path ranges are `[low, high)`, as everywhere in the store. Who may do what is
//! decided in the service layer, never here.

use chrono::{DateTime, NaiveDate, Utc};

use domain::OrgCode;
use domain::case::CaseKind;
use domain::supervision::{OrderAction, OrderStatus, SubjectKind};

use crate::case::{CaseTx, Change, EventActor, NewNotification, Step};
use crate::{AuditDraft, Binds, Context, Page, Store, StoreError, StoreResult, count_and_list, on_pool};

/// One stored supervision order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: i64,
    /// The unit that opened the order (the issuing level).
    pub issuer_unit: OrgCode,
    /// The unit that must answer.
    pub target_unit: OrgCode,
    pub subject_kind: SubjectKind,
    /// The item id, the finding's key, or empty.
    pub subject_ref: String,
    /// The exchange cycle a reminder is about.
    pub cycle: Option<String>,
    pub title: String,
    pub body: String,
    /// The last day to answer.
    pub due_on: NaiveDate,
    pub status: OrderStatus,
    pub answer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
}

/// An order as stored: its codes as text.
#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    issuer_unit: String,
    target_unit: String,
    subject_kind: String,
    subject_ref: String,
    cycle: Option<String>,
    title: String,
    body: String,
    due_on: NaiveDate,
    status: String,
    answer: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
    answered_at: Option<DateTime<Utc>>,
    answered_by: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    closed_by: Option<String>,
}

fn corrupt(what: &'static str, detail: &str) -> StoreError {
    StoreError::Corrupt { what, detail: detail.to_owned() }
}

impl TryFrom<OrderRow> for Order {
    type Error = StoreError;
    fn try_from(r: OrderRow) -> StoreResult<Order> {
        Ok(Order {
            id: r.id,
            issuer_unit: OrgCode::parse(&r.issuer_unit).map_err(|_| corrupt("order's issuer", &r.issuer_unit))?,
            target_unit: OrgCode::parse(&r.target_unit).map_err(|_| corrupt("order's target", &r.target_unit))?,
            subject_kind: SubjectKind::parse(&r.subject_kind)
                .ok_or_else(|| corrupt("order's subject kind", &r.subject_kind))?,
            subject_ref: r.subject_ref,
            cycle: r.cycle,
            title: r.title,
            body: r.body,
            due_on: r.due_on,
            status: OrderStatus::parse(&r.status).ok_or_else(|| corrupt("order's status", &r.status))?,
            answer: r.answer,
            created_at: r.created_at,
            created_by: r.created_by,
            answered_at: r.answered_at,
            answered_by: r.answered_by,
            closed_at: r.closed_at,
            closed_by: r.closed_by,
        })
    }
}

fn typed(rows: Vec<OrderRow>) -> StoreResult<Vec<Order>> {
    rows.into_iter().map(Order::try_from).collect()
}

const ORDER_COLUMNS: &str = "id, issuer_unit, target_unit, subject_kind, subject_ref, cycle, \
    title, body, due_on, status, answer, created_at, created_by, answered_at, answered_by, closed_at, closed_by";

/// A new order, opened with status `open`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub issuer_unit: OrgCode,
    pub target_unit: OrgCode,
    pub subject_kind: SubjectKind,
    pub subject_ref: String,
    pub cycle: Option<String>,
    pub title: String,
    pub body: String,
    pub due_on: NaiveDate,
}

/// Which orders a list shows. Path ranges are `[low, high)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Orders addressed to this range or issued from it …
    pub within: Option<(String, String)>,
    /// … or addressed to one of these paths (the units above the actor, whose orders the actor
    /// may answer). Only read together with `within`.
    pub or_targets: Vec<String>,
    /// Orders addressed to one of these paths.
    pub targets: Vec<String>,
    /// Orders addressed to this range.
    pub target_within: Option<(String, String)>,
    /// Orders issued from this range.
    pub issuer_within: Option<(String, String)>,
    pub statuses: Vec<String>,
    pub subject_kind: Option<String>,
    /// Reminders about this exchange cycle.
    pub cycle: Option<String>,
    /// Only orders still open after their last day, as of this (China) date.
    pub overdue_on: Option<NaiveDate>,
}

/// The live figures of one part of the tree, for monitoring (every count is a number of rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Exchange items waiting at the unit: submitted and not yet received, or received and
    /// not yet answered although they ask for an answer.
    pub waiting: u64,
    /// Of those, past their last day.
    pub overdue: u64,
    /// Drafts of the unit not sent yet (suggested notifications among them).
    pub drafts: u64,
    /// Of those, past their sending limit.
    pub drafts_late: u64,
    /// Orders addressed to the unit and not answered yet.
    pub orders_open: u64,
    /// Of those, past their last day.
    pub orders_overdue: u64,
}

impl std::ops::AddAssign for Backlog {
    fn add_assign(&mut self, o: Backlog) {
        self.waiting += o.waiting;
        self.overdue += o.overdue;
        self.drafts += o.drafts;
        self.drafts_late += o.drafts_late;
        self.orders_open += o.orders_open;
        self.orders_overdue += o.orders_overdue;
    }
}

/// What part of a [`Backlog`] a grouped row fills.
#[derive(Clone, Copy)]
enum BacklogPart {
    Items,
    Drafts,
    Orders,
}

fn order_where(f: &OrderFilter) -> (String, Vec<String>) {
    let mut clauses = vec!["TRUE".to_owned()];
    let mut b = Binds::default();
    if let Some(range) = &f.within {
        let (target, issuer) = (b.range("target_path", range), b.range("issuer_path", range));
        let mut either = format!("({target}) OR ({issuer})");
        if !f.or_targets.is_empty() {
            either.push_str(&format!(" OR target_path IN ({})", b.list(&f.or_targets)));
        }
        clauses.push(format!("({either})"));
    }
    if !f.targets.is_empty() {
        clauses.push(format!("target_path IN ({})", b.list(&f.targets)));
    }
    if let Some(range) = &f.target_within {
        clauses.push(b.range("target_path", range));
    }
    if let Some(range) = &f.issuer_within {
        clauses.push(b.range("issuer_path", range));
    }
    if !f.statuses.is_empty() {
        clauses.push(format!("status IN ({})", b.list(&f.statuses)));
    }
    if let Some(k) = &f.subject_kind {
        clauses.push(format!("subject_kind = {}", b.bind(k)));
    }
    if let Some(c) = &f.cycle {
        clauses.push(format!("cycle = {}", b.bind(c)));
    }
    if let Some(day) = f.overdue_on {
        // A date is digits and dashes: safe to inline, and it spares binding a second type.
        clauses.push(format!("status = 'open' AND due_on < '{}'", day.format("%Y-%m-%d")));
    }
    (clauses.join(" AND "), b.0)
}

impl Store {
    /// Orders not closed (open, or answered and waiting for the issuer) addressed to the range
    /// `[low, high)` of org paths, by last day then id: the orders a unit's worklist shows.
    pub async fn open_orders_within(&self, low: &str, high: &str, limit: i64) -> StoreResult<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM supervision_orders \
             WHERE target_path >= $1 AND target_path < $2 AND status <> 'closed' ORDER BY due_on, id LIMIT $3"
        );
        let rows = on_pool!(self, pool => sqlx::query_as(&sql).bind(low).bind(high).bind(limit).fetch_all(pool).await)
            .context("listing open supervision orders")?;
        typed(rows)
    }

    /// Opens one order: the row, its "opened" timeline row, the notifications to the target
    /// unit and the audit entry, in one transaction. Returns its id.
    pub async fn insert_order(
        &self,
        order: &NewOrder,
        actor: &EventActor,
        now: DateTime<Utc>,
        notifications: &[NewNotification],
        audit: &AuditDraft,
    ) -> StoreResult<i64> {
        let ids = self.insert_orders(&[(order.clone(), notifications.to_vec(), audit.clone())], actor, now).await?;
        Ok(ids[0])
    }

    /// Opens several orders at once (bulk reminders): all or none. Each order has its own
    /// timeline row, notifications and audit entry. Returns the ids in the given order.
    pub async fn insert_orders(
        &self,
        orders: &[(NewOrder, Vec<NewNotification>, AuditDraft)],
        actor: &EventActor,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting supervision orders")?;
            let mut ids = Vec::with_capacity(orders.len());
            for (o, notifications, audit) in orders {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO supervision_orders (issuer_unit, issuer_path, target_unit, target_path, subject_kind, \
                     subject_ref, cycle, title, body, due_on, status, created_at, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $12) RETURNING id",
                )
                .bind(o.issuer_unit.as_str()).bind(o.issuer_unit.path().as_str())
                .bind(o.target_unit.as_str()).bind(o.target_unit.path().as_str())
                .bind(o.subject_kind.as_str()).bind(&o.subject_ref).bind(&o.cycle).bind(&o.title).bind(&o.body)
                .bind(o.due_on).bind(now).bind(&actor.name)
                .fetch_one(&mut *tx)
                .await
                .context("adding a supervision order")?;
                let step = Step { case: CaseKind::Order.case(id), actor, now, note: "", notifications, audit };
                tx.record_step(&step, "opened").await?;
                ids.push(id);
            }
            tx.commit().await.context("committing supervision orders")?;
            Ok(ids)
        })
    }

    pub async fn order(&self, id: i64) -> StoreResult<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM supervision_orders WHERE id = $1");
        let row: Option<OrderRow> = on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
            .context("loading a supervision order")?;
        row.map(Order::try_from).transpose()
    }

    /// A page of orders: open ones first, by last day, then the newest.
    pub async fn orders(&self, filter: &OrderFilter, page: Page) -> StoreResult<(i64, Vec<Order>)> {
        let (clause, args) = order_where(filter);
        let count_sql = format!("SELECT COUNT(*) FROM supervision_orders WHERE {clause}");
        let list_sql = format!(
            "SELECT {ORDER_COLUMNS} FROM supervision_orders WHERE {clause} \
             ORDER BY CASE status WHEN 'open' THEN 0 WHEN 'answered' THEN 1 ELSE 2 END, due_on, id DESC \
             LIMIT {} OFFSET {}",
            page.size,
            page.offset()
        );
        let (total, rows) = on_pool!(self, pool => count_and_list!(pool, &count_sql, &list_sql, &args))
            .context("listing supervision orders")?;
        Ok((total, typed(rows)?))
    }

    /// Answers an open order; the step's note is the answer. False when it is not open (any more).
    pub async fn answer_order(&self, step: &Step<'_>) -> StoreResult<bool> {
        let change = Change::new()
            .set("answer", step.note)
            .set("answered_at", step.now)
            .set("answered_by", step.actor.name.as_str());
        self.advance_case(step, &OrderAction::Answer.transition(), &change).await
    }

    /// Closes an order that is open or answered. False when it is closed already.
    pub async fn close_order(&self, step: &Step<'_>) -> StoreResult<bool> {
        let change = Change::new().set("closed_at", step.now).set("closed_by", step.actor.name.as_str());
        self.advance_case(step, &OrderAction::Close.transition(), &change).await
    }

    /// Reopens an answered or closed order (the answer did not settle it), with a new last day
    /// when given. False when it is open already.
    pub async fn reopen_order(&self, step: &Step<'_>, due_on: Option<NaiveDate>) -> StoreResult<bool> {
        let mut change = Change::new().set("closed_at", None::<DateTime<Utc>>).set("closed_by", None::<String>);
        if let Some(d) = due_on {
            change = change.set("due_on", d);
        }
        self.advance_case(step, &OrderAction::Reopen.transition(), &change).await
    }

    /// The live backlog under `[low, high)`, grouped by the exact org path it is attached to:
    /// items by `to_path`, drafts by `from_path`, orders by `target_path`. `today` is the China
    /// date that decides what is past its last day. The caller folds the paths into the units it
    /// shows (a path belongs to the child whose subtree holds it).
    pub async fn backlog_by_path(
        &self,
        low: &str,
        high: &str,
        today: NaiveDate,
    ) -> StoreResult<Vec<(String, Backlog)>> {
        let items: Vec<(String, i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT to_path, COUNT(*), SUM(CASE WHEN overdue_at IS NOT NULL OR due_on < $3 THEN 1 ELSE 0 END) \
             FROM exchange_items WHERE to_path >= $1 AND to_path < $2 \
             AND (status = 'submitted' OR (status = 'received' AND answer_required)) GROUP BY to_path",
        ).bind(low).bind(high).bind(today).fetch_all(pool).await)
        .context("counting waiting exchange items")?;
        let drafts: Vec<(String, i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT from_path, COUNT(*), \
             SUM(CASE WHEN send_overdue_at IS NOT NULL OR send_due_on < $3 THEN 1 ELSE 0 END) \
             FROM exchange_items WHERE from_path >= $1 AND from_path < $2 AND status = 'draft' GROUP BY from_path",
        ).bind(low).bind(high).bind(today).fetch_all(pool).await)
        .context("counting unsent drafts")?;
        let orders: Vec<(String, i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT target_path, COUNT(*), SUM(CASE WHEN due_on < $3 THEN 1 ELSE 0 END) \
             FROM supervision_orders WHERE target_path >= $1 AND target_path < $2 AND status = 'open' \
             GROUP BY target_path",
        ).bind(low).bind(high).bind(today).fetch_all(pool).await)
        .context("counting open supervision orders")?;
        let mut out: std::collections::BTreeMap<String, Backlog> = std::collections::BTreeMap::new();
        for (part, rows) in [(BacklogPart::Items, items), (BacklogPart::Drafts, drafts), (BacklogPart::Orders, orders)]
        {
            for (path, n, late) in rows {
                let b = out.entry(path).or_default();
                let (n, late) = (n as u64, late as u64);
                match part {
                    BacklogPart::Items => (b.waiting, b.overdue) = (n, late),
                    BacklogPart::Drafts => (b.drafts, b.drafts_late) = (n, late),
                    BacklogPart::Orders => (b.orders_open, b.orders_overdue) = (n, late),
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The accounts an order to `unit` notifies: active accounts at that unit that can answer it
    /// (clerks, officers, county operators), as (username, display name).
    pub async fn order_recipients(&self, unit: &str) -> StoreResult<Vec<(String, String)>> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT DISTINCT a.username, a.display_name FROM accounts a JOIN account_roles r ON r.account_id = a.id \
             WHERE a.org_code = $1 AND r.role IN ('village_clerk', 'township_officer', 'county_operator') \
             AND NOT a.disabled ORDER BY a.username",
        ).bind(unit).fetch_all(pool).await)
        .context("finding the accounts an order notifies")
    }

    /// Records registered from `from` to `to` (China dates, both included) and managed under
    /// `[low, high)`, grouped by managing path: `(path, registered, registered no later than the
    /// day of the move)`.
    pub async fn registrations_by_path(
        &self,
        low: &str,
        high: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(String, u64, u64)>> {
        let rows: Vec<(String, i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT managing_path, COUNT(*), SUM(CASE WHEN registered_on <= moved_on THEN 1 ELSE 0 END) \
             FROM persons WHERE managing_path >= $1 AND managing_path < $2 \
             AND registered_on >= $3 AND registered_on <= $4 GROUP BY managing_path",
        ).bind(low).bind(high).bind(from).bind(to).fetch_all(pool).await)
        .context("counting registrations")?;
        Ok(rows.into_iter().map(|(p, n, ok)| (p, n.max(0) as u64, ok.max(0) as u64)).collect())
    }

    /// Active records managed under `[low, high)`, per managing path, as the triggers of
    /// migration 27 keep them (one row per unit, not a pass over the records).
    pub async fn active_records_by_path(&self, low: &str, high: &str) -> StoreResult<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT managing_path, CAST(active AS BIGINT) FROM unit_record_counts \
             WHERE managing_path >= $1 AND managing_path < $2 AND active > 0",
        ).bind(low).bind(high).fetch_all(pool).await)
        .context("counting active records")?;
        Ok(rows.into_iter().map(|(p, n)| (p, n.max(0) as u64)).collect())
    }

    /// A page of what one part of the tree holds of a backlog (`part`: `waiting`, `overdue`,
    /// `drafts` or `drafts_late`, counted as in [`Store::backlog_by_path`]), by last day.
    pub async fn backlog_items(
        &self,
        low: &str,
        high: &str,
        part: BacklogItems,
        today: NaiveDate,
        page: Page,
    ) -> StoreResult<(i64, Vec<crate::Item>)> {
        let waiting =
            "to_path >= $1 AND to_path < $2 AND (status = 'submitted' OR (status = 'received' AND answer_required))";
        let drafts = "from_path >= $1 AND from_path < $2 AND status = 'draft'";
        let clause = match part {
            BacklogItems::Waiting => waiting.to_owned(),
            BacklogItems::Overdue => format!("{waiting} AND (overdue_at IS NOT NULL OR due_on < $3)"),
            BacklogItems::Drafts => drafts.to_owned(),
            BacklogItems::DraftsLate => format!("{drafts} AND (send_overdue_at IS NOT NULL OR send_due_on < $3)"),
        };
        // Every statement is given `$3` (today); the clauses that need no date still refer to it,
        // so that both drivers find each argument they are given in the statement.
        let clause = if clause.contains("$3") { clause } else { format!("{clause} AND $3 = $3") };
        let count_sql = format!("SELECT COUNT(*) FROM exchange_items WHERE {clause}");
        let list_sql = format!(
            "SELECT {} FROM exchange_items WHERE {clause} \
             ORDER BY COALESCE(due_on, send_due_on) IS NULL, COALESCE(due_on, send_due_on), id LIMIT {} OFFSET {}",
            crate::exchange::ITEM_COLUMNS,
            page.size,
            page.offset()
        );
        on_pool!(self, pool => {
            let total: i64 = match sqlx::query_scalar(&count_sql).bind(low).bind(high).bind(today).fetch_one(pool).await {
                Ok(n) => n,
                Err(e) => return Err(e).context("counting backlog items"),
            };
            sqlx::query_as(&list_sql).bind(low).bind(high).bind(today).fetch_all(pool).await.map(|rows| (total, rows))
        })
        .context("listing backlog items")
        .and_then(|(total, rows)| Ok((total, crate::exchange::opened_items(rows)?)))
    }
}

/// Which part of a backlog to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BacklogItems {
    Waiting,
    Overdue,
    Drafts,
    DraftsLate,
}

impl BacklogItems {
    pub const ALL: [BacklogItems; 4] =
        [BacklogItems::Waiting, BacklogItems::Overdue, BacklogItems::Drafts, BacklogItems::DraftsLate];

    pub fn as_str(self) -> &'static str {
        match self {
            BacklogItems::Waiting => "waiting",
            BacklogItems::Overdue => "overdue",
            BacklogItems::Drafts => "drafts",
            BacklogItems::DraftsLate => "drafts_late",
        }
    }

    pub fn parse(s: &str) -> Option<BacklogItems> {
        BacklogItems::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}
