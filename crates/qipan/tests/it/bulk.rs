//! Large loads defer the records' non-unique indexes and build them again; a load cut short
//! leaves them recorded, and the next start builds them.

use qipan::service::App;

use crate::helpers::{empty_app, test_clock};

#[tokio::test]
async fn a_bulk_load_cut_short_gets_its_indexes_back_at_the_next_start() {
    let (app, db) = empty_app(test_clock()).await;
    let before = app.store.person_indexes().await.unwrap();
    assert!(before.iter().any(|i| i == "persons_order_name"), "{before:?}");

    // A small load keeps them; a large one into an empty table drops the non-unique ones.
    assert_eq!(app.store.defer_person_indexes(1_000).await.unwrap(), 0);
    let deferred = app.store.defer_person_indexes(1_000_000).await.unwrap();
    let during = app.store.person_indexes().await.unwrap();
    assert_eq!(during.len() + deferred as usize, before.len(), "{during:?}");
    assert!(!during.iter().any(|i| i == "persons_order_name"), "{during:?}");
    if app.store.engine() == store::Engine::Postgres {
        assert!(before.iter().any(|i| i == "person_search_tokens"), "{before:?}");
        assert!(!during.iter().any(|i| i == "person_search_tokens"), "the name index's GIN too: {during:?}");
    }
    assert!(
        during.iter().any(|i| i == "persons_active_id_index_unit"),
        "the unique rule stays while the load runs: {during:?}"
    );

    // The process stops before the load ends; the next start builds them again.
    app.store.close().await;
    let app = App::open(&db.url, test_clock()).await.unwrap();
    assert_eq!(app.store.person_indexes().await.unwrap(), before);
    assert_eq!(app.store.build_deferred_indexes().await.unwrap(), 0, "nothing left to build");
    app.store.close().await;
}

/// What the records' row triggers leave for each registration (the quality queue, the task
/// queue, the active counts per unit, the roll-up queue), read through the store.
async fn queues(app: &App) -> (u64, u64, Vec<(String, u64)>, Vec<bool>) {
    let units = ["371602001001", "371602001002", "371602001003"];
    let mut waiting = Vec::new();
    for unit in units {
        let range = domain::OrgCode::parse(unit).unwrap().path().subtree_range();
        waiting.push(app.store.rollups_waiting(&range).await.unwrap());
    }
    let mut counts = app.store.active_records_by_path("", "~").await.unwrap();
    counts.sort();
    (app.store.quality_waiting().await.unwrap(), app.store.tasks_waiting(1_000).await.unwrap(), counts, waiting)
}

/// Registers one record the way a clerk's registration writes it.
async fn register(app: &App, f: &store::PersonFields, registered_on: chrono::NaiveDate) {
    let console = qipan::service::Actor::console(domain::OrgCode::parse("00").unwrap());
    let meta = store::PersonWriteMeta {
        actor_name: "test",
        action: "test.register",
        changes: "{}".into(),
        now: app.clock.now(),
        audit: app.audit_draft(&console, "test.register", None, None, serde_json::json!({})),
    };
    app.store.insert_person(f, registered_on, &meta).await.unwrap();
}

#[tokio::test]
async fn a_bulk_load_queues_and_counts_its_records_as_registrations_one_by_one_do() {
    use crate::quality::legacy;
    let mut rows = vec![
        legacy("甲", Some("511923199003070027"), "371602001001", "2026-01-05"),
        legacy("乙", None, "371602001001", "2026-01-05"),
        legacy("丙", Some("371602198511120036"), "371602001002", "2026-01-05"),
        legacy("丁", Some("511923199003070019"), "371602001002", "2026-01-05"),
    ];
    // Two registered later than they moved: the task queue takes only these.
    rows[1].1 = chrono::NaiveDate::from_ymd_opt(2026, 2, 20).unwrap();
    rows[3].1 = chrono::NaiveDate::from_ymd_opt(2026, 2, 20).unwrap();
    // Both installations hold a record of the first village before: its count grows.
    let before = legacy("先", Some("511923199003071234"), "371602001001", "2026-01-05");
    let (one_by_one, _a) = crate::helpers::demo_app().await;
    for (f, registered_on) in std::iter::once(&before).chain(&rows) {
        register(&one_by_one, f, *registered_on).await;
    }
    let (bulk, _b) = crate::helpers::demo_app().await;
    register(&bulk, &before.0, before.1).await;
    let people =
        store::BulkPeople::prepare(bulk.store.engine(), rows.iter().map(|(f, on)| (f.clone(), *on, String::new())))
            .unwrap();
    let console = qipan::service::Actor::console(domain::OrgCode::parse("00").unwrap());
    let audit = bulk.audit_draft(&console, "test.load", None, None, serde_json::json!({}));
    let ids = bulk.store.bulk_insert_persons(&people, "test", bulk.clock.now(), &audit).await.unwrap();
    assert_eq!(ids.len(), rows.len());
    // Each loaded record has its one first entry; the record held before has only its own.
    for id in &ids {
        let history = bulk.store.person_history(*id).await.unwrap();
        let actions: Vec<_> = history.iter().map(|c| (c.action.as_str(), c.actor_name.as_str(), c.version)).collect();
        assert_eq!(actions, [("person.generated", "test", 1)], "record {id}");
    }
    let held = ids.iter().min().unwrap() - 1;
    let history = bulk.store.person_history(held).await.unwrap();
    assert_eq!(history.iter().map(|c| c.action.as_str()).collect::<Vec<_>>(), ["test.register"]);

    let expected = queues(&one_by_one).await;
    assert_eq!(expected.0, 5, "every record waits for its quality check");
    assert_eq!(expected.1, 2, "the two registered late wait for their tasks");
    assert_eq!(expected.3, [true, true, false]);
    assert_eq!(queues(&bulk).await, expected);

    // A registration after the load is queued and counted as before.
    let (f, on) = legacy("戊", Some("110101199003077777"), "371602001003", "2026-01-05");
    register(&bulk, &f, on).await;
    let after = queues(&bulk).await;
    assert_eq!((after.0, after.3), (6, vec![true, true, true]));
    assert!(after.2.contains(&(domain::OrgCode::parse("371602001003").unwrap().path().as_str().to_owned(), 1)));
}

#[tokio::test]
async fn generated_women_of_15_to_49_are_key_persons_without_a_certificate_and_no_one_else_is() {
    let (app, _db) = crate::helpers::demo_app().await;
    app.generate_demo_people(400, 11).await.unwrap();
    let people = app.store.persons_after(&store::PersonFilter::default(), 0, 1_000).await.unwrap();
    assert!(people.len() >= 400, "{}", people.len());
    // The test's today is 2026-11-25: 15 full years for those born on 2011-11-25 or before, 50
    // for those born on 1976-11-25 or before.
    let (fifteen, fifty) = (
        chrono::NaiveDate::from_ymd_opt(2011, 11, 25).unwrap(),
        chrono::NaiveDate::from_ymd_opt(1976, 11, 25).unwrap(),
    );
    let mut keys = 0;
    for p in &people {
        let expected = p.gender == "2" && p.birth_date <= fifteen && p.birth_date > fifty;
        assert_eq!(p.key_person, expected, "{} born {} ({})", p.name, p.birth_date, p.gender);
        let reasons = if expected { "key.no_certificate" } else { "" };
        assert_eq!(p.key_reasons, reasons, "{}", p.name);
        keys += usize::from(expected);
    }
    assert!(keys > 20 && keys < people.len() / 2, "{keys} of {}", people.len());
}
