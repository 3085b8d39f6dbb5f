//! Personal records through the API and the pages: registration, validation, duplicates,
//! search by pinyin, both parts of the scope, stale edits, history, the end of a move.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use qipan::service::App;
use serde_json::{Value, json};

use crate::helpers::{Reply, Session, demo_app, demo_login, get, new_account, post_form, send};

/// 陈静, born 1990-03-07, registered in 平昌县 (Sichuan), living in a Bincheng village.
pub(crate) const CHEN_JING: &str = "511923199003070027";

pub(crate) async fn api(app: &App, s: &Session, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut req =
        Request::builder().method(method).uri(path).header(header::COOKIE, &s.cookie).header("x-csrf-token", &s.csrf);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    send(app, req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).unwrap()).await
}

pub(crate) fn chen_jing() -> Value {
    json!({
        "id_number": CHEN_JING,
        "name": "陈静",
        "phone": "13800138000",
        "hukou_area": "511923",
        "hukou_address": "平昌县江口镇某村",
        "residence_area": "371602001001",
        "residence_address": "新苑小区3号楼2单元",
        "managing_unit": "371602001001",
        "direction": "in",
        "moved_on": "2026-01-05",
        "move_reason": "1"
    })
}

async fn register(app: &App, s: &Session, body: Value) -> Reply {
    api(app, s, Method::POST, "/api/v1/persons", Some(body)).await
}

#[tokio::test]
async fn a_clerk_registers_an_inflow_and_the_id_number_fills_the_rest() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let reply = register(&app, &clerk, chen_jing()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let p = reply.json();
    for key in [
        "id",
        "id_number",
        "name",
        "gender",
        "birth_date",
        "phone",
        "hukou_area",
        "hukou_address",
        "residence_area",
        "residence_address",
        "managing_unit",
        "direction",
        "moved_on",
        "version",
    ] {
        assert!(p.get(key).is_some(), "the contract field {key} is there");
    }
    assert_eq!((p["gender"].as_str(), p["birth_date"].as_str()), (Some("2"), Some("1990-03-07")));
    assert_eq!(p["id_number"], CHEN_JING, "the full record shows the full number");
    assert_eq!(p["version"], 1);

    let id = p["id"].as_i64().unwrap();
    let one = api(&app, &clerk, Method::GET, &format!("/api/v1/persons/{id}"), None).await.json();
    assert_eq!(one["access"], "manage");
    assert!(one["days_late"].as_i64().unwrap() > 0, "registered long after the move: late");
    // The view is in the audit log.
    let filter =
        store::AuditFilter { actor: Some("clerk".into()), action_prefix: Some("person.".into()), ..Default::default() };
    let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 20 }).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
    assert!(actions.contains(&"person.view") && actions.contains(&"person.register_in"), "{actions:?}");

    // A second record with the same ID number in the same scope is refused.
    let dup = register(&app, &clerk, chen_jing()).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
}

#[tokio::test]
async fn bad_fields_come_back_as_422_one_entry_per_field() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let mut body = chen_jing();
    body["id_number"] = json!("511923199003070028");
    body["phone"] = json!("12345");
    body["moved_on"] = json!("2026-02-30");
    body["direction"] = json!("sideways");
    body["ethnicity"] = json!("99");
    let reply = register(&app, &clerk, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    let errors = reply.json()["errors"].as_array().unwrap().clone();
    let pairs: Vec<(String, String)> = errors
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["rule"].as_str().unwrap().to_owned()))
        .collect();
    for expected in [
        ("id_number", "id_check_digit"),
        ("phone", "phone"),
        ("moved_on", "date"),
        ("direction", "direction"),
        ("ethnicity", "code_unknown"),
    ] {
        assert!(pairs.contains(&(expected.0.into(), expected.1.into())), "{expected:?} in {pairs:?}");
    }
    assert!(errors.iter().all(|e| !e["message"].as_str().unwrap().is_empty()));
    // A managing unit outside the clerk's village: refused as out of scope, not registered.
    let mut elsewhere = chen_jing();
    elsewhere["managing_unit"] = json!("371602001002");
    assert_eq!(register(&app, &clerk, elsewhere).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn search_by_name_pinyin_initials_and_id_digits_with_masked_lists() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    register(&app, &clerk, chen_jing()).await;
    let mut shan = chen_jing();
    shan["id_number"] = json!("371602198511120036");
    shan["name"] = json!("单丽");
    shan["hukou_area"] = json!("371602");
    register(&app, &clerk, shan).await;
    for (q, expected) in
        [("陈", "陈静"), ("chenjing", "陈静"), ("cj", "陈静"), ("0027", "陈静"), ("shanli", "单丽"), ("sl", "单丽")]
    {
        let list =
            api(&app, &clerk, Method::GET, &format!("/api/v1/persons?q={}", crate::helpers::url_encode(q)), None)
                .await
                .json();
        let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, [expected], "q={q}");
    }
    let list = api(&app, &clerk, Method::GET, "/api/v1/persons?sort=name", None).await.json();
    assert_eq!(list["total"], 2);
    let first = &list["items"][0];
    assert!(first["id_number"].as_str().unwrap().contains("********"), "masked in lists: {first}");
    assert!(first["phone"].as_str().unwrap().contains("****"), "masked in lists: {first}");
    let bad = api(&app, &clerk, Method::GET, "/api/v1/persons?direction=up", None).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Date ranges and the residence narrow the list, on both engines.
    let count = |q: &'static str| {
        let (app, clerk) = (&app, &clerk);
        async move {
            api(app, clerk, Method::GET, &format!("/api/v1/persons?{q}"), None).await.json()["total"].as_u64().unwrap()
        }
    };
    assert_eq!(count("moved_from=2026-01-05&moved_to=2026-01-05").await, 2);
    assert_eq!(count("moved_from=2026-01-06").await, 0);
    assert_eq!(count("moved_to=2026-01-04").await, 0);
    assert_eq!(count("residence=%E6%96%B0%E8%8B%91").await, 2); // 新苑
    assert_eq!(count("residence=elsewhere").await, 0);
    let backwards =
        api(&app, &clerk, Method::GET, "/api/v1/persons?moved_from=2026-02-01&moved_to=2026-01-01", None).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The names a search by `q` lists for `who` (up to 500).
async fn names_found(app: &qipan::service::App, who: &Session, q: &str) -> Vec<String> {
    let path = format!("/api/v1/persons?per_page=500&q={}", crate::helpers::url_encode(q));
    let list = api(app, who, Method::GET, &path, None).await.json();
    list["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_name_index_finds_any_part_of_a_name_and_follows_an_edit() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let id = register(&app, &clerk, chen_jing()).await.json()["id"].as_i64().unwrap();
    for q in ["陈静", "陈", "静", "chen", "chenj", "cj", "c"] {
        assert_eq!(names_found(&app, &clerk, q).await, ["陈静"], "q={q}");
    }
    // Characters must stand together and in order; a key is found by its start only.
    for q in ["静陈", "陈 静 怡", "jing", "hen"] {
        assert!(names_found(&app, &clerk, q).await.is_empty(), "q={q}");
    }
    // A control character is not part of what is looked for; a NUL (which PostgreSQL refuses
    // in text) is refused by the API, naming the parameter, and ignored by the search page.
    assert_eq!(names_found(&app, &clerk, "陈静\u{7}").await, ["陈静"]);
    let nul = api(&app, &clerk, Method::GET, "/api/v1/persons?q=%E9%99%88%00", None).await;
    assert_eq!(nul.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(nul.json()["errors"][0]["field"], "q");
    let page = get(&app, "/persons?q=%E9%99%88%00%E9%9D%99", Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("陈静"), "the page finds 陈静 without the NUL");
    // The other filters of the pages too (PostgreSQL refuses a NUL in any text it is given).
    let page = get(&app, "/persons?residence=%E6%96%B0%00%E8%8B%91", Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("陈静"), "新苑 with a NUL inside is 新苑");
    let auditor = demo_login(&app, "auditor").await;
    for query in ["actor=%00clerk", "action=person%00", "unit=3716%00"] {
        let page = get(&app, &format!("/audit?{query}"), Some(&auditor)).await;
        assert!(page.status.is_success() || page.status.is_client_error(), "/audit?{query}: {}", page.status);
    }

    // Renamed, the record is found by its new name only.
    let mut renamed = chen_jing();
    renamed["version"] = json!(1);
    renamed["name"] = json!("林静怡");
    let path = format!("/api/v1/persons/{id}");
    assert_eq!(api(&app, &clerk, Method::PUT, &path, Some(renamed)).await.status, StatusCode::OK);
    assert!(names_found(&app, &clerk, "陈静").await.is_empty(), "the old name is gone from the index");
    assert!(names_found(&app, &clerk, "cj").await.is_empty());
    for q in ["静怡", "林静怡", "linjingyi", "ljy"] {
        assert_eq!(names_found(&app, &clerk, q).await, ["林静怡"], "q={q}");
    }

    // The demo's records, loaded in bulk, are in the index too: a county finds one of them by
    // the last two characters of its name, and everything found holds them.
    let county = demo_login(&app, "county").await;
    let some = api(&app, &county, Method::GET, "/api/v1/persons?sort=name", None).await.json();
    let name = some["items"][0]["name"].as_str().unwrap().to_owned();
    let tail: String = name.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
    let found = names_found(&app, &county, &tail).await;
    assert!(found.contains(&name), "{tail} finds {name}: {found:?}");
    assert!(found.iter().all(|n| n.contains(&tail)), "{tail}: {found:?}");
}

/// A database indexed by the previous release (one token per character and the keys, no
/// bigrams, migration 30's state at version 1) is indexed again at the next start, in batches:
/// until then a search of two characters finds nothing, after it finds the names again.
#[tokio::test]
async fn names_indexed_by_the_previous_release_are_indexed_again_at_the_next_start() {
    let (app, db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let id = register(&app, &clerk, chen_jing()).await.json()["id"].as_i64().unwrap();
    let old_document = if crate::helpers::engine_is_postgres() {
        "UPDATE person_search SET tokens = CAST('''陈'':1 ''静'':2 ''chenjing'':3 ''cj'':4' AS tsvector) \
         WHERE person_id = $1"
    } else {
        "UPDATE person_search SET tokens = '陈 静 chenjing cj' WHERE rowid = $1"
    };
    crate::helpers::execute_with_id(&app, old_document, id).await;
    crate::helpers::execute_with_id(&app, "UPDATE name_index_state SET version = 1, after_id = $1 - $1", id).await;
    assert!(names_found(&app, &clerk, "陈静").await.is_empty(), "the old document holds no bigram");
    assert_eq!(names_found(&app, &clerk, "陈").await, ["陈静"]);
    app.store.close().await;

    let app = qipan::service::App::open(&db.url, crate::helpers::test_clock()).await.unwrap();
    let clerk = demo_login(&app, "clerk").await;
    for q in ["陈静", "陈", "静", "chenj", "cj"] {
        assert_eq!(names_found(&app, &clerk, q).await, ["陈静"], "q={q}");
    }
    // Every record of the demo was indexed again: each name is found by its last two characters.
    let county = demo_login(&app, "county").await;
    let some = api(&app, &county, Method::GET, "/api/v1/persons?sort=name&per_page=50", None).await.json();
    for item in some["items"].as_array().unwrap() {
        let name = item["name"].as_str().unwrap();
        let tail: String = name.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
        assert!(names_found(&app, &county, &tail).await.iter().any(|n| n == name), "{tail} finds {name}");
    }
    // And a second start finds nothing left to do.
    assert_eq!(app.store.upgrade_name_index(10).await.unwrap(), 0);
}

#[tokio::test]
async fn the_origin_reads_its_outflow_population_read_only_and_neighbours_see_nothing() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let id = register(&app, &clerk, chen_jing()).await.json()["id"].as_i64().unwrap();

    // 平昌县, her origin, finds her with the origin search and opens her record read-only.
    let pingchang = demo_login(&app, "pingchang").await;
    let found = api(&app, &pingchang, Method::GET, "/api/v1/persons?origin=1", None).await.json();
    assert_eq!(found["total"], 1);
    let record = api(&app, &pingchang, Method::GET, &format!("/api/v1/persons/{id}"), None).await.json();
    assert_eq!(record["access"], "origin");
    let page = get(&app, &format!("/persons/{id}"), Some(&pingchang)).await.body;
    assert!(page.contains(r#"id="read-only""#) && !page.contains(r#"id="edit""#), "no edit for the origin");
    let mut change = chen_jing();
    change["version"] = json!(1);
    let put = api(&app, &pingchang, Method::PUT, &format!("/api/v1/persons/{id}"), Some(change)).await;
    assert_eq!(put.status, StatusCode::NOT_FOUND, "the origin never writes");
    let filter = store::AuditFilter { actor: Some("pingchang".into()), ..Default::default() };
    let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 50 }).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
    assert!(actions.contains(&"person.read_as_origin") && actions.contains(&"person.search_as_origin"), "{actions:?}");

    // The clerk of the next village sees nothing of her.
    let neighbour = new_account(&app, "neighbour", "village_clerk", "371602001002").await;
    let list = api(&app, &neighbour, Method::GET, "/api/v1/persons", None).await.json();
    assert_eq!(list["total"], 0);
    assert_eq!(
        api(&app, &neighbour, Method::GET, &format!("/api/v1/persons/{id}"), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_stale_edit_is_refused_and_history_shows_before_and_after() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let township = demo_login(&app, "township").await;
    let id = register(&app, &clerk, chen_jing()).await.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/persons/{id}");

    let mut first = chen_jing();
    first["version"] = json!(1);
    first["residence_address"] = json!("新苑小区5号楼");
    assert_eq!(api(&app, &township, Method::PUT, &path, Some(first)).await.status, StatusCode::OK);
    let mut second = chen_jing();
    second["version"] = json!(1);
    second["phone"] = json!("13900139000");
    let stale = api(&app, &clerk, Method::PUT, &path, Some(second)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.json()["error"]["code"], "stale");
    let now = api(&app, &clerk, Method::GET, &path, None).await.json();
    assert_eq!((now["phone"].as_str(), now["version"].as_i64()), (Some("13800138000"), Some(2)), "not overwritten");

    // The page form with the old version shows the record as it is now, with the conflict.
    let mut fields: Vec<(String, String)> =
        chen_jing().as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
    fields.push(("version".into(), "1".into()));
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = post_form(&app, &format!("/persons/{id}/edit"), Some(&clerk), &refs).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("已被他人修改") && page.body.contains("新苑小区5号楼"), "{}", page.body);

    let history = api(&app, &clerk, Method::GET, &format!("{path}/history"), None).await.json();
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["actor"], "township");
    assert_eq!(items[0]["changes"]["residence_address"]["before"], "新苑小区3号楼2单元");
    assert_eq!(items[0]["changes"]["residence_address"]["after"], "新苑小区5号楼");
}

#[tokio::test]
async fn a_move_ends_and_a_mistake_is_removed_with_a_reason_never_deleted() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let id = register(&app, &clerk, chen_jing()).await.json()["id"].as_i64().unwrap();
    let moves = format!("/api/v1/persons/{id}/moves");
    let early = api(
        &app,
        &clerk,
        Method::POST,
        &moves,
        Some(json!({"status": "returned", "ended_on": "2025-12-01", "version": 1})),
    )
    .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "an end before the move is refused");
    let done = api(
        &app,
        &clerk,
        Method::POST,
        &moves,
        Some(json!({"status": "returned", "ended_on": "2026-06-01", "note": "回平昌", "version": 1})),
    )
    .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    let record = api(&app, &clerk, Method::GET, &format!("/api/v1/persons/{id}"), None).await.json();
    assert_eq!((record["status"].as_str(), record["ended_on"].as_str()), (Some("returned"), Some("2026-06-01")));
    assert_eq!(api(&app, &clerk, Method::GET, "/api/v1/persons", None).await.json()["total"], 0, "no longer active");

    let mut other = chen_jing();
    other["id_number"] = json!("371602198511120036");
    other["name"] = json!("误登记");
    let mistake = register(&app, &clerk, other).await.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/persons/{mistake}/moves");
    let no_reason = api(&app, &clerk, Method::POST, &path, Some(json!({"status": "removed", "version": 1}))).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.json()["error"]["field"], "note");
    let removed =
        api(&app, &clerk, Method::POST, &path, Some(json!({"status": "removed", "note": "重复录入", "version": 1})))
            .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert!(app.store.person(mistake).await.unwrap().is_some(), "the row is still there");
    assert_eq!(
        api(&app, &clerk, Method::GET, &format!("/api/v1/persons/{mistake}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.store.person_history(mistake).await.unwrap()[0].action, "person.removed");
}

#[tokio::test]
async fn the_registration_form_checks_the_id_number_as_it_is_typed() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let form = get(&app, "/persons/new?direction=in", Some(&clerk)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"value="371602001001""#), "the clerk's village is the default unit");
    let facts = get(&app, &format!("/persons/check-id?id_number={CHEN_JING}"), Some(&clerk)).await.body;
    assert!(facts.contains("1990-03-07") && facts.contains("女性"), "{facts}");
    let wrong = get(&app, "/persons/check-id?id_number=511923199003070028", Some(&clerk)).await.body;
    assert!(wrong.contains("校验位"), "{wrong}");
    register(&app, &clerk, chen_jing()).await;
    let dup = get(&app, &format!("/persons/check-id?id_number={CHEN_JING}"), Some(&clerk)).await.body;
    assert!(dup.contains("id-duplicate") && dup.contains("陈静"), "{dup}");

    // A form with broken fields comes back with each field's message, as typed.
    let reply =
        post_form(&app, "/persons", Some(&clerk), &[("name", "陈2"), ("direction", "in"), ("id_number", "abc")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("姓名只能包含文字")
            && reply.body.contains("身份证号须为 18 位")
            && reply.body.contains(r#"value="陈2""#)
    );
}

#[tokio::test]
async fn sections_record_children_pregnancies_and_certificates_and_decide_key_persons() {
    // "This year" and "still valid" are read on this day: the birth below falls in 2026 and the
    // certificate runs to 2029, whatever year the suite runs in.
    let (app, _db) = crate::helpers::demo_app_at(domain::Clock::fixed_at("2026-11-25T10:00:00+08:00").unwrap()).await;
    let clerk = demo_login(&app, "clerk").await;
    let id = register(&app, &clerk, chen_jing()).await.json()["id"].as_i64().unwrap();
    let path = |s: &str| format!("/api/v1/persons/{id}/{s}");
    let one = format!("/api/v1/persons/{id}");
    let record = || api(&app, &clerk, Method::GET, &one, None);

    // A woman of 36 without a certificate is a key person from the start.
    let r = record().await.json();
    assert_eq!((r["key_person"].as_bool(), r["key_reasons"].clone()), (Some(true), json!(["no_certificate"])));
    let cert = json!({"number": "川平婚育2026-001", "issuer": "平昌县江口镇人民政府", "issued_on": "2026-01-02", "valid_until": "2029-01-01"});
    assert_eq!(api(&app, &clerk, Method::POST, &path("certificates"), Some(cert)).await.status, StatusCode::CREATED);
    assert_eq!(record().await.json()["key_person"], false, "a valid certificate ends it");

    // A pregnancy makes her a key person again; its birth keeps her one for the year.
    let preg = api(
        &app,
        &clerk,
        Method::POST,
        &path("pregnancies"),
        Some(json!({"detected_on": "2026-03-01", "expected_on": "2026-11-20"})),
    )
    .await;
    assert_eq!(preg.status, StatusCode::CREATED, "{}", preg.body);
    let preg_id = preg.json()["id"].as_i64().unwrap();
    assert_eq!(record().await.json()["key_reasons"], json!(["pregnant"]));
    let pregnant = api(&app, &clerk, Method::GET, "/api/v1/persons?key_person=1", None).await.json();
    assert_eq!(pregnant["total"], 1, "key persons are searchable");
    let bad = api(
        &app,
        &clerk,
        Method::PUT,
        &format!("{}/{preg_id}", path("pregnancies")),
        Some(json!({"outcome": "birth", "ended_on": "2026-02-01"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "a birth before the pregnancy was found");
    let closed = api(
        &app,
        &clerk,
        Method::PUT,
        &format!("{}/{preg_id}", path("pregnancies")),
        Some(json!({"outcome": "birth", "ended_on": "2026-11-02"})),
    )
    .await;
    assert_eq!(closed.status, StatusCode::NO_CONTENT, "{}", closed.body);
    let child = json!({"name": "陈小宝", "gender": "1", "birth_date": "2026-11-02", "birth_order": 1});
    assert_eq!(api(&app, &clerk, Method::POST, &path("children"), Some(child)).await.status, StatusCode::CREATED);
    assert_eq!(record().await.json()["key_reasons"], json!(["birth_this_year"]));

    // Sections list what was recorded; bad entries come back field by field.
    let children = api(&app, &clerk, Method::GET, &path("children"), None).await.json();
    assert_eq!(children["items"][0]["name"], "陈小宝");
    assert_eq!(children["items"][0]["birth_order"], 1);
    let refused =
        api(&app, &clerk, Method::POST, &path("checks"), Some(json!({"kind": "xray", "done_on": "2026-13-01"}))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = refused.json()["errors"].clone();
    assert_eq!(errors.as_array().unwrap().len(), 2, "{errors}");
    let page = get(&app, &format!("/persons/{id}"), Some(&clerk)).await.body;
    assert!(
        page.contains("今年生育") && page.contains("陈小宝") && page.contains("川平婚育2026-001"),
        "the record page shows the sections"
    );
    let history = api(&app, &clerk, Method::GET, &format!("/api/v1/persons/{id}/history"), None).await.json();
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"person.children.add") && actions.contains(&"person.pregnancies.close"), "{actions:?}");
}

#[tokio::test]
async fn the_review_rules_hold_masking_scope_audit_and_states() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let id = register(&app, &clerk, chen_jing()).await.json()["id"].as_i64().unwrap();
    let one = format!("/api/v1/persons/{id}");

    // Supervisors read with ID numbers and phones masked, also in exports.
    let supervisor = demo_login(&app, "supervisor").await;
    let seen = api(&app, &supervisor, Method::GET, &one, None).await.json();
    assert_eq!(seen["id_number"], "511***********0027");
    assert_eq!(seen["phone"], "138****8000");
    let csv = get(&app, "/persons/roster.csv?col=id_number", Some(&supervisor)).await.body;
    assert!(csv.contains("511***********0027") && !csv.contains(CHEN_JING), "{csv}");

    // Nothing beside the masked number rebuilds it: the birth date is its year, the household
    // registration its county — on the record and in the list.
    let mut detailed = chen_jing();
    detailed["hukou_area"] = json!("511923104201");
    detailed["version"] = json!(1);
    assert_eq!(api(&app, &clerk, Method::PUT, &one, Some(detailed)).await.status, StatusCode::OK);
    let seen = api(&app, &supervisor, Method::GET, &one, None).await.json();
    assert_eq!((seen["birth_date"].as_str(), seen["hukou_area"].as_str()), (Some("1990"), Some("511923")), "{seen}");
    let list = api(&app, &supervisor, Method::GET, "/api/v1/persons", None).await.json();
    let row = &list["items"][0];
    assert_eq!((row["birth_date"].as_str(), row["hukou_area"].as_str()), (Some("1990"), Some("511923")), "{row}");
    let mine = api(&app, &clerk, Method::GET, &one, None).await.json();
    assert_eq!((mine["birth_date"].as_str(), mine["hukou_area"].as_str()), (Some("1990-03-07"), Some("511923104201")));
    // Searching by ID digits reveals hidden digits one search at a time: only those who may
    // write search so, and each such search is in the log without the number typed.
    let by_digits = api(&app, &supervisor, Method::GET, "/api/v1/persons?q=0027", None).await;
    assert_eq!(by_digits.status, StatusCode::FORBIDDEN, "{}", by_digits.body);
    let found = api(&app, &clerk, Method::GET, &format!("/api/v1/persons?q={CHEN_JING}"), None).await.json();
    assert_eq!(found["total"], 1);
    let filter = store::AuditFilter { action_prefix: Some("person.search_id".into()), ..Default::default() };
    let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 5 }).await.unwrap();
    assert_eq!(log.len(), 1, "the clerk's search by number is audited");
    assert!(log[0].entry.detail.contains("511***********0027") && !log[0].entry.detail.contains(CHEN_JING));

    // An ordinary search by the origin covers only what it manages; the origin search is explicit.
    let pingchang = demo_login(&app, "pingchang").await;
    assert_eq!(api(&app, &pingchang, Method::GET, "/api/v1/persons", None).await.json()["total"], 0);
    assert_eq!(api(&app, &pingchang, Method::GET, "/api/v1/persons?origin=1", None).await.json()["total"], 1);
    let as_origin = api(&app, &pingchang, Method::GET, &one, None).await.json();
    assert_eq!(as_origin["id_number"], "511***********0027", "the origin reads the projection: {as_origin}");
    let origin_digits = api(&app, &pingchang, Method::GET, "/api/v1/persons?origin=1&q=0027", None).await;
    assert_eq!(origin_digits.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", origin_digits.body);
    assert_eq!(origin_digits.json()["error"]["field"], "q");

    // The audit log names changed fields, never their values.
    let mut change = chen_jing();
    change["version"] = json!(2);
    change["phone"] = json!("13900139000");
    assert_eq!(api(&app, &clerk, Method::PUT, &one, Some(change)).await.status, StatusCode::OK);
    let filter = store::AuditFilter { action_prefix: Some("person.edit".into()), ..Default::default() };
    let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 5 }).await.unwrap();
    assert!(
        log[0].entry.detail.contains("phone") && !log[0].entry.detail.contains("13900139000"),
        "{}",
        log[0].entry.detail
    );

    // The same ID number twice in one unit is refused, also by an edit.
    let mut other = chen_jing();
    other["id_number"] = json!("371602198511120036");
    other["name"] = json!("另一人");
    let other_id = register(&app, &clerk, other).await.json()["id"].as_i64().unwrap();
    let mut clash = chen_jing();
    clash["version"] = json!(1);
    let reply = api(&app, &clerk, Method::PUT, &format!("/api/v1/persons/{other_id}"), Some(clash)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);

    // Men are not recorded as pregnant; an ended record is not edited any more.
    let mut man = chen_jing();
    man["id_number"] = json!("511923199003070019");
    man["name"] = json!("陈强");
    let man_id = register(&app, &clerk, man).await.json()["id"].as_i64().unwrap();
    let preg = api(
        &app,
        &clerk,
        Method::POST,
        &format!("/api/v1/persons/{man_id}/pregnancies"),
        Some(json!({"detected_on": "2026-09-01"})),
    )
    .await;
    assert_eq!(preg.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = preg.json()["error"].clone();
    assert_eq!((error["code"].as_str(), error["field"].as_str()), (Some("invalid"), Some("section")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("women only"), "the rule is named: {error}");
    let end = json!({"status": "returned", "ended_on": "2026-06-01", "version": 1});
    assert_eq!(
        api(&app, &clerk, Method::POST, &format!("/api/v1/persons/{man_id}/moves"), Some(end)).await.status,
        StatusCode::NO_CONTENT
    );
    let mut late_edit = chen_jing();
    late_edit["id_number"] = json!("511923199003070019");
    late_edit["name"] = json!("陈强");
    late_edit["version"] = json!(2);
    let refused = api(&app, &clerk, Method::PUT, &format!("/api/v1/persons/{man_id}"), Some(late_edit)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let error = refused.json()["error"].clone();
    assert_eq!((error["code"].as_str(), error["field"].as_str()), (Some("invalid"), Some("status")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("can no longer be changed"), "the rule is named: {error}");
}

#[tokio::test]
async fn the_administrator_maintains_code_tables_and_entry_follows_them() {
    let (app, _db) = demo_app().await;
    let admin = demo_login(&app, "sysadmin").await;
    let clerk = demo_login(&app, "clerk").await;
    let add = post_form(
        &app,
        "/admin/codes",
        Some(&admin),
        &[("action", "add"), ("table", "move_reason"), ("code", "7"), ("zh", "投亲靠友"), ("en", "joining family")],
    )
    .await;
    assert_eq!(add.status, StatusCode::SEE_OTHER, "{}", add.body);
    let mut body = chen_jing();
    body["move_reason"] = json!("7");
    let id = register(&app, &clerk, body.clone()).await.json()["id"].as_i64().unwrap();
    assert!(get(&app, &format!("/persons/{id}"), Some(&clerk)).await.body.contains("投亲靠友"));

    // Deactivated: no longer accepted, still named on the record; in use: never deleted.
    post_form(&app, "/admin/codes", Some(&admin), &[("action", "deactivate"), ("table", "move_reason"), ("code", "7")])
        .await;
    body["id_number"] = json!("371602198511120036");
    let refused = register(&app, &clerk, body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("move_reason"));
    assert!(get(&app, &format!("/persons/{id}"), Some(&clerk)).await.body.contains("投亲靠友"));
    let delete =
        post_form(&app, "/admin/codes", Some(&admin), &[("action", "delete"), ("table", "move_reason"), ("code", "7")])
            .await;
    assert_eq!(delete.status, StatusCode::BAD_REQUEST);
    assert!(delete.body.contains("不能删除"));
    let shipped =
        post_form(&app, "/admin/codes", Some(&admin), &[("action", "delete"), ("table", "gender"), ("code", "9")])
            .await;
    assert_eq!(shipped.status, StatusCode::BAD_REQUEST, "shipped codes stay");
    let dup = post_form(
        &app,
        "/admin/codes",
        Some(&admin),
        &[("action", "add"), ("table", "gender"), ("code", "1"), ("zh", "男"), ("en", "m")],
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    // Clerks may not touch the tables.
    let denied = post_form(
        &app,
        "/admin/codes",
        Some(&clerk),
        &[("action", "add"), ("table", "gender"), ("code", "8"), ("zh", "x"), ("en", "x")],
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reader_breaks_the_glass_for_one_record_for_a_day_and_everyone_concerned_sees_it() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let id = register(&app, &clerk, chen_jing()).await.json()["id"].as_i64().unwrap();
    let record = format!("/persons/{id}");
    let neighbour = new_account(&app, "neighbour", "village_clerk", "371602001002").await;
    assert_eq!(get(&app, &record, Some(&neighbour)).await.status, StatusCode::NOT_FOUND, "outside its scope");

    // A reason is required, and the whole number: a suffix finds nothing to open.
    let refused =
        post_form(&app, "/persons/glass", Some(&neighbour), &[("id_number", CHEN_JING), ("reason", "")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("5 至 200 字"), "{}", refused.body);
    let partial =
        post_form(&app, "/persons/glass", Some(&neighbour), &[("id_number", "0027"), ("reason", "急救联系家属")]).await;
    assert_eq!(partial.status, StatusCode::BAD_REQUEST);
    let unknown = [("id_number", "11010519491231002X"), ("reason", "急救联系家属")];
    assert_eq!(post_form(&app, "/persons/glass", Some(&neighbour), &unknown).await.status, StatusCode::NOT_FOUND);

    let opened =
        post_form(&app, "/persons/glass", Some(&neighbour), &[("id_number", CHEN_JING), ("reason", "急救联系家属")])
            .await;
    assert_eq!((opened.status, opened.location()), (StatusCode::SEE_OTHER, record.as_str()), "{}", opened.body);
    let page = get(&app, &record, Some(&neighbour)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"id="read-only""#) && !page.body.contains(CHEN_JING), "read only, masked");
    let api_view = api(&app, &neighbour, Method::GET, &format!("/api/v1/persons/{id}"), None).await.json();
    assert_eq!(api_view["access"], "grant");
    let mut change = chen_jing();
    change["version"] = json!(1);
    let put = api(&app, &neighbour, Method::PUT, &format!("/api/v1/persons/{id}"), Some(change)).await;
    assert_eq!(put.status, StatusCode::NOT_FOUND, "a grant never writes");

    // The managing unit sees who opened its record and why; the auditor has it marked.
    let own = get(&app, &record, Some(&clerk)).await.body;
    assert!(own.contains(r#"id="glass-grants""#) && own.contains("neighbour") && own.contains("急救联系家属"), "{own}");
    let auditor = demo_login(&app, "auditor").await;
    let log = get(&app, "/audit?action=person.break_glass", Some(&auditor)).await.body;
    assert!(log.contains(">neighbour<") && log.contains(r#"class="flagged""#), "{log}");
    let filter = store::AuditFilter { action_prefix: Some("person.read_by_grant".into()), ..Default::default() };
    let (reads, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 10 }).await.unwrap();
    assert_eq!(reads.len(), 2, "each read under the grant is audited, once: the page and the API");

    // A day later the grant has run out.
    let tomorrow = app.at_clock(domain::Clock::fixed_at("2026-11-26T10:00:01+08:00").unwrap());
    let neighbour = crate::helpers::login_as(&tomorrow, "neighbour", crate::helpers::TEST_PASSWORD).await;
    assert_eq!(get(&tomorrow, &record, Some(&neighbour)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn each_next_page_starts_after_the_last_record_and_matches_the_counted_pages() {
    let (app, _db) = demo_app().await;
    app.generate_demo_people(400, 11).await.unwrap();
    let county = demo_login(&app, "county").await;
    let ids = |list: &Value| -> Vec<i64> {
        list["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
    };
    for sort in ["moved_on", "name", "birth_date"] {
        // Page by page through `next_after`, and the same pages by their numbers: the same rows.
        let mut after: Option<i64> = None;
        let mut page = 1;
        let mut walked = Vec::new();
        loop {
            let base = format!("/api/v1/persons?per_page=60&sort={sort}&page={page}");
            let path = match after {
                Some(a) => format!("{base}&after={a}"),
                None => base.clone(),
            };
            let keyset = api(&app, &county, Method::GET, &path, None).await.json();
            let counted = api(&app, &county, Method::GET, &base, None).await.json();
            assert_eq!(ids(&keyset), ids(&counted), "{sort}, page {page}");
            walked.extend(ids(&keyset));
            match keyset["next_after"].as_i64() {
                Some(next) => {
                    assert_eq!(Some(&next), walked.last(), "{sort}: the last record of the page");
                    after = Some(next);
                    page += 1;
                }
                None => break,
            }
        }
        let total = api(&app, &county, Method::GET, &format!("/api/v1/persons?per_page=1&sort={sort}"), None)
            .await
            .json()["total"]
            .as_u64()
            .unwrap();
        assert!(page >= 6, "{sort}: {page} pages");
        assert_eq!(walked.len() as u64, total, "{sort}: every record once");
        let unique: std::collections::BTreeSet<_> = walked.iter().collect();
        assert_eq!(unique.len(), walked.len(), "{sort}: no record twice");
    }

    // A record outside the reader's list names no place in it: the page number decides.
    let clerk = demo_login(&app, "clerk").await;
    let outside = api(&app, &county, Method::GET, "/api/v1/persons?per_page=500&sort=name", None).await.json();
    let mine = api(&app, &clerk, Method::GET, "/api/v1/persons?per_page=500", None).await.json();
    let mine_ids = ids(&mine);
    let stranger =
        ids(&outside).into_iter().find(|id| !mine_ids.contains(id)).expect("a record the clerk does not see");
    let by_number = api(&app, &clerk, Method::GET, "/api/v1/persons?per_page=5&page=2", None).await.json();
    let with_stranger =
        api(&app, &clerk, Method::GET, &format!("/api/v1/persons?per_page=5&page=2&after={stranger}"), None)
            .await
            .json();
    assert_eq!(ids(&with_stranger), ids(&by_number));

    // A cursor that is not a record's id is refused, naming the parameter.
    let reply = api(&app, &county, Method::GET, "/api/v1/persons?after=abc", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert!(reply.body.contains("after"), "{}", reply.body);

    // The page's "next" link carries the cursor.
    let html = get(&app, "/persons?per_page=50", Some(&county)).await.body;
    let next = ids(&api(&app, &county, Method::GET, "/api/v1/persons?per_page=50", None).await.json())[49];
    assert!(html.contains(&format!("page=2&#38;after={next}")), "{html}");
}

/// A name search in name order reads the names that start with the text along the name order
/// and the others through the index (decision 0028): together they are every match, once, in
/// the order of the list without a text, page after page.
#[tokio::test]
async fn a_name_search_in_name_order_lists_every_match_once_in_the_lists_order() {
    let (app, _db) = demo_app().await;
    app.generate_demo_people(400, 11).await.unwrap();
    let clerk = demo_login(&app, "clerk").await;
    let names =
        ["王芳", "王芳芳", "张王芳", "王芳华", "王 芳", "李王芳芳", "王小芳", "芳王", "王芳", "欧阳娜娜莉", "芳芳"];
    for (seq, name) in names.iter().enumerate() {
        let mut body = chen_jing();
        body["id_number"] = json!(crate::helpers::id_number("511923", "19900101", 100 + seq as u32));
        body["name"] = json!(name);
        let reply = register(&app, &clerk, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
    }
    let county = demo_login(&app, "county").await;
    let page_of = |q: Option<&str>, per_page: u32, page: u32, after: Option<i64>| {
        let mut path = format!("/api/v1/persons?sort=name&per_page={per_page}&page={page}");
        if let Some(q) = q {
            path.push_str(&format!("&q={}", crate::helpers::url_encode(q)));
        }
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        let (app, county) = (&app, &county);
        async move { api(app, county, Method::GET, &path, None).await.json() }
    };
    let rows = |list: &Value| -> Vec<(i64, String)> {
        let items = list["items"].as_array().unwrap().iter();
        items.map(|p| (p["id"].as_i64().unwrap(), p["name"].as_str().unwrap().to_owned())).collect()
    };
    // The county's whole list in name order, without a text.
    let mut everyone = Vec::new();
    for page in 1.. {
        let list = rows(&page_of(None, 500, page, None).await);
        if list.is_empty() {
            break;
        }
        everyone.extend(list);
    }
    assert!(everyone.len() > 400, "{} records", everyone.len());
    let common = everyone.iter().find(|(_, n)| n.chars().count() == 2).map(|(_, n)| n.clone()).unwrap();
    let surname: String = common.chars().take(1).collect();
    for q in ["王芳", "王", "芳", "王芳芳", "张王芳", "李", "欧阳娜娜", common.as_str(), surname.as_str()]
    {
        let expected: Vec<(i64, String)> = everyone
            .iter()
            .filter(|(_, n)| n.chars().filter(|c| *c != ' ' && *c != '·').collect::<String>().contains(q))
            .cloned()
            .collect();
        assert!(!expected.is_empty(), "{q} is in the county's list");
        let first = page_of(Some(q), 7, 1, None).await;
        assert_eq!(first["total"].as_u64(), Some(expected.len() as u64), "{q}: the count");
        // Page by page, by the cursor and by the page number: the same rows, in the list's order.
        let (mut walked, mut after, mut page) = (Vec::new(), None, 1);
        loop {
            let keyset = rows(&page_of(Some(q), 7, page, after).await);
            let numbered = rows(&page_of(Some(q), 7, page, None).await);
            assert_eq!(keyset, numbered, "{q}, page {page}");
            let Some(last) = keyset.last() else { break };
            after = Some(last.0);
            walked.extend(keyset);
            page += 1;
        }
        assert_eq!(walked, expected, "{q}: every match once, in name order");
    }
}

/// On PostgreSQL a name search's other matches are read from the name index's rows, which hold
/// each record's unit, state and sort keys (decision 0029): they follow the record whichever write
/// changes it, or a record would stay listed where it no longer is.
#[tokio::test]
async fn a_name_held_inside_others_follows_its_record_to_another_unit_and_out_of_the_list() {
    let (app, _db) = demo_app().await;
    let clerk = demo_login(&app, "clerk").await;
    let county = demo_login(&app, "county").await;
    let mut body = chen_jing();
    body["name"] = json!("赵林成");
    let id = register(&app, &clerk, body.clone()).await.json()["id"].as_i64().unwrap();
    // What a search lists in name order; the list's default order (newest move) must list the
    // same, its matches read another way.
    let in_name_order = |who: &Session, q: &str| {
        let query =
            format!("include_ended={}&q={}", q.contains('*'), crate::helpers::url_encode(q.trim_end_matches('*')));
        let (app, who) = (&app, who.clone());
        async move {
            let mut found = Vec::new();
            for sort in ["name", "moved_on"] {
                let path = format!("/api/v1/persons?sort={sort}&{query}");
                let list = api(app, &who, Method::GET, &path, None).await.json();
                let items = list["items"].as_array().unwrap_or_else(|| panic!("{path}: {list}"));
                let names: Vec<String> = items.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
                found.push((names, list["total"].as_u64().unwrap()));
            }
            assert_eq!(found[0], found[1], "{query}: by name and by newest move");
            found.swap_remove(0)
        }
    };
    for q in ["林成", "成"] {
        assert_eq!(in_name_order(&clerk, q).await, (vec!["赵林成".to_owned()], 1), "{q}");
    }

    // Moved by the county to the next village: out of the clerk's list, in the county's.
    body["managing_unit"] = json!("371602001002");
    body["version"] = json!(1);
    let path = format!("/api/v1/persons/{id}");
    let moved = api(&app, &county, Method::PUT, &path, Some(body.clone())).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    for q in ["林成", "成"] {
        assert_eq!(in_name_order(&clerk, q).await, (vec![], 0), "{q}: no longer the clerk's");
        assert_eq!(in_name_order(&county, q).await, (vec!["赵林成".to_owned()], 1), "{q}");
    }

    // Renamed: found by the new name only.
    body["name"] = json!("赵林城");
    body["version"] = json!(2);
    assert_eq!(api(&app, &county, Method::PUT, &path, Some(body)).await.status, StatusCode::OK);
    assert_eq!(in_name_order(&county, "林成").await, (vec![], 0));
    assert_eq!(in_name_order(&county, "林城").await, (vec!["赵林城".to_owned()], 1));

    // Returned home: out of the active list, still found among the ended.
    let ended = api(
        &app,
        &county,
        Method::POST,
        &format!("/api/v1/persons/{id}/moves"),
        Some(json!({"status": "returned", "ended_on": "2026-06-01", "version": 3})),
    )
    .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    assert_eq!(in_name_order(&county, "林城").await, (vec![], 0), "ended");
    assert_eq!(in_name_order(&county, "林城*").await, (vec!["赵林城".to_owned()], 1), "among the ended");
}

#[tokio::test]
async fn a_county_search_counts_to_a_thousand_then_says_more_and_pages_on() {
    let (app, _db) = demo_app().await;
    app.generate_demo_people(1500, 5).await.unwrap();
    let county = demo_login(&app, "county").await;

    // Every page says "more than 1,000"; the pages go on while they are full, and together they
    // hold every record once.
    let mut seen = std::collections::BTreeSet::new();
    let mut names: Vec<String> = Vec::new();
    let mut page = 1;
    loop {
        let path = format!("/api/v1/persons?per_page=100&sort=name&page={page}");
        let list = api(&app, &county, Method::GET, &path, None).await.json();
        assert_eq!(list["total"], 1000, "page {page}");
        assert_eq!(list["more"], true, "page {page}");
        let items = list["items"].as_array().unwrap();
        for p in items {
            assert!(seen.insert(p["id"].as_i64().unwrap()), "page {page} repeats {}", p["id"]);
            names.push(p["name"].as_str().unwrap().to_owned());
        }
        if items.len() < 100 {
            break;
        }
        page += 1;
    }
    assert!(seen.len() > 1000 && page > 10, "{} records on {page} pages", seen.len());
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "in name order across the pages");

    // The page says so, and offers the page after the last counted one.
    let html = get(&app, "/persons?page=10&per_page=100", Some(&county)).await.body;
    assert!(html.contains(r#"id="found-more""#) && html.contains("超过 1000 人"), "{html}");
    assert!(html.contains("page=11"), "a next page beyond the count");

    // A narrow search is counted exactly.
    let name = api(&app, &county, Method::GET, "/api/v1/persons?per_page=1", None).await.json()["items"][0]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let found =
        api(&app, &county, Method::GET, &format!("/api/v1/persons?q={}", crate::helpers::url_encode(&name)), None)
            .await
            .json();
    assert_eq!(found["more"], false);
    assert_eq!(found["total"].as_u64().unwrap() as usize, found["items"].as_array().unwrap().len());
}
