//! The notification gateway: how a queued message leaves Qipan.
//!
//! By default messages go to the log only (a training or county installation without an SMS
//! contract). With `QIPAN_SMS_URL` set, each message is POSTed as JSON to that address (the
//! province's SMS platform or a relay in front of it); a 2xx answer is a delivery, anything else
//! is retried with growing back-off and given up after [`MAX_ATTEMPTS`].

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, header};
use chrono::{DateTime, Utc};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use store::Notification;

/// Attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i32 = 6;

/// Wait after the n-th failed attempt (1-based): 1 min, 5 min, 15 min, 1 h, 4 h.
pub fn backoff(failed_attempts: i32) -> chrono::Duration {
    let minutes = match failed_attempts {
        i32::MIN..=1 => 1,
        2 => 5,
        3 => 15,
        4 => 60,
        _ => 240,
    };
    chrono::Duration::minutes(minutes)
}

/// When to try again after this failure, or `None` when the message has used its attempts.
pub fn retry_at(attempts_before: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let failed = attempts_before + 1;
    (failed < MAX_ATTEMPTS).then(|| now + backoff(failed))
}

#[derive(Debug, Clone)]
pub enum Gateway {
    /// Write the message to the log and count it delivered.
    Log,
    /// POST JSON to an HTTP endpoint on this machine (a relay that forwards with TLS).
    Http { url: url::Url, token: Option<String> },
}

impl Gateway {
    /// From `QIPAN_SMS_URL` (and `QIPAN_SMS_TOKEN`, sent as a bearer token).
    pub fn from_env() -> Result<Gateway, String> {
        match std::env::var("QIPAN_SMS_URL").ok().filter(|s| !s.trim().is_empty()) {
            None => Ok(Gateway::Log),
            Some(raw) => {
                let url = url::Url::parse(raw.trim()).map_err(|e| format!("QIPAN_SMS_URL `{raw}`: {e}"))?;
                // Plain HTTP only to this machine: a relay here carries the messages on with TLS.
                let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
                if url.scheme() != "http" || !local {
                    return Err(format!(
                        "QIPAN_SMS_URL `{raw}`: only http:// to this machine (127.0.0.1, localhost) is supported; \
                         run a TLS relay to the SMS platform on this host"
                    ));
                }
                let token = std::env::var("QIPAN_SMS_TOKEN").ok().filter(|s| !s.is_empty());
                Ok(Gateway::Http { url, token })
            }
        }
    }

    pub fn channel(&self) -> &'static str {
        match self {
            Gateway::Log => "log",
            Gateway::Http { .. } => "http",
        }
    }

    /// Delivers one message; the error says why it did not go.
    pub async fn deliver(&self, n: &Notification) -> Result<(), String> {
        match self {
            Gateway::Log => {
                tracing::info!(id = n.id, to = %n.recipient, unit = %n.unit, message = %n.message, "notification (log channel)");
                Ok(())
            }
            Gateway::Http { url, token } => {
                let body = json!({
                    "id": n.id, "to": n.recipient, "to_name": n.recipient_name, "unit": n.unit, "text": n.message,
                    "item_id": n.item_id(),
                });
                let mut req = Request::post(url.as_str())
                    .header(header::CONTENT_TYPE, "application/json")
                    // The gateway may see the same message twice after a lost answer.
                    .header("Idempotency-Key", format!("qipan-notification-{}", n.id));
                if let Some(t) = token {
                    req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
                }
                let req = req.body(Full::new(Bytes::from(body.to_string()))).map_err(|e| e.to_string())?;
                let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
                match tokio::time::timeout(Duration::from_secs(10), client.request(req)).await {
                    Err(_) => Err("the gateway did not answer within 10 s".to_owned()),
                    Ok(Err(e)) => Err(format!("cannot reach the gateway: {e}")),
                    Ok(Ok(resp)) if resp.status().is_success() => Ok(()),
                    Ok(Ok(resp)) => Err(format!("the gateway answered {}", resp.status())),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_grows_and_gives_up() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let waits: Vec<i64> = (0..MAX_ATTEMPTS - 1).map(|a| (retry_at(a, now).unwrap() - now).num_minutes()).collect();
        assert_eq!(waits, [1, 5, 15, 60, 240]);
        assert_eq!(retry_at(MAX_ATTEMPTS - 1, now), None, "the sixth failure is final");
    }
}
