use chrono::{Months, NaiveDate};

use crate::codes::CodeTable;
use crate::sections::{CHECK_KINDS, SERVICE_KINDS};

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

    pub(super) fn id(self) -> &'static str {
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
pub(super) fn shipped_reasons() -> &'static [&'static str] {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
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
}
