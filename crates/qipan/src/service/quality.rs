//! The data-quality scan (差错校验): every record in the actor's management scope checked
//! against the rules of `domain::quality`, plus the same ID number managed in two units
//! (重复管理). Each finding names the rule, the record and the unit that must fix it.

use std::collections::BTreeMap;

use domain::OrgCode;
use domain::authz::Capability;
use domain::quality::{RecordFacts, check};
use serde_json::json;
use store::PersonFilter;

use super::{Actor, App, ServiceResult};

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

/// All findings in a scope, and their number per rule.
#[derive(Debug, Clone, Default)]
pub struct QualityReport {
    pub scanned: u64,
    pub findings: Vec<QualityFinding>,
    pub per_rule: BTreeMap<&'static str, u64>,
}

impl App {
    /// Scans the records managed in the actor's subtree (or under `unit` inside it).
    pub async fn scan_quality(&self, actor: &Actor, unit: Option<&OrgCode>) -> ServiceResult<QualityReport> {
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
        let today = self.clock.today();
        let codes = self.codes().await?;
        let filter = PersonFilter { managing: range.clone(), include_ended: true, ..Default::default() };
        let mut report = QualityReport::default();
        let mut after = 0i64;
        loop {
            let batch = self.store.persons_after(&filter, after, 5000).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for p in &batch {
                report.scanned += 1;
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
                for f in check(&facts, today, &codes) {
                    report.findings.push(QualityFinding {
                        rule: f.rule,
                        detail: f.detail,
                        person_id: p.id,
                        name: p.name.clone(),
                        unit: p.managing_unit.clone(),
                        unit_name: p.managing_name.clone(),
                    });
                }
            }
        }
        let in_scope = |code: &str| match (&range, OrgCode::parse(code)) {
            (None, _) => true,
            (Some((low, high)), Ok(c)) => {
                let path = c.path();
                path.as_str() >= low.as_str() && path.as_str() < high.as_str()
            }
            _ => false,
        };
        let duplicates = self.store.duplicate_managements(range.as_ref()).await?;
        for (id, number, unit, name, unit_name) in &duplicates {
            if !in_scope(unit) {
                continue;
            }
            let others: Vec<&str> =
                duplicates.iter().filter(|(i, n, ..)| n == number && i != id).map(|(_, _, u, ..)| u.as_str()).collect();
            report.findings.push(QualityFinding {
                rule: "quality.duplicate_management",
                detail: others.join(", "),
                person_id: *id,
                name: name.clone(),
                unit: unit.clone(),
                unit_name: unit_name.clone(),
            });
        }
        for f in &report.findings {
            *report.per_rule.entry(f.rule).or_default() += 1;
        }
        let detail = json!({"scanned": report.scanned, "findings": report.findings.len()});
        self.audit(actor, "quality.scan", unit.or(Some(&actor.org)), None, detail).await?;
        Ok(report)
    }
}
