//! The audit log: the hash chain catches edits and deletions, searching is scoped, exports are
//! themselves audited, archiving keeps the chain checkable.

use std::process::Command;

use axum::http::{StatusCode, header};
use chrono::Duration;
use domain::Clock;
use qipan::service::{App, ChainReport};
use store::Store;

use crate::helpers::{demo_app, demo_login, get, new_account};

fn verify_cli(db_url: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qipan"))
        .args(["--database-url", db_url, "--log", "warn", "audit", "verify"])
        .env_remove("DATABASE_URL")
        .env("QIPAN_CLOCK", crate::helpers::TEST_NOW)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn verify_names_the_first_entry_edited_directly_in_the_database() {
    let (app, db) = demo_app().await;
    demo_login(&app, "county").await;
    demo_login(&app, "clerk").await;
    let (code, stdout, stderr) = verify_cli(&db.url_text);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("audit log intact"), "{stdout}");

    // Someone with database access rewrites who signed in as entry #5.
    exec(&app.store, "UPDATE audit_log SET actor_name = 'someone_else' WHERE seq = 5").await;
    let (code, _, stderr) = verify_cli(&db.url_text);
    assert_eq!(code, 1);
    assert!(stderr.contains("entry #5 was altered"), "{stderr}");
    assert_eq!(
        app.verify_audit_chain().await.unwrap(),
        ChainReport::Broken(domain::audit::ChainBreak::Altered { seq: 5 })
    );
}

#[tokio::test]
async fn verify_notices_deleted_entries_in_the_middle_and_at_the_end() {
    let (app, db) = demo_app().await;
    demo_login(&app, "county").await;
    let (head, _) = app.store.audit_head().await.unwrap();
    exec(&app.store, "DELETE FROM audit_log WHERE seq = 3").await;
    let (code, _, stderr) = verify_cli(&db.url_text);
    assert_eq!(code, 1);
    assert!(stderr.contains("at entry #4") && stderr.contains("expected #3"), "{stderr}");

    let (app2, db2) = demo_app().await;
    demo_login(&app2, "county").await;
    let (head2, _) = app2.store.audit_head().await.unwrap();
    exec(&app2.store, &format!("DELETE FROM audit_log WHERE seq = {}", head2.0)).await;
    let (code, _, stderr) = verify_cli(&db2.url_text);
    assert_eq!(code, 1, "removing the newest entry is noticed too: {stderr}");
    assert!(head.0 > 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_form_one_unbroken_chain() {
    let (app, _db) = demo_app().await;
    let (before, _) = app.store.audit_head().await.unwrap();
    let (tasks_n, per_task) = (8, 5);
    let mut tasks = Vec::new();
    for i in 0..tasks_n {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..per_task {
                if i % 2 == 0 {
                    // A sign-in with an unknown name: refused, and exactly one entry.
                    let refused = app.login(&format!("nobody{i}"), "wrong-Password-1", None).await;
                    assert!(matches!(refused, Err(qipan::service::ServiceError::LoginFailed)), "{refused:?}");
                } else {
                    let console = qipan::service::Actor::console(domain::OrgCode::parse("37").unwrap());
                    let detail = serde_json::json!({"task": i, "n": n});
                    app.audit(&console, "test.append", None, None, detail).await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (after, _) = app.store.audit_head().await.unwrap();
    assert_eq!(after.0 - before.0, tasks_n * per_task, "every append landed once, none lost, none doubled");
    match app.verify_audit_chain().await.unwrap() {
        ChainReport::Intact { checked, head } => {
            assert_eq!((checked as i64, head), (after.0, after.0), "the whole chain, through the last append")
        }
        broken => panic!("{broken:?}"),
    }
}

#[tokio::test]
async fn the_audit_page_searches_within_scope_and_the_export_is_audited() {
    let (app, _db) = demo_app().await;
    demo_login(&app, "county").await;
    demo_login(&app, "pingchang").await;
    let auditor = demo_login(&app, "auditor").await;
    let page = get(&app, "/audit?action=login.", Some(&auditor)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(">county<") && !page.body.contains(">pingchang<"), "{}", page.body);
    let by_actor = get(&app, "/audit?actor=county", Some(&auditor)).await;
    assert_eq!(by_actor.status, StatusCode::OK);
    assert!(by_actor.body.contains(">county<"), "the filtered actor's entries are listed: {}", by_actor.body);
    assert!(!by_actor.body.contains(">auditor<"), "filtered by actor");
    let refused = get(&app, "/audit?unit=511923", Some(&auditor)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "another province's unit is out of scope");
    let bad = get(&app, "/audit?from=2026-02-30", Some(&auditor)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("起始日期"), "{}", bad.body);

    let export = get(&app, "/audit/export.csv?action=login.", Some(&auditor)).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(export.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("attachment"));
    let lines: Vec<&str> = export.body.lines().collect();
    assert!(lines[0].trim_start_matches('\u{feff}').starts_with("seq,time_cst,actor,action"));
    assert!(lines.iter().skip(1).all(|l| l.contains("\"login.")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("\"county\"")) && !lines.iter().any(|l| l.contains("\"pingchang\"")));
    let log = get(&app, "/audit?action=audit.export", Some(&auditor)).await.body;
    assert!(log.contains(">auditor<"), "the export itself is in the log: {log}");

    // Others may not read the log at all.
    let admin = demo_login(&app, "sysadmin").await;
    assert_eq!(get(&app, "/audit", Some(&admin)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn archiving_keeps_180_days_and_leaves_a_verifiable_chain() {
    let (app, db) = demo_app().await;
    demo_login(&app, "county").await;
    let before_all = app.store.audit_head().await.unwrap().0.0;
    // The day after tomorrow: every entry made today lies before its start in China time too.
    let day = (app.clock.now() + Duration::days(2)).format("%Y-%m-%d").to_string();
    let out = db.dir().join("archive.jsonl");
    let archive_before = |day: &str, clock: Option<String>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qipan"));
        cmd.args(["--database-url", &db.url_text, "--log", "warn", "audit", "archive", "--before", day, "--out"])
            .arg(&out)
            .env_remove("DATABASE_URL");
        cmd.env("QIPAN_CLOCK", clock.unwrap_or_else(|| crate::helpers::TEST_NOW.to_owned()));
        cmd.output().unwrap()
    };
    let archive = |clock: Option<String>| archive_before(&day, clock);
    // Today's entries are younger than 180 days: refused, nothing written.
    let refused = archive(None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("180"), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(!out.exists());

    // Half a year later they may go: written to the file first, then removed.
    let later = (app.clock.now() + Duration::days(200)).to_rfc3339();
    let done = archive(Some(later.clone()));
    assert_eq!(done.status.code(), Some(0), "{}", String::from_utf8_lossy(&done.stderr));
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count() as i64, before_all);
    let later_app = App { store: app.store.clone(), clock: Clock::fixed_at(&later).unwrap() };
    match later_app.verify_audit_chain().await.unwrap() {
        ChainReport::Intact { checked, .. } => assert_eq!(checked, 1, "only the archive's own entry remains"),
        broken => panic!("{broken:?}"),
    }
    let archived = std::fs::read(&out).unwrap();
    assert_eq!(archive(Some(later.clone())).status.code(), Some(0), "nothing left to archive: a no-op");
    assert_eq!(std::fs::read(&out).unwrap(), archived, "a no-op leaves the file as it was");

    // The file is never overwritten, even when there is something new to archive into it.
    demo_login(&later_app, "county").await;
    let (head, _) = app.store.audit_head().await.unwrap();
    let even_later = (app.clock.now() + Duration::days(400)).to_rfc3339();
    let next_day = (app.clock.now() + Duration::days(203)).format("%Y-%m-%d").to_string();
    let second = archive_before(&next_day, Some(even_later));
    assert_eq!(second.status.code(), Some(1), "an existing archive is refused");
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("must not exist"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), archived, "the first archive is byte for byte as it was");
    assert_eq!(app.store.audit_head().await.unwrap().0, head, "nothing left the database");
    match later_app.verify_audit_chain().await.unwrap() {
        ChainReport::Intact { checked, .. } => assert!(checked > 1, "the new entries are still there: {checked}"),
        broken => panic!("{broken:?}"),
    }
}

#[tokio::test]
async fn every_sign_in_records_the_address_and_the_account_page_shows_them() {
    let (app, _db) = demo_app().await;
    let s = new_account(&app, "watcher", "supervisor", "3716").await;
    let page = get(&app, "/account", Some(&s)).await.body;
    assert!(page.contains("127.0.0.1"), "{page}");
}

#[tokio::test]
async fn archiving_refuses_a_chain_that_does_not_verify() {
    let (app, db) = demo_app().await;
    exec(&app.store, "UPDATE audit_log SET detail = '{}' WHERE seq = 2").await;
    let day = (app.clock.now() + Duration::days(2)).format("%Y-%m-%d").to_string();
    let out = db.dir().join("archive.jsonl");
    let later = (app.clock.now() + Duration::days(200)).to_rfc3339();
    let run = Command::new(env!("CARGO_BIN_EXE_qipan"))
        .args(["--database-url", &db.url_text, "--log", "warn", "audit", "archive", "--before", &day, "--out"])
        .arg(&out)
        .env_remove("DATABASE_URL")
        .env("QIPAN_CLOCK", &later)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("entry #2 was altered") && stderr.contains("nothing was archived"), "{stderr}");
    let (_, archived) = app.store.audit_head().await.unwrap();
    assert_eq!(archived.0, 0, "the tampered entry was not archived away");
}
