//! Qipan's database layer: one [`Store`] over SQLite (the embedded default) or PostgreSQL.
//!
//! The engine is a concrete enum, chosen from the database URL, so that everything above this
//! crate compiles once. SQL is written once with `$n` placeholders, which both sqlx drivers
//! accept; the [`on_pool!`] macro expands one body for each engine's pool. Rows are converted to
//! domain types here and nowhere else. This crate knows nothing of HTTP or of who is asking:
//! authorization lives in the service layer.

mod accounts;
mod audit;
pub mod backup;
mod bulk;
pub mod case;
mod codes;
mod copy;
mod exchange;
mod factors;
mod glass;
mod keys;
mod org_units;
mod persons;
mod quality;
pub mod reports;
pub mod rollups;
pub mod seal;
mod search;
mod sections;
mod settings;
pub mod supervision;
pub mod tasks;
mod url;
pub mod worklist;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use accounts::{
    Account, AccountChange, AccountFilter, AccountWrite, ApiToken, NewAccount, NewApiToken, SessionRow,
};
pub use audit::{AuditDraft, AuditFilter, StoredAudit};
pub use bulk::BulkPeople;
pub use case::{CaseEvent, EventActor, NewNotification, Notification, Step};
pub use codes::{CodeChange, CodeOutcome};
pub use exchange::{Answer, Item, ItemFilter, NewItem, Submission};
pub use factors::Factor;
pub use glass::GlassGrant;
pub use keys::{PassProgress, RecordedKey, SealedTable, sealed_tables};
pub use org_units::{ImportCounts, OrgFilter, OrgScope, OrgUnit, Page};
pub use persons::{
    COUNT_CAP, Person, PersonChange, PersonFields, PersonFilter, PersonSort, PersonWriteMeta, PersonWriteOutcome,
};
pub use quality::{DUPLICATE_RULE, QualityRefresh, QualityRow};
pub use sections::SectionRow;
pub use tasks::{TaskRefresh, TaskRow};
pub use url::{DatabaseUrl, DatabaseUrlError};

/// The two engines Qipan runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{context}: {source}")]
    Query { context: &'static str, source: sqlx::Error },
    /// A row that the database holds but the domain refuses: the data was changed behind Qipan's back.
    #[error("the database holds an invalid {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    /// No keyring installed: nothing sealed can be written or read.
    #[error("no data keys are installed (the key file or QIPAN_DATA_KEYS)")]
    NoKeys,
}

pub type StoreResult<T> = Result<T, StoreError>;

trait Context<T> {
    fn context(self, context: &'static str) -> StoreResult<T>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, context: &'static str) -> StoreResult<T> {
        self.map_err(|source| StoreError::Query { context, source })
    }
}

/// Runs one body against whichever pool the store holds. The body is expanded once per engine,
/// so generic sqlx calls resolve to each driver's concrete types.
/// The page cache of each SQLite connection, in KiB (`PRAGMA cache_size` takes it negated).
pub(crate) const PAGE_CACHE_KIB: i64 = 65_536;

macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite($pool) => $body,
            $crate::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Store {
    /// The plan of `sql` with text arguments: PostgreSQL's `EXPLAIN` with sequential scans
    /// priced out (so a plan that can only scan says so even on a small test table), SQLite's
    /// `EXPLAIN QUERY PLAN`. For the tests that assert the hot paths use their indexes.
    pub(crate) async fn explain_text(&self, sql: &str, args: &[String], context: &'static str) -> StoreResult<String> {
        self.explain_with(sql, args, &[], context).await
    }

    /// [`Store::explain_text`], with more of PostgreSQL's plan types priced out
    /// (`enable_sort`, …): a plan that still holds one has no other way to answer.
    pub(crate) async fn explain_with(
        &self,
        sql: &str,
        args: &[String],
        priced_out: &[&str],
        context: &'static str,
    ) -> StoreResult<String> {
        let lines: Vec<String> = match self {
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await.context(context)?;
                sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await.context(context)?;
                for setting in priced_out {
                    sqlx::query(&format!("SET LOCAL {setting} = off")).execute(&mut *tx).await.context(context)?;
                }
                let explain = format!("EXPLAIN {sql}");
                let mut q = sqlx::query_scalar::<_, String>(&explain);
                for a in args {
                    q = q.bind(a);
                }
                let lines = q.fetch_all(&mut *tx).await.context(context)?;
                tx.rollback().await.context(context)?;
                lines
            }
            Store::Sqlite(pool) => {
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
                for a in args {
                    q = q.bind(a);
                }
                q.fetch_all(pool).await.context(context)?.into_iter().map(|r| r.3).collect()
            }
        };
        Ok(lines.join("\n"))
    }
}

/// A text for `LIKE … ESCAPE` with a backslash: its own backslashes, `%` and `_` match only themselves, and a NUL
/// (which PostgreSQL refuses in any text) is dropped.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\0' => continue,
            '\\' | '%' | '_' => out.push('\\'),
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Counts the rows a filter matches and fetches one page of them, binding the same arguments
/// (one or more lists, in placeholder order) to both statements. Used inside an `on_pool!` body.
macro_rules! count_and_list {
    ($pool:expr, $count_sql:expr, $list_sql:expr, $($args:expr),+) => {{
        let mut count = sqlx::query_scalar($count_sql);
        let mut list = sqlx::query_as($list_sql);
        $(
            for a in $args {
                count = count.bind(a);
                list = list.bind(a);
            }
        )+
        match count.fetch_one($pool).await {
            Ok(total) => list.fetch_all($pool).await.map(|rows| (total, rows)),
            Err(e) => Err(e),
        }
    }};
}
pub(crate) use count_and_list;

/// The text arguments of a WHERE clause built piece by piece: each bound value gives back its
/// `$n`, so that optional conditions can be added in any order with one SQL text per engine.
#[derive(Debug, Default)]
pub(crate) struct Binds(pub(crate) Vec<String>);

impl Binds {
    /// Binds one value; returns its placeholder.
    pub(crate) fn bind(&mut self, value: &str) -> String {
        self.0.push(value.to_owned());
        format!("${}", self.0.len())
    }

    /// `column >= $a AND column < $b` for a path range `[low, high)`.
    pub(crate) fn range(&mut self, column: &str, (low, high): &(String, String)) -> String {
        let (a, b) = (self.bind(low), self.bind(high));
        format!("{column} >= {a} AND {column} < {b}")
    }

    /// `$a, $b, …` for an `IN (…)` list.
    pub(crate) fn list(&mut self, values: &[String]) -> String {
        values.iter().map(|v| self.bind(v)).collect::<Vec<_>>().join(", ")
    }
}

/// A handle on the database; cheap to clone (the pools are reference-counted).
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    /// Opens the database the URL names, creating an SQLite file (and its folder) when missing.
    /// Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &DatabaseUrl) -> StoreResult<Store> {
        let fail = |source| StoreError::Connect { url: url.redacted(), source };
        match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| fail(sqlx::Error::Io(e)))?;
                }
                // WAL lets readers proceed while one writer writes; FULL sync makes a committed
                // transaction survive a power cut, not only a crash of the process.
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    // 64 MiB of page cache per connection instead of SQLite's 2 MiB: the records'
                    // indexes of a county do not fit in 2 MiB, and every miss is a read.
                    .pragma("cache_size", format!("-{PAGE_CACHE_KIB}"))
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(15))
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                Ok(Store::Sqlite(pool))
            }
            DatabaseUrl::Postgres(raw) => {
                let options: PgConnectOptions =
                    raw.parse::<PgConnectOptions>().map_err(fail)?.application_name("qipan");
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                Ok(Store::Postgres(pool))
            }
        }
    }

    /// A read replica of a PostgreSQL database: connected on first use (a replica down does
    /// not stop the installation from starting), with a short wait for a connection, so that a
    /// caller can turn to the primary quickly.
    pub fn connect_replica(url: &DatabaseUrl) -> StoreResult<Store> {
        let fail = |source| StoreError::Connect { url: url.redacted(), source };
        match url {
            DatabaseUrl::Postgres(raw) => {
                let options: PgConnectOptions =
                    raw.parse::<PgConnectOptions>().map_err(fail)?.application_name("qipan-replica");
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(2))
                    .connect_lazy_with(options);
                Ok(Store::Postgres(pool))
            }
            DatabaseUrl::Sqlite(_) => {
                Err(fail(sqlx::Error::Configuration("a read replica is a PostgreSQL database".into())))
            }
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Store::Sqlite(_) => Engine::Sqlite,
            Store::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies every migration not yet applied; a no-op when the schema is current.
    pub async fn migrate(&self) -> StoreResult<usize> {
        let (migrator, applied) = match self {
            Store::Sqlite(pool) => {
                let m = sqlx::migrate!("migrations/sqlite");
                let before = applied_count_sqlite(pool).await;
                m.run(pool).await?;
                (m, before)
            }
            Store::Postgres(pool) => {
                let m = sqlx::migrate!("migrations/postgres");
                let before = applied_count_pg(pool).await;
                m.run(pool).await?;
                (m, before)
            }
        };
        Ok(migrator.iter().count().saturating_sub(applied))
    }

    /// Answers when the database answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ())).context("pinging the database")
    }

    pub async fn close(&self) {
        // sqlx's `close` can return with a connection still open: one given back to the pool
        // after the close drained it (sqlx issue #3217). Closing again closes what came back,
        // so that a restore (which refuses a database in use) and SQLite's WAL clean-up see
        // the pool really gone.
        for _ in 0..50 {
            let open = on_pool!(self, pool => {
                pool.close().await;
                pool.size()
            });
            if open == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn applied_count_sqlite(pool: &SqlitePool) -> usize {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .map(|n| n as usize)
        .unwrap_or(0)
}

async fn applied_count_pg(pool: &PgPool) -> usize {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .map(|n| n as usize)
        .unwrap_or(0)
}

/// `(v1, v2, …)` with each value bound: an `IN` list.
pub(crate) fn push_list<'a, DB: sqlx::Database, T>(qb: &mut sqlx::QueryBuilder<'a, DB>, values: &'a [T])
where
    T: sqlx::Encode<'a, DB> + sqlx::Type<DB> + Clone + Send + 'a,
{
    qb.push("(");
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(v.clone());
    }
    list.push_unseparated(")");
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_match_their_wildcards_literally_and_lose_nul() {
        assert_eq!(super::escape_like(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(super::escape_like("新\0苑"), "新苑");
    }
}
