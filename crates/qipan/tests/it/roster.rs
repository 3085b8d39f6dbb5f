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

#[tokio::test]
async fn csv_export_streams_every_row_in_scope_with_full_values_and_is_audited() {
    let (app, _db) = with_people().await;
    let clerk = demo_login(&app, "county").await;
    let expected = get(&app, "/api/v1/persons?per_page=1", Some(&clerk)).await.json()["total"].as_u64().unwrap();
    assert!(expected > 200, "most generated people are in Bincheng: {expected}");
    let reply = get(&app, "/persons/roster.csv?col=name&col=id_number&col=phone", Some(&clerk)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("roster.csv"));
    let lines: Vec<&str> = reply.body.lines().collect();
    assert_eq!(lines[0].trim_start_matches('\u{feff}'), "\"姓名\",\"公民身份号码\",\"联系电话\"");
    assert_eq!(lines.len() as u64 - 1, expected, "one line per person in the operator's scope");
    assert!(!lines[1].contains('*'), "exports carry full values: {}", lines[1]);
    let filter = store::AuditFilter {
        actor: Some("county".into()),
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
