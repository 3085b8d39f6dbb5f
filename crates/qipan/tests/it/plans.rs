//! The plans of the hot person searches: each is served by an index, never a scan of the
//! subtree (issue 12). Figures are `qipan bench`'s; this only asserts the plans, on the engine
//! of the test run — on PostgreSQL with sequential scans priced out, so that a plan that still
//! holds one has no index to use.

use domain::OrgCode;
use store::{Page, PersonFilter, PersonSort};

use crate::helpers::{empty_app, engine_is_postgres, id_number, test_clock};

/// A full scan of a table in a plan: `Seq Scan on persons` (PostgreSQL) or a bare `SCAN p`
/// (SQLite; `SCAN p USING INDEX` walks an index in its order and stops at the page).
fn full_scans(plan: &str) -> Vec<&str> {
    plan.lines()
        .filter(|l| {
            let l = l.trim();
            l.contains("Seq Scan")
                || (l.starts_with("SCAN ") && !l.contains(" USING ") && !l.contains("VIRTUAL TABLE INDEX"))
        })
        .collect()
}

#[tokio::test]
async fn the_hot_person_searches_are_served_by_indexes() {
    let (app, _db) = empty_app(test_clock()).await;
    app.ensure_demo_data_with(300, 2026).await.unwrap();
    let county = Some(OrgCode::parse("371602").unwrap().path().subtree_range());
    let village = Some(OrgCode::parse("371602001001").unwrap().path().subtree_range());
    let first = Page { number: 1, size: 50 };
    let cases: Vec<(&str, PersonFilter, PersonSort, bool, &str, &str)> = vec![
        (
            "a name in a county",
            PersonFilter { managing: county.clone(), text: Some("李静".into()), ..Default::default() },
            PersonSort::Name,
            false,
            "person_search",
            "person_search",
        ),
        (
            "an ID number in a county",
            PersonFilter {
                managing: county.clone(),
                text: Some(id_number("511923", "19900101", 7)),
                ..Default::default()
            },
            PersonSort::NewestMove,
            false,
            "id_index",
            "id_index",
        ),
        (
            "a county's list, newest move first",
            PersonFilter { managing: county.clone(), ..Default::default() },
            PersonSort::NewestMove,
            true,
            "persons_order_moved",
            "persons_order_moved",
        ),
        (
            "a county's list by name",
            PersonFilter { managing: county.clone(), ..Default::default() },
            PersonSort::Name,
            true,
            "persons_order_name",
            "persons_order_name",
        ),
        (
            "a county's list by birth",
            PersonFilter { managing: county.clone(), ..Default::default() },
            PersonSort::BirthDate,
            true,
            "persons_order_birth",
            "persons_order_birth",
        ),
        (
            "a village's list",
            PersonFilter { managing: village.clone(), ..Default::default() },
            PersonSort::NewestMove,
            false,
            "",
            "",
        ),
    ];
    for (what, filter, sort, in_order, pg_index, sqlite_index) in cases {
        let plan = app.store.explain_person_search(&filter, sort, first, in_order).await.unwrap();
        eprintln!("--- {what}\n{plan}");
        assert!(full_scans(&plan).is_empty(), "{what}: a full scan\n{plan}");
        let index = if engine_is_postgres() { pg_index } else { sqlite_index };
        assert!(plan.contains(index), "{what}: served by {index}\n{plan}");
    }
}
