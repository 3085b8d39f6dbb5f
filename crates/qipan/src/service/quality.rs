//! Data-quality findings (差错校验): every record checked against the rules of `domain::quality`,
//! plus the same ID number managed in two units (重复管理). The findings are kept as data changes
//! (decision 0022): the store queues each record a write touches, [`App::refresh_quality`]
//! checks the queue, and a reader gets the findings of its scope from an index. Each finding
//! names the rule, the record and the unit that must fix it.

use domain::OrgCode;
use domain::authz::Capability;
use domain::quality::{RecordFacts, check};
use serde_json::json;

use super::{Actor, App, ServiceError, ServiceResult};

/// Records checked per transaction: short enough that a clerk's write never waits long behind it.
const BATCH: u32 = 1000;
/// Records a reader's request checks before reading, so that a fix shows at once; a larger queue
/// (a bulk load, the daily re-check) is left to the background job and the page says so.
pub(super) const READER_BUDGET: u64 = 2000;

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityFinding {
    /// Catalogue key of the rule (`quality.late_registration`).
    pub rule: &'static str,
    pub detail: String,
    pub person_id: i64,
    pub name: String,
    /// The unit that must fix it: the one that manages the record.
    pub unit: String,
    pub unit_name: String,
}

/// The findings in a scope: their number per rule and the first of them.
#[derive(Debug, Clone, Default)]
pub struct QualityReport {
    /// Findings per rule, in the order of `domain::quality::RULES`.
    pub per_rule: Vec<(&'static str, u64)>,
    /// Findings of the rule asked for (all rules when none was).
    pub total: u64,
    /// The first of them, in unit order.
    pub findings: Vec<QualityFinding>,
    /// Records changed but not yet checked: the figures above do not include them yet.
    pub waiting: u64,
}

impl App {
    /// Checks the records waiting in the queue, `BATCH` per transaction, until it is empty or
    /// `budget` records have been checked. Returns the records checked.
    pub async fn refresh_quality(&self, budget: u64) -> ServiceResult<u64> {
        let today = self.clock.today();
        let codes = self.codes().await?;
        let mut checked = 0;
        while checked < budget {
            let limit = BATCH.min(u32::try_from(budget - checked).unwrap_or(BATCH));
            let done = self
                .store
                .refresh_quality(limit, |p| {
                    let facts = RecordFacts {
                        id_number: p.id_number.as_deref(),
                        gender: &p.gender,
                        birth_date: p.birth_date,
                        ethnicity: p.ethnicity.as_deref(),
                        education: p.education.as_deref(),
                        marital_status: p.marital_status.as_deref(),
                        moved_on: p.moved_on,
                        registered_on: p.registered_on,
                        status: &p.status,
                        ended_on: p.ended_on,
                        ended_recorded_on: p.ended_on.map(|_| domain::clock::china_date(p.updated_at)),
                    };
                    check(&facts, today, &codes).into_iter().map(|f| (f.rule, f.detail)).collect()
                })
                .await?;
            checked += done.checked;
            if done.checked < u64::from(limit) {
                break;
            }
        }
        Ok(checked)
    }

    /// The daily re-check: once a day every record goes back in the queue, because a rule can
    /// depend on the date and on the code tables in force. Returns the records queued (0 when
    /// today's re-check was already queued, unless `again`).
    pub async fn queue_quality_recheck(&self, again: bool) -> ServiceResult<u64> {
        let today = self.clock.today();
        if !again && self.store.quality_rechecked_on().await? == Some(today) {
            return Ok(0);
        }
        Ok(self.store.queue_quality_recheck(today).await?)
    }

    /// The findings in the actor's subtree (or under `unit` inside it), of one rule or all.
    pub async fn quality_report(
        &self,
        actor: &Actor,
        unit: Option<&OrgCode>,
        rule: Option<&str>,
        limit: u32,
    ) -> ServiceResult<QualityReport> {
        let range = match unit {
            Some(u) => {
                self.guard_on(actor, Capability::PersonRead, u).await?;
                Some(u.path().subtree_range())
            }
            None => {
                self.guard(actor, Capability::PersonRead).await?;
                actor.subtree()
            }
        };
        let rule = rule
            .map(|r| domain::quality::rule(r).ok_or_else(|| ServiceError::invalid("field.rule", "rule.choice", r)))
            .transpose()?;
        self.refresh_quality(READER_BUDGET).await?;
        let waiting = self.store.quality_waiting().await?;
        let counts = self.store.quality_counts_by_rule(range.as_ref()).await?;
        let per_rule: Vec<(&'static str, u64)> = domain::quality::RULES
            .iter()
            .filter_map(|r| counts.iter().find(|(k, _)| k == r).map(|(_, n)| (*r, *n)))
            .collect();
        let total = per_rule.iter().filter(|(r, _)| rule.is_none_or(|x| x == *r)).map(|(_, n)| n).sum();
        let findings = self
            .store
            .quality_findings(range.as_ref(), rule, limit)
            .await?
            .into_iter()
            .filter_map(|row| {
                Some(QualityFinding {
                    rule: domain::quality::rule(&row.rule)?,
                    detail: row.detail,
                    person_id: row.person_id,
                    name: row.name,
                    unit: row.unit,
                    unit_name: row.unit_name,
                })
            })
            .collect();
        let detail = json!({"rule": rule, "findings": total, "waiting": waiting});
        self.audit(actor, "quality.scan", unit.or(Some(&actor.org)), None, detail).await?;
        Ok(QualityReport { per_rule, total, findings, waiting })
    }
}
