//! Supervision (监管平台): monitoring, performance, the bulletin, orders (督办) and reminders (催办).
//!
//! Every expected figure is worked out by hand in the comments from the rules (domain::exchange,
//! domain::supervision) and the shipped calendar. Weekdays of 2026: 01-05 is a Monday, 03-02 a
//! Monday, 04-07 a Tuesday. A normal verification is due 30 days after its submission; an item
//! submitted on or before the 20th belongs to that month's cycle.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{NaiveDate, TimeZone, Utc};
use domain::OrgCode;
use domain::case::CaseKind;
use domain::exchange::Cycle;
use domain::record::PersonInput;
use domain::supervision::SubjectKind;
use qipan::service::exchange::{AnswerRequest, ItemRequest};
use qipan::service::supervision::{Monitoring, OrderBox, OrderQuery, OrderRequest};
use qipan::service::{Actor, App, ServiceError, ServiceResult};
use store::supervision::{Backlog, NewOrder};
use store::{AuditDraft, AuditFilter, EventActor, Page, Step};

use crate::helpers::*;

/// 新苑社区 and 滨河社区, Bincheng (市中街道): where the people of these stories live.
const XINYUAN: &str = "371602001001";
const BINHE: &str = "371602001002";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A person who moved on `moved_on` into `managing` from the household registration `hukou`.
fn inflow(id: &str, name: &str, hukou: &str, managing: &str, moved_on: &str) -> PersonInput {
    PersonInput {
        id_number: id.to_owned(),
        name: name.to_owned(),
        hukou_area: hukou.to_owned(),
        hukou_address: "户籍地村民小组12号".to_owned(),
        residence_area: managing.to_owned(),
        residence_address: "新苑小区3号楼2单元".to_owned(),
        managing_unit: managing.to_owned(),
        direction: "in".to_owned(),
        moved_on: moved_on.to_owned(),
        ..Default::default()
    }
}

async fn register(app: &App, actor: &Actor, input: &PersonInput) -> i64 {
    app.register_person(actor, input).await.unwrap_or_else(|e| panic!("register {}: {e:?}", input.name))
}

async fn send_item(app: &App, actor: &Actor, kind: &str, person_id: i64, categories: &[&str], submit: bool) -> i64 {
    let req = ItemRequest {
        kind: kind.to_owned(),
        person_id,
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        reason: None,
        remarks: String::new(),
        submit,
    };
    app.create_exchange_item(actor, &req).await.unwrap_or_else(|e| panic!("send a {kind}: {e}"))
}

async fn open_item(app: &App, actor: &Actor, id: i64) {
    app.open_exchange_item(actor, id).await.unwrap_or_else(|e| panic!("open #{id}: {e}"));
}

async fn answer_item(app: &App, actor: &Actor, id: i64) {
    let answer = AnswerRequest {
        found: true,
        remarks: "已核实".to_owned(),
        search_steps: vec!["own_records".to_owned()],
        facts: BTreeMap::new(),
    };
    app.answer_exchange_item(actor, id, &answer).await.unwrap_or_else(|e| panic!("answer #{id}: {e}"));
}

fn refused<T: std::fmt::Debug>(r: ServiceResult<T>) -> ServiceError {
    r.expect_err("refused")
}

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

/// The backlog rows of a monitoring, by unit code (the totals as `total`, the unit itself as `own`).
fn rows(m: &Monitoring) -> BTreeMap<String, Backlog> {
    let mut out: BTreeMap<String, Backlog> = m.rows.iter().map(|r| (r.unit.code.to_string(), r.backlog)).collect();
    out.insert("own".to_owned(), m.own);
    out.insert("total".to_owned(), m.total);
    out
}

fn backlog(
    waiting: u64,
    overdue: u64,
    drafts: u64,
    drafts_late: u64,
    orders_open: u64,
    orders_overdue: u64,
) -> Backlog {
    Backlog { waiting, overdue, drafts, drafts_late, orders_open, orders_overdue }
}

fn order_request(target: &str, title: &str, due_on: &str) -> OrderRequest {
    OrderRequest {
        target: target.to_owned(),
        subject_kind: "free".to_owned(),
        subject_ref: String::new(),
        title: title.to_owned(),
        body: "请核实并答复。".to_owned(),
        due_on: due_on.to_owned(),
    }
}

// ---- the store's list for the clerk's worklist ----------------------------------------------------

fn new_order(target: &str, target_path: &str, due: &str) -> NewOrder {
    let target_unit = OrgCode::parse(target).unwrap();
    assert_eq!(target_unit.path().as_str(), target_path, "an order's path is its unit's");
    NewOrder {
        issuer_unit: OrgCode::parse("3716").unwrap(),
        target_unit,
        subject_kind: SubjectKind::Free,
        subject_ref: String::new(),
        cycle: None,
        title: format!("order for {target}"),
        body: "please".into(),
        due_on: d(due),
    }
}

/// A step on an order, taken straight on the store.
fn order_step<'a>(
    id: i64,
    note: &'a str,
    actor: &'a EventActor,
    now: chrono::DateTime<Utc>,
    audit: &'a AuditDraft,
) -> Step<'a> {
    Step { case: CaseKind::Order.case(id), actor, now, note, notifications: &[], audit }
}

#[tokio::test]
async fn store_lists_the_orders_not_closed_within_a_range() {
    let (app, _db) = empty_app(crate::helpers::test_clock()).await;
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
    let actor = EventActor { name: "supervisor".into(), unit: "3716".into() };
    let audit = |action: &str| AuditDraft {
        at: now,
        actor_id: None,
        actor_name: "supervisor".into(),
        action: action.into(),
        org_code: Some("3716".into()),
        target: None,
        detail: "{}".into(),
        address: None,
    };
    let s = &app.store;
    let a = s.insert_order(&new_order("371602", "/37/3716/371602/", "2026-03-20"), &actor, now, &[], &audit("o")).await;
    let a = a.unwrap();
    let b = s
        .insert_order(
            &new_order("371602001", "/37/3716/371602/371602001/", "2026-03-10"),
            &actor,
            now,
            &[],
            &audit("o"),
        )
        .await
        .unwrap();
    let c = s.insert_order(&new_order("371603", "/37/3716/371603/", "2026-03-05"), &actor, now, &[], &audit("o")).await;
    let c = c.unwrap();
    let (answered, settled) = (audit("a"), audit("c"));
    assert!(s.answer_order(&order_step(b, "done", &actor, now, &answered)).await.unwrap());
    let closed = s
        .insert_order(&new_order("371602", "/37/3716/371602/", "2026-03-01"), &actor, now, &[], &audit("o"))
        .await
        .unwrap();
    assert!(s.close_order(&order_step(closed, "", &actor, now, &settled)).await.unwrap());
    let (low, high) = ("/37/3716/371602/", "/37/3716/3716020");
    let ids: Vec<i64> = s.open_orders_within(low, high, 10).await.unwrap().iter().map(|o| o.id).collect();
    assert_eq!(ids, [b, a], "answered and open ones, by last day; the closed one and another county's left out");
    assert_eq!(s.open_orders_within("/37/", "/370", 1).await.unwrap()[0].id, c);
}

// ---- 1: monitoring ----------------------------------------------------------------------------------

#[tokio::test]
async fn monitoring_counts_what_waits_at_each_unit_below_and_drills_down_within_scope() {
    let (app, _db) = demo_app().await;
    let county = demo_actor(&app, "county").await;
    let pingchang = demo_actor(&app, "pingchang").await;
    let supervisor = demo_actor(&app, "supervisor").await;

    // Mon 01-05: 刘洋 (a man), registered in 平昌 同州街道 (511923002 is 金宝街道), verified at once:
    // D, due 01-05 + 30 = Wed 02-04; by 03-02 it is overdue.
    let jan05 = at(&app, "2026-01-05T09:00:00+08:00");
    let liu = register(
        &jan05,
        &county,
        &inflow(&id_number("511923", "19850101", 1), "刘洋", "511923002001", XINYUAN, "2026-01-05"),
    )
    .await;
    let item_d = send_item(&jan05, &county, "verification", liu, &["basic"], true).await;
    // A woman of 15–49 moving in without a certificate: a suggested notification (draft), to be
    // sent within 5 working days of her registration — 01-06 … 01-12 (Mon) — late by 03-02.
    let wang = register(
        &jan05,
        &county,
        &inflow(&id_number("511923", "19900202", 2), "王丽", "511923001003", BINHE, "2026-01-05"),
    )
    .await;

    // Mon 03-02: three men more, from 平昌 villages.
    let mar02 = at(&app, "2026-03-02T09:00:00+08:00");
    let p1 = register(
        &mar02,
        &county,
        &inflow(&id_number("511923", "19800303", 3), "张强", "511923001001", XINYUAN, "2026-03-02"),
    )
    .await;
    let p2 = register(
        &mar02,
        &county,
        &inflow(&id_number("511923", "19810404", 5), "李军", "511923001002", XINYUAN, "2026-03-02"),
    )
    .await;
    let p4 = register(
        &mar02,
        &county,
        &inflow(&id_number("511923", "19820505", 7), "赵刚", "511923002002", XINYUAN, "2026-03-02"),
    )
    .await;
    // A: to 新华街社区 (township 001), waiting to be received.
    let item_a = send_item(&mar02, &county, "verification", p1, &["basic"], true).await;
    // B: to 政法街社区 (001), received, not answered: waiting. C: to the same, answered: done.
    let item_b = send_item(&mar02, &county, "verification", p2, &["basic"], true).await;
    let item_c = send_item(&mar02, &county, "verification", p2, &["basic"], true).await;
    open_item(&mar02, &pingchang, item_b).await;
    answer_item(&mar02, &pingchang, item_c).await;
    // E: service information about checks (receipt only) to 金宝 六门 (002), received: done.
    // F: the same, not received: waiting.
    let item_e = send_item(&mar02, &county, "service_info", p4, &["checks"], true).await;
    let item_f = send_item(&mar02, &county, "service_info", p4, &["checks"], true).await;
    open_item(&mar02, &pingchang, item_e).await;
    // G: a draft about 刘洋, kept in Bincheng's outbox (no sending limit).
    send_item(&mar02, &county, "verification", liu, &["basic"], false).await;
    // Orders: 平昌县 orders its township 金宝街道 (due 03-05) and the village 新华街社区 (due 03-10);
    // 滨州市 orders 滨城区 (due 03-04).
    let o_jinbao = mar02.open_order(&pingchang, &order_request("511923002", "逾期协查", "2026-03-05")).await.unwrap();
    let o_xinhua =
        mar02.open_order(&pingchang, &order_request("511923001001", "核实户籍", "2026-03-10")).await.unwrap();
    let o_bincheng = mar02.open_order(&supervisor, &order_request("371602", "草稿未发送", "2026-03-04")).await.unwrap();
    let _ = (wang, item_a, item_d, item_f, o_jinbao, o_bincheng);

    // 平昌县 on 03-02, per township:
    //   同州街道 511923001: A (submitted) and B (received) waiting → 2, none overdue; the order to
    //     新华街社区 below it → 1 open order.
    //   金宝街道 511923002: D (overdue since 02-05) and F (not received) → 2 waiting, 1 overdue;
    //     its own order → 1 open, not overdue before 03-06.
    //   Every other township: nothing. Drafts: none (they are Bincheng's).
    let m = mar02.monitoring(&pingchang, None).await.unwrap();
    assert_eq!(m.unit.code.as_str(), "511923");
    assert!(m.rows.len() > 2, "every township of 平昌县 has a row");
    let r = rows(&m);
    assert_eq!(r["511923001"], backlog(2, 0, 0, 0, 1, 0));
    assert_eq!(r["511923002"], backlog(2, 1, 0, 0, 1, 0));
    assert_eq!(r["511923003"], Backlog::default());
    assert_eq!(r["own"], Backlog::default());
    assert_eq!(r["total"], backlog(4, 1, 0, 0, 2, 0));

    // Drilling into 同州街道: per village — 新华街社区 A and the order, 政法街社区 B.
    let m = mar02.monitoring(&pingchang, Some(&code("511923001"))).await.unwrap();
    let r = rows(&m);
    assert_eq!(r["511923001001"], backlog(1, 0, 0, 0, 1, 0));
    assert_eq!(r["511923001002"], backlog(1, 0, 0, 0, 0, 0));
    assert_eq!(r["511923001003"], Backlog::default());
    assert_eq!(r["total"], backlog(2, 0, 0, 0, 1, 0));
    assert_eq!(m.trail.iter().map(|u| u.code.to_string()).collect::<Vec<_>>(), ["511923", "511923001"]);

    // Fri 03-06: the order to 金宝街道 (last day 03-05) is overdue; the village answers its
    // order, which no longer counts as open.
    let mar06 = at(&app, "2026-03-06T09:00:00+08:00");
    let xinhua_clerk = new_actor(&app, "xinhua", "village_clerk", "511923001001").await;
    mar06.answer_order(&xinhua_clerk, o_xinhua, "已入户核实，户籍信息无误。").await.unwrap();
    let r = rows(&mar06.monitoring(&pingchang, None).await.unwrap());
    assert_eq!(r["511923001"], backlog(2, 0, 0, 0, 0, 0));
    assert_eq!(r["511923002"], backlog(2, 1, 0, 0, 1, 1));

    // 滨州市's supervisor on 03-02: one county, 滨城区 — drafts G (新苑) and 王丽's suggestion
    // (滨河, late), and the order to the county itself.
    let r = rows(&mar02.monitoring(&supervisor, None).await.unwrap());
    assert_eq!(r["371602"], backlog(0, 0, 2, 1, 1, 0));
    assert_eq!(r["total"], backlog(0, 0, 2, 1, 1, 0));
    // In 滨城区 the order sits at the county itself; the drafts at 市中街道.
    let r = rows(&mar02.monitoring(&supervisor, Some(&code("371602"))).await.unwrap());
    assert_eq!(r["371602001"], backlog(0, 0, 2, 1, 0, 0));
    assert_eq!(r["371602002"], Backlog::default());
    assert_eq!(r["own"], backlog(0, 0, 0, 0, 1, 0));
    assert_eq!(r["total"], backlog(0, 0, 2, 1, 1, 0));
    let r = rows(&mar02.monitoring(&supervisor, Some(&code("371602001"))).await.unwrap());
    assert_eq!(r[XINYUAN], backlog(0, 0, 1, 0, 0, 0));
    assert_eq!(r[BINHE], backlog(0, 0, 1, 1, 0, 0));

    // The items behind a figure: 金宝街道's overdue item is D.
    let (_, listing) = mar02
        .backlog_items(&pingchang, &code("511923002"), store::supervision::BacklogItems::Overdue, Page::default())
        .await
        .unwrap();
    assert_eq!(listing.items.iter().map(|i| i.id).collect::<Vec<_>>(), [item_d]);

    // Scope: 滨州市 cannot drill into Sichuan (audited, "not found"); a clerk has no monitoring.
    let outside = refused(mar02.monitoring(&supervisor, Some(&code("51"))).await);
    assert!(matches!(outside, ServiceError::NotFound { .. }), "{outside:?}");
    let outside = refused(mar02.monitoring(&supervisor, Some(&code("511923"))).await);
    assert!(matches!(outside, ServiceError::NotFound { .. }), "{outside:?}");
    let clerk = demo_actor(&app, "clerk").await;
    assert!(matches!(refused(mar02.monitoring(&clerk, None).await), ServiceError::Forbidden { .. }));
    let denials = app
        .store
        .search_audit(
            &AuditFilter { action_prefix: Some("access.denied".into()), ..Default::default() },
            Page::default(),
        )
        .await
        .unwrap()
        .0;
    assert!(
        denials.iter().any(|e| e.entry.actor_name == "supervisor" && e.entry.org_code.as_deref() == Some("511923"))
    );

    // The page: rows, links to drill down and to the items, and the 404 outside.
    let session = demo_login(&app, "pingchang").await;
    let page = get(&mar02, "/supervision", Some(&session)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"unit-511923002\""));
    assert!(page.body.contains("/supervision?unit=511923001\""), "drill-down link");
    assert!(page.body.contains("/supervision/items?unit=511923002&amp;part=overdue"), "link to the items");
    let items = get(&mar02, "/supervision/items?unit=511923002&part=overdue", Some(&session)).await;
    assert!(items.body.contains(&format!("id=\"item-{item_d}\"")), "{}", items.body);
    let s = demo_login(&app, "supervisor").await;
    assert_eq!(get(&mar02, "/supervision?unit=511923", Some(&s)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&mar02, "/supervision?unit=5x", Some(&s)).await.status, StatusCode::BAD_REQUEST);
    // A village has no units below: the empty state.
    let page = get(&mar02, "/supervision?unit=371602001001", Some(&s)).await;
    assert!(page.body.contains("id=\"no-units\""), "{}", page.body);
}

// ---- 2: orders ----------------------------------------------------------------------------------------

#[tokio::test]
async fn an_order_is_opened_answered_reopened_and_closed_by_the_right_sides_with_its_timeline() {
    let (app, _db) = demo_app().await;
    let supervisor = demo_actor(&app, "supervisor").await;
    let county = demo_actor(&app, "county").await;
    let township = demo_actor(&app, "township").await;
    let clerk = demo_actor(&app, "clerk").await;
    let pingchang = demo_actor(&app, "pingchang").await;
    let mar02 = at(&app, "2026-03-02T09:00:00+08:00");

    // Refusals when opening, each naming its field and rule.
    let invalid = |e: ServiceError| match e {
        ServiceError::Invalid { field, rule, .. } => (field, rule),
        other => panic!("expected a field error, got {other:?}"),
    };
    let e = refused(mar02.open_order(&supervisor, &order_request("3716", "标题", "2026-03-09")).await);
    assert_eq!(invalid(e), ("field.target", "order.rule.target_below"), "not on itself");
    let e = refused(mar02.open_order(&supervisor, &order_request("371602", "标题", "2026-03-01")).await);
    assert_eq!(invalid(e), ("field.due_on", "order.rule.due_past"));
    let e = refused(mar02.open_order(&supervisor, &order_request("371602", "标题", "03/09/2026")).await);
    assert_eq!(invalid(e), ("field.due_on", "rule.date"));
    let e = refused(mar02.open_order(&supervisor, &order_request("371602", "  ", "2026-03-09")).await);
    assert_eq!(invalid(e), ("field.title", "rule.required"));
    let e = refused(mar02.open_order(&supervisor, &order_request("37x", "标题", "2026-03-09")).await);
    assert_eq!(invalid(e), ("field.target", "rule.org_code"));
    let mut reminder = order_request("371602", "标题", "2026-03-09");
    reminder.subject_kind = "reminder".into();
    assert_eq!(
        invalid(refused(mar02.open_order(&supervisor, &reminder).await)),
        ("field.subject_kind", "rule.code_unknown")
    );
    let mut about_item = order_request("371602", "标题", "2026-03-09");
    about_item.subject_kind = "item".into();
    about_item.subject_ref = "999".into();
    assert_eq!(
        invalid(refused(mar02.open_order(&supervisor, &about_item).await)),
        ("field.subject_ref", "order.rule.item_elsewhere")
    );
    assert!(matches!(
        refused(mar02.open_order(&supervisor, &order_request("511923", "标题", "2026-03-09")).await),
        ServiceError::NotFound { .. }
    ));
    assert!(matches!(
        refused(mar02.open_order(&clerk, &order_request(XINYUAN, "标题", "2026-03-09")).await),
        ServiceError::Forbidden { .. }
    ));
    assert_eq!(app.store.orders(&Default::default(), Page::default()).await.unwrap().0, 0, "nothing was opened");

    // 滨州市 orders 滨城区, due Wed 03-04. The county operator is texted.
    let id = mar02.open_order(&supervisor, &order_request("371602", "逾期协查未反馈", "2026-03-04")).await.unwrap();
    let v = mar02.supervision_order(&county, id).await.unwrap();
    assert_eq!((v.order.status.as_str(), v.order.due_on, v.overdue), ("open", d("2026-03-04"), false));
    assert_eq!((v.issuer_name.as_str(), v.target_name.as_str()), ("滨州市", "滨城区"));
    assert!(v.rights.answer && !v.rights.close && !v.rights.reopen);
    assert_eq!(v.timeline.notifications.iter().map(|n| n.recipient.as_str()).collect::<Vec<_>>(), ["county"]);
    assert!(
        v.timeline.notifications[0].message.contains("逾期协查未反馈")
            && v.timeline.notifications[0].message.contains("2026-03-04")
    );
    assert!(v.timeline.notifications.iter().all(|n| n.item_id().is_none()));

    // Who may not answer: the issuer (a supervisor holds neither person.write nor exchange.answer),
    // another province's operator (not found), and nobody answers with nothing.
    assert!(matches!(refused(mar02.answer_order(&supervisor, id, "好").await), ServiceError::Forbidden { .. }));
    assert!(matches!(refused(mar02.answer_order(&pingchang, id, "好").await), ServiceError::NotFound { .. }));
    assert_eq!(invalid(refused(mar02.answer_order(&county, id, " ").await)), ("order.answer", "rule.required"));
    // The target side cannot close or reopen it.
    let e = refused(mar02.close_order(&county, id, "").await);
    assert!(matches!(e, ServiceError::Conflict { rule: "order.error.issuer_only" }), "{e:?}");
    assert!(matches!(refused(mar02.close_order(&township, id, "").await), ServiceError::Forbidden { .. }));
    let e = refused(mar02.reopen_order(&supervisor, id, "理由", "").await);
    assert!(matches!(e, ServiceError::Conflict { rule: "order.error.not_reopenable" }), "an open order: {e:?}");

    // Thu 03-05: past its last day and open → overdue, and listed as such.
    let mar05 = at(&app, "2026-03-05T09:00:00+08:00");
    assert!(mar05.supervision_order(&supervisor, id).await.unwrap().overdue);
    let overdue = OrderQuery { status: Some("overdue".into()), ..Default::default() };
    let listed = mar05.supervision_orders(&supervisor, &overdue).await.unwrap();
    assert_eq!(listed.listing.items.iter().map(|o| o.id).collect::<Vec<_>>(), [id]);
    assert!(mar02.supervision_orders(&supervisor, &overdue).await.unwrap().listing.items.is_empty());

    // The county answers (late); answering twice is a conflict.
    mar05.answer_order(&county, id, "已逐件反馈。").await.unwrap();
    let e = refused(mar05.answer_order(&county, id, "再答").await);
    assert!(matches!(e, ServiceError::Conflict { rule: "order.error.not_open" }), "{e:?}");
    assert!(!mar05.supervision_order(&supervisor, id).await.unwrap().overdue, "answered: no longer waiting");

    // The supervisor is not satisfied: reopened with a note (required) and a new last day; the
    // county is texted again.
    let e = refused(mar05.reopen_order(&supervisor, id, "", "").await);
    assert_eq!(invalid(e), ("field.note", "rule.required"));
    let e = refused(mar05.reopen_order(&supervisor, id, "仍有 2 件未反馈", "2026-03-01").await);
    assert_eq!(invalid(e), ("field.due_on", "order.rule.due_past"));
    mar05.reopen_order(&supervisor, id, "仍有 2 件未反馈", "2026-03-09").await.unwrap();
    let v = mar05.supervision_order(&county, id).await.unwrap();
    assert_eq!((v.order.status.as_str(), v.order.due_on), ("open", d("2026-03-09")));
    assert_eq!(v.timeline.notifications.len(), 2);

    // Mon 03-09: a township officer of 滨城区 (below the county) may not answer for the county;
    // the county does, the supervisor closes; afterwards nothing more can happen but a reopening.
    let mar09 = at(&app, "2026-03-09T09:00:00+08:00");
    let e = refused(mar09.answer_order(&township, id, "替县里答复").await);
    assert!(matches!(e, ServiceError::Conflict { rule: "order.error.target_only" }), "{e:?}");
    mar09.answer_order(&county, id, "已全部反馈。").await.unwrap();
    mar09.close_order(&supervisor, id, "办结").await.unwrap();
    let e = refused(mar09.answer_order(&county, id, "再答").await);
    assert!(matches!(e, ServiceError::Conflict { rule: "order.error.not_open" }), "{e:?}");
    let e = refused(mar09.close_order(&supervisor, id, "").await);
    assert!(matches!(e, ServiceError::Conflict { rule: "order.error.closed" }), "{e:?}");

    // The timeline keeps every step, with who and where.
    let v = mar09.supervision_order(&supervisor, id).await.unwrap();
    assert_eq!(v.order.status.as_str(), "closed");
    assert_eq!(v.order.answer.as_deref(), Some("已全部反馈。"));
    let steps: Vec<(&str, &str, &str)> =
        v.timeline.events.iter().map(|e| (e.event.as_str(), e.actor_unit.as_str(), e.note.as_str())).collect();
    assert_eq!(
        steps,
        [
            ("opened", "3716", ""),
            ("answered", "371602", "已逐件反馈。"),
            ("reopened", "3716", "仍有 2 件未反馈"),
            ("answered", "371602", "已全部反馈。"),
            ("closed", "3716", "办结"),
        ]
    );
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    assert_eq!(v.timeline.events[0].at, at("2026-03-02T09:00:00+08:00"));
    assert_eq!(v.timeline.events[4].at, at("2026-03-09T09:00:00+08:00"));
    // Each change is audited.
    let audited: Vec<String> = app
        .store
        .search_audit(&AuditFilter { action_prefix: Some("order.".into()), ..Default::default() }, Page::default())
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|e| e.entry.action)
        .collect();
    let mut audited_sorted = audited.clone();
    audited_sorted.sort();
    assert_eq!(audited_sorted, ["order.close", "order.open", "order.reopen", "order.reply", "order.reply"]);

    // A county operator orders its own township; the township's officer answers; the county
    // (the issuing level) closes. 滨州市, above the issuer, sees it too.
    let t_id = mar09.open_order(&county, &order_request("371602001", "补录登记", "2026-03-16")).await.unwrap();
    assert_eq!(
        mar09.supervision_order(&township, t_id).await.unwrap().timeline.notifications[0].recipient,
        "township",
        "the township's accounts are texted"
    );
    // A clerk of another township sees nothing of it; the county cannot answer its own order.
    let other_clerk = new_actor(&app, "shixi", "village_clerk", "371602002001").await;
    assert!(matches!(refused(mar09.supervision_order(&other_clerk, t_id).await), ServiceError::NotFound { .. }));
    let e = refused(mar09.answer_order(&county, t_id, "自答").await);
    assert!(matches!(e, ServiceError::Conflict { rule: "order.error.target_only" }), "{e:?}");
    mar09.answer_order(&township, t_id, "已补录。").await.unwrap();
    assert!(matches!(refused(mar09.close_order(&township, t_id, "").await), ServiceError::Forbidden { .. }));
    mar09.close_order(&county, t_id, "").await.unwrap();
    // The lists: the township sees the order addressed to it; the county sees both (one to it,
    // one from it) and only its own under "issued".
    let ids = |q: OrderQuery, who: &Actor| {
        let app = mar09.clone();
        let who = who.clone();
        async move {
            let mut v: Vec<i64> =
                app.supervision_orders(&who, &q).await.unwrap().listing.items.iter().map(|o| o.id).collect();
            v.sort_unstable();
            v
        }
    };
    assert_eq!(ids(OrderQuery::default(), &township).await, [id, t_id], "the county's order too: it may answer it");
    assert_eq!(ids(OrderQuery { mailbox: OrderBox::ToMe, ..Default::default() }, &county).await, [id]);
    assert_eq!(ids(OrderQuery { mailbox: OrderBox::Issued, ..Default::default() }, &county).await, [t_id]);
    assert_eq!(ids(OrderQuery::default(), &other_clerk).await, [id], "the county's order reaches down to every clerk");
    assert!(ids(OrderQuery::default(), &pingchang).await.is_empty());
}

#[tokio::test]
async fn the_order_pages_and_api_follow_the_same_rules() {
    let (app, _db) = demo_app().await;
    let mar02 = at(&app, "2026-03-02T09:00:00+08:00");
    let supervisor = demo_login(&app, "supervisor").await;
    let county = demo_login(&app, "county").await;

    // The form: an error names the field and the rule, and keeps what was typed.
    let bad = post_form(
        &mar02,
        "/orders",
        Some(&supervisor),
        &[
            ("target", "371602"),
            ("kind", "free"),
            ("title", "反馈率偏低"),
            ("body", "请说明"),
            ("due_on", "2026-02-01"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("答复期限") && bad.body.contains("答复期限不能早于今天"), "{}", bad.body);
    assert!(bad.body.contains("value=\"反馈率偏低\""));
    let made = post_form(
        &mar02,
        "/orders",
        Some(&supervisor),
        &[
            ("target", "371602"),
            ("kind", "free"),
            ("title", "反馈率偏低"),
            ("body", "请说明"),
            ("due_on", "2026-03-06"),
        ],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let id: i64 = made.location().trim_start_matches("/orders/").trim_end_matches("?done=1").parse().unwrap();
    let page = get(&mar02, &format!("/orders/{id}"), Some(&county)).await;
    assert!(page.body.contains("id=\"answer-form\"") && !page.body.contains("id=\"close-form\""));
    let answered = post_form(&mar02, &format!("/orders/{id}/answer"), Some(&county), &[("answer", "已说明")]).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER);
    // The county trying to close: a conflict shown on the page.
    let refused = post_form(&mar02, &format!("/orders/{id}/close"), Some(&county), &[("note", "")]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("只有督办单位"), "{}", refused.body);
    let page = get(&mar02, &format!("/orders/{id}"), Some(&supervisor)).await;
    assert!(page.body.contains("id=\"close-form\"") && page.body.contains("data-confirm="));
    assert!(page.body.contains("已说明"));
    let list = get(&mar02, "/orders?box=issued", Some(&supervisor)).await;
    assert!(list.body.contains(&format!("id=\"order-{id}\"")), "{}", list.body);
    // In English.
    let en = get(&mar02, &format!("/orders/{id}"), Some(&supervisor.with_cookie("qipan_lang=en"))).await;
    assert!(en.body.contains("Last day to answer") && en.body.contains("Close the order"));

    // The API: the same order, then a second one through JSON, answered and closed.
    let api = |method: &str, path: &str, s: &Session, body: Option<serde_json::Value>| {
        let mut req = Request::builder().method(method).uri(path).header(header::COOKIE, &s.cookie);
        if method != "GET" {
            req = req.header("x-csrf-token", &s.csrf).header(header::CONTENT_TYPE, "application/json");
        }
        req.body(Body::from(body.map(|b| b.to_string()).unwrap_or_default())).unwrap()
    };
    let one = send(&mar02, api("GET", &format!("/api/v1/orders/{id}"), &supervisor, None)).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let j = one.json();
    assert_eq!(
        (j["status"].as_str(), j["answer"].as_str(), j["may"]["close"].as_bool()),
        (Some("answered"), Some("已说明"), Some(true))
    );
    assert_eq!(j["timeline"].as_array().unwrap().len(), 2);
    let body = serde_json::json!({"target_unit": "371602001", "title": "登记不及时", "body": "请整改", "due_on": "2026-03-20"});
    let created = send(&mar02, api("POST", "/api/v1/orders", &supervisor, Some(body))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id2 = created.json()["id"].as_i64().unwrap();
    let bad = serde_json::json!({"target_unit": "371602001", "title": "x", "body": "y", "due_on": "2027-12-31"});
    let r = send(&mar02, api("POST", "/api/v1/orders", &supervisor, Some(bad))).await;
    assert_eq!((r.status, r.json()["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("due_on")));
    let township = demo_login(&app, "township").await;
    let r = send(
        &mar02,
        api("POST", &format!("/api/v1/orders/{id2}/answer"), &township, Some(serde_json::json!({"answer": "已整改"}))),
    )
    .await;
    assert_eq!((r.status, r.json()["status"].as_str()), (StatusCode::OK, Some("answered")));
    let r = send(
        &mar02,
        api("POST", &format!("/api/v1/orders/{id2}/answer"), &township, Some(serde_json::json!({"answer": "再答"}))),
    )
    .await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    let r = send(&mar02, api("POST", &format!("/api/v1/orders/{id2}/close"), &supervisor, Some(serde_json::json!({}))))
        .await;
    assert_eq!((r.status, r.json()["status"].as_str()), (StatusCode::OK, Some("closed")));
    let list = send(&mar02, api("GET", "/api/v1/orders?status=closed", &supervisor, None)).await;
    assert_eq!(
        list.json()["items"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect::<Vec<_>>(),
        [id2]
    );
    let pingchang = demo_login(&app, "pingchang").await;
    assert_eq!(
        send(&mar02, api("GET", &format!("/api/v1/orders/{id2}"), &pingchang, None)).await.status,
        StatusCode::NOT_FOUND
    );
    let sysadmin = demo_login(&app, "sysadmin").await;
    assert_eq!(send(&mar02, api("GET", "/api/v1/orders", &sysadmin, None)).await.status, StatusCode::FORBIDDEN);
}

// ---- 3: performance, reminders, the bulletin ---------------------------------------------------------

/// One quarter: every county receives 4 verifications on `sent`, opens them all and answers
/// the first `answers[county]` of them on `answered`.
async fn play_quarter(
    app: &App,
    senders: &[(&Actor, i64, &Actor)],
    sent: &str,
    answered: &str,
    answers: &BTreeMap<&str, usize>,
) {
    let (sent, answered) = (at(app, sent), at(app, answered));
    for (sender, person, receiver) in senders {
        let mut items = Vec::new();
        for _ in 0..4 {
            items.push(send_item(&sent, sender, "verification", *person, &["basic"], true).await);
        }
        for id in &items {
            open_item(&answered, receiver, *id).await;
        }
        for id in &items[..answers[receiver.org.as_str()]] {
            answer_item(&answered, receiver, *id).await;
        }
    }
}

/// The text of the element that opens with `<tag ... id="id"` and ends at the next `</tag>`.
fn element<'a>(html: &'a str, tag: &str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the page"));
    let open = html[..start].rfind(&format!("<{tag}")).unwrap();
    let end = html[start..].find(&format!("</{tag}>")).unwrap() + start;
    &html[open..end]
}

/// The right-aligned figures of a table's body cells.
fn numbers(table: &str) -> Vec<String> {
    table
        .split("<td class=\"num")
        .skip(1)
        .map(|cell| {
            let text = &cell[cell.find('>').unwrap() + 1..];
            text[..text.find("</td>").unwrap()].trim().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn performance_reminders_and_the_bulletin_follow_two_quarters_of_exchange() {
    let (app, _db) = demo_app().await;
    app.import_divisions(&crate::exchange::MORE_SHANDONG).await.unwrap();
    let bincheng = demo_actor(&app, "county").await;
    let supervisor = demo_actor(&app, "supervisor").await;
    let zhanhua = new_actor(&app, "zhanhua", "county_operator", "371603").await;
    let huimin = new_actor(&app, "huimin", "county_operator", "371621").await;
    let yangxin = new_actor(&app, "yangxin", "county_operator", "371622").await;
    let wudi = new_actor(&app, "wudi", "county_operator", "371623").await;

    // Mon 01-05: four men living in 新苑社区 (Bincheng), registered in the four other counties;
    // three registered the day they moved, 吴刚 a week late (moved 12-29). And one man living in
    // 沾化区, registered in Bincheng.
    let jan05 = at(&app, "2026-01-05T09:00:00+08:00");
    let mut people = Vec::new();
    for (seq, (area, village, name, moved)) in [
        ("371603", "371603001001", "孙浩", "2026-01-05"),
        ("371621", "371621001020", "周强", "2026-01-05"),
        ("371622", "371622001001", "吴刚", "2025-12-29"),
        ("371623", "371623001008", "郑涛", "2026-01-05"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = id_number(area, "19820304", 2 * seq as u32 + 1);
        people.push(register(&jan05, &bincheng, &inflow(&id, name, village, XINYUAN, moved)).await);
    }
    let mut feng = inflow(&id_number("371602", "19790909", 11), "冯磊", "371602001002", "371603001001", "2026-01-05");
    feng.residence_address = "富国街道某小区5号楼".to_owned();
    let in_zhanhua = register(&jan05, &zhanhua, &feng).await;
    let senders: Vec<(&Actor, i64, &Actor)> = vec![
        (&bincheng, people[0], &zhanhua),
        (&bincheng, people[1], &huimin),
        (&bincheng, people[2], &yangxin),
        (&bincheng, people[3], &wudi),
        (&zhanhua, in_zhanhua, &bincheng),
    ];
    // Q1 (cycle 2026-01, sent 01-05, answered 01-20): 惠民 4, 滨城 3, 沾化 2, 阳信 1, 无棣 0 of 4.
    let q1: BTreeMap<&str, usize> = [("371621", 4), ("371602", 3), ("371603", 2), ("371622", 1), ("371623", 0)].into();
    play_quarter(&app, &senders, "2026-01-05T09:00:00+08:00", "2026-01-20T09:00:00+08:00", &q1).await;
    // Q2 (cycle 2026-04, sent 04-07, answered 04-20): 沾化 4, 阳信 3, 惠民 2, 滨城 1, 无棣 0 of 4.
    let q2: BTreeMap<&str, usize> = [("371603", 4), ("371622", 3), ("371621", 2), ("371602", 1), ("371623", 0)].into();
    play_quarter(&app, &senders, "2026-04-07T09:00:00+08:00", "2026-04-20T09:00:00+08:00", &q2).await;

    let may04 = at(&app, "2026-05-04T09:00:00+08:00");
    let apr = Cycle::parse("2026-04").unwrap();
    // Performance of 滨州市's counties in cycle 2026-04 (closed on 04-27): each received 4, all
    // four asking for an answer; feedback 沾化 4/4 = 100%, 阳信 3/4 = 75%, 惠民 2/4 = 50%,
    // 滨城 1/4 = 25%, 无棣 0/4 = 0%; the city 10/20 = 50%.
    let perf = may04.performance(&supervisor, None, apr, 0.95).await.unwrap();
    assert!(perf.closed);
    let feedback: BTreeMap<String, Option<f64>> =
        perf.rows.iter().map(|s| (s.unit.code.to_string(), s.rates.and_then(|r| r.feedback_rate))).collect();
    assert_eq!(
        feedback,
        [
            ("371602", Some(0.25)),
            ("371603", Some(1.0)),
            ("371621", Some(0.5)),
            ("371622", Some(0.75)),
            ("371623", Some(0.0))
        ]
        .into_iter()
        .map(|(c, r)| (c.to_owned(), r))
        .collect()
    );
    assert_eq!(perf.total.rates.unwrap().feedback_rate, Some(0.5));
    // Registration timeliness of cycle 2026-01 (registered 12-21 … 01-20): 滨城区 registered 4,
    // 3 the day they moved; 沾化区 1 of 1. Quality: 吴刚's late registration is 滨城区's one finding
    // among 4 active records → 250 per 1,000.
    let jan = Cycle::parse("2026-01").unwrap();
    let perf_jan = may04.performance(&supervisor, None, jan, 0.95).await.unwrap();
    let row = |code: &str| perf_jan.rows.iter().find(|s| s.unit.code.as_str() == code).unwrap().clone();
    let b = row("371602");
    assert_eq!((b.registrations.registered, b.registrations.on_time), (4, 3));
    assert_eq!(b.quality.map(|q| (q.findings, q.active)), Some((1, 4)));
    assert_eq!(b.quality.unwrap().per_thousand(), Some(250.0));
    assert_eq!(row("371603").registrations.rate(), Some(1.0));
    assert_eq!(row("371621").registrations.registered, 0);
    // The trend of the city over six cycles (2025-11 … 2026-04): feedback 10/20 in January and
    // in April, nothing to divide in between.
    let trend: Vec<(String, Option<f64>)> =
        perf.trend.iter().map(|p| (p.cycle.to_string(), p.rates.and_then(|r| r.feedback_rate))).collect();
    assert_eq!(
        trend,
        [
            ("2025-11", None),
            ("2025-12", None),
            ("2026-01", Some(0.5)),
            ("2026-02", None),
            ("2026-03", None),
            ("2026-04", Some(0.5))
        ]
        .map(|(c, r)| (c.to_owned(), r))
    );

    // Reminders for cycle 2026-04 below 60%: 惠民 50%, 滨城 25%, 无棣 0% — exactly three orders,
    // each with its figures, each texting the county's operator.
    let reminded = may04.send_reminders(&supervisor, &code("3716"), apr, 0.60, None).await.unwrap();
    assert_eq!(reminded.orders.len(), 3);
    assert!(reminded.skipped.is_empty());
    let mut targets = Vec::new();
    for id in &reminded.orders {
        let v = may04.supervision_order(&supervisor, *id).await.unwrap();
        assert_eq!((v.order.subject_kind.as_str(), v.order.cycle.as_deref()), ("reminder", Some("2026-04")));
        // Due 7 days after 05-04.
        assert_eq!(v.order.due_on, d("2026-05-11"));
        targets.push((
            v.order.target_unit.to_string(),
            v.timeline.notifications.iter().map(|n| n.recipient.clone()).collect::<Vec<_>>(),
        ));
        if v.order.target_unit.as_str() == "371621" {
            assert!(v.order.title.contains("50.0%"), "{}", v.order.title);
            assert!(
                v.order.body.contains("惠民县")
                    && v.order.body.contains("须反馈 4 条")
                    && v.order.body.contains("已反馈 2 条")
            );
            assert!(v.order.body.contains("60.0%"), "{}", v.order.body);
        }
    }
    targets.sort();
    assert_eq!(
        targets,
        [
            ("371602".to_owned(), vec!["county".to_owned()]),
            ("371621".to_owned(), vec!["huimin".to_owned()]),
            ("371623".to_owned(), vec!["wudi".to_owned()]),
        ]
    );
    // At 95% 阳信 (75%) is added; the three still open are not reminded twice.
    let again = may04.send_reminders(&supervisor, &code("3716"), apr, 0.95, None).await.unwrap();
    assert_eq!(again.orders.len(), 1);
    assert_eq!(again.skipped, ["371602", "371621", "371623"]);
    assert_eq!(may04.supervision_order(&yangxin, again.orders[0]).await.unwrap().order.target_unit.as_str(), "371622");
    // Reminders are the supervisors'; a county operator may not send them.
    assert!(matches!(
        refused(may04.send_reminders(&bincheng, &code("371602"), apr, 0.95, None).await),
        ServiceError::Forbidden { .. }
    ));

    // The page: charts whose numbers are the table's.
    let session = demo_login(&app, "supervisor").await;
    let page = get(&may04, "/supervision/performance?cycle=2026-04", Some(&session)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let chart = element(&page.body, "figure", "chart-feedback");
    assert!(chart.contains("<svg") && !chart.contains("style="));
    let table = numbers(element(&page.body, "table", "feedback-table"));
    assert_eq!(table.len(), 5);
    for value in ["100.0%", "75.0%", "50.0%", "25.0%", "0.0%"] {
        assert!(table.contains(&value.to_owned()), "{value} in the table");
        assert!(chart.contains(&format!(">{value}<")), "{value} in the chart");
    }
    let trend_chart = element(&page.body, "figure", "chart-trend");
    for value in numbers(element(&page.body, "table", "trend-table")).iter().filter(|v| *v != "—") {
        assert!(trend_chart.contains(value.as_str()), "{value} in the trend chart");
    }
    let ranking_chart = element(&page.body, "figure", "chart-ranking");
    for value in numbers(element(&page.body, "table", "ranking")).iter().filter(|v| v.ends_with('%')) {
        assert!(ranking_chart.contains(&format!(">{value}<")), "{value} in the ranking chart");
    }
    // Bulk reminders after a confirmation, and the count of those sent.
    assert!(page.body.contains("data-confirm="), "the reminder form asks first");
    let sent = post_form(
        &may04,
        "/supervision/reminders",
        Some(&session),
        &[("unit", "3716"), ("cycle", "2026-04"), ("threshold", "95"), ("due_on", "2026-05-15")],
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let back = get(&may04, sent.location(), Some(&session)).await;
    assert!(back.body.contains("已发出催办 0 件") && back.body.contains("未重复发出 4 件"), "{}", back.location());
    let bad = post_form(
        &may04,
        "/supervision/reminders",
        Some(&session),
        &[("unit", "3716"), ("cycle", "2026-04"), ("threshold", "120")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("阈值为 0 至 100 之间的百分数"));

    // The API: per county, the cycle's figures and the live backlog.
    let api = send(
        &may04,
        Request::get("/api/v1/supervision/units?parent=3716&cycle=2026-04")
            .header(header::COOKIE, &session.cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let j = api.json();
    let wudi_row = j["items"].as_array().unwrap().iter().find(|u| u["unit"] == "371623").unwrap().clone();
    assert_eq!(wudi_row["exchange"]["feedback_rate"].as_f64(), Some(0.0));
    // 无棣 received 8 items over both quarters and answered none: all waiting, all overdue by 05-04
    // (January's were due 02-04, April's 04-07 + 30 = Thu 05-07 … not yet).
    assert_eq!((wudi_row["backlog"].as_u64(), wudi_row["overdue"].as_u64()), (Some(8), Some(4)));
    assert_eq!(wudi_row["orders_open"].as_u64(), Some(1));
    assert_eq!(j["parent"]["exchange"]["feedback_rate"].as_f64(), Some(0.5));

    // The bulletin of 2026-Q2: 沾化, 阳信, 惠民, 滨城, 无棣; bottom three 惠民, 滨城, 无棣; of them only
    // 无棣 was in Q1's bottom three (沾化, 阳信, 无棣) → flagged. One county of five reached 95%;
    // the province's feedback rate (4+3+2+1+0)/20 = 50%.
    let b = may04.bulletin(&supervisor, None, domain::exchange::Quarter::parse("2026-Q2").unwrap()).await.unwrap();
    assert_eq!(b.facts.bottom_three, ["371621", "371602", "371623"]);
    assert_eq!(b.facts.flagged, ["371623"]);
    assert_eq!((b.facts.ranked, b.facts.meeting_target, b.facts.feedback_rate), (5, 1, Some(0.5)));
    let page = get(&may04, "/supervision/bulletin?quarter=2026-Q2", Some(&session)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for code in ["371621", "371602", "371623"] {
        assert!(page.body.contains(&format!("id=\"bottom-{code}\"")), "{code} in the bottom three");
    }
    assert!(!page.body.contains("id=\"bottom-371603\"") && !page.body.contains("id=\"bottom-371622\""));
    assert!(page.body.contains("id=\"flagged-371623\"") && !page.body.contains("id=\"flagged-371602\""));
    let summary = element(&page.body, "section", "summary");
    assert!(summary.contains("共有 5 个县") && summary.contains("其中 1 个反馈率达到 95.0%"), "{summary}");
    assert!(summary.contains("总体反馈率 50.0%"));
    assert!(summary.contains("排名后三位的是：惠民县、滨城区、无棣县"), "{summary}");
    assert!(summary.contains("予以通报批评的是：无棣县"), "{summary}");
    let chart = element(&page.body, "figure", "chart-ranking");
    for v in ["100.0%", "75.0%", "50.0%", "25.0%", "0.0%"] {
        assert!(chart.contains(&format!(">{v}<")), "{v} in the bulletin chart");
    }
    // Q1: the same counties, nobody flagged (2025-Q4 had no ranking).
    let q1 = get(&may04, "/supervision/bulletin?quarter=2026-Q1", Some(&session)).await;
    assert!(q1.body.contains("没有连续两个季度排名后三位"), "{}", q1.body);
    // Another province's operator sees no bulletin of Shandong; a bad quarter is a 400.
    let pingchang = demo_login(&app, "pingchang").await;
    assert_eq!(get(&may04, "/supervision/bulletin?province=37", Some(&pingchang)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&may04, "/supervision/bulletin?quarter=2026-Q5", Some(&session)).await.status,
        StatusCode::BAD_REQUEST
    );
}
