//! Code tables (基础数据): the codes in force, and their maintenance by the system administrator
//! (add, rename, deactivate; a code that is shipped or held by a record is never deleted).

use domain::authz::Capability;
use domain::codes::{CodeBook, CodeTable};
use serde_json::json;
use store::{CodeChange, CodeOutcome};

use super::{Actor, App, ServiceError, ServiceResult};

pub const MAX_LABEL_CHARS: usize = 30;

fn check_code(raw: &str) -> ServiceResult<String> {
    let c = raw.trim();
    if (1..=6).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(c.to_owned())
    } else {
        Err(ServiceError::invalid("field.code_value", "rule.code_value", raw))
    }
}

fn check_label(field: &'static str, raw: &str) -> ServiceResult<String> {
    let l = raw.trim();
    if l.is_empty() || l.chars().count() > MAX_LABEL_CHARS {
        Err(ServiceError::invalid(field, "rule.code_label", raw))
    } else {
        Ok(l.to_owned())
    }
}

/// A request to change a code table, as typed.
#[derive(Debug, Clone)]
pub enum CodeRequest<'a> {
    Add { zh: &'a str, en: &'a str },
    Rename { zh: &'a str, en: &'a str },
    Deactivate,
    Activate,
    Delete,
}

impl App {
    /// The code tables in force (everyone who enters or reads records needs them).
    pub async fn codes(&self) -> ServiceResult<CodeBook> {
        Ok(self.store.code_book().await?.0)
    }

    /// The code tables for the administrator's page, with which codes were shipped.
    pub async fn code_tables(&self, actor: &Actor) -> ServiceResult<(CodeBook, Vec<(CodeTable, String, bool)>)> {
        self.guard(actor, Capability::OrgAdmin).await?;
        Ok(self.store.code_book().await?)
    }

    pub async fn change_code(
        &self,
        actor: &Actor,
        table: &str,
        code: &str,
        request: CodeRequest<'_>,
    ) -> ServiceResult<()> {
        self.guard_installation(actor, Capability::OrgAdmin).await?;
        let table =
            CodeTable::parse(table).ok_or_else(|| ServiceError::invalid("field.code_table", "rule.choice", table))?;
        let code = check_code(code)?;
        let change = match request {
            CodeRequest::Add { zh, en } => {
                CodeChange::Add { zh: check_label("field.label_zh", zh)?, en: check_label("field.label_en", en)? }
            }
            CodeRequest::Rename { zh, en } => {
                CodeChange::Rename { zh: check_label("field.label_zh", zh)?, en: check_label("field.label_en", en)? }
            }
            CodeRequest::Deactivate => CodeChange::SetActive(false),
            CodeRequest::Activate => CodeChange::SetActive(true),
            CodeRequest::Delete => CodeChange::Delete,
        };
        let (book, _) = self.store.code_book().await?;
        let before = book
            .items(table)
            .iter()
            .find(|i| i.code == code)
            .map(|i| json!({"zh": i.zh, "en": i.en, "active": i.active}));
        let detail = json!({"table": table.as_str(), "code": code, "before": before, "change": format!("{change:?}")});
        let audit = self.audit_draft(
            actor,
            "code.change",
            Some(&actor.org),
            Some(format!("code:{}:{code}", table.as_str())),
            detail,
        );
        match self.store.change_code(table, &code, &change, self.clock.now(), &audit).await? {
            CodeOutcome::Done => Ok(()),
            CodeOutcome::Exists => Err(ServiceError::Duplicate { field: "field.code_value", value: code }),
            CodeOutcome::Missing => Err(ServiceError::NotFound { what: "thing.code", key: code }),
            CodeOutcome::Kept => Err(ServiceError::invalid("field.code_value", "rule.code_in_use", code)),
        }
    }
}
