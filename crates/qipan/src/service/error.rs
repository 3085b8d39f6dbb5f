//! The service layer's one error type.
//!
//! The rule: input a user can correct is `Invalid` (naming the field and the rule, both as
//! catalogue keys) or `NotFound`; a broken import file is `Import` (naming file and line);
//! `Unauthenticated`/`LoginFailed` → 401, `Forbidden` → 403 (the guard has audited it), `Stale`,
//! `Duplicate` and `Conflict` → 409; everything else is `Store`, an internal failure that the web layer
//! logs with its cause and answers with a generic message.

use domain::divisions::DivisionError;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// `what` is the catalogue key of the kind of thing (`thing.org_unit`).
    #[error("{what} `{key}` not found")]
    NotFound { what: &'static str, key: String },
    /// `field` and `rule` are catalogue keys (`field.parent`, `rule.org_code`).
    #[error("invalid {field}: {rule} (got `{value}`)")]
    Invalid { field: &'static str, rule: &'static str, value: String },
    #[error("{0}")]
    Import(#[from] DivisionError),
    #[error("cannot read {path}: {source}")]
    ReadFile { path: String, source: std::io::Error },
    /// No one is signed in (or the session has ended).
    #[error("sign-in required")]
    Unauthenticated,
    /// Wrong username or password, unknown user, locked or disabled account: one message for
    /// all, so that the answer never tells which.
    #[error("sign-in failed")]
    LoginFailed,
    /// The password was right; the second factor's code is still to come (`pending`: the token
    /// of the pending sign-in).
    #[error("second factor required")]
    SecondFactorRequired { pending: String },
    /// An API token that has run out (`on`: its last day, China time).
    #[error("the API token expired on {on}")]
    TokenExpired { on: String },
    /// The actor may not do this (already audited by the guard).
    #[error("{capability} denied")]
    Forbidden { capability: &'static str },
    /// The administrator must set up a second factor before anything else.
    #[error("second factor enrolment required")]
    FactorEnrolmentRequired,
    /// The account must change its password before anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    /// Someone saved the thing since it was read: `what` is a catalogue key.
    #[error("{what} was changed by someone else")]
    Stale { what: &'static str },
    /// The value is already taken (a username): `field` is a catalogue key.
    #[error("{field} `{value}` is taken")]
    Duplicate { field: &'static str, value: String },
    /// The thing is not in a state that allows this (an item answered twice): `rule` is the
    /// catalogue key of the reason.
    #[error("conflict: {rule}")]
    Conflict { rule: &'static str },
    /// Too many requests from one client address in a short time (`retry_after`: seconds).
    #[error("too many requests; retry after {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    /// The account already runs as many exports as it may at once.
    #[error("too many exports at once")]
    TooManyExports,
    /// The server is answering as many requests as it can.
    #[error("busy")]
    Busy,
    /// The answer took longer than the deadline of a request.
    #[error("timed out")]
    TimedOut,
    /// The audit log is keyed and this process was given no key.
    #[error("the audit log is keyed, and no audit key was given (QIPAN_AUDIT_KEY or --audit-key-file)")]
    AuditKeyMissing,
    /// The data keys given do not open what this database holds.
    #[error("{0}")]
    DataKeys(String),
    /// A backup or a restore could not be made or was refused; the text says why.
    #[error("{0}")]
    Backup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn invalid(field: &'static str, rule: &'static str, value: impl Into<String>) -> Self {
        ServiceError::Invalid { field, rule, value: value.into() }
    }
}
