//! Large loads into a small table (the demo generator, a county's first legacy import): the
//! non-unique indexes of the records and of their name index (PostgreSQL's GIN) are dropped
//! before and built again after, one sorted pass each, instead of a random insert into each of
//! them for every row (the GIN index of 300,000 documents: 2.9 s built against 5.6 s for its
//! `COPY` with the index in place). Unique indexes stay: they are
//! the rules (one active record per ID number and unit) the load must not break. The dropped
//! definitions are recorded in `deferred_indexes` in the transaction that drops them, so a load
//! cut short leaves them to [`Store::build_deferred_indexes`] at the next start.

use chrono::{DateTime, NaiveDate, Utc};

use crate::case::CaseTx;
use crate::persons::{CHANGES, SealedFields};
use crate::{AuditDraft, Context, Engine, PersonFields, Store, StoreResult, on_pool, seal, search};

/// A load smaller than this share of the table keeps its indexes: inserting into a large index
/// costs less than building it again.
const REBUILD_WHEN_LOAD_EXCEEDS_TABLE: f64 = 0.5;
/// Below this, building indexes again is not worth the trouble.
const SMALL_LOAD: u64 = 50_000;

/// Pages of cache a bulk load's connection holds while it loads (1 GiB), and the log's pages
/// between its checkpoints (256 MiB).
const BULK_PAGE_CACHE_KIB: i64 = 1 << 20;
const BULK_CHECKPOINT_PAGES: i64 = 65_536;

/// People ready for a bulk load: their sealed columns and name-index documents made
/// beforehand, on the thread that makes the rows while the writer writes the batch before, so
/// that the one writer only writes.
pub struct BulkPeople {
    engine: Engine,
    rows: Vec<BulkPerson>,
}

struct BulkPerson {
    fields: PersonFields,
    registered_on: NaiveDate,
    /// Catalogue keys of the key-person reasons, comma-separated; empty: not a key person.
    key_reasons: String,
    sealed: SealedFields,
    document: String,
}

impl BulkPeople {
    /// `rows`: each record, the day it is registered, and its key-person reasons as
    /// `domain::sections::key_reasons` gives them (comma-separated; empty for none) — computed
    /// by the caller, so that no pass over the loaded records classifies them afterwards.
    pub fn prepare(
        engine: Engine,
        rows: impl IntoIterator<Item = (PersonFields, NaiveDate, String)>,
    ) -> StoreResult<BulkPeople> {
        let rows = rows
            .into_iter()
            .map(|(fields, registered_on, key_reasons)| {
                Ok(BulkPerson {
                    sealed: SealedFields::of(&fields)?,
                    document: search::document(engine, &fields.name, &fields.name_pinyin, &fields.name_initials),
                    fields,
                    registered_on,
                    key_reasons,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(BulkPeople { engine, rows })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Store {
    /// Before a load of `rows` records: drops the non-unique indexes of `persons` and
    /// `person_search` when the load is large against what the records hold. Returns the number of indexes deferred.
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
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('persons', 'person_search') \
                 AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name"
            }
            Store::Postgres(_) => {
                "SELECT CAST(indexname AS TEXT), indexdef FROM pg_indexes WHERE schemaname = current_schema() \
                 AND tablename IN ('persons', 'person_search') AND indexdef NOT LIKE 'CREATE UNIQUE%' ORDER BY indexname"
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

    /// Loads many records at once (the demo generator, later bulk imports) in one transaction,
    /// each record with its first history entry and its name in the index. On SQLite multi-row
    /// INSERTs: 29 columns × 1,000 rows stays under its 32,766 bind parameters; on PostgreSQL
    /// `COPY` (see [`bulk_copy_persons`]). Returns the ids in input order.
    pub async fn bulk_insert_persons(
        &self,
        people: &BulkPeople,
        actor_name: &str,
        now: DateTime<Utc>,
        audit: &AuditDraft,
    ) -> StoreResult<Vec<i64>> {
        let again;
        let people = if people.engine == self.engine() {
            people
        } else {
            let rows = people.rows.iter().map(|r| (r.fields.clone(), r.registered_on, r.key_reasons.clone()));
            again = BulkPeople::prepare(self.engine(), rows)?;
            &again
        };
        let rows = &people.rows;
        let pool = match self {
            Store::Postgres(pool) => return bulk_copy_persons(pool, rows, actor_name, now, audit).await,
            Store::Sqlite(pool) => pool,
        };
        // A large page cache for the load's transaction: the unique index of ID numbers takes
        // each row at a random place, and a page evicted and read again within the transaction
        // is written to the log again too. Checkpoints wait for the end of the load.
        let mut conn = pool.acquire().await.context("starting a bulk registration")?;
        let loaded = async {
            sqlx::query(&format!("PRAGMA cache_size = -{BULK_PAGE_CACHE_KIB}"))
                .execute(&mut *conn)
                .await
                .context("starting a bulk registration")?;
            sqlx::query(&format!("PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}"))
                .execute(&mut *conn)
                .await
                .context("starting a bulk registration")?;
            bulk_insert_sqlite(&mut conn, rows, actor_name, now, audit).await
        }
        .await;
        let reset = async {
            sqlx::query(&format!("PRAGMA cache_size = -{}", crate::PAGE_CACHE_KIB)).execute(&mut *conn).await?;
            sqlx::query("PRAGMA wal_autocheckpoint = 1000").execute(&mut *conn).await
        }
        .await;
        if reset.is_err() {
            // Not given back to the pool with a gigabyte of cache.
            conn.close_on_drop();
        }
        loaded
    }

    /// After a large write into maintained tables (a load's tasks derived, every record's
    /// quality checked): the planner's statistics of `tables` refreshed, and on PostgreSQL
    /// their pages marked all-visible so that counts read an index alone — the state
    /// autovacuum reaches a while later, before which the bench must not measure the pages
    /// that read them. `tables` are named by the code, never by a user.
    pub async fn settle(&self, tables: &[&'static str]) -> StoreResult<()> {
        if tables.is_empty() {
            // Not the whole database by mistake.
            return Ok(());
        }
        let sql = match self {
            Store::Sqlite(_) => tables.iter().map(|t| format!("ANALYZE {t};")).collect::<String>(),
            Store::Postgres(_) => format!("VACUUM (ANALYZE) {}", tables.join(", ")),
        };
        on_pool!(self, pool => sqlx::raw_sql(&sql).execute(pool).await.map(|_| ())).context("settling tables")
    }

    /// The names of the indexes `persons` and `person_search` have now, in order.
    pub async fn person_indexes(&self) -> StoreResult<Vec<String>> {
        let sql = match self {
            Store::Sqlite(_) => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('persons', 'person_search') \
                 ORDER BY name"
            }
            Store::Postgres(_) => {
                "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema() \
                 AND tablename IN ('persons', 'person_search') ORDER BY indexname"
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

/// The SQLite bulk load of [`Store::bulk_insert_persons`], on the connection it prepared: the
/// records and their documents by multi-row INSERTs, then the history in one statement over
/// the load's ids. (Dropping the records' row triggers for the load and writing what they
/// write in one statement each was measured and gained nothing: 58.4/57.0 s against 61.5/56.0 s
/// for 1M.)
async fn bulk_insert_sqlite(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Sqlite>,
    rows: &[BulkPerson],
    actor_name: &str,
    now: DateTime<Utc>,
    audit: &AuditDraft,
) -> StoreResult<Vec<i64>> {
    let mut tx = sqlx::Connection::begin(&mut **conn).await.context("starting a bulk registration")?;
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(1000) {
        let mut qb = sqlx::QueryBuilder::new(format!(
            "INSERT INTO persons ({}, created_at, updated_at, id_index, id_tail_index, key_person, key_reasons) ",
            crate::copy::PERSON_FIELD_COLUMNS
        ));
        qb.push_values(chunk, |mut b, r| {
            let s = &r.sealed;
            crate::copy::bind_person_fields(
                &mut b,
                &r.fields,
                s.id_number.as_deref(),
                s.phone.as_deref(),
                r.registered_on,
            );
            b.push_bind(now).push_bind(now).push_bind(&s.id_index).push_bind(&s.id_tail_index);
            b.push_bind(!r.key_reasons.is_empty()).push_bind(&r.key_reasons);
        });
        qb.push(" RETURNING id");
        let mut chunk_ids: Vec<i64> =
            qb.build_query_scalar().fetch_all(&mut *tx).await.context("registering people in bulk")?;
        // SQLite returns the ids of a multi-row INSERT in row order; sort to be sure.
        chunk_ids.sort_unstable();
        let mut sq = sqlx::QueryBuilder::new(search::SQLITE_BULK_INSERT_HEAD);
        sq.push_values(chunk_ids.iter().zip(chunk), |mut b, (id, r)| {
            b.push_bind(*id).push_bind(&r.document);
        });
        sq.build().execute(&mut *tx).await.context("indexing names in bulk")?;
        ids.extend(chunk_ids);
    }
    // The load holds the write lock from its first row on: every id between its least and its
    // greatest is one of its records.
    if let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) {
        let empty = seal::seal(CHANGES, "{}")?;
        sqlx::query(
            "INSERT INTO person_history (person_id, at, actor_name, action, changes, version) \
             SELECT id, $1, $2, 'person.generated', $3, 1 FROM persons WHERE id BETWEEN $4 AND $5 ORDER BY id",
        )
        .bind(now)
        .bind(actor_name)
        .bind(&empty)
        .bind(first)
        .bind(last)
        .execute(&mut *tx)
        .await
        .context("writing history in bulk")?;
    }
    tx.append_audit(audit).await?;
    tx.commit().await.context("committing a bulk registration")?;
    Ok(ids)
}

/// The PostgreSQL bulk load: ids drawn from the sequence first (`COPY` returns none), then one
/// `COPY` each into the records, their history and the name index, in one transaction.
async fn bulk_copy_persons(
    pool: &sqlx::PgPool,
    rows: &[BulkPerson],
    actor_name: &str,
    now: DateTime<Utc>,
    audit: &AuditDraft,
) -> StoreResult<Vec<i64>> {
    use crate::copy::CopyText;
    let mut tx = pool.begin().await.context("starting a bulk registration")?;
    let mut ids: Vec<i64> =
        sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('persons', 'id')) FROM generate_series(1, $1)")
            .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await
            .context("drawing record ids")?;
    ids.sort_unstable();
    let now_text = now.to_rfc3339();
    let (mut persons, mut history, mut names) = (CopyText::default(), CopyText::default(), CopyText::default());
    let empty = seal::seal(CHANGES, "{}")?;
    for (r, id) in rows.iter().zip(&ids) {
        let (f, s) = (&r.fields, &r.sealed);
        persons.plain(id);
        crate::copy::person_fields(&mut persons, f, s.id_number.as_deref(), s.phone.as_deref(), r.registered_on);
        persons.plain(&now_text).plain(&now_text).opt(s.id_index.as_deref()).opt(s.id_tail_index.as_deref());
        persons.plain(if r.key_reasons.is_empty() { "f" } else { "t" }).text(&r.key_reasons);
        persons.end_row();
        history.plain(id).plain(&now_text).text(actor_name).text("person.generated").text(&empty).plain(1);
        history.end_row();
        names.plain(id).text(&r.document);
        names.text(&f.name).text(&f.managing_path).text("active").plain(f.moved_on).plain(f.birth_date);
        names.end_row();
    }
    for (statement, data, context) in [
        (
            format!(
                "COPY persons (id, {}, created_at, updated_at, id_index, id_tail_index, key_person, key_reasons) \
                 FROM STDIN",
                crate::copy::PERSON_FIELD_COLUMNS
            ),
            persons,
            "registering people in bulk",
        ),
        (
            "COPY person_history (person_id, at, actor_name, action, changes, version) FROM STDIN".to_owned(),
            history,
            "writing history in bulk",
        ),
        (
            "COPY person_search (person_id, tokens, name, managing_path, status, moved_on, birth_date) FROM STDIN"
                .to_owned(),
            names,
            "indexing names in bulk",
        ),
    ] {
        let mut copy = tx.copy_in_raw(&statement).await.context(context)?;
        if let Err(e) = copy.send(data.into_bytes()).await {
            let _ = copy.abort("the bulk load failed").await;
            return Err(crate::StoreError::Query { context, source: e });
        }
        copy.finish().await.context(context)?;
    }
    tx.append_audit(audit).await?;
    tx.commit().await.context("committing a bulk registration")?;
    Ok(ids)
}
