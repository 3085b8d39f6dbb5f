//! Code tables in the database: seeded from the shipped data, maintained by the system
//! administrator.

use chrono::{DateTime, Utc};
use domain::codes::{CodeBook, CodeItem, CodeTable};

use crate::case::CaseTx;
use crate::{AuditDraft, Context, Store, StoreResult, on_pool};

/// Where a table's codes are used: `(table, column)` pairs (fixed names, never from input).
fn usages(table: CodeTable) -> &'static [(&'static str, &'static str)] {
    match table {
        CodeTable::Gender => &[("persons", "gender"), ("person_children", "gender")],
        CodeTable::Ethnicity => &[("persons", "ethnicity")],
        CodeTable::Education => &[("persons", "education")],
        CodeTable::MaritalStatus => &[("persons", "marital_status")],
        CodeTable::HukouType => &[("persons", "hukou_type")],
        CodeTable::MoveReason => &[("persons", "move_reason")],
        CodeTable::ContraceptionMethod => &[("person_services", "method")],
        CodeTable::Relationship => &[],
    }
}

/// A change to a code table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeChange {
    Add { zh: String, en: String },
    Rename { zh: String, en: String },
    SetActive(bool),
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeOutcome {
    Done,
    Exists,
    Missing,
    /// Shipped codes, and codes records hold, are never deleted.
    Kept,
}

impl Store {
    /// Adds the shipped codes that are not there yet (renames and deactivations stay).
    pub async fn seed_codes(&self, now: DateTime<Utc>) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting the code seed")?;
            for table in CodeTable::ALL {
                for (position, (code, zh, en)) in table.entries().into_iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO code_items (table_name, code, label_zh, label_en, active, shipped, position, updated_at) \
                         VALUES ($1, $2, $3, $4, TRUE, TRUE, $5, $6) ON CONFLICT (table_name, code) DO NOTHING",
                    )
                    .bind(table.as_str()).bind(code).bind(zh).bind(en).bind(position as i32).bind(now)
                    .execute(&mut *tx)
                    .await
                    .context("seeding a code")?;
                }
            }
            tx.commit().await.context("committing the code seed")?;
            Ok(())
        })
    }

    /// The code tables in force, in their order.
    pub async fn code_book(&self) -> StoreResult<(CodeBook, Vec<(CodeTable, String, bool)>)> {
        let rows: Vec<(String, String, String, String, bool, bool)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT table_name, code, label_zh, label_en, active, shipped FROM code_items ORDER BY table_name, position, code",
        )
        .fetch_all(pool)
        .await)
        .context("reading the code tables")?;
        let mut book = CodeBook::default();
        let mut shipped = Vec::new();
        for (table, code, zh, en, active, is_shipped) in rows {
            if let Some(t) = CodeTable::parse(&table) {
                shipped.push((t, code.clone(), is_shipped));
                book.insert(t, CodeItem { code, zh, en, active });
            }
        }
        Ok((book, shipped))
    }

    /// Applies a change to one code, with its audit entry.
    pub async fn change_code(
        &self,
        table: CodeTable,
        code: &str,
        change: &CodeChange,
        now: DateTime<Utc>,
        audit: &AuditDraft,
    ) -> StoreResult<CodeOutcome> {
        let in_use_sql: Vec<String> =
            usages(table).iter().map(|(t, c)| format!("SELECT 1 FROM {t} WHERE {c} = $1")).collect();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a code change")?;
            let existing: Option<bool> = sqlx::query_scalar("SELECT shipped FROM code_items WHERE table_name = $1 AND code = $2")
                .bind(table.as_str()).bind(code)
                .fetch_optional(&mut *tx)
                .await
                .context("reading a code")?;
            let outcome = match (change, existing) {
                (CodeChange::Add { .. }, Some(_)) => CodeOutcome::Exists,
                (CodeChange::Add { zh, en }, None) => {
                    let position: i32 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM code_items WHERE table_name = $1")
                        .bind(table.as_str()).fetch_one(&mut *tx).await.context("placing a code")?;
                    sqlx::query(
                        "INSERT INTO code_items (table_name, code, label_zh, label_en, active, shipped, position, updated_at) \
                         VALUES ($1, $2, $3, $4, TRUE, FALSE, $5, $6)",
                    )
                    .bind(table.as_str()).bind(code).bind(zh).bind(en).bind(position).bind(now)
                    .execute(&mut *tx).await.context("adding a code")?;
                    CodeOutcome::Done
                }
                (_, None) => CodeOutcome::Missing,
                (CodeChange::Rename { zh, en }, Some(_)) => {
                    sqlx::query("UPDATE code_items SET label_zh = $3, label_en = $4, updated_at = $5 WHERE table_name = $1 AND code = $2")
                        .bind(table.as_str()).bind(code).bind(zh).bind(en).bind(now)
                        .execute(&mut *tx).await.context("renaming a code")?;
                    CodeOutcome::Done
                }
                (CodeChange::SetActive(active), Some(_)) => {
                    sqlx::query("UPDATE code_items SET active = $3, updated_at = $4 WHERE table_name = $1 AND code = $2")
                        .bind(table.as_str()).bind(code).bind(*active).bind(now)
                        .execute(&mut *tx).await.context("switching a code")?;
                    CodeOutcome::Done
                }
                (CodeChange::Delete, Some(true)) => CodeOutcome::Kept,
                (CodeChange::Delete, Some(false)) => {
                    let mut used = false;
                    for sql in &in_use_sql {
                        used |= sqlx::query(sql).bind(code).fetch_optional(&mut *tx).await.context("checking a code's use")?.is_some();
                    }
                    if used {
                        CodeOutcome::Kept
                    } else {
                        sqlx::query("DELETE FROM code_items WHERE table_name = $1 AND code = $2")
                            .bind(table.as_str()).bind(code)
                            .execute(&mut *tx).await.context("deleting a code")?;
                        CodeOutcome::Done
                    }
                }
            };
            if outcome == CodeOutcome::Done {
                tx.append_audit(audit).await?;
            }
            tx.commit().await.context("committing a code change")?;
            Ok(outcome)
        })
    }
}
