//! Signing in and out, lockout, sessions, CSRF, passwords and account administration.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Duration;
use domain::Clock;
use qipan::service::{App, ServiceError};
use store::{AuditFilter, Page};

use crate::helpers::{
    Session, TEST_PASSWORD, demo_app, demo_login, get, login_as, new_account, post_form, post_raw, send,
};

/// The same installation seen at another moment.
fn at(app: &App, later: Duration) -> App {
    app.at_clock(Clock::Fixed(app.clock.now() + later))
}

fn frozen(app: &App) -> App {
    app.at_clock(Clock::Fixed(app.clock.now()))
}

async fn audit_actions(app: &App, actor: &str) -> Vec<(String, String)> {
    let filter = AuditFilter { actor: Some(actor.to_owned()), ..Default::default() };
    let (rows, _) = app.store.search_audit(&filter, Page { number: 1, size: 500 }).await.unwrap();
    rows.into_iter().map(|r| (r.entry.action, r.entry.detail)).collect()
}

#[tokio::test]
async fn every_failed_sign_in_looks_the_same_and_is_audited() {
    let (app, _db) = demo_app().await;
    let wrong = app.login("county", "Not-the-password-1", None).await;
    let unknown = app.login("nobody-here", "Not-the-password-1", None).await;
    let malformed = app.login("这不是用户名", "x", None).await;
    for r in [&wrong, &unknown, &malformed] {
        assert!(matches!(r, Err(ServiceError::LoginFailed)), "{r:?}");
    }
    let county = audit_actions(&app, "county").await;
    assert!(county.iter().any(|(a, d)| a == "login.failure" && d.contains("wrong_password")), "{county:?}");
    let nobody = audit_actions(&app, "nobody-here").await;
    assert!(nobody.iter().any(|(a, d)| a == "login.failure" && d.contains("unknown_user")), "{nobody:?}");

    // Through the API: 401 and the same message for both.
    let body = |u: &str| serde_json::json!({"username": u, "password": "Not-the-password-1"}).to_string();
    let mut messages = Vec::new();
    for u in ["county", "nobody-here"] {
        let req = Request::post("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body(u)))
            .unwrap();
        let reply = send(&app, req).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        messages.push(reply.json()["error"]["message"].clone());
    }
    assert_eq!(messages[0], messages[1], "the answer never tells whether the user exists");
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes_and_security_can_unlock() {
    let (app, _db) = demo_app().await;
    let app = frozen(&app);
    for _ in 0..5 {
        assert!(app.login("county", "Not-the-password-1", None).await.is_err());
    }
    // Locked: even the right password is refused, with the same answer.
    assert!(matches!(app.login("county", qipan::demo::DEMO_PASSWORD, None).await, Err(ServiceError::LoginFailed)));
    let actions = audit_actions(&app, "county").await;
    assert!(actions.iter().any(|(a, _)| a == "account.lockout"), "{actions:?}");
    assert!(actions.iter().any(|(a, d)| a == "login.failure" && d.contains("locked")), "{actions:?}");
    // Still locked after 14 minutes, open after 16.
    assert!(at(&app, Duration::minutes(14)).login("county", qipan::demo::DEMO_PASSWORD, None).await.is_err());
    assert!(at(&app, Duration::minutes(16)).login("county", qipan::demo::DEMO_PASSWORD, None).await.is_ok());

    // Lock it again; the security administrator unlocks it at once.
    for _ in 0..5 {
        assert!(app.login("county", "Not-the-password-1", None).await.is_err());
    }
    let sec = demo_login(&app, "secadmin").await;
    let account = app.store.account_by_username("county").await.unwrap().unwrap();
    let path = format!("/admin/accounts/{}", account.id);
    let page = get(&app, &path, Some(&sec)).await;
    assert!(page.body.contains(r#"id="unlock""#), "the unlock button shows for a locked account");
    let version = account.version.to_string();
    let reply = post_form(&app, &path, Some(&sec), &[("action", "unlock"), ("version", &version)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(app.login("county", qipan::demo::DEMO_PASSWORD, None).await.is_ok());
    assert!(audit_actions(&app, "secadmin").await.iter().any(|(a, _)| a == "account.unlock"));
}

#[tokio::test]
async fn guesses_from_one_address_do_not_lock_the_owner_out_from_another() {
    let (app, _db) = demo_app().await;
    let app = frozen(&app);
    let attacker = || Some("203.0.113.66".to_owned());
    for _ in 0..5 {
        assert!(app.login("county", "Not-the-password-1", attacker()).await.is_err());
    }
    // The guessing address is locked out, even with the right password...
    let refused = app.login("county", qipan::demo::DEMO_PASSWORD, attacker()).await;
    assert!(matches!(refused, Err(ServiceError::LoginFailed)));
    // ...while the owner signs in from the office, and the administrators see the lock.
    assert!(app.login("county", qipan::demo::DEMO_PASSWORD, Some("10.8.0.12".into())).await.is_ok());
    let account = app.store.account_by_username("county").await.unwrap().unwrap();
    assert!(account.locked_until.is_some(), "shown as locked to the security administrator");
    let lockout = audit_actions(&app, "county").await.into_iter().find(|(a, _)| a == "account.lockout").unwrap();
    assert!(lockout.1.contains("203.0.113.66"), "the lockout names the address: {}", lockout.1);
    // Unlocking lifts it for every address.
    let sec = demo_login(&app, "secadmin").await;
    let path = format!("/admin/accounts/{}", account.id);
    let version = account.version.to_string();
    let reply = post_form(&app, &path, Some(&sec), &[("action", "unlock"), ("version", &version)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(app.login("county", qipan::demo::DEMO_PASSWORD, attacker()).await.is_ok());
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes_or_twelve_hours() {
    let (app, _db) = demo_app().await;
    let app = frozen(&app);
    let s = demo_login(&app, "county").await;
    let token = s.cookie.strip_prefix("qipan_session=").unwrap().to_owned();
    assert!(app.session_actor(&token, None).await.unwrap().is_some());
    // 29 minutes idle: still alive (and the visit renews it).
    let later = at(&app, Duration::minutes(29));
    assert!(later.session_actor(&token, None).await.unwrap().is_some());
    // 31 minutes after that visit... counted from the last visit, so 29 + 31 = 60 minutes is over.
    assert!(at(&app, Duration::minutes(29 + 31)).session_actor(&token, None).await.unwrap().is_none());

    // Active all day: the session still ends 12 hours after sign-in.
    let s = demo_login(&app, "county").await;
    let token = s.cookie.strip_prefix("qipan_session=").unwrap().to_owned();
    for minutes in (20..=700).step_by(20) {
        assert!(at(&app, Duration::minutes(minutes)).session_actor(&token, None).await.unwrap().is_some(), "{minutes}");
    }
    assert!(at(&app, Duration::minutes(12 * 60 + 5)).session_actor(&token, None).await.unwrap().is_none());

    // An ended session sends the browser back to the login page, which clears the cookie.
    let expired = at(&app, Duration::hours(13));
    let reply = get(&expired, "/orgs", Some(&s)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().starts_with("/login"));
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("qipan_session=;") && cookie.contains("Max-Age=0"), "{cookie}");
}

#[tokio::test]
async fn the_login_form_sets_a_strict_http_only_cookie_and_logout_ends_it() {
    let (app, _db) = demo_app().await;
    let form = get(&app, "/login", None).await;
    let login_cookie = form.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let token = login_cookie.split_once('=').unwrap().1.to_owned();
    assert!(form.body.contains(&token), "the form carries the token of its cookie");
    let browser = Session { cookie: login_cookie.clone(), csrf: token.clone() };
    let fields = [("username", "county"), ("password", qipan::demo::DEMO_PASSWORD), ("next", "/orgs")];
    let reply = post_form(&app, "/login", Some(&browser), &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/orgs");
    let set = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"), "{set}");
    let session = set.split(';').next().unwrap().to_owned();

    // Over TLS (as a proxy reports it) the cookie is Secure too.
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("_csrf", token.as_str()), ("username", "county"), ("password", qipan::demo::DEMO_PASSWORD)])
        .finish();
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &login_cookie)
        .header("x-forwarded-proto", "https")
        .body(Body::from(body))
        .unwrap();
    assert!(send(&app, req).await.headers[header::SET_COOKIE].to_str().unwrap().contains("; Secure"));

    // A login form posted from elsewhere (no matching token) is refused.
    let forged = post_raw(&app, "/login", None, "username=county&password=Qipan-demo-2026".into()).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Logging out ends the session on the server, not only in the browser.
    let csrf =
        app.session_actor(session.split_once('=').unwrap().1, None).await.unwrap().unwrap().csrf().unwrap().to_owned();
    let s = Session { cookie: session.clone(), csrf };
    assert_eq!(get(&app, "/account", Some(&s)).await.status, StatusCode::OK);
    let out = post_form(&app, "/logout", Some(&s), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(get(&app, "/account", Some(&s)).await.location(), "/login?next=/account");
    assert!(audit_actions(&app, "county").await.iter().any(|(a, _)| a == "logout"));
}

#[tokio::test]
async fn state_changes_without_the_csrf_token_are_refused_and_change_nothing() {
    let (app, _db) = demo_app().await;
    let s = demo_login(&app, "county").await;
    let fields = format!("current={}&new=Brand-new-pass-9&confirm=Brand-new-pass-9", qipan::demo::DEMO_PASSWORD);
    for body in [fields.clone(), format!("_csrf=forged&{fields}")] {
        let reply = post_raw(&app, "/account/password", Some(&s), body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    // A JSON call with the session but without the header is refused as well.
    let req = Request::delete("/api/v1/session").header(header::COOKIE, &s.cookie).body(Body::empty()).unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::FORBIDDEN);
    // Nothing changed: the old password still works; the refusals are audited.
    assert!(app.login("county", qipan::demo::DEMO_PASSWORD, None).await.is_ok());
    let denied = audit_actions(&app, "county")
        .await
        .into_iter()
        .filter(|(a, d)| a == "access.denied" && d.contains("csrf"))
        .count();
    assert_eq!(denied, 3);
    // With the header, the same API call works.
    let req = Request::delete("/api/v1/session")
        .header(header::COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_new_account_must_change_its_password_first_and_the_policy_holds() {
    let (app, _db) = demo_app().await;
    let admin = demo_login(&app, "sysadmin").await;
    let reply = post_form(
        &app,
        "/admin/accounts",
        Some(&admin),
        &[("username", "Wang.Fang"), ("display_name", "王芳"), ("unit", "371602001001")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let secret =
        reply.body.split(r#"<pre class="secret" id="secret">"#).nth(1).unwrap().split('<').next().unwrap().to_owned();
    // The account has no role until the security administrator grants one.
    let created = app.store.account_by_username("wang.fang").await.unwrap().unwrap();
    assert!(created.roles.is_empty());
    let security = demo_login(&app, "secadmin").await;
    let v = created.version.to_string();
    let grant = post_form(
        &app,
        &format!("/admin/accounts/{}", created.id),
        Some(&security),
        &[("action", "roles"), ("version", &v), ("role", "village_clerk")],
    )
    .await;
    assert_eq!(grant.status, StatusCode::SEE_OTHER, "{}", grant.body);
    let s = login_as(&app, "wang.fang", &secret).await;
    // A sign-in with a password an administrator set is flagged for the audit administrator.
    let flagged = audit_actions(&app, "wang.fang").await;
    assert!(flagged.iter().any(|(a, _)| a == "login.after_reset"), "{flagged:?}");
    let auditor = demo_login(&app, "auditor").await;
    let log = get(&app, "/audit?action=login.after_reset", Some(&auditor)).await.body;
    assert!(log.contains(r#"class="flagged""#) && log.contains(">wang.fang<"), "{log}");

    // Until the password is changed, every page leads to the change form and the API refuses.
    assert_eq!(get(&app, "/orgs", Some(&s)).await.location(), "/account/password");
    let api = get(&app, "/api/v1/org-units", Some(&s)).await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["error"]["code"], "password_change_required");

    for (new, rule) in
        [("short1A", "长度不足"), ("alllowercaseletters", "字符种类少于"), ("Wang.Fang-2026", "不能包含用户名")]
    {
        let reply =
            post_form(&app, "/account/password", Some(&s), &[("current", &secret), ("new", new), ("confirm", new)])
                .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{new}");
        assert!(reply.body.contains(rule), "{new}: {}", reply.body);
    }
    let reply = post_form(
        &app,
        "/account/password",
        Some(&s),
        &[("current", "wrong"), ("new", TEST_PASSWORD), ("confirm", TEST_PASSWORD)],
    )
    .await;
    assert!(reply.body.contains("当前密码不正确"));
    let reply = post_form(
        &app,
        "/account/password",
        Some(&s),
        &[("current", &secret), ("new", TEST_PASSWORD), ("confirm", "Other-password-42")],
    )
    .await;
    assert!(reply.body.contains("两次输入的新密码不一致"));
    let reply = post_form(
        &app,
        "/account/password",
        Some(&s),
        &[("current", &secret), ("new", TEST_PASSWORD), ("confirm", TEST_PASSWORD)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    // The change renews the session: the browser carries on with the new cookie.
    let renewed = reply.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let s = Session { cookie: renewed, csrf: String::new() };
    assert_eq!(get(&app, "/orgs", Some(&s)).await.status, StatusCode::OK);
    assert!(app.login("wang.fang", &secret, None).await.is_err(), "the old password is gone");
    let page = get(&app, "/account", Some(&s)).await.body;
    assert!(page.contains("recent-logins") && page.contains("登录成功"), "own recent sign-ins are listed");
}

#[tokio::test]
async fn administration_refuses_broken_role_combinations_and_stale_edits() {
    let (app, _db) = demo_app().await;
    let admin = demo_login(&app, "sysadmin").await;
    let security = demo_login(&app, "secadmin").await;
    // The system administrator creates accounts but gives no role: that is refused and audited.
    let with_role = [("username", "mixed"), ("unit", "371602"), ("role", "county_operator")];
    let reply = post_form(&app, "/admin/accounts", Some(&admin), &with_role).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(app.store.account_by_username("mixed").await.unwrap().is_none());
    let reply = post_form(&app, "/admin/accounts", Some(&admin), &[("username", "mixed"), ("unit", "371602")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mixed = app.store.account_by_username("mixed").await.unwrap().unwrap();
    // The security administrator grants roles: broken combinations and roles above or below the
    // unit's level are refused, naming the rule.
    for (roles, rule) in [
        (vec!["system_admin", "audit_admin"], "三员"),
        (vec!["security_admin", "village_clerk"], "三员"),
        (vec!["village_clerk"], "层级"),
        (vec!["supervisor"], "层级"),
    ] {
        let v = mixed.version.to_string();
        let mut fields = vec![("action", "roles"), ("version", v.as_str())];
        fields.extend(roles.iter().map(|r| ("role", *r)));
        let reply = post_form(&app, &format!("/admin/accounts/{}", mixed.id), Some(&security), &fields).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{roles:?}");
        assert!(reply.body.contains(rule), "{roles:?}: {}", reply.body);
    }
    assert!(app.store.account_by_username("mixed").await.unwrap().unwrap().roles.is_empty());
    let dup = post_form(&app, "/admin/accounts", Some(&admin), &[("username", "county"), ("unit", "371602")]).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    // Two administrators open the same account; the second save is refused, showing the conflict.
    let county = app.store.account_by_username("county").await.unwrap().unwrap();
    let path = format!("/admin/accounts/{}", county.id);
    let v = county.version.to_string();
    let first =
        post_form(&app, &path, Some(&admin), &[("action", "rename"), ("version", &v), ("display_name", "赵敏")]).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let second =
        post_form(&app, &path, Some(&security), &[("action", "roles"), ("version", &v), ("role", "county_operator")])
            .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(second.body.contains("已被他人修改"), "{}", second.body);
    let after = app.store.account_by_username("county").await.unwrap().unwrap();
    assert_eq!(after.roles, vec![domain::authz::Role::CountyOperator], "the stale edit did not land");

    // Moving, disabling and resetting end the account's sessions; disabled accounts cannot sign in.
    let s = demo_login(&app, "county").await;
    let v = after.version.to_string();
    let reply = post_form(&app, &path, Some(&admin), &[("action", "disable"), ("version", &v)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(get(&app, "/account", Some(&s)).await.location().starts_with("/login"));
    assert!(app.login("county", qipan::demo::DEMO_PASSWORD, None).await.is_err());
    let log = audit_actions(&app, "sysadmin").await;
    let disable = log.iter().find(|(a, _)| a == "account.disable").expect("audited");
    assert!(disable.1.contains(r#""before""#) && disable.1.contains(r#""disabled":true"#), "{}", disable.1);

    // An administrator cannot lock themselves out (an administrator's account is for the one
    // above it, or the console).
    let me = app.store.account_by_username("sysadmin").await.unwrap().unwrap();
    let v = me.version.to_string();
    let own =
        post_form(&app, &format!("/admin/accounts/{}", me.id), Some(&admin), &[("action", "disable"), ("version", &v)])
            .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(!app.store.account_by_username("sysadmin").await.unwrap().unwrap().disabled);
}

#[tokio::test]
async fn administrators_act_only_inside_their_subtree() {
    let (app, _db) = demo_app().await;
    let county_admin = new_account(&app, "bc-admin", "system_admin", "371602").await;
    // Creating in another county: refused and audited.
    let reply = post_form(
        &app,
        "/admin/accounts",
        Some(&county_admin),
        &[("username", "far"), ("unit", "511923"), ("role", "village_clerk")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(audit_actions(&app, "bc-admin").await.iter().any(|(a, _)| a == "access.denied"));
    // An account in another county is "not found", so its existence is not revealed.
    let far = app.store.account_by_username("pingchang").await.unwrap().unwrap();
    assert_eq!(
        get(&app, &format!("/admin/accounts/{}", far.id), Some(&county_admin)).await.status,
        StatusCode::NOT_FOUND
    );
    // The list holds only the subtree's accounts.
    let list = get(&app, "/admin/accounts", Some(&county_admin)).await.body;
    assert!(list.contains(">clerk<") && list.contains(">county<"));
    assert!(!list.contains(">pingchang<") && !list.contains(">supervisor<"), "{list}");
}

#[tokio::test]
async fn department_tokens_are_shown_once_work_as_bearer_and_can_be_revoked() {
    let (app, _db) = demo_app().await;
    let sec = demo_login(&app, "secadmin").await;
    let reply = post_form(&app, "/admin/tokens", Some(&sec), &[("name", "滨城区卫健局"), ("unit", "371602")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let secret = reply.body.split(r#"id="secret">"#).nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("qpt_"));
    let list = get(&app, "/admin/tokens", Some(&sec)).await.body;
    assert!(list.contains("滨城区卫健局") && !list.contains(&secret), "listed, but never the secret again");

    let bearer = |path: &str| {
        Request::get(path).header(header::AUTHORIZATION, format!("Bearer {secret}")).body(Body::empty()).unwrap()
    };
    let me = send(&app, bearer("/api/v1/session")).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["roles"][0], "department");
    assert_eq!(me.json()["unit"], "371602");
    // Scoped to feed submission: it cannot browse, and it has no pages.
    assert_eq!(send(&app, bearer("/api/v1/org-units")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, bearer("/orgs")).await.status, StatusCode::FORBIDDEN);
    let listed = app.store.list_api_tokens(None).await.unwrap();
    let token = listed.iter().find(|t| t.name == "滨城区卫健局").unwrap();
    assert!(token.last_used_at.is_some(), "last use is recorded");

    let reply = post_form(&app, &format!("/admin/tokens/{}/revoke", token.id), Some(&sec), &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(send(&app, bearer("/api/v1/session")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, bearer("/api/v1/session")).await.json()["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn the_guard_lets_the_origin_read_its_outflow_population_and_audits_each_read() {
    use domain::OrgCode;
    use domain::authz::{Capability, RecordAccess};
    let (app, _db) = demo_app().await;
    let actor = |name: &'static str| {
        let app = app.clone();
        async move {
            let s = demo_login(&app, name).await;
            app.session_actor(s.cookie.strip_prefix("qipan_session=").unwrap(), None).await.unwrap().unwrap()
        }
    };
    let managing = OrgCode::parse("371602001001").unwrap();
    let household = OrgCode::parse("511923101201").unwrap();
    let (clerk, pingchang, township) = (actor("clerk").await, actor("pingchang").await, actor("township").await);
    let read = Capability::PersonRead;
    assert_eq!(
        app.guard_record(&clerk, Capability::PersonWrite, &managing, Some(&household), "person:1").await.unwrap(),
        RecordAccess::Manage
    );
    assert_eq!(
        app.guard_record(&township, read, &managing, Some(&household), "person:1").await.unwrap(),
        RecordAccess::Manage
    );
    assert_eq!(
        app.guard_record(&pingchang, read, &managing, Some(&household), "person:1").await.unwrap(),
        RecordAccess::ReadAsOrigin
    );
    let write = app.guard_record(&pingchang, Capability::PersonWrite, &managing, Some(&household), "person:1").await;
    assert!(matches!(write, Err(ServiceError::NotFound { .. })), "the origin never writes: {write:?}");
    let other_village = new_account(&app, "neighbour", "village_clerk", "371602001002").await;
    let neighbour =
        app.session_actor(other_village.cookie.strip_prefix("qipan_session=").unwrap(), None).await.unwrap().unwrap();
    assert!(matches!(
        app.guard_record(&neighbour, read, &managing, Some(&household), "person:1").await,
        Err(ServiceError::NotFound { .. })
    ));

    let pingchang_log = audit_actions(&app, "pingchang").await;
    assert!(pingchang_log.iter().any(|(a, _)| a == "person.read_as_origin"), "{pingchang_log:?}");
    assert!(pingchang_log.iter().any(|(a, _)| a == "access.denied"), "{pingchang_log:?}");
    assert!(audit_actions(&app, "neighbour").await.iter().any(|(a, _)| a == "access.denied"));
    assert!(
        !audit_actions(&app, "clerk").await.iter().any(|(a, _)| a.starts_with("person.")),
        "managing reads are not origin reads"
    );
}

#[tokio::test]
async fn administrator_roles_are_delegated_only_downwards() {
    let (app, _db) = demo_app().await;
    let admin = demo_login(&app, "sysadmin").await; // at 山东省 37
    let security = demo_login(&app, "secadmin").await; // at 山东省 37
    // The system administrator creates the accounts (without roles) ...
    for (username, unit) in
        [("new.auditor", "3716"), ("new.security", "3716"), ("binzhou.admin", "3716"), ("peer.admin", "37")]
    {
        let reply = post_form(&app, "/admin/accounts", Some(&admin), &[("username", username), ("unit", unit)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{username}: {}", reply.body);
    }
    // ... and the security administrator grants their roles.
    let grant = |username: &'static str, role: &'static str| {
        let (app, security) = (app.clone(), security.clone());
        async move {
            let a = app.store.account_by_username(username).await.unwrap().unwrap();
            let v = a.version.to_string();
            let fields = [("action", "roles"), ("version", v.as_str()), ("role", role)];
            post_form(&app, &format!("/admin/accounts/{}", a.id), Some(&security), &fields).await.status
        }
    };
    // The keys to the audit log and to security are made at the console only.
    assert_eq!(grant("new.auditor", "audit_admin").await, StatusCode::FORBIDDEN);
    assert_eq!(grant("new.security", "security_admin").await, StatusCode::FORBIDDEN);
    // A system administrator for a unit below: allowed; beside itself: refused.
    assert_eq!(grant("binzhou.admin", "system_admin").await, StatusCode::SEE_OTHER);
    assert_eq!(grant("peer.admin", "system_admin").await, StatusCode::FORBIDDEN);
    // Nor may it promote a clerk to an administrator, nor give itself a role.
    assert_eq!(grant("clerk", "audit_admin").await, StatusCode::FORBIDDEN);
    assert_eq!(grant("secadmin", "county_operator").await, StatusCode::FORBIDDEN, "not on itself");
    assert_eq!(
        app.store.account_by_username("clerk").await.unwrap().unwrap().roles,
        vec![domain::authz::Role::VillageClerk]
    );
    let denied = |who: &'static str| {
        let app = app.clone();
        async move {
            audit_actions(&app, who)
                .await
                .into_iter()
                .filter(|(a, d)| a == "access.denied" && d.contains("admin_roles"))
                .count()
        }
    };
    assert_eq!(denied("secadmin").await, 5);
    // The system administrator grants no role at all, nor takes over the security administrator.
    let clerk = app.store.account_by_username("clerk").await.unwrap().unwrap();
    let v = clerk.version.to_string();
    let promote = post_form(
        &app,
        &format!("/admin/accounts/{}", clerk.id),
        Some(&admin),
        &[("action", "roles"), ("version", &v), ("role", "county_operator")],
    )
    .await;
    assert_eq!(promote.status, StatusCode::FORBIDDEN);
    let sec = app.store.account_by_username("secadmin").await.unwrap().unwrap();
    let v = sec.version.to_string();
    let reset = post_form(
        &app,
        &format!("/admin/accounts/{}", sec.id),
        Some(&admin),
        &[("action", "reset_password"), ("version", &v)],
    )
    .await;
    assert_eq!(reset.status, StatusCode::FORBIDDEN);
    assert_eq!(denied("sysadmin").await, 1);
    // It cannot give itself the data by moving a clerk up: a village clerk is not held at a city.
    let v = app.store.account_by_username("clerk").await.unwrap().unwrap().version.to_string();
    let moved = post_form(
        &app,
        &format!("/admin/accounts/{}", clerk.id),
        Some(&admin),
        &[("action", "move"), ("version", &v), ("unit", "3716")],
    )
    .await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST, "{}", moved.body);
    // The administrator appointed below is the system administrator's to manage.
    let below = app.store.account_by_username("binzhou.admin").await.unwrap().unwrap();
    let v = below.version.to_string();
    let disable = post_form(
        &app,
        &format!("/admin/accounts/{}", below.id),
        Some(&admin),
        &[("action", "disable"), ("version", &v)],
    )
    .await;
    assert_eq!(disable.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_forged_login_without_the_form_cookie_is_refused() {
    let (app, _db) = demo_app().await;
    for body in
        ["_csrf=%00missing&username=county&password=Qipan-demo-2026", "_csrf=&username=county&password=Qipan-demo-2026"]
    {
        let reply = post_raw(&app, "/login", None, body.into()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{body}");
        assert!(
            !reply.headers.contains_key(header::SET_COOKIE)
                || !reply.headers[header::SET_COOKIE].to_str().unwrap().contains("qipan_session=")
                || reply.headers[header::SET_COOKIE].to_str().unwrap().contains("qipan_session=;")
        );
    }
}

#[tokio::test]
async fn parallel_guesses_each_count_towards_the_lock() {
    let (app, _db) = demo_app().await;
    let app = frozen(&app);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move { app.login("county", "Not-the-password-1", None).await.is_err() }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    assert!(
        app.login("county", qipan::demo::DEMO_PASSWORD, None).await.is_err(),
        "ten parallel guesses lock the account"
    );
    let locks = audit_actions(&app, "county").await.into_iter().filter(|(a, _)| a == "account.lockout").count();
    assert_eq!(locks, 1, "locked once, never re-locked or shortened by a late request");
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let (app, _db) = demo_app().await;
    let office = demo_login(&app, "county").await;
    let stolen = demo_login(&app, "county").await;
    let reply = post_form(
        &app,
        "/account/password",
        Some(&office),
        &[("current", qipan::demo::DEMO_PASSWORD), ("new", TEST_PASSWORD), ("confirm", TEST_PASSWORD)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let renewed = reply.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert!(get(&app, "/account", Some(&stolen)).await.location().starts_with("/login"), "the other session is over");
    assert!(get(&app, "/account", Some(&office)).await.location().starts_with("/login"), "so is the old token");
    let fresh = Session { cookie: renewed, csrf: String::new() };
    assert_eq!(get(&app, "/account", Some(&fresh)).await.status, StatusCode::OK, "the browser that changed it goes on");
}

#[tokio::test]
async fn only_the_top_of_the_installation_changes_the_calendar_and_the_code_tables() {
    let (app, _db) = crate::helpers::demo_app().await;
    let county_admin = crate::helpers::new_account(&app, "bc-sys", "system_admin", "371602").await;
    let before = app.work_calendar().await.unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    assert!(before.is_working_day(day).0, "a Monday");
    // A county's administrator declares a holiday: refused, audited, nothing shifts.
    let holiday = [("date", "2026-12-07"), ("kind", "off"), ("holiday", "县里放假")];
    let refused = crate::helpers::post_form(&app, "/admin/calendar", Some(&county_admin), &holiday).await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(app.work_calendar().await.unwrap().is_working_day(day).0, "every deadline in the province stays");
    let code = [("table", "relationship"), ("code", "01"), ("action", "deactivate")];
    let refused = crate::helpers::post_form(&app, "/admin/codes", Some(&county_admin), &code).await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);
    let filter = store::AuditFilter {
        actor: Some("bc-sys".into()),
        action_prefix: Some("access.denied".into()),
        ..Default::default()
    };
    let (log, _) = app.store.search_audit(&filter, store::Page { number: 1, size: 10 }).await.unwrap();
    assert_eq!(log.len(), 2, "both attempts are in the log");
    // The pages still show what is in force, without the forms.
    for path in ["/admin/calendar", "/admin/codes"] {
        let page = crate::helpers::get(&app, path, Some(&county_admin)).await;
        assert_eq!(page.status, axum::http::StatusCode::OK);
        assert!(page.body.contains(r#"id="read-only""#) && !page.body.contains(r#"method="post" action="/admin/"#));
    }
    // The province's administrator may.
    let province = crate::helpers::demo_login(&app, "sysadmin").await;
    let done = crate::helpers::post_form(&app, "/admin/calendar", Some(&province), &holiday).await;
    assert!(done.status.is_redirection(), "{}: {}", done.status, done.body);
    assert!(!app.work_calendar().await.unwrap().is_working_day(day).0);
    assert!(!crate::helpers::get(&app, "/admin/calendar", Some(&province)).await.body.contains(r#"id="read-only""#));
}

#[tokio::test]
async fn a_department_token_runs_out_on_its_day_with_a_clear_answer() {
    let (app, _db) = demo_app().await; // 2026-11-25 10:00 China time
    let sec = demo_login(&app, "secadmin").await;
    for (days, ok) in [("0", false), ("731", false), ("abc", false), ("30", true)] {
        let fields = [("name", "滨城区卫健局"), ("unit", "371602"), ("days", days)];
        let reply = post_form(&app, "/admin/tokens", Some(&sec), &fields).await;
        if ok {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        } else {
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{days}");
            assert!(reply.body.contains("1 至 730 天"), "{days}: the rule is named");
        }
    }
    let listed = app.store.list_api_tokens(None).await.unwrap();
    let made: Vec<_> = listed.iter().filter(|t| t.name == "滨城区卫健局").collect();
    assert_eq!(made.len(), 1, "only the valid request made a token");
    let token = made[0];
    let secret = {
        // The secret is shown once; make another to hold it, with the same life.
        let (_, s) = app
            .create_api_token(
                &qipan::service::Actor::console(domain::OrgCode::parse("00").unwrap()),
                "卫健局二",
                &domain::OrgCode::parse("371602").unwrap(),
                30,
            )
            .await
            .unwrap();
        s
    };
    assert_eq!(
        token.expires_at.unwrap().with_timezone(&domain::clock::china_standard_time()).to_rfc3339(),
        "2026-12-25T10:00:00+08:00",
        "thirty days from its making"
    );
    let bearer = |secret: &str| {
        Request::get("/api/v1/session")
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .body(Body::empty())
            .unwrap()
    };
    let at = |when: &str| app.at_clock(domain::Clock::fixed_at(when).unwrap());
    assert_eq!(send(&at("2026-12-25T09:59:59+08:00"), bearer(&secret)).await.status, StatusCode::OK, "its last moment");
    let late = send(&at("2026-12-25T10:00:00+08:00"), bearer(&secret)).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    let error = late.json()["error"].clone();
    assert_eq!(error["code"], "token_expired", "{error}");
    assert!(error["message"].as_str().unwrap().contains("2026-12-25"), "names the day: {error}");
    let later = at("2026-12-26T09:00:00+08:00");
    let sec = demo_login(&later, "secadmin").await;
    let page = get(&later, "/admin/tokens", Some(&sec)).await.body;
    assert!(page.contains("已过期") && page.contains("2026-12-25 10:00"), "the list shows it ran out");
}

/// Changes the password of the session's account on the page; the reply.
async fn change_password(app: &App, s: &Session, current: &str, new: &str) -> crate::helpers::Reply {
    post_form(app, "/account/password", Some(s), &[("current", current), ("new", new), ("confirm", new)]).await
}

#[tokio::test]
async fn the_security_administrator_sets_the_password_policy_and_every_password_keeps_it() {
    let (app, _db) = demo_app().await;
    let secadmin = demo_login(&app, "secadmin").await;
    let page = get(&app, "/admin/policy", Some(&secadmin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"id="min_chars" name="min_chars" value="10""#), "the level-3 default: {}", page.body);
    let sysadmin = demo_login(&app, "sysadmin").await;
    assert_eq!(get(&app, "/admin/policy", Some(&sysadmin)).await.status, StatusCode::FORBIDDEN);
    let form =
        |min: &'static str| vec![("min_chars", min), ("min_classes", "4"), ("history", "3"), ("max_age_days", "30")];
    // Out of range: refused naming the field, what was typed kept, nothing saved — and only to
    // whoever may set the policy at all: the guard comes before the form is read.
    assert_eq!(post_form(&app, "/admin/policy", Some(&sysadmin), &form("7")).await.status, StatusCode::FORBIDDEN);
    let bad = post_form(&app, "/admin/policy", Some(&secadmin), &form("7")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("最少字符数须为 8～16") && bad.body.contains(r#"value="7""#), "{}", bad.body);
    assert_eq!(app.password_policy().await.unwrap(), domain::account::PasswordPolicy::default());
    let saved = post_form(&app, "/admin/policy", Some(&secadmin), &form("12")).await;
    assert_eq!(saved.location(), "/admin/policy?saved=1", "{}", saved.body);
    let policy = app.password_policy().await.unwrap();
    assert_eq!((policy.min_chars, policy.min_classes, policy.history, policy.max_age_days), (12, 4, 3, 30));
    let log = audit_actions(&app, "secadmin").await;
    assert!(log.iter().any(|(a, _)| a == "security.policy"), "{log:?}");

    // A clerk's new password meets it: length, classes, and none of the last three.
    let clerk = demo_login(&app, "clerk").await;
    let hint = get(&app, "/account/password", Some(&clerk)).await.body;
    assert!(hint.contains("至少 12 个字符") && hint.contains(r#"minlength="12""#), "{hint}");
    let demo = qipan::demo::DEMO_PASSWORD;
    assert!(change_password(&app, &clerk, demo, "Abcdefgh1!x").await.body.contains("长度不足"));
    assert!(change_password(&app, &clerk, demo, "Abcdefghij1xy").await.body.contains("字符种类少于"));
    let first = "Spring-river-7a";
    assert_eq!(change_password(&app, &clerk, demo, first).await.location(), "/account?changed=1");
    let clerk = login_as(&app, "clerk", first).await;
    let second = "Autumn-hill-8b";
    assert_eq!(change_password(&app, &clerk, first, second).await.location(), "/account?changed=1");
    let clerk = login_as(&app, "clerk", second).await;
    let again = change_password(&app, &clerk, second, first).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "the one before is remembered");
    assert!(again.body.contains("最近使用过的密码"), "{}", again.body);
    assert_eq!(change_password(&app, &clerk, second, demo).await.status, StatusCode::BAD_REQUEST, "two before");

    // Thirty days on, the password has run out: the sign-in leads to the change form first.
    let later = at(&app, Duration::days(30));
    let expired = login_as(&later, "clerk", second).await;
    assert_eq!(get(&later, "/orgs", Some(&expired)).await.location(), "/account/password");
    let log = audit_actions(&later, "clerk").await;
    assert!(log.iter().any(|(a, _)| a == "password.expired"), "{log:?}");
    let third = "Winter-lake-9c";
    assert_eq!(change_password(&later, &expired, second, third).await.location(), "/account?changed=1");
    let fresh = login_as(&later, "clerk", third).await;
    assert_eq!(get(&later, "/orgs", Some(&fresh)).await.status, StatusCode::OK, "a new password lasts again");
    // A day short of thirty, nothing is asked.
    let before = at(&app, Duration::days(29));
    let s = login_as(&before, "township", demo).await;
    assert_eq!(get(&before, "/orgs", Some(&s)).await.status, StatusCode::OK);
}
