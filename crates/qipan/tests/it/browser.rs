//! The demo in a real headless Chromium, driven through chromedriver (both from Debian):
//! browse the org tree, search, switch the language and come back to it.

use std::net::TcpListener as StdListener;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::demo_app;

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The chromedriver to use, or `None` to skip — only when `QIPAN_SKIP_BROWSER=1` says so: a
/// missing driver is a failure, never a silent pass.
fn chromedriver() -> Option<String> {
    if std::env::var("QIPAN_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("skipping the browser test: QIPAN_SKIP_BROWSER=1");
        return None;
    }
    let path = std::env::var("QIPAN_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
    assert!(
        std::path::Path::new(&path).exists(),
        "browser tests need chromedriver at {path} (scripts/test installs chromium-driver; \
         QIPAN_SKIP_BROWSER=1 skips them on purpose)"
    );
    Some(path)
}

struct Driver {
    process: tokio::process::Child,
    client: Client,
}

async fn start_browser(driver_path: &str) -> Driver {
    let port = free_port();
    let process = tokio::process::Command::new(driver_path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().unwrap().keep();
    let chromium = std::env::var("QIPAN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1400,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = String::new();
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            Ok(client) => return Driver { process, client },
            Err(e) => last_error = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot start a browser session through chromedriver: {last_error}");
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Signs in through the real login form and waits for the signed-in page.
async fn sign_in(client: &Client, base: &str, username: &str, next: &str) {
    client.goto(&format!("{base}/login?next={next}")).await.unwrap();
    client.find(Locator::Css("#username")).await.unwrap().send_keys(username).await.unwrap();
    client.find(Locator::Css("#password")).await.unwrap().send_keys(qipan::demo::DEMO_PASSWORD).await.unwrap();
    client.find(Locator::Css("#login-submit")).await.unwrap().click().await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#me"))
        .await
        .unwrap_or_else(|e| panic!("{username} did not get signed in: {e}"));
}

async fn sign_out(client: &Client) {
    client.find(Locator::Css("#logout")).await.unwrap().click().await.unwrap();
    client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#login-submit")).await.unwrap();
}

async fn serve_demo() -> (String, tokio::task::JoinHandle<std::io::Result<()>>, crate::helpers::TestDb) {
    let (base, server, db, _) = serve_demo_app().await;
    (base, server, db)
}

async fn serve_demo_app()
-> (String, tokio::task::JoinHandle<std::io::Result<()>>, crate::helpers::TestDb, qipan::service::App) {
    let (app, db) = demo_app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let service = qipan::web::router(app.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, service).await });
    (base, server, db, app)
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_registers_an_inflow_finds_it_by_initials_and_meets_a_stale_edit() {
    let Some(driver_path) = chromedriver() else { return };
    let (base, server, _db, app) = serve_demo_app().await;
    let Driver { mut process, client } = start_browser(&driver_path).await;
    let result = async {
        sign_in(&client, &base, "clerk", "/persons").await;
        let started = std::time::Instant::now();
        client.find(Locator::Css("#register-in")).await.unwrap().click().await.unwrap();
        fill(&client, "#id_number", "511923199003070027").await;
        // The ID number is read as it is typed: birth date and gender appear.
        let facts = text_of(&client, "#id-facts").await;
        assert!(facts.contains("1990-03-07") && facts.contains("女性"), "{facts}");
        fill(&client, "#name", "陈静").await;
        fill(&client, "#hukou_area", "511923").await;
        fill(&client, "#hukou_address", "平昌县江口镇某村").await;
        fill(&client, "#residence_address", "新苑小区3号楼").await;
        client.find(Locator::Css("#save-person")).await.unwrap().click().await.unwrap();
        assert_eq!(text_of(&client, "#done").await, "已保存。");
        let elapsed = started.elapsed();
        eprintln!("registering one person through the form took {elapsed:?} (browser-driven)");
        assert!(text_of(&client, "h1").await.contains("陈静"));
        assert_eq!(text_of(&client, "#full-id").await, "511923199003070027");
        let record_url = client.current_url().await.unwrap();

        // Found again by the initials of her name, without a page load.
        client.goto(&format!("{base}/persons")).await.unwrap();
        fill(&client, "#q", "cj").await;
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath("//table[@id='persons']//a[text()='陈静']"))
            .await
            .unwrap();
        assert!(
            text_of(&client, "#persons").await.contains("511***********0027"),
            "the ID number is masked in the list"
        );

        // She opens the edit form; meanwhile the township officer changes the record.
        client.goto(&format!("{}/edit", record_url.as_str().split('?').next().unwrap())).await.unwrap();
        let id: i64 = record_url.path().rsplit('/').next().unwrap().parse().unwrap();
        let officer = crate::helpers::demo_login(&app, "township").await;
        let token = officer.cookie.strip_prefix("qipan_session=").unwrap();
        let actor = app.session_actor(token, None).await.unwrap().unwrap();
        let mut input = domain::record::PersonInput {
            id_number: "511923199003070027".into(),
            name: "陈静".into(),
            hukou_area: "511923".into(),
            hukou_address: "平昌县江口镇某村".into(),
            residence_area: "371602001001".into(),
            residence_address: "新苑小区5号楼".into(),
            managing_unit: "371602001001".into(),
            direction: "in".into(),
            ..Default::default()
        };
        input.moved_on = app.clock.today().to_string();
        app.edit_person(&actor, id, Some(1), &input).await.unwrap();
        fill(&client, "#phone", "13800138000").await;
        client.find(Locator::Css("#save-person")).await.unwrap().click().await.unwrap();
        let conflict = text_of(&client, "#form-error").await;
        assert!(conflict.contains("已被他人修改"), "{conflict}");
        assert!(text_of(&client, "main").await.contains("新苑小区5号楼"), "the page shows the record as it is now");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join("person-conflict.png"), png).ok();
        }
    }
    .await;
    client.close().await.ok();
    process.kill().await.ok();
    server.abort();
    result
}

async fn nav_texts(client: &Client) -> Vec<String> {
    let mut v = Vec::new();
    for e in client.find_all(Locator::Css("header nav a")).await.unwrap() {
        v.push(e.text().await.unwrap());
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_role_signs_in_through_the_form_and_sees_its_own_part() {
    let Some(driver_path) = chromedriver() else { return };
    let (base, server, _db) = serve_demo().await;
    let Driver { mut process, client } = start_browser(&driver_path).await;
    let result = async {
        // Anonymous visitors see nothing but the login page.
        client.goto(&format!("{base}/orgs")).await.unwrap();
        assert_eq!(text_of(&client, "h1").await, "登录");
        // A wrong password gets the one generic message.
        client.find(Locator::Css("#username")).await.unwrap().send_keys("county").await.unwrap();
        client.find(Locator::Css("#password")).await.unwrap().send_keys("wrong-password-1A").await.unwrap();
        client.find(Locator::Css("#login-submit")).await.unwrap().click().await.unwrap();
        assert!(text_of(&client, "#login-error").await.contains("用户名或密码不正确"));

        // (username, the navigation it must see, the unit it belongs to)
        let cases: [(&str, &[&str], &str); 8] = [
            ("clerk", &["首页", "个案", "差错校验", "信息交换", "督办", "报表", "组织机构"], "新苑社区居委会"),
            ("township", &["首页", "个案", "差错校验", "信息交换", "督办", "报表", "组织机构"], "市中街道"),
            ("county", &["首页", "个案", "差错校验", "信息交换", "监管", "报表", "组织机构"], "滨城区"),
            ("pingchang", &["首页", "个案", "差错校验", "信息交换", "监管", "报表", "组织机构"], "平昌县"),
            ("supervisor", &["首页", "个案", "差错校验", "信息交换", "监管", "报表", "组织机构"], "滨州市"),
            ("sysadmin", &["首页", "组织机构", "账户管理", "代码表", "工作日历"], "山东省"),
            ("secadmin", &["首页", "组织机构", "账户管理", "接口令牌", "安全策略"], "山东省"),
            ("auditor", &["首页", "组织机构", "审计日志"], "山东省"),
        ];
        for (username, nav, unit) in cases {
            sign_in(&client, &base, username, "/").await;
            assert_eq!(nav_texts(&client).await, nav, "{username}'s navigation");
            assert!(text_of(&client, ".user .unit").await.contains(unit), "{username} belongs to {unit}");
            match username {
                "sysadmin" => {
                    // The accounts of its own province, not those of Sichuan.
                    client.goto(&format!("{base}/admin/accounts")).await.unwrap();
                    let accounts = text_of(&client, "#accounts").await;
                    assert!(accounts.contains("county") && accounts.contains("clerk"), "{accounts}");
                    assert!(!accounts.contains("pingchang"), "Sichuan's account is out of scope: {accounts}");
                    // Resetting a password asks first; saying no changes nothing.
                    client.find(Locator::LinkText("township")).await.unwrap().click().await.unwrap();
                    client.find(Locator::Css("#reset-password")).await.unwrap().click().await.unwrap();
                    client.dismiss_alert().await.unwrap();
                    assert!(client.find(Locator::Css("#secret")).await.is_err(), "no reset without a yes");
                    client.find(Locator::Css("#reset-password")).await.unwrap().click().await.unwrap();
                    client.accept_alert().await.unwrap();
                    let secret = text_of(&client, "#secret").await;
                    assert!(secret.len() >= 10, "the new password is shown once: {secret}");
                }
                "auditor" => {
                    // Sign-ins of Shandong's accounts, not of the Sichuan operator.
                    client.goto(&format!("{base}/audit?action=login.")).await.unwrap();
                    let log = text_of(&client, "#audit-log").await;
                    assert!(log.contains("sysadmin") && log.contains("county"), "{log}");
                    assert!(!log.contains("pingchang"), "Sichuan's entries are out of scope: {log}");
                    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
                    if let Ok(png) = client.screenshot().await {
                        std::fs::write(dir.join("audit-zh.png"), png).ok();
                    }
                }
                "clerk" => {
                    // An administrator's page is refused, not shown.
                    client.goto(&format!("{base}/admin/accounts")).await.unwrap();
                    assert_eq!(text_of(&client, "h1").await, "无权访问");
                }
                _ => {}
            }
            sign_out(&client).await;
        }
    }
    .await;
    client.close().await.ok();
    process.kill().await.ok();
    server.abort();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_the_tree_search_and_switch_language_in_chromium() {
    let Some(driver_path) = chromedriver() else { return };
    let (base, server, _db) = serve_demo().await;
    let Driver { mut process, client } = start_browser(&driver_path).await;
    let result = async {
        sign_in(&client, &base, "county", "/orgs").await;
        assert_eq!(text_of(&client, "h1").await, "组织机构");

        // Expand 山东省, then 滨州市: each level arrives from the server as the node opens.
        client.find(Locator::Css(r#"details[data-code="37"] > summary .name"#)).await.unwrap().click().await.unwrap();
        assert_eq!(text_of(&client, r#"details[data-code="3716"] > summary .name"#).await, "滨州市");
        client.find(Locator::Css(r#"details[data-code="3716"] > summary .name"#)).await.unwrap().click().await.unwrap();
        assert_eq!(text_of(&client, r#"details[data-code="371602"] > summary .name"#).await, "滨城区");

        // Typing a search swaps the tree for results without a page load.
        let q = client.find(Locator::Css("#q")).await.unwrap();
        q.send_keys("滨城").await.unwrap();
        let results = text_of(&client, "#org-results").await;
        assert!(results.contains("371602") && results.contains("滨城区"), "{results}");
        assert_eq!(client.current_url().await.unwrap().path(), "/orgs", "no navigation happened");

        client.screenshot().await.ok().map(|png| {
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
            std::fs::write(dir.join("orgs-zh.png"), png).ok()
        });

        // Switch to English: the page comes back in English, and stays so on the next visit.
        client.find(Locator::Css("#lang-en")).await.unwrap().click().await.unwrap();
        client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(r#"html[lang="en"]"#)).await.unwrap();
        assert_eq!(text_of(&client, "h1").await, "Organisation units");
        client.goto(&format!("{base}/")).await.unwrap();
        assert_eq!(text_of(&client, "h1").await, "Home");
        client.goto(&format!("{base}/orgs/371602")).await.unwrap();
        let crumbs = text_of(&client, ".crumbs").await;
        assert!(crumbs.contains("山东省") && crumbs.contains("滨州市"), "{crumbs}");
        assert!(text_of(&client, "#org-children").await.contains("市中街道"));

        client.goto(&format!("{base}/no-such-page")).await.unwrap();
        assert_eq!(text_of(&client, "h1").await, "Not found");
    }
    .await;
    client.close().await.ok();
    process.kill().await.ok();
    server.abort();
    result
}

/// The text of a cycle's row on the statistics page.
async fn cycle_row(client: &Client, base: &str, unit: &str, cycle: &str) -> String {
    client.goto(&format!("{base}/exchange/stats?unit={unit}")).await.unwrap();
    text_of(client, &format!("#cycle-{cycle}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_from_bincheng_is_received_and_answered_by_the_origin_county() {
    let Some(driver_path) = chromedriver() else { return };
    let (base, server, _db, app) = serve_demo_app().await;
    // A woman from 平昌县 living in a Bincheng community, registered by the console.
    let console = qipan::service::Actor::console(domain::OrgCode::parse("00").unwrap());
    let input = domain::record::PersonInput {
        id_number: "511923199003070027".into(),
        name: "陈静".into(),
        hukou_area: "511923101002".into(),
        hukou_address: "平昌县江口镇禹王街社区".into(),
        residence_area: "371602001001".into(),
        residence_address: "新苑小区3号楼".into(),
        managing_unit: "371602001001".into(),
        direction: "in".into(),
        moved_on: "2026-10-01".into(),
        ..Default::default()
    };
    let person = app.register_person(&console, &input).await.unwrap();
    let Driver { mut process, client } = start_browser(&driver_path).await;
    let result = async {
        // 滨城区's operator sends a verification request from the person's page.
        sign_in(&client, &base, "county", &format!("/persons/{person}")).await;
        client.find(Locator::Css("#new-exchange")).await.unwrap().click().await.unwrap();
        client.find(Locator::Css("#send")).await.unwrap().click().await.unwrap();
        assert_eq!(text_of(&client, "#item-status").await, "已提交");
        let cycle = text_of(&client, "#item-cycle").await;
        let due = text_of(&client, "#item-due").await;
        assert!(due.starts_with("20"), "a last day is shown: {due}");
        let item_url = client.current_url().await.unwrap().path().to_owned();
        sign_out(&client).await;

        // 平昌县 before opening it: one item came in, nothing received yet.
        sign_in(&client, &base, "pingchang", "/exchange").await;
        let before = cycle_row(&client, &base, "511923", &cycle).await;
        // Nothing received or answered yet, and the item already counts as owed an answer.
        assert!(before.contains("0 1 0 0 / 1 0.0% 0.0%"), "before receipt: {before}");
        // The inbox lists it; opening it receives it.
        client.goto(&format!("{base}/exchange")).await.unwrap();
        let inbox = text_of(&client, "#exchange-items").await;
        assert!(inbox.contains("陈静") && inbox.contains("371602"), "{inbox}");
        client.goto(&format!("{base}{item_url}")).await.unwrap();
        assert_eq!(text_of(&client, "#item-status").await, "已接收");
        let received = cycle_row(&client, &base, "511923", &cycle).await;
        assert!(received.contains("0 1 1 0 / 1 100.0% 0.0% —"), "received, not answered: {received}");

        // "Not found" without the three searches is refused, naming the rule.
        client.goto(&format!("{base}{item_url}")).await.unwrap();
        client.find(Locator::Css("#found-no")).await.unwrap().click().await.unwrap();
        fill(&client, "#answer-remarks", "查无此人").await;
        client.find(Locator::Css("#answer")).await.unwrap().click().await.unwrap();
        assert!(text_of(&client, "#form-error").await.contains("公安户籍"));
        // Found, after searching the county's own records.
        client.find(Locator::Css("#found-yes")).await.unwrap().click().await.unwrap();
        client.find(Locator::Css("#answer")).await.unwrap().click().await.unwrap();
        // The saved page says so (waiting for it, not for the page the form was on).
        text_of(&client, "#done").await;
        assert_eq!(text_of(&client, "#item-status").await, "已反馈");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join("exchange-item.png"), png).ok();
        }
        let answered = cycle_row(&client, &base, "511923", &cycle).await;
        assert!(answered.contains("0 1 1 1 / 1"), "answered: {answered}");
        assert_eq!(answered.matches("100.0%").count(), 3, "receipt, feedback and timeliness: {answered}");
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join("exchange-stats.png"), png).ok();
        }
        sign_out(&client).await;

        // 滨城区 sees the answer and the whole timeline.
        sign_in(&client, &base, "county", &item_url).await;
        assert_eq!(text_of(&client, "#item-status").await, "已反馈");
        let timeline = text_of(&client, "#timeline").await;
        for step in ["创建", "提交", "接收", "反馈"] {
            assert!(timeline.contains(step), "{step} in {timeline}");
        }
    }
    .await;
    client.close().await.ok();
    process.kill().await.ok();
    server.abort();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerks_day_shows_a_visit_five_days_ahead_and_drops_it_when_done() {
    let Some(driver_path) = chromedriver() else { return };
    let (base, server, _db, app) = serve_demo_app().await;
    let console = qipan::service::Actor::console(domain::OrgCode::parse("00").unwrap());
    let today = app.clock.today();
    // Two pregnant women of 新苑社区: a prenatal visit is due 28 days after the pregnancy was
    // found, so one is due in 5 days (shown) and one in 6 (not yet).
    let mut ids = Vec::new();
    for (name, born, days_ahead) in [("王丽", "19900307", 5), ("赵霞", "19910408", 6)] {
        let first17 = format!("511923{born}002");
        let input = domain::record::PersonInput {
            id_number: format!("{first17}{}", domain::id_number::check_char(&first17)),
            name: name.into(),
            hukou_area: "511923101002".into(),
            hukou_address: "平昌县江口镇禹王街社区".into(),
            residence_area: "371602001001".into(),
            residence_address: "新苑小区3号楼".into(),
            managing_unit: "371602001001".into(),
            direction: "in".into(),
            moved_on: (today - chrono::Duration::days(60)).to_string(),
            ..Default::default()
        };
        let id = app.register_person(&console, &input).await.unwrap();
        let found = today + chrono::Duration::days(days_ahead) - chrono::Duration::days(28);
        let entry: std::collections::BTreeMap<String, String> = [("detected_on".to_owned(), found.to_string())].into();
        app.add_entry(&console, id, domain::sections::Section::Pregnancies, &entry).await.unwrap();
        ids.push(id);
    }
    let Driver { mut process, client } = start_browser(&driver_path).await;
    let result = async {
        sign_in(&client, &base, "clerk", "/?category=prenatal_visit").await;
        let tasks = text_of(&client, "#tasks").await;
        assert!(tasks.contains("王丽") && !tasks.contains("赵霞"), "only the visit due in 5 days: {tasks}");
        let due = (today + chrono::Duration::days(5)).to_string();
        assert!(tasks.contains(&due), "{tasks}");
        let counts = text_of(&client, "#worklist-categories").await;
        assert!(counts.contains("孕期随访 1"), "{counts}");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join("worklist.png"), png).ok();
        }
        // Done: it leaves the list.
        let row = format!("tr[data-task^=\"prenatal:{}:\"] button[value=done]", ids[0]);
        client.find(Locator::Css(&row)).await.unwrap().click().await.unwrap();
        text_of(&client, "#done").await;
        let after = client.find(Locator::Css("#worklist")).await.unwrap().text().await.unwrap();
        assert!(!after.contains("王丽"), "{after}");
        assert!(after.contains("已办结或暂缓"), "the page says what is hidden: {after}");
    }
    .await;
    client.close().await.ok();
    process.kill().await.ok();
    server.abort();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_sees_the_ranking_with_its_bottom_three_and_the_monitoring_board() {
    let Some(driver_path) = chromedriver() else { return };
    let (base, server, _db, app) = serve_demo_app().await;
    app.import_divisions(&crate::exchange::MORE_SHANDONG).await.unwrap();
    let login = |name: &'static str| {
        let app = app.clone();
        async move { app.login(name, qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor }
    };
    let bincheng = login("county").await;
    // 滨城区 sends two verifications to each of four more Binzhou counties, about people living
    // in 新苑社区; they answer 2, 1, 0 and 0 of them.
    let mut answered = Vec::new();
    for (seq, (county, village, answers)) in [
        ("371603", "371603001001", 2),
        ("371621", "371621001020", 1),
        ("371622", "371622001001", 0),
        ("371623", "371623001008", 0),
    ]
    .into_iter()
    .enumerate()
    {
        let first17 = format!("{county}19820304{:03}", 2 * seq + 1);
        let input = domain::record::PersonInput {
            id_number: format!("{first17}{}", domain::id_number::check_char(&first17)),
            name: format!("测试{}", ["甲", "乙", "丙", "丁"][seq]),
            hukou_area: village.into(),
            hukou_address: "某社区".into(),
            residence_area: "371602001001".into(),
            residence_address: "新苑小区3号楼".into(),
            managing_unit: "371602001001".into(),
            direction: "in".into(),
            moved_on: "2026-01-10".into(),
            ..Default::default()
        };
        let person = app.register_person(&bincheng, &input).await.unwrap();
        let username = format!("op{county}");
        crate::helpers::new_account(&app, &username, "county_operator", county).await;
        let operator = app.login(&username, crate::helpers::TEST_PASSWORD, None).await.unwrap().actor;
        for n in 0..2 {
            let req = qipan::service::exchange::ItemRequest {
                kind: "verification".into(),
                person_id: person,
                categories: vec!["basic".into()],
                submit: true,
                ..Default::default()
            };
            let id = app.create_exchange_item(&bincheng, &req).await.unwrap();
            if n < answers {
                let answer = qipan::service::exchange::AnswerRequest {
                    found: true,
                    search_steps: vec!["own_records".into()],
                    ..Default::default()
                };
                app.answer_exchange_item(&operator, id, &answer).await.unwrap();
                answered.push(id);
            }
        }
    }
    let Driver { mut process, client } = start_browser(&driver_path).await;
    let result = async {
        sign_in(&client, &base, "supervisor", "/supervision").await;
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join("supervision.png"), png).ok();
        }
        client.goto(&format!("{base}/supervision/performance?unit=3716")).await.unwrap();
        let ranking = text_of(&client, "#ranking").await;
        // 沾化 2/2 = 100%, 惠民 1/2 = 50%, 阳信 and 无棣 0/2: the three behind 沾化 are the bottom three.
        let row = |code: &str| {
            let client = client.clone();
            let css = format!("#ranking #rank-{code}");
            async move { text_of(&client, &css).await }
        };
        assert!(row("371603").await.contains("100.0%") && !row("371603").await.contains("后三名"), "{ranking}");
        for code in ["371621", "371622", "371623"] {
            assert!(row(code).await.contains("后三名"), "{code} in the bottom three: {ranking}");
        }
        assert!(row("371621").await.contains("50.0%"), "{ranking}");
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join("performance.png"), png).ok();
        }
        // A person's page, for the README: a woman with her sections filled in.
        let console = qipan::service::Actor::console(domain::OrgCode::parse("00").unwrap());
        let first17 = "51192319930517002";
        let input = domain::record::PersonInput {
            id_number: format!("{first17}{}", domain::id_number::check_char(first17)),
            name: "李秀英".into(),
            ethnicity: "01".into(),
            education: "40".into(),
            marital_status: "20".into(),
            phone: "13812345678".into(),
            hukou_area: "511923101002".into(),
            hukou_address: "平昌县江口镇禹王街社区3组".into(),
            hukou_type: "2".into(),
            residence_area: "371602001001".into(),
            residence_address: "新苑小区3号楼2单元501".into(),
            managing_unit: "371602001001".into(),
            direction: "in".into(),
            moved_on: "2026-03-01".into(),
            move_reason: "1".into(),
            ..Default::default()
        };
        let li = app.register_person(&console, &input).await.unwrap();
        let sections: [(domain::sections::Section, &[(&str, &str)]); 3] = [
            (domain::sections::Section::Marriages, &[("married_on", "2015-10-01"), ("spouse_name", "王建国")]),
            (domain::sections::Section::Children, &[("name", "王小雨"), ("gender", "2"), ("birth_date", "2017-06-12")]),
            (domain::sections::Section::Pregnancies, &[("detected_on", "2026-10-20"), ("expected_on", "2027-06-28")]),
        ];
        for (section, fields) in sections {
            let entry = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            app.add_entry(&console, li, section, &entry).await.unwrap();
        }
        sign_out(&client).await;
        sign_in(&client, &base, "clerk", &format!("/persons/{li}")).await;
        text_of(&client, "#exchange").await;
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join("person.png"), png).ok();
        }

        // The community's inflow report of this month, then its XLSX export, opened and read back:
        // the spreadsheet's total row holds the figures of the page's.
        let month = app.clock.today().format("%Y-%m").to_string();
        client.goto(&format!("{base}/reports/inflow?unit=371602001001&period={month}")).await.unwrap();
        let on_page: Vec<String> =
            text_of(&client, "#row-total").await.split_whitespace().skip(1).map(str::to_owned).collect();
        assert_eq!(on_page.first().map(String::as_str), Some("5"), "five people live in 新苑社区 now: {on_page:?}");
        let href = client.find(Locator::Css("#export-xlsx")).await.unwrap().attr("href").await.unwrap().unwrap();
        let cookies: Vec<String> =
            client.get_all_cookies().await.unwrap().iter().map(|c| format!("{}={}", c.name(), c.value())).collect();
        let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let request = axum::http::Request::get(format!("{base}{href}"))
            .header("cookie", cookies.join("; "))
            .body(http_body_util::Empty::<axum::body::Bytes>::new())
            .unwrap();
        let response = http.request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes().to_vec();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an XLSX is a zip archive");
        let (_, cells) = crate::reports::sheet_cells(&mut archive);
        // The table starts at row 6 after the title lines and the two header rows; the row's label
        // sits in column B (column A holds its code), the figures from column C on.
        let total_row = cells
            .iter()
            .find(|(r, v)| r.starts_with('B') && r[1..].parse::<u32>().is_ok_and(|n| n >= 6) && v.as_str() == "合计")
            .map(|(r, _)| r[1..].to_owned())
            .expect("a total row in the spreadsheet");
        let in_sheet: Vec<String> =
            "CDEFGHIJK".chars().filter_map(|col| cells.get(&format!("{col}{total_row}")).cloned()).collect();
        assert_eq!(in_sheet, on_page, "the spreadsheet's total row is the page's");
    }
    .await;
    client.close().await.ok();
    process.kill().await.ok();
    server.abort();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_enrols_a_second_factor_and_signs_in_with_its_code() {
    let Some(driver_path) = chromedriver() else { return };
    let (base, server, _db) = serve_demo().await;
    let Driver { mut process, client } = start_browser(&driver_path).await;
    // The server's clock stands at TEST_NOW; the codes are computed for that moment here.
    let now = chrono::DateTime::parse_from_rfc3339(crate::helpers::TEST_NOW).unwrap().timestamp();
    let result = async {
        sign_in(&client, &base, "secadmin", "/account").await;
        client.find(Locator::Css("#factor-link")).await.unwrap().click().await.unwrap();
        client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#factor-begin")).await.unwrap();
        client.find(Locator::Css("#factor-begin")).await.unwrap().click().await.unwrap();
        let secret = text_of(&client, "#factor-secret").await;
        assert!(client.find(Locator::Css("#factor-qr svg")).await.is_ok(), "the QR code is on the page");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(png) = client.screenshot().await {
            std::fs::write(dir.join("factor-enrol.png"), png).ok();
        }
        fill(&client, "#code", &crate::factors::code_at(&secret, now)).await;
        client.find(Locator::Css("#factor-confirm")).await.unwrap().click().await.unwrap();
        let codes = text_of(&client, "#recovery-codes").await;
        assert_eq!(codes.lines().filter(|l| !l.trim().is_empty()).count(), 10, "{codes}");
        sign_out(&client).await;

        // Signing in now takes the password, then the code of the next half minute.
        client.goto(&format!("{base}/login?next=/account")).await.unwrap();
        fill(&client, "#username", "secadmin").await;
        fill(&client, "#password", qipan::demo::DEMO_PASSWORD).await;
        client.find(Locator::Css("#login-submit")).await.unwrap().click().await.unwrap();
        client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#factor-submit")).await.unwrap();
        fill(&client, "#code", "000000").await;
        client.find(Locator::Css("#factor-submit")).await.unwrap().click().await.unwrap();
        assert!(text_of(&client, "#login-error").await.contains("动态码"), "a wrong code is named");
        fill(&client, "#code", &crate::factors::code_at(&secret, now + 30)).await;
        client.find(Locator::Css("#factor-submit")).await.unwrap().click().await.unwrap();
        client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#me")).await.unwrap();
        assert!(text_of(&client, "#factor-link").await.contains("第二重验证"));
    }
    .await;
    client.close().await.ok();
    process.kill().await.ok();
    server.abort();
    result
}
