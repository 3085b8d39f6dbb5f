//! The HTML pages: the shell, the org browser, the language switch, the error pages.

use axum::http::{StatusCode, header};
use domain::Clock;

use crate::helpers::{Session, demo_app, demo_login, demo_rows, empty_app, get, new_account};

async fn county(app: &qipan::service::App) -> Session {
    demo_login(app, "county").await
}

#[tokio::test]
async fn the_home_page_counts_the_hierarchy_in_chinese_by_default() {
    let (app, _db) = demo_app().await;
    let s = county(&app).await;
    let reply = get(&app, "/", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let html = reply.body;
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains("组织机构"));
    let villages = demo_rows("villages.csv", "");
    assert!(html.contains(&format!(r#"<td>村/社区</td><td class="num">{villages}</td>"#)), "{html}");
}

#[tokio::test]
async fn a_unit_with_nothing_below_says_so() {
    let (app, _db) = empty_app(crate::helpers::test_clock()).await;
    // An account needs a unit; an installation without divisions can only have the console.
    app.import_divisions(&[
        ("provinces.csv", "code,name\n37,山东省\n"),
        ("cities.csv", "code,name,provinceCode\n"),
        ("areas.csv", "code,name,cityCode,provinceCode\n"),
        ("streets.csv", "code,name,areaCode,provinceCode,cityCode\n"),
        ("villages.csv", "code,name,streetCode,provinceCode,cityCode,areaCode\n"),
    ])
    .await
    .unwrap();
    let s = new_account(&app, "lonely", "supervisor", "37").await;
    let html = get(&app, "/orgs/37", Some(&s)).await.body;
    assert!(html.contains("没有下级单位"), "{html}");
    let html = get(&app, "/", Some(&s)).await.body;
    assert!(html.contains("<td>省</td><td class=\"num\">1</td>"), "{html}");
}

#[tokio::test]
async fn the_tree_expands_level_by_level() {
    let (app, _db) = demo_app().await;
    let s = county(&app).await;
    let html = get(&app, "/orgs", Some(&s)).await.body;
    assert!(html.contains("山东省") && html.contains(r#"hx-get="/orgs/tree?parent=37""#));
    let html = get(&app, "/orgs/tree?parent=3716", Some(&s)).await.body;
    assert!(html.contains("滨城区") && html.contains(r#"hx-get="/orgs/tree?parent=371602""#));
    // Villages have nothing below: leaves, not expandable nodes.
    let html = get(&app, "/orgs/tree?parent=371602001", Some(&s)).await.body;
    assert!(html.contains(r#"class="leaf""#) && !html.contains("<details"));
    let reply = get(&app, "/orgs/tree?parent=999999", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_finds_by_name_and_code_and_escapes_what_it_echoes() {
    let (app, _db) = demo_app().await;
    let s = county(&app).await;
    let html = get(&app, "/orgs?q=%E6%BB%A8%E5%9F%8E", Some(&s)).await.body; // 滨城
    assert!(html.contains(r#"<a href="/orgs/371602">滨城区</a>"#), "{html}");
    let html = get(&app, "/orgs/search?q=371602001", Some(&s)).await.body;
    assert!(html.contains("市中街道") && html.contains("org-results"));
    let html = get(&app, "/orgs/search?q=", Some(&s)).await.body;
    assert!(html.contains(r#"class="tree""#), "a cleared search shows the tree again");
    let html = get(&app, "/orgs?q=%3Cscript%3Ealert(1)%3C/script%3E", Some(&s)).await.body;
    assert!(!html.contains("<script>alert(1)"), "search text must be escaped");
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "{html}");
}

#[tokio::test]
async fn a_unit_page_shows_its_ancestry_and_pages_its_children() {
    let (app, _db) = demo_app().await;
    let s = county(&app).await;
    let html = get(&app, "/orgs/371602001", Some(&s)).await.body;
    assert!(html.contains(r#"<a href="/orgs/37">山东省</a>"#));
    assert!(html.contains(r#"<a href="/orgs/3716">滨州市</a>"#));
    assert!(html.contains(r#"<a href="/orgs/371602">滨城区</a>"#));

    // The township with the most villages in the demo; more than one page of 50.
    let (_, text) = qipan::demo::DIVISION_FILES[4];
    let mut best = ("", 0);
    for street in text.lines().skip(1).filter_map(|l| l.split(',').nth(2)) {
        let n = demo_rows("villages.csv", street);
        if n > best.1 {
            best = (street, n);
        }
    }
    assert!(best.1 > 50, "the demo has a township with more than 50 villages");
    let pages = best.1.div_ceil(50);
    let html = get(&app, &format!("/orgs/{}?page={pages}", best.0), Some(&s)).await.body;
    assert!(html.contains(&format!("第 {pages} / {pages} 页，共 {} 条", best.1)), "{html}");
    assert_eq!(html.matches("<tr><td><code>").count() as u64, best.1 - 50 * (pages - 1));
}

#[tokio::test]
async fn the_language_switch_is_remembered() {
    let (app, _db) = demo_app().await;
    let s = county(&app).await;
    let en = s.with_cookie("qipan_lang=en");
    let reply = get(&app, "/lang?set=en&next=%2Forgs%3Fq%3D37", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/orgs?q=37");
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("qipan_lang=en;") && cookie.contains("Max-Age="), "{cookie}");

    let html = get(&app, "/orgs", Some(&en)).await.body;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("Organisation units") && html.contains("Province"));
    assert!(!html.contains("组织机构"), "no Chinese UI text left in the English page");

    let reply = get(&app, "/lang?set=en&next=//evil.example/", Some(&s)).await;
    assert_eq!(reply.headers[header::LOCATION], "/", "never redirect off the site");
}

#[tokio::test]
async fn errors_are_pages_in_the_same_style_and_language() {
    let (app, _db) = demo_app().await;
    let s = county(&app).await;
    let en = s.with_cookie("qipan_lang=en");
    let reply = get(&app, "/no/such/page", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("未找到") && reply.body.contains(r#"href="/orgs""#), "the layout is there");
    let reply = get(&app, "/no/such/page", Some(&en)).await;
    assert!(reply.body.contains("Not found"));

    let reply = get(&app, "/orgs/37x", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("「代码」") && reply.body.contains("2、4、6、9 或 12 位数字"), "{}", reply.body);
    let reply = get(&app, "/orgs/999999", Some(&en)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("No organisation unit “999999” was found."), "{}", reply.body);
}

#[tokio::test]
async fn a_fixed_clock_is_announced_on_every_page() {
    let (app, _db) = demo_app().await;
    let fixed = app.at_clock(Clock::fixed_at("2026-03-01T09:00:00+08:00").unwrap());
    let banner = "培训模式：系统时钟固定为 2026-03-01 09:00";
    let signed_out = get(&fixed, "/login", None).await;
    assert!(signed_out.body.contains(banner), "the sign-in page warns before anyone signs in");
    let pages: [(&str, &[&str]); 5] = [
        ("clerk", &["/", "/persons", "/persons/new", "/quality", "/orgs", "/account", "/no-such-page"]),
        ("county", &["/exchange", "/exchange/notifications", "/exchange/stats", "/orders"]),
        ("supervisor", &["/supervision", "/supervision/performance", "/supervision/bulletin", "/reports"]),
        ("sysadmin", &["/admin/accounts", "/admin/calendar", "/admin/codes"]),
        ("auditor", &["/audit"]),
    ];
    for (user, paths) in pages {
        let s = crate::helpers::demo_login(&fixed, user).await;
        for path in paths {
            let page = get(&fixed, path, Some(&s)).await;
            assert!(page.body.contains("<html"), "{user} {path} is a page: {}", page.status);
            assert!(page.body.contains(banner), "{user} {path} ({}) announces the fixed clock", page.status);
        }
    }
    let en = county(&fixed).await.with_cookie("qipan_lang=en");
    let english = get(&fixed, "/", Some(&en)).await.body;
    assert!(english.contains("Training mode: the clock is fixed at 2026-03-01 09:00"), "{english}");

    // On the real clock there is nothing to announce.
    let real = app.at_clock(Clock::System);
    let s = county(&real).await;
    assert!(!get(&real, "/", Some(&s)).await.body.contains("培训模式"));
}

#[tokio::test]
async fn assets_are_served_from_the_binary_and_nothing_comes_from_elsewhere() {
    let (app, _db) = demo_app().await;
    let s = county(&app).await;
    let htmx = get(&app, "/assets/htmx-2.0.11.min.js", Some(&s)).await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.body.contains("htmx") && htmx.body.len() > 40_000);
    assert!(htmx.headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    let css = get(&app, "/assets/qipan.css", Some(&s)).await;
    assert!(css.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
    for path in ["/", "/orgs", "/orgs/371602", "/nope"] {
        let html = get(&app, path, Some(&s)).await.body;
        for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
            assert!(!html.contains(attr), "{path} loads something from outside: {attr}");
        }
    }
    assert_eq!(get(&app, "/assets/nothing.js", Some(&s)).await.status, StatusCode::NOT_FOUND);
    // No inline script anywhere, so the Content-Security-Policy can forbid it.
    let page = get(&app, "/admin/accounts", Some(&s)).await;
    let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store", "pages are never cached");
    let sys = crate::helpers::demo_login(&app, "sysadmin").await;
    let county = app.store.account_by_username("county").await.unwrap().unwrap();
    for path in ["/", "/orgs", "/login", "/admin/accounts", &format!("/admin/accounts/{}", county.id)] {
        let html = get(&app, path, Some(&sys)).await.body;
        assert!(!html.contains(" onsubmit=") && !html.contains(" onclick=") && !html.contains("javascript:"), "{path}");
        assert_eq!(html.matches("<script").count(), html.matches("<script src=\"/assets/").count(), "{path}");
    }
}

#[tokio::test]
async fn an_area_field_finds_a_unit_by_name_pinyin_initials_or_code() {
    let (app, _db) = demo_app().await;
    let s = county(&app).await;
    for typed in ["%E6%BB%A8%E5%9F%8E", "bc", "bincheng", "371602"] {
        let html = get(&app, &format!("/orgs/suggest?q={typed}"), Some(&s)).await.body;
        assert!(html.contains(r#"<option value="371602">滨城区"#), "{typed}: {html}");
    }
    // As htmx sends it: the field's own name and value.
    let html = get(&app, "/orgs/suggest?field=hukou_area&hukou_area=pingchang", Some(&s)).await.body;
    assert!(html.contains(r#"value="511923""#), "{html}");
    assert!(get(&app, "/orgs/suggest?q=", Some(&s)).await.body.trim().is_empty());
    // The org browser's search understands pinyin too.
    let html = get(&app, "/orgs?q=shizhong", Some(&s)).await.body;
    assert!(html.contains("市中街道"), "{html}");
}
