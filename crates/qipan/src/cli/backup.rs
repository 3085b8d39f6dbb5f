//! `qipan backup` and `qipan restore`, and the backups `serve` takes on a schedule.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use store::DatabaseUrl;

use super::GlobalArgs;
use crate::service::backup::{self, BackupPolicy};
use crate::service::{App, ChainReport};

fn english(e: crate::service::ServiceError) -> anyhow::Error {
    anyhow::anyhow!(super::english(&e))
}

/// Where backups go when no folder is given: `backups` in the data directory.
pub fn policy(global: &GlobalArgs, dir: Option<&Path>, keep: usize, hook: Option<&str>) -> BackupPolicy {
    BackupPolicy {
        dir: dir.map(Path::to_path_buf).unwrap_or_else(|| global.data_dir.join("backups")),
        keep,
        hook: hook.map(str::to_owned),
    }
}

fn describe(made: &backup::Backup) -> String {
    let counts = made
        .counts
        .as_ref()
        .map(|c| c.iter().map(|(table, n)| format!("{table} {n}")).collect::<Vec<_>>().join(", "))
        .map(|c| format!("; rows: {c}"))
        .unwrap_or_default();
    format!(
        "backed up to {} ({} bytes, sha256 {}) in {:.1} s{counts}",
        made.path.display(),
        made.bytes,
        made.sha256,
        made.took.as_secs_f64()
    )
}

/// `qipan backup`: one backup now, checked, with the retention and the hook.
pub async fn run(global: &GlobalArgs, policy: &BackupPolicy) -> anyhow::Result<()> {
    let app = global.open_app().await?;
    let made = app.backup(&global.database_url(), policy).await;
    app.store.close().await;
    let made = made.map_err(english)?;
    println!("{}", describe(&made));
    for old in &made.removed {
        println!("removed the older backup {}", old.display());
    }
    if let Some(e) = &made.hook_failed {
        anyhow::bail!("the backup was made, but {e}");
    }
    Ok(())
}

/// Asks on the terminal before the database is replaced; without a terminal, `--yes` must say so.
fn confirmed(database: &DatabaseUrl, file: &Path) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("restoring replaces the database {}: add --yes to confirm", database.redacted());
    }
    print!("This replaces the database {} with {}. Type yes to go on: ", database.redacted(), file.display());
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// `qipan restore FILE`: checks the backup, replaces the database with it, then checks the
/// restored database — its row counts against the backup's and its audit chain — and records
/// the restore in the audit log.
pub async fn restore(global: &GlobalArgs, file: &Path, yes: bool) -> anyhow::Result<()> {
    let database = global.database_url();
    if !yes && !confirmed(&database, file)? {
        println!("nothing was restored");
        return Ok(());
    }
    let restored = backup::restore(&database, file, global.clock().now()).await.map_err(english)?;
    for aside in &restored.set_aside {
        println!("the database that was replaced is kept as {}", aside.display());
    }
    let app = global.open_app_to_check().await?;
    let checked = check_restored(&app, restored.counts.as_ref()).await;
    let recorded = match &checked {
        Ok(_) => app.record_restore(file, &restored).await.map_err(english),
        Err(_) => Ok(()),
    };
    app.store.close().await;
    let summary = checked?;
    recorded?;
    println!("restored from {}: {summary}", file.display());
    Ok(())
}

/// Counts the restored rows (and compares them with the backup's, when known) and verifies the
/// audit chain; the summary, or what is wrong.
async fn check_restored(app: &App, expected: Option<&store::backup::TableCounts>) -> anyhow::Result<String> {
    let counts = app.store.table_counts().await?;
    if let Some(expected) = expected
        && expected != &counts
    {
        anyhow::bail!(
            "the restored database holds other rows than the backup: expected {expected:?}, found {counts:?}"
        );
    }
    let chain = match app.verify_audit_chain().await.map_err(english)? {
        ChainReport::Intact { checked, head } => format!("audit chain intact ({checked} entries, head at #{head})"),
        ChainReport::Broken(b) => anyhow::bail!("the restored audit chain is broken: {b:?}"),
    };
    let rows = counts.iter().map(|(table, n)| format!("{table} {n}")).collect::<Vec<_>>().join(", ");
    Ok(format!("rows: {rows}; {chain}"))
}

/// The newest backup's age in `dir`, by its file's modification time.
fn newest_backup(dir: &Path) -> Option<SystemTime> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("qipan-") && (name.ends_with(".db") || name.ends_with(".dump"))
        })
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()
}

/// Takes a backup every `every`, counted from the newest one in the folder (so that a restarted
/// server neither skips one nor takes one at every start).
pub async fn schedule(app: App, database: DatabaseUrl, policy: BackupPolicy, every: Duration) {
    loop {
        let wait = newest_backup(&policy.dir)
            .and_then(|newest| SystemTime::now().duration_since(newest).ok())
            .map(|age| every.saturating_sub(age))
            .unwrap_or(Duration::ZERO);
        tokio::time::sleep(wait).await;
        match app.backup(&database, &policy).await {
            Ok(made) => {
                tracing::info!(file = %made.path.display(), bytes = made.bytes, secs = made.took.as_secs_f64(), "backup made");
                if let Some(e) = made.hook_failed {
                    tracing::error!(error = %e, "the backup hook failed (the backup is kept)");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the scheduled backup failed; trying again in an hour");
                tokio::time::sleep(Duration::from_secs(3600).min(every)).await;
            }
        }
    }
}
