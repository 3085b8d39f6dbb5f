//! Supervision (监管平台): monitoring, performance, the bulletin, orders (督办) and reminders (催办).

use chrono::{NaiveDate, TimeZone, Utc};
use domain::Clock;
use store::supervision::NewOrder;
use store::{AuditDraft, EventActor};

use crate::helpers::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn new_order(target: &str, target_path: &str, due: &str) -> NewOrder {
    NewOrder {
        issuer_unit: "3716".into(),
        issuer_path: "/37/3716/".into(),
        target_unit: target.into(),
        target_path: target_path.into(),
        subject_kind: "free".into(),
        subject_ref: String::new(),
        cycle: None,
        title: format!("order for {target}"),
        body: "please".into(),
        due_on: d(due),
    }
}

#[tokio::test]
async fn store_lists_the_orders_not_closed_within_a_range() {
    let (app, _db) = empty_app(Clock::System).await;
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
    assert!(s.answer_order(b, "done", &actor, now, &audit("a")).await.unwrap());
    let closed = s
        .insert_order(&new_order("371602", "/37/3716/371602/", "2026-03-01"), &actor, now, &[], &audit("o"))
        .await
        .unwrap();
    assert!(s.close_order(closed, "", &actor, now, &audit("c")).await.unwrap());
    let (low, high) = ("/37/3716/371602/", "/37/3716/3716020");
    let ids: Vec<i64> = s.open_orders_within(low, high, 10).await.unwrap().iter().map(|o| o.id).collect();
    assert_eq!(ids, [b, a], "answered and open ones, by last day; the closed one and another county's left out");
    assert_eq!(s.open_orders_within("/37/", "/370", 1).await.unwrap()[0].id, c);
}
