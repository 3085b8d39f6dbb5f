//! Report roll-ups (decision 0025): the grouped rows of the last four months kept per unit
//! and summed into every unit above, so that a monthly report of a county or a province reads
//! its own unit's rows. The rows are those the live report's grouped queries give; a month
//! whose subtree has a unit waiting to be grouped again is read live, never stale.

use domain::report::{Flow, Groups, Month};
use store::OrgUnit;
use store::rollups::{RollupRefresh, RollupWrite};

use super::{App, ServiceResult};

/// Months kept: the current one and the three before it — the month being reported (until its
/// deadline), the one before, and the rest of a quarter. Each month kept costs about one row per
/// two records and a query per month in every unit's refresh.
pub const ROLLUP_MONTHS: usize = 4;

/// Units grouped again per transaction (each over every kept month).
const ROLLUP_BATCH: u32 = 16;

/// Units grouped again before a report reads the roll-ups: each costs a grouped pass over its
/// own records per kept month (the bench's 2,500-record village: about 80 ms a month), and the
/// background refresh keeps the queue short; beyond this, the report is grouped live.
const ROLLUP_DRAIN: u64 = 16;

/// What a build did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupBuild {
    /// Months grouped from every record, newest first.
    pub built: Vec<String>,
    /// Months dropped from the window.
    pub dropped: Vec<String>,
    /// Rows written.
    pub rows: u64,
    /// Rows of months built again that differed from what was kept (above 0: a write path
    /// does not queue its unit).
    pub differed: u64,
}

impl App {
    /// The months kept on the app's day, newest first.
    pub fn rollup_window(&self) -> Vec<Month> {
        let mut month = Month::of(self.clock.today());
        let mut out = Vec::with_capacity(ROLLUP_MONTHS);
        for _ in 0..ROLLUP_MONTHS {
            out.push(month);
            month = month.prev();
        }
        out
    }

    /// Groups again up to `budget` units whose records changed, a batch per transaction.
    pub async fn refresh_rollups(&self, budget: u64) -> ServiceResult<RollupRefresh> {
        self.refresh_rollups_within(budget, None).await
    }

    /// [`App::refresh_rollups`] for the units of a subtree only (`within`: path bounds).
    async fn refresh_rollups_within(
        &self,
        budget: u64,
        within: Option<&(String, String)>,
    ) -> ServiceResult<RollupRefresh> {
        let mut total = RollupRefresh::default();
        while total.units < budget {
            let limit = ROLLUP_BATCH.min(u32::try_from(budget - total.units).unwrap_or(ROLLUP_BATCH));
            let done = self.store.refresh_rollups(limit, within).await?;
            total.units += done.units;
            total.moved += done.moved;
            total.kept |= done.kept;
            if done.units < u64::from(limit) || done.kept {
                break;
            }
        }
        Ok(total)
    }

    /// The nightly build: months of the window not kept yet are grouped from every record, and
    /// months that fell out of it dropped. `again`: every month of the window is built again
    /// (the repair that counts what differed); otherwise the current month is, so that a
    /// drift never outlives a day.
    pub async fn build_rollups(&self, again: bool) -> ServiceResult<RollupBuild> {
        let window: Vec<String> = self.rollup_window().iter().map(Month::to_string).collect();
        // What the writes queued first, so that what a month built again differs in is a drift.
        self.refresh_rollups(u64::MAX).await?;
        let kept = self.store.rollup_months().await?;
        let mut out = RollupBuild::default();
        for m in &kept {
            if !window.contains(&m.month) {
                self.store.drop_rollup_month(&m.month).await?;
                out.dropped.push(m.month.clone());
            }
        }
        for (i, month) in window.iter().enumerate() {
            let ready = kept.iter().any(|m| &m.month == month && m.state == "ready");
            if ready && !again && i > 0 {
                continue;
            }
            let done = self.build_rollup_month(month).await?;
            if done.superseded {
                // A later build of the month finishes it.
                continue;
            }
            out.rows += done.written;
            if ready {
                out.differed += done.differed;
            }
            out.built.push(month.clone());
        }
        Ok(out)
    }

    /// Groups a month (`YYYY-MM`) from every record and keeps it.
    pub async fn build_rollup_month(&self, month: &str) -> ServiceResult<RollupWrite> {
        let build = self.store.start_rollup_month(month, self.clock.now()).await?;
        let leaves = self.store.rollup_leaf_rows(month).await?;
        Ok(self.store.finish_rollup_month(month, build, leaves, self.clock.now()).await?)
    }

    /// A month's groups of a unit's subtree from the roll-ups, when they stand for the records:
    /// the month is kept whole and no unit of the subtree waits (the subtree's waiting units are
    /// grouped again first, up to a few).
    pub(crate) async fn rolled_groups(
        &self,
        unit: &OrgUnit,
        month: Month,
        by_child: bool,
        details: bool,
        flow: Option<Flow>,
    ) -> ServiceResult<Option<Groups>> {
        let path = unit.code.path();
        let range = path.subtree_range();
        if self.store.rollups_waiting(&range).await?
            && let Err(e) = self.refresh_rollups_within(ROLLUP_DRAIN, Some(&range)).await
        {
            // The report is grouped from the records instead.
            tracing::warn!(error = %e, "grouping changed units again before a report failed");
        }
        Ok(self.store.rollup_groups(path.as_str(), &month.to_string(), by_child, details, flow).await?)
    }
}
