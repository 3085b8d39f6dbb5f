//! The name index: one token per character of a name plus its pinyin keys
//! (`domain::pinyin_index::search_tokens`), in `person_search` — an FTS5 table on SQLite, a
//! `tsvector` with a GIN index on PostgreSQL — so that a name search reads the index, not every
//! record of the subtree (docs/decisions/0018-name-index.md). Both engines are given their
//! documents and queries as literals built here, so that no text-search parser (and no locale)
//! decides what a token is.

use domain::pinyin_index::{NameQuery, search_tokens};

use crate::{Context, Engine, Store, StoreResult, on_pool};

/// The documents' form this build writes: 1 the characters and keys, 2 with the bigrams, 3 with
/// the head tokens.
const NAME_INDEX_VERSION: i32 = 3;

/// A record as the re-index reads it: id, name, pinyin, initials, then what PostgreSQL's rows
/// hold beside the document (unit, state, move, birth).
type IndexedRecord = (i64, String, String, String, String, String, chrono::NaiveDate, chrono::NaiveDate);

impl Store {
    /// Writes again, `batch` records per transaction, the name-index documents of the records
    /// indexed by an earlier form of the documents (migration 30), resuming where an interrupted
    /// run stopped. Returns how many records were indexed again; 0 once the index is current.
    pub async fn upgrade_name_index(&self, batch: u32) -> StoreResult<u64> {
        let engine = self.engine();
        let mut done = 0u64;
        loop {
            let finished = on_pool!(self, pool => {
                let mut tx = pool.begin().await.context("indexing names again")?;
                let (version, after): (i32, i64) =
                    sqlx::query_as("SELECT version, after_id FROM name_index_state WHERE id = 1")
                        .fetch_one(&mut *tx).await.context("reading the name index's state")?;
                if version >= NAME_INDEX_VERSION {
                    return Ok(done);
                }
                let rows: Vec<IndexedRecord> = sqlx::query_as(
                    "SELECT id, name, name_pinyin, name_initials, managing_path, status, moved_on, birth_date \
                     FROM persons WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after).bind(i64::from(batch))
                .fetch_all(&mut *tx).await.context("indexing names again")?;
                let last = rows.last().map(|r| r.0);
                if !rows.is_empty() {
                    let (first, end) = (rows[0].0, rows[rows.len() - 1].0);
                    let delete = match engine {
                        Engine::Sqlite => "DELETE FROM person_search WHERE rowid BETWEEN $1 AND $2",
                        Engine::Postgres => "DELETE FROM person_search WHERE person_id BETWEEN $1 AND $2",
                    };
                    sqlx::query(delete).bind(first).bind(end)
                        .execute(&mut *tx).await.context("indexing names again")?;
                    for chunk in rows.chunks(5_000) {
                        let head = match engine {
                            Engine::Sqlite => SQLITE_BULK_INSERT_HEAD,
                            Engine::Postgres => POSTGRES_BULK_INSERT_HEAD,
                        };
                        let mut q = sqlx::QueryBuilder::new(head);
                        q.push_values(chunk, |mut b, (id, name, pinyin, initials, managing_path, status, moved_on, birth)| {
                            b.push_bind(*id);
                            let d = document(engine, name, pinyin, initials);
                            match engine {
                                Engine::Sqlite => {
                                    b.push_bind(d);
                                }
                                Engine::Postgres => {
                                    b.push("CAST(").push_bind_unseparated(d).push_unseparated(" AS tsvector)");
                                    b.push_bind(name).push_bind(managing_path).push_bind(status);
                                    b.push_bind(*moved_on).push_bind(*birth);
                                }
                            };
                        });
                        q.build().execute(&mut *tx).await.context("indexing names again")?;
                    }
                }
                let (version, after) = match last {
                    Some(id) => (version, id),
                    None => (NAME_INDEX_VERSION, 0),
                };
                sqlx::query("UPDATE name_index_state SET version = $1, after_id = $2 WHERE id = 1")
                    .bind(version).bind(after)
                    .execute(&mut *tx).await.context("indexing names again")?;
                tx.commit().await.context("indexing names again")?;
                done += rows.len() as u64;
                Ok::<bool, crate::StoreError>(last.is_none())
            })?;
            if finished {
                return Ok(done);
            }
        }
    }
}

/// The document of one name, as the engine's index takes it.
pub(crate) fn document(engine: Engine, name: &str, pinyin: &str, initials: &str) -> String {
    let tokens = search_tokens(name, pinyin, initials);
    match engine {
        // FTS5's unicode61 tokenizer splits at the spaces; a character is a token of its own.
        Engine::Sqlite => tokens.join(" "),
        // A tsvector literal: each token quoted, with its position.
        Engine::Postgres => {
            tokens.iter().enumerate().map(|(i, t)| format!("{}:{}", pg_quote(t), i + 1)).collect::<Vec<_>>().join(" ")
        }
    }
}

fn pg_quote(token: &str) -> String {
    format!("'{}'", token.replace('\\', "\\\\").replace('\'', "''"))
}

fn fts_quote(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// The index query of what a clerk typed, as the engine's index takes it; `None` when nothing
/// searchable is left.
pub(crate) fn query(engine: Engine, text: &str) -> Option<String> {
    let query = NameQuery::parse(text)?;
    // Two ideographs or more: their bigrams, whose lists hold only the names with the pair.
    let query = query.bigrams().map_or(query, NameQuery::Phrase);
    Some(match (query, engine) {
        (NameQuery::Phrase(chars), Engine::Sqlite) => fts_quote(&chars.join(" ")),
        (NameQuery::Phrase(chars), Engine::Postgres) => {
            chars.iter().map(|c| pg_quote(c)).collect::<Vec<_>>().join(" <-> ")
        }
        (NameQuery::Prefix(p), Engine::Sqlite) => format!("{}*", fts_quote(&p)),
        (NameQuery::Prefix(p), Engine::Postgres) => format!("{}:*", pg_quote(&p)),
    })
}

/// A name search's text split at the start of the name (decision 0028): the names that start
/// with it are `low <= name < high` (the code-point order both engines sort names in), the other
/// matches are the index query `others`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameHead {
    pub low: String,
    pub high: String,
    pub others: String,
}

/// The head of what a clerk typed, when it has one ([`NameQuery::head`]).
pub(crate) fn head(engine: Engine, text: &str) -> Option<NameHead> {
    let domain::pinyin_index::Head { text: low, token, inner } = NameQuery::parse(text)?.head()?;
    // One character: the names holding it after their first character; more: the phrase.
    let matched = match inner {
        Some(inner) => match engine {
            Engine::Sqlite => fts_quote(&inner),
            Engine::Postgres => pg_quote(&inner),
        },
        None => query(engine, text)?,
    };
    // The first string after every string that starts with `low`: its last character's successor
    // (an ideograph's successor is a character, never a surrogate).
    let mut chars: Vec<char> = low.chars().collect();
    let last = chars.pop()?;
    let high: String = chars.into_iter().chain(char::from_u32(u32::from(last) + 1)).collect();
    let others = match engine {
        Engine::Sqlite => format!("{matched} NOT {}", fts_quote(&token)),
        Engine::Postgres => format!("({matched}) & !{}", pg_quote(&token)),
    };
    Some(NameHead { low, high, others })
}

/// The condition on `p.id` that a name matches the query bound at `placeholder`.
pub(crate) fn matches(engine: Engine, placeholder: &str, walking: bool) -> String {
    match engine {
        // Walking the sort order's index, the matches are a set each row is looked up in (`+`
        // keeps SQLite from reading the rows by the set instead).
        Engine::Sqlite if walking => {
            format!("+p.id IN (SELECT rowid FROM person_search WHERE person_search MATCH {placeholder})")
        }
        Engine::Sqlite => {
            format!("p.id IN (SELECT rowid FROM person_search WHERE person_search MATCH {placeholder})")
        }
        Engine::Postgres => {
            format!("p.id IN (SELECT person_id FROM person_search WHERE tokens @@ CAST({placeholder} AS tsquery))")
        }
    }
}

/// The condition that a row of PostgreSQL's name index itself, named `p`, matches the query
/// bound at `placeholder` (decision 0029).
pub(crate) fn matches_here(placeholder: &str) -> String {
    format!("p.tokens @@ CAST({placeholder} AS tsquery)")
}

/// Removes a record's document (`$1`: its id).
pub(crate) fn delete_sql(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "DELETE FROM person_search WHERE rowid = $1",
        Engine::Postgres => "DELETE FROM person_search WHERE person_id = $1",
    }
}

/// Adds a record's document (`$1`: its id, `$2`: the document).
pub(crate) fn insert_sql(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "INSERT INTO person_search (rowid, tokens) VALUES ($1, $2)",
        // The record's unit, state and sort keys beside its document (decision 0029), as written.
        Engine::Postgres => {
            "INSERT INTO person_search (person_id, tokens, name, managing_path, status, moved_on, birth_date) \
             SELECT id, CAST($2 AS tsvector), name, managing_path, status, moved_on, birth_date FROM persons WHERE id = $1"
        }
    }
}

/// The head of a multi-row insert of documents on SQLite (`(id, document)` rows follow).
pub(crate) const SQLITE_BULK_INSERT_HEAD: &str = "INSERT INTO person_search (rowid, tokens) ";

/// The head of a multi-row insert of documents on PostgreSQL (`(id, document, name,
/// managing_path, status, moved_on, birth_date)` rows follow, the document cast to a `tsvector`).
const POSTGRES_BULK_INSERT_HEAD: &str =
    "INSERT INTO person_search (person_id, tokens, name, managing_path, status, moved_on, birth_date) ";

/// What PostgreSQL's name index rows hold beside the document, named as the records' columns
/// (decision 0029): a search whose filter asks nothing else reads its matches here alone.
pub(crate) const POSTGRES_INDEX_ROWS: &str = " FROM (SELECT person_id AS id, name, managing_path, status, moved_on, \
     birth_date, tokens FROM person_search) p";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_queries_are_literals_that_no_parser_splits_differently() {
        assert_eq!(document(Engine::Sqlite, "张丽", " zhangli ", " zl "), "张 丽 zhangli zl 张丽 0张 0张丽 1丽");
        assert_eq!(
            document(Engine::Postgres, "张丽", " zhangli ", " zl "),
            "'张':1 '丽':2 'zhangli':3 'zl':4 '张丽':5 '0张':6 '0张丽':7 '1丽':8"
        );
        assert_eq!(
            document(Engine::Postgres, "O'Neil", " oneil ", " o "),
            "'o':1 '''':2 'n':3 'e':4 'i':5 'l':6 'oneil':7 'o':8"
        );
        assert_eq!(
            document(Engine::Sqlite, "王小丽", " wangxiaoli ", " wxl "),
            "王 小 丽 wangxiaoli wxl 王小 小丽 0王 0王小 0王小丽 1小 1丽"
        );
        assert_eq!(query(Engine::Sqlite, "张丽").as_deref(), Some("\"张丽\""));
        assert_eq!(query(Engine::Postgres, "张丽").as_deref(), Some("'张丽'"));
        assert_eq!(query(Engine::Sqlite, "王小丽").as_deref(), Some("\"王小 小丽\""));
        assert_eq!(query(Engine::Postgres, "王小丽").as_deref(), Some("'王小' <-> '小丽'"));
        // A text with a head: the names from it up to its last character's successor, and the
        // other matches without the head token.
        let head = head(Engine::Sqlite, "王小丽").unwrap();
        assert_eq!((head.low.as_str(), head.high.as_str()), ("王小丽", "王小举"));
        assert_eq!(head.others, "\"王小 小丽\" NOT \"0王小丽\"");
        assert_eq!(super::head(Engine::Postgres, "李").unwrap().others, "('1李') & !'0李'");
        assert_eq!(super::head(Engine::Sqlite, "李").unwrap().others, "\"1李\" NOT \"0李\"");
        assert_eq!(super::head(Engine::Sqlite, "li"), None);
        assert_eq!(query(Engine::Sqlite, "张").as_deref(), Some("\"张\""));
        assert_eq!(query(Engine::Postgres, "张2").as_deref(), Some("'张' <-> '2'"));
        assert_eq!(query(Engine::Sqlite, "zhangl").as_deref(), Some("\"zhangl\"*"));
        assert_eq!(query(Engine::Postgres, "ZL").as_deref(), Some("'zl':*"));
        assert_eq!(query(Engine::Sqlite, "a\"b").as_deref(), Some("\"a \"\" b\""));
        assert_eq!(query(Engine::Postgres, " "), None);
    }
}
