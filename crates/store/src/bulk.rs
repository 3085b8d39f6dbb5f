//! Large loads into a small table (the demo generator, a county's first legacy import): the
//! records' non-unique indexes are dropped before and built again after, one sorted pass each,
//! instead of a random insert into each of them for every row. Unique indexes stay: they are
//! the rules (one active record per ID number and unit) the load must not break. The dropped
//! definitions are recorded in `deferred_indexes` in the transaction that drops them, so a load
//! cut short leaves them to [`Store::build_deferred_indexes`] at the next start.

use chrono::NaiveDate;

use crate::{Context, PersonFields, Store, StoreResult, on_pool};

/// A load smaller than this share of the table keeps its indexes: inserting into a large index
/// costs less than building it again.
const REBUILD_WHEN_LOAD_EXCEEDS_TABLE: f64 = 0.5;
/// Below this, building indexes again is not worth the trouble.
const SMALL_LOAD: u64 = 50_000;

impl Store {
    /// Before a load of `rows` records: drops the non-unique indexes of `persons` when the load
    /// is large against what the table holds. Returns the number of indexes deferred.
    pub async fn defer_person_indexes(&self, rows: u64) -> StoreResult<u64> {
        if rows < SMALL_LOAD {
            return Ok(0);
        }
        let held: i64 =
            on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM persons").fetch_one(pool).await)
                .context("counting records before a bulk load")?;
        if (rows as f64) < held as f64 * REBUILD_WHEN_LOAD_EXCEEDS_TABLE {
            return Ok(0);
        }
        let listing = match self {
            Store::Sqlite(_) => {
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'persons' \
                 AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name"
            }
            Store::Postgres(_) => {
                "SELECT CAST(indexname AS TEXT), indexdef FROM pg_indexes WHERE schemaname = current_schema() \
                 AND tablename = 'persons' AND indexdef NOT LIKE 'CREATE UNIQUE%' ORDER BY indexname"
            }
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("deferring indexes")?;
            let indexes: Vec<(String, String)> =
                sqlx::query_as(listing).fetch_all(&mut *tx).await.context("listing the records' indexes")?;
            for (name, definition) in &indexes {
                sqlx::query("INSERT INTO deferred_indexes (name, definition) VALUES ($1, $2)")
                    .bind(name).bind(definition).execute(&mut *tx).await.context("recording a deferred index")?;
                // The name comes from the catalogue, not from a user.
                sqlx::query(&format!("DROP INDEX \"{name}\""))
                    .execute(&mut *tx).await.context("dropping an index for a bulk load")?;
            }
            tx.commit().await.context("deferring indexes")?;
            Ok(indexes.len() as u64)
        })
    }

    /// Builds every deferred index again and forgets it, one transaction per index (so a stop
    /// half-way keeps the ones built). Returns the number built.
    pub async fn build_deferred_indexes(&self) -> StoreResult<u64> {
        let pending: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT name, definition FROM deferred_indexes ORDER BY name",
        ).fetch_all(pool).await)
        .context("reading the deferred indexes")?;
        for (name, definition) in &pending {
            on_pool!(self, pool => {
                let mut tx = pool.begin().await.context("building an index again")?;
                sqlx::query(definition).execute(&mut *tx).await.context("building an index again")?;
                sqlx::query("DELETE FROM deferred_indexes WHERE name = $1")
                    .bind(name).execute(&mut *tx).await.context("building an index again")?;
                tx.commit().await.context("building an index again")
            })?;
        }
        Ok(pending.len() as u64)
    }

    /// The names of the indexes `persons` has now, in order.
    pub async fn person_indexes(&self) -> StoreResult<Vec<String>> {
        let sql = match self {
            Store::Sqlite(_) => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'persons' ORDER BY name"
            }
            Store::Postgres(_) => {
                "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema() \
                 AND tablename = 'persons' ORDER BY indexname"
            }
        };
        on_pool!(self, pool => sqlx::query_scalar(sql).fetch_all(pool).await).context("listing the records' indexes")
    }

    /// The bench's floor for a bulk load: `rows` written as they come (nothing sealed, no
    /// history, no name index, no audit, no index, no trigger) into a scratch copy of the
    /// records' columns, by the engine's fastest plain path (multi-row INSERT in one
    /// transaction on SQLite, `COPY` on PostgreSQL). `drop_raw_load` removes the copy.
    pub async fn raw_load(&self, rows: &[(PersonFields, NaiveDate)]) -> StoreResult<()> {
        use crate::copy::PERSON_FIELD_COLUMNS as COLUMNS;
        let create = "CREATE TABLE IF NOT EXISTS bench_raw_persons AS SELECT * FROM persons WHERE 1 = 0";
        match self {
            Store::Sqlite(pool) => {
                let mut tx = pool.begin().await.context("a raw load")?;
                sqlx::query(create).execute(&mut *tx).await.context("a raw load")?;
                for chunk in rows.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO bench_raw_persons ({COLUMNS}) "));
                    qb.push_values(chunk, |mut b, (f, registered_on)| {
                        let (id_number, phone) = (f.id_number.as_deref(), f.phone.as_deref());
                        crate::copy::bind_person_fields(&mut b, f, id_number, phone, *registered_on);
                    });
                    qb.build().execute(&mut *tx).await.context("a raw load")?;
                }
                tx.commit().await.context("a raw load")
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await.context("a raw load")?;
                sqlx::query(create).execute(&mut *tx).await.context("a raw load")?;
                let mut data = crate::copy::CopyText::default();
                for (f, registered_on) in rows {
                    crate::copy::person_fields(
                        &mut data,
                        f,
                        f.id_number.as_deref(),
                        f.phone.as_deref(),
                        *registered_on,
                    );
                    data.end_row();
                }
                let mut copy = tx
                    .copy_in_raw(&format!("COPY bench_raw_persons ({COLUMNS}) FROM STDIN"))
                    .await
                    .context("a raw load")?;
                copy.send(data.into_bytes()).await.context("a raw load")?;
                copy.finish().await.context("a raw load")?;
                tx.commit().await.context("a raw load")
            }
        }
    }

    pub async fn drop_raw_load(&self) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("DROP TABLE IF EXISTS bench_raw_persons").execute(pool).await.map(|_| ()))
            .context("removing the raw load")?;
        Ok(())
    }
}
