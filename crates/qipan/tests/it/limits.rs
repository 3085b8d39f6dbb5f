//! The limits in front of the application: sign-ins and API calls per address (429 with
//! `Retry-After`), exports per account, `Secure` cookies and the client address behind a
//! trusted proxy. The deadline of a request is tested in `web::limits` on work that never ends.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use qipan::web::limits::{Cidr, WebConfig};
use tower::ServiceExt;

use crate::helpers::{Reply, Session, demo_app, demo_login};

fn from(addr: &str, mut req: Request<Body>) -> Request<Body> {
    let peer: SocketAddr = format!("{addr}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

async fn send(router: &axum::Router, req: Request<Body>) -> Reply {
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

fn wrong_sign_in() -> Request<Body> {
    Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"username": "county", "password": "Wrong-password-1"}"#))
        .unwrap()
}

#[tokio::test]
async fn sign_ins_are_limited_per_address_with_a_time_to_retry() {
    let (app, _db) = demo_app().await;
    let mut config = WebConfig::default();
    config.limits.sign_ins_per_minute = 3;
    let router = qipan::web::router_with(app.clone(), config);
    for _ in 0..3 {
        assert_eq!(send(&router, from("192.0.2.1", wrong_sign_in())).await.status, StatusCode::UNAUTHORIZED);
    }
    let limited = send(&router, from("192.0.2.1", wrong_sign_in())).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(limited.json()["error"]["code"], "rate_limited", "the API's envelope");
    // Another address is not held back by the first one's guesses.
    assert_eq!(send(&router, from("192.0.2.2", wrong_sign_in())).await.status, StatusCode::UNAUTHORIZED);
    // The refused attempt never reached the password check: three failures are audited, not four.
    let filter = store::AuditFilter {
        actor: Some("county".into()),
        action_prefix: Some("login.failure".into()),
        ..Default::default()
    };
    let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 10 }).await.unwrap();
    assert_eq!(log.len(), 4, "three from the first address, one from the second");
    // The login page answers with a page.
    let form = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, "qipan_login_csrf=t")
        .body(Body::from("_csrf=t&username=county&password=x"))
        .unwrap();
    let page = send(&router, from("192.0.2.1", form)).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("请求过多") && page.headers.contains_key(header::RETRY_AFTER), "{}", page.body);
}

#[tokio::test]
async fn api_calls_are_limited_per_address() {
    let (app, _db) = demo_app().await;
    let mut config = WebConfig::default();
    config.limits.api_per_minute = 2;
    let router = qipan::web::router_with(app.clone(), config);
    let s = demo_login(&app, "county").await;
    let call = || Request::get("/api/v1/org-units").header(header::COOKIE, &s.cookie).body(Body::empty()).unwrap();
    assert_eq!(send(&router, from("198.51.100.1", call())).await.status, StatusCode::OK);
    assert_eq!(send(&router, from("198.51.100.1", call())).await.status, StatusCode::OK);
    let limited = send(&router, from("198.51.100.1", call())).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    // Pages are not API calls.
    let page = Request::get("/orgs").header(header::COOKIE, &s.cookie).body(Body::empty()).unwrap();
    assert_eq!(send(&router, from("198.51.100.1", page)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_account_runs_two_exports_at_once_and_a_third_waits() {
    let (app, _db) = demo_app().await;
    app.generate_demo_people(50, 3).await.unwrap();
    let router = qipan::web::router(app.clone());
    let s = demo_login(&app, "county").await;
    let export = |s: &Session| {
        Request::get("/persons/roster.csv?col=name").header(header::COOKIE, &s.cookie).body(Body::empty()).unwrap()
    };
    // Two downloads whose bodies have not been read yet: both still running.
    let first = router.clone().oneshot(export(&s)).await.unwrap();
    let second = router.clone().oneshot(export(&s)).await.unwrap();
    assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
    let third = send(&router, export(&s)).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS, "{}", third.body);
    assert!(third.body.contains("导出已达上限"), "{}", third.body);
    // Another account is not held back.
    let township = demo_login(&app, "township").await;
    assert_eq!(send(&router, export(&township)).await.status, StatusCode::OK);
    // When one finishes, the next may start.
    let body = first.into_body().collect().await.unwrap().to_bytes();
    assert!(body.len() > 10);
    assert_eq!(send(&router, export(&s)).await.status, StatusCode::OK);
    drop(second);
}

#[tokio::test]
async fn cookies_are_secure_when_the_deployment_says_so_and_a_trusted_proxy_names_the_client() {
    let (app, _db) = demo_app().await;
    let config = WebConfig {
        secure_cookies: true,
        trusted_proxies: vec![Cidr::parse("10.0.0.0/8").unwrap()],
        ..Default::default()
    };
    let router = qipan::web::router_with(app.clone(), config);
    let sign_in = |who: &str| {
        let body = format!(r#"{{"username": "{who}", "password": "{}"}}"#, qipan::demo::DEMO_PASSWORD);
        Request::post("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", "203.0.113.50, 10.0.0.9")
            .body(Body::from(body))
            .unwrap()
    };
    let reply = send(&router, from("10.0.0.1", sign_in("county"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.headers[header::SET_COOKIE].to_str().unwrap().contains("; Secure"), "plain HTTP behind the proxy");
    // From the proxy, the client it names; from anyone else, the header counts for nothing.
    send(&router, from("192.0.2.77", sign_in("clerk"))).await;
    let address = |who: &'static str| {
        let app = app.clone();
        async move {
            let filter = store::AuditFilter {
                actor: Some(who.into()),
                action_prefix: Some("login.success".into()),
                ..Default::default()
            };
            let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 1 }).await.unwrap();
            log[0].entry.address.clone()
        }
    };
    assert_eq!(address("county").await.as_deref(), Some("203.0.113.50"));
    assert_eq!(address("clerk").await.as_deref(), Some("192.0.2.77"));
}
