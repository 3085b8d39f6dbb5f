//! What keeps one client from taking the service from everyone else, and what the web layer
//! trusts about where a request came from. One middleware ([`guard`]) runs before everything:
//! it works out the client's address (behind a trusted proxy, from `X-Forwarded-For`), refuses
//! when too many requests are in flight (503), limits sign-in attempts and API calls per address
//! (429 with `Retry-After`), and gives every request a deadline (503 when it passes).
//! Simultaneous exports are limited per account where the account is known ([`ExportSlots`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::service::ServiceError;
use crate::web::{ApiError, Lang, PageError};

/// A network in CIDR notation (`10.0.0.0/8`, `::1/128`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(raw: &str) -> Result<Cidr, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| format!("`{raw}` is not an address or a network (CIDR)"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => {
                p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("`{raw}`: bad prefix length"))?
            }
            None => max,
        };
        Ok(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The limits of the web layer.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sign-in attempts per client address per minute.
    pub sign_ins_per_minute: u32,
    /// API calls per client address per minute.
    pub api_per_minute: u32,
    /// How long a request may take to produce its answer (a streamed export then streams on).
    pub request_timeout: Duration,
    /// Requests being answered at once; beyond it, 503 at once rather than a queue.
    pub max_in_flight: usize,
    /// Exports (rosters, reports, the audit log) one account may run at once.
    pub exports_per_account: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sign_ins_per_minute: 20,
            api_per_minute: 600,
            request_timeout: Duration::from_secs(60),
            max_in_flight: 256,
            exports_per_account: 2,
        }
    }
}

/// The deployment settings of the web layer.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` whatever the request says (Qipan behind a TLS-terminating proxy
    /// that does not send `X-Forwarded-Proto`).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` names the client; from anyone else it is ignored.
    pub trusted_proxies: Vec<Cidr>,
    pub limits: Limits,
}

impl WebConfig {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }

    /// The client's address: the peer, or — when the peer is a trusted proxy — the nearest
    /// address in `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_of(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded.iter().rev().find(|a| !self.trusts(**a)).or(forwarded.first()).copied().or(Some(peer))
    }
}

/// The client's address as the web layer worked it out, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

/// Counts per key in fixed one-minute windows.
#[derive(Debug, Default)]
struct RateWindow {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateWindow {
    /// `Err(seconds to wait)` when the key has used up `limit` in its current minute.
    fn hit(&self, key: IpAddr, limit: u32, now: Instant) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let wait = Duration::from_secs(60).saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The shared state of the limits, one per router.
#[derive(Debug)]
pub struct Guards {
    pub config: WebConfig,
    sign_ins: RateWindow,
    api: RateWindow,
    in_flight: Arc<Semaphore>,
    pub exports: ExportSlots,
}

impl Guards {
    pub fn new(config: WebConfig) -> Arc<Guards> {
        let in_flight = Arc::new(Semaphore::new(config.limits.max_in_flight.max(1)));
        let exports = ExportSlots { per_account: config.limits.exports_per_account.max(1), ..Default::default() };
        Arc::new(Guards { config, sign_ins: RateWindow::default(), api: RateWindow::default(), in_flight, exports })
    }
}

/// Exports running per account.
#[derive(Debug, Default)]
pub struct ExportSlots {
    per_account: usize,
    running: Arc<Mutex<HashMap<String, usize>>>,
}

/// One export's place; the place frees when the slot (and the body that holds it) is dropped.
#[derive(Debug)]
pub struct ExportSlot {
    account: String,
    running: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.account) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.account);
            }
        }
    }
}

impl ExportSlots {
    /// A place for one more export of `account`, or `None` when it runs as many as allowed.
    pub fn take(&self, account: &str) -> Option<ExportSlot> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let n = running.entry(account.to_owned()).or_insert(0);
        if *n >= self.per_account {
            return None;
        }
        *n += 1;
        Some(ExportSlot { account: account.to_owned(), running: self.running.clone() })
    }
}

/// The paths that export: they hold an export slot for as long as their body streams.
pub fn is_export(path: &str) -> bool {
    path.ends_with(".csv") || path.ends_with(".xlsx") || path.contains("/export")
}

/// Keeps `slot` alive until the response body has been sent (or dropped).
pub fn hold_until_sent(response: Response, slot: ExportSlot) -> Response {
    use futures_util::StreamExt;
    let (parts, body) = response.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        let _held = &slot;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// A refusal in the form the client reads: the JSON envelope for the API, a page otherwise,
/// with `Retry-After`.
pub fn refusal(api: bool, lang: Lang, err: ServiceError, retry_after: u64) -> Response {
    let mut response = if api { ApiError(err).into_response() } else { PageError::new(lang, err).into_response() };
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Middleware: client address, load shedding, rate limits and the deadline.
pub async fn guard(mut request: Request, next: Next) -> Response {
    let Some(guards) = request.extensions().get::<Arc<Guards>>().cloned() else {
        return next.run(request).await;
    };
    let api = request.uri().path().starts_with("/api/");
    let lang = Lang(crate::web::locale::locale_of_headers(request.headers()).messages());
    let Ok(_permit) = guards.in_flight.clone().try_acquire_owned() else {
        return refusal(api, lang, ServiceError::Busy, 1);
    };
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    let client = guards.config.client_of(peer, request.headers());
    request.extensions_mut().insert(ClientAddress(client));
    if guards.config.secure_cookies {
        // The handlers set `Secure` on cookies of requests that came over TLS; this deployment
        // says they all did.
        request.headers_mut().insert("x-forwarded-proto", HeaderValue::from_static("https"));
    }
    if let Some(ip) = client {
        let path = request.uri().path();
        let signing_in =
            request.method() == Method::POST && matches!(path, "/login" | "/login/factor" | "/api/v1/session");
        let limits = &guards.config.limits;
        let verdict = if signing_in {
            guards.sign_ins.hit(ip, limits.sign_ins_per_minute, Instant::now())
        } else if api {
            guards.api.hit(ip, limits.api_per_minute, Instant::now())
        } else {
            Ok(())
        };
        if let Err(wait) = verdict {
            tracing::warn!(client = %ip, path, "rate limited");
            return refusal(api, lang, ServiceError::TooManyRequests { retry_after: wait }, wait);
        }
    }
    within(guards.config.limits.request_timeout, api, lang, next.run(request)).await
}

/// The answer of `work`, or a 503 when it takes longer than `limit` (the work is dropped: a
/// transaction not yet committed rolls back).
async fn within(limit: Duration, api: bool, lang: Lang, work: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(limit, work).await {
        Ok(response) => response,
        Err(_) => refusal(api, lang, ServiceError::TimedOut, 5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains("127.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1/128").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let config = WebConfig { trusted_proxies: vec![Cidr::parse("10.0.0.0/8").unwrap()], ..Default::default() };
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 198.51.100.7, 10.0.0.2"));
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(config.client_of(Some(proxy), &headers), Some("198.51.100.7".parse().unwrap()), "nearest untrusted");
        assert_eq!(config.client_of(Some(stranger), &headers), Some(stranger), "anyone can write the header");
        assert_eq!(config.client_of(Some(proxy), &HeaderMap::new()), Some(proxy));
    }

    #[test]
    fn a_window_refuses_past_its_limit_and_opens_after_a_minute() {
        let w = RateWindow::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(w.hit(ip, 3, t0), Ok(()));
        }
        assert_eq!(w.hit(ip, 3, t0 + Duration::from_secs(20)), Err(40));
        assert_eq!(w.hit("192.0.2.2".parse().unwrap(), 3, t0), Ok(()), "another address has its own");
        assert_eq!(w.hit(ip, 3, t0 + Duration::from_secs(60)), Ok(()));
    }

    #[tokio::test]
    async fn work_past_its_deadline_is_stopped_with_the_envelope() {
        use http_body_util::BodyExt;
        let lang = Lang(crate::i18n::Locale::En.messages());
        let never = std::future::pending::<Response>();
        let response = within(Duration::from_millis(10), true, lang, never).await;
        assert_eq!(response.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "timeout");
        let quick = async { axum::http::StatusCode::OK.into_response() };
        assert_eq!(within(Duration::from_secs(5), true, lang, quick).await.status(), axum::http::StatusCode::OK);
    }

    #[test]
    fn an_account_runs_only_so_many_exports_at_once() {
        let slots = ExportSlots { per_account: 2, ..Default::default() };
        let a = slots.take("county").unwrap();
        let _b = slots.take("county").unwrap();
        assert!(slots.take("county").is_none());
        assert!(slots.take("clerk").is_some(), "per account");
        drop(a);
        assert!(slots.take("county").is_some(), "a finished export frees its place");
    }
}
