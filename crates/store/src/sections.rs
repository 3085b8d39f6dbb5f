//! The repeated sections of a personal record, stored one table each; the tables and columns
//! come from `domain::sections` (fixed names, never from input).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::sections::{Entry, FieldKind, Section, Value};
use sqlx::Row;

use crate::case::CaseTx;
use crate::keys::column;
use crate::persons::write_history;
use crate::seal;
use crate::{AuditDraft, Context, Store, StoreResult, on_pool};

/// One stored entry of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRow {
    pub id: i64,
    pub values: BTreeMap<&'static str, Value>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

fn columns(section: Section) -> String {
    section.fields().iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

/// Sections whose rows carry the managing path of their person, so that the clerk's day reads
/// them by unit: they make the work of the day (open pregnancies, births, certificates).
pub(crate) const UNIT_SECTIONS: [Section; 3] = [Section::Pregnancies, Section::Children, Section::Certificates];

fn carries_unit(section: Section) -> bool {
    UNIT_SECTIONS.contains(&section)
}

impl Store {
    /// Adds an entry, its history line and its audit entry, in one transaction.
    #[expect(clippy::too_many_arguments, reason = "the entry, and its history and audit")]
    pub async fn add_entry(
        &self,
        section: Section,
        person_id: i64,
        entry: &Entry,
        actor_name: &str,
        now: DateTime<Utc>,
        changes: &str,
        audit: &AuditDraft,
    ) -> StoreResult<i64> {
        let fields = section.fields();
        let placeholders: Vec<String> = (3..3 + fields.len()).map(|i| format!("${i}")).collect();
        // The sections that make work carry their person's unit (migration 23).
        let (unit_column, unit_value) = if carries_unit(section) {
            (", managing_path", ", (SELECT p.managing_path FROM persons p WHERE p.id = $1)")
        } else {
            ("", "")
        };
        let sql = format!(
            "INSERT INTO {} (person_id, created_at, {}, created_by{unit_column}) VALUES ($1, $2, {}, ${}{unit_value}) RETURNING id",
            section.table(),
            columns(section),
            placeholders.join(", "),
            3 + fields.len()
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a section entry")?;
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(person_id).bind(now);
            for f in fields {
                q = match entry.get(f.name) {
                    Some(Value::Text(v)) if f.sealed => {
                        q.bind(seal::seal_opt(&column(section.table(), f.name), v.as_deref())?)
                    }
                    Some(Value::Text(v)) => q.bind(v.clone()),
                    Some(Value::Date(v)) => q.bind(*v),
                    Some(Value::Number(v)) => q.bind(*v),
                    None => q.bind(Option::<String>::None),
                };
            }
            let id = q.bind(actor_name).fetch_one(&mut *tx).await.context("adding a section entry")?;
            write_history!(tx, person_id, now, actor_name, format!("person.{}.add", section.as_str()), changes);
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a section entry")?;
            Ok(id)
        })
    }

    /// A person's entries of one section, oldest first.
    pub async fn entries(&self, section: Section, person_id: i64) -> StoreResult<Vec<SectionRow>> {
        let sql = format!(
            "SELECT id, created_at, created_by, {} FROM {} WHERE person_id = $1 ORDER BY id",
            columns(section),
            section.table()
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(person_id).fetch_all(pool).await.context("reading section entries")?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut values = BTreeMap::new();
                for f in section.fields() {
                    let v = match f.kind {
                        FieldKind::Date => Value::Date(row.try_get::<Option<NaiveDate>, _>(f.name).context("reading a date")?),
                        FieldKind::Number { .. } => Value::Number(row.try_get::<Option<i64>, _>(f.name).context("reading a number")?),
                        _ if f.sealed => Value::Text(seal::unseal_opt(
                            &column(section.table(), f.name),
                            row.try_get::<Option<String>, _>(f.name).context("reading a text")?,
                        )?),
                        _ => Value::Text(row.try_get::<Option<String>, _>(f.name).context("reading a text")?),
                    };
                    values.insert(f.name, v);
                }
                out.push(SectionRow {
                    id: row.try_get("id").context("reading an id")?,
                    values,
                    created_at: row.try_get("created_at").context("reading a time")?,
                    created_by: row.try_get("created_by").context("reading a name")?,
                });
            }
            Ok(out)
        })
    }

    /// Closes an open pregnancy with its outcome. False when it is not open (or not hers).
    #[expect(clippy::too_many_arguments, reason = "the fields of a closing, and its history and audit")]
    pub async fn close_pregnancy(
        &self,
        person_id: i64,
        pregnancy_id: i64,
        outcome: &str,
        ended_on: NaiveDate,
        actor_name: &str,
        now: DateTime<Utc>,
        changes: &str,
        audit: &AuditDraft,
    ) -> StoreResult<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a pregnancy closing")?;
            let n = sqlx::query(
                "UPDATE person_pregnancies SET outcome = $1, ended_on = $2 WHERE id = $3 AND person_id = $4 AND outcome IS NULL",
            )
            .bind(outcome).bind(ended_on).bind(pregnancy_id).bind(person_id)
            .execute(&mut *tx)
            .await
            .context("closing a pregnancy")?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            write_history!(tx, person_id, now, actor_name, "person.pregnancies.close", changes);
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a pregnancy closing")?;
            Ok(true)
        })
    }

    /// Stores the key-person classification computed by the service.
    pub async fn set_key_person(&self, person_id: i64, key: bool, reasons: &str) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("UPDATE persons SET key_person = $1, key_reasons = $2 WHERE id = $3")
            .bind(key)
            .bind(reasons)
            .bind(person_id)
            .execute(pool)
            .await
            .map(|_| ()))
        .context("classifying a key person")
    }

    /// People whose key-person reasons may have changed with the date alone, for the daily
    /// reclassification: women of 15–49 (born in `(born_after, born_on_or_before]`) whose last
    /// certificate ran out before `today`, people classified "without certificate" who are no
    /// longer 15–49, and everyone classified "gave birth this year" (a new year ends it).
    pub async fn date_sensitive_key_persons(
        &self,
        born_after: NaiveDate,
        born_on_or_before: NaiveDate,
        today: NaiveDate,
        limit: i64,
    ) -> StoreResult<Vec<i64>> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM persons WHERE status = 'active' AND ( \
               (gender = '2' AND birth_date > $1 AND birth_date <= $2 AND key_reasons NOT LIKE '%key.no_certificate%' \
                AND id NOT IN (SELECT person_id FROM person_certificates WHERE valid_until IS NULL OR valid_until >= $3)) \
               OR (key_reasons LIKE '%key.no_certificate%' AND (birth_date <= $1 OR birth_date > $2)) \
               OR key_reasons LIKE '%key.birth_this_year%') \
             ORDER BY id LIMIT $4",
        )
        .bind(born_after)
        .bind(born_on_or_before)
        .bind(today)
        .bind(limit)
        .fetch_all(pool)
        .await)
        .context("finding key persons to reclassify")
    }
}
