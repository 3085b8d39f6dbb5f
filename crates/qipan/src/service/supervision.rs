//! Supervision (监管平台, DESIGN §8, seed 003): live monitoring of a subtree, the performance of
//! its units per cycle with their trend, the province's quarterly bulletin (通报), supervision
//! orders (督办) that a higher level opens on a lower unit, and reminders (催办) in bulk.
//!
//! Who may do what:
//! - monitoring, performance, bulletin: `Supervise` or `ExchangeAnswer` holders, on units in
//!   their subtree (outside it: "not found", audited);
//! - opening an order: `Supervise` holders, or county operators (`ExchangeAnswer`), on a unit
//!   strictly below their own; bulk reminders: `Supervise` holders;
//! - answering: accounts with `PersonWrite` or `ExchangeAnswer` whose unit is the order's target
//!   or lies below it; closing and reopening: `Supervise` or `ExchangeAnswer` holders whose unit
//!   is the issuing unit or lies above it. The other side of an order gets a conflict naming
//!   the rule; anyone else "not found".

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use domain::authz::Capability;
use domain::case::CaseKind;
use domain::exchange::{Counts, Cycle, Quarter, Rates};
use domain::supervision::OrderAction;
use domain::supervision::{
    self, BulletinFacts, OrderDraft, OrderStatus, Quality, Registrations, SubjectKind, child_path, needs_reminder,
};
use domain::{OrgCode, OrgLevel};
use serde_json::json;
use store::supervision::{Backlog, BacklogItems, NewOrder, Order, OrderFilter};
use store::{Item, NewNotification, OrgFilter, OrgScope, OrgUnit, Page};

use super::case::{Timeline, event_actor, refused, texts};
use super::exchange::Ranking;
use super::privacy::Project;
use super::{Actor, App, Listing, ServiceError, ServiceResult};
use crate::i18n::Locale;

// Registration timeliness counts "registered no later than the day of the move" in SQL: that is
// the late-registration rule only while the allowed delay is the same day.
const _: () = assert!(domain::quality::SAME_DAY == 0);

/// Cycles shown in a trend.
pub const TREND_CYCLES: usize = 6;

fn conflict(rule: &'static str) -> ServiceError {
    ServiceError::Conflict { rule }
}

/// Whether the exchange figures of a unit mean anything: the county is the subject of exchange,
/// so a city or province sums its counties, and below a county there is no figure of its own.
fn exchanges(level: OrgLevel) -> bool {
    matches!(level, OrgLevel::Province | OrgLevel::City | OrgLevel::County)
}

/// The sum of the counties under `code` (a county, city or province).
fn counts_under(code: &str, per_county: &[(String, Counts)]) -> Counts {
    let mut sum = Counts::default();
    for (county, c) in per_county {
        if county.starts_with(code) {
            sum += *c;
        }
    }
    sum
}

// ---- monitoring ---------------------------------------------------------------------------------

/// One child unit's live backlog.
#[derive(Debug, Clone)]
pub struct MonitorRow {
    pub unit: OrgUnit,
    pub backlog: Backlog,
}

/// The live backlog of a unit's children.
#[derive(Debug, Clone)]
pub struct Monitoring {
    pub unit: OrgUnit,
    /// From the actor's unit down to `unit` (the drill-down path back up).
    pub trail: Vec<OrgUnit>,
    pub rows: Vec<MonitorRow>,
    /// What waits at the unit itself (items addressed to the county as a whole, its own drafts).
    pub own: Backlog,
    pub total: Backlog,
    pub today: NaiveDate,
}

// ---- performance --------------------------------------------------------------------------------

/// One unit's scores in one cycle.
#[derive(Debug, Clone)]
pub struct Score {
    pub unit: OrgUnit,
    /// Exchange counts (`None` below a county: its county answers for it).
    pub counts: Option<Counts>,
    pub rates: Option<Rates>,
    pub registrations: Registrations,
    /// `None` when the actor cannot read personal records (the quality figures are about them).
    pub quality: Option<Quality>,
}

/// One cycle of a trend.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    pub cycle: Cycle,
    pub rates: Option<Rates>,
    pub registrations: Registrations,
}

/// A county whose feedback rate in the cycle is below the threshold.
#[derive(Debug, Clone)]
pub struct Lagging {
    pub unit: String,
    pub name: String,
    pub counts: Counts,
}

/// The scores of a unit's children in one cycle.
#[derive(Debug, Clone)]
pub struct Scores {
    pub cycle: Cycle,
    /// Whether the cycle has closed (the 27th has passed); before, the figures are live.
    pub closed: bool,
    pub rows: Vec<Score>,
    /// The whole subtree (records attached to the unit itself included).
    pub total: Score,
    /// The exchange counts of every county in the cycle.
    pub per_county: Vec<(String, Counts)>,
}

#[derive(Debug, Clone)]
pub struct Performance {
    pub unit: OrgUnit,
    pub trail: Vec<OrgUnit>,
    pub cycle: Cycle,
    /// Whether the cycle has closed (the 27th has passed); before, the figures are live.
    pub closed: bool,
    pub rows: Vec<Score>,
    pub total: Score,
    /// The unit's last cycles, oldest first, ending with `cycle`.
    pub trend: Vec<TrendPoint>,
    /// The province's ranking of counties in the cycle's quarter.
    pub ranking: Ranking,
    pub threshold: f64,
    /// The counties a bulk reminder would reach.
    pub lagging: Vec<Lagging>,
    /// Whether the actor may send bulk reminders.
    pub can_remind: bool,
}

/// What a bulk reminder did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reminded {
    /// The orders opened, one per county.
    pub orders: Vec<i64>,
    /// Counties left out because a reminder of this cycle was still open for them.
    pub skipped: Vec<String>,
}

/// The quarterly bulletin.
#[derive(Debug, Clone)]
pub struct Bulletin {
    pub province_name: String,
    pub ranking: Ranking,
    pub facts: BulletinFacts,
}

// ---- orders -------------------------------------------------------------------------------------

/// An order as asked for (the form's fields and the API's JSON).
#[derive(Debug, Clone, Default)]
pub struct OrderRequest {
    pub target: String,
    pub subject_kind: String,
    pub subject_ref: String,
    pub title: String,
    pub body: String,
    pub due_on: String,
}

/// What the actor may do with an order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderRights {
    /// The actor stands on the target side (the order's unit or below it).
    pub target_side: bool,
    /// The actor belongs to the order's unit itself: the one who answers for it. An order to a
    /// county is the county's to answer, not any village clerk's below it.
    pub at_target: bool,
    /// The actor stands on the issuing side (the issuing unit or above it).
    pub issuer_side: bool,
    pub answer: bool,
    pub close: bool,
    pub reopen: bool,
}

#[derive(Debug, Clone)]
pub struct OrderView {
    pub order: Order,
    pub timeline: Timeline,
    pub issuer_name: String,
    pub target_name: String,
    pub overdue: bool,
    pub rights: OrderRights,
}

/// Which orders a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderBox {
    /// Every order the actor may see.
    #[default]
    All,
    /// Orders addressed to the actor's unit or a unit above it (the actor may answer them).
    ToMe,
    /// Orders issued from the actor's subtree.
    Issued,
}

#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub mailbox: OrderBox,
    /// `open`, `answered`, `closed` or `overdue`.
    pub status: Option<String>,
    pub kind: Option<String>,
    pub page: Page,
}

/// A page of orders with the names of the units they name.
#[derive(Debug, Clone)]
pub struct OrderList {
    pub listing: Listing<Order>,
    pub names: BTreeMap<String, String>,
    pub today: NaiveDate,
}

/// Whether an order is open past its last day on `today`.
pub fn order_overdue(o: &Order, today: NaiveDate) -> bool {
    supervision::is_overdue(o.status, o.due_on, today)
}

/// Where the actor stands towards an order: whether it may see it, and its rights there.
pub(crate) fn order_rights(actor: &Actor, o: &Order) -> (bool, OrderRights) {
    let console = actor.subtree().is_none();
    let mine = actor.path();
    let (target, issuer) = (o.target_unit.path(), o.issuer_unit.path());
    let within = |p: &str| p.starts_with(mine.as_str());
    let target_side = console || mine.as_str().starts_with(target.as_str());
    let at_target = console || mine == target;
    let issuer_side = console || within(issuer.as_str());
    let visible = target_side || issuer_side || within(target.as_str());
    let status = o.status;
    let answers = actor.can(Capability::PersonWrite) || actor.can(Capability::ExchangeAnswer);
    let settles = actor.can(Capability::Supervise) || actor.can(Capability::ExchangeAnswer);
    let rights = OrderRights {
        target_side,
        at_target,
        issuer_side,
        answer: at_target && answers && status.answerable(),
        close: issuer_side && settles && status.closable(),
        reopen: issuer_side && settles && status.reopenable(),
    };
    (visible, rights)
}

fn parse_date(field: &'static str, raw: &str) -> ServiceResult<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| ServiceError::invalid(field, "rule.date", raw))
}

fn check_text(field: &'static str, text: &str, max: usize, required: bool) -> ServiceResult<String> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(ServiceError::invalid(field, "rule.required", ""));
    }
    if text.chars().count() > max {
        return Err(ServiceError::invalid(field, "rule.text_long", text.chars().take(20).collect::<String>()));
    }
    Ok(text.to_owned())
}

impl App {
    /// The unit a supervision page is about: the actor's own, or one in the actor's subtree
    /// (outside it: audited, "not found"); it must exist.
    async fn supervised_unit(&self, actor: &Actor, unit: Option<&OrgCode>) -> ServiceResult<OrgUnit> {
        let code = unit.cloned().unwrap_or_else(|| actor.org.clone());
        self.guard_target(
            actor,
            &[Capability::Supervise, Capability::ExchangeAnswer],
            &code,
            "thing.org_unit",
            code.to_string(),
        )
        .await?;
        self.store
            .org_unit(&code)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "thing.org_unit", key: code.to_string() })
    }

    /// The units from the actor's own down to `unit`.
    async fn trail(&self, actor: &Actor, unit: &OrgCode) -> ServiceResult<Vec<OrgUnit>> {
        let lineage = self.store.org_lineage(unit).await?;
        Ok(lineage.into_iter().filter(|u| actor.subtree().is_none() || actor.manages(&u.code)).collect())
    }

    /// Every unit directly below `unit`, by code.
    async fn children(&self, unit: &OrgCode) -> ServiceResult<Vec<OrgUnit>> {
        let filter = OrgFilter { scope: OrgScope::ChildrenOf(unit.clone()), level: None, text: None };
        let mut out = Vec::new();
        let mut number = 1;
        loop {
            let (batch, total) = self.store.list_org_units(&filter, Page { number, size: 1000 }).await?;
            let done = batch.is_empty() || out.len() + batch.len() >= total as usize;
            out.extend(batch);
            if done {
                return Ok(out);
            }
            number += 1;
        }
    }

    /// Live monitoring (动态监控): per child of `unit` (default the actor's), the exchange items
    /// waiting there and those overdue, the drafts not sent and those past their sending limit,
    /// and the open orders addressed there.
    pub async fn monitoring(&self, actor: &Actor, unit: Option<&OrgCode>) -> ServiceResult<Monitoring> {
        let unit = self.supervised_unit(actor, unit).await?;
        let trail = self.trail(actor, &unit.code).await?;
        let children = self.children(&unit.code).await?;
        let today = self.clock.today();
        let parent = unit.code.path();
        let (low, high) = parent.subtree_range();
        let mut by_child: BTreeMap<String, Backlog> = BTreeMap::new();
        let mut own = Backlog::default();
        let mut total = Backlog::default();
        for (path, b) in super::figures!(self, |s| s.backlog_by_path(&low, &high, today))? {
            total += b;
            match child_path(parent.as_str(), &path) {
                Some(child) => *by_child.entry(child.to_owned()).or_default() += b,
                None => own += b,
            }
        }
        let rows = children
            .into_iter()
            .map(|c| {
                let backlog = by_child.remove(c.code.path().as_str()).unwrap_or_default();
                MonitorRow { unit: c, backlog }
            })
            .collect::<Vec<_>>();
        // Paths that are no org unit on record (an item to a village not imported yet) count
        // with the unit itself, so that the rows add up to the total.
        for b in by_child.into_values() {
            own += b;
        }
        Ok(Monitoring { unit, trail, rows, own, total, today })
    }

    /// What one row of the monitoring counts: the items waiting at `unit`'s subtree (or overdue
    /// there), or its drafts not sent (or past their sending limit), by last day.
    pub async fn backlog_items(
        &self,
        actor: &Actor,
        unit: &OrgCode,
        part: BacklogItems,
        page: Page,
    ) -> ServiceResult<(OrgUnit, Listing<Item>)> {
        let unit = self.supervised_unit(actor, Some(unit)).await?;
        let (low, high) = unit.code.path().subtree_range();
        let (total, mut items) =
            super::figures!(self, |s| s.backlog_items(&low, &high, part, self.clock.today(), page))?;
        items.project(super::privacy::LIST_DISCLOSURE);
        Ok((unit, Listing::exact(items, total.max(0) as u64, page)))
    }

    /// Per-county counts of one cycle, as of its close (live before), and whether it closed.
    async fn counts_of(&self, cycle: Cycle) -> ServiceResult<(Vec<(String, Counts)>, bool)> {
        let close = domain::clock::china_day_end(cycle.closes_on());
        let now = self.clock.now();
        let closed = now > close;
        Ok((super::figures!(self, |s| s.cycle_counts(&cycle.to_string(), if closed { close } else { now }))?, closed))
    }

    /// The scores of the children of `unit` (default the actor's) in `cycle`, and of the whole
    /// subtree: exchange rates, registration timeliness, the data-quality score.
    pub async fn unit_scores(&self, actor: &Actor, unit: Option<&OrgCode>, cycle: Cycle) -> ServiceResult<Scores> {
        let unit = self.supervised_unit(actor, unit).await?;
        let (per_county, closed) = self.counts_of(cycle).await?;
        self.scores_of(actor, unit, cycle, per_county, closed).await
    }

    async fn scores_of(
        &self,
        actor: &Actor,
        unit: OrgUnit,
        cycle: Cycle,
        per_county: Vec<(String, Counts)>,
        closed: bool,
    ) -> ServiceResult<Scores> {
        let children = self.children(&unit.code).await?;
        let parent = unit.code.path();
        let (low, high) = parent.subtree_range();
        let (from, to) = cycle.submission_period();
        let mut registrations: BTreeMap<String, Registrations> = BTreeMap::new();
        let mut total_regs = Registrations::default();
        for (path, registered, on_time) in super::figures!(self, |s| s.registrations_by_path(&low, &high, from, to))? {
            let r = Registrations { registered, on_time };
            total_regs += r;
            if let Some(child) = child_path(parent.as_str(), &path) {
                *registrations.entry(child.to_owned()).or_default() += r;
            }
        }
        let quality = self.quality_by_child(actor, &unit).await?;
        let score = |u: OrgUnit, regs: Registrations, q: Option<Quality>| {
            let counts = exchanges(u.level).then(|| counts_under(u.code.as_str(), &per_county));
            Score { rates: counts.map(|c| c.rates()), counts, registrations: regs, quality: q, unit: u }
        };
        let rows = children
            .into_iter()
            .map(|c| {
                let path = c.code.path();
                let regs = registrations.get(path.as_str()).copied().unwrap_or_default();
                let q = quality.as_ref().map(|(by, _)| by.get(path.as_str()).copied().unwrap_or_default());
                score(c, regs, q)
            })
            .collect();
        let total = score(unit, total_regs, quality.as_ref().map(|(_, total)| *total));
        Ok(Scores { cycle, closed, rows, total, per_county })
    }

    /// Performance evaluation (绩效评估) of the children of `unit` in `cycle`: their scores; the
    /// unit's trend over the last cycles; the province's ranking; the counties below the
    /// reminder threshold.
    pub async fn performance(
        &self,
        actor: &Actor,
        unit: Option<&OrgCode>,
        cycle: Cycle,
        threshold: f64,
    ) -> ServiceResult<Performance> {
        let unit = self.supervised_unit(actor, unit).await?;
        let trail = self.trail(actor, &unit.code).await?;
        let (low, high) = unit.code.path().subtree_range();
        let (per_county, closed) = self.counts_of(cycle).await?;
        let Scores { rows, total, per_county, .. } =
            self.scores_of(actor, unit.clone(), cycle, per_county, closed).await?;

        let mut trend = Vec::with_capacity(TREND_CYCLES);
        let mut c = cycle;
        for _ in 0..TREND_CYCLES {
            let counts = if c == cycle { per_county.clone() } else { self.counts_of(c).await?.0 };
            let (from, to) = c.submission_period();
            let mut regs = Registrations::default();
            for (_, registered, on_time) in super::figures!(self, |s| s.registrations_by_path(&low, &high, from, to))? {
                regs += Registrations { registered, on_time };
            }
            let rates = exchanges(unit.level).then(|| counts_under(unit.code.as_str(), &counts).rates());
            trend.push(TrendPoint { cycle: c, rates, registrations: regs });
            c = c.prev();
        }
        trend.reverse();

        let province = OrgCode::parse(unit.code.province())
            .map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", unit.code.as_str()))?;
        let ranking = self.exchange_ranking(actor, &province, cycle.quarter()).await?;
        let lagging = self.lagging(actor, &unit.code, &per_county, threshold).await?;
        Ok(Performance {
            unit,
            trail,
            cycle,
            closed,
            rows,
            total,
            trend,
            ranking,
            threshold,
            lagging,
            can_remind: actor.can(Capability::Supervise),
        })
    }

    /// The kept quality findings of `unit`'s subtree, folded per child, with the active
    /// records per child: `(per child path, whole subtree)`. Both are counts kept per unit
    /// (decision 0022, migration 27). `None` when the actor may not read records.
    async fn quality_by_child(
        &self,
        actor: &Actor,
        unit: &OrgUnit,
    ) -> ServiceResult<Option<(BTreeMap<String, Quality>, Quality)>> {
        if !actor.can(Capability::PersonRead) {
            return Ok(None);
        }
        let parent = unit.code.path();
        let (low, high) = parent.subtree_range();
        let mut by_child: BTreeMap<String, Quality> = BTreeMap::new();
        let mut total = Quality::default();
        for (path, active) in super::figures!(self, |s| s.active_records_by_path(&low, &high))? {
            total.active += active;
            if let Some(child) = child_path(parent.as_str(), &path) {
                by_child.entry(child.to_owned()).or_default().active += active;
            }
        }
        // The findings as kept (decision 0022), after checking what waits, as the quality page does.
        self.refresh_quality(super::quality::READER_BUDGET).await?;
        for (path, n) in super::figures!(self, |s| s.quality_counts_by_path(Some(&(low.clone(), high.clone()))))? {
            total.findings += n;
            if let Some(child) = child_path(parent.as_str(), &path) {
                by_child.entry(child.to_owned()).or_default().findings += n;
            }
        }
        Ok(Some((by_child, total)))
    }

    /// The counties under `unit` (and strictly below the actor) whose feedback rate stays below
    /// the threshold.
    async fn lagging(
        &self,
        actor: &Actor,
        unit: &OrgCode,
        per_county: &[(String, Counts)],
        threshold: f64,
    ) -> ServiceResult<Vec<Lagging>> {
        let actor_path = actor.path();
        let mut out: Vec<(String, Counts)> = per_county
            .iter()
            .filter(|(code, c)| {
                needs_reminder(c, threshold)
                    && (actor.subtree().is_none() || supervision::reminder_target(code, unit, &actor_path))
                    && code.starts_with(unit.as_str())
                    && code.len() == 6
            })
            .cloned()
            .collect();
        out.sort_by(|(a, _), (b, _)| a.cmp(b));
        let names = self.store.org_names(&out.iter().map(|(u, _)| u.clone()).collect::<Vec<_>>()).await?;
        Ok(out
            .into_iter()
            .map(|(unit, counts)| Lagging { name: names.get(&unit).cloned().unwrap_or_default(), unit, counts })
            .collect())
    }

    /// Bulk reminders (催办): one order of kind `reminder` to every county under `unit` whose
    /// feedback rate in `cycle` is below `threshold`, with its figures in the text, each
    /// notifying the county's operators by SMS. A county whose reminder of this cycle is still
    /// open is left out, so that sending twice reminds nobody twice. All or nothing.
    pub async fn send_reminders(
        &self,
        actor: &Actor,
        unit: &OrgCode,
        cycle: Cycle,
        threshold: f64,
        due_on: Option<NaiveDate>,
    ) -> ServiceResult<Reminded> {
        self.guard(actor, Capability::Supervise).await?;
        let unit = self.supervised_unit(actor, Some(unit)).await?;
        let today = self.clock.today();
        let due_on = due_on.unwrap_or(today + Duration::days(supervision::REMINDER_DAYS));
        if let Some(rule) = supervision::due_problem(due_on, today) {
            return Err(ServiceError::invalid("field.due_on", rule, due_on.to_string()));
        }
        let (per_county, _) = self.counts_of(cycle).await?;
        let lagging = self.lagging(actor, &unit.code, &per_county, threshold).await?;
        let open = OrderFilter {
            target_within: Some(unit.code.path().subtree_range()),
            subject_kind: Some(SubjectKind::Reminder.as_str().to_owned()),
            cycle: Some(cycle.to_string()),
            statuses: vec!["open".to_owned(), "answered".to_owned()],
            ..Default::default()
        };
        let (_, already) = self.store.orders(&open, Page { number: 1, size: 10_000 }).await?;
        let zh = Locale::ZhCn.messages();
        let pct = |r: Option<f64>| r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".to_owned());
        let threshold_text = pct(Some(threshold));
        let mut batch = Vec::new();
        let mut skipped = Vec::new();
        for l in &lagging {
            if already.iter().any(|o| o.target_unit.as_str() == l.unit) {
                skipped.push(l.unit.clone());
                continue;
            }
            let target = OrgCode::parse(&l.unit)
                .map_err(|e| store::StoreError::Corrupt { what: "county code", detail: e.to_string() })?;
            let rate = pct(l.counts.rates().feedback_rate);
            let title = zh.fmt("supervision.reminder_title", &[("cycle", &cycle.to_string()), ("rate", &rate)]);
            let body = zh.fmt(
                "supervision.reminder_body",
                &[
                    ("name", &l.name),
                    ("cycle", &cycle.to_string()),
                    ("received", &l.counts.received.to_string()),
                    ("due", &l.counts.feedback_due.to_string()),
                    ("answered", &l.counts.answered.to_string()),
                    ("rate", &rate),
                    ("threshold", &threshold_text),
                    ("due_on", &due_on.to_string()),
                ],
            );
            let order = NewOrder {
                issuer_unit: actor.org.clone(),
                target_unit: target.clone(),
                subject_kind: SubjectKind::Reminder,
                subject_ref: cycle.to_string(),
                cycle: Some(cycle.to_string()),
                title: title.clone(),
                body,
                due_on,
            };
            let sms = zh.fmt("supervision.reminder_sms", &[("title", &title), ("due_on", &due_on.to_string())]);
            let notifications = self.order_messages(&l.unit, &sms).await?;
            let detail = json!({
                "kind": "reminder", "cycle": cycle.to_string(), "threshold": threshold,
                "feedback_due": l.counts.feedback_due, "answered": l.counts.answered,
            });
            let audit = self.audit_draft(actor, "order.open", Some(&target), None, detail);
            batch.push((order, notifications, audit));
        }
        let orders = if batch.is_empty() {
            Vec::new()
        } else {
            self.store.insert_orders(&batch, &event_actor(actor), self.clock.now()).await?
        };
        Ok(Reminded { orders, skipped })
    }

    /// The quarterly bulletin (通报) of a province: the ranking, the bottom three, the counties
    /// flagged, and the facts its summary states.
    pub async fn bulletin(
        &self,
        actor: &Actor,
        province: Option<&OrgCode>,
        quarter: Quarter,
    ) -> ServiceResult<Bulletin> {
        let province = province.cloned().unwrap_or_else(|| actor.org.clone());
        let ranking = self.exchange_ranking(actor, &province, quarter).await?;
        let facts = supervision::bulletin_facts(&ranking.rows.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>());
        let province_name =
            self.store.org_names(&[ranking.province.to_string()]).await?.into_values().next().unwrap_or_default();
        Ok(Bulletin { province_name, ranking, facts })
    }

    // ---- orders ---------------------------------------------------------------------------------

    /// Messages to the accounts of a unit that can answer an order (or to the unit's duty desk
    /// when it has none), through the notification outbox.
    async fn order_messages(&self, unit: &str, text: &str) -> ServiceResult<Vec<NewNotification>> {
        Ok(texts(unit, self.store.order_recipients(unit).await?, text))
    }

    /// Opens an order on a unit strictly below the actor's: `Supervise` holders, or county
    /// operators on their townships and villages. The target unit's accounts are notified.
    pub async fn open_order(&self, actor: &Actor, req: &OrderRequest) -> ServiceResult<i64> {
        self.guard_any(actor, &[Capability::Supervise, Capability::ExchangeAnswer]).await?;
        let raw = req.target.trim();
        if raw.is_empty() {
            return Err(ServiceError::invalid("field.target", "rule.required", ""));
        }
        let target = OrgCode::parse(raw).map_err(|_| ServiceError::invalid("field.target", "rule.org_code", raw))?;
        self.guard_target(
            actor,
            &[Capability::Supervise, Capability::ExchangeAnswer],
            &target,
            "thing.org_unit",
            target.to_string(),
        )
        .await?;
        let target_unit = self
            .store
            .org_unit(&target)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "thing.org_unit", key: target.to_string() })?;
        if actor.subtree().is_some() && !supervision::may_order(&actor.path(), &target.path()) {
            return Err(ServiceError::invalid("field.target", "order.rule.target_below", raw));
        }
        let kind = SubjectKind::parse(&req.subject_kind)
            .filter(|k| k.opened_by_hand())
            .ok_or_else(|| ServiceError::invalid("field.subject_kind", "rule.code_unknown", &req.subject_kind))?;
        let subject_ref = self.check_subject(kind, &req.subject_ref, &target).await?;
        let today = self.clock.today();
        let due_on = parse_date("field.due_on", &req.due_on)?;
        let draft = OrderDraft { title: &req.title, body: &req.body, due_on };
        if let Some((field, rule)) = supervision::order_problems(&draft, today).into_iter().next() {
            let value = match field {
                "field.due_on" => req.due_on.clone(),
                "field.title" => req.title.chars().take(20).collect(),
                _ => String::new(),
            };
            return Err(ServiceError::invalid(field, rule, value));
        }
        let order = NewOrder {
            issuer_unit: actor.org.clone(),
            target_unit: target.clone(),
            subject_kind: kind,
            subject_ref,
            cycle: None,
            title: req.title.trim().to_owned(),
            body: req.body.trim().to_owned(),
            due_on,
        };
        let zh = Locale::ZhCn.messages();
        let sms = zh.fmt(
            "order.sms_opened",
            &[("issuer", &actor.org_name), ("title", &order.title), ("due_on", &due_on.to_string())],
        );
        let notifications = self.order_messages(&target_unit.code.to_string(), &sms).await?;
        let detail = json!({"kind": kind.as_str(), "ref": order.subject_ref, "due_on": due_on.to_string()});
        let audit = self.audit_draft(actor, "order.open", Some(&target), None, detail);
        Ok(self.store.insert_order(&order, &event_actor(actor), self.clock.now(), &notifications, &audit).await?)
    }

    /// Checks what an order is about: an exchange item waiting at or sent from the target's
    /// subtree, or a personal record managed there (a quality finding); free text needs nothing.
    async fn check_subject(&self, kind: SubjectKind, raw: &str, target: &OrgCode) -> ServiceResult<String> {
        let raw = raw.trim();
        let (low, high) = target.path().subtree_range();
        let inside = |p: &str| p >= low.as_str() && p < high.as_str();
        match kind {
            SubjectKind::Free | SubjectKind::Reminder => Ok(String::new()),
            SubjectKind::Item => {
                let id: i64 =
                    raw.parse().map_err(|_| ServiceError::invalid("field.subject_ref", "rule.number", raw))?;
                match self.store.item(id).await? {
                    Some(i) if inside(&i.to_path) || inside(&i.from_path) => Ok(id.to_string()),
                    _ => Err(ServiceError::invalid("field.subject_ref", "order.rule.item_elsewhere", raw)),
                }
            }
            SubjectKind::Finding => {
                let id: i64 =
                    raw.parse().map_err(|_| ServiceError::invalid("field.subject_ref", "rule.number", raw))?;
                match self.store.person(id).await? {
                    Some(p) if OrgCode::parse(&p.managing_unit).is_ok_and(|c| inside(c.path().as_str())) => {
                        Ok(id.to_string())
                    }
                    _ => Err(ServiceError::invalid("field.subject_ref", "order.rule.record_elsewhere", raw)),
                }
            }
        }
    }

    /// Loads an order the actor may see; otherwise the guard audits the attempt: "not found".
    async fn visible_order(&self, actor: &Actor, id: i64) -> ServiceResult<(Order, OrderRights)> {
        self.visible_case::<Order>(actor, id).await
    }

    /// One order with its timeline and notifications.
    pub async fn supervision_order(&self, actor: &Actor, id: i64) -> ServiceResult<OrderView> {
        let (mut order, rights) = self.visible_order(actor, id).await?;
        order.project(super::privacy::TEXT_DISCLOSURE);
        let timeline = self.timeline(CaseKind::Order.case(id), super::privacy::TEXT_DISCLOSURE).await?;
        let names = self.store.org_names(&[order.issuer_unit.to_string(), order.target_unit.to_string()]).await?;
        Ok(OrderView {
            issuer_name: names.get(order.issuer_unit.as_str()).cloned().unwrap_or_default(),
            target_name: names.get(order.target_unit.as_str()).cloned().unwrap_or_default(),
            overdue: order_overdue(&order, self.clock.today()),
            order,
            timeline,
            rights,
        })
    }

    /// The orders the actor may see: addressed to or issued from the subtree, or addressed to a
    /// unit above the actor's (so that it knows what its county was asked; the county answers). Open ones first, by last day.
    pub async fn supervision_orders(&self, actor: &Actor, q: &OrderQuery) -> ServiceResult<OrderList> {
        self.guard_any(
            actor,
            &[Capability::Supervise, Capability::ExchangeAnswer, Capability::PersonWrite, Capability::PersonRead],
        )
        .await?;
        let today = self.clock.today();
        let lineage: Vec<String> = actor.org.lineage().iter().map(|c| c.path().as_str().to_owned()).collect();
        let mut filter = OrderFilter::default();
        if let Some(range) = actor.subtree() {
            match q.mailbox {
                OrderBox::All => {
                    filter.within = Some(range);
                    filter.or_targets = lineage;
                }
                OrderBox::ToMe => filter.targets = lineage,
                OrderBox::Issued => filter.issuer_within = Some(range),
            }
        }
        if let Some(s) = q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            if s == "overdue" {
                filter.overdue_on = Some(today);
            } else {
                let status = OrderStatus::parse(s)
                    .ok_or_else(|| ServiceError::invalid("field.status", "rule.code_unknown", s))?;
                filter.statuses = vec![status.as_str().to_owned()];
            }
        }
        if let Some(k) = q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let kind =
                SubjectKind::parse(k).ok_or_else(|| ServiceError::invalid("field.kind", "rule.code_unknown", k))?;
            filter.subject_kind = Some(kind.as_str().to_owned());
        }
        let (total, mut items) = self.store.orders(&filter, q.page).await?;
        items.project(super::privacy::TEXT_DISCLOSURE);
        let mut codes: Vec<String> =
            items.iter().flat_map(|o| [o.issuer_unit.to_string(), o.target_unit.to_string()]).collect();
        codes.sort();
        codes.dedup();
        let names = self.store.org_names(&codes).await?;
        Ok(OrderList { listing: Listing::exact(items, total.max(0) as u64, q.page), names, today })
    }

    /// The target unit answers an open order.
    pub async fn answer_order(&self, actor: &Actor, id: i64, answer: &str) -> ServiceResult<()> {
        self.guard_any(actor, &[Capability::PersonWrite, Capability::ExchangeAnswer]).await?;
        let (order, rights) = self.visible_order(actor, id).await?;
        if !rights.at_target {
            return Err(conflict("order.error.target_only"));
        }
        if !order.status.answerable() {
            return Err(conflict("order.error.not_open"));
        }
        let answer = check_text("order.answer", answer, supervision::ANSWER_MAX, true)?;
        let target = Some(order.target_unit.clone());
        let case = CaseKind::Order.case(id);
        let audit = self.audit_draft(actor, "order.reply", target.as_ref(), Some(case.to_string()), json!({}));
        let who = event_actor(actor);
        if !self.store.answer_order(&self.step(case, &who, &answer, &[], &audit)).await? {
            return Err(refused(&OrderAction::Answer.transition()));
        }
        Ok(())
    }

    /// The issuing side closes an order (answered, or settled otherwise), with an optional note.
    pub async fn close_order(&self, actor: &Actor, id: i64, note: &str) -> ServiceResult<()> {
        self.guard_any(actor, &[Capability::Supervise, Capability::ExchangeAnswer]).await?;
        let (order, rights) = self.visible_order(actor, id).await?;
        if !rights.issuer_side {
            return Err(conflict("order.error.issuer_only"));
        }
        if !order.status.closable() {
            return Err(conflict("order.error.closed"));
        }
        let note = check_text("field.note", note, supervision::NOTE_MAX, false)?;
        let target = Some(order.target_unit.clone());
        let case = CaseKind::Order.case(id);
        let detail = json!({"was": order.status.as_str(), "note": note});
        let audit = self.audit_draft(actor, "order.close", target.as_ref(), Some(case.to_string()), detail);
        let who = event_actor(actor);
        if !self.store.close_order(&self.step(case, &who, &note, &[], &audit)).await? {
            return Err(refused(&OrderAction::Close.transition()));
        }
        Ok(())
    }

    /// The issuing side reopens an answered or closed order with a note saying why, and a new
    /// last day when given; the target unit is notified again.
    pub async fn reopen_order(&self, actor: &Actor, id: i64, note: &str, due_on: &str) -> ServiceResult<()> {
        self.guard_any(actor, &[Capability::Supervise, Capability::ExchangeAnswer]).await?;
        let (order, rights) = self.visible_order(actor, id).await?;
        if !rights.issuer_side {
            return Err(conflict("order.error.issuer_only"));
        }
        if !order.status.reopenable() {
            return Err(conflict("order.error.not_reopenable"));
        }
        let note = check_text("field.note", note, supervision::NOTE_MAX, true)?;
        let due_on = match due_on.trim() {
            "" => None,
            raw => {
                let d = parse_date("field.due_on", raw)?;
                if let Some(rule) = supervision::due_problem(d, self.clock.today()) {
                    return Err(ServiceError::invalid("field.due_on", rule, raw));
                }
                Some(d)
            }
        };
        let zh = Locale::ZhCn.messages();
        let due_text = due_on.unwrap_or(order.due_on).to_string();
        let sms = zh.fmt("order.sms_reopened", &[("title", &order.title), ("due_on", &due_text)]);
        let notifications = self.order_messages(order.target_unit.as_str(), &sms).await?;
        let target = Some(order.target_unit.clone());
        let case = CaseKind::Order.case(id);
        let detail = json!({"was": order.status.as_str(), "note": note, "due_on": due_on.map(|d| d.to_string())});
        let audit = self.audit_draft(actor, "order.reopen", target.as_ref(), Some(case.to_string()), detail);
        let who = event_actor(actor);
        if !self.store.reopen_order(&self.step(case, &who, &note, &notifications, &audit), due_on).await? {
            return Err(refused(&OrderAction::Reopen.transition()));
        }
        Ok(())
    }
}
