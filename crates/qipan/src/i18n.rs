//! The message catalogue: every user-facing string, in Simplified Chinese (the default) and
//! English.
//!
//! The catalogues are `i18n/zh-CN.txt` and `i18n/en.txt` (with one file per larger part:
//! `zh-CN-reports.txt` …), one `key = text` per line, embedded in the binary. `{name}` in a text is a placeholder filled by [`Messages::fmt`]. A test checks
//! that both files hold the same keys and that every key the code and templates use exists.

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    ZhCn,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    /// The tag used in the language cookie and in `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Locale> {
        Locale::ALL.into_iter().find(|l| l.tag().eq_ignore_ascii_case(tag.trim()))
    }

    pub fn messages(self) -> Messages {
        Messages { locale: self, table: table(self) }
    }

    fn source(self) -> &'static str {
        match self {
            Locale::ZhCn => concat!(
                include_str!("../i18n/zh-CN.txt"),
                "\n",
                include_str!("../i18n/zh-CN-worklist.txt"),
                "\n",
                include_str!("../i18n/zh-CN-supervision.txt"),
                "\n",
                include_str!("../i18n/zh-CN-reports.txt"),
            ),
            Locale::En => concat!(
                include_str!("../i18n/en.txt"),
                "\n",
                include_str!("../i18n/en-worklist.txt"),
                "\n",
                include_str!("../i18n/en-supervision.txt"),
                "\n",
                include_str!("../i18n/en-reports.txt"),
            ),
        }
    }
}

static ZH_CN: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| parse(Locale::ZhCn.source()));
static EN: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| parse(Locale::En.source()));

fn table(locale: Locale) -> &'static HashMap<&'static str, &'static str> {
    match locale {
        Locale::ZhCn => &ZH_CN,
        Locale::En => &EN,
    }
}

/// Parses a catalogue file. Blank lines and lines starting with `#` are skipped.
pub fn parse(source: &'static str) -> HashMap<&'static str, &'static str> {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// The keys of a locale's catalogue (for the completeness test).
pub fn keys(locale: Locale) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = table(locale).keys().copied().collect();
    keys.sort_unstable();
    keys
}

/// The messages of one locale, handed to every template as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Messages {
    pub locale: Locale,
    table: &'static HashMap<&'static str, &'static str>,
}

impl Messages {
    /// The text of `key`; the key itself when missing (so a gap shows, and is logged, but never
    /// breaks a page).
    pub fn get(&self, key: &str) -> &'static str {
        match self.table.get(key) {
            Some(text) => text,
            None => {
                tracing::warn!(key, locale = self.locale.tag(), "message missing from the catalogue");
                table(Locale::ZhCn).get(key).copied().unwrap_or("?")
            }
        }
    }

    /// The text of `key` with each `{name}` replaced by its value.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.get(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// [`Messages::fmt`] with one placeholder, for templates.
    pub fn fmt1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.fmt(key, &[(name, &value.to_string())])
    }

    /// [`Messages::fmt`] with three placeholders, for templates.
    #[expect(clippy::too_many_arguments, reason = "name-value pairs spelled out for templates")]
    pub fn fmt3(
        &self,
        key: &str,
        a: &str,
        a_value: impl std::fmt::Display,
        b: &str,
        b_value: impl std::fmt::Display,
        c: &str,
        c_value: impl std::fmt::Display,
    ) -> String {
        self.fmt(key, &[(a, &a_value.to_string()), (b, &b_value.to_string()), (c, &c_value.to_string())])
    }

    /// The name of an org level (`level.county` → 县/区).
    pub fn level(&self, level: domain::OrgLevel) -> &'static str {
        self.get(match level {
            domain::OrgLevel::Province => "level.province",
            domain::OrgLevel::City => "level.city",
            domain::OrgLevel::County => "level.county",
            domain::OrgLevel::Township => "level.township",
            domain::OrgLevel::Village => "level.village",
            domain::OrgLevel::Unit => "level.unit",
        })
    }

    /// The name of a role (`role.village_clerk` → 村/社区信息员).
    pub fn role(&self, role: domain::authz::Role) -> &'static str {
        use domain::authz::Role;
        self.get(match role {
            Role::VillageClerk => "role.village_clerk",
            Role::TownshipOfficer => "role.township_officer",
            Role::CountyOperator => "role.county_operator",
            Role::Supervisor => "role.supervisor",
            Role::Department => "role.department",
            Role::SystemAdmin => "role.system_admin",
            Role::SecurityAdmin => "role.security_admin",
            Role::AuditAdmin => "role.audit_admin",
        })
    }

    pub fn lang(&self) -> &'static str {
        self.locale.tag()
    }
}
