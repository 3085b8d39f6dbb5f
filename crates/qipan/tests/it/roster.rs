//! Rosters: the printable page, CSV and XLSX downloads with the chosen columns, audited.

use std::io::Read;

use axum::http::{StatusCode, header};

use crate::helpers::{demo_app, demo_login, get};

async fn with_people() -> (qipan::service::App, crate::helpers::TestDb) {
    let (app, db) = demo_app().await;
    app.generate_demo_people(300, 11).await.unwrap();
    (app, db)
}

#[tokio::test]
async fn the_roster_page_shows_the_chosen_columns_masked_and_prints() {
    let (app, _db) = with_people().await;
    let county = demo_login(&app, "county").await;
    let page = get(&app, "/persons/roster?direction=in&col=name&col=id_number&col=hukou_address", Some(&county)).await;
    assert_eq!(page.status, StatusCode::OK);
    let header_row = page.body.split("<thead>").nth(1).unwrap().split("</thead>").next().unwrap();
    assert!(
        header_row.contains("姓名") && header_row.contains("公民身份号码") && header_row.contains("户籍地详细地址")
    );
    assert!(!header_row.contains("联系电话"), "only the chosen columns");
    assert!(page.body.contains("********"), "ID numbers are masked on screen");
    assert!(page.body.contains("print-only"), "a heading for the printed page");
    let bad = get(&app, "/persons/roster?col=salary", Some(&county)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// An 18-character ID number with its GB 11643 check digit, computed here and not by the app.
fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
    format!("{first17}{check}")
}

/// Registers one inflow managed by `unit`, as the county operator may anywhere in Bincheng.
async fn register_at(app: &qipan::service::App, county: &crate::helpers::Session, id: &str, name: &str, unit: &str) {
    let body = serde_json::json!({
        "id_number": id, "name": name, "phone": "13800138000", "hukou_area": "511923",
        "hukou_address": "平昌县江口镇某村", "residence_area": unit, "residence_address": "某小区1号楼",
        "managing_unit": unit, "direction": "in", "moved_on": "2026-01-05", "move_reason": "1"
    });
    let req = axum::http::Request::post("/api/v1/persons")
        .header(header::COOKIE, &county.cookie)
        .header("x-csrf-token", &county.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let reply = crate::helpers::send(app, req).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

#[tokio::test]
async fn csv_export_streams_every_row_in_scope_with_full_values_and_is_audited() {
    let (app, _db) = demo_app().await;
    let county = demo_login(&app, "county").await;
    // A known population: four managed by 新苑社区, one by the next community, outside its scope.
    let inside: Vec<String> = (1..=4).map(|i| id_number(&format!("5119231990030{i}002"))).collect();
    for (i, id) in inside.iter().enumerate() {
        register_at(&app, &county, id, &format!("居民{}", ["甲", "乙", "丙", "丁"][i]), "371602001001").await;
    }
    let outside = id_number("51192319850101003");
    register_at(&app, &county, &outside, "邻居", "371602001002").await;

    let clerk = demo_login(&app, "clerk").await;
    let reply = get(&app, "/persons/roster.csv?col=name&col=id_number&col=phone", Some(&clerk)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("roster.csv"));
    let lines: Vec<&str> = reply.body.lines().collect();
    assert_eq!(lines[0].trim_start_matches('\u{feff}'), "\"姓名\",\"公民身份号码\",\"联系电话\"");
    let mut exported: Vec<String> =
        lines[1..].iter().map(|l| l.split(',').nth(1).unwrap().trim_matches('"').to_owned()).collect();
    exported.sort();
    assert_eq!(exported, inside, "exactly the four people the community manages, with full numbers");
    assert!(!reply.body.contains(&outside), "the next community's resident is not exported");
    assert!(lines[1].contains("13800138000"), "exports carry full values: {}", lines[1]);

    let whole = get(&app, "/persons/roster.csv?col=id_number", Some(&county)).await;
    assert_eq!(whole.body.lines().count(), 1 + 5, "the county exports all five");

    let filter = store::AuditFilter {
        actor: Some("clerk".into()),
        action_prefix: Some("person.export".into()),
        ..Default::default()
    };
    let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 5 }).await.unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].entry.detail.contains("csv"));
}

#[tokio::test]
async fn xlsx_export_is_a_real_spreadsheet() {
    let (app, _db) = with_people().await;
    let county = demo_login(&app, "county").await;
    let total =
        crate::helpers::get(&app, "/api/v1/persons?per_page=1", Some(&county)).await.json()["total"].as_u64().unwrap();
    let reply = crate::helpers::get_bytes(&app, "/persons/roster.xlsx?col=name&col=birth_date", Some(&county)).await;
    assert_eq!(reply.0, StatusCode::OK);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(reply.1)).expect("an XLSX is a zip archive");
    let mut sheet = String::new();
    archive.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut sheet).unwrap();
    let rows = sheet.matches("<row ").count() as u64;
    assert_eq!(rows, total + 1, "a header row and one row per person");
    let mut workbook = String::new();
    archive.by_name("xl/workbook.xml").unwrap().read_to_string(&mut workbook).unwrap();
    assert!(workbook.contains("花名册"), "the sheet is named: {workbook}");
}
