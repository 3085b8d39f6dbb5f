//! The data-quality scan on the page and at the console.

use std::process::Command;

use axum::http::{Method, StatusCode};
use chrono::NaiveDate;
use domain::OrgCode;
use serde_json::json;
use store::{PersonFields, PersonWriteMeta, PersonWriteOutcome};

use crate::helpers::{Session, demo_app, demo_login, get};
use crate::persons::{api, chen_jing};

/// A record as legacy data would bring it (no rule applied on the way in).
pub(crate) fn legacy(name: &str, id_number: Option<&str>, unit: &str, moved: &str) -> (PersonFields, NaiveDate) {
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

/// Loads the legacy records; returns their ids in the order below.
async fn load(app: &qipan::service::App) -> Vec<i64> {
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
    app.store.bulk_insert_persons(&bulk(app, rows), "test", app.clock.now(), &audit).await.unwrap()
}

/// Rows ready for a bulk load, none of them a key person.
fn bulk(app: &qipan::service::App, rows: Vec<(PersonFields, NaiveDate)>) -> store::BulkPeople {
    store::BulkPeople::prepare(app.store.engine(), rows.into_iter().map(|(f, on)| (f, on, String::new()))).unwrap()
}

/// The names listed on the quality page for `s`, of one rule.
async fn listed(app: &qipan::service::App, s: &Session, rule: &str) -> Vec<String> {
    let page = get(app, &format!("/quality?rule={rule}"), Some(s)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let Some(table) = page.body.split("quality-findings").nth(1) else { return Vec::new() };
    table
        .split("<a href=\"/persons/")
        .skip(1)
        .map(|row| row.split('>').nth(1).unwrap().split('<').next().unwrap().to_owned())
        .collect()
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
    assert!(stdout.starts_with("6 findings ("), "{stdout}");
    assert!(stdout.contains("Same ID number managed in two units") && stdout.contains("fix: 371602001001"), "{stdout}");
}

#[tokio::test]
async fn a_finding_follows_each_write_at_once() {
    let (app, _db) = demo_app().await;
    let ids = load(&app).await;
    let (clerk, township) = (demo_login(&app, "clerk").await, demo_login(&app, "township").await);
    let late = "quality.late_registration";

    // Moved on 5 January, registered today: late, for the village that manages it.
    let mut chen = chen_jing();
    chen["id_number"] = json!("511923199203150021");
    let reply = api(&app, &clerk, Method::POST, "/api/v1/persons", Some(chen.clone())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.json()["id"].as_i64().unwrap();
    assert!(listed(&app, &clerk, late).await.contains(&"陈静".to_owned()));

    // Handed to the next village, the finding goes with it.
    let path = format!("/api/v1/persons/{id}");
    let mut moved = chen;
    moved["version"] = json!(1);
    moved["managing_unit"] = json!("371602001002");
    moved["residence_area"] = json!("371602001002");
    let reply = api(&app, &township, Method::PUT, &path, Some(moved.clone())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(!listed(&app, &clerk, late).await.contains(&"陈静".to_owned()), "no longer the first village's");
    let page = get(&app, &format!("/quality?rule={late}"), Some(&township)).await.body;
    let row = page.split("陈静").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("371602001002"), "the unit that must fix it now: {row}");

    // Corrected, it is gone, and the count with it.
    let before = township_count(&app, &township, late).await;
    moved["version"] = json!(2);
    moved["moved_on"] = json!("2026-11-25");
    let reply = api(&app, &township, Method::PUT, &path, Some(moved)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(!listed(&app, &township, late).await.contains(&"陈静".to_owned()));
    assert_eq!(township_count(&app, &township, late).await, before - 1);

    // One copy of a number managed twice leaves: the other is no longer a duplicate.
    let dup = "quality.duplicate_management";
    assert_eq!(listed(&app, &township, dup).await, ["重复甲", "重复乙"]);
    let moves = format!("/api/v1/persons/{}/moves", ids[4]);
    let end = json!({"status": "moved_on", "ended_on": "2026-11-20", "version": 1});
    let reply = api(&app, &township, Method::POST, &moves, Some(end)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert!(listed(&app, &township, dup).await.is_empty(), "both copies are clear");

    // A rule that is not one is refused, naming the field.
    let bad = get(&app, "/quality?rule=quality.nonsense", Some(&township)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("规则"), "{}", bad.body);
}

/// The township's count of one rule, as the summary table shows it.
async fn township_count(app: &qipan::service::App, s: &Session, rule: &str) -> u64 {
    let page = get(app, "/quality", Some(s)).await.body;
    let row = page.split(&format!("rule={rule}&amp;")).nth(1).unwrap();
    row.split("<td class=\"num\">").nth(1).unwrap().split('<').next().unwrap().parse().unwrap()
}

/// A small deterministic generator: the same "random" history on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// The findings and counts as kept, in a comparable form.
async fn kept(app: &qipan::service::App) -> (Vec<(i64, String, String, String)>, Vec<(String, u64)>) {
    let mut rows: Vec<_> = app
        .store
        .quality_findings(None, None, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.person_id, r.rule, r.detail, r.unit))
        .collect();
    rows.sort();
    let counts = app.store.quality_counts_by_rule(None).await.unwrap();
    for (rule, n) in &counts {
        assert_eq!(rows.iter().filter(|r| &r.1 == rule).count() as u64, *n, "the count of {rule} matches its findings");
    }
    (rows, counts)
}

#[tokio::test]
async fn kept_findings_equal_a_full_check_after_any_history() {
    let (app, _db) = demo_app().await;
    let console = qipan::service::Actor::console(OrgCode::parse("00").unwrap());
    // Twelve legacy records over three villages, sharing four ID numbers (one with a bad
    // check digit) so that duplicate groups form and break as numbers, units and states change.
    let numbers = [Some("371602198511120036"), Some("511923199003070027"), Some("511923199003070028"), None];
    let units = ["371602001001", "371602001002", "371602002001"];
    let mut rng = Lcg(20261203);
    let rows: Vec<_> =
        (0..12).map(|i| legacy(&format!("记录{i}"), numbers[i % 4], units[i % 3], "2026-01-05")).collect();
    let audit = app.audit_draft(&console, "test.load", None, None, json!({}));
    let ids = app.store.bulk_insert_persons(&bulk(&app, rows.clone()), "test", app.clock.now(), &audit).await.unwrap();
    let mut fields: Vec<PersonFields> = rows.into_iter().map(|(f, _)| f).collect();
    for step in 0..120 {
        let k = rng.below(ids.len() as u64) as usize;
        let person = app.store.person(ids[k]).await.unwrap().unwrap();
        if person.status != "active" {
            continue;
        }
        let meta = PersonWriteMeta {
            actor_name: "test",
            action: "test.edit",
            changes: "{}".into(),
            now: app.clock.now(),
            audit: app.audit_draft(&console, "test.edit", None, None, json!({})),
        };
        let outcome = match rng.below(10) {
            0 => {
                app.store.set_person_status(ids[k], person.version, "moved_on", Some(person.moved_on), "", &meta).await
            }
            choice => {
                let f = &mut fields[k];
                match choice {
                    1..=4 => f.id_number = numbers[rng.below(4) as usize].map(str::to_owned),
                    5..=7 => {
                        let unit = OrgCode::parse(units[rng.below(3) as usize]).unwrap();
                        f.managing_unit = unit.to_string();
                        f.managing_path = unit.path().as_str().into();
                    }
                    _ => f.gender = if f.gender == "1" { "2".into() } else { "1".into() },
                }
                app.store.update_person(ids[k], person.version, f, &meta).await
            }
        };
        // Two active copies of one number in one unit are refused by the store; that is a write
        // that did not happen, which the findings must not see either.
        assert!(matches!(outcome.unwrap(), PersonWriteOutcome::Done(_) | PersonWriteOutcome::Duplicate));
        if rng.below(3) == 0 {
            app.refresh_quality(rng.below(8)).await.unwrap();
        }
        if step % 40 == 39 {
            app.refresh_quality(u64::MAX).await.unwrap();
            let incremental = kept(&app).await;
            app.queue_quality_recheck(true).await.unwrap();
            app.refresh_quality(u64::MAX).await.unwrap();
            assert_eq!(incremental, kept(&app).await, "step {step}: kept findings differ from a full check");
        }
    }
}
