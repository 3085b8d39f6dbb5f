//! A crash: `qipan serve` killed with SIGKILL while twenty clerks register people through the
//! API, then started again. Every registration a clerk saw acknowledged (201) must be there,
//! with its audit entry, and the audit chain must verify — on the engine of the test run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qipan::service::{App, ChainReport};
use serde_json::{Value, json};

use crate::helpers::{TEST_AUDIT_KEY, TEST_DATA_KEYS, TEST_NOW, fresh_db, id_number, test_clock};

const CLIENTS: u32 = 20;
const PER_CLIENT: u32 = 45;

/// A running server, killed when dropped (also when an assertion fails).
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `qipan demo` (the demo accounts, no generated people) and returns it with its address.
pub(crate) fn start(data_dir: &Path, db_url: &str) -> (Server, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qipan"));
    for var in ["DATABASE_URL", "QIPAN_DATA_DIR", "QIPAN_LOG", "QIPAN_LOG_FORMAT", "QIPAN_ADDR"] {
        cmd.env_remove(var);
    }
    cmd.env("QIPAN_CLOCK", TEST_NOW)
        .env("QIPAN_AUDIT_KEY", TEST_AUDIT_KEY)
        .env("QIPAN_DATA_KEYS", TEST_DATA_KEYS)
        .env("DATABASE_URL", db_url)
        .args(["demo", "--people", "0", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(["--sign-ins-per-minute", "10000", "--api-per-minute", "1000000"]);
    let mut server = Server(cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap());
    let mut out = BufReader::new(server.0.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "the server stopped early: {printed}");
        printed.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("Qipan is serving at http://") {
            let addr = url.trim_end_matches('/').to_owned();
            // Keep reading what it prints, so that it never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            return (server, addr);
        }
        assert!(Instant::now() < deadline, "the server did not start: {printed}");
    }
}

/// One HTTP/1.0 request; the status, the headers and the body, or the I/O
/// error of a server that is gone.
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let (head, body) = reply
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "a reply cut short"))?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, head.to_owned(), body.to_owned()))
}

/// Signs in as the demo clerk: the session cookie and the CSRF token.
fn sign_in(addr: &str) -> (String, String) {
    let body = json!({ "username": "clerk", "password": qipan::demo::DEMO_PASSWORD }).to_string();
    let (status, head, reply) =
        request(addr, "POST", "/api/v1/session", &[("Content-Type", "application/json")], &body).unwrap();
    assert_eq!(status, 200, "{reply}");
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .and_then(|l| l.split_once(':'))
        .and_then(|(_, c)| c.trim().split(';').next())
        .expect("a session cookie")
        .to_owned();
    let csrf = serde_json::from_str::<Value>(&reply).unwrap()["csrf_token"].as_str().unwrap().to_owned();
    (cookie, csrf)
}

fn person(client: u32, n: u32) -> (String, String) {
    let id = id_number("511923", "19900101", client * PER_CLIENT + n);
    let mut body = crate::persons::chen_jing();
    body["id_number"] = json!(id);
    (id, body.to_string())
}

/// Twenty clerks registering people through the API on their own threads, each keeping the
/// ID numbers of the registrations it saw acknowledged (201).
pub(crate) struct Clerks {
    threads: Vec<std::thread::JoinHandle<Vec<String>>>,
    acknowledged: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Clerks {
    pub(crate) fn start(addr: &str) -> Clerks {
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..CLIENTS)
            .map(|client| {
                let (addr, acknowledged, stop) = (addr.to_owned(), acknowledged.clone(), stop.clone());
                std::thread::spawn(move || {
                    let (cookie, csrf) = sign_in(&addr);
                    let headers = [
                        ("Content-Type", "application/json"),
                        ("Cookie", cookie.as_str()),
                        ("X-CSRF-Token", csrf.as_str()),
                    ];
                    let mut mine = Vec::new();
                    for n in 0..PER_CLIENT {
                        let (id, body) = person(client, n);
                        match request(&addr, "POST", "/api/v1/persons", &headers, &body) {
                            Ok((201, _, _)) => {
                                mine.push(id);
                                acknowledged.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok((status, _, reply)) if !stop.load(Ordering::SeqCst) => {
                                panic!("client {client}: {status} before the crash: {reply}")
                            }
                            // Refused or cut short by the crash: not acknowledged, so not promised.
                            _ => break,
                        }
                    }
                    mine
                })
            })
            .collect();
        Clerks { threads, acknowledged, stop }
    }

    /// Waits until a third of all registrations are acknowledged, then says that failures are
    /// expected from now on: the caller is about to crash something.
    pub(crate) fn wait_for_a_third(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.acknowledged.load(Ordering::SeqCst) < (CLIENTS * PER_CLIENT / 3) as usize {
            assert!(Instant::now() < deadline, "the clients did not get going");
            std::thread::sleep(Duration::from_millis(5));
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The ID numbers of every acknowledged registration.
    pub(crate) fn join(self) -> Vec<String> {
        let promised: Vec<String> = self.threads.into_iter().flat_map(|c| c.join().expect("a client")).collect();
        assert!(promised.len() < (CLIENTS * PER_CLIENT) as usize, "the crash came before the clients were done");
        eprintln!("{} registrations acknowledged before the crash", promised.len());
        promised
    }
}

/// Every promised registration is in the database at `url`, each with its audit entry, and the
/// audit chain verifies.
pub(crate) async fn assert_nothing_lost(url: &store::DatabaseUrl, promised: &[String]) {
    let app = App::open(url, test_clock()).await.unwrap();
    let mut missing = Vec::new();
    for id in promised {
        if app.store.persons_with_id_number(id, None).await.unwrap().is_empty() {
            missing.push(id.clone());
        }
    }
    assert!(missing.is_empty(), "{} of {} acknowledged registrations lost: {missing:?}", missing.len(), promised.len());
    let registrations = app
        .store
        .audit_after(0, 100_000, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.entry.action == "person.register_in")
        .count();
    assert!(registrations >= promised.len(), "an audit entry for each: {registrations} < {}", promised.len());
    match app.verify_audit_chain().await.unwrap() {
        ChainReport::Intact { .. } => {}
        broken => panic!("the chain after the crash: {broken:?}"),
    }
    app.store.close().await;
}

#[tokio::test]
async fn every_acknowledged_registration_survives_a_killed_server() {
    let db = fresh_db().await;
    let data_dir = db.dir().join("qipan-data");
    let (mut server, addr) = start(&data_dir, &db.url_text);
    let clerks = Clerks::start(&addr);
    // Kill the server while the clients are in full flow.
    clerks.wait_for_a_third();
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let promised = clerks.join();

    // Started again, the server serves; every acknowledged registration is there.
    let (_server, addr) = start(&data_dir, &db.url_text);
    let (status, _, _) = request(&addr, "GET", "/healthz", &[], "").unwrap();
    assert_eq!(status, 200);
    assert_nothing_lost(&db.url, &promised).await;
}
