//! Backups — `qipan backup`, and on a schedule inside `serve` — and `qipan restore`.
//!
//! SQLite is copied while serving with `VACUUM INTO` (one consistent snapshot), checked
//! (`PRAGMA integrity_check`, Qipan's migrations, row counts) before it is kept; PostgreSQL is
//! dumped with `pg_dump --format=custom` and checked with `pg_restore --list`. Every backup gets
//! a `.sha256` beside it in `sha256sum` format, so that a restore (and `sha256sum -c`) can tell a
//! damaged copy from a whole one. A restore refuses a damaged file before it touches the
//! database, and sets the database it replaces aside rather than deleting it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use store::backup::{TableCounts, check_sqlite_file};
use store::{DatabaseUrl, Store};

use super::{Actor, App, ServiceError, ServiceResult};

/// Where backups go, how many are kept, and what runs after each.
#[derive(Debug, Clone)]
pub struct BackupPolicy {
    pub dir: PathBuf,
    /// Backups kept in `dir`, newest first; older ones are removed after a new one is whole.
    pub keep: usize,
    /// A shell command run after each backup with the file as `$1` (an off-site copy).
    pub hook: Option<String>,
}

/// A backup made and checked.
#[derive(Debug, Clone)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    /// Rows per table in the copy (SQLite only: a PostgreSQL dump is not read back).
    pub counts: Option<TableCounts>,
    pub took: Duration,
    /// Older backups removed by the retention.
    pub removed: Vec<PathBuf>,
    /// The hook's failure, when it failed (the backup itself is kept).
    pub hook_failed: Option<String>,
}

/// How a restore went.
#[derive(Debug, Clone)]
pub struct Restored {
    /// Whether a `.sha256` beside the file was there to check (and matched).
    pub checksum_checked: bool,
    /// Rows per table of the restored file (SQLite), read before it replaced the database.
    pub counts: Option<TableCounts>,
    /// Where the database that was replaced now lies (SQLite), kept for inspection.
    pub set_aside: Vec<PathBuf>,
}

fn failed(what: impl std::fmt::Display) -> ServiceError {
    ServiceError::Backup(what.to_string())
}

fn io(context: &str, path: &Path, e: std::io::Error) -> ServiceError {
    failed(format!("{context} {}: {e}", path.display()))
}

/// The SHA-256 of a file, in hex, read in blocks.
pub fn file_sha256(path: &Path) -> ServiceResult<String> {
    let mut file = std::fs::File::open(path).map_err(|e| io("cannot read", path, e))?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block).map_err(|e| io("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// A backup's file name: the instant it was taken (UTC), so that names sort by age.
fn backup_name(now: chrono::DateTime<chrono::Utc>, extension: &str) -> String {
    format!("qipan-{}.{extension}", now.format("%Y%m%dT%H%M%SZ"))
}

fn is_backup_name(name: &str) -> bool {
    name.starts_with("qipan-") && (name.ends_with(".db") || name.ends_with(".dump"))
}

/// A PostgreSQL tool, connected through the environment (never the password on its command
/// line, where `ps` would show it).
fn pg_tool(tool: &str, url: &str) -> ServiceResult<(Command, String)> {
    let parsed = url::Url::parse(url).map_err(|e| failed(format!("the database URL: {e}")))?;
    let mut cmd = Command::new(tool);
    if let Some(host) = parsed.host_str() {
        cmd.env("PGHOST", host.trim_start_matches('[').trim_end_matches(']'));
    }
    if let Some(port) = parsed.port() {
        cmd.env("PGPORT", port.to_string());
    }
    if !parsed.username().is_empty() {
        cmd.env("PGUSER", percent_decoded(parsed.username()));
    }
    if let Some(password) = parsed.password() {
        cmd.env("PGPASSWORD", percent_decoded(password));
    }
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "sslmode" => cmd.env("PGSSLMODE", value.as_ref()),
            "host" => cmd.env("PGHOST", value.as_ref()),
            _ => &mut cmd,
        };
    }
    let db = percent_decoded(parsed.path().trim_start_matches('/'));
    Ok((cmd, db))
}

fn percent_decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Runs a tool; its standard error is the error when it fails.
fn run(mut cmd: Command, what: &str) -> ServiceResult<Vec<u8>> {
    let out = cmd.output().map_err(|e| {
        failed(format!("cannot run {what} ({e}); install the PostgreSQL client tools of the server's version"))
    })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(failed(format!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim())))
    }
}

impl App {
    /// Takes a backup into the policy's folder, checks it, keeps the newest `keep` and runs the
    /// hook. Safe while serving.
    pub async fn backup(&self, database: &DatabaseUrl, policy: &BackupPolicy) -> ServiceResult<Backup> {
        let started = Instant::now();
        std::fs::create_dir_all(&policy.dir).map_err(|e| io("cannot create", &policy.dir, e))?;
        let extension = match self.store {
            Store::Sqlite(_) => "db",
            Store::Postgres(_) => "dump",
        };
        let mut name = backup_name(self.clock.now(), extension);
        let mut n = 2;
        while policy.dir.join(&name).exists() {
            name = format!(
                "{}-{n}.{extension}",
                backup_name(self.clock.now(), extension).trim_end_matches(&format!(".{extension}"))
            );
            n += 1;
        }
        let path = policy.dir.join(&name);
        let partial = policy.dir.join(format!(".{name}.partial"));
        let _ = std::fs::remove_file(&partial);
        let counts = match database {
            DatabaseUrl::Sqlite(_) => {
                let dest = partial.to_str().ok_or_else(|| failed(format!("{} is not UTF-8", partial.display())))?;
                self.store.sqlite_copy_into(dest).await?;
                let check = check_sqlite_file(&partial).await?;
                if let Some(problem) = check.problems.first() {
                    let _ = std::fs::remove_file(&partial);
                    return Err(failed(format!("the copy is not whole ({problem}); nothing was kept")));
                }
                Some(check.counts)
            }
            DatabaseUrl::Postgres(url) => {
                let (mut dump, db) = pg_tool("pg_dump", url)?;
                dump.args(["--format=custom", "--no-owner", "--file"]).arg(&partial).arg(format!("--dbname={db}"));
                tokio::task::block_in_place(|| run(dump, "pg_dump"))?;
                let (mut list, _) = pg_tool("pg_restore", url)?;
                list.arg("--list").arg(&partial);
                if let Err(e) = tokio::task::block_in_place(|| run(list, "pg_restore --list")) {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e);
                }
                None
            }
        };
        std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| io("cannot sync", &partial, e))?;
        let sha256 = tokio::task::block_in_place(|| file_sha256(&partial))?;
        std::fs::rename(&partial, &path).map_err(|e| io("cannot name", &path, e))?;
        std::fs::write(sidecar(&path), format!("{sha256}  {name}\n")).map_err(|e| io("cannot write", &path, e))?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let removed = prune(&policy.dir, policy.keep.max(1))?;
        let hook_failed = policy.hook.as_deref().and_then(|hook| {
            let mut cmd = Command::new("sh");
            cmd.arg("-c").arg(hook).arg("qipan-backup").arg(&path);
            tokio::task::block_in_place(|| run(cmd, "the backup hook")).err().map(|e| e.to_string())
        });
        let detail = serde_json::json!({
            "file": path.display().to_string(), "bytes": bytes, "sha256": sha256,
            "removed": removed.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        self.audit(&console(), "database.backup", None, Some(name), detail).await?;
        Ok(Backup { path, bytes, sha256, counts, took: started.elapsed(), removed, hook_failed })
    }

    /// Records in the audit log that the database was restored, once the restored database has
    /// been checked: its chain then tells that it was put back, from which file.
    pub async fn record_restore(&self, file: &Path, restored: &Restored) -> ServiceResult<()> {
        let detail = serde_json::json!({
            "file": file.display().to_string(),
            "checksum_checked": restored.checksum_checked,
            "set_aside": restored.set_aside.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        self.audit(
            &console(),
            "database.restore",
            None,
            file.file_name().map(|n| n.to_string_lossy().into_owned()),
            detail,
        )
        .await
    }
}

fn console() -> Actor {
    Actor::console(domain::OrgCode::parse("00").expect("static code"))
}

/// Removes the oldest backups (and their checksums) beyond `keep`.
fn prune(dir: &Path, keep: usize) -> ServiceResult<Vec<PathBuf>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| io("cannot list", dir, e))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| is_backup_name(name))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for name in names.into_iter().take(excess) {
        let path = dir.join(name);
        std::fs::remove_file(&path).map_err(|e| io("cannot remove", &path, e))?;
        let _ = std::fs::remove_file(sidecar(&path));
        removed.push(path);
    }
    Ok(removed)
}

/// Checks a backup file against the `.sha256` beside it, when there is one: `Ok(false)` when
/// there is none to check, an error naming both sums when they differ.
fn check_sum(file: &Path) -> ServiceResult<bool> {
    let expected = match std::fs::read_to_string(sidecar(file)) {
        Ok(text) => text.split_whitespace().next().unwrap_or_default().to_ascii_lowercase(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io("cannot read", &sidecar(file), e)),
    };
    let actual = file_sha256(file)?;
    if actual != expected {
        return Err(failed(format!(
            "{} is damaged: its SHA-256 is {actual}, but {} says {expected}; nothing was restored",
            file.display(),
            sidecar(file).display()
        )));
    }
    Ok(true)
}

/// The file a server holds a shared lock on while it serves an SQLite database, so that a
/// restore can tell that the database is in use.
fn serving_lock_path(database: &Path) -> PathBuf {
    PathBuf::from(format!("{}.serving", database.display()))
}

/// The serving lock file of an SQLite database, opened (created when missing) for locking.
fn open_serving_lock(database: &Path) -> ServiceResult<(PathBuf, std::fs::File)> {
    let lock = serving_lock_path(database);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| io("cannot open", &lock, e))?;
    Ok((lock, file))
}

/// Marks an SQLite database as served for as long as the returned file is open; `None` on
/// PostgreSQL, where a restore looks at the server's sessions instead.
pub fn hold_serving_lock(database: &DatabaseUrl) -> ServiceResult<Option<std::fs::File>> {
    let DatabaseUrl::Sqlite(path) = database else { return Ok(None) };
    let (lock, file) = open_serving_lock(path)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(failed(format!("{} is being restored; start the server when the restore has finished", path.display())))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io("cannot lock", &lock, e)),
    }
}

/// Refuses a restore while a server (or another session) uses the database.
async fn refuse_when_in_use(database: &DatabaseUrl) -> ServiceResult<Option<std::fs::File>> {
    match database {
        DatabaseUrl::Sqlite(path) => {
            let (lock, file) = open_serving_lock(path)?;
            match file.try_lock() {
                Ok(()) => Ok(Some(file)),
                Err(std::fs::TryLockError::WouldBlock) => Err(failed(format!(
                    "a server is serving {}: stop it before restoring; nothing was restored",
                    path.display()
                ))),
                Err(std::fs::TryLockError::Error(e)) => Err(io("cannot lock", &lock, e)),
            }
        }
        DatabaseUrl::Postgres(_) => {
            let store = Store::connect(database).await?;
            // A session that just ended leaves the server's list a moment later.
            let mut others = Vec::new();
            for _ in 0..15 {
                others = match store.other_sessions().await {
                    Ok(list) => list,
                    Err(e) => {
                        store.close().await;
                        return Err(e.into());
                    }
                };
                if others.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            store.close().await;
            if others.is_empty() {
                Ok(None)
            } else {
                Err(failed(format!(
                    "{} other session(s) use the database ({}): stop the servers before restoring; nothing was restored",
                    others.len(),
                    others.join(", ")
                )))
            }
        }
    }
}

/// Replaces the database with a backup, after checking the backup whole. The server must be
/// stopped. SQLite: the database file (and its WAL) is renamed aside, never deleted; PostgreSQL:
/// `pg_restore --clean` in one transaction.
pub async fn restore(
    database: &DatabaseUrl,
    file: &Path,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<Restored> {
    if !file.is_file() {
        return Err(failed(format!("{} is not a file", file.display())));
    }
    let checksum_checked = check_sum(file)?;
    let _lock = refuse_when_in_use(database).await?;
    match database {
        DatabaseUrl::Sqlite(target) => {
            let check = check_sqlite_file(file).await.map_err(|e| {
                failed(format!("{} is not a readable SQLite database ({e}); nothing was restored", file.display()))
            })?;
            if let Some(problem) = check.problems.first() {
                return Err(failed(format!("{} is damaged ({problem}); nothing was restored", file.display())));
            }
            if check.migrations == 0 {
                return Err(failed(format!("{} is not a Qipan database; nothing was restored", file.display())));
            }
            let stamp = now.format("%Y%m%dT%H%M%SZ");
            let mut set_aside = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                let live = PathBuf::from(format!("{}{suffix}", target.display()));
                if live.exists() {
                    let aside = PathBuf::from(format!("{}.before-restore-{stamp}{suffix}", target.display()));
                    std::fs::rename(&live, &aside).map_err(|e| io("cannot set aside", &live, e))?;
                    set_aside.push(aside);
                }
            }
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
            }
            let partial = PathBuf::from(format!("{}.restoring", target.display()));
            std::fs::copy(file, &partial).map_err(|e| io("cannot copy to", &partial, e))?;
            std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| io("cannot sync", &partial, e))?;
            std::fs::rename(&partial, target).map_err(|e| io("cannot name", target, e))?;
            Ok(Restored { checksum_checked, counts: Some(check.counts), set_aside })
        }
        DatabaseUrl::Postgres(url) => {
            let (mut list, _) = pg_tool("pg_restore", url)?;
            list.arg("--list").arg(file);
            run(list, "pg_restore --list")
                .map_err(|e| failed(format!("{} is damaged: {e}; nothing was restored", file.display())))?;
            let (mut restore, db) = pg_tool("pg_restore", url)?;
            restore
                .args(["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"])
                .arg(format!("--dbname={db}"))
                .arg(file);
            run(restore, "pg_restore")?;
            Ok(Restored { checksum_checked, counts: None, set_aside: Vec::new() })
        }
    }
}
