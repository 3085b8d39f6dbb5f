//! The audit log: the hash chain catches edits and deletions, searching is scoped, exports are
//! themselves audited, archiving keeps the chain checkable.

use std::process::Command;

use axum::http::{StatusCode, header};
use chrono::Duration;
use domain::Clock;
use qipan::service::ChainReport;
use store::Store;

use crate::helpers::{demo_app, demo_login, get, new_account};

fn verify_cli(db: &crate::helpers::TestDb) -> (i32, String, String) {
    audit_cli(db, "verify", Some(crate::helpers::TEST_AUDIT_KEY))
}

/// `qipan audit <command>` on the test database, its anchors in the test's folder, with the
/// given key (or none).
fn audit_cli(db: &crate::helpers::TestDb, command: &str, key: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qipan"));
    cmd.args(["--database-url", &db.url_text, "--log", "warn", "audit", command])
        .arg("--audit-anchors")
        .arg(db.dir().join("anchors.log"))
        .arg("--audit-key-file")
        .arg(db.dir().join("no-such.key"))
        .env_remove("DATABASE_URL")
        .env_remove("QIPAN_AUDIT_KEY")
        .env("QIPAN_DATA_KEYS", crate::helpers::TEST_DATA_KEYS)
        .env("QIPAN_CLOCK", crate::helpers::TEST_NOW);
    if let Some(key) = key {
        cmd.env("QIPAN_AUDIT_KEY", key);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs `sql` as someone who can change the schema: the append-only triggers are dropped first.
async fn exec(store: &Store, sql: &str) {
    drop_guards(store).await;
    run(store, sql).await;
}

async fn drop_guards(store: &Store) {
    match store {
        Store::Sqlite(_) => {
            run(store, "DROP TRIGGER IF EXISTS audit_log_no_update").await;
            run(store, "DROP TRIGGER IF EXISTS audit_log_no_delete").await;
        }
        Store::Postgres(_) => {
            run(store, "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log").await;
            run(store, "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log").await;
        }
    }
}

async fn run(store: &Store, sql: &str) {
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
    let (code, stdout, stderr) = verify_cli(&db);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("audit log intact"), "{stdout}");

    // Someone with database access rewrites who signed in as entry #5.
    exec(&app.store, "UPDATE audit_log SET actor_name = 'someone_else' WHERE seq = 5").await;
    let (code, _, stderr) = verify_cli(&db);
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
    let (code, _, stderr) = verify_cli(&db);
    assert_eq!(code, 1);
    assert!(stderr.contains("at entry #4") && stderr.contains("expected #3"), "{stderr}");

    let (app2, db2) = demo_app().await;
    demo_login(&app2, "county").await;
    let (head2, _) = app2.store.audit_head().await.unwrap();
    exec(&app2.store, &format!("DELETE FROM audit_log WHERE seq = {}", head2.0)).await;
    let (code, _, stderr) = verify_cli(&db2);
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
        cmd.env("QIPAN_AUDIT_KEY", crate::helpers::TEST_AUDIT_KEY);
        cmd.env("QIPAN_DATA_KEYS", crate::helpers::TEST_DATA_KEYS);
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
    let later_app = app.at_clock(Clock::fixed_at(&later).unwrap());
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
        .env("QIPAN_AUDIT_KEY", crate::helpers::TEST_AUDIT_KEY)
        .env("QIPAN_DATA_KEYS", crate::helpers::TEST_DATA_KEYS)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("entry #2 was altered") && stderr.contains("nothing was archived"), "{stderr}");
    let (_, archived) = app.store.audit_head().await.unwrap();
    assert_eq!(archived.0, 0, "the tampered entry was not archived away");
}

#[tokio::test]
async fn the_database_refuses_to_change_or_remove_an_entry() {
    let (app, _db) = demo_app().await;
    demo_login(&app, "county").await;
    for sql in ["UPDATE audit_log SET actor_name = 'x' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 2"] {
        let refused = match &app.store {
            Store::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
            Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        };
        let message = refused.expect_err(sql).to_string();
        assert!(message.contains("append-only"), "{sql}: {message}");
    }
    if let Store::Postgres(pool) = &app.store {
        let truncate = sqlx::query("TRUNCATE audit_log").execute(pool).await;
        assert!(truncate.expect_err("truncate").to_string().contains("append-only"));
    }
    match app.verify_audit_chain().await.unwrap() {
        ChainReport::Intact { checked, head } => assert_eq!(checked as i64, head, "nothing changed"),
        broken => panic!("{broken:?}"),
    }
}

#[tokio::test]
async fn an_entry_rewritten_without_the_key_is_found() {
    let (app, db) = demo_app().await;
    demo_login(&app, "county").await;
    let (head, _) = app.store.audit_head().await.unwrap();
    assert!(head.1.starts_with("h1:"), "the chain is keyed: {}", head.1);
    // Someone with the database, not the key, rewrites the last entry and recomputes its hash
    // the way the chain hashed before it was keyed.
    let last = app.store.audit_after(head.0 - 1, 1, &Default::default()).await.unwrap().remove(0);
    let mut forged = last.entry.clone();
    forged.actor_name = "someone_else".into();
    let hash = domain::audit::chain_hash_with(None, &last.prev_hash, &forged);
    exec(
        &app.store,
        &format!("UPDATE audit_log SET actor_name = 'someone_else', hash = '{hash}' WHERE seq = {}", head.0),
    )
    .await;
    exec(&app.store, &format!("UPDATE audit_head SET hash = '{hash}' WHERE id = 1")).await;
    let (code, _, stderr) = verify_cli(&db);
    assert_eq!(code, 1);
    assert!(stderr.contains(&format!("entry #{} carries an unkeyed hash", head.0)), "{stderr}");
    // Without the key, the log cannot even be opened for writing, nor checked.
    let (code, _, stderr) = audit_cli(&db, "verify", None);
    assert_eq!(code, 1);
    assert!(stderr.contains("no audit key was given"), "{stderr}");
}

#[tokio::test]
async fn a_tail_removed_with_its_head_is_found_by_the_anchors() {
    let (app, db) = demo_app().await;
    demo_login(&app, "county").await;
    demo_login(&app, "clerk").await;
    let (code, stdout, stderr) = audit_cli(&db, "anchor", Some(crate::helpers::TEST_AUDIT_KEY));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (head, _) = app.store.audit_head().await.unwrap();
    let (code, stdout, _) = verify_cli(&db);
    assert_eq!(code, 0);
    assert!(stdout.contains("1 anchors") && stdout.contains("agree"), "{stdout}");
    // The last three entries go, and the head row is set back to the entry before them: the
    // chain in the database is consistent again...
    let keep = head.0 - 3;
    let kept = app.store.audit_hash_of(keep).await.unwrap().unwrap();
    exec(&app.store, &format!("DELETE FROM audit_log WHERE seq > {keep}")).await;
    exec(&app.store, &format!("UPDATE audit_head SET seq = {keep}, hash = '{kept}' WHERE id = 1")).await;
    match app.verify_audit_chain().await.unwrap() {
        ChainReport::Intact { head, .. } => assert_eq!(head, keep, "inside the database nothing shows"),
        broken => panic!("{broken:?}"),
    }
    // ...but the anchor written out of it remembers where it ended.
    let (code, _, stderr) = verify_cli(&db);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("it ends at #{keep}, but #{} was anchored", head.0))
            && stderr.contains("removed from the end"),
        "{stderr}"
    );
}
