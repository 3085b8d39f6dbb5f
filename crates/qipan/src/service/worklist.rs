//! The clerk's day (首页待办): the work of the actor's unit for today. Tasks are derived from
//! the records, exchange items and supervision orders of the actor's subtree each time; a unit
//! marks a task done or snoozes it (with a reason), and the mark is kept per unit.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use domain::authz::Capability;
use domain::supervision::OrderStatus;
use domain::worklist::{self, Category, Pregnancy};
use serde_json::json;

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
    pub next_duty_day: NaiveDate,
}

impl Worklist {
    pub fn overdue(&self) -> usize {
        self.tasks.iter().filter(|t| t.overdue).count()
    }
}

/// How far back births, registrations and ended certificates are looked at.
const LOOKBACK_DAYS: i64 = 60;

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

    /// The work of the actor's unit (and everything below it) for today.
    pub async fn worklist(&self, actor: &Actor) -> ServiceResult<Worklist> {
        self.guard_any(actor, &[Capability::PersonRead, Capability::ExchangeAnswer, Capability::Supervise]).await?;
        let today = self.clock.today();
        let (low, high) = actor.subtree().unwrap_or_else(|| (String::new(), "\u{10FFFF}".to_owned()));
        // The kinds of work are independent reads: ask for them at once (SQLite readers run in
        // parallel under WAL; PostgreSQL has a connection each).
        let operator = actor.can(Capability::ExchangeAnswer);
        let exchanges = operator || actor.can(Capability::PersonWrite);
        let reader = actor.can(Capability::PersonRead);
        let since = today - Duration::days(LOOKBACK_DAYS);
        let window = today + Duration::days(worklist::LEAD_DAYS);
        let (orders, waiting, drafts, pregnancies, births, certificates, late, marks) = tokio::try_join!(
            self.store.open_orders_within(&low, &high, store::worklist::TASK_LIMIT),
            async { if exchanges { self.store.waiting_items(&low, &high, false).await } else { Ok(Vec::new()) } },
            async { if operator { self.store.waiting_items(&low, &high, true).await } else { Ok(Vec::new()) } },
            async { if reader { self.store.open_pregnancies(&low, &high).await } else { Ok(Vec::new()) } },
            async { if reader { self.store.recent_births(&low, &high, since).await } else { Ok(Vec::new()) } },
            async {
                if reader { self.store.ending_certificates(&low, &high, since, window).await } else { Ok(Vec::new()) }
            },
            async {
                if reader {
                    self.store.late_registrations(&low, &high, today - Duration::days(30)).await
                } else {
                    Ok(Vec::new())
                }
            },
            self.store.worklist_marks(actor.org.as_str()),
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
        {
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
        }
        // Care and records of the people managed here.
        {
            for p in pregnancies {
                let preg = Pregnancy {
                    detected_on: p.detected_on,
                    expected_on: p.expected_on,
                    last_prenatal_check: p.last_prenatal_check,
                };
                let due = worklist::prenatal_due(&preg);
                let href = format!("/persons/{}#checks", p.person.person_id);
                push(
                    Category::PrenatalVisit,
                    format!("prenatal:{}:{due}", p.person.person_id),
                    p.person.name.clone(),
                    match p.last_prenatal_check.filter(|c| *c >= p.detected_on) {
                        Some(c) => ("worklist.detail.last_check", c.to_string()),
                        None => ("worklist.detail.detected", p.detected_on.to_string()),
                    },
                    due,
                    href.clone(),
                    p.person.managing_unit.clone(),
                    false,
                );
                if let Some(expected) = p.expected_on {
                    push(
                        Category::ExpectedBirth,
                        format!("birth:{}:{expected}", p.person.person_id),
                        p.person.name.clone(),
                        ("worklist.detail.expected", expected.to_string()),
                        expected,
                        href,
                        p.person.managing_unit.clone(),
                        false,
                    );
                }
            }
            for b in births {
                if let Some((due, check)) = worklist::postnatal_due(b.born, b.last_postnatal_check) {
                    let detail = if check { "worklist.detail.check_42" } else { "worklist.detail.visit_7" };
                    push(
                        Category::PostnatalVisit,
                        format!("postnatal:{}:{due}", b.person.person_id),
                        b.person.name.clone(),
                        (detail, b.born.to_string()),
                        due,
                        format!("/persons/{}#checks", b.person.person_id),
                        b.person.managing_unit.clone(),
                        false,
                    );
                }
            }
            for c in certificates {
                push(
                    Category::Certificate,
                    format!("certificate:{}:{}", c.person.person_id, c.valid_until),
                    c.person.name.clone(),
                    ("worklist.detail.valid_until", c.valid_until.to_string()),
                    c.valid_until,
                    format!("/persons/{}#certificates", c.person.person_id),
                    c.person.managing_unit.clone(),
                    false,
                );
            }
            for r in late {
                // To be checked within the lead time of its registration.
                let due = r.registered_on + Duration::days(worklist::LEAD_DAYS);
                let late = domain::record::days_late(r.moved_on, r.registered_on);
                push(
                    Category::LateRegistration,
                    format!("late:{}", r.person.person_id),
                    r.person.name.clone(),
                    ("worklist.detail.days_late", late.to_string()),
                    due,
                    format!("/persons/{}", r.person.person_id),
                    r.person.managing_unit.clone(),
                    false,
                );
            }
        }

        // Marks: done hides for good; snoozed hides until its day.

        let mut hidden = 0;
        tasks.retain(|t| match marks.get(&t.key) {
            Some(m) if m.state == "done" => {
                hidden += 1;
                false
            }
            Some(m) if m.state == "snoozed" && m.until.is_some_and(|u| u > today) => {
                hidden += 1;
                false
            }
            _ => true,
        });
        // Overdue first, then urgent, then by last day.
        tasks.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then(b.urgent.cmp(&a.urgent))
                .then(a.due_on.cmp(&b.due_on))
                .then(a.category.cmp(&b.category))
                .then(a.key.cmp(&b.key))
        });
        let mut counts = BTreeMap::new();
        for t in &tasks {
            *counts.entry(t.category).or_insert(0) += 1;
        }
        Ok(Worklist { today, tasks, counts, hidden, next_duty_day: worklist::next_duty_day(today) })
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
