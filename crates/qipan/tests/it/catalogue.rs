//! The message catalogue is complete: both languages hold the same keys, and every key the
//! code and the templates use is in them.

use std::path::Path;

use qipan::i18n::{Locale, keys};

/// Namespaces of catalogue keys; a quoted `ns.word` in the sources is taken as a key.
const NAMESPACES: [&str; 41] = [
    "app",
    "nav",
    "banner",
    "common",
    "home",
    "level",
    "org",
    "orgs",
    "pager",
    "error",
    "thing",
    "field",
    "rule",
    "lang",
    "role",
    "account",
    "accounts",
    "login",
    "password",
    "audit",
    "tokens",
    "token",
    "secret",
    "person",
    "persons",
    "roster",
    "quality",
    "section",
    "entry",
    "choice",
    "key",
    "code",
    "codes",
    "exchange",
    "calendar",
    "report",
    "reports",
    "supervision",
    "order",
    "orders",
    "worklist",
];

fn quoted_keys(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.split_once('.').is_some_and(|(ns, rest)| {
                NAMESPACES.contains(&ns)
                    && !rest.is_empty()
                    && rest != "html"
                    && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
        })
        .map(str::to_owned)
        .collect()
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "html") {
            out.push(path);
        }
    }
}

#[test]
fn both_languages_hold_the_same_keys() {
    let zh = keys(Locale::ZhCn);
    let en = keys(Locale::En);
    let only_zh: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
    let only_en: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
    assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh-CN: {only_zh:?}; only in en: {only_en:?}");
    assert!(zh.len() > 50);
}

#[test]
fn every_key_in_use_is_in_the_catalogue() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_under(&root.join("src"), &mut files);
    files_under(&root.join("templates"), &mut files);
    let known = keys(Locale::ZhCn);
    let mut used = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for key in quoted_keys(&text) {
            used += 1;
            assert!(known.contains(&key.as_str()), "{} uses `{key}`, which is not in the catalogue", file.display());
        }
    }
    // The domain names the rules its errors and findings break (`rule.…`, `quality.…`); those
    // are shown to users too.
    let mut domain_files = Vec::new();
    files_under(&root.join("../domain/src"), &mut domain_files);
    for file in domain_files {
        let text = std::fs::read_to_string(&file).unwrap();
        for key in quoted_keys(&text).into_iter().filter(|k| k.starts_with("rule.") || k.starts_with("quality.")) {
            used += 1;
            assert!(known.contains(&key.as_str()), "{} uses `{key}`, which is not in the catalogue", file.display());
        }
    }
    assert!(used > 50, "the scan found the keys in use ({used})");
}

#[test]
fn every_section_field_and_choice_is_named() {
    use domain::sections::{FieldKind, Section};
    let known = keys(Locale::ZhCn);
    let mut missing = Vec::new();
    for section in Section::ALL {
        let mut wanted = vec![format!("section.{}", section.as_str()), format!("person.{}.add", section.as_str())];
        for f in section.fields() {
            wanted.push(format!("entry.{}", f.name));
            if let FieldKind::Choice(values) = f.kind {
                wanted.extend(values.iter().map(|v| format!("choice.{v}")));
            }
        }
        missing.extend(wanted.into_iter().filter(|k| !known.contains(&k.as_str())));
    }
    assert!(missing.is_empty(), "missing from the catalogue: {missing:?}");
}
