//! The storage story: the same scenario on whichever engine the run names.

use domain::{Clock, OrgCode};
use qipan::demo::{DIVISION_FILES, DemoData};
use qipan::service::ServiceError;
use store::{Engine, Store};

use crate::helpers::{demo_rows, demo_total, empty_app};

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

#[tokio::test]
async fn migrations_run_once_and_again_change_nothing() {
    let (app, _db) = empty_app(crate::helpers::test_clock()).await;
    assert_eq!(app.store.migrate().await.unwrap(), 0, "a second run finds nothing to apply");
    app.store.ping().await.unwrap();
    assert_eq!(app.store.engine() == Engine::Postgres, crate::helpers::engine_is_postgres());
}

#[tokio::test]
async fn the_demo_loads_real_divisions_once() {
    let (app, _db) = empty_app(crate::helpers::test_clock()).await;
    let first = app.ensure_demo_data().await.unwrap();
    let DemoData::Loaded { divisions: counts, .. } = first else { panic!("first start must load: {first:?}") };
    assert_eq!(counts.read, demo_total());
    assert_eq!(counts.inserted, demo_total());
    assert!(matches!(app.ensure_demo_data().await.unwrap(), DemoData::AlreadyLoaded(_)));

    // The district of the first source document, with its real township 市中街道.
    let bincheng = app.store.org_unit(&code("371602")).await.unwrap().unwrap();
    assert_eq!(bincheng.name, "滨城区");
    assert_eq!(bincheng.parent, Some(code("3716")));
    assert_eq!(app.store.org_unit(&code("371602001")).await.unwrap().unwrap().name, "市中街道");
    let expected_subtree = 1 + demo_rows("streets.csv", "371602") + demo_rows("villages.csv", "371602");
    assert_eq!(app.store.count_subtree(&code("371602")).await.unwrap(), expected_subtree);
    // Origin counties in four other provinces.
    for (county, name) in [("511923", "平昌县"), ("341221", "临泉县"), ("430582", "邵东市"), ("411625", "郸城县")]
    {
        assert_eq!(app.store.org_unit(&code(county)).await.unwrap().unwrap().name, name);
    }
}

#[tokio::test]
async fn reimporting_is_idempotent_and_picks_up_renames() {
    let (app, _db) = empty_app(crate::helpers::test_clock()).await;
    app.import_divisions(&DIVISION_FILES).await.unwrap();
    let again = app.import_divisions(&DIVISION_FILES).await.unwrap();
    assert_eq!((again.inserted, again.renamed, again.unchanged), (0, 0, demo_total()));

    let streets = DIVISION_FILES[3].1.replace("市中街道", "市中街道（更名）");
    let mut files = DIVISION_FILES;
    files[3].1 = &streets;
    let renamed = app.import_divisions(&files).await.unwrap();
    assert_eq!((renamed.inserted, renamed.renamed), (0, 1));
    assert_eq!(app.store.org_unit(&code("371602001")).await.unwrap().unwrap().name, "市中街道（更名）");
}

#[tokio::test]
async fn a_broken_row_leaves_the_database_untouched() {
    let (app, _db) = empty_app(crate::helpers::test_clock()).await;
    // A broken village in the last file: everything before it parsed fine, and still nothing lands.
    let villages = format!("{}371602001999,\"\",371602001,37,3716,371602\n", DIVISION_FILES[4].1);
    let mut files = DIVISION_FILES;
    files[4].1 = &villages;
    let line = villages.lines().count() as u64;
    match app.import_divisions(&files).await {
        Err(ServiceError::Import(domain::divisions::DivisionError::BadRow { file, line: l, problem })) => {
            assert_eq!((file, l), ("villages.csv", line));
            assert!(problem.contains("no name"), "{problem}");
        }
        other => panic!("expected a refused row, got {other:?}"),
    }
    assert!(app.store.org_codes().await.unwrap().is_empty(), "nothing may be half-imported");
}

#[tokio::test]
async fn subtree_queries_do_not_leak_into_lookalike_codes() {
    let (app, _db) = empty_app(crate::helpers::test_clock()).await;
    app.import_divisions(&DIVISION_FILES).await.unwrap();
    let shandong = app.store.count_subtree(&code("37")).await.unwrap();
    let expected = demo_rows("provinces.csv", "37")
        + demo_rows("cities.csv", "37")
        + demo_rows("areas.csv", "37")
        + demo_rows("streets.csv", "37")
        + demo_rows("villages.csv", "37");
    assert_eq!(shandong, expected);
    // The provinces' subtrees partition the whole hierarchy: nothing counted twice or lost.
    let mut sum = 0;
    for p in ["34", "37", "41", "43", "51"] {
        sum += app.store.count_subtree(&code(p)).await.unwrap();
    }
    assert_eq!(sum, demo_total());
}

#[tokio::test]
async fn the_schema_enforces_parents_and_sqlite_runs_in_wal_mode() {
    let (app, _db) = empty_app(crate::helpers::test_clock()).await;
    let orphan = "INSERT INTO org_units (code, name, level, parent_code, path, province_code, created_at, updated_at) \
                  VALUES ('3799', 'x', 'city', '37', '/37/3799/', '37', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')";
    let parent = "INSERT INTO org_units (code, name, level, parent_code, path, province_code, created_at, updated_at) \
                  VALUES ('37', 'p', 'province', NULL, '/37/', '37', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')";
    let refused = match &app.store {
        Store::Sqlite(pool) => {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
            assert_eq!(mode, "wal");
            let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
            assert_eq!(fk, 1);
            sqlx::query(orphan).execute(pool).await.map(|_| ())
        }
        Store::Postgres(pool) => sqlx::query(orphan).execute(pool).await.map(|_| ()),
    };
    let kind = refused.as_ref().map_err(|e| e.as_database_error().map(|d| d.kind()));
    assert!(
        matches!(kind, Err(Some(sqlx::error::ErrorKind::ForeignKeyViolation))),
        "a unit without its parent is refused by the foreign key: {refused:?}"
    );
    // The same row is fine once its parent exists: the foreign key was the only reason.
    match &app.store {
        Store::Sqlite(pool) => {
            sqlx::query(parent).execute(pool).await.unwrap();
            sqlx::query(orphan).execute(pool).await.unwrap();
        }
        Store::Postgres(pool) => {
            sqlx::query(parent).execute(pool).await.unwrap();
            sqlx::query(orphan).execute(pool).await.unwrap();
        }
    }
}

#[tokio::test]
async fn timestamps_come_from_the_injected_clock() {
    let clock = Clock::fixed_at("2026-03-01T09:00:00+08:00").unwrap();
    let (app, _db) = empty_app(clock).await;
    app.import_divisions(&DIVISION_FILES).await.unwrap();
    let stamp: chrono::DateTime<chrono::Utc> = match &app.store {
        Store::Sqlite(pool) => {
            sqlx::query_scalar("SELECT created_at FROM org_units WHERE code = '37'").fetch_one(pool).await.unwrap()
        }
        Store::Postgres(pool) => {
            sqlx::query_scalar("SELECT created_at FROM org_units WHERE code = '37'").fetch_one(pool).await.unwrap()
        }
    };
    assert_eq!(stamp.to_rfc3339(), "2026-03-01T01:00:00+00:00", "stored in UTC");
}
