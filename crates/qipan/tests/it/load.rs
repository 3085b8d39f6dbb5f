//! `qipan load` against a demo server: a short run of a few sessions signs in, does every kind
//! of request of the clerk's mix, and reports each route with no error.

use std::process::Command;

use crate::crash::start;
use crate::helpers::{TEST_AUDIT_KEY, TEST_DATA_KEYS, TEST_NOW, fresh_db};

#[tokio::test]
async fn a_short_load_run_reports_every_route_of_the_clerks_mix_without_errors() {
    let db = fresh_db().await;
    let (_server, addr) = start(&db.dir().join("qipan-data"), &db.url_text);
    let out = Command::new(env!("CARGO_BIN_EXE_qipan"))
        .args(["--log", "warn", "load", "--base", &format!("http://{addr}"), "--sessions", "4", "--seconds", "4"])
        .env_remove("DATABASE_URL")
        .env("QIPAN_CLOCK", TEST_NOW)
        .env("QIPAN_AUDIT_KEY", TEST_AUDIT_KEY)
        .env("QIPAN_DATA_KEYS", TEST_DATA_KEYS)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for route in [
        "GET / (the clerk's day page)",
        "a name",
        "a record opened",
        "a registration",
        "/api/v1/worklist",
        "signing in",
    ] {
        let line = stdout.lines().find(|l| l.contains(route)).unwrap_or_else(|| panic!("{route}: {stdout}"));
        let numbers: Vec<&str> = line.split_whitespace().filter(|w| w.parse::<u64>().is_ok()).collect();
        assert!(numbers.len() >= 3, "{line}");
        assert!(numbers[0].parse::<u64>().unwrap() > 0, "requests made: {line}");
        assert_eq!(numbers[1], "0", "no errors: {line}");
        if route == "a registration" {
            // The tool registers people moving in from elsewhere, each ID number new.
            assert_eq!(numbers[2], "0", "no registration refused: {stdout}");
        }
    }
}
