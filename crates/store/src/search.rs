//! The name index: one token per character of a name plus its pinyin keys
//! (`domain::pinyin_index::search_tokens`), in `person_search` — an FTS5 table on SQLite, a
//! `tsvector` with a GIN index on PostgreSQL — so that a name search reads the index, not every
//! record of the subtree (docs/decisions/0018-name-index.md). Both engines are given their
//! documents and queries as literals built here, so that no text-search parser (and no locale)
//! decides what a token is.

use domain::pinyin_index::{NameQuery, search_tokens};

use crate::Engine;

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
    Some(match (NameQuery::parse(text)?, engine) {
        (NameQuery::Phrase(chars), Engine::Sqlite) => fts_quote(&chars.join(" ")),
        (NameQuery::Phrase(chars), Engine::Postgres) => {
            chars.iter().map(|c| pg_quote(c)).collect::<Vec<_>>().join(" <-> ")
        }
        (NameQuery::Prefix(p), Engine::Sqlite) => format!("{}*", fts_quote(&p)),
        (NameQuery::Prefix(p), Engine::Postgres) => format!("{}:*", pg_quote(&p)),
    })
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
        Engine::Postgres => "INSERT INTO person_search (person_id, tokens) VALUES ($1, CAST($2 AS tsvector))",
    }
}

/// The head of a multi-row insert of documents (`(id, document)` rows follow).
pub(crate) fn bulk_insert_head(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "INSERT INTO person_search (rowid, tokens) ",
        Engine::Postgres => "INSERT INTO person_search (person_id, tokens) ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_queries_are_literals_that_no_parser_splits_differently() {
        assert_eq!(document(Engine::Sqlite, "张丽", " zhangli ", " zl "), "张 丽 zhangli zl");
        assert_eq!(document(Engine::Postgres, "张丽", " zhangli ", " zl "), "'张':1 '丽':2 'zhangli':3 'zl':4");
        assert_eq!(
            document(Engine::Postgres, "O'Neil", " oneil ", " o "),
            "'o':1 '''':2 'n':3 'e':4 'i':5 'l':6 'oneil':7 'o':8"
        );
        assert_eq!(query(Engine::Sqlite, "张丽").as_deref(), Some("\"张 丽\""));
        assert_eq!(query(Engine::Postgres, "张丽").as_deref(), Some("'张' <-> '丽'"));
        assert_eq!(query(Engine::Sqlite, "zhangl").as_deref(), Some("\"zhangl\"*"));
        assert_eq!(query(Engine::Postgres, "ZL").as_deref(), Some("'zl':*"));
        assert_eq!(query(Engine::Sqlite, "a\"b").as_deref(), Some("\"a \"\" b\""));
        assert_eq!(query(Engine::Postgres, " "), None);
    }
}
