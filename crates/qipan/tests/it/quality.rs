//! The data-quality scan on the page and at the console.

use std::process::Command;

use axum::http::StatusCode;
use chrono::NaiveDate;
use domain::OrgCode;
use store::PersonFields;

use crate::helpers::{demo_app, demo_login, get};

/// A record as legacy data would bring it (no rule applied on the way in).
fn legacy(name: &str, id_number: Option<&str>, unit: &str, moved: &str) -> (PersonFields, NaiveDate) {
    let unit = OrgCode::parse(unit).unwrap();
    let hukou = OrgCode::parse("511923").unwrap();
    let (name_pinyin, name_initials) = domain::pinyin_index::name_keys(name);
    let moved_on = NaiveDate::parse_from_str(moved, "%Y-%m-%d").unwrap();
    (
        PersonFields {
            province_code: "37".into(),
            id_number: id_number.map(str::to_owned),
            name: name.into(),
            name_pinyin,
            name_initials,
            gender: "2".into(),
            birth_date: NaiveDate::from_ymd_opt(1990, 3, 7).unwrap(),
            ethnicity: Some("01".into()),
            education: None,
            phone: None,
            marital_status: None,
            hukou_area: hukou.to_string(),
            hukou_path: hukou.path().as_str().into(),
            hukou_address: "平昌县".into(),
            hukou_type: None,
            residence_area: unit.to_string(),
            residence_address: "某路".into(),
            managing_unit: unit.to_string(),
            managing_path: unit.path().as_str().into(),
            direction: "in".into(),
            moved_on,
            move_reason: None,
        },
        moved_on,
    )
}

async fn load(app: &qipan::service::App) {
    let mut rows = vec![
        legacy("好记录", Some("511923199003070027"), "371602001001", "2026-01-05"),
        legacy("校验位错", Some("511923199003070028"), "371602001001", "2026-01-05"),
        legacy("无证号", None, "371602001001", "2026-01-05"),
        // The same person managed by two villages.
        legacy("重复甲", Some("371602198511120036"), "371602001001", "2026-01-05"),
        legacy("重复乙", Some("371602198511120036"), "371602001002", "2026-01-05"),
    ];
    let mut late = legacy("迟报", Some("511923199003070019"), "371602001001", "2026-01-05");
    late.0.gender = "1".into();
    late.1 = NaiveDate::from_ymd_opt(2026, 1, 9).unwrap();
    rows.push(late);
    let console = qipan::service::Actor::console(OrgCode::parse("00").unwrap());
    let audit = app.audit_draft(&console, "test.load", None, None, serde_json::json!({}));
    app.store.bulk_insert_persons(&rows, "test", app.clock.now(), &audit).await.unwrap();
}

#[tokio::test]
async fn each_finding_names_the_rule_the_record_and_the_unit_to_fix_it() {
    let (app, _db) = demo_app().await;
    load(&app).await;
    let clerk = demo_login(&app, "clerk").await;
    let page = get(&app, "/quality", Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    let summary = page.body.split("quality-summary").nth(1).unwrap();
    for (label, n) in
        [("身份证号不合规", 1), ("缺少身份证号", 1), ("流入流出未当天登记", 1), ("同一身份证号多处管理（重复管理）", 1)]
    {
        assert!(summary.contains(&format!("{label}</a></td><td class=\"num\">{n}</td>")), "{label}: {summary}");
    }
    let findings = page.body.split("quality-findings").nth(1).unwrap();
    assert!(findings.contains("校验位错") && findings.contains("身份证号校验位不对"), "{findings}");
    assert!(!findings.contains(">好记录<"), "a clean record has no finding");
    assert!(findings.contains("371602001002"), "the duplicate names the other unit");
    assert!(!findings.contains(">重复乙<"), "the other village's copy is for that village to see");

    let township = demo_login(&app, "township").await;
    let both = get(&app, "/quality?rule=quality.duplicate_management", Some(&township)).await.body;
    assert!(both.contains(">重复甲<") && both.contains(">重复乙<"), "the township sees both copies");
    let outside = get(&app, "/quality?unit=511923", Some(&clerk)).await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn qipan_check_prints_the_counts() {
    let (app, db) = demo_app().await;
    load(&app).await;
    let out = Command::new(env!("CARGO_BIN_EXE_qipan"))
        .args(["--database-url", &db.url_text, "--log", "warn", "check", "--unit", "371602001001"])
        .env_remove("DATABASE_URL")
        .env("QIPAN_CLOCK", crate::helpers::TEST_NOW)
        .env("QIPAN_AUDIT_KEY", crate::helpers::TEST_AUDIT_KEY)
        .env("QIPAN_DATA_KEYS", crate::helpers::TEST_DATA_KEYS)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    // 重复甲 also carries a birth date that its ID number contradicts.
    assert!(stdout.starts_with("5 records checked, 6 findings"), "{stdout}");
    assert!(stdout.contains("Same ID number managed in two units") && stdout.contains("fix: 371602001001"), "{stdout}");
}
