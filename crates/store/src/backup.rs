//! What a backup needs from the database: a consistent copy of a live SQLite file, and a check
//! that a file (a backup, or the database after a restore) is whole and is Qipan's.
//! PostgreSQL is copied by its own tools (`pg_dump`), which the service runs.

use std::path::Path;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::{Context, Store, StoreError, StoreResult, on_pool};

/// The tables whose row counts a backup and a restore report (and a test compares).
pub const COUNTED_TABLES: [&str; 6] =
    ["persons", "person_history", "exchange_items", "supervision_orders", "case_events", "audit_log"];

/// Rows per table, in the order of [`COUNTED_TABLES`].
pub type TableCounts = Vec<(&'static str, i64)>;

/// What a database file holds, read without changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// `PRAGMA integrity_check`'s findings; empty when the file is whole.
    pub problems: Vec<String>,
    /// Migrations applied (a Qipan database has at least one).
    pub migrations: i64,
    pub counts: TableCounts,
}

impl Store {
    /// Writes a consistent copy of the live SQLite database to `dest` (which must not exist),
    /// while the server goes on serving: `VACUUM INTO` reads one snapshot. `None` on PostgreSQL.
    pub async fn sqlite_copy_into(&self, dest: &str) -> StoreResult<Option<()>> {
        let Store::Sqlite(pool) = self else { return Ok(None) };
        sqlx::query("VACUUM INTO $1").bind(dest).execute(pool).await.context("copying the database")?;
        Ok(Some(()))
    }

    /// Rows per counted table of the open database.
    pub async fn table_counts(&self) -> StoreResult<TableCounts> {
        let mut counts = Vec::new();
        for table in COUNTED_TABLES {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let n: i64 = on_pool!(self, pool => sqlx::query_scalar(&sql).fetch_one(pool).await)
                .context("counting the rows of a table")?;
            counts.push((table, n));
        }
        Ok(counts)
    }
}

/// Opens an SQLite file read-only and checks it: whole (`PRAGMA integrity_check`), Qipan's
/// (migrations applied), and how many rows it holds. A file that is not a database at all is an
/// error; a damaged one is answered with its problems.
pub async fn check_sqlite_file(path: &Path) -> StoreResult<FileCheck> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true).create_if_missing(false);
    let url = path.display().to_string();
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|source| StoreError::Connect { url: url.clone(), source })?;
    let rows: Vec<String> =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await.context("checking a database file")?;
    let problems: Vec<String> = rows.into_iter().filter(|r| r != "ok").collect();
    if !problems.is_empty() {
        conn.close().await.ok();
        return Ok(FileCheck { problems, migrations: 0, counts: Vec::new() });
    }
    let migrations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .context("reading the migrations of a database file")?;
    let mut counts = Vec::new();
    for table in COUNTED_TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .context("counting the rows of a database file")?;
        counts.push((table, n));
    }
    conn.close().await.ok();
    Ok(FileCheck { problems, migrations, counts })
}

impl Store {
    /// Other sessions connected to this PostgreSQL database (a running server, a console), each
    /// as `application_name@client address`; empty on SQLite, where a lock file tells instead.
    pub async fn other_sessions(&self) -> StoreResult<Vec<String>> {
        let Store::Postgres(pool) = self else { return Ok(Vec::new()) };
        let rows: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT application_name, host(client_addr) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        )
        .fetch_all(pool)
        .await
        .context("listing the sessions on the database")?;
        Ok(rows
            .into_iter()
            .map(|(app, host)| {
                let app = app.filter(|a| !a.is_empty()).unwrap_or_else(|| "(unnamed)".to_owned());
                format!("{app}@{}", host.unwrap_or_else(|| "local".to_owned()))
            })
            .collect())
    }
}
