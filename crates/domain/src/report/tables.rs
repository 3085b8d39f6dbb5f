use crate::codes::CodeTable;
use crate::sections::{CHECK_KINDS, SERVICE_KINDS};

use super::exchange::{EXCHANGE_KINDS, ExchangeColumn, ExchangeField, ExchangeFigures};
use super::groups::{
    AGE_BANDS, Flag, Flow, Groups, MARITAL_GROUPS, Measure, PROVINCES, Presence, Reach, Selector, Sex, shipped_reasons,
};

// ---- tables ------------------------------------------------------------------------------------------

/// The report tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableId {
    /// 流入人口计划生育管理和服务情况统计表 (provincial inflow table)
    Inflow,
    /// 流出人口计划生育管理和服务情况统计表 (provincial outflow table)
    Outflow,
    /// 全员流动人口统计表 (national table: one row per unit below)
    National,
    /// 信息交换情况统计表
    Exchange,
}

impl TableId {
    pub const ALL: [TableId; 4] = [TableId::Inflow, TableId::Outflow, TableId::National, TableId::Exchange];

    pub fn as_str(self) -> &'static str {
        match self {
            TableId::Inflow => "inflow",
            TableId::Outflow => "outflow",
            TableId::National => "national",
            TableId::Exchange => "exchange",
        }
    }

    pub fn parse(s: &str) -> Option<TableId> {
        TableId::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Catalogue key of the title.
    pub fn title(self) -> &'static str {
        match self {
            TableId::Inflow => "report.title_inflow",
            TableId::Outflow => "report.title_outflow",
            TableId::National => "report.title_national",
            TableId::Exchange => "report.title_exchange",
        }
    }

    /// Catalogue key of a short name (lists, the deadline page).
    pub fn short_title(self) -> &'static str {
        match self {
            TableId::Inflow => "report.short_inflow",
            TableId::Outflow => "report.short_outflow",
            TableId::National => "report.short_national",
            TableId::Exchange => "report.short_exchange",
        }
    }

    /// Catalogue key of a one-line description.
    pub fn description(self) -> &'static str {
        match self {
            TableId::Inflow => "report.about_inflow",
            TableId::Outflow => "report.about_outflow",
            TableId::National => "report.about_national",
            TableId::Exchange => "report.about_exchange",
        }
    }

    /// Whether the table needs the people grouped by the unit directly below the report's unit.
    pub fn by_child(self) -> bool {
        self == TableId::National
    }

    /// The direction of move the table covers (`None`: both).
    pub fn flow(self) -> Option<Flow> {
        match self {
            TableId::Inflow => Some(Flow::In),
            TableId::Outflow => Some(Flow::Out),
            _ => None,
        }
    }
}

/// How a row or column is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Title {
    /// A catalogue key.
    Key(&'static str),
    /// A code's label in a code table.
    Code(CodeTable, &'static str),
    /// A province of [`PROVINCES`] (its code).
    Province(&'static str),
    /// An org unit below the report's unit.
    Unit { code: String, name: String },
}

/// What a row stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowDef {
    /// Population tables: the people the measure counts.
    Measure(Measure),
    /// The national table: a unit below (`Some(code)`), the unit itself (`Some("")`) or all.
    Unit(Option<String>),
    /// The exchange table: one kind of item, or all.
    Kind(Option<&'static str>),
}

/// What a column stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnDef {
    /// Population tables: people present so, of a sex (`None`: all).
    Presence(Presence, Option<Sex>),
    /// The national table: a measure of the people of one direction present so.
    National(Flow, Presence, Measure),
    Exchange(ExchangeColumn),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Stable within the table (the API, the snapshots and exports key cells by it).
    pub id: String,
    /// Catalogue key of the group of rows it belongs to.
    pub group: Option<&'static str>,
    pub title: Title,
    pub def: RowDef,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub id: &'static str,
    /// Catalogue key of the merged header above it.
    pub group: Option<&'static str>,
    pub title: &'static str,
    pub def: ColumnDef,
}

impl Column {
    pub fn is_ratio(&self) -> bool {
        matches!(self.def, ColumnDef::Exchange(ExchangeColumn::Ratio(..)))
    }
}

/// A table's rows and columns for one report.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub table: TableId,
    pub rows: Vec<Row>,
    pub columns: Vec<Column>,
}

/// One figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Count(u64),
    /// A fraction in 0..=1; `None` where there is nothing to divide.
    Ratio(Option<f64>),
}

impl Cell {
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Cell::Count(n) => Some(n as f64),
            Cell::Ratio(r) => r,
        }
    }
}

fn row(id: impl Into<String>, group: &'static str, title: Title, m: Measure) -> Row {
    Row { id: id.into(), group: Some(group), title, def: RowDef::Measure(m) }
}

/// The rows of the inflow and outflow tables.
fn population_rows(flow: Flow) -> Vec<Row> {
    let mut rows = vec![Row {
        id: "total".into(),
        group: None,
        title: Title::Key("report.row_total"),
        def: RowDef::Measure(Measure::All),
    }];
    for (i, (suffix, _)) in AGE_BANDS.iter().enumerate() {
        let key = match i {
            0 => "report.age_0_14",
            1 => "report.age_15_19",
            2 => "report.age_20_24",
            3 => "report.age_25_29",
            4 => "report.age_30_34",
            5 => "report.age_35_39",
            6 => "report.age_40_44",
            7 => "report.age_45_49",
            _ => "report.age_50p",
        };
        rows.push(row(format!("age_{suffix}"), "report.group_age", Title::Key(key), Measure::Age(i as u8)));
    }
    rows.push(row("women_15_49", "report.group_women", Title::Key("report.row_women"), Measure::Women15To49));
    rows.push(row(
        "married_women_15_49",
        "report.group_women",
        Title::Key("report.row_married_women"),
        Measure::MarriedWomen15To49,
    ));
    for (id, _) in MARITAL_GROUPS {
        rows.push(row(
            format!("marital_{id}"),
            "report.group_marital",
            Title::Code(CodeTable::MaritalStatus, id),
            Measure::Marital(Some(id)),
        ));
    }
    rows.push(row(
        "marital_unknown",
        "report.group_marital",
        Title::Key("report.row_marital_unknown"),
        Measure::Marital(None),
    ));
    for &code in shipped_reasons() {
        rows.push(row(
            format!("reason_{code}"),
            "report.group_reason",
            Title::Code(CodeTable::MoveReason, code),
            Measure::Reason(Some(code)),
        ));
    }
    rows.push(row(
        "reason_unknown",
        "report.group_reason",
        Title::Key("report.row_reason_unknown"),
        Measure::Reason(None),
    ));
    let reach_group = if flow == Flow::In { "report.group_reach_in" } else { "report.group_reach_out" };
    for r in Reach::ALL {
        let key = match r {
            Reach::Province => "report.reach_province",
            Reach::City => "report.reach_city",
            Reach::County => "report.reach_county",
            Reach::Local => "report.reach_local",
        };
        rows.push(row(r.id(), reach_group, Title::Key(key), Measure::Reach(r)));
    }
    let province_group = if flow == Flow::In { "report.group_origin" } else { "report.group_destination" };
    for (code, _, _) in PROVINCES {
        rows.push(row(format!("province_{code}"), province_group, Title::Province(code), Measure::Province(code)));
    }
    rows.push(row("key_total", "report.group_key", Title::Key("report.row_key_total"), Measure::KeyPerson));
    rows.push(row(
        "key_pregnant",
        "report.group_key",
        Title::Key("report.row_key_pregnant"),
        Measure::Flag(Flag::Pregnant),
    ));
    rows.push(row(
        "key_birth_this_year",
        "report.group_key",
        Title::Key("report.row_key_birth"),
        Measure::Flag(Flag::BirthThisYear),
    ));
    rows.push(row(
        "key_no_certificate",
        "report.group_key",
        Title::Key("report.row_key_no_certificate"),
        Measure::NoCertificate,
    ));
    rows.push(row(
        "certificate_valid",
        "report.group_certificate",
        Title::Key("report.row_certificate_valid"),
        Measure::Flag(Flag::Certificate),
    ));
    rows.push(row(
        "certificate_women",
        "report.group_certificate",
        Title::Key("report.row_certificate_women"),
        Measure::CertifiedWomen,
    ));
    for kind in SERVICE_KINDS {
        let key = match *kind {
            "contraception" => "report.service_contraception",
            "surgery" => "report.service_surgery",
            "reward_support" => "report.service_reward_support",
            "special_support" => "report.service_special_support",
            _ => "report.service_military_family",
        };
        rows.push(row(
            format!("service_{kind}"),
            "report.group_service",
            Title::Key(key),
            Measure::Flag(Flag::Service(kind)),
        ));
    }
    for (code, _, _) in CodeTable::ContraceptionMethod.entries() {
        rows.push(row(
            format!("method_{code}"),
            "report.group_method",
            Title::Code(CodeTable::ContraceptionMethod, code),
            Measure::Flag(Flag::Method(code)),
        ));
    }
    for kind in CHECK_KINDS {
        let key = match *kind {
            "iud" => "report.check_iud",
            "pregnancy" => "report.check_pregnancy",
            "illness" => "report.check_illness",
            "prenatal" => "report.check_prenatal",
            _ => "report.check_postnatal",
        };
        rows.push(row(
            format!("check_{kind}"),
            "report.group_check",
            Title::Key(key),
            Measure::Flag(Flag::Check(kind)),
        ));
    }
    rows
}

fn population_columns(flow: Flow) -> Vec<Column> {
    let (end, arrived, left) = match flow {
        Flow::In => ("report.cols_in_end", "report.cols_in_arrived", "report.cols_in_left"),
        Flow::Out => ("report.cols_out_end", "report.cols_out_arrived", "report.cols_out_left"),
    };
    let mut cols = Vec::new();
    let ids = [
        ("end_total", "end_male", "end_female", end, Presence::AtEnd),
        ("arrived_total", "arrived_male", "arrived_female", arrived, Presence::Arrived),
        ("left_total", "left_male", "left_female", left, Presence::Left),
    ];
    for (total, male, female, group, presence) in ids {
        for (id, title, sex) in [
            (total, "report.col_total", None),
            (male, "report.col_male", Some(Sex::Male)),
            (female, "report.col_female", Some(Sex::Female)),
        ] {
            cols.push(Column { id, group: Some(group), title, def: ColumnDef::Presence(presence, sex) });
        }
    }
    cols
}

fn national_columns() -> Vec<Column> {
    let mut cols = Vec::new();
    for flow in [Flow::In, Flow::Out] {
        let (group, arrived) = match flow {
            Flow::In => ("report.cols_national_in", "report.col_arrived_in"),
            Flow::Out => ("report.cols_national_out", "report.col_arrived_out"),
        };
        let list: [(&'static str, &'static str, Presence, Measure); 9] = [
            ("end", "report.col_end", Presence::AtEnd, Measure::All),
            ("women", "report.col_women", Presence::AtEnd, Measure::Women15To49),
            ("married_women", "report.col_married_women", Presence::AtEnd, Measure::MarriedWomen15To49),
            ("arrived", arrived, Presence::Arrived, Measure::All),
            ("left", "report.col_left", Presence::Left, Measure::All),
            ("key", "report.col_key", Presence::AtEnd, Measure::KeyPerson),
            ("certified_women", "report.col_certified_women", Presence::AtEnd, Measure::CertifiedWomen),
            ("children_born", "report.col_children_born", Presence::Any, Measure::ChildrenBorn),
            ("deliveries", "report.col_deliveries", Presence::Any, Measure::Deliveries),
        ];
        for (id, title, presence, measure) in list {
            let id = national_id(flow, id);
            cols.push(Column { id, group: Some(group), title, def: ColumnDef::National(flow, presence, measure) });
        }
    }
    cols
}

/// `in_…` / `out_…`: the national table's column ids (static, so that columns stay `Copy`-cheap).
fn national_id(flow: Flow, id: &str) -> &'static str {
    const IN: [&str; 9] = [
        "in_end",
        "in_women",
        "in_married_women",
        "in_arrived",
        "in_left",
        "in_key",
        "in_certified_women",
        "in_children_born",
        "in_deliveries",
    ];
    const OUT: [&str; 9] = [
        "out_end",
        "out_women",
        "out_married_women",
        "out_arrived",
        "out_left",
        "out_key",
        "out_certified_women",
        "out_children_born",
        "out_deliveries",
    ];
    let list = if flow == Flow::In { &IN } else { &OUT };
    list.iter().find(|x| x.split_once('_').is_some_and(|(_, rest)| rest == id)).copied().expect("a listed column")
}

fn exchange_columns() -> Vec<Column> {
    use ExchangeColumn::{Count, Ratio};
    use ExchangeField as F;
    let sent = Some("report.cols_exchange_sent");
    let incoming = Some("report.cols_exchange_incoming");
    let rates = Some("report.cols_exchange_rates");
    let c = |id, group, title, def| Column { id, group, title, def: ColumnDef::Exchange(def) };
    vec![
        c("sent", sent, "report.col_x_sent", Count(F::Sent)),
        c("sent_urgent", sent, "report.col_x_sent_urgent", Count(F::SentUrgent)),
        c("sent_answered", sent, "report.col_x_sent_answered", Count(F::SentAnswered)),
        c("sent_overdue", sent, "report.col_x_sent_overdue", Count(F::SentOverdue)),
        c("incoming", incoming, "report.col_x_incoming", Count(F::Incoming)),
        c("received", incoming, "report.col_x_received", Count(F::Received)),
        c("feedback_due", incoming, "report.col_x_feedback_due", Count(F::FeedbackDue)),
        c("answered", incoming, "report.col_x_answered", Count(F::Answered)),
        c("answered_on_time", incoming, "report.col_x_on_time", Count(F::AnsweredOnTime)),
        c("overdue", incoming, "report.col_x_overdue", Count(F::Overdue)),
        c("receipt_rate", rates, "report.col_x_receipt_rate", Ratio(5, 4)),
        c("feedback_rate", rates, "report.col_x_feedback_rate", Ratio(7, 6)),
        c("timeliness", rates, "report.col_x_timeliness", Ratio(8, 7)),
    ]
}

/// The rows and columns of a table. `children`: the units directly below the report's unit
/// (code, name), which the national table lists one per row.
pub fn layout(table: TableId, children: &[(String, String)]) -> Layout {
    let (rows, columns) = match table {
        TableId::Inflow => (population_rows(Flow::In), population_columns(Flow::In)),
        TableId::Outflow => (population_rows(Flow::Out), population_columns(Flow::Out)),
        TableId::National => {
            let mut rows = vec![Row {
                id: "total".into(),
                group: None,
                title: Title::Key("report.row_total"),
                def: RowDef::Unit(None),
            }];
            for (code, name) in children {
                rows.push(Row {
                    id: code.clone(),
                    group: Some("report.group_units"),
                    title: Title::Unit { code: code.clone(), name: name.clone() },
                    def: RowDef::Unit(Some(code.clone())),
                });
            }
            rows.push(Row {
                id: "own".into(),
                group: Some("report.group_units"),
                title: Title::Key("report.row_own_level"),
                def: RowDef::Unit(Some(String::new())),
            });
            (rows, national_columns())
        }
        TableId::Exchange => {
            let mut rows = vec![Row {
                id: "total".into(),
                group: None,
                title: Title::Key("report.row_total"),
                def: RowDef::Kind(None),
            }];
            for kind in EXCHANGE_KINDS {
                let key = match kind {
                    "verification" => "exchange.kind.verification",
                    "notification" => "exchange.kind.notification",
                    _ => "exchange.kind.service_info",
                };
                rows.push(Row {
                    id: kind.to_owned(),
                    group: Some("report.group_kinds"),
                    title: Title::Key(key),
                    def: RowDef::Kind(Some(kind)),
                });
            }
            (rows, exchange_columns())
        }
    };
    Layout { table, rows, columns }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Layout {
    /// The cells of a population table (inflow, outflow, national) from grouped people.
    pub fn population_cells(&self, groups: &Groups) -> Vec<Vec<Cell>> {
        let flow = self.table.flow();
        self.rows
            .iter()
            .map(|r| {
                self.columns
                    .iter()
                    .map(|c| {
                        let (measure, selector) = match (&r.def, c.def) {
                            (RowDef::Measure(m), ColumnDef::Presence(presence, sex)) => {
                                (*m, Selector { flow, child: None, presence, sex })
                            }
                            (RowDef::Unit(child), ColumnDef::National(f, presence, m)) => {
                                (m, Selector { flow: Some(f), child: child.clone(), presence, sex: None })
                            }
                            _ => return Cell::Count(0),
                        };
                        Cell::Count(groups.count(measure, &selector))
                    })
                    .collect()
            })
            .collect()
    }

    /// The cells of the exchange table from the figures of each kind.
    pub fn exchange_cells(&self, by_kind: &[(String, ExchangeFigures)]) -> Vec<Vec<Cell>> {
        self.rows
            .iter()
            .map(|r| {
                let mut f = ExchangeFigures::default();
                for (kind, figures) in by_kind {
                    let wanted = match r.def {
                        RowDef::Kind(Some(k)) => k == kind,
                        _ => true,
                    };
                    if wanted {
                        f += *figures;
                    }
                }
                let counts: Vec<u64> = self
                    .columns
                    .iter()
                    .map(|c| match c.def {
                        ColumnDef::Exchange(ExchangeColumn::Count(field)) => f.get(field),
                        _ => 0,
                    })
                    .collect();
                self.columns
                    .iter()
                    .zip(&counts)
                    .map(|(c, n)| match c.def {
                        ColumnDef::Exchange(ExchangeColumn::Ratio(num, den)) => {
                            Cell::Ratio(ratio(counts[num], counts[den]))
                        }
                        _ => Cell::Count(*n),
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::flags;

    #[test]
    fn every_table_has_unique_row_and_column_ids() {
        for t in TableId::ALL {
            let l = layout(t, &[("371602001".into(), "市中街道".into())]);
            let mut rows: Vec<&str> = l.rows.iter().map(|r| r.id.as_str()).collect();
            rows.sort_unstable();
            rows.dedup();
            assert_eq!(rows.len(), l.rows.len(), "{t:?}");
            let mut cols: Vec<&str> = l.columns.iter().map(|c| c.id).collect();
            cols.sort_unstable();
            cols.dedup();
            assert_eq!(cols.len(), l.columns.len(), "{t:?}");
        }
        assert!(flags().len() <= 64, "flags fit a u64");
    }

    #[test]
    fn exchange_rates_divide_their_columns() {
        let l = layout(TableId::Exchange, &[]);
        let f = ExchangeFigures {
            incoming: 4,
            received: 3,
            feedback_due: 4,
            answered: 2,
            answered_on_time: 1,
            ..Default::default()
        };
        let cells = l.exchange_cells(&[("verification".into(), f)]);
        let col = |id: &str| l.columns.iter().position(|c| c.id == id).unwrap();
        assert_eq!(cells[0][col("received")], Cell::Count(3));
        assert_eq!(cells[0][col("receipt_rate")], Cell::Ratio(Some(0.75)));
        assert_eq!(cells[0][col("feedback_rate")], Cell::Ratio(Some(0.5)));
        assert_eq!(cells[2][col("timeliness")], Cell::Ratio(None), "no notifications: nothing to divide");
    }
}
