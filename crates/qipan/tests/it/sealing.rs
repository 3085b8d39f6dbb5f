//! Encryption at rest: what identifies a person or describes their health is sealed in the
//! database, found again through the blind indexes, and re-sealed by `qipan keys rotate`, which
//! resumes after a kill -9.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::{Connection as _, Row as _};

use crate::helpers::{TestDb, demo_app, demo_login};
use crate::persons::{CHEN_JING, api, chen_jing};

const SPOUSE: &str = "110101198001010010";

/// Every value of the sealed columns, straight from the database: (table.column, row id, value).
async fn stored_values(db: &TestDb) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for t in store::sealed_tables() {
        for c in &t.columns {
            let sql = format!("SELECT {k}, {c} FROM {} WHERE {c} IS NOT NULL ORDER BY {k}", t.table, k = t.key);
            let rows: Vec<(i64, String)> = if crate::helpers::engine_is_postgres() {
                let mut conn = sqlx::PgConnection::connect(&db.url_text).await.unwrap();
                let rows = sqlx::query(&sql).fetch_all(&mut conn).await.unwrap();
                rows.iter().map(|r| (r.get(0), r.get(1))).collect()
            } else {
                let mut conn = sqlx::SqliteConnection::connect(&db.url_text).await.unwrap();
                let rows = sqlx::query(&sql).fetch_all(&mut conn).await.unwrap();
                rows.iter().map(|r| (r.get(0), r.get(1))).collect()
            };
            out.extend(rows.into_iter().map(|(id, v)| (format!("{}.{c}", t.table), id, v)));
        }
    }
    out
}

async fn execute(db: &TestDb, sql: &str) {
    if crate::helpers::engine_is_postgres() {
        let mut conn = sqlx::PgConnection::connect(&db.url_text).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url_text).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

#[tokio::test]
async fn numbers_phones_and_health_notes_are_sealed_in_the_database_and_found_again() {
    let (app, db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let reply = api(&app, &clerk, Method::POST, "/api/v1/persons", Some(chen_jing())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.json()["id"].as_i64().unwrap();
    let path = |s: &str| format!("/api/v1/persons/{id}/{s}");
    let marriage = json!({"married_on": "2015-05-01", "spouse_name": "王强", "spouse_id_number": SPOUSE});
    assert_eq!(api(&app, &clerk, Method::POST, &path("marriages"), Some(marriage)).await.status, StatusCode::CREATED);
    let check =
        json!({"kind": "illness", "done_on": "2026-06-01", "result": "乳腺增生复查", "place": "滨城区妇幼保健院"});
    assert_eq!(api(&app, &clerk, Method::POST, &path("checks"), Some(check)).await.status, StatusCode::CREATED);
    let mut edit = chen_jing();
    edit["phone"] = json!("13900139000");
    edit["version"] = json!(1);
    assert_eq!(
        api(&app, &clerk, Method::PUT, &format!("/api/v1/persons/{id}"), Some(edit)).await.status,
        StatusCode::OK
    );

    // In the database: no number, phone or note in clear, in any sealed column, old or new.
    let stored = stored_values(&db).await;
    for secret in [CHEN_JING, "13800138000", "13900139000", SPOUSE, "乳腺增生", "妇幼保健院"] {
        let leaks: Vec<_> = stored.iter().filter(|(_, _, v)| v.contains(secret)).collect();
        assert!(leaks.is_empty(), "{secret} stored in clear: {leaks:?}");
    }
    for (column, _, v) in &stored {
        assert!(v.starts_with("s1.k1."), "{column} holds a value not sealed under k1: {v}");
    }
    for column in
        ["persons.phone", "person_history.changes", "person_marriages.spouse_id_number", "person_checks.result"]
    {
        assert!(stored.iter().any(|(c, _, _)| c == column), "a value of {column} to look at");
    }
    assert!(stored.iter().any(|(c, _, _)| c == "exchange_items.person_id_number"), "the demo's items carry numbers");

    // Through Qipan, everything reads as it was written.
    let record = api(&app, &clerk, Method::GET, &format!("/api/v1/persons/{id}"), None).await.json();
    assert_eq!((record["id_number"].as_str(), record["phone"].as_str()), (Some(CHEN_JING), Some("13900139000")));
    let history = api(&app, &clerk, Method::GET, &format!("/api/v1/persons/{id}/history"), None).await.body;
    assert!(history.contains("13800138000") && history.contains("13900139000"), "{history}");
    let checks = api(&app, &clerk, Method::GET, &path("checks"), None).await.body;
    assert!(checks.contains("乳腺增生复查") && checks.contains("滨城区妇幼保健院"), "{checks}");
    let marriages = api(&app, &clerk, Method::GET, &path("marriages"), None).await.body;
    assert!(marriages.contains(SPOUSE), "{marriages}");

    // Found by the whole number and by its last four, through the blind indexes; other lengths
    // are refused naming the field, since nothing in between can be found any more.
    let found = api(&app, &clerk, Method::GET, &format!("/api/v1/persons?q={CHEN_JING}"), None).await.json();
    assert_eq!(found["total"], 1, "{found}");
    let found = api(&app, &clerk, Method::GET, "/api/v1/persons?q=0027", None).await.json();
    assert_eq!(found["items"][0]["id"], id, "{found}");
    let middle = api(&app, &clerk, Method::GET, "/api/v1/persons?q=070027", None).await;
    assert_eq!(middle.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", middle.body);
    assert_eq!(middle.json()["error"]["field"], "q");
    // The one-active-record rule holds on the index: the same number again is refused.
    let again = api(&app, &clerk, Method::POST, "/api/v1/persons", Some(chen_jing())).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}

#[tokio::test]
async fn a_wrong_or_missing_key_file_is_refused_before_anything_is_written() {
    let (app, db) = demo_app().await;
    app.store.close().await;
    let migrate = |keys: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qipan"));
        cmd.args(["--database-url", &db.url_text, "--log", "warn", "--data-dir"])
            .arg(db.dir())
            .arg("migrate")
            .env_remove("DATABASE_URL")
            .env_remove("QIPAN_DATA_KEYS_FILE")
            .env("QIPAN_CLOCK", crate::helpers::TEST_NOW)
            .env("QIPAN_AUDIT_KEY", crate::helpers::TEST_AUDIT_KEY);
        match keys {
            Some(k) => cmd.env("QIPAN_DATA_KEYS", k),
            None => cmd.env_remove("QIPAN_DATA_KEYS"),
        };
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let other = store::seal::Keyring::generate().to_text();
    let (code, stderr) = migrate(Some(&other));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("this database was sealed with"), "{stderr}");
    // No key file and none given: a new one is not invented for a sealed database.
    let (code, stderr) = migrate(None);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("sealed under data keys, and the key file") && stderr.contains("is missing"), "{stderr}");
    assert!(!db.dir().join("data.keys").exists(), "the key file made for nothing is taken back");
    assert_eq!(migrate(Some(crate::helpers::TEST_DATA_KEYS)).0, Some(0));
}

#[tokio::test]
async fn a_rotation_killed_half_way_resumes_and_leaves_everything_under_the_new_key() {
    let (app, db) = demo_app().await;
    app.generate_demo_people(150, 7).await.unwrap();
    let before = app.store.persons_after(&store::PersonFilter::default(), 0, 1000).await.unwrap();
    let first = before[0].clone();
    app.store.close().await;
    // A value written before sealing existed, still in clear: the pass seals it too.
    execute(&db, &format!("UPDATE persons SET phone = '13912345678' WHERE id = {}", first.id)).await;
    let keys_file = db.dir().join("data.keys");
    std::fs::write(&keys_file, crate::helpers::TEST_DATA_KEYS).unwrap();

    let rotate = |batch: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qipan"));
        cmd.args(["--database-url", &db.url_text, "--log", "warn", "--data-keys-file"])
            .arg(&keys_file)
            .args(["keys", "rotate", "--batch", batch])
            .env_remove("DATABASE_URL")
            .env_remove("QIPAN_DATA_KEYS")
            .env("QIPAN_CLOCK", crate::helpers::TEST_NOW)
            .env("QIPAN_AUDIT_KEY", crate::helpers::TEST_AUDIT_KEY);
        cmd
    };
    // One row per transaction, killed once the pass is into the records.
    let mut child = rotate("1").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines.next().expect("progress before the end").unwrap();
        seen.push(line.clone());
        if line.starts_with("sealing persons: ") && !line.starts_with("sealing persons: 0/") {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let text = std::fs::read_to_string(&keys_file).unwrap();
    let ring = store::seal::Keyring::parse(&text).unwrap();
    assert_eq!(ring.current_id(), "k2", "the new key reached the file first: {seen:?}");
    let half = stored_values(&db).await;
    let under = |prefix: &str| half.iter().filter(|(_, _, v)| v.starts_with(prefix)).count();
    assert!(under("s1.k2.") > 0 && under("s1.k1.") > 0, "killed half-way: {seen:?}");

    let out = rotate("40").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("resuming the interrupted pass"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no value is sealed under k1"));
    let after = stored_values(&db).await;
    assert_eq!(after.len(), half.len(), "no value lost or added");
    for (column, _, v) in &after {
        assert!(v.starts_with("s1.k2."), "{column}: {v}");
    }
    // The values open under the new file to what they were.
    let value = |column: &str, id: i64| after.iter().find(|(c, i, _)| c == column && *i == id).unwrap().2.clone();
    assert_eq!(ring.open("persons.phone", &value("persons.phone", first.id)).unwrap(), "13912345678");
    for p in before.iter().take(20) {
        let number = ring.open("persons.id_number", &value("persons.id_number", p.id)).unwrap();
        assert_eq!(Some(number), p.id_number);
    }
    // A third run starts a new rotation: k3.
    let out = rotate("1000").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(store::seal::Keyring::parse(&std::fs::read_to_string(&keys_file).unwrap()).unwrap().current_id(), "k3");
}
