//! The statistical report tables (报表, DESIGN §9): their rows, columns and counting rules.
//!
//! A table is data: its id, its title (a catalogue key), its rows and its columns, each saying
//! what it counts. The figures come from the store as *groups* — people counted by a handful of
//! keys (sex, age band, marital status, reason, origin, whether present at the period's end,
//! arrived or left in it, and flags drawn from the record's sections) — so that a province of
//! ten million records becomes a few thousand grouped rows in SQL, and this module turns them
//! into cells with plain sums. It must not do I/O: periods, deadlines, layouts and cell
//! arithmetic only. docs/reports.md says in words what every row and column counts.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};

use crate::OrgLevel;
use crate::codes::CodeTable;
use crate::sections::{CHECK_KINDS, SERVICE_KINDS};

// ---- periods ---------------------------------------------------------------------------------

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1900..=2999).contains(&year)).then_some(Month { year, month })
    }

    /// `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    pub fn of(date: NaiveDate) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a checked month has a first day")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("a month has a last day")
    }

    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { month: self.month + 1, ..self } }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { month: self.month - 1, ..self } }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// What kind of period a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Month(Month),
    Quarter {
        year: i32,
        quarter: u32,
    },
    Year(i32),
    /// Any range of days (`from`, `to`).
    Range,
}

/// The days a report covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A period that could not be read: the field and the rule broken, both catalogue keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodError {
    pub field: &'static str,
    pub rule: &'static str,
}

/// The longest custom range: ten years.
pub const MAX_RANGE_DAYS: i64 = 3660;

fn blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Period {
    pub fn month(m: Month) -> Period {
        Period { kind: PeriodKind::Month(m), from: m.first_day(), to: m.last_day() }
    }

    /// Reads `period` (`2026-03`, `2026-Q1` or `2026`) or the pair `from`/`to` (dates), never
    /// both. A period may not start after `today`.
    pub fn parse(
        period: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<Period, PeriodError> {
        let fail = |field, rule| Err(PeriodError { field, rule });
        let (period, from, to) = (blank(period), blank(from), blank(to));
        let parsed = match (period, from, to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return fail("report.field_period", "report.rule_period_both");
            }
            (Some(p), None, None) => match Period::parse_named(p) {
                Some(p) => p,
                None => return fail("report.field_period", "report.rule_period_format"),
            },
            (None, None, None) => return fail("report.field_period", "rule.required"),
            (None, None, Some(_)) => return fail("field.from", "rule.required"),
            (None, Some(_), None) => return fail("field.to", "rule.required"),
            (None, Some(f), Some(t)) => {
                let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
                let Some(from) = date(f) else { return fail("field.from", "rule.date") };
                let Some(to) = date(t) else { return fail("field.to", "rule.date") };
                if to < from {
                    return fail("field.to", "report.rule_period_order");
                }
                if (to - from).num_days() >= MAX_RANGE_DAYS {
                    return fail("field.to", "report.rule_period_long");
                }
                Period { kind: PeriodKind::Range, from, to }
            }
        };
        if parsed.from > today {
            let field = if parsed.kind == PeriodKind::Range { "field.from" } else { "report.field_period" };
            return fail(field, "report.rule_period_future");
        }
        Ok(parsed)
    }

    fn parse_named(s: &str) -> Option<Period> {
        let upper = s.to_ascii_uppercase();
        if let Some((y, q)) = upper.split_once("-Q") {
            let year: i32 = (y.len() == 4).then(|| y.parse().ok()).flatten()?;
            let quarter: u32 = (q.len() == 1).then(|| q.parse().ok()).flatten()?;
            if !(1..=4).contains(&quarter) {
                return None;
            }
            let first = Month::new(year, (quarter - 1) * 3 + 1)?;
            let last = Month::new(year, quarter * 3)?;
            return Some(Period {
                kind: PeriodKind::Quarter { year, quarter },
                from: first.first_day(),
                to: last.last_day(),
            });
        }
        if upper.len() == 4 && upper.bytes().all(|b| b.is_ascii_digit()) {
            let year: i32 = upper.parse().ok()?;
            let (first, last) = (Month::new(year, 1)?, Month::new(year, 12)?);
            return Some(Period { kind: PeriodKind::Year(year), from: first.first_day(), to: last.last_day() });
        }
        Month::parse(&upper).map(Period::month)
    }

    /// The name of a named period (`2026-03`, `2026-Q1`, `2026`), or `from..to`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Month(m) => m.to_string(),
            PeriodKind::Quarter { year, quarter } => format!("{year:04}-Q{quarter}"),
            PeriodKind::Year(y) => format!("{y:04}"),
            PeriodKind::Range => format!("{}..{}", self.from, self.to),
        }
    }

    pub fn kind_str(&self) -> &'static str {
        match self.kind {
            PeriodKind::Month(_) => "month",
            PeriodKind::Quarter { .. } => "quarter",
            PeriodKind::Year(_) => "year",
            PeriodKind::Range => "range",
        }
    }

    /// The first day of the year the period ends in ("gave birth this year" at the period's end).
    pub fn year_start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.to.year(), 1, 1).expect("1 January exists")
    }
}

// ---- reporting deadlines and snapshots ---------------------------------------------------------

/// The day of the following month by which a unit of each level reports its month: villages and
/// communities by the 2nd, townships by the 5th (seed 004 part 4 §(三)); counties, cities and
/// provinces are Qipan's choice (docs/decisions/0008-reports.md), leaving each level a few days
/// to check the level below.
pub const DEADLINE_DAYS: [(OrgLevel, u32); 6] = [
    (OrgLevel::Unit, 2),
    (OrgLevel::Village, 2),
    (OrgLevel::Township, 5),
    (OrgLevel::County, 10),
    (OrgLevel::City, 15),
    (OrgLevel::Province, 20),
];

/// The last day on which a unit of `level` may still change its figures for `month`; from the
/// next day (China time) the month's figures are frozen.
pub fn deadline(level: OrgLevel, month: Month) -> NaiveDate {
    let day = DEADLINE_DAYS.iter().find(|(l, _)| *l == level).map(|(_, d)| *d).unwrap_or(2);
    NaiveDate::from_ymd_opt(month.next().year, month.next().month, day).expect("days up to 20 exist in every month")
}

/// Whether a month's figures are frozen on `today`: the deadline has passed.
pub fn is_frozen(level: OrgLevel, month: Month, today: NaiveDate) -> bool {
    today > deadline(level, month)
}

// ---- what is counted -----------------------------------------------------------------------------

/// Sex as the tables split it (GB/T 2261.1 codes 1 and 2; anything else counts in the totals only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
    Other,
}

impl Sex {
    pub fn of_code(code: &str) -> Sex {
        match code {
            "1" => Sex::Male,
            "2" => Sex::Female,
            _ => Sex::Other,
        }
    }
}

/// Direction of a move as the tables use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    In,
    Out,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::In => "in",
            Flow::Out => "out",
        }
    }

    pub fn parse(s: &str) -> Option<Flow> {
        match s {
            "in" => Some(Flow::In),
            "out" => Some(Flow::Out),
            _ => None,
        }
    }
}

/// Age bands at the period's end: under 15, the seven five-year bands of 15–49, and 50 or over.
/// `(row id suffix, lowest age)`.
pub const AGE_BANDS: [(&str, u32); 9] = [
    ("0_14", 0),
    ("15_19", 15),
    ("20_24", 20),
    ("25_29", 25),
    ("30_34", 30),
    ("35_39", 35),
    ("40_44", 40),
    ("45_49", 45),
    ("50p", 50),
];

/// The birth dates that separate the age bands at `on`: a person is at least `AGE_BANDS[i + 1].1`
/// years old on `on` exactly when born on or before `bounds[i]`. (Born on 29 February: the
/// birthday falls on 28 February in other years.)
pub fn age_bounds(on: NaiveDate) -> [NaiveDate; 8] {
    std::array::from_fn(|i| {
        let years = AGE_BANDS[i + 1].1;
        on.checked_sub_months(Months::new(12 * years)).expect("dates stay in range")
    })
}

/// Whether an age band lies in 15–49 (women of childbearing age, 育龄妇女).
pub fn childbearing(band: u8) -> bool {
    (1..=7).contains(&band)
}

/// Marital-status groups (GB/T 2261.2): `(group id, codes)`. Codes outside every group (90,
/// none) count in `unknown`.
pub const MARITAL_GROUPS: [(&str, &[&str]); 4] =
    [("10", &["10"]), ("20", &["20", "21", "22", "23"]), ("30", &["30"]), ("40", &["40"])];

/// How far a person moved, comparing the other end of the move (the household registration of
/// someone who moved in, the destination of someone who moved out) with the managing unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// 跨省
    Province,
    /// 省内跨市
    City,
    /// 市内跨县
    County,
    /// 县内
    Local,
}

impl Reach {
    pub const ALL: [Reach; 4] = [Reach::Province, Reach::City, Reach::County, Reach::Local];

    /// The key the store groups by.
    pub fn key(self) -> &'static str {
        match self {
            Reach::Province => "p",
            Reach::City => "c",
            Reach::County => "k",
            Reach::Local => "l",
        }
    }

    pub fn of_key(k: &str) -> Option<Reach> {
        Reach::ALL.into_iter().find(|r| r.key() == k)
    }

    fn id(self) -> &'static str {
        match self {
            Reach::Province => "reach_province",
            Reach::City => "reach_city",
            Reach::County => "reach_county",
            Reach::Local => "reach_local",
        }
    }
}

/// The provincial-level divisions (GB/T 2260, first two digits) with their names.
pub const PROVINCES: [(&str, &str, &str); 34] = [
    ("11", "北京市", "Beijing"),
    ("12", "天津市", "Tianjin"),
    ("13", "河北省", "Hebei"),
    ("14", "山西省", "Shanxi"),
    ("15", "内蒙古自治区", "Inner Mongolia"),
    ("21", "辽宁省", "Liaoning"),
    ("22", "吉林省", "Jilin"),
    ("23", "黑龙江省", "Heilongjiang"),
    ("31", "上海市", "Shanghai"),
    ("32", "江苏省", "Jiangsu"),
    ("33", "浙江省", "Zhejiang"),
    ("34", "安徽省", "Anhui"),
    ("35", "福建省", "Fujian"),
    ("36", "江西省", "Jiangxi"),
    ("37", "山东省", "Shandong"),
    ("41", "河南省", "Henan"),
    ("42", "湖北省", "Hubei"),
    ("43", "湖南省", "Hunan"),
    ("44", "广东省", "Guangdong"),
    ("45", "广西壮族自治区", "Guangxi"),
    ("46", "海南省", "Hainan"),
    ("50", "重庆市", "Chongqing"),
    ("51", "四川省", "Sichuan"),
    ("52", "贵州省", "Guizhou"),
    ("53", "云南省", "Yunnan"),
    ("54", "西藏自治区", "Tibet"),
    ("61", "陕西省", "Shaanxi"),
    ("62", "甘肃省", "Gansu"),
    ("63", "青海省", "Qinghai"),
    ("64", "宁夏回族自治区", "Ningxia"),
    ("65", "新疆维吾尔自治区", "Xinjiang"),
    ("71", "台湾省", "Taiwan"),
    ("81", "香港特别行政区", "Hong Kong"),
    ("82", "澳门特别行政区", "Macao"),
];

/// A fact drawn from a record's sections, as of the period (each a bit of [`Flags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// A pregnancy detected by the period's end and not ended by then.
    Pregnant,
    /// A child born, or a pregnancy ended in a birth, from 1 January of the end's year to the end.
    BirthThisYear,
    /// A 《婚育证明》 issued by the end and valid on it (no end date, or ending on or after it).
    Certificate,
    /// A service of this kind (`person_services.kind`) that started in the period.
    Service(&'static str),
    /// A contraception service with this method (code) that started in the period.
    Method(&'static str),
    /// A check of this kind (`person_checks.kind`) done in the period.
    Check(&'static str),
}

/// Every flag, in bit order.
pub fn flags() -> &'static [Flag] {
    static FLAGS: std::sync::LazyLock<Vec<Flag>> = std::sync::LazyLock::new(|| {
        let mut out = vec![Flag::Pregnant, Flag::BirthThisYear, Flag::Certificate];
        out.extend(SERVICE_KINDS.iter().map(|k| Flag::Service(k)));
        out.extend(CodeTable::ContraceptionMethod.entries().into_iter().map(|(code, _, _)| Flag::Method(code)));
        out.extend(CHECK_KINDS.iter().map(|k| Flag::Check(k)));
        out
    });
    &FLAGS
}

fn flag_bit(flag: Flag) -> u64 {
    let i = flags().iter().position(|f| *f == flag).expect("every flag is listed");
    1 << i
}

/// A set of [`Flag`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u64);

impl Flags {
    /// From the values in [`flags`] order (non-zero: set).
    pub fn from_values(values: &[i64]) -> Flags {
        Flags(values.iter().enumerate().filter(|(_, v)| **v != 0).fold(0, |acc, (i, _)| acc | (1 << i)))
    }

    pub fn has(self, flag: Flag) -> bool {
        self.0 & flag_bit(flag) != 0
    }
}

/// When a person counts in a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// In the population at the period's end: moved on or before it, not ended by it.
    AtEnd,
    /// Moved during the period (本期新增).
    Arrived,
    /// Ended (returned home or moved on) during the period (本期减少).
    Left,
    /// Any of the three: everyone the period touches.
    Any,
}

/// People counted by their keys: one row of the store's grouped query over records. Keys that a
/// table does not need are left empty by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonGroup {
    /// The unit directly below the report's unit that manages them (`""`: the unit itself).
    pub child: String,
    pub flow: Flow,
    pub sex: Sex,
    /// Index into [`AGE_BANDS`].
    pub age: u8,
    /// A [`MARITAL_GROUPS`] id, or `""`.
    pub marital: String,
    /// The move-reason code as stored (`""`: none).
    pub reason: String,
    pub reach: Option<Reach>,
    /// The province (two digits) of the other end of the move.
    pub province: String,
    pub at_end: bool,
    pub arrived: bool,
    pub left: bool,
    pub count: u64,
}

/// People with at least one fact from their sections, counted by their keys and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagGroup {
    pub child: String,
    pub flow: Flow,
    pub sex: Sex,
    pub age: u8,
    pub at_end: bool,
    pub arrived: bool,
    pub left: bool,
    pub flags: Flags,
    /// Children born in the period, per person of the group.
    pub children_born: u64,
    /// Pregnancies ended in a birth in the period, per person of the group.
    pub deliveries: u64,
    pub count: u64,
}

/// Everything a population table is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    pub persons: Vec<PersonGroup>,
    pub flagged: Vec<FlagGroup>,
}

/// What a row (or a column) counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Everyone.
    All,
    /// People in an age band (index into [`AGE_BANDS`]).
    Age(u8),
    /// Women aged 15–49 (育龄妇女).
    Women15To49,
    /// Of those, married (marital group 20: codes 20–23).
    MarriedWomen15To49,
    /// A [`MARITAL_GROUPS`] id; `None`: not stated or not given.
    Marital(Option<&'static str>),
    /// A move-reason code; `None`: not given, or a code not shipped.
    Reason(Option<&'static str>),
    Reach(Reach),
    /// The other end of the move lies in this province.
    Province(&'static str),
    /// People with this fact.
    Flag(Flag),
    /// Women aged 15–49 holding a valid 《婚育证明》 at the end.
    CertifiedWomen,
    /// Women aged 15–49 holding no valid 《婚育证明》 at the end.
    NoCertificate,
    /// Key persons (重点对象) at the end: pregnant, gave birth this year, or a woman of 15–49
    /// without a valid certificate.
    KeyPerson,
    /// Children born in the period (a count of children, not of people).
    ChildrenBorn,
    /// Pregnancies ended in a birth in the period (a count of deliveries, not of people).
    Deliveries,
}

/// Which people a cell looks at besides its measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub flow: Option<Flow>,
    /// `None`: the whole subtree; `Some("")`: the report's unit itself; `Some(code)`: one child.
    pub child: Option<String>,
    pub presence: Presence,
    pub sex: Option<Sex>,
}

/// The move-reason codes shipped with the binary (one row each).
fn shipped_reasons() -> &'static [&'static str] {
    static REASONS: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| CodeTable::MoveReason.entries().into_iter().map(|(c, _, _)| c).collect());
    &REASONS
}

struct Keys<'a> {
    child: &'a str,
    flow: Flow,
    sex: Sex,
    age: u8,
    at_end: bool,
    arrived: bool,
    left: bool,
}

impl Selector {
    fn admits(&self, k: &Keys<'_>) -> bool {
        self.flow.is_none_or(|f| f == k.flow)
            && self.child.as_deref().is_none_or(|c| c == k.child)
            && self.sex.is_none_or(|s| s == k.sex)
            && match self.presence {
                Presence::AtEnd => k.at_end,
                Presence::Arrived => k.arrived,
                Presence::Left => k.left,
                Presence::Any => true,
            }
    }
}

impl PersonGroup {
    fn keys(&self) -> Keys<'_> {
        Keys {
            child: &self.child,
            flow: self.flow,
            sex: self.sex,
            age: self.age,
            at_end: self.at_end,
            arrived: self.arrived,
            left: self.left,
        }
    }
}

impl FlagGroup {
    fn keys(&self) -> Keys<'_> {
        Keys {
            child: &self.child,
            flow: self.flow,
            sex: self.sex,
            age: self.age,
            at_end: self.at_end,
            arrived: self.arrived,
            left: self.left,
        }
    }
}

fn woman_15_to_49(k: &Keys<'_>) -> bool {
    k.sex == Sex::Female && childbearing(k.age)
}

impl Groups {
    fn persons_where(&self, sel: &Selector, pred: impl Fn(&PersonGroup) -> bool) -> u64 {
        self.persons.iter().filter(|g| sel.admits(&g.keys()) && pred(g)).map(|g| g.count).sum()
    }

    fn flagged_where(&self, sel: &Selector, pred: impl Fn(&FlagGroup) -> bool) -> u64 {
        self.flagged.iter().filter(|g| sel.admits(&g.keys()) && pred(g)).map(|g| g.count).sum()
    }

    /// The figure of one measure over the people a selector admits.
    pub fn count(&self, m: Measure, sel: &Selector) -> u64 {
        let women = |g: &PersonGroup| woman_15_to_49(&g.keys());
        match m {
            Measure::All => self.persons_where(sel, |_| true),
            Measure::Age(band) => self.persons_where(sel, |g| g.age == band),
            Measure::Women15To49 => self.persons_where(sel, women),
            Measure::MarriedWomen15To49 => self.persons_where(sel, |g| women(g) && g.marital == "20"),
            Measure::Marital(Some(id)) => self.persons_where(sel, |g| g.marital == id),
            Measure::Marital(None) => {
                self.persons_where(sel, |g| !MARITAL_GROUPS.iter().any(|(id, _)| *id == g.marital))
            }
            Measure::Reason(Some(code)) => self.persons_where(sel, |g| g.reason == code),
            Measure::Reason(None) => {
                let shipped = shipped_reasons();
                self.persons_where(sel, |g| !shipped.contains(&g.reason.as_str()))
            }
            Measure::Reach(r) => self.persons_where(sel, |g| g.reach == Some(r)),
            Measure::Province(p) => self.persons_where(sel, |g| g.province == p),
            Measure::Flag(f) => self.flagged_where(sel, |g| g.flags.has(f)),
            Measure::CertifiedWomen => {
                self.flagged_where(sel, |g| woman_15_to_49(&g.keys()) && g.flags.has(Flag::Certificate))
            }
            Measure::NoCertificate => self.count(Measure::Women15To49, sel) - self.count(Measure::CertifiedWomen, sel),
            Measure::KeyPerson => {
                // Women of 15–49 are key persons unless certified and neither pregnant nor a
                // recent mother; everyone else only when pregnant or a recent parent. Everyone
                // with a certificate, a pregnancy or a birth has a flagged group.
                let recent = |g: &FlagGroup| g.flags.has(Flag::Pregnant) || g.flags.has(Flag::BirthThisYear);
                self.count(Measure::Women15To49, sel).saturating_sub(
                    self.flagged_where(sel, |g| {
                        woman_15_to_49(&g.keys()) && g.flags.has(Flag::Certificate) && !recent(g)
                    }),
                ) + self.flagged_where(sel, |g| !woman_15_to_49(&g.keys()) && recent(g))
            }
            Measure::ChildrenBorn => {
                self.flagged.iter().filter(|g| sel.admits(&g.keys())).map(|g| g.count * g.children_born).sum()
            }
            Measure::Deliveries => {
                self.flagged.iter().filter(|g| sel.admits(&g.keys())).map(|g| g.count * g.deliveries).sum()
            }
        }
    }
}

// ---- exchange figures -----------------------------------------------------------------------------

/// The exchange items of one kind in a period, seen from a subtree (both sides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExchangeFigures {
    /// Submitted in the period about people managed in the subtree.
    pub sent: u64,
    /// Of those, urgent (紧急).
    pub sent_urgent: u64,
    /// Of those, answered by the other side by the period's end.
    pub sent_answered: u64,
    /// Of those asking for an answer, past their last day at the end and not answered by then.
    pub sent_overdue: u64,
    /// Submitted in the period to the subtree (the other end of the move lies in it).
    pub incoming: u64,
    /// Of those, received by the end.
    pub received: u64,
    /// Of those, asking for an answer (received or not).
    pub feedback_due: u64,
    /// Of those, answered by the end.
    pub answered: u64,
    /// Of those, answered by their last day.
    pub answered_on_time: u64,
    /// Of the incoming, past their last day at the end and not done by then (answered, or for an
    /// item only to be received, received).
    pub overdue: u64,
}

impl std::ops::AddAssign for ExchangeFigures {
    fn add_assign(&mut self, o: ExchangeFigures) {
        self.sent += o.sent;
        self.sent_urgent += o.sent_urgent;
        self.sent_answered += o.sent_answered;
        self.sent_overdue += o.sent_overdue;
        self.incoming += o.incoming;
        self.received += o.received;
        self.feedback_due += o.feedback_due;
        self.answered += o.answered;
        self.answered_on_time += o.answered_on_time;
        self.overdue += o.overdue;
    }
}

/// The kinds of exchange items, in the table's order.
pub const EXCHANGE_KINDS: [&str; 3] = ["verification", "notification", "service_info"];

/// One count of [`ExchangeFigures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeField {
    Sent,
    SentUrgent,
    SentAnswered,
    SentOverdue,
    Incoming,
    Received,
    FeedbackDue,
    Answered,
    AnsweredOnTime,
    Overdue,
}

impl ExchangeFigures {
    pub fn get(&self, field: ExchangeField) -> u64 {
        match field {
            ExchangeField::Sent => self.sent,
            ExchangeField::SentUrgent => self.sent_urgent,
            ExchangeField::SentAnswered => self.sent_answered,
            ExchangeField::SentOverdue => self.sent_overdue,
            ExchangeField::Incoming => self.incoming,
            ExchangeField::Received => self.received,
            ExchangeField::FeedbackDue => self.feedback_due,
            ExchangeField::Answered => self.answered,
            ExchangeField::AnsweredOnTime => self.answered_on_time,
            ExchangeField::Overdue => self.overdue,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeColumn {
    Count(ExchangeField),
    /// A rate: the figures of two other columns (by index) divided.
    Ratio(usize, usize),
}

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

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn parse(p: Option<&str>, f: Option<&str>, t: Option<&str>) -> Result<Period, PeriodError> {
        Period::parse(p, f, t, d("2026-11-23"))
    }

    #[test]
    fn periods_are_months_quarters_years_or_ranges() {
        let m = parse(Some("2026-02"), None, None).unwrap();
        assert_eq!((m.from, m.to, m.label()), (d("2026-02-01"), d("2026-02-28"), "2026-02".to_owned()));
        let q = parse(Some("2026-q4"), None, None).unwrap();
        assert_eq!((q.from, q.to, q.label()), (d("2026-10-01"), d("2026-12-31"), "2026-Q4".to_owned()));
        let y = parse(Some("2024"), None, None).unwrap();
        assert_eq!((y.from, y.to), (d("2024-01-01"), d("2024-12-31")));
        let r = parse(None, Some("2026-02-15"), Some("2026-03-10")).unwrap();
        assert_eq!((r.kind, r.from, r.to), (PeriodKind::Range, d("2026-02-15"), d("2026-03-10")));
        assert_eq!(Month::parse("2024-02").unwrap().last_day(), d("2024-02-29"));
    }

    #[test]
    fn bad_periods_name_the_field_and_the_rule() {
        let err = |p, f, t| parse(p, f, t).map(|_| ()).unwrap_err();
        let e = |field, rule| PeriodError { field, rule };
        assert_eq!(err(Some("2026-13"), None, None), e("report.field_period", "report.rule_period_format"));
        assert_eq!(err(Some("2026-Q5"), None, None), e("report.field_period", "report.rule_period_format"));
        assert_eq!(err(Some("26-03"), None, None), e("report.field_period", "report.rule_period_format"));
        assert_eq!(err(Some("2026-03"), Some("2026-03-01"), None), e("report.field_period", "report.rule_period_both"));
        assert_eq!(err(None, None, None), e("report.field_period", "rule.required"));
        assert_eq!(err(None, Some("2026-03-01"), None), e("field.to", "rule.required"));
        assert_eq!(err(None, Some("2026-3-1x"), Some("2026-03-02")), e("field.from", "rule.date"));
        assert_eq!(err(None, Some("2026-03-02"), Some("2026-03-01")), e("field.to", "report.rule_period_order"));
        assert_eq!(err(None, Some("2000-01-01"), Some("2026-03-01")), e("field.to", "report.rule_period_long"));
        assert_eq!(err(Some("2026-12"), None, None), e("report.field_period", "report.rule_period_future"));
        assert!(parse(Some("2026-11"), None, None).is_ok(), "the current month is allowed (live)");
    }

    #[test]
    fn deadlines_follow_the_level() {
        let march = Month::parse("2026-03").unwrap();
        assert_eq!(deadline(OrgLevel::Village, march), d("2026-04-02"));
        assert_eq!(deadline(OrgLevel::Township, march), d("2026-04-05"));
        assert_eq!(deadline(OrgLevel::County, march), d("2026-04-10"));
        assert_eq!(deadline(OrgLevel::Village, Month::parse("2026-12").unwrap()), d("2027-01-02"));
        assert!(!is_frozen(OrgLevel::Village, march, d("2026-04-02")));
        assert!(is_frozen(OrgLevel::Village, march, d("2026-04-03")));
    }

    #[test]
    fn age_bounds_separate_the_bands() {
        let b = age_bounds(d("2026-03-31"));
        assert_eq!(b[0], d("2011-03-31"), "15 on 2026-03-31 when born on or before this day");
        assert_eq!(b[7], d("1976-03-31"));
    }

    fn person(sex: Sex, age: u8, at_end: bool, count: u64) -> PersonGroup {
        PersonGroup {
            child: String::new(),
            flow: Flow::In,
            sex,
            age,
            marital: "20".into(),
            reason: "1".into(),
            reach: Some(Reach::Province),
            province: "51".into(),
            at_end,
            arrived: false,
            left: !at_end,
            count,
        }
    }

    fn flagged(sex: Sex, age: u8, flags: &[Flag], count: u64) -> FlagGroup {
        let mut bits = Flags::default();
        for f in flags {
            bits.0 |= flag_bit(*f);
        }
        FlagGroup {
            child: String::new(),
            flow: Flow::In,
            sex,
            age,
            at_end: true,
            arrived: false,
            left: false,
            flags: bits,
            children_born: 1,
            deliveries: 0,
            count,
        }
    }

    #[test]
    fn key_persons_combine_the_population_and_the_flags() {
        // 10 women of 15–49 at the end: 4 certified (1 of them pregnant), 2 uncertified and pregnant.
        // 5 men: 1 a recent father. A woman of 55, pregnant (a data error, still counted).
        let groups = Groups {
            persons: vec![
                person(Sex::Female, 3, true, 10),
                person(Sex::Male, 3, true, 5),
                person(Sex::Female, 8, true, 1),
                person(Sex::Female, 3, false, 7),
            ],
            flagged: vec![
                flagged(Sex::Female, 3, &[Flag::Certificate], 3),
                flagged(Sex::Female, 3, &[Flag::Certificate, Flag::Pregnant], 1),
                flagged(Sex::Female, 3, &[Flag::Pregnant], 2),
                flagged(Sex::Male, 3, &[Flag::BirthThisYear], 1),
                flagged(Sex::Female, 8, &[Flag::Pregnant], 1),
            ],
        };
        let at_end = Selector { flow: Some(Flow::In), child: None, presence: Presence::AtEnd, sex: None };
        assert_eq!(groups.count(Measure::All, &at_end), 16);
        assert_eq!(groups.count(Measure::Women15To49, &at_end), 10);
        assert_eq!(groups.count(Measure::CertifiedWomen, &at_end), 4);
        assert_eq!(groups.count(Measure::NoCertificate, &at_end), 6);
        // 6 uncertified women + the certified pregnant one + the father + the woman of 55.
        assert_eq!(groups.count(Measure::KeyPerson, &at_end), 9);
        assert_eq!(groups.count(Measure::Flag(Flag::Pregnant), &at_end), 4);
        assert_eq!(groups.count(Measure::ChildrenBorn, &at_end), 8);
        let men = Selector { sex: Some(Sex::Male), ..at_end.clone() };
        assert_eq!(groups.count(Measure::KeyPerson, &men), 1);
    }

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
