//! Information exchange (信息交换, DESIGN §6): the county operators of residence and origin send
//! each other verification requests, notifications and service information about a person, and
//! answer them against deadlines. Townships and villages see the items about their people and
//! supply facts; only a county operator sends, receives and answers.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::OrgCode;
use domain::authz::Capability;
use domain::case::CaseKind;
use domain::clock::china_day_end;
use domain::exchange::ItemAction;
use domain::exchange::{
    self, CATEGORIES, Counts, Cycle, Identity, Kind, NOTIFICATION_REASONS, Quarter, Ranked, Rates, Status, Subject,
};
use domain::privacy::Disclosure;
use serde_json::json;
use store::{Item, ItemFilter, NewItem, NewNotification, Notification, Page, Submission};

use super::case::{Timeline, event_actor, refused, texts};
use super::privacy::{LIST_DISCLOSURE, Project};
use super::sms::{Gateway, retry_at};
use super::{Actor, App, Listing, ServiceError, ServiceResult};

pub const MAX_REMARKS_CHARS: usize = exchange::REMARKS_MAX;
/// The job that marks overdue items.
pub const OVERDUE_JOB: &str = "overdue";
pub use domain::exchange::SEARCH_STEPS;

/// A request to create an item (the API's JSON and the form's fields).
#[derive(Debug, Clone, Default)]
pub struct ItemRequest {
    pub kind: String,
    pub person_id: i64,
    pub categories: Vec<String>,
    pub reason: Option<String>,
    pub remarks: String,
    pub submit: bool,
}

/// An answer as given.
#[derive(Debug, Clone, Default)]
pub struct AnswerRequest {
    pub found: bool,
    pub remarks: String,
    pub search_steps: Vec<String>,
    /// Category → `confirmed`, `differs` or `unknown`.
    pub facts: BTreeMap<String, String>,
}

/// Which side of an item the actor stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sides {
    /// Sees it from the sending side (its person is managed in the actor's scope).
    pub sender: bool,
    /// Sees it from the receiving side.
    pub receiver: bool,
    /// May send it (an operator of the sending county).
    pub sends: bool,
    /// May receive and answer it (an operator of the receiving county).
    pub answers: bool,
}

/// An item as the actor may see it.
#[derive(Debug, Clone)]
pub struct ItemView {
    /// Projected for the reader, with its timeline and texts: see [`ItemView::disclosure`].
    pub item: Item,
    pub disclosure: Disclosure,
    pub timeline: Timeline,
    pub sides: Sides,
    pub overdue: bool,
    pub from_name: String,
    pub to_name: String,
}

impl ItemView {
    /// The status as the API names it: `overdue` while an overdue item waits.
    pub fn status_label(&self) -> &str {
        status_label(&self.item)
    }
}

/// `overdue` for an item marked overdue and not answered (or a draft past its sending limit).
pub fn status_label(item: &Item) -> &str {
    let waiting = item.status != Status::Answered;
    if (item.overdue_at.is_some() && waiting) || (item.send_overdue_at.is_some() && item.status == Status::Draft) {
        "overdue"
    } else {
        item.status.as_str()
    }
}

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Box {
    /// Items sent to the actor's area.
    #[default]
    Inbox,
    /// Items from the actor's area, drafts and suggestions included.
    Outbox,
}

#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    pub mailbox: Box,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub cycle: Option<String>,
    pub overdue: Option<bool>,
    pub person_id: Option<i64>,
    pub page: Page,
}

/// One unit's figures in one cycle.
#[derive(Debug, Clone)]
pub struct CycleStats {
    pub unit: OrgCode,
    pub unit_name: String,
    pub cycle: Cycle,
    pub counts: Counts,
    pub rates: Rates,
    /// Whether the cycle has closed (the 27th has passed); before, the figures are live.
    pub closed: bool,
    pub meets_target: bool,
}

/// A quarter's ranking of a province's counties.
#[derive(Debug, Clone)]
pub struct Ranking {
    pub province: OrgCode,
    pub quarter: Quarter,
    pub rows: Vec<(Ranked, String)>,
}

/// What a run of the overdue job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Marked(u64),
    /// The clock stands before the last run: nothing was marked.
    ClockBehind {
        last_run: DateTime<Utc>,
        now: DateTime<Utc>,
    },
}

/// What a round of the notification dispatcher did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dispatched {
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
}

fn conflict(rule: &'static str) -> ServiceError {
    ServiceError::Conflict { rule }
}

fn county(code: &str) -> Option<OrgCode> {
    exchange::county_of(code).and_then(|c| OrgCode::parse(c).ok())
}

/// Where the actor stands towards an item.
pub(crate) fn sides(actor: &Actor, item: &Item) -> Sides {
    let within = |path: &str| match actor.subtree() {
        None => true,
        Some((lo, hi)) => path >= lo.as_str() && path < hi.as_str(),
    };
    let manages = |code: &OrgCode| actor.manages(code);
    let reads = actor.can(Capability::PersonRead) || actor.can(Capability::ExchangeAnswer);
    let operator = actor.can(Capability::ExchangeAnswer);
    let sender = reads && (within(&item.from_path) || manages(&item.from_unit));
    // Drafts are the sending side's business until they are sent.
    let receiver = reads
        && !matches!(item.status, Status::Draft | Status::Withdrawn)
        && (within(&item.to_path) || manages(&item.to_unit));
    Sides {
        sender,
        receiver,
        sends: operator && manages(&item.from_unit),
        answers: operator && receiver && manages(&item.to_unit),
    }
}

impl App {
    /// Loads an item the actor may see; otherwise the guard audits the attempt: "not found".
    async fn visible_item(&self, actor: &Actor, id: i64) -> ServiceResult<(Item, Sides)> {
        self.visible_case::<Item>(actor, id).await
    }

    async fn view_of(&self, mut item: Item, sides: Sides) -> ServiceResult<ItemView> {
        let names = self.store.org_names(&[item.from_unit.to_string(), item.to_unit.to_string()]).await?;
        let overdue = status_label(&item) == "overdue";
        // The operators who send or answer an item need the number to find the person in their
        // registers; whoever only watches the item (supervisors, townships) sees the projection.
        let disclosure = if sides.sends || sides.answers { Disclosure::Full } else { Disclosure::Masked };
        item.project(disclosure);
        let timeline = self.timeline(CaseKind::Exchange.case(item.id), disclosure).await?;
        Ok(ItemView {
            disclosure,
            from_name: names.get(item.from_unit.as_str()).cloned().unwrap_or_default(),
            to_name: names.get(item.to_unit.as_str()).cloned().unwrap_or_default(),
            item,
            timeline,
            sides,
            overdue,
        })
    }

    /// Reads an item (audited, since it carries a full ID number).
    pub async fn exchange_item(&self, actor: &Actor, id: i64) -> ServiceResult<ItemView> {
        let (item, sides) = self.visible_item(actor, id).await?;
        let org = Some(if sides.receiver { item.to_unit.clone() } else { item.from_unit.clone() });
        self.audit(actor, "exchange.view", org.as_ref(), Some(format!("exchange:{id}")), json!({})).await?;
        self.view_of(item, sides).await
    }

    /// Opens an item in the inbox: an operator of the receiving county receives it by opening it
    /// (seed 004: 接收), time-stamped; everyone else only reads.
    pub async fn open_exchange_item(&self, actor: &Actor, id: i64) -> ServiceResult<ItemView> {
        let (item, sides) = self.visible_item(actor, id).await?;
        if sides.answers && item.status == Status::Submitted {
            self.receive_exchange_item(actor, id).await?;
        }
        self.exchange_item(actor, id).await
    }

    /// Creates an item about a person managed in the actor's county, as a draft or submitted.
    pub async fn create_exchange_item(&self, actor: &Actor, req: &ItemRequest) -> ServiceResult<i64> {
        self.guard(actor, Capability::ExchangeAnswer).await?;
        let kind = Kind::parse(&req.kind)
            .ok_or_else(|| ServiceError::invalid("field.kind", "rule.code_unknown", &req.kind))?;
        let person = self
            .store
            .person(req.person_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "thing.record", key: req.person_id.to_string() })?;
        let managing = OrgCode::parse(&person.managing_unit)
            .map_err(|e| store::StoreError::Corrupt { what: "managing unit", detail: e.to_string() })?;
        self.guard_record(actor, Capability::PersonWrite, &managing, None, &person.id.to_string()).await?;
        if person.status != "active" {
            return Err(conflict("exchange.error.record_ended"));
        }
        let mut categories: Vec<String> =
            req.categories.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
        categories.sort_by_key(|c| CATEGORIES.iter().position(|x| x == c).unwrap_or(usize::MAX));
        categories.dedup();
        if let Some(bad) = categories.iter().find(|c| !CATEGORIES.contains(&c.as_str())) {
            return Err(ServiceError::invalid("field.categories", "exchange.rule.category_unknown", bad));
        }
        let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = reason
            && !NOTIFICATION_REASONS.contains(&r)
        {
            return Err(ServiceError::invalid("field.reason", "rule.code_unknown", r));
        }
        let remarks = req.remarks.trim();
        if remarks.chars().count() > MAX_REMARKS_CHARS {
            return Err(ServiceError::invalid("field.remarks", "rule.text_long", remarks));
        }
        // The other side: the origin for a person who moved in, the residence for one who moved out.
        let (other_area, other_address) = if person.direction == "in" {
            (&person.hukou_area, &person.hukou_address)
        } else {
            (&person.residence_area, &person.residence_address)
        };
        let from_unit = county(&person.managing_unit).ok_or_else(|| {
            ServiceError::invalid("field.managing_unit", "exchange.rule.no_county", &person.managing_unit)
        })?;
        let to_unit = county(other_area)
            .ok_or_else(|| ServiceError::invalid("field.hukou_area", "exchange.rule.no_county", other_area))?;
        if from_unit == to_unit {
            return Err(ServiceError::invalid("field.hukou_area", "exchange.rule.same_county", other_area));
        }
        if self.store.org_unit(&to_unit).await?.is_none() {
            return Err(ServiceError::invalid(
                "field.hukou_area",
                "exchange.rule.county_not_on_board",
                to_unit.as_str(),
            ));
        }
        if !actor.manages(&from_unit) {
            // A county operator below the county (a misconfigured account) cannot speak for it.
            return Err(ServiceError::Forbidden { capability: Capability::ExchangeAnswer.as_str() });
        }
        let to_path = OrgCode::parse(other_area)
            .map(|c| c.path().as_str().to_owned())
            .unwrap_or_else(|_| to_unit.path().as_str().to_owned());
        let subject = subject_of(&person);
        let new = NewItem {
            kind,
            categories: categories.join(","),
            reason: reason.map(str::to_owned),
            urgency: exchange::urgency(kind, subject),
            person_id: person.id,
            person_name: person.name.clone(),
            person_id_number: person.id_number.clone(),
            origin_area: other_area.clone(),
            origin_address: other_address.clone(),
            from_unit: from_unit.clone(),
            from_path: managing.path().as_str().to_owned(),
            to_unit: to_unit.clone(),
            to_path,
            remarks: remarks.to_owned(),
            source: "manual".to_owned(),
            event_on: None,
            send_due_on: None,
            answer_required: kind != Kind::ServiceInfo || categories.iter().any(|c| c == "births"),
        };
        let now = self.clock.now();
        let detail = json!({"kind": new.kind, "person": person.id, "to": new.to_unit, "submit": req.submit});
        let audit =
            self.audit_draft(actor, "exchange.create", Some(&from_unit), Some(format!("person:{}", person.id)), detail);
        let who = event_actor(actor);
        if req.submit {
            let (submission, notifications) = self.submission_of(&new, &categories).await?;
            Ok(self.store.insert_item(&new, &who, now, Some((&submission, &notifications)), Some(&audit)).await?)
        } else {
            Ok(self.store.insert_item(&new, &who, now, None, Some(&audit)).await?)
        }
    }

    /// Checks that an item may be sent and works out its terms and the messages to send.
    async fn submission_of(
        &self,
        item: &NewItem,
        categories: &[String],
    ) -> ServiceResult<(Submission, Vec<NewNotification>)> {
        let identity = Identity {
            name: &item.person_name,
            id_number: item.person_id_number.as_deref(),
            origin_area: &item.origin_area,
        };
        if let Some((field, rule)) = exchange::send_blockers(&identity, categories).into_iter().next() {
            let field = match field {
                "name" => "field.name",
                "id_number" => "field.id_number",
                "hukou_area" => "field.hukou_area",
                _ => "field.categories",
            };
            return Err(ServiceError::invalid(field, rule, ""));
        }
        let kind = item.kind;
        let today = self.clock.today();
        let cal = self.work_calendar().await?;
        let subject = match self.store.person(item.person_id).await? {
            Some(p) => subject_of(&p),
            None => Subject::default(),
        };
        let terms = exchange::terms(kind, categories, subject, today, &cal);
        let due = terms.answer_due.unwrap_or(terms.receipt_due);
        let submission = Submission {
            person_name: item.person_name.clone(),
            person_id_number: item.person_id_number.clone(),
            origin_area: item.origin_area.clone(),
            origin_address: item.origin_address.clone(),
            urgency: terms.urgency,
            answer_required: terms.answer_required,
            cycle: Cycle::of_submission(today).to_string(),
            receipt_due_on: terms.receipt_due.last_day,
            due_on: due.last_day,
            calendar_assumed: terms.receipt_due.assumed || due.assumed,
        };
        let notifications = if terms.urgency == exchange::Urgency::Urgent {
            // No name or ID number in a text message: the operator reads them after signing in.
            // Texts go to Chinese offices: always in Chinese, from the catalogue.
            let text = crate::i18n::Locale::ZhCn
                .messages()
                .fmt("exchange.sms.urgent", &[("from", item.from_unit.as_str()), ("due", &due.last_day.to_string())]);
            self.messages_to(item.to_unit.as_str(), &text).await?
        } else {
            Vec::new()
        };
        Ok((submission, notifications))
    }

    /// Messages to every operator of a county (or to the county's duty desk when it has none).
    async fn messages_to(&self, unit: &str, text: &str) -> ServiceResult<Vec<NewNotification>> {
        Ok(texts(unit, self.store.county_operators(unit).await?, text))
    }

    /// Sends a draft (a suggestion reviewed, or a draft saved earlier).
    pub async fn submit_exchange_item(&self, actor: &Actor, id: i64) -> ServiceResult<()> {
        let (item, sides) = self.visible_item(actor, id).await?;
        self.guard(actor, Capability::ExchangeAnswer).await?;
        if !sides.sends {
            return Err(conflict("exchange.error.sender_only"));
        }
        if item.status != Status::Draft {
            return Err(conflict("exchange.error.already_sent"));
        }
        let mut new = new_item_of(&item);
        if let Some(p) = self.store.person(item.person_id).await? {
            if p.status != "active" {
                return Err(conflict("exchange.error.record_ended"));
            }
            new.person_name = p.name.clone();
            new.person_id_number = p.id_number.clone();
            let (area, address) = if p.direction == "in" {
                (p.hukou_area, p.hukou_address)
            } else {
                (p.residence_area, p.residence_address)
            };
            if county(&area).is_some_and(|c| c == item.to_unit) {
                new.origin_area = area;
                new.origin_address = address;
            }
        }
        let categories: Vec<String> = item.categories.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
        let (submission, notifications) = self.submission_of(&new, &categories).await?;
        let unit = Some(item.from_unit.clone());
        let case = CaseKind::Exchange.case(id);
        let audit = self.audit_draft(actor, "exchange.submit", unit.as_ref(), Some(case.to_string()), json!({}));
        let who = event_actor(actor);
        if !self.store.submit_item(&self.step(case, &who, "", &notifications, &audit), &submission).await? {
            return Err(refused(&ItemAction::Submit.transition()));
        }
        Ok(())
    }

    /// Withdraws a draft that will not be sent; the reason is required and kept on the timeline.
    pub async fn withdraw_exchange_item(&self, actor: &Actor, id: i64, reason: &str) -> ServiceResult<()> {
        let (item, sides) = self.visible_item(actor, id).await?;
        self.guard(actor, Capability::ExchangeAnswer).await?;
        if !sides.sends {
            return Err(conflict("exchange.error.sender_only"));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ServiceError::invalid("field.note", "rule.required", ""));
        }
        if reason.chars().count() > MAX_REMARKS_CHARS {
            return Err(ServiceError::invalid("field.note", "rule.text_long", reason));
        }
        if item.status != Status::Draft {
            return Err(conflict("exchange.error.already_sent"));
        }
        let unit = Some(item.from_unit.clone());
        let case = CaseKind::Exchange.case(id);
        let detail = json!({"reason": reason});
        let audit = self.audit_draft(actor, "exchange.withdraw", unit.as_ref(), Some(case.to_string()), detail);
        let who = event_actor(actor);
        if !self.store.withdraw_item(&self.step(case, &who, reason, &[], &audit)).await? {
            return Err(refused(&ItemAction::Withdraw.transition()));
        }
        Ok(())
    }

    /// Receives a submitted item (idempotent: an item already received stays as it is).
    pub async fn receive_exchange_item(&self, actor: &Actor, id: i64) -> ServiceResult<()> {
        let (item, sides) = self.visible_item(actor, id).await?;
        self.guard(actor, Capability::ExchangeAnswer).await?;
        if !sides.answers {
            return Err(conflict("exchange.error.receiver_only"));
        }
        match item.status {
            Status::Draft | Status::Withdrawn => return Err(conflict("exchange.error.not_submitted")),
            Status::Received | Status::Answered => return Ok(()),
            Status::Submitted => {}
        }
        let today = self.clock.today();
        let answer_due = if item.kind == Kind::Notification {
            let d = exchange::review_due(today, &self.work_calendar().await?);
            Some((d.last_day, d.assumed))
        } else {
            None
        };
        let unit = Some(item.to_unit.clone());
        let case = CaseKind::Exchange.case(id);
        let audit = self.audit_draft(actor, "exchange.receive", unit.as_ref(), Some(case.to_string()), json!({}));
        let who = event_actor(actor);
        self.store.receive_item(&self.step(case, &who, "", &[], &audit), answer_due).await?;
        Ok(())
    }

    /// Answers an item (反馈): found or not; "not found" needs its reason in the remarks.
    pub async fn answer_exchange_item(&self, actor: &Actor, id: i64, req: &AnswerRequest) -> ServiceResult<()> {
        let (item, sides) = self.visible_item(actor, id).await?;
        self.guard(actor, Capability::ExchangeAnswer).await?;
        if !sides.answers {
            return Err(conflict("exchange.error.receiver_only"));
        }
        match item.status {
            Status::Draft | Status::Withdrawn => return Err(conflict("exchange.error.not_submitted")),
            Status::Answered => return Err(conflict("exchange.error.already_answered")),
            Status::Submitted | Status::Received => {}
        }
        let answer = exchange::Answer::parse(req.found, &req.remarks, &req.search_steps, &req.facts)
            .map_err(|e| ServiceError::invalid(e.field, e.rule, e.value))?;
        if item.status == Status::Submitted {
            self.receive_exchange_item(actor, id).await?;
        }
        // Receipt may have set the last day (a notification's review).
        let item = self.store.item(id).await?.unwrap_or(item);
        let today = self.clock.today();
        let on_time = item.due_on.is_none_or(|due| today <= due);
        let stored = store::Answer {
            found: answer.found,
            remarks: answer.remarks.clone(),
            search_steps: answer.search_steps.join(","),
            facts: serde_json::to_string(&answer.facts).unwrap_or_default(),
        };
        let unit = Some(item.to_unit.clone());
        let case = CaseKind::Exchange.case(id);
        let detail = json!({"found": answer.found, "on_time": on_time});
        let audit = self.audit_draft(actor, "exchange.answer", unit.as_ref(), Some(case.to_string()), detail);
        let who = event_actor(actor);
        let note = if answer.found { "found" } else { "not_found" };
        if !self.store.answer_item(&self.step(case, &who, note, &[], &audit), &stored, on_time).await? {
            return Err(refused(&ItemAction::Answer.transition()));
        }
        Ok(())
    }

    /// Adds a reminder (催办) to an overdue item; the receiving county's operators are notified.
    pub async fn remind_exchange_item(&self, actor: &Actor, id: i64, note: &str) -> ServiceResult<()> {
        let (item, sides) = self.visible_item(actor, id).await?;
        let capability = self.guard_any(actor, &[Capability::ExchangeAnswer, Capability::Supervise]).await?;
        if capability == Capability::ExchangeAnswer && !sides.sends {
            return Err(conflict("exchange.error.sender_only"));
        }
        if matches!(item.status, Status::Answered | Status::Draft | Status::Withdrawn) {
            return Err(conflict("exchange.error.not_overdue"));
        }
        let overdue = item.overdue_at.is_some() || item.due_on.is_some_and(|d| self.clock.today() > d);
        if !overdue {
            return Err(conflict("exchange.error.not_overdue"));
        }
        let note = note.trim();
        if note.chars().count() > MAX_REMARKS_CHARS {
            return Err(ServiceError::invalid("field.note", "rule.text_long", note));
        }
        // One reminder a day: each one texts the other county's operators.
        let today = self.clock.today();
        let events = self.store.case_events(CaseKind::Exchange.case(id)).await?;
        if events.iter().any(|e| e.event == "reminded" && domain::clock::china_date(e.at) == today) {
            return Err(conflict("exchange.error.reminded_today"));
        }
        let due = item.due_on.map(|d| d.to_string()).unwrap_or_default();
        let text = crate::i18n::Locale::ZhCn.messages().fmt(
            "exchange.sms.reminder",
            &[("from", item.from_unit.as_str()), ("id", &item.id.to_string()), ("due", &due)],
        );
        let notifications = self.messages_to(item.to_unit.as_str(), &text).await?;
        let unit = Some(item.to_unit.clone());
        let case = CaseKind::Exchange.case(id);
        let detail = json!({"note": note});
        let audit = self.audit_draft(actor, "exchange.remind", unit.as_ref(), Some(case.to_string()), detail);
        let who = event_actor(actor);
        self.store.note_case(&self.step(case, &who, note, &notifications, &audit), "reminded").await?;
        Ok(())
    }

    /// A township or village supplies facts the county operator needs (a timeline row).
    pub async fn supply_exchange_facts(&self, actor: &Actor, id: i64, note: &str) -> ServiceResult<()> {
        let (item, _) = self.visible_item(actor, id).await?;
        self.guard(actor, Capability::PersonWrite).await?;
        if !matches!(item.status, Status::Submitted | Status::Received) {
            return Err(conflict("exchange.error.not_waiting"));
        }
        let note = note.trim();
        if note.is_empty() {
            return Err(ServiceError::invalid("field.note", "rule.required", ""));
        }
        if note.chars().count() > 1000 {
            return Err(ServiceError::invalid("field.note", "rule.text_long", note));
        }
        let case = CaseKind::Exchange.case(id);
        let audit = self.audit_draft(actor, "exchange.facts", Some(&actor.org), Some(case.to_string()), json!({}));
        let who = event_actor(actor);
        self.store.note_case(&self.step(case, &who, note, &[], &audit), "facts").await?;
        Ok(())
    }

    /// The inbox or outbox of the actor's area.
    pub async fn exchange_items(&self, actor: &Actor, q: &ItemQuery) -> ServiceResult<Listing<Item>> {
        self.guard_any(actor, &[Capability::ExchangeAnswer, Capability::PersonRead]).await?;
        let mut filter = ItemFilter {
            kind: q.kind.clone(),
            cycle: q.cycle.clone(),
            overdue: q.overdue,
            person_id: q.person_id,
            ..Default::default()
        };
        let range = actor.subtree();
        match q.mailbox {
            Box::Inbox => {
                filter.to_within = range;
                filter.statuses = ["submitted", "received", "answered"].map(str::to_owned).to_vec();
            }
            Box::Outbox => filter.from_within = range,
        }
        if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
            let status =
                Status::parse(s).ok_or_else(|| ServiceError::invalid("field.status", "rule.code_unknown", s))?;
            // The inbox never shows what was not sent (drafts, withdrawn drafts).
            if q.mailbox == Box::Inbox && matches!(status, Status::Draft | Status::Withdrawn) {
                filter.statuses = vec!["none".to_owned()];
            } else {
                filter.statuses = vec![status.as_str().to_owned()];
            }
        }
        if let Some(k) = &q.kind
            && Kind::parse(k).is_none()
        {
            return Err(ServiceError::invalid("field.kind", "rule.code_unknown", k));
        }
        if let Some(c) = &q.cycle
            && Cycle::parse(c).is_none()
        {
            return Err(ServiceError::invalid("field.cycle", "exchange.rule.cycle_format", c));
        }
        let (total, mut items) = self.store.items(&filter, q.page).await?;
        items.project(LIST_DISCLOSURE);
        Ok(Listing::exact(items, total as u64, q.page))
    }

    /// The figures of a unit (a county, or the sum of the counties below a city or province) in
    /// one cycle, as of the cycle's close (live before it).
    pub async fn exchange_stats(&self, actor: &Actor, unit: &OrgCode, cycle: Cycle) -> ServiceResult<CycleStats> {
        self.guard_target(
            actor,
            &[Capability::Supervise, Capability::ExchangeAnswer, Capability::PersonRead],
            unit,
            "thing.org_unit",
            unit.to_string(),
        )
        .await?;
        // The county is the subject of exchange: below it, the figures are its county's.
        let unit = &match unit.level() {
            domain::OrgLevel::Township | domain::OrgLevel::Village | domain::OrgLevel::Unit => {
                county(unit.as_str()).unwrap_or_else(|| unit.clone())
            }
            _ => unit.clone(),
        };
        let org = self
            .store
            .org_unit(unit)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "thing.org_unit", key: unit.to_string() })?;
        let (counts, closed) = self.cycle_counts(cycle).await?;
        let mut sum = Counts::default();
        for (county, c) in counts {
            if county.starts_with(unit.as_str()) || unit.as_str().starts_with(&county) {
                sum += c;
            }
        }
        Ok(CycleStats {
            unit: unit.clone(),
            unit_name: org.name,
            cycle,
            rates: sum.rates(),
            meets_target: sum.meets_feedback_target(),
            counts: sum,
            closed,
        })
    }

    async fn cycle_counts(&self, cycle: Cycle) -> ServiceResult<(Vec<(String, Counts)>, bool)> {
        let close = china_day_end(cycle.closes_on());
        let now = self.clock.now();
        let closed = now > close;
        let at = if closed { close } else { now };
        Ok((self.store.cycle_counts(&cycle.to_string(), at).await?, closed))
    }

    /// Per-county sums of a quarter's three cycles, for the counties of a province.
    async fn quarter_counts(&self, province: &OrgCode, quarter: Quarter) -> ServiceResult<Vec<(String, Counts)>> {
        let mut sums: BTreeMap<String, Counts> = BTreeMap::new();
        for cycle in quarter.cycles() {
            for (county, c) in self.cycle_counts(cycle).await?.0 {
                if county.starts_with(province.as_str()) {
                    *sums.entry(county).or_default() += c;
                }
            }
        }
        Ok(sums.into_iter().collect())
    }

    /// The quarter's ranking of a province's counties by feedback rate, with the bottom three
    /// and the counties in the bottom three of this quarter and the one before (flagged).
    pub async fn exchange_ranking(
        &self,
        actor: &Actor,
        province: &OrgCode,
        quarter: Quarter,
    ) -> ServiceResult<Ranking> {
        self.guard_any(actor, &[Capability::Supervise, Capability::ExchangeAnswer]).await?;
        let province = OrgCode::parse(province.province())
            .map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", province.as_str()))?;
        // The ranking is published within the province: anyone there who supervises or exchanges.
        if actor.org.province() != province.as_str() && actor.subtree().is_some() {
            return Err(ServiceError::NotFound { what: "thing.org_unit", key: province.to_string() });
        }
        let previous: Vec<String> = exchange::rank(&self.quarter_counts(&province, quarter.prev()).await?, &[])
            .into_iter()
            .filter(|r| r.bottom_three)
            .map(|r| r.unit)
            .collect();
        let ranked = exchange::rank(&self.quarter_counts(&province, quarter).await?, &previous);
        let names = self.store.org_names(&ranked.iter().map(|r| r.unit.clone()).collect::<Vec<_>>()).await?;
        let rows = ranked
            .into_iter()
            .map(|r| {
                let name = names.get(&r.unit).cloned().unwrap_or_default();
                (r, name)
            })
            .collect();
        Ok(Ranking { province, quarter, rows })
    }

    /// Marks overdue items (idempotent). Refuses when the clock stands before the last run, so a
    /// clock set back cannot mark items as late that were not.
    pub async fn run_overdue_job(&self) -> ServiceResult<JobOutcome> {
        let now = self.clock.now();
        if let Some(last_run) = self.store.last_job_run(OVERDUE_JOB).await?
            && now < last_run
        {
            tracing::warn!(%last_run, %now, "overdue job refused: the clock stands before the last run");
            self.store.record_job_refusal(OVERDUE_JOB, now, "refused: clock behind the last run").await?;
            return Ok(JobOutcome::ClockBehind { last_run, now });
        }
        let marked = self.store.mark_overdue(self.clock.today(), now, OVERDUE_JOB).await?;
        tracing::info!(marked, "overdue job done");
        Ok(JobOutcome::Marked(marked))
    }

    /// Delivers the notifications that are due, recording each attempt.
    pub async fn dispatch_notifications(&self, gateway: &Gateway) -> ServiceResult<Dispatched> {
        let now = self.clock.now();
        let mut done = Dispatched::default();
        for n in self.store.due_notifications(now, 20).await? {
            match gateway.deliver(&n).await {
                Ok(()) => {
                    self.store.record_delivery(n.id, now, gateway.channel(), Ok(())).await?;
                    done.sent += 1;
                }
                Err(error) => {
                    let retry = retry_at(n.attempts, now);
                    tracing::warn!(id = n.id, %error, ?retry, "notification not delivered");
                    self.store.record_delivery(n.id, now, gateway.channel(), Err((&error, retry))).await?;
                    if retry.is_some() {
                        done.retrying += 1;
                    } else {
                        done.failed += 1;
                    }
                }
            }
        }
        Ok(done)
    }

    /// The notification outbox of the actor's area, newest first.
    pub async fn notification_outbox(&self, actor: &Actor) -> ServiceResult<Vec<Notification>> {
        self.guard_any(actor, &[Capability::ExchangeAnswer, Capability::Supervise]).await?;
        let mut outbox = self.store.notifications(actor.subtree(), 200).await?;
        outbox.project(if actor.can(Capability::ExchangeAnswer) { Disclosure::Full } else { Disclosure::Masked });
        Ok(outbox)
    }

    /// Queues a notification suggested by a change to a record (a birth, a pregnancy, a check
    /// done here, a person without a valid certificate) as a draft for the county operator to
    /// review and send within 5 working days of the event. Nothing when the record has no
    /// other county to notify.
    pub async fn suggest_notification(
        &self,
        person: &store::Person,
        reason: &'static str,
        category: &'static str,
        event_on: NaiveDate,
    ) -> ServiceResult<Option<i64>> {
        if person.direction != "in"
            || person.status != "active"
            || !exchange::worth_notifying(event_on, person.moved_on, self.clock.today())
        {
            return Ok(None);
        }
        let (Some(from_unit), Some(to_unit)) = (county(&person.managing_unit), county(&person.hukou_area)) else {
            return Ok(None);
        };
        if from_unit == to_unit || self.store.org_unit(&to_unit).await?.is_none() {
            return Ok(None);
        }
        let cal = self.work_calendar().await?;
        let send_due = exchange::send_due(event_on, &cal);
        let managing_path =
            OrgCode::parse(&person.managing_unit).map(|c| c.path().as_str().to_owned()).unwrap_or_default();
        let to_path = OrgCode::parse(&person.hukou_area).map(|c| c.path().as_str().to_owned()).unwrap_or_default();
        let new = NewItem {
            kind: Kind::Notification,
            categories: category.to_owned(),
            reason: Some(reason.to_owned()),
            urgency: exchange::Urgency::Normal,
            person_id: person.id,
            person_name: person.name.clone(),
            person_id_number: person.id_number.clone(),
            origin_area: person.hukou_area.clone(),
            origin_address: person.hukou_address.clone(),
            from_unit: from_unit.clone(),
            from_path: managing_path,
            to_unit: to_unit.clone(),
            to_path,
            remarks: String::new(),
            source: "suggested".to_owned(),
            event_on: Some(event_on),
            send_due_on: Some(send_due.last_day),
            answer_required: true,
        };
        let system = store::EventActor { name: "qipan".to_owned(), unit: from_unit.to_string() };
        Ok(Some(self.store.insert_item(&new, &system, self.clock.now(), None, None).await?))
    }
}

fn subject_of(p: &store::Person) -> Subject {
    Subject { key_person: p.key_person, pregnant: p.key_reasons.split(',').any(|r| r == "key.pregnant") }
}

fn new_item_of(i: &Item) -> NewItem {
    NewItem {
        kind: i.kind,
        categories: i.categories.clone(),
        reason: i.reason.clone(),
        urgency: i.urgency,
        person_id: i.person_id,
        person_name: i.person_name.clone(),
        person_id_number: i.person_id_number.clone(),
        origin_area: i.origin_area.clone(),
        origin_address: i.origin_address.clone(),
        from_unit: i.from_unit.clone(),
        from_path: i.from_path.clone(),
        to_unit: i.to_unit.clone(),
        to_path: i.to_path.clone(),
        remarks: i.remarks.clone(),
        source: i.source.clone(),
        event_on: i.event_on,
        send_due_on: i.send_due_on,
        answer_required: i.answer_required,
    }
}
