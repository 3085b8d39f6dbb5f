//! The HTML pages: the shell, the org browser, the language switch, the error pages.

use axum::http::{StatusCode, header};
use domain::Clock;

use crate::helpers::{demo_app, demo_rows, empty_app, get};

const EN: Option<&str> = Some("qipan_lang=en");

#[tokio::test]
async fn the_home_page_counts_the_hierarchy_in_chinese_by_default() {
    let (app, _db) = demo_app().await;
    let reply = get(&app, "/", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = reply.body;
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains("组织机构"));
    let villages = demo_rows("villages.csv", "");
    assert!(
        html.contains(&format!(
            r#"<td>村/社区</td><td class="num">{villages}</td>"#
        )),
        "{html}"
    );
}

#[tokio::test]
async fn an_empty_installation_says_how_to_fill_it() {
    let (app, _db) = empty_app(Clock::System).await;
    let html = get(&app, "/", None).await.body;
    assert!(html.contains("qipan import divisions PATH"));
    let html = get(&app, "/orgs", None).await.body;
    assert!(html.contains("尚无组织机构"));
}

#[tokio::test]
async fn the_tree_expands_level_by_level() {
    let (app, _db) = demo_app().await;
    let html = get(&app, "/orgs", None).await.body;
    assert!(html.contains("山东省") && html.contains(r#"hx-get="/orgs/tree?parent=37""#));
    let html = get(&app, "/orgs/tree?parent=3716", None).await.body;
    assert!(html.contains("滨城区") && html.contains(r#"hx-get="/orgs/tree?parent=371602""#));
    // Villages have nothing below: leaves, not expandable nodes.
    let html = get(&app, "/orgs/tree?parent=371602001", None).await.body;
    assert!(html.contains(r#"class="leaf""#) && !html.contains("<details"));
    let reply = get(&app, "/orgs/tree?parent=999999", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_finds_by_name_and_code_and_escapes_what_it_echoes() {
    let (app, _db) = demo_app().await;
    let html = get(&app, "/orgs?q=%E6%BB%A8%E5%9F%8E", None).await.body; // 滨城
    assert!(
        html.contains(r#"<a href="/orgs/371602">滨城区</a>"#),
        "{html}"
    );
    let html = get(&app, "/orgs/search?q=371602001", None).await.body;
    assert!(html.contains("市中街道") && html.contains("org-results"));
    let html = get(&app, "/orgs/search?q=", None).await.body;
    assert!(
        html.contains(r#"class="tree""#),
        "a cleared search shows the tree again"
    );
    let html = get(&app, "/orgs?q=%3Cscript%3Ealert(1)%3C/script%3E", None)
        .await
        .body;
    assert!(
        !html.contains("<script>alert(1)"),
        "search text must be escaped"
    );
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );
}

#[tokio::test]
async fn a_unit_page_shows_its_ancestry_and_pages_its_children() {
    let (app, _db) = demo_app().await;
    let html = get(&app, "/orgs/371602001", None).await.body;
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
    assert!(
        best.1 > 50,
        "the demo has a township with more than 50 villages"
    );
    let pages = best.1.div_ceil(50);
    let html = get(&app, &format!("/orgs/{}?page={pages}", best.0), None)
        .await
        .body;
    assert!(
        html.contains(&format!("第 {pages} / {pages} 页，共 {} 条", best.1)),
        "{html}"
    );
    assert_eq!(
        html.matches("<tr><td><code>").count() as u64,
        best.1 - 50 * (pages - 1)
    );
}

#[tokio::test]
async fn the_language_switch_is_remembered() {
    let (app, _db) = demo_app().await;
    let reply = get(&app, "/lang?set=en&next=%2Forgs%3Fq%3D37", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/orgs?q=37");
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("qipan_lang=en;") && cookie.contains("Max-Age="),
        "{cookie}"
    );

    let html = get(&app, "/orgs", EN).await.body;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("Organisation units") && html.contains("Province"));
    assert!(
        !html.contains("组织机构"),
        "no Chinese UI text left in the English page"
    );

    let reply = get(&app, "/lang?set=en&next=//evil.example/", None).await;
    assert_eq!(
        reply.headers[header::LOCATION],
        "/",
        "never redirect off the site"
    );
}

#[tokio::test]
async fn errors_are_pages_in_the_same_style_and_language() {
    let (app, _db) = demo_app().await;
    let reply = get(&app, "/no/such/page", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        reply.body.contains("未找到") && reply.body.contains(r#"href="/orgs""#),
        "the layout is there"
    );
    let reply = get(&app, "/no/such/page", EN).await;
    assert!(reply.body.contains("Not found"));

    let reply = get(&app, "/orgs/37x", None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body.contains("「代码」") && reply.body.contains("2、4、6、9 或 12 位数字"),
        "{}",
        reply.body
    );
    let reply = get(&app, "/orgs/999999", EN).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        reply
            .body
            .contains("No organisation unit “999999” was found."),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_fixed_clock_is_announced_on_every_page() {
    let (app, _db) = empty_app(Clock::fixed_at("2026-03-01T09:00:00+08:00").unwrap()).await;
    let html = get(&app, "/", None).await.body;
    assert!(html.contains("2026-03-01 09:00"), "{html}");
}

#[tokio::test]
async fn assets_are_served_from_the_binary_and_nothing_comes_from_elsewhere() {
    let (app, _db) = demo_app().await;
    let htmx = get(&app, "/assets/htmx-2.0.11.min.js", None).await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.body.contains("htmx") && htmx.body.len() > 40_000);
    assert!(
        htmx.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let css = get(&app, "/assets/qipan.css", None).await;
    assert!(
        css.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    for path in ["/", "/orgs", "/orgs/371602", "/nope"] {
        let html = get(&app, path, None).await.body;
        for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
            assert!(
                !html.contains(attr),
                "{path} loads something from outside: {attr}"
            );
        }
    }
    assert_eq!(
        get(&app, "/assets/nothing.js", None).await.status,
        StatusCode::NOT_FOUND
    );
}
