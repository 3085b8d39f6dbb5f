//! The service layer's one error type.
//!
//! The rule: input a user can correct is `Invalid` (naming the field and the rule, both as
//! catalogue keys) or `NotFound`; a broken import file is `Import` (naming file and line);
//! everything else is `Store`, an internal failure that the web layer logs with its cause and
//! answers with a generic message.

use domain::divisions::DivisionError;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// `what` is the catalogue key of the kind of thing (`thing.org_unit`).
    #[error("{what} `{key}` not found")]
    NotFound { what: &'static str, key: String },
    /// `field` and `rule` are catalogue keys (`field.parent`, `rule.org_code`).
    #[error("invalid {field}: {rule} (got `{value}`)")]
    Invalid {
        field: &'static str,
        rule: &'static str,
        value: String,
    },
    #[error("{0}")]
    Import(#[from] DivisionError),
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn invalid(field: &'static str, rule: &'static str, value: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field,
            rule,
            value: value.into(),
        }
    }
}
