//! The clerk's day (首页待办): the work of the actor's unit for today. The work a record makes
//! is kept per person (decision 0024: derived by `domain::worklist::person_tasks` whenever the
//! person's facts change) and read as the unit's showing tasks; exchange items and supervision
//! orders are read from their own tables. A unit marks a task done or snoozes it (with a
//! reason), and the mark is kept per unit.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::NaiveDate;
use domain::authz::Capability;
use domain::supervision::OrderStatus;
use domain::worklist::{self, Category};
use serde_json::json;
use store::TaskRefresh;
use store::tasks::TASK_COUNT_CAP;

use super::{Actor, App, ServiceError, ServiceResult};

/// One thing to do, with where it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub category: Category,
    /// Stable for as long as the same work is owed (a new due date is a new task).
    pub key: String,
    /// Who or what it is about (a person's name, an order's title).
    pub subject: String,
    /// Catalogue key of the detail line, and its value.
    pub detail: (&'static str, String),
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub urgent: bool,
    pub href: String,
    pub unit: String,
}

/// The day's list.
#[derive(Debug, Clone, Default)]
pub struct Worklist {
    pub today: NaiveDate,
    pub tasks: Vec<Task>,
    /// Tasks per category (shown and hidden by marks not counted).
    pub counts: BTreeMap<Category, usize>,
    /// Tasks done or snoozed today-or-later, hidden from the list.
    pub hidden: usize,
    /// Categories with more tasks than their count says ("1,000+": counted up to a cap).
    pub capped: BTreeSet<Category>,
    /// Persons changed whose tasks are not derived yet (after a bulk load or the nightly
    /// repair): the list and counts do not include their work yet.
    pub waiting: u64,
    pub next_duty_day: NaiveDate,
}

impl Worklist {
    pub fn overdue(&self) -> usize {
        self.tasks.iter().filter(|t| t.overdue).count()
    }

    /// Tasks in all, listed or not (the list holds the first of them); at least that many
    /// when a category is [`Worklist::capped`].
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// A count as the page shows it: "1000+" past the cap.
    pub fn count_label(&self, category: Category) -> String {
        let n = self.counts.get(&category).copied().unwrap_or(0);
        if self.capped.contains(&category) { format!("{n}+") } else { n.to_string() }
    }

    /// The persons still waiting, as the page shows them.
    pub fn waiting_label(&self) -> String {
        if self.waiting > WAITING_CAP { format!("{WAITING_CAP}+") } else { self.waiting.to_string() }
    }

    /// The total as the page shows it.
    pub fn total_label(&self) -> String {
        if self.capped.is_empty() { self.total().to_string() } else { format!("{}+", self.total()) }
    }
}

/// Persons whose tasks are derived in one transaction.
const TASK_BATCH: u32 = 1000;
/// Persons the day derives before it reads (the rest: the background drain).
pub const TASK_READER_BUDGET: u64 = 2000;
/// The persons still waiting are counted up to this many ("10000+").
const WAITING_CAP: u64 = 10_000;

impl App {
    /// The daily check of what the clerk's day reads by unit: the sections that make work
    /// carry their person's managing path, kept by every write; any that differs is put back
    /// and counted (a count above 0 means a write path forgot it, and is logged as an error).
    pub async fn repair_worklist_units(&self) -> ServiceResult<u64> {
        let repaired = self.store.repair_section_units().await?;
        if repaired > 0 {
            tracing::error!(repaired, "sections carried the wrong unit: repaired (a write path does not keep it)");
        }
        Ok(repaired)
    }

    /// Derives the tasks of the persons waiting in the queue, `TASK_BATCH` per transaction,
    /// until it is empty or `budget` persons are done.
    pub async fn refresh_tasks(&self, budget: u64) -> ServiceResult<TaskRefresh> {
        let today = self.clock.today();
        let mut total = TaskRefresh::default();
        while total.checked < budget {
            let limit = TASK_BATCH.min(u32::try_from(budget - total.checked).unwrap_or(TASK_BATCH));
            let done = self.store.refresh_tasks(limit, today).await?;
            total.checked += done.checked;
            total.written += done.written;
            total.differed += done.differed;
            if done.checked < u64::from(limit) {
                break;
            }
        }
        Ok(total)
    }

    /// The nightly repair of the maintained tasks: every person whose facts can make work is
    /// derived again (which also drops the tasks whose days have passed). Persons whose tasks
    /// then differ from what was kept are counted and logged: above 0, a write path does not
    /// queue its person (or wrote during the repair). 0 queued when today's repair was done,
    /// unless `again`.
    pub async fn repair_tasks(&self, again: bool) -> ServiceResult<TaskRefresh> {
        let today = self.clock.today();
        if !again && self.store.tasks_repaired_on().await? == Some(today) {
            return Ok(TaskRefresh::default());
        }
        // What waits now was queued by writes: derive it first, so that the count below is the
        // repair's own.
        self.refresh_tasks(u64::MAX).await?;
        self.store.queue_task_repair(today).await?;
        let done = self.refresh_tasks(u64::MAX).await?;
        if done.differed > 0 {
            tracing::warn!(
                differed = done.differed,
                "the nightly repair changed the tasks of some persons (a write path does not queue them, or they changed during the repair)"
            );
        }
        Ok(done)
    }

    /// The work of the actor's unit (and everything below it) for today.
    pub async fn worklist(&self, actor: &Actor) -> ServiceResult<Worklist> {
        self.guard_any(actor, &[Capability::PersonRead, Capability::ExchangeAnswer, Capability::Supervise]).await?;
        let today = self.clock.today();
        let (low, high) = actor.subtree().unwrap_or_else(|| (String::new(), "\u{10FFFF}".to_owned()));
        let operator = actor.can(Capability::ExchangeAnswer);
        let exchanges = operator || actor.can(Capability::PersonWrite);
        let reader = actor.can(Capability::PersonRead);
        // A change a clerk just made shows on the day at once: what waits is derived first. A
        // derivation that cannot run now (a long write holds the database) leaves the day as
        // kept, saying how many wait.
        let mut waiting_persons = 0;
        if reader && self.store.tasks_pending().await? {
            if let Err(e) = self.refresh_tasks(TASK_READER_BUDGET).await {
                tracing::warn!(error = %e, "the day is read before the waiting persons' tasks are derived");
            }
            waiting_persons = self.store.tasks_waiting(WAITING_CAP + 1).await?;
        }
        // Marks: done hides for good; snoozed hides until its day.
        let marks = self.store.worklist_marks(actor.org.as_str()).await?;
        let hiding: HashSet<String> = marks
            .into_iter()
            .filter(|(_, m)| m.state == "done" || (m.state == "snoozed" && m.until.is_some_and(|u| u > today)))
            .map(|(k, _)| k)
            .collect();
        let hidden_tasks = if reader && !hiding.is_empty() {
            let keys: Vec<String> = hiding.iter().cloned().collect();
            self.store.tasks_among(&low, &high, today, &keys).await?
        } else {
            Vec::new()
        };
        let marked = hidden_tasks.len() as u64;
        let limit = store::worklist::TASK_LIMIT + i64::try_from(marked).unwrap_or(i64::MAX / 2);
        // The kinds of work are independent reads: ask for them at once (SQLite readers run in
        // parallel under WAL; PostgreSQL has a connection each).
        let (orders, waiting, drafts, page, counts_rows) = tokio::try_join!(
            self.store.open_orders_within(&low, &high, store::worklist::TASK_LIMIT),
            async { if exchanges { self.store.waiting_items(&low, &high, false).await } else { Ok(Vec::new()) } },
            async { if operator { self.store.waiting_items(&low, &high, true).await } else { Ok(Vec::new()) } },
            async { if reader { self.store.tasks_showing(&low, &high, today, limit).await } else { Ok(Vec::new()) } },
            async { if reader { self.store.task_counts(&low, &high, today, marked).await } else { Ok(Vec::new()) } },
        )?;
        let mut tasks = Vec::new();
        let mut push = |category: Category,
                        key: String,
                        subject: String,
                        detail: (&'static str, String),
                        due_on: NaiveDate,
                        href: String,
                        unit: String,
                        urgent: bool| {
            if worklist::shows(category, due_on, today) {
                tasks.push(Task {
                    category,
                    key,
                    subject,
                    detail,
                    due_on,
                    overdue: worklist::overdue(due_on, today),
                    urgent,
                    href,
                    unit,
                });
            }
        };

        // Supervision orders addressed here.
        for o in orders {
            if o.status == OrderStatus::Open {
                push(
                    Category::Order,
                    format!("order:{}", o.id),
                    o.title.clone(),
                    ("worklist.detail.order_from", o.issuer_unit.to_string()),
                    o.due_on,
                    format!("/orders/{}", o.id),
                    o.target_unit.to_string(),
                    false,
                );
            }
        }
        // Exchange: what waits on this side.
        for i in waiting {
            let Some(due) = i.due_on else { continue };
            let category = if i.reminded {
                Category::Reminder
            } else if operator {
                Category::ExchangeAnswer
            } else {
                Category::ExchangeFacts
            };
            let kind = format!("exchange.kind.{}", i.kind);
            push(
                category,
                format!("exchange:{}", i.id),
                i.person_name.clone(),
                ("worklist.detail.from", format!("{} · {}", i.from_unit, kind)),
                due,
                format!("/exchange/{}", i.id),
                i.to_unit.clone(),
                i.urgency == "urgent",
            );
        }
        if operator {
            for i in drafts {
                let Some(due) = i.send_due_on else { continue };
                push(
                    Category::ExchangeSend,
                    format!("send:{}", i.id),
                    i.person_name.clone(),
                    ("worklist.detail.to", i.to_unit.clone()),
                    due,
                    format!("/exchange/{}", i.id),
                    i.from_unit.clone(),
                    false,
                );
            }
        }
        let mut hidden = 0;
        tasks.retain(|t| {
            let keep = !hiding.contains(&t.key);
            hidden += usize::from(!keep);
            keep
        });
        let mut counts = BTreeMap::new();
        for t in &tasks {
            *counts.entry(t.category).or_insert(0) += 1;
        }

        // Care and records of the people managed here: kept per person (migration 26), read
        // as the unit's showing tasks, the marked ones taken out.
        let mut capped = BTreeSet::new();
        for (category, n) in counts_rows {
            let marked = hidden_tasks.iter().filter(|(_, c)| *c == category).count() as u64;
            let n = n.saturating_sub(marked);
            let n = if n > TASK_COUNT_CAP {
                capped.insert(category);
                TASK_COUNT_CAP
            } else {
                n
            };
            if n > 0 {
                *counts.entry(category).or_insert(0) += usize::try_from(n).unwrap_or(usize::MAX);
            }
        }
        hidden += hidden_tasks.len();
        let mut shown = 0;
        for row in page {
            if shown >= store::worklist::TASK_LIMIT || hiding.contains(&row.task_key) {
                continue;
            }
            let Some(category) = Category::parse(&row.category) else { continue };
            let Some(detail) = worklist::DETAIL_KEYS.iter().find(|k| **k == row.detail_key).copied() else { continue };
            let anchor = match category {
                Category::PrenatalVisit | Category::PostnatalVisit | Category::ExpectedBirth => "#checks",
                Category::Certificate => "#certificates",
                _ => "",
            };
            shown += 1;
            tasks.push(Task {
                category,
                key: row.task_key,
                subject: row.name,
                detail: (detail, row.detail),
                due_on: row.due_on,
                overdue: worklist::overdue(row.due_on, today),
                urgent: false,
                href: format!("/persons/{}{anchor}", row.person_id),
                unit: row.managing_unit,
            });
        }
        // Overdue first, then urgent, then by last day.
        tasks.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then(b.urgent.cmp(&a.urgent))
                .then(a.due_on.cmp(&b.due_on))
                .then(a.category.cmp(&b.category))
                .then(a.key.cmp(&b.key))
        });
        Ok(Worklist {
            today,
            tasks,
            counts,
            hidden,
            capped,
            waiting: waiting_persons,
            next_duty_day: worklist::next_duty_day(today),
        })
    }

    /// Marks a task of the actor's unit done, or (with `until`) snoozes it; a snooze needs a
    /// reason and a later day.
    pub async fn mark_task(&self, actor: &Actor, key: &str, until: Option<&str>, reason: &str) -> ServiceResult<()> {
        self.guard_any(actor, &[Capability::PersonRead, Capability::ExchangeAnswer, Capability::Supervise]).await?;
        let key = key.trim();
        let known = key.split_once(':').is_some_and(|(kind, rest)| {
            ["order", "exchange", "send", "prenatal", "birth", "postnatal", "certificate", "late"].contains(&kind)
                && !rest.is_empty()
                && key.len() <= 80
        });
        if !known {
            return Err(ServiceError::invalid("field.task", "rule.code_unknown", key));
        }
        let reason = reason.trim();
        if reason.chars().count() > 200 {
            return Err(ServiceError::invalid("field.reason", "rule.text_long", reason));
        }
        let until = match until.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => {
                let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| ServiceError::invalid("field.until", "rule.date", raw))?;
                if day <= self.clock.today() {
                    return Err(ServiceError::invalid("field.until", "worklist.rule.until_future", raw));
                }
                if reason.is_empty() {
                    return Err(ServiceError::invalid("field.reason", "worklist.rule.reason_required", ""));
                }
                Some(day)
            }
        };
        let state = if until.is_some() { "snoozed" } else { "done" };
        let detail = json!({"task": key, "state": state, "until": until.map(|d| d.to_string()), "reason": reason});
        let audit = self.audit_draft(actor, "worklist.mark", Some(&actor.org), Some(key.to_owned()), detail);
        self.store
            .mark_task(actor.org.as_str(), key, state, until, reason, &actor.name, self.clock.now(), &audit)
            .await?;
        Ok(())
    }
}
