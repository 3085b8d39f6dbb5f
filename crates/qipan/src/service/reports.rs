//! Statistical reports (报表): tables for a subtree and a period, exports, monthly snapshots.
//!
//! A report is always about the subtree of one unit in the actor's management scope. Its figures
//! are computed from the records on every read (a kept month's from its roll-ups, which are the
//! same grouped rows kept as the records change: `rollups`); a month's figures are frozen the first time the
//! report is read after the unit's reporting deadline (`domain::report::deadline`), and from then
//! on the frozen figures are the report's and the live ones are shown beside them as changes —
//! never a silent change. Every read and every export is audited; freezing is audited with the
//! snapshot in one transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::authz::Capability;
use domain::clock::{china_day_end, china_day_start};
use domain::report::{self, Cell, Layout, Month, Period, PeriodKind, TableId};
use domain::{OrgCode, OrgLevel};
use serde_json::{Value, json};
use store::reports::{GroupQuery, NewSnapshot};
use store::{OrgFilter, OrgScope, OrgUnit, Page};

use super::{Actor, App, ServiceError, ServiceResult};

/// What a report is asked for, as typed (the query string of a page or the API).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportRequest<'a> {
    pub table: &'a str,
    /// The unit whose subtree is counted; the actor's own unit when not given.
    pub unit: Option<&'a str>,
    /// `2026-03`, `2026-Q1` or `2026`.
    pub period: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

/// Why the report is read: to look at it, or to export it in a format (audited as such).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    View,
    Export(&'static str),
}

/// Where a report's figures stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotState {
    /// Not a month (a quarter, a year, a range): always computed from the records.
    Live,
    /// A month before its deadline: the unit may still correct its records.
    Open { deadline: chrono::NaiveDate },
    /// A month after its deadline: these figures were frozen.
    Frozen { deadline: chrono::NaiveDate, frozen_at: DateTime<Utc>, frozen_by: String },
}

impl SnapshotState {
    pub fn as_str(&self) -> &'static str {
        match self {
            SnapshotState::Live => "live",
            SnapshotState::Open { .. } => "open",
            SnapshotState::Frozen { .. } => "frozen",
        }
    }
}

/// A report as the actor may see it.
#[derive(Debug, Clone)]
pub struct Report {
    pub table: TableId,
    pub unit: OrgUnit,
    pub period: Period,
    pub layout: Layout,
    /// The report's figures: the frozen ones once frozen (`None`: a cell the snapshot does not
    /// hold, such as a unit created after the freeze), else the live ones.
    pub figures: Vec<Vec<Option<Cell>>>,
    /// The live figures, when frozen.
    pub current: Option<Vec<Vec<Cell>>>,
    pub state: SnapshotState,
    pub generated_at: DateTime<Utc>,
    /// The display name of whoever asked (for "exported by").
    pub generated_by: String,
    /// Where the live figures were read: `rollups` (a kept month, decision 0025) or `records`.
    pub figures_from: &'static str,
}

/// A cell whose live figure differs from the frozen one.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub row: usize,
    pub column: usize,
    pub frozen: Option<Cell>,
    pub current: Cell,
}

impl Report {
    /// The cells changed since the freeze (none when not frozen).
    pub fn changes(&self) -> Vec<Change> {
        let Some(current) = &self.current else { return Vec::new() };
        let mut out = Vec::new();
        for (r, row) in current.iter().enumerate() {
            for (c, now) in row.iter().enumerate() {
                let frozen = self.figures[r][c];
                let same = match (frozen, now) {
                    (Some(Cell::Ratio(a)), Cell::Ratio(b)) => match (a, b) {
                        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                        (a, b) => a.is_none() && b.is_none(),
                    },
                    (Some(f), n) => f == *n,
                    (None, n) => matches!(n, Cell::Count(0) | Cell::Ratio(None)),
                };
                if !same {
                    out.push(Change { row: r, column: c, frozen, current: *now });
                }
            }
        }
        out
    }

    /// Whether nothing at all is counted (an empty subtree or period).
    pub fn is_empty(&self) -> bool {
        self.figures.iter().flatten().all(|c| matches!(c, None | Some(Cell::Count(0)) | Some(Cell::Ratio(None))))
    }
}

/// One unit's state for a month on the deadline page.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub unit: OrgUnit,
    pub deadline: chrono::NaiveDate,
    /// `open`, `frozen` (every table stored) or `due` (the deadline passed; tables not read since
    /// are frozen at their first read).
    pub state: &'static str,
    /// The tables stored, and when.
    pub frozen: Vec<(TableId, DateTime<Utc>)>,
}

/// The deadline states of a unit and the units directly below it, for one month.
#[derive(Debug, Clone)]
pub struct Board {
    pub unit: OrgUnit,
    pub month: Month,
    pub rows: Vec<BoardRow>,
}

fn blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Length of an area code one level below a unit of `level` (0 where only units hang below).
fn child_code_len(level: OrgLevel) -> i32 {
    match level {
        OrgLevel::Province => 4,
        OrgLevel::City => 6,
        OrgLevel::County => 9,
        OrgLevel::Township => 12,
        OrgLevel::Village | OrgLevel::Unit => 0,
    }
}

/// The figures as stored in a snapshot: `{"rows": {row id: {column id: value}}}` (counts as
/// integers, rates as fractions or null).
pub fn snapshot_json(layout: &Layout, cells: &[Vec<Cell>]) -> Value {
    let mut rows = serde_json::Map::new();
    for (r, row) in layout.rows.iter().enumerate() {
        let mut cols = serde_json::Map::new();
        for (c, col) in layout.columns.iter().enumerate() {
            let v = match cells[r][c] {
                Cell::Count(n) => json!(n),
                Cell::Ratio(x) => json!(x),
            };
            cols.insert(col.id.to_owned(), v);
        }
        rows.insert(row.id.clone(), Value::Object(cols));
    }
    json!({ "rows": rows })
}

fn from_snapshot(layout: &Layout, stored: &str) -> ServiceResult<Vec<Vec<Option<Cell>>>> {
    let value: Value = serde_json::from_str(stored)
        .map_err(|e| store::StoreError::Corrupt { what: "report snapshot", detail: e.to_string() })?;
    Ok(layout
        .rows
        .iter()
        .map(|r| {
            layout
                .columns
                .iter()
                .map(|c| {
                    let v = value.get("rows")?.get(&r.id)?.get(c.id)?;
                    if c.is_ratio() { Some(Cell::Ratio(v.as_f64())) } else { v.as_u64().map(Cell::Count) }
                })
                .collect()
        })
        .collect())
}

impl App {
    /// The tables there are, in order.
    pub fn report_tables(&self) -> &'static [TableId] {
        &TableId::ALL
    }

    /// The month a report defaults to: the one before today's.
    pub fn default_report_month(&self) -> Month {
        Month::of(self.clock.today()).prev()
    }

    /// A unit in the actor's management scope that reports may cover (the actor's own when not
    /// given): a bad code is invalid, a unit outside the scope is refused (and audited).
    async fn report_unit(&self, actor: &Actor, unit: Option<&str>) -> ServiceResult<OrgUnit> {
        let code = match blank(unit) {
            Some(u) => OrgCode::parse(u).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", u))?,
            None => actor.org.clone(),
        };
        self.guard_on(actor, Capability::PersonRead, &code).await?;
        self.existing_org_unit(&code).await
    }

    /// Computes a report (freezing a past month after its deadline) and audits the read or the
    /// export before any figure leaves.
    pub async fn report(&self, actor: &Actor, req: &ReportRequest<'_>, purpose: Purpose) -> ServiceResult<Report> {
        self.guard(actor, Capability::PersonRead).await?;
        let table = TableId::parse(req.table.trim())
            .ok_or_else(|| ServiceError::NotFound { what: "report.thing_table", key: req.table.to_owned() })?;
        let today = self.clock.today();
        let period = if [req.period, req.from, req.to].iter().all(|p| blank(*p).is_none()) {
            Period::month(self.default_report_month())
        } else {
            Period::parse(req.period, req.from, req.to, today).map_err(|e| {
                let value = match e.field {
                    "field.from" => req.from,
                    "field.to" => req.to,
                    _ => req.period,
                };
                ServiceError::invalid(e.field, e.rule, value.unwrap_or_default())
            })?
        };
        let unit = self.report_unit(actor, req.unit).await?;
        let (layout, live, figures_from) = self.live_figures(table, &unit, &period).await?;
        let now = self.clock.now();
        let (figures, current, state) = match period.kind {
            PeriodKind::Month(month) => {
                let deadline = report::deadline(unit.level, month);
                if report::is_frozen(unit.level, month, today) {
                    let snapshot = self.freeze(actor, table, &unit, &period, month, deadline, &layout, &live).await?;
                    let figures = from_snapshot(&layout, &snapshot.cells)?;
                    let state = SnapshotState::Frozen {
                        deadline,
                        frozen_at: snapshot.frozen_at,
                        frozen_by: snapshot.frozen_by,
                    };
                    (figures, Some(live), state)
                } else {
                    (wrap(&live), None, SnapshotState::Open { deadline })
                }
            }
            _ => (wrap(&live), None, SnapshotState::Live),
        };
        let (action, format) = match purpose {
            Purpose::View => ("report.view", None),
            Purpose::Export(f) => ("report.export", Some(f)),
        };
        let detail = json!({
            "table": table.as_str(), "unit": unit.code.to_string(), "period": period.label(),
            "from": period.from.to_string(), "to": period.to.to_string(), "format": format, "state": state.as_str(),
        });
        self.audit(actor, action, Some(&unit.code), Some(format!("report:{}", table.as_str())), detail).await?;
        Ok(Report {
            table,
            unit,
            period,
            layout,
            figures,
            current,
            state,
            generated_at: now,
            generated_by: actor.display_name.clone(),
            figures_from,
        })
    }

    /// The table's layout and its figures as the records stand now, with where they were read
    /// (`rollups` or `records`).
    async fn live_figures(
        &self,
        table: TableId,
        unit: &OrgUnit,
        period: &Period,
    ) -> ServiceResult<(Layout, Vec<Vec<Cell>>, &'static str)> {
        let range = unit.code.path().subtree_range();
        if table == TableId::Exchange {
            let layout = report::layout(table, &[]);
            let figures = self
                .store
                .report_exchange(&range, china_day_start(period.from), china_day_end(period.to), period.to)
                .await?;
            let cells = layout.exchange_cells(&figures);
            return Ok((layout, cells, "records"));
        }
        let children = if table.by_child() {
            let filter = OrgFilter { scope: OrgScope::ChildrenOf(unit.code.clone()), level: None, text: None };
            let (units, _) = self.store.list_org_units(&filter, Page { number: 1, size: 100_000 }).await?;
            units.into_iter().map(|u| (u.code.to_string(), u.name)).collect()
        } else {
            Vec::new()
        };
        let layout = report::layout(table, &children);
        let query = GroupQuery {
            range,
            root: unit.code.to_string(),
            child_len: child_code_len(unit.level),
            by_child: table.by_child(),
            by_leaf: false,
            narrow: false,
            details: !table.by_child(),
            flow: table.flow(),
            from: period.from,
            to: period.to,
        };
        let rolled = match period.kind {
            PeriodKind::Month(month) => {
                self.rolled_groups(unit, month, query.by_child, query.details, query.flow).await?
            }
            _ => None,
        };
        let (groups, from) = match rolled {
            Some(groups) => (groups, "rollups"),
            None => (self.store.report_groups(&query).await?, "records"),
        };
        let cells = layout.population_cells(&groups);
        Ok((layout, cells, from))
    }

    /// Stores the month's figures unless a snapshot stands already; returns the one that stands.
    #[expect(clippy::too_many_arguments, reason = "what is frozen, for whom, and the figures")]
    async fn freeze(
        &self,
        actor: &Actor,
        table: TableId,
        unit: &OrgUnit,
        period: &Period,
        month: Month,
        deadline: chrono::NaiveDate,
        layout: &Layout,
        live: &[Vec<Cell>],
    ) -> ServiceResult<store::reports::Snapshot> {
        let month_text = month.to_string();
        if let Some(s) = self.store.report_snapshot(unit.code.as_str(), table.as_str(), &month_text).await? {
            return Ok(s);
        }
        let new = NewSnapshot {
            province_code: unit.code.province().to_owned(),
            unit: unit.code.to_string(),
            unit_path: unit.code.path().as_str().to_owned(),
            report: table.as_str().to_owned(),
            month: month_text.clone(),
            period_from: period.from,
            period_to: period.to,
            deadline,
            cells: snapshot_json(layout, live).to_string(),
            frozen_at: self.clock.now(),
            frozen_by: actor.name.clone(),
        };
        let detail = json!({"table": table.as_str(), "month": month_text, "deadline": deadline.to_string()});
        let audit = self.audit_draft(
            actor,
            "report.freeze",
            Some(&unit.code),
            Some(format!("report:{}", table.as_str())),
            detail,
        );
        Ok(self.store.freeze_report(&new, &audit).await?)
    }

    /// The scheduled freeze: every table of the last two months, for each unit that manages
    /// records and each unit above it, once its reporting deadline has passed — so that an edit
    /// made after the deadline shows as a difference even when nobody read the report in
    /// between. Returns how many snapshots were stored (0 when everything due is frozen).
    pub async fn freeze_due_reports(&self) -> ServiceResult<u64> {
        let console = Actor::console(OrgCode::parse("00").expect("static code"));
        let today = self.clock.today();
        let mut units = std::collections::BTreeSet::new();
        for code in self.store.units_with_records().await? {
            if let Ok(code) = OrgCode::parse(&code) {
                units.extend(code.lineage());
            }
        }
        let last = self.default_report_month();
        let mut stored = 0;
        for code in units {
            let Some(unit) = self.store.org_unit(&code).await? else { continue };
            for month in [last.prev(), last] {
                if !report::is_frozen(unit.level, month, today) {
                    continue;
                }
                let deadline = report::deadline(unit.level, month);
                let period = Period::month(month);
                for table in TableId::ALL {
                    let month_text = month.to_string();
                    if self.store.report_snapshot(unit.code.as_str(), table.as_str(), &month_text).await?.is_some() {
                        continue;
                    }
                    let (layout, live, _) = self.live_figures(table, &unit, &period).await?;
                    self.freeze(&console, table, &unit, &period, month, deadline, &layout, &live).await?;
                    stored += 1;
                }
            }
        }
        Ok(stored)
    }

    /// The deadline state of a month for a unit and the units directly below it.
    pub async fn report_board(&self, actor: &Actor, unit: Option<&str>, month: Option<&str>) -> ServiceResult<Board> {
        self.guard(actor, Capability::PersonRead).await?;
        let month = match blank(month) {
            None => self.default_report_month(),
            Some(m) => Month::parse(m)
                .ok_or_else(|| ServiceError::invalid("report.field_month", "report.rule_month_format", m))?,
        };
        if month.first_day() > self.clock.today() {
            return Err(ServiceError::invalid("report.field_month", "report.rule_period_future", month.to_string()));
        }
        let unit = self.report_unit(actor, unit).await?;
        let filter = OrgFilter { scope: OrgScope::ChildrenOf(unit.code.clone()), level: None, text: None };
        let (children, _) = self.store.list_org_units(&filter, Page { number: 1, size: 100_000 }).await?;
        let stored = self.store.report_snapshots_within(&unit.code.path().subtree_range(), &month.to_string()).await?;
        let mut by_unit: BTreeMap<String, Vec<(TableId, DateTime<Utc>)>> = BTreeMap::new();
        for (code, table, at) in stored {
            if let Some(t) = TableId::parse(&table) {
                by_unit.entry(code).or_default().push((t, at));
            }
        }
        let today = self.clock.today();
        let rows = std::iter::once(unit.clone())
            .chain(children)
            .map(|u| {
                let deadline = report::deadline(u.level, month);
                let frozen = by_unit.remove(u.code.as_str()).unwrap_or_default();
                let state = if !report::is_frozen(u.level, month, today) {
                    "open"
                } else if frozen.len() == TableId::ALL.len() {
                    "frozen"
                } else {
                    "due"
                };
                BoardRow { unit: u, deadline, state, frozen }
            })
            .collect();
        Ok(Board { unit, month, rows })
    }
}

fn wrap(cells: &[Vec<Cell>]) -> Vec<Vec<Option<Cell>>> {
    cells.iter().map(|r| r.iter().copied().map(Some).collect()).collect()
}
