//! The demo in a real headless Chromium, driven through chromedriver (both from Debian):
//! browse the org tree, search, switch the language and come back to it.

use std::net::TcpListener as StdListener;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::demo_app;

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The chromedriver to use, or `None` to skip when it is missing outside `scripts/test` and CI.
fn chromedriver() -> Option<String> {
    let path =
        std::env::var("QIPAN_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
    if std::path::Path::new(&path).exists() {
        return Some(path);
    }
    let required =
        std::env::var_os("CI").is_some() || std::env::var_os("QIPAN_TEST_ENGINE").is_some();
    assert!(
        !required,
        "browser tests need chromedriver at {path} (scripts/test installs chromium-driver)"
    );
    eprintln!("skipping the browser test: no chromedriver at {path}; scripts/test installs it");
    None
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
    let chromium =
        std::env::var("QIPAN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
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
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_the_tree_search_and_switch_language_in_chromium() {
    let Some(driver_path) = chromedriver() else {
        return;
    };
    let (app, _db) = demo_app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, qipan::web::router(app)).await });

    let Driver {
        mut process,
        client,
    } = start_browser(&driver_path).await;
    let result = async {
        client.goto(&format!("{base}/orgs")).await.unwrap();
        assert_eq!(text_of(&client, "h1").await, "组织机构");

        // Expand 山东省, then 滨州市: each level arrives from the server as the node opens.
        client
            .find(Locator::Css(r#"details[data-code="37"] > summary .name"#))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(
            text_of(&client, r#"details[data-code="3716"] > summary .name"#).await,
            "滨州市"
        );
        client
            .find(Locator::Css(r#"details[data-code="3716"] > summary .name"#))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(
            text_of(&client, r#"details[data-code="371602"] > summary .name"#).await,
            "滨城区"
        );

        // Typing a search swaps the tree for results without a page load.
        let q = client.find(Locator::Css("#q")).await.unwrap();
        q.send_keys("滨城").await.unwrap();
        let results = text_of(&client, "#org-results").await;
        assert!(
            results.contains("371602") && results.contains("滨城区"),
            "{results}"
        );
        assert_eq!(
            client.current_url().await.unwrap().path(),
            "/orgs",
            "no navigation happened"
        );

        client.screenshot().await.ok().map(|png| {
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
            std::fs::write(dir.join("orgs-zh.png"), png).ok()
        });

        // Switch to English: the page comes back in English, and stays so on the next visit.
        client
            .find(Locator::Css("#lang-en"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(r#"html[lang="en"]"#))
            .await
            .unwrap();
        assert_eq!(text_of(&client, "h1").await, "Organisation units");
        client.goto(&format!("{base}/")).await.unwrap();
        assert_eq!(text_of(&client, "h1").await, "Home");
        client.goto(&format!("{base}/orgs/371602")).await.unwrap();
        let crumbs = text_of(&client, ".crumbs").await;
        assert!(
            crumbs.contains("山东省") && crumbs.contains("滨州市"),
            "{crumbs}"
        );
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
