//! The JSON API: the org-unit endpoints and the OpenAPI document that describes them.

use axum::http::StatusCode;

use crate::helpers::{demo_app, demo_login, demo_rows, get};

#[tokio::test]
async fn without_parent_the_top_level_is_listed() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    let reply = get(&app, "/api/v1/org-units", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    let codes: Vec<&str> = body["items"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["34", "37", "41", "43", "51"]);
    assert_eq!(body["total"], 5);
    let shandong = &body["items"][1];
    assert_eq!(shandong["name"], "山东省");
    assert_eq!(shandong["level"], "province");
    assert!(shandong["parent"].is_null());
}

#[tokio::test]
async fn children_of_a_parent_and_one_unit() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    let body = get(&app, "/api/v1/org-units?parent=371602&per_page=500", Some(&s)).await.json();
    let townships = demo_rows("streets.csv", "371602");
    assert_eq!(body["total"], townships);
    assert!(body["items"].as_array().unwrap().iter().all(|u| u["parent"] == "371602" && u["level"] == "township"));

    let one = get(&app, "/api/v1/org-units/371602001", Some(&s)).await;
    assert_eq!(one.status, StatusCode::OK);
    let unit = one.json();
    assert_eq!(
        (unit["code"].as_str(), unit["name"].as_str(), unit["level"].as_str(), unit["parent"].as_str()),
        (Some("371602001"), Some("市中街道"), Some("township"), Some("371602"))
    );
    assert_eq!(unit["child_count"], demo_rows("villages.csv", "371602001"));
}

#[tokio::test]
async fn search_by_name_or_code_and_level_filter() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    let by_name = get(&app, "/api/v1/org-units?q=%E6%BB%A8%E5%9F%8E", Some(&s)).await.json(); // 滨城
    assert!(by_name["items"].as_array().unwrap().iter().any(|u| u["code"] == "371602"));
    let by_code = get(&app, "/api/v1/org-units?q=371602&level=county", Some(&s)).await.json();
    assert_eq!(by_code["total"], 1);
    let counties = get(&app, "/api/v1/org-units?level=county", Some(&s)).await.json();
    assert_eq!(counties["total"], demo_rows("areas.csv", ""));
    // Under a parent, a search reaches every depth: the villages of Bincheng.
    let villages = get(&app, "/api/v1/org-units?parent=371602&level=village&per_page=1", Some(&s)).await.json();
    assert_eq!(villages["total"], demo_rows("villages.csv", "371602"));
}

#[tokio::test]
async fn pages_partition_the_results() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    let all = get(&app, "/api/v1/org-units?parent=371602&per_page=500", Some(&s)).await.json();
    let all_codes: Vec<_> = all["items"].as_array().unwrap().iter().map(|u| u["code"].clone()).collect();
    let total = all["total"].as_u64().unwrap() as usize;
    assert_eq!(all_codes.len(), total, "one page of 500 holds the whole list");
    assert!(total > 8, "enough children for three pages of four: {total}");
    let mut paged = Vec::new();
    let pages = total.div_ceil(4);
    for page in 1..=pages + 1 {
        let body = get(&app, &format!("/api/v1/org-units?parent=371602&per_page=4&page={page}"), Some(&s)).await.json();
        assert_eq!(body["page"], page);
        assert_eq!(body["per_page"], 4);
        assert_eq!(body["total"], total, "every page tells the same total");
        let items = body["items"].as_array().unwrap();
        let expected = if page < pages {
            4
        } else if page == pages {
            total - 4 * (pages - 1)
        } else {
            0
        };
        assert_eq!(items.len(), expected, "page {page} of {pages} is full, the last holds the rest, past it nothing");
        paged.extend(items.iter().map(|u| u["code"].clone()));
    }
    assert_eq!(paged, all_codes, "the pages together are the whole list, in order, each item once");
    let mut sorted = all_codes.clone();
    sorted.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(all_codes, sorted, "ordered by code");
}

#[tokio::test]
async fn bad_parameters_are_refused_naming_the_field() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    for (query, field) in [
        ("parent=37x", "parent"),
        ("level=galaxy", "level"),
        ("page=0", "page"),
        ("per_page=100000", "per_page"),
        ("page=abc", "page"),
    ] {
        let reply = get(&app, &format!("/api/v1/org-units?{query}"), Some(&s)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body = reply.json();
        assert_eq!(body["error"]["code"], "invalid", "{query}");
        assert_eq!(body["error"]["field"], field, "{query}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    // A code that cannot be one names nothing: 404, like any path naming nothing (decision 0016).
    let reply = get(&app, "/api/v1/org-units/3716021", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"]["code"], "not_found");
}

#[tokio::test]
async fn unknown_units_and_routes_are_404_in_json() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    for path in ["/api/v1/org-units/999999", "/api/v1/org-units?parent=999999", "/api/v1/no-such-thing"] {
        let reply = get(&app, path, Some(&s)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.json()["error"]["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn healthz_answers_while_the_database_does() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    let reply = get(&app, "/healthz", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::OK);
    app.store.close().await;
    let reply = get(&app, "/healthz", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_openapi_document_describes_the_live_api() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    let reply = get(&app, "/api/v1/openapi.json", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let spec = reply.json();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.contains_key("/org-units") && paths.contains_key("/org-units/{code}"));
    // Every property the schema requires is in a live answer, and nothing undocumented is.
    let unit_schema = &spec["components"]["schemas"]["OrgUnit"];
    let unit = get(&app, "/api/v1/org-units/371602", Some(&s)).await.json();
    let documented: Vec<&str> = unit_schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    for required in unit_schema["required"].as_array().unwrap() {
        assert!(unit.get(required.as_str().unwrap()).is_some(), "missing {required}");
    }
    for key in unit.as_object().unwrap().keys() {
        assert!(documented.contains(&key.as_str()), "{key} is not documented");
    }
    let list_schema = &spec["components"]["schemas"]["OrgUnitList"];
    let list = get(&app, "/api/v1/org-units", Some(&s)).await.json();
    for required in list_schema["required"].as_array().unwrap() {
        assert!(list.get(required.as_str().unwrap()).is_some(), "missing {required}");
    }
    // Every documented query parameter is accepted.
    let params: Vec<&str> = paths["/org-units"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["parent", "level", "q", "page", "per_page"]);
    // Every route under /api/v1 is documented, and nothing undocumented is.
    let mut documented_routes: Vec<String> = Vec::new();
    for (path, ops) in paths {
        for method in
            ops.as_object().unwrap().keys().filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
        {
            documented_routes.push(format!("{} /api/v1{path}", method.to_uppercase()));
        }
    }
    let mut live: Vec<String> = qipan::web::route_list()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/v1/") && *p != "/api/v1/openapi.json")
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    documented_routes.sort();
    live.sort();
    assert_eq!(documented_routes, live);
    let session = &spec["components"]["schemas"]["Session"];
    let me = get(&app, "/api/v1/session", Some(&s)).await.json();
    for required in session["required"].as_array().unwrap() {
        assert!(me.get(required.as_str().unwrap()).is_some(), "missing {required}");
    }
    let reply = get(&app, "/api/v1/org-units?parent=37&level=city&q=3716&page=1&per_page=10", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["total"], 1);
}

/// A request as a department system might send it, with the session's cookie and CSRF token.
async fn raw(
    app: &qipan::service::App,
    s: &crate::helpers::Session,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> crate::helpers::Reply {
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header(axum::http::header::COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf);
    if let Some(t) = content_type {
        req = req.header(axum::http::header::CONTENT_TYPE, t);
    }
    crate::helpers::send(app, req.body(axum::body::Body::from(body.to_owned())).unwrap()).await
}

#[tokio::test]
async fn every_refused_request_is_a_problem_document_with_one_status_per_kind_of_mistake() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    let clerk = demo_login(&app, "clerk").await;
    let cases = [
        // Not sent as JSON: 415.
        (raw(&app, &clerk, "POST", "/api/v1/persons", None, "{}").await, 415, "unsupported_media_type", None),
        // Not JSON at all: 400.
        (
            raw(&app, &clerk, "POST", "/api/v1/persons", Some("application/json"), "{\"name\": ").await,
            400,
            "malformed",
            None,
        ),
        // JSON of the wrong shape: 422 naming the field.
        (
            raw(&app, &clerk, "POST", "/api/v1/worklist/marks", Some("application/json"), r#"{"key": 7}"#).await,
            422,
            "invalid",
            Some("key"),
        ),
        // A query parameter of the wrong type: 422 naming it.
        (raw(&app, &s, "GET", "/api/v1/exchange/items?page=abc", None, "").await, 422, "invalid", Some("page")),
        // A path naming nothing: 404.
        (raw(&app, &s, "GET", "/api/v1/orders/abc", None, "").await, 404, "not_found", None),
        // A rule broken by a well-formed request: 422, as for every rule.
        (raw(&app, &s, "GET", "/api/v1/org-units?level=galaxy", None, "").await, 422, "invalid", Some("level")),
    ];
    for (reply, status, code, field) in cases {
        assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
        assert_eq!(reply.headers[axum::http::header::CONTENT_TYPE], "application/problem+json", "{}", reply.body);
        let body = reply.json();
        assert_eq!((body["status"].as_u64(), body["code"].as_str()), (Some(u64::from(status)), Some(code)), "{body}");
        assert_eq!(body["error"]["code"], code, "the first envelope is kept: {body}");
        assert!(
            body["type"].as_str().unwrap().ends_with(code) && body["detail"].as_str().is_some_and(|d| !d.is_empty())
        );
        assert_eq!(body["errors"][0]["field"].as_str(), field, "{body}");
        assert_eq!(body["error"]["field"].as_str(), field, "{body}");
    }
    // A NUL in a value (which PostgreSQL would refuse to store) is refused, naming the field,
    // at any depth, before anything is written; the escape as text (`\\u0000`) is no NUL.
    for (body, field) in
        [(r#"{"name": "陈\u0000静"}"#, "name"), (r#"{"issuer": "卫健局", "extra": [{"x": "\u0000"}]}"#, "extra")]
    {
        let reply = raw(&app, &clerk, "POST", "/api/v1/persons", Some("application/json"), body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
        let answer = reply.json();
        assert_eq!(answer["error"]["field"].as_str(), Some(field), "{answer}");
        assert_eq!(answer["errors"][0]["rule"].as_str(), Some("characters"), "{answer}");
    }
    let reply =
        raw(&app, &clerk, "POST", "/api/v1/persons", Some("application/json"), r#"{"name": "a\\u0000b"}"#).await;
    assert_ne!(reply.json()["errors"][0]["rule"].as_str(), Some("characters"), "{}", reply.body);
    // A record refused field by field lists every field, in the same envelope.
    let reply = raw(&app, &clerk, "POST", "/api/v1/persons", Some("application/json"), r#"{"name": ""}"#).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = reply.json();
    assert!(body["errors"].as_array().unwrap().len() > 1 && body["code"] == "invalid", "{body}");
    // The document says so: every error answer is a problem document, and the codes are listed.
    let spec = get(&app, "/api/v1/openapi.json", Some(&s)).await.json();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in
            ops.as_object().unwrap().iter().filter(|(m, _)| ["get", "post", "put", "delete"].contains(&m.as_str()))
        {
            for (status, response) in op["responses"].as_object().unwrap() {
                let response = if let Some(r) = response.get("$ref") {
                    &spec["components"]["responses"][r.as_str().unwrap().rsplit('/').next().unwrap()]
                } else {
                    response
                };
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(response["content"].get("application/problem+json").is_some(), "{method} {path} {status}");
                }
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "415", "422"] {
                    assert!(op["responses"].get(status).is_some(), "{method} {path} documents {status}");
                }
            }
        }
    }
    let codes = &spec["components"]["schemas"]["ErrorCode"]["enum"];
    for code in ["malformed", "unsupported_media_type", "conflict", "invalid"] {
        assert!(codes.as_array().unwrap().iter().any(|c| c == code), "{code}");
    }
}
