//! Which keys a database's values are sealed under, and the sealing pass that re-seals every
//! sealed column under the current key: after a rotation, and once for values written before
//! sealing existed. The pass walks each table by id in batches; a batch and its progress commit
//! together, so a pass killed at any moment resumes at the first batch it had not finished.

use chrono::{DateTime, Utc};
use domain::sections::Section;

use crate::seal::{self, sealed_under};
use crate::{Context, Store, StoreResult, on_pool};

/// A table with sealed columns.
#[derive(Debug, Clone)]
pub struct SealedTable {
    pub table: &'static str,
    /// The integer primary key the pass walks by.
    pub key: &'static str,
    pub columns: Vec<&'static str>,
}

/// Every sealed column, by table, in the order a pass visits them.
pub fn sealed_tables() -> Vec<SealedTable> {
    let mut out = vec![
        SealedTable { table: "persons", key: "id", columns: vec!["id_number", "phone"] },
        SealedTable { table: "person_history", key: "id", columns: vec!["changes"] },
    ];
    for section in Section::ALL {
        let columns: Vec<&'static str> = section.fields().iter().filter(|f| f.sealed).map(|f| f.name).collect();
        if !columns.is_empty() {
            out.push(SealedTable { table: section.table(), key: "id", columns });
        }
    }
    out.push(SealedTable { table: "exchange_items", key: "id", columns: vec!["person_id_number"] });
    out.push(SealedTable { table: "account_factors", key: "account_id", columns: vec!["secret"] });
    out
}

/// The name a sealed column's values are bound to.
pub(crate) fn column(table: &str, column: &str) -> String {
    format!("{table}.{column}")
}

/// A key the database knows of.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecordedKey {
    pub id: String,
    pub fingerprint: String,
    pub retired_at: Option<DateTime<Utc>>,
}

/// How far a pass has come through one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassProgress {
    pub table: &'static str,
    /// Rows of this table visited so far in this run.
    pub done: u64,
    /// Rows of this table left when this run reached it.
    pub total: u64,
    /// Values re-sealed so far in this run, all tables.
    pub resealed: u64,
}

impl Store {
    pub async fn recorded_keys(&self) -> StoreResult<Vec<RecordedKey>> {
        on_pool!(self, pool => sqlx::query_as("SELECT id, fingerprint, retired_at FROM data_keys ORDER BY added_at, id")
            .fetch_all(pool).await)
        .context("reading the data keys")
    }

    /// Records a key the keyring holds and the database does not know yet.
    pub async fn record_key(&self, id: &str, fingerprint: &str, now: DateTime<Utc>) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO data_keys (id, fingerprint, added_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id).bind(fingerprint).bind(now)
        .execute(pool).await.map(|_| ()))
        .context("recording a data key")
    }

    /// True when a pass has tables left to go through.
    pub async fn seal_pass_pending(&self) -> StoreResult<bool> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM seal_pass").fetch_one(pool).await)
            .context("reading the sealing pass")?;
        Ok(n > 0)
    }

    /// Starts a pass over every sealed table (a table already in an unfinished pass keeps its place).
    pub async fn begin_seal_pass(&self) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a sealing pass")?;
            for t in sealed_tables() {
                sqlx::query("INSERT INTO seal_pass (table_name, last_id) VALUES ($1, 0) ON CONFLICT (table_name) DO NOTHING")
                    .bind(t.table).execute(&mut *tx).await.context("starting a sealing pass")?;
            }
            tx.commit().await.context("starting a sealing pass")
        })
    }

    /// Re-seals, under the current key, every value of the pass's tables that is in clear or
    /// under another key, `batch` rows per transaction. When it ends, keys no value is sealed
    /// under any more are marked retired.
    pub async fn run_seal_pass(
        &self,
        batch: u32,
        now: DateTime<Utc>,
        progress: &mut (dyn FnMut(&PassProgress) + Send),
    ) -> StoreResult<u64> {
        let ring = seal::keyring()?;
        let current = ring.current_id().to_owned();
        let mut resealed = 0u64;
        for t in sealed_tables() {
            let last: Option<i64> =
                on_pool!(self, pool => sqlx::query_scalar("SELECT last_id FROM seal_pass WHERE table_name = $1")
                .bind(t.table).fetch_optional(pool).await)
                .context("reading the sealing pass")?;
            let Some(mut last) = last else { continue };
            let count_sql = format!("SELECT COUNT(*) FROM {} WHERE {} > $1", t.table, t.key);
            let total: i64 = on_pool!(self, pool => sqlx::query_scalar(&count_sql).bind(last).fetch_one(pool).await)
                .context("counting a sealed table")?;
            let mut state = PassProgress { table: t.table, done: 0, total: total.max(0) as u64, resealed };
            progress(&state);
            let select = format!(
                "SELECT {key}, {} FROM {} WHERE {key} > $1 ORDER BY {key} LIMIT {batch}",
                t.columns.join(", "),
                t.table,
                key = t.key
            );
            loop {
                let rows: Vec<(i64, Vec<Option<String>>)> = on_pool!(self, pool => {
                    use sqlx::Row;
                    let rows = sqlx::query(&select).bind(last).fetch_all(pool).await.context("reading a batch to seal")?;
                    let mut out = Vec::with_capacity(rows.len());
                    for r in rows {
                        let mut values = Vec::with_capacity(t.columns.len());
                        for i in 0..t.columns.len() {
                            values.push(r.try_get::<Option<String>, _>(i + 1).context("reading a sealed value")?);
                        }
                        out.push((r.try_get::<i64, _>(0).context("reading an id")?, values));
                    }
                    Ok::<_, crate::StoreError>(out)
                })?;
                let Some(&(end, _)) = rows.last() else { break };
                let mut changed: Vec<(i64, Vec<Option<String>>)> = Vec::new();
                for (id, values) in &rows {
                    if values.iter().flatten().all(|v| sealed_under(v) == Some(current.as_str())) {
                        continue;
                    }
                    let mut plain = Vec::with_capacity(values.len());
                    for (c, v) in t.columns.iter().zip(values) {
                        plain.push(seal::unseal_opt(&column(t.table, c), v.clone())?);
                    }
                    changed.push((*id, plain));
                }
                let mut sealed: Vec<(i64, Vec<Option<String>>)> = Vec::with_capacity(changed.len());
                let mut indexes: Vec<(Option<String>, Option<String>)> = Vec::with_capacity(changed.len());
                for (id, plain) in &changed {
                    let mut out = Vec::with_capacity(plain.len());
                    for (c, v) in t.columns.iter().zip(plain) {
                        out.push(seal::seal_opt(&column(t.table, c), v.as_deref())?);
                    }
                    if t.table == "persons" {
                        indexes.push(match &plain[0] {
                            Some(n) => (Some(seal::id_index(n)?), Some(seal::id_tail_index(n)?)),
                            None => (None, None),
                        });
                    }
                    sealed.push((*id, out));
                }
                on_pool!(self, pool => {
                    let mut tx = pool.begin().await.context("starting a sealing batch")?;
                    if !sealed.is_empty() {
                        let mut qb = sqlx::QueryBuilder::new(format!("UPDATE {} SET ", t.table));
                        let mut sets: Vec<String> =
                            t.columns.iter().enumerate().map(|(i, c)| format!("{c} = v.column{}", i + 2)).collect();
                        if t.table == "persons" {
                            let n = t.columns.len() + 2;
                            sets.push(format!("id_index = v.column{n}, id_tail_index = v.column{}", n + 1));
                        }
                        qb.push(sets.join(", "));
                        qb.push(" FROM (");
                        qb.push_values(sealed.iter().enumerate(), |mut b, (i, (id, values))| {
                            b.push_bind(*id);
                            for v in values {
                                b.push_bind(v.clone());
                            }
                            if let Some((full, tail)) = indexes.get(i) {
                                b.push_bind(full.clone()).push_bind(tail.clone());
                            }
                        });
                        qb.push(format!(") AS v WHERE {}.{} = v.column1", t.table, t.key));
                        qb.build().execute(&mut *tx).await.context("re-sealing a batch")?;
                    }
                    sqlx::query("UPDATE seal_pass SET last_id = $1 WHERE table_name = $2")
                        .bind(end).bind(t.table).execute(&mut *tx).await.context("recording the sealing pass")?;
                    tx.commit().await.context("committing a sealing batch")
                })?;
                resealed += sealed.iter().map(|(_, v)| v.iter().flatten().count() as u64).sum::<u64>();
                last = end;
                state.done += rows.len() as u64;
                state.resealed = resealed;
                progress(&state);
            }
            on_pool!(self, pool => sqlx::query("DELETE FROM seal_pass WHERE table_name = $1").bind(t.table).execute(pool).await.map(|_| ()))
                .context("finishing a sealed table")?;
        }
        on_pool!(self, pool => sqlx::query(
            "UPDATE data_keys SET retired_at = $1 WHERE id <> $2 AND id <> 'index' AND retired_at IS NULL",
        )
        .bind(now).bind(&current).execute(pool).await.map(|_| ()))
        .context("retiring old keys")?;
        Ok(resealed)
    }
}
