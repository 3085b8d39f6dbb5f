//! The database URL: which engine, and where.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a database URL starts with sqlite: or postgres://; `{0}` does not")]
pub struct DatabaseUrlError(pub String);

/// Where the data lives. A PostgreSQL URL may hold a password: print it only through
/// [`DatabaseUrl::redacted`].
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite:PATH`, `sqlite://PATH` and `postgres://…` / `postgresql://…`.
    pub fn parse(raw: &str) -> Result<DatabaseUrl, DatabaseUrlError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            if ::url::Url::parse(raw).is_err() {
                return Err(DatabaseUrlError(redact(raw)));
            }
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or("");
            if !path.is_empty() {
                return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
            }
        }
        Err(DatabaseUrlError(redact(raw)))
    }

    /// The SQLite file inside a data directory: the embedded default.
    pub fn sqlite_in(data_dir: &Path) -> DatabaseUrl {
        DatabaseUrl::Sqlite(data_dir.join("qipan.db"))
    }

    /// The URL with any password replaced by `***`, for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            DatabaseUrl::Postgres(raw) => redact(raw),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact(raw: &str) -> String {
    match ::url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        // Not a URL at all: it may still hold a secret, so show only its scheme-like start.
        Err(_) => raw.split("://").next().map(|s| format!("{s}://…")).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_told_apart_by_scheme() {
        assert_eq!(DatabaseUrl::parse("sqlite:data/q.db").unwrap(), DatabaseUrl::Sqlite("data/q.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/q.db").unwrap(), DatabaseUrl::Sqlite("/tmp/q.db".into()));
        assert!(matches!(DatabaseUrl::parse("postgres://u@localhost/q"), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgresql://u@localhost/q"), Ok(DatabaseUrl::Postgres(_))));
        assert!(DatabaseUrl::parse("mysql://u@localhost/q").is_err());
        assert!(DatabaseUrl::parse("sqlite:").is_err());
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        let url = DatabaseUrl::parse("postgres://qipan:s3cret@db.example:5432/qipan").unwrap();
        assert!(!url.redacted().contains("s3cret"));
        assert!(!format!("{url:?}").contains("s3cret"));
        let err = DatabaseUrl::parse("mysql://qipan:s3cret@db/q").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
