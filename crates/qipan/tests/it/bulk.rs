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
