//! Statistical reports, checked cell by cell.
//!
//! A known population is entered through the service (registrations, sections, ends, removals,
//! exchange items) with fixed clocks. Every cell of every table is then compared with a figure
//! counted here, in plain Rust, from the test's own list of people and items — the counting
//! rules written out again below, as docs/reports.md states them, never by calling the code
//! under test. Then: the data scope, the monthly freeze and a later edit shown as a change, the
//! CSV and XLSX read back, and bad input refused with the field named.
//!
//! Calendar facts used (crates/domain/data/calendar.csv, 2026): 02-14 a worked Saturday, 04-04 to
//! 04-06 off (Tomb-sweeping Day); 01-15 is a Thursday, 03-02 a Monday.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Datelike, NaiveDate};
use domain::record::PersonInput;
use domain::sections::Section;
use qipan::service::exchange::{AnswerRequest, ItemRequest};
use qipan::service::reports::{Purpose, ReportRequest};
use qipan::service::{Actor, App};
use serde_json::Value;

use crate::helpers::{Reply, Session, TestDb, at, demo_app, demo_login, demo_rows, get, get_bytes, send};

/// 新苑社区 and 滨河社区 of 市中街道, 南海社区 of 市西街道: all in 滨城区.
const V1: &str = "371602001001";
const V2: &str = "371602001002";
const V3: &str = "371602002001";
const T1: &str = "371602001";
const COUNTY: &str = "371602";
/// The day everything of March (and a little of April) is entered, and the reports first read.
const ENTRY: &str = "2026-04-03T09:00:00+08:00";
const READ: &str = "2026-04-03T10:00:00+08:00";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn actor(app: &App, username: &str) -> Actor {
    app.login(username, qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor
}

fn id_number(area: &str, born: &str, seq: u32) -> String {
    let first17 = format!("{area}{}{seq:03}", born.replace('-', ""));
    format!("{first17}{}", domain::id_number::check_char(&first17))
}

// ---- the population ----------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct P {
    name: &'static str,
    gender: &'static str,
    born: &'static str,
    marital: Option<&'static str>,
    reason: Option<&'static str>,
    hukou: &'static str,
    residence: &'static str,
    managing: &'static str,
    flow: &'static str,
    moved: &'static str,
    /// (returned | moved_on, date)
    end: Option<(&'static str, &'static str)>,
    removed: bool,
    id_number: Option<String>,
    /// (detected, Some((outcome, ended)))
    pregnancies: Vec<(&'static str, Option<(&'static str, &'static str)>)>,
    children: Vec<&'static str>,
    /// (issued, valid until)
    certificates: Vec<(&'static str, Option<&'static str>)>,
    /// (kind, method, started)
    services: Vec<(&'static str, Option<&'static str>, &'static str)>,
    /// (kind, done)
    checks: Vec<(&'static str, &'static str)>,
}

fn inflow(
    name: &'static str,
    gender: &'static str,
    born: &'static str,
    hukou: &'static str,
    managing: &'static str,
) -> P {
    P { name, gender, born, hukou, residence: managing, managing, flow: "in", ..Default::default() }
}

fn outflow(
    name: &'static str,
    gender: &'static str,
    born: &'static str,
    hukou: &'static str,
    residence: &'static str,
) -> P {
    P { name, gender, born, hukou, residence, managing: hukou, flow: "out", ..Default::default() }
}

/// The people of 滨城区 that the tables count (managed there), with everything on their records.
fn population() -> Vec<P> {
    vec![
        // Managed in 新苑社区 since December; certified; an IUD chosen and checked in March; a
        // child born in January (a key person for the year). Asked about by the county.
        P {
            marital: Some("20"),
            reason: Some("1"),
            moved: "2025-12-01",
            id_number: Some(id_number("511923", "1990-05-10", 2)),
            certificates: vec![("2025-11-20", Some("2028-11-19"))],
            services: vec![("contraception", Some("03"), "2026-03-08")],
            checks: vec![("iud", "2026-03-08")],
            children: vec!["2026-01-15"],
            ..inflow("甲丽", "2", "1990-05-10", "511923001001", V1)
        },
        // In 南海社区 (another township) since January, first marriage.
        P {
            marital: Some("21"),
            reason: Some("2"),
            moved: "2026-01-20",
            id_number: Some(id_number("511923", "1985-07-01", 1)),
            ..inflow("乙强", "1", "1985-07-01", "511923001002", V3)
        },
        // Turns 15 on the last day of March; came with her family in March; no certificate
        // until 2 April.
        P {
            marital: Some("10"),
            reason: Some("4"),
            moved: "2026-03-10",
            certificates: vec![("2026-04-02", None)],
            ..inflow("丙月", "2", "2011-03-31", "341221001003", V1)
        },
        // From another city of Shandong; gave birth in February; went home on 20 March.
        P {
            marital: Some("22"),
            reason: Some("1"),
            moved: "2025-06-01",
            end: Some(("returned", "2026-03-20")),
            pregnancies: vec![("2025-08-01", Some(("birth", "2026-02-20")))],
            ..inflow("丁梅", "2", "1977-04-01", "370302001001", V2)
        },
        // A widower of 66 from another county of 滨州市, no reason given; moves on on 2 April.
        P {
            marital: Some("30"),
            moved: "2026-02-01",
            end: Some(("moved_on", "2026-04-02")),
            ..inflow("戊刚", "1", "1960-01-01", "371621001001", V1)
        },
        // From within 滨城区; moved on in February.
        P {
            reason: Some("9"),
            moved: "2024-01-01",
            end: Some(("moved_on", "2026-02-10")),
            ..inflow("己红", "2", "1995-12-31", "371602002007", V1)
        },
        // Managed by the township itself; arrived on the last day of March, pregnant since the
        // 20th, certified on the 25th (no end date); checks and a reward in March.
        P {
            marital: Some("20"),
            reason: Some("3"),
            moved: "2026-03-31",
            pregnancies: vec![("2026-03-20", None)],
            certificates: vec![("2026-03-25", None)],
            services: vec![("reward_support", None, "2026-03-29")],
            checks: vec![("pregnancy", "2026-03-20"), ("prenatal", "2026-03-30")],
            ..inflow("庚娟", "2", "2000-06-15", "430582001001", T1)
        },
        // Remarried, in 南海社区; her certificate ran out on 15 March; a miscarriage in March;
        // condoms chosen in February and again in March; an illness check in March; a child
        // born last year.
        P {
            marital: Some("23"),
            reason: Some("5"),
            moved: "2026-02-15",
            certificates: vec![("2024-01-01", Some("2026-03-15"))],
            pregnancies: vec![("2026-01-10", Some(("miscarriage", "2026-03-05")))],
            services: vec![("contraception", Some("06"), "2026-02-20"), ("contraception", Some("06"), "2026-03-20")],
            checks: vec![("illness", "2026-03-25")],
            children: vec!["2025-12-20"],
            ..inflow("辛芳", "2", "1992-03-01", "411625001001", V3)
        },
        // Registered by mistake and removed: never counted.
        P {
            marital: Some("20"),
            reason: Some("1"),
            moved: "2026-03-03",
            removed: true,
            ..inflow("壬军", "1", "1988-08-08", "511923001003", V2)
        },
        // Managed by the county itself; a father in March.
        P {
            marital: Some("10"),
            reason: Some("1"),
            moved: "2026-01-05",
            children: vec!["2026-03-12"],
            ..inflow("癸亮", "1", "1999-09-09", "341221001004", COUNTY)
        },
        // Gender not stated (counted in the totals only), came in March.
        P {
            marital: Some("10"),
            reason: Some("1"),
            moved: "2026-03-20",
            ..inflow("子安", "9", "2010-06-01", "511923001001", V2)
        },
        // Arrives on 1 April: outside March.
        P {
            marital: Some("20"),
            reason: Some("1"),
            moved: "2026-04-01",
            ..inflow("丑丽", "2", "1993-01-01", "511923001001", V1)
        },
        // Outflow: gone to Shenzhen, certified.
        P {
            marital: Some("20"),
            reason: Some("1"),
            moved: "2025-10-01",
            certificates: vec![("2025-09-01", Some("2028-08-31"))],
            ..outflow("寅霞", "2", "1998-04-20", V1, "440305001001")
        },
        // Outflow to Jinan in March.
        P {
            marital: Some("20"),
            reason: Some("1"),
            moved: "2026-03-15",
            ..outflow("卯伟", "1", "1980-11-11", V2, "370102001001")
        },
        // Outflow to another county of 滨州市; 50 on the last day of March, the day she came back.
        P {
            marital: Some("40"),
            reason: Some("6"),
            moved: "2025-05-01",
            end: Some(("returned", "2026-03-31")),
            ..outflow("辰燕", "2", "1976-03-31", V3, "371621001001")
        },
    ]
}

/// The person registered late, after the village's March deadline.
fn latecomer() -> P {
    P {
        marital: Some("20"),
        reason: Some("1"),
        moved: "2026-03-25",
        ..inflow("巳龙", "1", "1990-01-01", "511923001002", V1)
    }
}

fn input_of(p: &P) -> PersonInput {
    PersonInput {
        id_number: p.id_number.clone().unwrap_or_default(),
        name: p.name.to_owned(),
        gender: p.gender.to_owned(),
        birth_date: p.born.to_owned(),
        marital_status: p.marital.unwrap_or("").to_owned(),
        hukou_area: p.hukou.to_owned(),
        hukou_address: "户籍地某村3组".to_owned(),
        residence_area: p.residence.to_owned(),
        residence_address: "某小区2号楼".to_owned(),
        managing_unit: p.managing.to_owned(),
        direction: p.flow.to_owned(),
        moved_on: p.moved.to_owned(),
        move_reason: p.reason.unwrap_or("").to_owned(),
        ..Default::default()
    }
}

fn entry(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Enters a person and everything on the record dated by `when` (the clock then); returns the
/// id. The rest is added later with [`add_sections`].
async fn enter(app: &App, who: &Actor, p: &P, when: &str) -> i64 {
    let clocked = at(app, when);
    let id = clocked.register_person(who, &input_of(p)).await.unwrap_or_else(|e| panic!("register {}: {e:?}", p.name));
    let today = clocked.clock.today();
    add_sections(app, who, id, p, when, |date| date <= today).await;
    let version = clocked.store.person(id).await.unwrap().unwrap().version;
    if p.removed {
        clocked.end_person(who, id, version, "removed", "", "重复登记").await.unwrap();
    } else if let Some((status, date)) = p.end {
        clocked.end_person(who, id, version, status, date, "").await.unwrap();
    }
    id
}

/// Adds the entries of a person's record whose date `wanted` accepts, with the clock at `when`.
async fn add_sections(app: &App, who: &Actor, id: i64, p: &P, when: &str, wanted: impl Fn(NaiveDate) -> bool) {
    let app = at(app, when);
    let add = |section: Section, fields: BTreeMap<String, String>| {
        let app = app.clone();
        let who = who.clone();
        async move { app.add_entry(&who, id, section, &fields).await.unwrap_or_else(|e| panic!("{section:?}: {e:?}")) }
    };
    for (detected, end) in p.pregnancies.iter().filter(|(on, end)| wanted(d(end.map_or(on, |(_, e)| e)))) {
        let mut f = entry(&[("detected_on", detected)]);
        if let Some((outcome, ended)) = end {
            f.insert("outcome".into(), (*outcome).into());
            f.insert("ended_on".into(), (*ended).into());
        }
        add(Section::Pregnancies, f).await;
    }
    for born in p.children.iter().filter(|on| wanted(d(on))) {
        add(Section::Children, entry(&[("name", "小宝"), ("gender", "1"), ("birth_date", born)])).await;
    }
    for (issued, until) in p.certificates.iter().filter(|(on, _)| wanted(d(on))) {
        let mut f = entry(&[("number", "婚育证明001"), ("issuer", "户籍地乡镇"), ("issued_on", issued)]);
        if let Some(u) = until {
            f.insert("valid_until".into(), (*u).into());
        }
        add(Section::Certificates, f).await;
    }
    for (kind, method, started) in p.services.iter().filter(|(_, _, on)| wanted(d(on))) {
        let mut f = entry(&[("kind", kind), ("started_on", started)]);
        if let Some(m) = method {
            f.insert("method".into(), (*m).into());
        }
        add(Section::Services, f).await;
    }
    for (kind, done) in p.checks.iter().filter(|(_, on)| wanted(d(on))) {
        add(Section::Checks, entry(&[("kind", kind), ("done_on", done)])).await;
    }
}

// ---- the exchange items ------------------------------------------------------------------------

/// What the test knows of an item, all at 10:00 China time on the dates given.
#[derive(Debug, Clone)]
struct X {
    kind: &'static str,
    /// The managing unit of the person (the sending side).
    from: &'static str,
    /// The other end of the person's move (the receiving side).
    to: &'static str,
    submitted: &'static str,
    urgent: bool,
    answer_required: bool,
    /// The last day, worked out by hand in the comments.
    due: &'static str,
    received: Option<&'static str>,
    answered: Option<&'static str>,
}

struct World {
    app: App,
    _db: TestDb,
    people: Vec<P>,
    items: Vec<X>,
}

async fn world() -> World {
    let (app, db) = demo_app().await;
    let county = actor(&app, "county").await;
    let pingchang = actor(&app, "pingchang").await;
    let mut people = population();
    // 甲丽 and 乙强 are registered in January (the county asks about them early on); what
    // happens to 甲丽 in March is entered on the entry day.
    let a = enter(&app, &county, &people[0], "2026-01-20T09:00:00+08:00").await;
    add_sections(&app, &county, a, &people[0], ENTRY, |date| date > d("2026-01-20")).await;
    let b = enter(&app, &county, &people[1], "2026-01-20T09:00:00+08:00").await;
    for p in &people[2..] {
        enter(&app, &county, p, ENTRY).await;
    }
    // People of 平昌县 registered in 滨城区 villages, asked about by 平昌县.
    let pc = |name, gender, born, hukou, seq| P {
        marital: Some("20"),
        reason: Some("1"),
        moved: "2026-01-10",
        id_number: Some(id_number("371602", born, seq)),
        ..inflow(name, gender, born, hukou, "511923001001")
    };
    let c = enter(&app, &pingchang, &pc("午平", "1", "1982-02-02", V2, 1), "2026-01-10T09:00:00+08:00").await;
    let dd =
        enter(&app, &pingchang, &pc("未兰", "2", "1987-07-07", "371602001003", 2), "2026-01-10T09:00:00+08:00").await;
    let mut e_person = pc("申娥", "2", "1994-04-04", V1, 4);
    e_person.pregnancies = vec![("2026-02-20", None)];
    let e = enter(&app, &pingchang, &e_person, "2026-03-01T09:00:00+08:00").await;

    let send_item =
        |kind: &'static str, person: i64, categories: &'static [&'static str], who: Actor, when: &'static str| {
            let app = at(&app, when);
            async move {
                let req = ItemRequest {
                    kind: kind.to_owned(),
                    person_id: person,
                    categories: categories.iter().map(|c| (*c).to_owned()).collect(),
                    reason: (kind == "notification").then(|| "doubtful".to_owned()),
                    remarks: String::new(),
                    submit: true,
                };
                app.create_exchange_item(&who, &req).await.unwrap_or_else(|e| panic!("send {kind}: {e}"))
            }
        };
    let receive = |id: i64, who: Actor, when: &'static str| {
        let app = at(&app, when);
        async move { app.receive_exchange_item(&who, id).await.unwrap() }
    };
    let answer = |id: i64, who: Actor, when: &'static str| {
        let app = at(&app, when);
        async move {
            let a = AnswerRequest {
                found: true,
                remarks: "已核实".into(),
                search_steps: vec!["own_records".into()],
                facts: Default::default(),
            };
            app.answer_exchange_item(&who, id, &a).await.unwrap()
        }
    };
    // X3: service information about a birth, 02-10 + 30 days = 03-12 (Thu); received 02-12,
    // answered 03-20, late.
    let x3 = send_item("service_info", a, &["births"], county.clone(), "2026-02-10T10:00:00+08:00").await;
    receive(x3, pingchang.clone(), "2026-02-12T10:00:00+08:00").await;
    answer(x3, pingchang.clone(), "2026-03-20T10:00:00+08:00").await;
    // X1: 03-05 + 30 = 04-04, off (and 04-05, 04-06) → 04-07; received 03-06, answered 03-10.
    let x1 = send_item("verification", a, &["basic"], county.clone(), "2026-03-05T10:00:00+08:00").await;
    receive(x1, pingchang.clone(), "2026-03-06T10:00:00+08:00").await;
    answer(x1, pingchang.clone(), "2026-03-10T10:00:00+08:00").await;
    // X2: 03-25 + 30 = 04-24 (Fri); received 04-01, after March.
    let x2 = send_item("verification", b, &["basic"], county.clone(), "2026-03-25T10:00:00+08:00").await;
    receive(x2, pingchang.clone(), "2026-04-01T10:00:00+08:00").await;
    // X4: a notification on 03-30 (Mon), to be received within 30 days: 04-29 (Wed).
    send_item("notification", a, &["basic"], county.clone(), "2026-03-30T10:00:00+08:00").await;
    // Y2: 01-15 + 30 = 02-14, a worked Saturday; never received.
    send_item("verification", dd, &["basic"], pingchang.clone(), "2026-01-15T10:00:00+08:00").await;
    // Y3: urgent (pregnant key person), 03-02 + 15 = 03-17 (Tue); received 03-03, never answered.
    let y3 = send_item("verification", e, &["basic"], pingchang.clone(), "2026-03-02T10:00:00+08:00").await;
    receive(y3, county.clone(), "2026-03-03T10:00:00+08:00").await;
    // Y1: 03-12 + 30 = 04-11 (Sat), 04-12 (Sun) → 04-13; received 03-13.
    let y1 = send_item("verification", c, &["basic"], pingchang.clone(), "2026-03-12T10:00:00+08:00").await;
    receive(y1, county.clone(), "2026-03-13T10:00:00+08:00").await;
    let items = vec![
        X {
            kind: "service_info",
            from: V1,
            to: "511923001001",
            submitted: "2026-02-10",
            urgent: false,
            answer_required: true,
            due: "2026-03-12",
            received: Some("2026-02-12"),
            answered: Some("2026-03-20"),
        },
        X {
            kind: "verification",
            from: V1,
            to: "511923001001",
            submitted: "2026-03-05",
            urgent: false,
            answer_required: true,
            due: "2026-04-07",
            received: Some("2026-03-06"),
            answered: Some("2026-03-10"),
        },
        X {
            kind: "verification",
            from: V3,
            to: "511923001002",
            submitted: "2026-03-25",
            urgent: false,
            answer_required: true,
            due: "2026-04-24",
            received: Some("2026-04-01"),
            answered: None,
        },
        X {
            kind: "notification",
            from: V1,
            to: "511923001001",
            submitted: "2026-03-30",
            urgent: false,
            answer_required: true,
            due: "2026-04-29",
            received: None,
            answered: None,
        },
        X {
            kind: "verification",
            from: "511923001001",
            to: "371602001003",
            submitted: "2026-01-15",
            urgent: false,
            answer_required: true,
            due: "2026-02-14",
            received: None,
            answered: None,
        },
        X {
            kind: "verification",
            from: "511923001001",
            to: V1,
            submitted: "2026-03-02",
            urgent: true,
            answer_required: true,
            due: "2026-03-17",
            received: Some("2026-03-03"),
            answered: None,
        },
        X {
            kind: "verification",
            from: "511923001001",
            to: V2,
            submitted: "2026-03-12",
            urgent: false,
            answer_required: true,
            due: "2026-04-13",
            received: Some("2026-03-13"),
            answered: None,
        },
    ];
    // The hand-worked terms are the stored ones (only submitted items: drafts suggested by the
    // records are not sent and count nowhere).
    let mut stored: Vec<(String, String, bool, bool)> = Vec::new();
    for id in 1..=200 {
        if let Some(i) = app.store.item(id).await.unwrap()
            && i.submitted_at.is_some()
        {
            stored.push((
                i.kind.as_str().to_owned(),
                i.due_on.unwrap().to_string(),
                i.urgency.as_str() == "urgent",
                i.answer_required,
            ));
        }
    }
    stored.sort();
    let mut mine: Vec<(String, String, bool, bool)> =
        items.iter().map(|x| (x.kind.to_owned(), x.due.to_owned(), x.urgent, x.answer_required)).collect();
    mine.sort();
    assert_eq!(stored, mine, "the items as worked out by hand");
    people.retain(|p| p.managing.starts_with(COUNTY));
    World { app, _db: db, people, items }
}

// ---- the counting rules, written out again -----------------------------------------------------

fn age(born: NaiveDate, on: NaiveDate) -> i32 {
    on.year() - born.year() - i32::from((on.month(), on.day()) < (born.month(), born.day()))
}

fn band(age: i32) -> &'static str {
    match age {
        ..15 => "0_14",
        15..=19 => "15_19",
        20..=24 => "20_24",
        25..=29 => "25_29",
        30..=34 => "30_34",
        35..=39 => "35_39",
        40..=44 => "40_44",
        45..=49 => "45_49",
        _ => "50p",
    }
}

fn within(date: &str, from: NaiveDate, to: NaiveDate) -> bool {
    (from..=to).contains(&d(date))
}

/// Everything the rules say of one person for a period.
struct Seen {
    touched: bool,
    end: bool,
    arrived: bool,
    left: bool,
    age: i32,
    woman: bool,
    married: bool,
    pregnant: bool,
    birth_year: bool,
    certified: bool,
    key: bool,
    children_born: u64,
    deliveries: u64,
}

fn seen(p: &P, from: NaiveDate, to: NaiveDate) -> Seen {
    let ended = p.end.map(|(_, e)| d(e));
    let touched = !p.removed && d(p.moved) <= to && ended.is_none_or(|e| e >= from);
    let age = age(d(p.born), to);
    let woman = p.gender == "2" && (15..=49).contains(&age);
    let year_start = NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap();
    let pregnant = p.pregnancies.iter().any(|(det, end)| d(det) <= to && end.is_none_or(|(_, e)| d(e) > to));
    let birth_year = p.children.iter().any(|c| within(c, year_start, to))
        || p.pregnancies.iter().any(|(_, end)| end.is_some_and(|(o, e)| o == "birth" && within(e, year_start, to)));
    let certified = p.certificates.iter().any(|(i, u)| d(i) <= to && u.is_none_or(|u| d(u) >= to));
    Seen {
        touched,
        end: touched && ended.is_none_or(|e| e > to),
        arrived: touched && d(p.moved) >= from,
        left: touched && ended.is_some_and(|e| e <= to),
        age,
        woman,
        married: matches!(p.marital, Some("20" | "21" | "22" | "23")),
        pregnant,
        birth_year,
        certified,
        key: pregnant || birth_year || (woman && !certified),
        children_born: p.children.iter().filter(|c| within(c, from, to)).count() as u64,
        deliveries: p
            .pregnancies
            .iter()
            .filter(|(_, end)| end.is_some_and(|(o, e)| o == "birth" && within(e, from, to)))
            .count() as u64,
    }
}

const REASONS: [&str; 7] = ["1", "2", "3", "4", "5", "6", "9"];

/// Whether a person counts in a row of the inflow or outflow table.
fn in_row(p: &P, s: &Seen, row: &str, from: NaiveDate, to: NaiveDate) -> bool {
    let other = if p.flow == "in" { p.hukou } else { p.residence };
    let service = |kind: &str| p.services.iter().any(|(k, _, on)| *k == kind && within(on, from, to));
    if let Some(b) = row.strip_prefix("age_") {
        return band(s.age) == b;
    }
    if let Some(code) = row.strip_prefix("province_") {
        return other.starts_with(code);
    }
    if let Some(r) = row.strip_prefix("reason_") {
        return match r {
            "unknown" => p.reason.is_none_or(|x| !REASONS.contains(&x)),
            r => p.reason == Some(r),
        };
    }
    if let Some(k) = row.strip_prefix("service_") {
        return service(k);
    }
    if let Some(m) = row.strip_prefix("method_") {
        return p
            .services
            .iter()
            .any(|(k, meth, on)| *k == "contraception" && *meth == Some(m) && within(on, from, to));
    }
    if let Some(k) = row.strip_prefix("check_") {
        return p.checks.iter().any(|(kind, on)| *kind == k && within(on, from, to));
    }
    match row {
        "total" => true,
        "women_15_49" => s.woman,
        "married_women_15_49" => s.woman && s.married,
        "marital_10" => p.marital == Some("10"),
        "marital_20" => s.married,
        "marital_30" => p.marital == Some("30"),
        "marital_40" => p.marital == Some("40"),
        "marital_unknown" => !matches!(p.marital, Some("10" | "20" | "21" | "22" | "23" | "30" | "40")),
        "reach_province" => other[..2] != p.managing[..2],
        "reach_city" => other[..2] == p.managing[..2] && other[..4] != p.managing[..4],
        "reach_county" => other[..4] == p.managing[..4] && other[..6] != p.managing[..6],
        "reach_local" => other[..6] == p.managing[..6],
        "key_total" => s.key,
        "key_pregnant" => s.pregnant,
        "key_birth_this_year" => s.birth_year,
        "key_no_certificate" => s.woman && !s.certified,
        "certificate_valid" => s.certified,
        "certificate_women" => s.certified && s.woman,
        other => panic!("a row the test does not know: {other}"),
    }
}

fn presence(s: &Seen, which: &str) -> bool {
    match which {
        "end" => s.end,
        "arrived" => s.arrived,
        "left" => s.left,
        other => panic!("a column the test does not know: {other}"),
    }
}

/// The expected figure of a cell of the inflow or outflow table.
fn population_cell(people: &[P], unit: &str, flow: &str, row: &str, col: &str, from: NaiveDate, to: NaiveDate) -> u64 {
    let (when, sex) = col.split_once('_').unwrap();
    people
        .iter()
        .filter(|p| p.managing.starts_with(unit) && p.flow == flow)
        .filter(|p| match sex {
            "total" => true,
            "male" => p.gender == "1",
            "female" => p.gender == "2",
            other => panic!("a column the test does not know: {other}"),
        })
        .map(|p| (p, seen(p, from, to)))
        .filter(|(p, s)| s.touched && presence(s, when) && in_row(p, s, row, from, to))
        .count() as u64
}

/// The expected figure of a cell of the national table.
fn national_cell(people: &[P], unit: &str, row: &str, col: &str, from: NaiveDate, to: NaiveDate) -> u64 {
    let (flow, measure) = col.split_once('_').unwrap();
    let mine = |p: &P| match row {
        "total" => p.managing.starts_with(unit),
        "own" => p.managing == unit,
        child => p.managing.starts_with(child),
    };
    let mut n = 0;
    for p in people.iter().filter(|p| mine(p) && p.flow == flow) {
        let s = seen(p, from, to);
        if !s.touched {
            continue;
        }
        n += match measure {
            "end" => u64::from(s.end),
            "women" => u64::from(s.end && s.woman),
            "married_women" => u64::from(s.end && s.woman && s.married),
            "arrived" => u64::from(s.arrived),
            "left" => u64::from(s.left),
            "key" => u64::from(s.end && s.key),
            "certified_women" => u64::from(s.end && s.woman && s.certified),
            "children_born" => s.children_born,
            "deliveries" => s.deliveries,
            other => panic!("a column the test does not know: {other}"),
        };
    }
    n
}

/// The expected figures of a row of the exchange table (counts) for a unit and a period.
fn exchange_counts(items: &[X], unit: &str, row: &str, from: NaiveDate, to: NaiveDate) -> BTreeMap<&'static str, u64> {
    let by = |date: Option<&str>| date.is_some_and(|x| d(x) <= to);
    let mut m: BTreeMap<&'static str, u64> = BTreeMap::new();
    for x in items.iter().filter(|x| (row == "total" || x.kind == row) && within(x.submitted, from, to)) {
        let answered = by(x.answered);
        let received = by(x.received);
        if x.from.starts_with(unit) {
            *m.entry("sent").or_default() += 1;
            *m.entry("sent_urgent").or_default() += u64::from(x.urgent);
            *m.entry("sent_answered").or_default() += u64::from(answered);
            *m.entry("sent_overdue").or_default() += u64::from(x.answer_required && d(x.due) <= to && !answered);
        }
        if x.to.starts_with(unit) {
            let on_time = x.answered.is_some_and(|a| d(a) <= d(x.due));
            *m.entry("incoming").or_default() += 1;
            *m.entry("received").or_default() += u64::from(received);
            *m.entry("feedback_due").or_default() += u64::from(x.answer_required);
            *m.entry("answered").or_default() += u64::from(x.answer_required && answered);
            *m.entry("answered_on_time").or_default() += u64::from(x.answer_required && answered && on_time);
            let done = if x.answer_required { answered } else { received };
            *m.entry("overdue").or_default() += u64::from(d(x.due) <= to && !done);
        }
    }
    m
}

fn exchange_cell(items: &[X], unit: &str, row: &str, col: &str, from: NaiveDate, to: NaiveDate) -> Value {
    let m = exchange_counts(items, unit, row, from, to);
    let n = |k: &str| m.get(k).copied().unwrap_or(0);
    let rate = |a: &str, b: &str| if n(b) == 0 { Value::Null } else { serde_json::json!(n(a) as f64 / n(b) as f64) };
    match col {
        "receipt_rate" => rate("received", "incoming"),
        "feedback_rate" => rate("answered", "feedback_due"),
        "timeliness" => rate("answered_on_time", "answered"),
        c => serde_json::json!(n(c)),
    }
}

/// One table of one unit for one period.
#[derive(Debug, Clone, Copy)]
struct Cut<'a> {
    table: &'a str,
    unit: &'a str,
    from: NaiveDate,
    to: NaiveDate,
}

/// What the test expects of a table: every cell by (row id, column id).
fn expected(w: &World, people: &[P], cut: Cut<'_>, row: &str, col: &str) -> Value {
    let Cut { table, unit, from, to } = cut;
    match table {
        "inflow" => serde_json::json!(population_cell(people, unit, "in", row, col, from, to)),
        "outflow" => serde_json::json!(population_cell(people, unit, "out", row, col, from, to)),
        "national" => serde_json::json!(national_cell(people, unit, row, col, from, to)),
        "exchange" => exchange_cell(&w.items, unit, row, col, from, to),
        other => panic!("no such table {other}"),
    }
}

/// The rows a table must have, counted independently. Inflow and outflow: 1 total, 9 ages, 2
/// women, 5 marital, 8 reasons, 4 reaches, 34 provinces, 4 key, 2 certificate, 5 services, 8
/// methods and 5 checks. The national table: a total, one row per unit below, the unit itself.
/// The exchange table: a total and three kinds.
fn expected_row_count(table: &str, unit: &str) -> usize {
    match table {
        "inflow" | "outflow" => 1 + 9 + 2 + 5 + 8 + 4 + 34 + 4 + 2 + 5 + 8 + 5,
        "national" => {
            let below = match unit.len() {
                6 => demo_rows("streets.csv", unit),
                9 => demo_rows("villages.csv", unit),
                _ => 0,
            };
            2 + below as usize
        }
        _ => 4,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

/// Compares every cell of a report's JSON (`cells`, or `current` for the live figures of a
/// frozen month) with the figures counted here.
fn check_every_cell(w: &World, people: &[P], json: &Value, which: &str) -> usize {
    let table = json["id"].as_str().unwrap();
    let unit = json["unit"]["code"].as_str().unwrap();
    let (from, to) = (d(json["period"]["from"].as_str().unwrap()), d(json["period"]["to"].as_str().unwrap()));
    let rows: Vec<&str> = json["rows"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let cols: Vec<&str> = json["columns"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), expected_row_count(table, unit), "{table} for {unit}: {rows:?}");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (r, row) in rows.iter().enumerate() {
        for (c, col) in cols.iter().enumerate() {
            let got = &json[which][r][c];
            let want = expected(w, people, Cut { table, unit, from, to }, row, col);
            checked += 1;
            if !same(got, &want) {
                failures.push(format!("{row} × {col}: got {got}, want {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{table} {unit} {from}..{to} ({which}):\n{}", failures.join("\n"));
    checked
}

async fn report_json(app: &App, session: &Session, table: &str, query: &str) -> Value {
    let reply = get(app, &format!("/api/v1/reports/{table}?{query}"), Some(session)).await;
    assert_eq!(reply.status, StatusCode::OK, "{table}?{query}: {}", reply.body);
    reply.json()
}

const TABLES: [&str; 4] = ["inflow", "outflow", "national", "exchange"];

// ---- the tests ------------------------------------------------------------------------------------

#[tokio::test]
async fn every_cell_of_every_table_adds_up_for_months_quarters_years_and_ranges() {
    let w = world().await;
    let app = at(&w.app, READ);
    let county = demo_login(&app, "county").await;
    let list = get(&app, "/api/v1/reports", Some(&county)).await.json();
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, TABLES);
    assert!(list["items"].as_array().unwrap().iter().all(|i| !i["title"].as_str().unwrap().is_empty()));

    // Some figures by hand, as a reader of the table would check them. March, 滨城区, inflow at
    // the end: 甲丽, 乙强, 丙月, 戊刚, 庚娟, 辛芳, 癸亮, 子安 (丁梅 went home, 己红 moved on in
    // February, 壬军 was removed, 丑丽 came in April).
    let march = report_json(&app, &county, "inflow", &format!("unit={COUNTY}&period=2026-03")).await;
    let cell = |j: &Value, row: &str, col: &str| {
        let r = j["rows"].as_array().unwrap().iter().position(|x| x["id"] == row).unwrap();
        let c = j["columns"].as_array().unwrap().iter().position(|x| x["id"] == col).unwrap();
        j["cells"][r][c].clone()
    };
    assert_eq!(cell(&march, "total", "end_total"), 8);
    assert_eq!(cell(&march, "total", "end_female"), 4, "甲丽, 丙月, 庚娟, 辛芳");
    assert_eq!(cell(&march, "total", "arrived_total"), 3, "丙月, 庚娟, 子安");
    assert_eq!(cell(&march, "total", "left_total"), 1, "丁梅");
    assert_eq!(cell(&march, "age_15_19", "end_female"), 1, "丙月 turned 15 on 31 March");
    assert_eq!(
        cell(&march, "key_total", "end_total"),
        5,
        "甲丽 (birth), 丙月, 辛芳 (no certificate), 庚娟 (pregnant), 癸亮 (father)"
    );
    assert_eq!(cell(&march, "province_37", "end_total"), 1, "戊刚 from 惠民县");
    assert_eq!(march["snapshot"]["state"], "open", "the county reports March by 10 April");
    assert_eq!(march["snapshot"]["deadline"], "2026-04-10");

    // Every cell, every table, several units and periods.
    let cases = [
        (COUNTY, "period=2026-03"),
        (COUNTY, "period=2026-Q1"),
        (COUNTY, "period=2026"),
        (COUNTY, "from=2026-02-15&to=2026-04-02"),
        (T1, "period=2026-03"),
        (T1, "period=2026-02"),
        (V3, "period=2026-Q1"),
    ];
    let mut checked = 0;
    for (unit, period) in cases {
        for table in TABLES {
            let json = report_json(&app, &county, table, &format!("unit={unit}&{period}")).await;
            checked += check_every_cell(&w, &w.people, &json, "cells");
        }
    }
    assert!(checked > 2000, "{checked} cells checked");
    assert_eq!(march["figures_from"], "records", "no month is kept before the nightly build");

    // The same months read from the kept roll-ups once the nightly job has built them (the
    // roll-ups moved by later writes: tasks.rs).
    let built = app.build_rollups(false).await.unwrap();
    assert!(built.built.contains(&"2026-03".to_owned()) && built.built.contains(&"2026-02".to_owned()), "{built:?}");
    let months: Vec<_> = cases.iter().filter(|(_, p)| p.starts_with("period=2026-0")).collect();
    let mut kept = 0;
    for (unit, period) in &months {
        for table in TABLES.iter().filter(|t| **t != "exchange") {
            let json = report_json(&app, &county, table, &format!("unit={unit}&{period}")).await;
            assert_eq!(json["figures_from"], "rollups", "{table} {unit} {period}");
            kept += check_every_cell(&w, &w.people, &json, "cells");
        }
    }
    assert!(kept > 1000, "{kept} cells checked from the roll-ups");

    // The exchange table by hand too: March, 滨城区. Sent: X1, X2, X4 (X3 was sent in February);
    // X1 answered on time. Incoming: Y3 (urgent, past 03-17, not answered) and Y1.
    let x = report_json(&app, &county, "exchange", &format!("unit={COUNTY}&period=2026-03")).await;
    assert_eq!(cell(&x, "total", "sent"), 3);
    assert_eq!(cell(&x, "total", "sent_answered"), 1);
    assert_eq!(cell(&x, "total", "incoming"), 2);
    assert_eq!(cell(&x, "total", "overdue"), 1);
    assert_eq!(cell(&x, "total", "feedback_rate"), 0.0);
    assert_eq!(cell(&x, "notification", "receipt_rate"), Value::Null, "nothing incoming to divide by");
}

#[tokio::test]
async fn each_actor_sees_its_own_subtree_and_is_refused_outside_it() {
    let w = world().await;
    let app = at(&w.app, READ);
    let township = demo_login(&app, "township").await;
    let clerk = demo_login(&app, "clerk").await;
    let supervisor = demo_login(&app, "supervisor").await;
    // The township's own report, without naming the unit: 市中街道 only.
    let own = report_json(&app, &township, "inflow", "period=2026-03").await;
    assert_eq!(own["unit"]["code"], T1);
    check_every_cell(&w, &w.people, &own, "cells");
    // At the end: 甲丽, 丙月, 戊刚, 庚娟, 子安. 乙强 and 辛芳 live in 南海社区 of another
    // township and 癸亮 is managed by the county: not counted.
    let r = own["rows"].as_array().unwrap().iter().position(|x| x["id"] == "total").unwrap();
    assert_eq!(own["cells"][r][0], 5);
    for (session, unit) in [(&township, COUNTY), (&township, V3), (&clerk, T1), (&township, "511923")] {
        let reply = get(&app, &format!("/api/v1/reports/inflow?unit={unit}&period=2026-03"), Some(session)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{unit}: {}", reply.body);
        assert_eq!(reply.json()["error"]["field"], "unit");
    }
    // The supervisor of 滨州市 reads the county's figures, and they are the same.
    let from_above = report_json(&app, &supervisor, "national", &format!("unit={COUNTY}&period=2026-03")).await;
    check_every_cell(&w, &w.people, &from_above, "cells");
    // The page refuses too, naming the unit, and the refusal is audited.
    let page = get(&app, &format!("/reports/inflow?unit={COUNTY}&period=2026-03"), Some(&township)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("单位代码") && page.body.contains("不在您的管辖范围内"), "{}", page.body);
    let filter = store::AuditFilter {
        actor: Some("township".into()),
        action_prefix: Some("access.denied".into()),
        ..Default::default()
    };
    let (denied, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 20 }).await.unwrap();
    assert!(denied.iter().any(|e| e.entry.org_code.as_deref() == Some(COUNTY)));
    // Administrators and department tokens read no reports.
    let sysadmin = demo_login(&app, "sysadmin").await;
    assert_eq!(get(&app, "/api/v1/reports", Some(&sysadmin)).await.status, StatusCode::FORBIDDEN);
    let console = Actor::console(domain::OrgCode::parse("00").unwrap());
    let (_, token) =
        app.create_api_token(&console, "公安", &domain::OrgCode::parse(COUNTY).unwrap(), 365).await.unwrap();
    let req = Request::get("/api/v1/reports/inflow?period=2026-03")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::FORBIDDEN);
    // Every read is audited with what was read.
    let filter = store::AuditFilter {
        actor: Some("township".into()),
        action_prefix: Some("report.view".into()),
        ..Default::default()
    };
    let (views, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 20 }).await.unwrap();
    assert_eq!(views.len(), 1);
    assert!(views[0].entry.detail.contains("\"table\":\"inflow\"") && views[0].entry.detail.contains("2026-03"));
}

#[tokio::test]
async fn a_month_freezes_after_the_deadline_and_later_edits_show_as_changes() {
    let mut w = world().await;
    let app = at(&w.app, READ);
    let clerk = demo_login(&app, "clerk").await;
    let query = format!("unit={V1}&period=2026-03");
    // 3 April: past the village's deadline (the 2nd). The first read freezes each table.
    let mut frozen = BTreeMap::new();
    for table in TABLES {
        let json = report_json(&app, &clerk, table, &query).await;
        assert_eq!(json["snapshot"]["state"], "frozen", "{table}");
        assert_eq!(json["snapshot"]["deadline"], "2026-04-02");
        assert_eq!(json["changes"].as_array().unwrap().len(), 0);
        check_every_cell(&w, &w.people, &json, "cells");
        frozen.insert(table, json);
    }
    // Reading again changes nothing: one snapshot per table, one freeze in the audit log.
    let again = report_json(&app, &clerk, "inflow", &query).await;
    assert_eq!(again["snapshot"]["frozen_at"], frozen["inflow"]["snapshot"]["frozen_at"]);
    let filter = store::AuditFilter { action_prefix: Some("report.freeze".into()), ..Default::default() };
    let (freezes, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 50 }).await.unwrap();
    assert_eq!(freezes.len(), 4);
    // The township's month is still open (its deadline is the 5th).
    let township = demo_login(&app, "township").await;
    let t1 = report_json(&app, &township, "inflow", &format!("unit={T1}&period=2026-03")).await;
    assert_eq!(t1["snapshot"]["state"], "open");
    let board = get(&app, &format!("/reports/snapshots?unit={T1}&month=2026-03"), Some(&township)).await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(board.body.contains(&format!("id=\"unit-{T1}\" data-state=\"open\"")), "{}", board.body);
    assert!(board.body.contains(&format!("id=\"unit-{V1}\" data-state=\"frozen\"")));
    assert!(board.body.contains(&format!("id=\"unit-{V2}\" data-state=\"due\"")));

    // 6 April: someone who came on 25 March is registered late, and a child born on 28 March
    // is added to 甲丽's record.
    let before = w.people.clone();
    let later = at(&w.app, "2026-04-06T09:00:00+08:00");
    let county = actor(&later, "county").await;
    let late = latecomer();
    enter(&w.app, &county, &late, "2026-04-06T09:00:00+08:00").await;
    w.people.push(late);
    let a = later.store.persons_with_id_number(w.people[0].id_number.as_deref().unwrap(), None).await.unwrap()[0].id;
    let child = entry(&[("name", "小宝"), ("gender", "2"), ("birth_date", "2026-03-28")]);
    later.add_entry(&county, a, Section::Children, &child).await.unwrap();
    w.people[0].children.push("2026-03-28");

    let read = at(&w.app, "2026-04-06T10:00:00+08:00");
    let clerk = demo_login(&read, "clerk").await;
    for table in TABLES {
        let json = report_json(&read, &clerk, table, &query).await;
        assert_eq!(json["snapshot"]["state"], "frozen");
        assert_eq!(json["cells"], frozen[table]["cells"], "{table}: the frozen figures never change");
        check_every_cell(&w, &before, &json, "cells");
        check_every_cell(&w, &w.people, &json, "current");
        // The changes are exactly the cells where the two populations differ.
        let mut want = BTreeSet::new();
        let (from, to) = (d("2026-03-01"), d("2026-03-31"));
        for row in json["rows"].as_array().unwrap() {
            for col in json["columns"].as_array().unwrap() {
                let (r, c) = (row["id"].as_str().unwrap(), col["id"].as_str().unwrap());
                let cut = Cut { table, unit: V1, from, to };
                if !same(&expected(&w, &before, cut, r, c), &expected(&w, &w.people, cut, r, c)) {
                    want.insert((r.to_owned(), c.to_owned()));
                }
            }
        }
        let got: BTreeSet<(String, String)> = json["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["row"].as_str().unwrap().to_owned(), c["column"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(got, want, "{table}");
        if table == "inflow" {
            assert!(got.contains(&("total".to_owned(), "end_male".to_owned())), "the latecomer");
        }
    }
    // The page shows the frozen figure with the difference beside it.
    let page = get(&read, &format!("/reports/inflow?{query}"), Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    let total = page.body.split("id=\"row-total\"").nth(1).unwrap().split("</tr>").next().unwrap();
    // 甲丽, 丙月 and 戊刚 when frozen; the latecomer since.
    assert!(total.contains("<td class=\"num\">3 <span class=\"bad\""), "{total}");
    assert!(total.contains("(+1)"), "{total}");
    assert!(page.body.contains("data-state=\"frozen\""));
    // The township's month, read after its deadline, freezes with the late registration in it.
    let township = demo_login(&read, "township").await;
    let t1 = report_json(&read, &township, "inflow", &format!("unit={T1}&period=2026-03")).await;
    assert_eq!(t1["snapshot"]["state"], "frozen");
    assert!(t1["changes"].as_array().unwrap().is_empty());
    check_every_cell(&w, &w.people, &t1, "cells");
}

#[tokio::test]
async fn two_first_readers_at_once_freeze_the_month_once() {
    let w = world().await;
    let app = at(&w.app, "2026-04-11T09:00:00+08:00");
    let county = actor(&app, "county").await;
    let req = ReportRequest { table: "national", unit: Some(COUNTY), period: Some("2026-03"), from: None, to: None };
    let (a, b) = tokio::join!(app.report(&county, &req, Purpose::View), app.report(&county, &req, Purpose::View));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.state, b.state);
    assert_eq!(a.state.as_str(), "frozen");
    let stored = app.store.report_snapshots_within(&("/37/".into(), "/370".into()), "2026-03").await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let filter = store::AuditFilter { action_prefix: Some("report.freeze".into()), ..Default::default() };
    let (freezes, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 10 }).await.unwrap();
    assert_eq!(freezes.len(), 1);
}

/// The cells of the first sheet: reference → value (numbers as they are written; strings
/// resolved through the shared strings).
pub(crate) fn sheet_cells(
    archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>,
) -> (String, BTreeMap<String, String>) {
    let mut read = |name: &str| {
        let mut s = String::new();
        archive.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let sheet = read("xl/worksheets/sheet1.xml");
    let shared_xml = read("xl/sharedStrings.xml");
    let shared: Vec<String> = shared_xml
        .split("<si>")
        .skip(1)
        .map(|si| {
            si.split("<t")
                .nth(1)
                .and_then(|t| t.split_once('>'))
                .map(|(_, rest)| rest.split("</t>").next().unwrap_or("").to_owned())
                .unwrap_or_default()
        })
        .collect();
    let mut cells = BTreeMap::new();
    for c in sheet.split("<c r=\"").skip(1) {
        let (reference, rest) = c.split_once('"').unwrap();
        let head = rest.split('>').next().unwrap_or("");
        let Some(v) = rest.split("<v>").nth(1).and_then(|v| v.split("</v>").next()) else { continue };
        let v = if head.contains("t=\"s\"") { shared[v.parse::<usize>().unwrap()].clone() } else { v.to_owned() };
        cells.insert(reference.to_owned(), v);
    }
    (sheet, cells)
}

fn column_letters(mut n: usize) -> String {
    let mut s = String::new();
    n += 1;
    while n > 0 {
        let r = (n - 1) % 26;
        s.insert(0, (b'A' + r as u8) as char);
        n = (n - 1) / 26;
    }
    s
}

#[tokio::test]
async fn csv_and_xlsx_exports_read_back_with_every_figure_and_are_audited() {
    let w = world().await;
    let app = at(&w.app, READ);
    let county = demo_login(&app, "county").await;
    let query = format!("unit={COUNTY}&period=2026-03");
    let json = report_json(&app, &county, "inflow", &query).await;

    // CSV from the page's link: a header, then one line per row with every figure.
    let reply = get(&app, &format!("/reports/inflow.csv?{query}"), Some(&county)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("inflow-371602-2026-03.csv"));
    let lines: Vec<&str> = reply.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("\"行代码\",\"分组\",\"指标\",\"期末流入人口 · 合计\""), "{}", lines[0]);
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(lines.len(), rows.len() + 1);
    for (i, line) in lines[1..].iter().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[0].trim_matches('"'), rows[i]["id"].as_str().unwrap());
        let figures: Vec<Value> = fields[3..].iter().map(|f| serde_json::json!(f.parse::<u64>().unwrap())).collect();
        assert_eq!(Value::Array(figures), json["cells"][i], "{line}");
    }
    // The API answers CSV by Accept, the same text.
    let req = Request::get(format!("/api/v1/reports/inflow?{query}"))
        .header(header::COOKIE, &county.cookie)
        .header(header::ACCEPT, "text/csv")
        .body(Body::empty())
        .unwrap();
    let by_accept: Reply = send(&app, req).await;
    assert_eq!(by_accept.body, reply.body);

    // XLSX: a real workbook with merged headers, number formats, frozen panes, a title block.
    let (status, bytes) = get_bytes(&app, &format!("/reports/national.xlsx?{query}"), Some(&county)).await;
    assert_eq!(status, StatusCode::OK);
    let national = report_json(&app, &county, "national", &query).await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an XLSX is a zip archive");
    let (sheet, cells) = sheet_cells(&mut archive);
    assert!(sheet.contains("<mergeCell ref=\"A1:"), "the title spans the table");
    assert!(sheet.contains("<mergeCell ref=\"C4:K4\""), "流入人口 spans its nine columns: {sheet}");
    assert!(sheet.contains("state=\"frozen\"") && sheet.contains("xSplit=\"2\"") && sheet.contains("ySplit=\"5\""));
    assert_eq!(cells["A1"], "全员流动人口统计表");
    assert!(cells["A2"].contains("滨城区") && cells["A2"].contains("2026年3月"), "{}", cells["A2"]);
    assert!(cells["A3"].contains("导出人：赵敏") && cells["A3"].contains("2026-04-03 10:00"), "{}", cells["A3"]);
    let mut styles = String::new();
    archive.by_name("xl/styles.xml").unwrap().read_to_string(&mut styles).unwrap();
    assert!(styles.contains("#,##0"), "a number format for counts");
    let (from, to) = (d("2026-03-01"), d("2026-03-31"));
    for (r, row) in national["rows"].as_array().unwrap().iter().enumerate() {
        for (c, col) in national["columns"].as_array().unwrap().iter().enumerate() {
            let reference = format!("{}{}", column_letters(c + 2), r + 6);
            let want =
                national_cell(&w.people, COUNTY, row["id"].as_str().unwrap(), col["id"].as_str().unwrap(), from, to);
            assert_eq!(cells.get(&reference).map(String::as_str), Some(want.to_string().as_str()), "{reference}");
        }
    }
    // Rates are fractions with a percentage format.
    let (_, bytes) = get_bytes(&app, &format!("/reports/exchange.xlsx?{query}"), Some(&county)).await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut styles = String::new();
    archive.by_name("xl/styles.xml").unwrap().read_to_string(&mut styles).unwrap();
    assert!(styles.contains("0.0%"));

    let filter = store::AuditFilter {
        actor: Some("county".into()),
        action_prefix: Some("report.export".into()),
        ..Default::default()
    };
    let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 10 }).await.unwrap();
    let formats: BTreeSet<String> = log
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.entry.detail).unwrap()["format"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(log.len(), 4);
    assert_eq!(formats, BTreeSet::from(["csv".to_owned(), "xlsx".to_owned()]));

    // A frozen month with changes: the XLSX gains a sheet of changes, the CSV a block.
    let later = at(&w.app, "2026-04-11T09:00:00+08:00");
    let c = actor(&later, "county").await;
    later
        .report(
            &c,
            &ReportRequest { table: "inflow", unit: Some(COUNTY), period: Some("2026-03"), from: None, to: None },
            Purpose::View,
        )
        .await
        .unwrap();
    enter(&w.app, &c, &latecomer(), "2026-04-12T09:00:00+08:00").await;
    let read = at(&w.app, "2026-04-12T10:00:00+08:00");
    let county = demo_login(&read, "county").await;
    let csv = get(&read, &format!("/reports/inflow.csv?{query}"), Some(&county)).await.body;
    assert!(csv.contains("\r\n\r\n\"冻结后变动\""), "{csv}");
    let (_, bytes) = get_bytes(&read, &format!("/reports/inflow.xlsx?{query}"), Some(&county)).await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut workbook = String::new();
    archive.by_name("xl/workbook.xml").unwrap().read_to_string(&mut workbook).unwrap();
    assert!(workbook.contains("冻结后变动"), "{workbook}");
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_the_rule() {
    let w = world().await;
    let app = at(&w.app, READ);
    let county = demo_login(&app, "county").await;
    let cases = [
        ("inflow?period=2026-13", StatusCode::UNPROCESSABLE_ENTITY, Some("period")),
        ("inflow?period=2026-Q5", StatusCode::UNPROCESSABLE_ENTITY, Some("period")),
        ("inflow?period=2026-03&from=2026-03-01", StatusCode::UNPROCESSABLE_ENTITY, Some("period")),
        ("inflow?from=2026-03-31&to=2026-03-01", StatusCode::UNPROCESSABLE_ENTITY, Some("to")),
        ("inflow?from=2026-03-01", StatusCode::UNPROCESSABLE_ENTITY, Some("to")),
        ("inflow?from=2026-02-30&to=2026-03-01", StatusCode::UNPROCESSABLE_ENTITY, Some("from")),
        ("inflow?period=2026-05", StatusCode::UNPROCESSABLE_ENTITY, Some("period")),
        ("inflow?unit=37x&period=2026-03", StatusCode::UNPROCESSABLE_ENTITY, Some("unit")),
        ("inflow?unit=511923&period=2026-03", StatusCode::FORBIDDEN, Some("unit")),
        ("births?period=2026-03", StatusCode::NOT_FOUND, None),
    ];
    for (path, status, field) in cases {
        let reply = get(&app, &format!("/api/v1/reports/{path}"), Some(&county)).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        let error = &reply.json()["error"];
        assert_eq!(error["field"].as_str(), field, "{path}: {}", reply.body);
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let reply = get(&app, "/api/v1/reports/inflow?from=2026-03-31&to=2026-03-01", Some(&county)).await;
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("the end may not come before the start"));
    // The page names the field and the rule in Chinese, and keeps the form.
    let page = get(&app, "/reports/inflow?period=2026-13", Some(&county)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("统计期") && page.body.contains("统计期写作月份"), "{}", page.body);
    assert!(page.body.contains("id=\"report-form\""));
    let missing = get(&app, "/reports/births", Some(&county)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let req = Request::get("/api/v1/reports/inflow?period=2026-03")
        .header(header::COOKIE, &county.cookie)
        .header(header::ACCEPT, "image/png")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::NOT_ACCEPTABLE);
    let board = get(&app, "/reports/snapshots?month=2026-3", Some(&county)).await;
    assert_eq!(board.status, StatusCode::BAD_REQUEST);
    assert!(board.body.contains("月份写作 2026-03"));
}

#[tokio::test]
async fn the_pages_list_the_tables_show_one_and_speak_english_too() {
    let w = world().await;
    let app = at(&w.app, READ);
    let clerk = demo_login(&app, "clerk").await;
    let index = get(&app, "/reports", Some(&clerk)).await;
    assert_eq!(index.status, StatusCode::OK);
    for table in TABLES {
        assert!(index.body.contains(&format!("formaction=\"/reports/{table}\"")), "{table}");
    }
    assert!(index.body.contains("value=\"2026-03\""), "the previous month by default");
    assert!(index.body.contains(&format!("value=\"{V1}\"")), "the clerk's own unit by default");
    let page = get(&app, "/reports/outflow?period=2026-03", Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("流出人口计划生育管理和服务情况统计表"));
    assert!(page.body.contains("print-only") && page.body.contains("导出人："));
    assert!(
        page.body.contains(&format!("href=\"/reports/outflow.xlsx?unit={V1}&amp;period=2026-03\""))
            || page.body.contains("/reports/outflow.xlsx?period=2026-03")
    );
    let english = get(&app, "/reports/inflow?period=2026-03", Some(&clerk.with_cookie("qipan_lang=en"))).await;
    assert!(english.body.contains("Inflow population: family-planning management and services"));
    assert!(english.body.contains("Women aged 15–49"));
    // An empty subtree and period says so.
    let empty = get(&app, "/reports/inflow?period=2023-06", Some(&clerk)).await;
    assert!(empty.body.contains("id=\"report-empty\""), "{}", empty.body);
}

#[test]
fn every_title_of_every_table_is_in_both_catalogues() {
    use qipan::i18n::{Locale, keys};
    let (zh, en) = (keys(Locale::ZhCn), keys(Locale::En));
    let mut missing = Vec::new();
    for table in domain::report::TableId::ALL {
        let layout = domain::report::layout(table, &[]);
        let mut wanted = vec![table.title(), table.description(), table.short_title()];
        for r in &layout.rows {
            wanted.extend(r.group);
            if let domain::report::Title::Key(k) = r.title {
                wanted.push(k);
            }
        }
        for c in &layout.columns {
            wanted.extend(c.group);
            wanted.push(c.title);
        }
        missing.extend(wanted.into_iter().filter(|k| !zh.contains(k) || !en.contains(k)));
    }
    assert!(missing.is_empty(), "missing from the catalogues: {missing:?}");
}

/// The daily freeze: after a unit's deadline its month is frozen even when nobody reads the
/// report, so that a registration entered later shows as a difference.
#[tokio::test]
async fn the_daily_job_freezes_each_unit_after_its_own_deadline() {
    let (app, _db) = demo_app().await;
    let march = at(&app, "2026-03-10T09:00:00+08:00");
    let clerk = actor(&march, "clerk").await;
    let person = |seq: u32, moved_on: &str| PersonInput {
        id_number: id_number("511923", "19900307", seq),
        name: if seq == 2 { "陈静".into() } else { "李梅".into() },
        hukou_area: "511923101002".into(),
        hukou_address: "平昌县某社区".into(),
        residence_area: "371602001001".into(),
        residence_address: "新苑小区3号楼".into(),
        managing_unit: "371602001001".into(),
        direction: "in".into(),
        moved_on: moved_on.into(),
        ..Default::default()
    };
    march.register_person(&clerk, &person(2, "2026-03-05")).await.unwrap();
    // 04-03: the community's March deadline (04-02) has passed, the township's (04-05) has not.
    let apr03 = at(&app, "2026-04-03T01:00:00+08:00");
    let frozen = apr03.freeze_due_reports().await.unwrap();
    // Four tables (inflow, outflow, national, exchange). February (the month before, also
    // looked at) is past every deadline of the community's line — community, township, county,
    // city, province: 5 × 4 — and March only the community's: 4. 24 snapshots.
    assert_eq!(frozen, 24);
    let snapshot = |unit: &'static str| {
        let app = app.clone();
        async move { app.store.report_snapshot(unit, "inflow", "2026-03").await.unwrap() }
    };
    assert!(snapshot("371602001001").await.is_some());
    assert!(snapshot("371602001").await.is_none(), "the township's deadline is the 5th");
    assert_eq!(apr03.freeze_due_reports().await.unwrap(), 0, "nothing more is due today");
    // A registration of March entered on 04-03: the frozen report shows it as a difference.
    apr03.register_person(&clerk, &person(4, "2026-03-20")).await.unwrap();
    let request =
        ReportRequest { table: "inflow", unit: Some("371602001001"), period: Some("2026-03"), from: None, to: None };
    let report = apr03.report(&clerk, &request, Purpose::View).await.unwrap();
    assert!(!report.changes().is_empty(), "the late registration shows as a change");
    // 04-06: the township, the county's is the 10th.
    let apr06 = at(&app, "2026-04-06T01:00:00+08:00");
    assert_eq!(apr06.freeze_due_reports().await.unwrap(), 4, "the township's four tables");
    assert!(snapshot("371602001").await.is_some() && snapshot("371602").await.is_none());
}
