//! `qipan load`: many signed-in sessions doing a clerk's mix at once against a running server —
//! the day page, a search, a record opened, a registration, the worklist API — for a while, then
//! each route's count, errors and latencies. Run outside CI against a large database (issue 12:
//! 500 sessions for 10 minutes at 1M records); a short run with a few sessions is tested.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::GlobalArgs;
use super::bench::ms;

/// What a load run is told.
pub struct LoadPlan<'a> {
    pub base: &'a str,
    pub sessions: u32,
    pub seconds: u64,
    pub username: &'a str,
    pub password: &'a str,
    /// A session's pause between requests (0: none).
    pub think_ms: u64,
}

/// One keep-alive HTTP/1.1 connection, opened again when the server closes it.
struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Conn {
    async fn exchange(&mut self, head: &str, body: &str) -> anyhow::Result<Reply> {
        if self.stream.is_none() {
            self.stream = Some(BufReader::new(TcpStream::connect(&self.addr).await?));
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.get_mut().write_all(head.as_bytes()).await?;
        stream.get_mut().write_all(body.as_bytes()).await?;
        let mut line = String::new();
        if stream.read_line(&mut line).await? == 0 {
            bail!("the server closed the connection");
        }
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).context("a status line")?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let mut bytes = Vec::new();
        if let Some(n) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            bytes.resize(n, 0);
            stream.read_exact(&mut bytes).await?;
        } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                line.clear();
                stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim(), 16).context("a chunk size")?;
                let mut chunk = vec![0; size + 2];
                stream.read_exact(&mut chunk).await?;
                if size == 0 {
                    break;
                }
                bytes.extend_from_slice(&chunk[..size]);
            }
        } else {
            stream.read_to_end(&mut bytes).await?;
            self.stream = None;
        }
        if header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            self.stream = None;
        }
        Ok(Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() })
    }

    /// One request; a connection the server had closed in between is opened again once.
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> anyhow::Result<Reply> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n", self.addr, body.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let reused = self.stream.is_some();
        match self.exchange(&head, body).await {
            Err(_) if reused => {
                self.stream = None;
                self.exchange(&head, body).await
            }
            other => other,
        }
    }
}

/// Latencies and outcomes per route.
#[derive(Default)]
struct Tally {
    samples: Vec<Duration>,
    client_errors: u64,
    errors: u64,
    /// Each refusal and failure by status and the envelope's error code (`409 duplicate`).
    why: BTreeMap<String, u64>,
}

type Tallies = Arc<Mutex<BTreeMap<&'static str, Tally>>>;

fn note(tallies: &Tallies, route: &'static str, took: Duration, outcome: &anyhow::Result<Reply>) {
    let mut t = tallies.lock().expect("no panics while held");
    let tally = t.entry(route).or_default();
    tally.samples.push(took);
    let reason = |r: &Reply| {
        let code = serde_json::from_str::<Value>(&r.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().or(v["code"].as_str()).map(str::to_owned))
            .unwrap_or_default();
        format!("{} {code}", r.status).trim_end().to_owned()
    };
    match outcome {
        Ok(r) if r.status < 400 => {}
        Ok(r) if r.status < 500 => {
            tally.client_errors += 1;
            *tally.why.entry(reason(r)).or_default() += 1;
        }
        Ok(r) => {
            tally.errors += 1;
            *tally.why.entry(reason(r)).or_default() += 1;
        }
        Err(e) => {
            tally.errors += 1;
            // Grouped by the kind of failure, not by each message's details.
            let kind = e.to_string().split(':').next().unwrap_or_default().to_owned();
            *tally.why.entry(format!("no answer: {kind}")).or_default() += 1;
        }
    }
}

/// A small generator of choices, seeded per session.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn session(
    index: u32,
    account: Arc<(String, String)>,
    think: Duration,
    addr: String,
    today: chrono::NaiveDate,
    deadline: Instant,
    tallies: Tallies,
) -> anyhow::Result<()> {
    let mut conn = Conn { addr, stream: None };
    let sign_in = json!({"username": account.0, "password": account.1}).to_string();
    // A server shedding load answers 503 and asks to try again, as a clerk's browser would.
    let mut tries = 0;
    let reply = loop {
        let start = Instant::now();
        let outcome = conn.request("POST", "/api/v1/session", &[("Content-Type", "application/json")], &sign_in).await;
        note(&tallies, "POST /api/v1/session (signing in)", start.elapsed(), &outcome);
        let reply = outcome?;
        tries += 1;
        if reply.status == 503 && tries < 30 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500 + u64::from(index % 10) * 100)).await;
            continue;
        }
        break reply;
    };
    if reply.status != 200 {
        bail!("signing in answered {}", reply.status);
    }
    let cookie = reply
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .and_then(|(_, v)| v.split(';').next())
        .context("a session cookie")?
        .to_owned();
    let me: Value = serde_json::from_str(&reply.body)?;
    let csrf = me["csrf_token"].as_str().unwrap_or_default().to_owned();
    let unit = me["unit"].as_str().unwrap_or_default().to_owned();
    let read = [("Cookie", cookie.as_str())];
    let write = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str()), ("Content-Type", "application/json")];
    let mut dice = Dice(u64::from(index) * 7919 + 17);
    // People moving in from elsewhere: the generator's outflow people live in the county itself
    // and would be refused as an inflow registration.
    let mut people = crate::demo_people::demo_batches(10_000, 1_000 + u64::from(index), today)
        .flatten()
        .filter(|(f, _)| f.direction == "in");
    // The names a clerk looks for: people of the demo's own seed, so that searches find them.
    let names: Vec<String> = crate::demo_people::demo_batches(200, 1, today).flatten().map(|(f, _)| f.name).collect();
    let mut seen: Vec<i64> = Vec::new();
    while Instant::now() < deadline {
        let roll = dice.below(100);
        let start = Instant::now();
        let (route, outcome) = if roll < 30 {
            ("GET / (the clerk's day page)", conn.request("GET", "/", &read, "").await)
        } else if roll < 55 || (roll < 80 && seen.is_empty()) {
            let q = &names[dice.below(names.len() as u64) as usize];
            let path = format!("/api/v1/persons?q={}", crate::web::ui::percent_encode(q));
            let outcome = conn.request("GET", &path, &read, "").await;
            if let Ok(r) = &outcome
                && let Ok(v) = serde_json::from_str::<Value>(&r.body)
            {
                seen.extend(v["items"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_i64()).take(5));
                if seen.len() > 50 {
                    seen.drain(..seen.len() - 50);
                }
            }
            ("GET /api/v1/persons?q= (a name)", outcome)
        } else if roll < 80 {
            let id = seen[dice.below(seen.len() as u64) as usize];
            ("GET /persons/{id} (a record opened)", conn.request("GET", &format!("/persons/{id}"), &read, "").await)
        } else if roll < 90 {
            let Some((f, _)) = people.next() else { break };
            let body = json!({
                "id_number": f.id_number, "name": f.name, "phone": f.phone, "hukou_area": f.hukou_area,
                "hukou_address": f.hukou_address, "residence_area": unit, "residence_address": f.residence_address,
                "managing_unit": unit, "direction": "in", "moved_on": f.moved_on.to_string(), "move_reason": f.move_reason,
            })
            .to_string();
            let outcome = conn.request("POST", "/api/v1/persons", &write, &body).await;
            // A clerk opens what she just registered, as she opens what she found.
            if let Ok(r) = &outcome
                && r.status == 201
                && let Some(id) = serde_json::from_str::<Value>(&r.body).ok().and_then(|v| v["id"].as_i64())
            {
                seen.push(id);
                if seen.len() > 50 {
                    seen.remove(0);
                }
            }
            ("POST /api/v1/persons (a registration)", outcome)
        } else {
            ("GET /api/v1/worklist", conn.request("GET", "/api/v1/worklist", &read, "").await)
        };
        note(&tallies, route, start.elapsed(), &outcome);
        match &outcome {
            // A server that is gone is not hammered in a loop; one shedding load is given the
            // moment it asks for, as a clerk's browser would.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Ok(r) if r.status == 503 => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(_) if think > Duration::ZERO => {
                // A clerk reads before the next click: the pause varies by ±50%.
                let pause = think.as_millis() as u64 / 2 + dice.below(think.as_millis() as u64 + 1);
                tokio::time::sleep(Duration::from_millis(pause)).await
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

pub async fn run(global: &GlobalArgs, plan: &LoadPlan<'_>) -> anyhow::Result<()> {
    let addr = plan
        .base
        .strip_prefix("http://")
        .context("--base is an http:// address (put TLS in front of Qipan, not between it and this tool)")?
        .trim_end_matches('/')
        .to_owned();
    let today = global.clock().today();
    let tallies: Tallies = Arc::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.seconds);
    let mut runs = tokio::task::JoinSet::new();
    let account = Arc::new((plan.username.to_owned(), plan.password.to_owned()));
    for index in 0..plan.sessions {
        let (addr, tallies, account) = (addr.clone(), tallies.clone(), account.clone());
        runs.spawn(session(index, account, Duration::from_millis(plan.think_ms), addr, today, deadline, tallies));
    }
    let mut failed_sessions = Vec::new();
    while let Some(done) = runs.join_next().await {
        if let Err(e) = done? {
            failed_sessions.push(e.to_string());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let tallies = tallies.lock().expect("no panics while held");
    println!(
        "qipan load — {} sessions (pausing {} ms between requests) for {} s against {}: {} requests",
        plan.sessions,
        plan.think_ms,
        plan.seconds,
        plan.base,
        tallies.values().map(|t| t.samples.len()).sum::<usize>()
    );
    println!(
        "{:<40} {:>9} {:>7} {:>7} {:>10} {:>10} {:>10} {:>8}",
        "route", "requests", "errors", "4xx", "p50", "p99", "max", "req/s"
    );
    let mut errors = failed_sessions.len() as u64;
    for (route, t) in tallies.iter() {
        let mut s = t.samples.clone();
        s.sort();
        let at = |p: f64| s.get(((s.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or_default();
        println!(
            "{route:<40} {:>9} {:>7} {:>7} {:>10} {:>10} {:>10} {:>8.1}",
            s.len(),
            t.errors,
            t.client_errors,
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0)),
            s.len() as f64 / elapsed
        );
        errors += t.errors;
        for (reason, n) in &t.why {
            println!("    {n:>9} × {reason}");
        }
    }
    let mut why: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &failed_sessions {
        *why.entry(e.as_str()).or_default() += 1;
    }
    for (e, n) in why {
        println!("{n} session(s) could not start: {e}");
    }
    if errors > 0 {
        bail!("{errors} errors (5xx, broken connections or sessions that could not start)");
    }
    Ok(())
}
