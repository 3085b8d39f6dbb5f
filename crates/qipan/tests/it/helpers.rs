//! Shared test plumbing: a fresh database per test on the chosen engine, the app over it, and
//! in-process HTTP requests.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::Clock;
use http_body_util::BodyExt;
use qipan::service::App;
use sqlx::Connection;
use store::DatabaseUrl;
use tempfile::TempDir;
use tower::ServiceExt;

/// A database that exists for one test. SQLite files vanish with the temporary folder;
/// PostgreSQL databases live in the throwaway cluster that `scripts/test` removes.
pub struct TestDb {
    pub url: DatabaseUrl,
    /// The URL as text, for handing to the `qipan` binary.
    pub url_text: String,
    _dir: TempDir,
}

impl TestDb {
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

pub fn engine_is_postgres() -> bool {
    match std::env::var("QIPAN_TEST_ENGINE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("QIPAN_TEST_ENGINE is sqlite or postgres, not `{other}`"),
    }
}

pub async fn fresh_db() -> TestDb {
    install_test_audit_key();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = tempfile::tempdir().expect("temporary folder");
    if !engine_is_postgres() {
        let path = dir.path().join("qipan.db");
        let url_text = format!("sqlite:{}", path.display());
        return TestDb { url: DatabaseUrl::Sqlite(path), url_text, _dir: dir };
    }
    let admin = std::env::var("QIPAN_TEST_PG_URL")
        .expect("QIPAN_TEST_ENGINE=postgres needs QIPAN_TEST_PG_URL (a superuser URL); scripts/test sets it");
    let name = format!(
        "qipan_t{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the test cluster");
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SWEPT.swap(true, Ordering::Relaxed) {
        drop_databases_of_ended_runs(&mut conn).await;
    }
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create a test database");
    conn.close().await.ok();
    let mut url = url::Url::parse(&admin).expect("QIPAN_TEST_PG_URL is a URL");
    url.set_path(&name);
    let url_text = url.to_string();
    TestDb { url: DatabaseUrl::parse(&url_text).unwrap(), url_text, _dir: dir }
}

/// Drops the test databases of test processes that have ended (their process id is in the
/// name), so that a long-lived local cluster does not fill up run after run.
async fn drop_databases_of_ended_runs(conn: &mut sqlx::PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE 'qipan\\_t%'")
            .fetch_all(&mut *conn)
            .await
            .expect("list the test databases");
    for name in names {
        let pid = name.trim_start_matches("qipan_t").split('_').next().unwrap_or_default();
        let ended = pid.parse::<u32>().is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if ended {
            // Another run may be sweeping the same database: its error is not this test's.
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut *conn).await;
        }
    }
}

/// The audit key of every test installation, in process and in the `qipan` binaries the tests
/// start (`QIPAN_AUDIT_KEY`): the chain is keyed, as in production.
pub const TEST_AUDIT_KEY: &str = "71616970616e2d746573742d61756469742d6b65792d6f662d7468652d737569";

pub fn install_test_audit_key() {
    domain::audit::install_key(domain::audit::ChainKey::from_hex(TEST_AUDIT_KEY).unwrap()).unwrap();
    store::seal::install_keyring(store::seal::Keyring::parse(TEST_DATA_KEYS).unwrap());
}

/// The data keys of every test installation, in process and in the binaries the tests start
/// (`QIPAN_DATA_KEYS`): ID numbers, phones and health notes are sealed, as in production.
pub const TEST_DATA_KEYS: &str = "index 71616970616e2d746573742d696e6465782d6b65792d6f662d7468652d737569; \
     k1 71616970616e2d746573742d646174612d6b65792d6f662d7468652d73756974";

/// A migrated, empty installation.
pub async fn empty_app(clock: Clock) -> (App, TestDb) {
    install_test_audit_key();
    let db = fresh_db().await;
    let app = App::open(&db.url, clock).await.expect("open the test database");
    (app, db)
}

/// "Now" for every test that does not choose its own moment: a Wednesday, a working day, late
/// enough in 2026 for the fixed dates the tests use. Tests never read the system clock, so that
/// none of them holds only for the year it was written in.
pub const TEST_NOW: &str = "2026-11-25T10:00:00+08:00";

pub fn test_clock() -> Clock {
    Clock::fixed_at(TEST_NOW).expect("a valid moment")
}

/// An installation with the demo jurisdiction loaded, at [`TEST_NOW`].
pub async fn demo_app() -> (App, TestDb) {
    demo_app_at(test_clock()).await
}

/// An installation with the demo jurisdiction loaded, at the given moment.
pub async fn demo_app_at(clock: Clock) -> (App, TestDb) {
    let (app, db) = empty_app(clock).await;
    app.ensure_demo_data().await.expect("load the demo data");
    (app, db)
}

/// The number of data rows (lines after the header) of one of the demo's division files,
/// counted from the file itself, independently of the importer.
pub fn demo_rows(file: &str, prefix: &str) -> u64 {
    let (_, text) = qipan::demo::DIVISION_FILES.iter().find(|(n, _)| *n == file).expect("a demo file");
    text.lines().skip(1).filter(|l| !l.trim().is_empty() && l.starts_with(prefix)).count() as u64
}

pub fn demo_total() -> u64 {
    qipan::demo::DIVISION_FILES.iter().map(|(n, _)| demo_rows(n, "")).sum()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A signed-in browser: its cookies and the CSRF token of its session.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// The same session with one more cookie (e.g. `qipan_lang=en`).
    pub fn with_cookie(&self, extra: &str) -> Session {
        Session { cookie: format!("{}; {extra}", self.cookie), csrf: self.csrf.clone() }
    }
}

/// Signs in through the service, as the login form does.
pub async fn login_as(app: &App, username: &str, password: &str) -> Session {
    let s = app
        .login(username, password, Some("127.0.0.1".into()))
        .await
        .unwrap_or_else(|e| panic!("login {username}: {e}"));
    Session { cookie: format!("qipan_session={}", s.token), csrf: s.actor.csrf().unwrap().to_owned() }
}

/// Signs in as one of the demo accounts.
pub async fn demo_login(app: &App, username: &str) -> Session {
    login_as(app, username, qipan::demo::DEMO_PASSWORD).await
}

/// Creates an account at the console and signs in with it.
pub async fn new_account(app: &App, username: &str, role: &str, unit: &str) -> Session {
    let console = qipan::service::Actor::console(domain::OrgCode::parse("00").unwrap());
    let form = qipan::service::AccountForm {
        username,
        display_name: username,
        unit,
        roles: vec![role],
        password: Some(TEST_PASSWORD),
        must_change: false,
    };
    app.create_account(&console, &form).await.unwrap_or_else(|e| panic!("create {username}: {e}"));
    login_as(app, username, TEST_PASSWORD).await
}

pub const TEST_PASSWORD: &str = "Test-password-42";

/// One request through the whole router, in process.
pub async fn send(app: &App, req: Request<Body>) -> Reply {
    let response = qipan::web::router(app.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

pub async fn get(app: &App, path: &str, session: Option<&Session>) -> Reply {
    let mut req = Request::get(path);
    if let Some(s) = session {
        req = req.header(header::COOKIE, &s.cookie);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

/// A form post carrying the session's CSRF token, as the pages' forms do.
pub async fn post_form(app: &App, path: &str, session: Option<&Session>, fields: &[(&str, &str)]) -> Reply {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    if let Some(s) = session {
        body.append_pair("_csrf", &s.csrf);
    }
    for (k, v) in fields {
        body.append_pair(k, v);
    }
    post_raw(app, path, session, body.finish()).await
}

/// A form post with exactly this body (no CSRF token added).
pub async fn post_raw(app: &App, path: &str, session: Option<&Session>, body: String) -> Reply {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(s) = session {
        req = req.header(header::COOKIE, &s.cookie);
    }
    send(app, req.body(Body::from(body)).unwrap()).await
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A GET whose body is binary (downloads).
pub async fn get_bytes(app: &App, path: &str, session: Option<&Session>) -> (StatusCode, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(s) = session {
        req = req.header(header::COOKIE, &s.cookie);
    }
    let response = qipan::web::router(app.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// The same installation with its clock standing at `when` (RFC 3339, China time).
pub fn at(app: &App, when: &str) -> App {
    app.at_clock(Clock::fixed_at(when).unwrap())
}

/// A demo account as the service sees it once signed in.
pub async fn demo_actor(app: &App, username: &str) -> qipan::service::Actor {
    app.login(username, qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor
}

/// A new account (created at the console) as the service sees it once signed in.
pub async fn new_actor(app: &App, username: &str, role: &str, unit: &str) -> qipan::service::Actor {
    new_account(app, username, role, unit).await;
    app.login(username, TEST_PASSWORD, None).await.unwrap().actor
}

/// An 18-digit ID number with its check character: odd `seq` for a man, even for a woman.
pub fn id_number(area: &str, born: &str, seq: u32) -> String {
    let first17 = format!("{area}{born}{seq:03}");
    format!("{first17}{}", domain::id_number::check_char(&first17))
}

/// Runs one SQL statement that takes a record's id (`$1`) on the app's database: a test's way
/// of leaving the database as a write path that forgot something would.
pub async fn execute_with_id(app: &App, sql: &str, id: i64) {
    match &app.store {
        store::Store::Sqlite(pool) => sqlx::query(sql).bind(id).execute(pool).await.map(|_| ()),
        store::Store::Postgres(pool) => sqlx::query(sql).bind(id).execute(pool).await.map(|_| ()),
    }
    .unwrap();
}
