//! The second factor: enrolment with a QR code, sign-in in two steps, codes used once,
//! recovery codes, the security administrator's reset, and the API's one-step sign-in. Codes are
//! computed here, from RFC 6238, independently of the crate the server uses.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hmac::{Hmac, Mac};
use qipan::service::ServiceError;

use crate::helpers::{at, demo_app, demo_login, get, post_form, send};

/// RFC 4648 base32, without padding.
fn base32(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u32, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        value = (value << 5) | ALPHABET.iter().position(|a| *a == c).expect("base32") as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

/// The six-digit TOTP code of `secret` (base32) at `unix` seconds (RFC 6238 with SHA-1, 30 s).
pub fn code_at(secret: &str, unix: i64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&base32(secret)).unwrap();
    mac.update(&((unix / 30) as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let n = u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]);
    format!("{:06}", n % 1_000_000)
}

#[test]
fn the_code_computed_here_follows_the_rfc() {
    // RFC 6238 appendix B, SHA-1, 59 s: 94287082 in eight digits.
    assert_eq!(code_at("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59), "287082");
}

fn unix(when: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(when).unwrap().timestamp()
}

#[tokio::test]
async fn an_account_enrols_a_factor_and_signs_in_with_a_code_used_once() {
    let (app, _db) = demo_app().await;
    let t0 = "2026-11-25T10:00:00+08:00";
    let app = at(&app, t0);
    let clerk = demo_login(&app, "clerk").await;
    assert!(get(&app, "/account/factor", Some(&clerk)).await.body.contains(r#"id="factor-begin""#));
    let page = post_form(&app, "/account/factor", Some(&clerk), &[("action", "begin")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<svg"), "the QR code is drawn by the server");
    let secret = page.body.split(r#"id="factor-secret">"#).nth(1).unwrap().split('<').next().unwrap().to_owned();
    // A wrong code is refused, naming the field; the right one confirms and shows recovery codes.
    let wrong = post_form(&app, "/account/factor", Some(&clerk), &[("action", "confirm"), ("code", "000000")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("动态码与验证器当前显示的不符"), "{}", wrong.body);
    let code = code_at(&secret, unix(t0));
    let done = post_form(&app, "/account/factor", Some(&clerk), &[("action", "confirm"), ("code", &code)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let recovery: Vec<String> = done
        .body
        .split(r#"id="recovery-codes">"#)
        .nth(1)
        .unwrap()
        .split("</pre>")
        .next()
        .unwrap()
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert!(get(&app, "/account/factor", Some(&clerk)).await.body.contains(r#"id="factor-state""#));

    // The password alone no longer signs in: it opens a pending sign-in.
    let t1 = "2026-11-25T10:05:00+08:00";
    let later = at(&app, t1);
    let pending = match later.login("clerk", qipan::demo::DEMO_PASSWORD, Some("10.0.0.5".into())).await {
        Err(ServiceError::SecondFactorRequired { pending }) => pending,
        other => panic!("{other:?}"),
    };
    let wrong = later.complete_login(&pending, "123456", Some("10.0.0.5".into())).await;
    assert!(matches!(wrong, Err(ServiceError::Invalid { rule: "rule.totp_wrong", .. })), "{wrong:?}");
    let code = code_at(&secret, unix(t1));
    // From another address the pending sign-in is not there.
    let elsewhere = later.complete_login(&pending, &code, Some("192.0.2.9".into())).await;
    assert!(matches!(elsewhere, Err(ServiceError::LoginFailed)), "{elsewhere:?}");
    let session = later.complete_login(&pending, &code, Some("10.0.0.5".into())).await.unwrap();
    assert_eq!(session.actor.name, "clerk");
    // The same code again (a replay, in the same half minute): refused.
    let again = match later.login("clerk", qipan::demo::DEMO_PASSWORD, Some("10.0.0.5".into())).await {
        Err(ServiceError::SecondFactorRequired { pending }) => {
            later.complete_login(&pending, &code, Some("10.0.0.5".into())).await
        }
        other => panic!("{other:?}"),
    };
    assert!(matches!(again, Err(ServiceError::Invalid { rule: "rule.totp_replayed", .. })), "{again:?}");
    // A recovery code signs in once.
    let use_recovery = |code: String| {
        let later = later.clone();
        async move {
            match later.login("clerk", qipan::demo::DEMO_PASSWORD, None).await {
                Err(ServiceError::SecondFactorRequired { pending }) => {
                    later.complete_login(&pending, &code, None).await
                }
                other => panic!("{other:?}"),
            }
        }
    };
    assert!(use_recovery(recovery[3].clone()).await.is_ok());
    assert!(use_recovery(recovery[3].clone()).await.is_err(), "a recovery code is used once");

    // The API signs in in one step with the code, and says what is missing without it.
    let t2 = "2026-11-25T10:06:00+08:00";
    let api = at(&app, t2);
    let body = |totp: Option<String>| {
        let mut v = serde_json::json!({"username": "clerk", "password": qipan::demo::DEMO_PASSWORD});
        if let Some(c) = totp {
            v["totp"] = c.into();
        }
        Request::post("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap()
    };
    let missing = send(&api, body(None)).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json()["error"]["code"], "second_factor_required");
    assert_eq!(send(&api, body(Some(code_at(&secret, unix(t2))))).await.status, StatusCode::OK);

    // The phone is lost: the security administrator resets the factor; the password suffices
    // again until a new one is set up.
    let sec = demo_login(&api, "secadmin").await;
    let account = api.store.account_by_username("clerk").await.unwrap().unwrap();
    assert!(account.has_factor);
    let path = format!("/admin/accounts/{}", account.id);
    assert!(get(&api, &path, Some(&sec)).await.body.contains(r#"id="reset-factor""#));
    let v = account.version.to_string();
    let reset = post_form(&api, &path, Some(&sec), &[("action", "reset_factor"), ("version", &v)]).await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
    assert!(api.login("clerk", qipan::demo::DEMO_PASSWORD, None).await.is_ok());
    let filter = store::AuditFilter { action_prefix: Some("factor.".into()), ..Default::default() };
    let (log, _) = api.store.search_audit(&filter, store::Page { number: 1, size: 10 }).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
    assert!(
        actions.contains(&"factor.enrol")
            && actions.contains(&"factor.reset")
            && actions.contains(&"factor.recovery_used"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn administrators_set_up_a_factor_before_anything_else_outside_the_demo() {
    let (app, _db) = demo_app().await;
    let t0 = "2026-11-25T10:00:00+08:00";
    let app = at(&app, t0);
    // A real installation: the demo's relaxation is lifted.
    app.store.set_setting(qipan::service::ADMIN_FACTOR_SETTING, "required", app.clock.now()).await.unwrap();
    let admin = demo_login(&app, "sysadmin").await;
    let page = get(&app, "/admin/accounts", Some(&admin)).await;
    assert_eq!(page.location(), "/account/factor", "sent to set up a factor first");
    let token_list =
        Request::get("/api/v1/org-units").header(header::COOKIE, &admin.cookie).body(Body::empty()).unwrap();
    let api = send(&app, token_list).await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["error"]["code"], "factor_required");
    // Ordinary accounts are not held back.
    let clerk = demo_login(&app, "clerk").await;
    assert_eq!(get(&app, "/persons", Some(&clerk)).await.status, StatusCode::OK);
    // Once set up, the administrator works as before (after signing in with a code).
    let begun = post_form(&app, "/account/factor", Some(&admin), &[("action", "begin")]).await;
    let secret = begun.body.split(r#"id="factor-secret">"#).nth(1).unwrap().split('<').next().unwrap().to_owned();
    let code = code_at(&secret, unix(t0));
    let done = post_form(&app, "/account/factor", Some(&admin), &[("action", "confirm"), ("code", &code)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(get(&app, "/admin/accounts", Some(&admin)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_account_with_a_factor_changes_its_password_without_being_asked_again() {
    let (app, _db) = demo_app().await;
    let t0 = "2026-11-25T10:00:00+08:00";
    let app = at(&app, t0);
    let clerk = demo_login(&app, "clerk").await;
    let begun = post_form(&app, "/account/factor", Some(&clerk), &[("action", "begin")]).await;
    let secret = begun.body.split(r#"id="factor-secret">"#).nth(1).unwrap().split('<').next().unwrap().to_owned();
    let code = code_at(&secret, unix(t0));
    post_form(&app, "/account/factor", Some(&clerk), &[("action", "confirm"), ("code", &code)]).await;
    let new = "Another-password-9";
    let fields = [("current", qipan::demo::DEMO_PASSWORD), ("new", new), ("confirm", new)];
    let reply = post_form(&app, "/account/password", Some(&clerk), &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(reply.headers[header::SET_COOKIE].to_str().unwrap().starts_with("qipan_session="), "a fresh session");
    // The next sign-in still takes both.
    assert!(matches!(app.login("clerk", new, None).await, Err(ServiceError::SecondFactorRequired { .. })));
}
