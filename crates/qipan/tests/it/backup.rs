//! `qipan backup` and `qipan restore` as an operator runs them: a backup taken, the live
//! database damaged, a damaged backup refused, the good one restored with every record and the
//! audit chain intact — on the engine of the test run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qipan::service::{App, ChainReport};
use store::Store;

use crate::helpers::{TEST_AUDIT_KEY, TEST_DATA_KEYS, TEST_NOW, demo_actor, empty_app, engine_is_postgres, test_clock};

fn qipan(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qipan"));
    for var in ["DATABASE_URL", "QIPAN_DATA_DIR", "QIPAN_LOG", "QIPAN_LOG_FORMAT", "QIPAN_BACKUP_DIR"] {
        cmd.env_remove(var);
    }
    cmd.env("QIPAN_CLOCK", TEST_NOW)
        .env("QIPAN_AUDIT_KEY", TEST_AUDIT_KEY)
        .env("QIPAN_DATA_KEYS", TEST_DATA_KEYS)
        .env("NO_COLOR", "1")
        .args(["--database-url", db]);
    cmd
}

/// Runs the binary without blocking the test's runtime (which must go on closing the
/// connections the test let go of).
async fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } =
        tokio::process::Command::from(std::mem::replace(cmd, Command::new("true"))).output().await.expect("run qipan");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

async fn execute(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn only_backup(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "db" || x == "dump"))
        .collect();
    assert_eq!(files.len(), 1, "one backup in {}: {files:?}", dir.display());
    files[0].clone()
}

/// What a user would check after a restore: the records (as a clerk reads them, ID numbers
/// opened), the row counts, and the audit chain.
async fn records(app: &App) -> Vec<String> {
    let county = demo_actor(app, "county").await;
    let sql = "SELECT id FROM persons ORDER BY id";
    let ids: Vec<i64> = match &app.store {
        Store::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .unwrap();
    assert!(ids.len() >= 300, "the demo people: {}", ids.len());
    let mut views = Vec::new();
    for id in [ids[0], ids[1], ids[ids.len() / 2], ids[ids.len() - 1]] {
        views.push(format!("{:?}", app.view_person(&county, id).await.expect("a demo record")));
    }
    views
}

#[tokio::test]
async fn a_backup_restores_every_record_and_the_chain_after_the_database_is_damaged() {
    let (app, db) = empty_app(test_clock()).await;
    app.ensure_demo_data_with(300, 2026).await.unwrap();
    let before = records(&app).await;
    let counts = app.store.table_counts().await.unwrap();
    for table in ["persons", "person_history", "audit_log"] {
        assert!(counts.iter().any(|(t, n)| *t == table && *n > 0), "{table}: {counts:?}");
    }
    app.store.close().await;

    let backups = db.dir().join("backups");
    let (code, stdout, stderr) = run(qipan(&db.url_text).args(["backup", "--dir"]).arg(&backups)).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("backed up to"), "{stdout}");
    let file = only_backup(&backups);
    let sum = std::fs::read_to_string(format!("{}.sha256", file.display())).unwrap();
    assert!(sum.contains(&*file.file_name().unwrap().to_string_lossy()), "sha256sum format: {sum}");

    // The live database is damaged.
    match &db.url {
        store::DatabaseUrl::Sqlite(path) => {
            let len = std::fs::metadata(path).unwrap().len();
            let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            file.set_len(len / 2).unwrap();
        }
        store::DatabaseUrl::Postgres(_) => {
            let store = Store::connect(&db.url).await.unwrap();
            execute(&store, "TRUNCATE persons CASCADE").await;
            store.close().await;
        }
    }

    // A damaged copy of the backup is refused before anything changes.
    let bad = db.dir().join(file.file_name().unwrap()).with_extension("damaged");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&bad, &bytes).unwrap();
    std::fs::write(format!("{}.sha256", bad.display()), &sum).unwrap();
    let live_before = live_fingerprint(&db).await;
    let (code, _, stderr) = run(qipan(&db.url_text).args(["restore", "--yes"]).arg(&bad)).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is damaged") && stderr.contains("nothing was restored"), "{stderr}");
    // So is a file that is no backup at all, without a checksum beside it.
    let junk = db.dir().join("notes.db");
    std::fs::write(&junk, "not a database").unwrap();
    let (code, _, stderr) = run(qipan(&db.url_text).args(["restore", "--yes"]).arg(&junk)).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("nothing was restored"), "{stderr}");
    assert_eq!(live_fingerprint(&db).await, live_before, "the refused restores left the database alone");

    // Without a terminal, a restore must be confirmed with --yes.
    let (code, _, stderr) = run(qipan(&db.url_text).arg("restore").arg(&file)).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");

    // While the database is in use, a restore is refused.
    if engine_is_postgres() {
        let app = App::open(&db.url, test_clock()).await;
        let (code, _, stderr) = run(qipan(&db.url_text).args(["restore", "--yes"]).arg(&file)).await;
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("other session(s)") && stderr.contains("nothing was restored"), "{stderr}");
        app.unwrap().store.close().await;
    } else {
        let serving = qipan::service::backup::hold_serving_lock(&db.url).unwrap();
        let (code, _, stderr) = run(qipan(&db.url_text).args(["restore", "--yes"]).arg(&file)).await;
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("a server is serving"), "{stderr}");
        drop(serving);
    }

    let (code, stdout, stderr) = run(qipan(&db.url_text).args(["restore", "--yes"]).arg(&file)).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");

    let app = App::open(&db.url, test_clock()).await.unwrap();
    let mut restored = app.store.table_counts().await.unwrap();
    // The backup and the restore are in the log: one entry after the copy was taken.
    let audit = restored.iter_mut().find(|(t, _)| *t == "audit_log").unwrap();
    audit.1 -= 1;
    assert_eq!(restored, counts, "every row is back");
    match app.verify_audit_chain().await.unwrap() {
        ChainReport::Intact { .. } => {}
        broken => panic!("{broken:?}"),
    }
    let (head, _) = app.store.audit_head().await.unwrap();
    let last = app.store.audit_after(head.0 - 1, 1, &Default::default()).await.unwrap().remove(0);
    assert_eq!(last.entry.action, "database.restore");
    assert_eq!(records(&app).await, before, "the records read as they did");
    app.store.close().await;
}

/// The live database as it stands: its file's bytes (SQLite), or its people (PostgreSQL).
async fn live_fingerprint(db: &crate::helpers::TestDb) -> String {
    match &db.url {
        store::DatabaseUrl::Sqlite(path) => {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(path).unwrap().hash(&mut hasher);
            format!("{:x}", hasher.finish())
        }
        store::DatabaseUrl::Postgres(_) => {
            let store = Store::connect(&db.url).await.unwrap();
            let counts = store.table_counts().await.unwrap();
            store.close().await;
            format!("{counts:?}")
        }
    }
}
